/*
 * node.h — the node layer: what a key or value looks like to the kernel
 * (attributes, entries), finding one by file name (with the listing
 * cache), its content as a file (rendered snapshots, open files and
 * their copies), and the one call that tells every cache the hive
 * changed.  The handlers (read.c, file.c, entry.c, xattr.c) and the
 * helper threads (prefetch.c, stale.c) build on it; it calls none of
 * them.  Returns are 0 or a negative errno (hivefs.h); functions marked
 * "under lock" expect struct hivefs.lock held.
 */
#ifndef HIVEFS_NODE_H
#define HIVEFS_NODE_H

#include <stdatomic.h>

#include <fuse_lowlevel.h>

#include "dir.h"
#include "hivefs.h"
#include "inode.h"
#include "view.h"

static inline struct hivefs *fs_of(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

/* ---- errors (see hivefs.h) ---- */

/*
 * An engine result as a negative errno (HIVE_OK: 0).  With -d or -f the
 * engine's reason for anything but "not found" is logged.
 */
int fs_errno(struct hivefs *fs, int hive_code);
/* Answer req with success (0) or a negative errno. */
void fs_reply_err(fuse_req_t req, int err);

/* ---- open files ---- */

/*
 * The content of a value as one writable open file description holds it
 * (file.c): its own copy from open to close, stored whole when it is
 * flushed, so concurrent writers never store a mix.  Under lock.
 */
struct wbuf {
	uint64_t ino;
	char *buf;                   /* malloc'd */
	size_t len, cap;
	size_t text_weight;          /* least data the content can parse
					to as a string (file.c) */
	uint64_t stamp;              /* when last changed (file.c) */
	bool dirty;                  /* changed since the last store */
	int spoiled;                 /* a write was refused (EFBIG, EINVAL):
					store nothing, fail with it */
	size_t text_ok;              /* content [0, text_ok) was checked to
					begin a text (file.c) */
	bool trunc_only;             /* emptied by O_TRUNC, not written
					since (file.c) */
	int8_t raw_fallback;         /* stored data shown raw: 1, not: 0,
					unknown: -1 (file.c) */
	struct wbuf *prev, *next;    /* fs->writers */
};

/*
 * An open file.  A read-only handle on a read-only mount is a snapshot
 * (data, size), immutable and shared with replies in flight through refs.
 * A writable handle (file.c) has a wbuf of its own.  On a read-write
 * mount a read-only handle's snapshot serves reads only until something
 * changes; then reads render the value as it is (the snapshot stays for a
 * value that was deleted while open).
 */
struct open_file {
	atomic_uint refs;
	size_t size;
	const char *data;
	uint64_t version;            /* fs->changes when rendered */
	bool writable;
	bool readable;               /* writable and O_RDWR */
	struct wbuf *w;
};

/* Drop a reference to an open file's snapshot. */
void open_file_put(struct open_file *fh);
/* Of the copies of ino with unstored writes, the one written last, or
 * NULL (under lock). */
struct wbuf *node_dirty_copy(struct hivefs *fs, uint64_t ino);

/* ---- attributes and entries (under lock) ---- */

/* Attributes of a node; st_ino set. */
int node_attr(struct hivefs *fs, const struct node_info *n, uint64_t ino,
	      struct stat *st);
/* Attributes of entry (kind, cell) of key `parent`, shown as node_flags
 * say (a listing's entries). */
int node_entry_attr(struct hivefs *fs, enum node_kind kind, uint32_t parent,
		    uint32_t cell, unsigned node_flags, struct stat *st);
/* Value `cell` of key `key` was stored now: its mtime (see node.c). */
void node_value_stored(struct hivefs *fs, uint32_t key, uint32_t cell);
/* Key old_key now lives at cell new_key: its values keep their times. */
void node_key_moved(struct hivefs *fs, uint32_t old_key, uint32_t new_key);
/* A value moved (mv) keeps its mtime, as rename(2) does. */
void node_value_moved(struct hivefs *fs, uint32_t from_key,
		      uint32_t from_cell, uint32_t to_key, uint32_t to_cell);
/* How long the kernel may keep the attributes st (inode.h). */
double node_attr_timeout(const struct hivefs *fs, const struct stat *st);
void node_fill_entry(struct hivefs *fs, struct fuse_entry_param *e,
		     uint64_t ino, uint64_t generation);
/*
 * The file name entry (kind, cell) of key `dir` is listed under: 0 and
 * the name on mem, -ENOENT for a "%~" form, or the errno.
 */
int node_file_name(void *mem, struct hivefs *fs, uint32_t dir,
		   enum node_kind kind, uint32_t cell, char **out);
/*
 * Is `name` the entry's own name in directory dir_ino, the one the
 * kernel may cache (inode.h)?  Always on read-only mounts.
 */
bool node_name_is_own(struct hivefs *fs, uint64_t dir_ino, enum node_kind kind,
		      uint32_t cell, const char *name);
/*
 * Entry e was found or made in dir_ino through `name`: unless that is
 * the entry's own name, the kernel must check it again at each use.
 */
void node_entry_name(struct hivefs *fs, uint64_t dir_ino, const char *name,
		     struct fuse_entry_param *e);
/* A counted lookup of (kind, dir, cell) and its entry for the kernel. */
int node_entry(struct hivefs *fs, enum node_kind kind, uint32_t dir,
	       uint32_t cell, unsigned flags, struct fuse_entry_param *e);
/* The node id the kernel has for key `cell`, or 0. */
uint64_t node_key_ino(struct hivefs *fs, uint32_t cell);
/* Is node n shown raw (-o raw, or user.winreg.raw set)? */
bool node_shown_raw(const struct hivefs *fs, unsigned node_flags);

/* ---- listings and names ---- */

/* A key's listing and what readdir needs besides. */
struct key_listing {
	struct listing *listing;
	uint64_t changes;         /* fs->changes when listed */
	struct timespec key_time; /* the key's LastWriteTime, for its values */
	uint32_t cell;
	uint64_t ino, parent_ino;
	/* Stable readdir offsets (node_listing_stable), or NULL. */
	size_t *order;            /* entries by ascending stable offset */
	off_t *stable_off;        /* stable_off[k]: that of entry order[k] */
};

/* A listing of directory ino of its own, on mem (takes the lock). */
int node_listing_new(void *mem, struct hivefs *fs, uint64_t ino,
		     struct key_listing **out);
/*
 * The listing of key node n (ino) from the listing cache, made if the
 * cache has none still valid (under lock); *out stays valid until the
 * lock is released.
 */
int node_listing_cached(struct hivefs *fs, uint64_t ino,
			const struct node_info *n, struct key_listing **out);
/*
 * Readdir offsets that survive changes to the key with no state per open
 * directory (read-write mounts without opendir, read.c; the rule is at
 * node_entries_change in node.c): fills kl->order and kl->stable_off
 * once per listing; 0 or -ENOMEM.  An entry at position i of a key whose
 * entries never changed has offset i + STABLE_OFF_MIN - 1, as positions
 * go without it.
 */
#define STABLE_OFF_MIN 3
int node_listing_stable(struct hivefs *fs, struct key_listing *kl);
/* Key `key`'s entries are about to change: its readdir order is frozen
 * first (node.c).  Under lock. */
void node_entries_change(struct hivefs *fs, uint32_t key);
/* An entry of key `key` moved from cell `old` to `now` (a store): it
 * keeps its place in listings. */
void node_entry_moved(struct hivefs *fs, uint32_t key, uint32_t old,
		      uint32_t now);
/*
 * Resolve a file name in directory dir_ino (node dir), under lock:
 * -ENOENT when no entry has it, -EIO for a damaged one.
 */
int node_resolve(void *mem, struct hivefs *fs, uint64_t dir_ino,
		 const struct node_info *dir, const char *name,
		 struct dir_entry *found);

/* ---- content ---- */

/*
 * A value's file content as shown (the text view, or the data itself
 * when `raw` or not canonical), on mem; *type its type.  Under lock.
 */
int node_value_content(void *mem, struct hivefs *fs, uint32_t cell, bool raw,
		       uint32_t *type, char **content, size_t *len);
/*
 * A snapshot of value `ino` as its file shows it (one reference):
 * -ENOENT, -ESTALE (deleted), -EISDIR, -EIO (damaged), -ENOMEM.  Takes
 * the lock.
 */
int node_render_value(struct hivefs *fs, uint64_t ino, struct open_file **out);
/*
 * A read without a handle (read-only mounts): the value's snapshot, kept
 * one at a time while a value too large for one read comes in pieces
 * (rendering it for every piece would be quadratic).  node_read_done()
 * when the piece at its end has been read.  Take the lock.
 */
int node_read_snapshot(struct hivefs *fs, uint64_t ino, size_t size,
		       struct open_file **out);
void node_read_done(struct hivefs *fs, struct open_file *fh);

/* ---- change ---- */

/* Value node ino is about to be deleted: its size is kept a while for
 * descriptors open on it (under lock). */
void node_deleted(struct hivefs *fs, uint64_t ino);

/*
 * The hive changed (under lock): every cache of this layer is stale
 * (listings, the kept snapshot), and read-only handles of a read-write
 * mount render afresh.
 */
void node_changed(struct hivefs *fs);
/* Unmount: what the caches hold goes. */
void node_caches_free(struct hivefs *fs);

#endif /* HIVEFS_NODE_H */
