/*
 * ops.h — what the two files of FUSE operations share: ops.c (lookups,
 * attributes, listings, reading) and write.c (everything that changes the
 * hive).  Both hold struct hivefs.lock around every use of the engine.
 */
#ifndef HIVEFS_OPS_H
#define HIVEFS_OPS_H

#include <stdatomic.h>

#include <fuse_lowlevel.h>

#include "hivefs.h"

/*
 * The content of a value as one writable open file description holds it
 * (write.c): its own copy from open to close, stored whole when it is
 * flushed, so concurrent writers never store a mix.  Guarded by fs->lock.
 */
struct wbuf {
	uint64_t ino;
	char *buf;                   /* malloc'd */
	size_t len, cap;
	size_t text_weight;          /* least data the content can parse
					to as a string (write.c) */
	uint64_t stamp;              /* when last changed (write.c) */
	bool dirty;                  /* changed since the last store */
	bool spoiled;                /* a write was refused: store nothing */
	bool trunc_only;             /* emptied by O_TRUNC, not written
					since (write.c, flush_wbuf) */
	int8_t raw_fallback;         /* stored data shown raw: 1, not: 0,
					unknown: -1 (write.c) */
	struct wbuf *prev, *next;    /* fs->writers */
};

/*
 * An open file.  A read-only handle on a read-only mount is a snapshot
 * (data, size), immutable and shared with replies in flight through refs.
 * A writable handle (write.c) has a wbuf of its own.  On a
 * read-write mount a read-only handle's snapshot serves reads only until
 * something changes; then reads render the value as it is (the snapshot
 * stays for a value that was deleted while open).
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

/*
 * Kernel caches made stale by a change: the pages and attributes of the
 * value (first), the attributes of its key and of others.  stale_reply()
 * tells the kernel (outside the lock), then answers req with err, or with
 * attr when given and err is 0 (see stale.c for which thread does it).
 */
#define STALE_MAX 3
struct stale {
	uint64_t ino[STALE_MAX];
	bool pages[STALE_MAX];
	int n;
};
void stale_add(struct stale *s, uint64_t ino);
void stale_reply(struct hivefs *fs, fuse_req_t req, const struct stale *s,
		 int err, const struct stat *attr);
int stale_start(struct hivefs *fs);
void stale_stop(struct hivefs *fs);

/* Drop a reference to an open file's snapshot. */
void ops_open_file_put(struct open_file *fh);
/*
 * A snapshot of value `ino` as its file shows it (one reference), or an
 * errno: ENOENT, ESTALE (deleted), EISDIR, EIO (damaged), ENOMEM.
 */
int ops_render_value(struct hivefs *fs, uint64_t ino, struct open_file **out);

/*
 * worker.c: a helper thread.  Its loop waits on wake under lock until it
 * has work or stopping is set; worker_stop() sets it and joins.
 */
struct worker {
	pthread_t thread;
	pthread_mutex_t lock; /* guards stopping and the owner's queue */
	pthread_cond_t wake;
	bool stopping;
};
int worker_start(struct worker *w, void *(*run)(void *), void *arg);
void worker_stop(struct worker *w);

/* prefetch.c: read-only mounts bring a key's values into the page cache. */
int prefetch_start(struct hivefs *fs);
void prefetch_stop(struct hivefs *fs);
/* Value `read_ino` of `key` was just read: prefetch the others. */
void prefetch_key(struct hivefs *fs, uint32_t key, uint64_t read_ino);

static inline struct hivefs *fs_of(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

/* The one translation of engine errors to errno, with the reason logged. */
int ops_fail(struct hivefs *fs, int err, const char *op, uint64_t ino);
/* Attributes of a node; st_ino set. */
int ops_node_attr(struct hivefs *fs, const struct node_info *n, uint64_t ino,
		  struct stat *st);
void ops_fill_entry(struct hivefs *fs, struct fuse_entry_param *e,
		    uint64_t ino, uint64_t generation);
/* A counted lookup of (kind, dir, cell) and its entry for the kernel. */
int ops_entry(struct hivefs *fs, enum node_kind kind, uint32_t dir,
	      uint32_t cell, unsigned flags, struct fuse_entry_param *e);
/* Resolve a file name in the directory `dir_ino` (node `dir`). */
int ops_resolve(void *mem, struct hivefs *fs, uint64_t dir_ino,
		const struct node_info *dir, const char *name,
		struct dir_entry *found);
/*
 * A value's file content as shown (the text view, or the data itself when
 * `raw` or not canonical), on mem; *type its type.
 */
int ops_value_content(void *mem, struct hivefs *fs, uint32_t cell, bool raw,
		      uint32_t *type, char **content, size_t *len);
/* The node id the kernel has for key `cell`, or 0. */
uint64_t ops_key_ino(struct hivefs *fs, uint32_t cell);

/* ---- write.c ---- */

void write_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void write_read(fuse_req_t req, struct open_file *fh, size_t size,
		off_t off);
void write_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
/* The size of a value being written (a dirty handle), if any (locked). */
bool write_pending_size(struct hivefs *fs, uint64_t ino, size_t *size);
/* Start (after mounting) and stop (final commit) the periodic commits. */
int write_start(struct hivefs *fs);
void write_stop(struct hivefs *fs);

void write_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size,
		 off_t off, struct fuse_file_info *fi);
void write_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void write_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
		 struct fuse_file_info *fi);
void write_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync,
		    struct fuse_file_info *fi);
void write_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr,
		   int to_set, struct fuse_file_info *fi);
void write_create(fuse_req_t req, fuse_ino_t parent, const char *name,
		  mode_t mode, struct fuse_file_info *fi);
void write_mknod(fuse_req_t req, fuse_ino_t parent, const char *name,
		 mode_t mode, dev_t rdev);
void write_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name,
		 mode_t mode);
void write_unlink(fuse_req_t req, fuse_ino_t parent, const char *name);
void write_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name);
void write_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
		  fuse_ino_t newparent, const char *newname, unsigned int flags);
void write_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent,
		const char *newname);
void write_symlink(fuse_req_t req, const char *link, fuse_ino_t parent,
		   const char *name);
void write_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
		    const char *value, size_t size, int flags);
void write_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name);

#endif /* HIVEFS_OPS_H */
