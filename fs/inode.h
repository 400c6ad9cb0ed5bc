/*
 * inode.h — the inode table: FUSE node ids <-> keys and values (inode.c;
 * see the comment at its top).  Returns are in the engine's vocabulary
 * (HIVE_E_*), see hivefs.h; the caller holds struct hivefs.lock.
 *
 * The kernel's caches, and who keeps each right.  A read-only mount never
 * changes, so everything is cached for a day.  A read-write mount caches
 * the same things; each is dropped by the change that makes it wrong:
 *
 * - Names (dentries), for fs->entry_timeout.  Lookups ignore case, so the
 *   kernel could hold several names of one entry ("val013", "VAL013"),
 *   and a rename or unlink through one leaves the others to lead to the
 *   entry that moved.  So only an entry's own name -- the one a listing
 *   shows (dir_file_name) -- is cached; a lookup through any other
 *   spelling is answered with entry timeout 0 and so checked again at
 *   every use (read.c, node_entry_name).  The kernel thus holds at most
 *   one cached name per entry, which hivefs can name: a rename, unlink
 *   or rmdir through that name is the kernel's own bookkeeping; through
 *   another spelling, the entry's own name is dropped (a directory has
 *   one dentry anyway; the kernel moves it to the spelling looked up).
 *   That drop needs the directory's lock, which the kernel holds until
 *   hivefs answers, so it runs on a thread of its own right after the
 *   answer (stale.c): until it has run, that name shows a deleted entry,
 *   and a value renamed through another spelling gets a new node so that
 *   the old name cannot reach it -- a write through it fails (ENOENT),
 *   never lands in the renamed value.  A name that stops being an
 *   entry's own because of another change (rmdir of key K turns value
 *   "K%v" into "K") is dropped the same way.  Keys listing renamed
 *   duplicates, and "%~" names, are never cached.
 * - Negative entries: only on read-only mounts ("foo" cached as absent
 *   would hide a "Foo" created later, and the kernel cannot be told of
 *   every spelling it holds).
 * - Attributes, for fs->entry_timeout (keys' and values' alike).  A
 *   change tells the kernel of the value and key it changed before it
 *   answers (stale.c); creates, unlinks, renames and rmdirs make the
 *   kernel drop those of the directories concerned.  What a value shows
 *   (size, mtime, st_blocks) changes only with: a store (close, fsync,
 *   truncate, a backup renamed back over it: scratch.c), a view set or
 *   removed (user.winreg.type, user.winreg.raw), each of which drops the
 *   value's and its key's; a rename, which drops the moved node's; and a
 *   key's cell moving, after which its values' times move with it
 *   (node_key_moved) so they stay what the kernel holds.  A sibling's
 *   store leaves a value's own time alone (node.c), and the mode is the
 *   mount's.  The kernel itself drops atime after each read or readdir
 *   on a writable mount, so the next stat of them costs a GETATTR.
 *   Scratch files' are kept a second (scratch.c).
 * - Pages of values, kept across opens (keep_cache).  A value whose
 *   content changed, or that was opened for writing (writes fill pages
 *   with bytes that may never be stored), is marked NODE_STORED; the
 *   next read-only open then asks the kernel to drop its pages (no
 *   keep_cache), and an open while a writer holds it keeps none either.
 *   Descriptors open for reading across a store have the pages dropped
 *   before the store is answered (stale.c).
 * - Listings (cache_readdir): every change to a key's entries is a
 *   create, mkdir, unlink, rmdir or rename in that directory, after
 *   which the kernel drops the listing it holds itself.  The kernel
 *   opens directories itself (no OPENDIR), so readdir keeps nothing per
 *   open directory; a listing read in pieces while entries change is
 *   resumed by offsets that stay with entries (node_entries_change).
 */
#ifndef HIVEFS_INODE_H
#define HIVEFS_INODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hive.h"

enum node_kind { NODE_KEY, NODE_VALUE };

struct inode_table;

/* Per-node flags. */
#define NODE_LISTED    0x1u  /* key: aliases below is known */
#define NODE_ALIASES   0x2u  /* key: its listing renamed duplicates */
#define NODE_SYNTHETIC 0x4u  /* reached through a "%~" name */
#define NODE_DEAD      0x8u  /* deleted: known to the kernel only */
#define NODE_VERBATIM  0x10u /* value: user.winreg.raw set; shown and
				written raw */
#define NODE_FRESH     0x20u /* value: made by create, type never set:
				content that is not text makes it
				REG_BINARY */
#define NODE_STORED    0x40u /* value: changed, or open for writing, since
				the kernel last dropped its pages */
#define NODE_NAMED     0x80u /* value: made by create with its type from
				its -o typenames name: content must be
				text of it, even while the empty value is
				shown raw */

struct node_info {
	enum node_kind kind;
	uint32_t cell;       /* nk or vk offset */
	uint32_t parent;     /* the key holding it; HIVE_NO_CELL for the root */
	unsigned flags;      /* NODE_* */
};

#define INODE_ROOT 1 /* FUSE_ROOT_ID */

int inode_table_new(void *mem, hive_key_t root, struct inode_table **out);
/*
 * The node of (kind, parent, cell), created if needed; counts one kernel
 * lookup.  Returns 0, or HIVE_E_NOMEM / HIVE_E_TOO_BIG.
 */
int inode_lookup(struct inode_table *t, enum node_kind kind, uint32_t parent,
		 uint32_t cell, uint64_t *ino, uint64_t *generation);
/* The id of an existing node of (kind, parent, cell), or 0; no counting. */
uint64_t inode_peek(struct inode_table *t, enum node_kind kind,
		    uint32_t parent, uint32_t cell);
/* The kernel forgets `n` lookups; the node goes away at zero. */
void inode_forget(struct inode_table *t, uint64_t ino, uint64_t n);
/* A live node, or false. */
bool inode_get(struct inode_table *t, uint64_t ino, struct node_info *out);
void inode_set_flags(struct inode_table *t, uint64_t ino, unsigned flags);
void inode_clear_flags(struct inode_table *t, uint64_t ino, unsigned flags);
/* The entry was deleted: a new entry reusing its cell gets a new node. */
void inode_unlink(struct inode_table *t, uint64_t ino);
/* The node now stands for (its kind, parent, cell); no live node may
 * have that identity. */
void inode_rekey(struct inode_table *t, uint64_t ino, uint32_t parent,
		 uint32_t cell);
/* Every live node below key `old_parent` is now below `new_parent`. */
void inode_reparent(struct inode_table *t, uint32_t old_parent,
		    uint32_t new_parent);
/* Live nodes (for statistics and tests). */
size_t inode_count(const struct inode_table *t);

#endif /* HIVEFS_INODE_H */
