/*
 * inode.h — the inode table: FUSE node ids <-> keys and values (inode.c;
 * see the comment at its top).  Returns are in the engine's vocabulary
 * (HIVE_E_*), see hivefs.h; the caller holds struct hivefs.lock.
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
