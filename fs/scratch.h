/*
 * scratch.h — editors' scratch files (scratch.c): swap files, lock files,
 * autosaves, write probes and backups, kept in memory for the life of
 * the mount and never written to the hive.  session.c routes to it every
 * operation on a scratch node and every name that is a scratch file's;
 * read.c asks it which entries a listing adds or hides.
 */
#ifndef HIVEFS_SCRATCH_H
#define HIVEFS_SCRATCH_H

#include "node.h"

/* Node ids of scratch files start here, far above the inode table's. */
#define SCRATCH_INO_BASE ((uint64_t)1 << 62)
/* readdir offsets of scratch entries start here (after a key's own). */
#define SCRATCH_OFF_BASE ((off_t)1 << 40)

static inline bool scratch_ino(uint64_t ino)
{
	return ino >= SCRATCH_INO_BASE;
}

/*
 * Name-based operations: each answers req and returns true when the name
 * is a scratch file's (an existing one, or a new one whose name has a
 * scratch pattern and no value of the key has); false: not its business,
 * nothing was answered.
 */
bool scratch_lookup(fuse_req_t req, fuse_ino_t parent, const char *name);
/* (fi NULL: mknod, which opens nothing.) */
bool scratch_create(fuse_req_t req, fuse_ino_t parent, const char *name,
		    mode_t mode, struct fuse_file_info *fi);
bool scratch_symlink(fuse_req_t req, const char *link, fuse_ino_t parent,
		     const char *name);
bool scratch_unlink(fuse_req_t req, fuse_ino_t parent, const char *name);
/*
 * rename: scratch to scratch, a value to a scratch name (it is hidden,
 * not deleted: see scratch.c), a scratch file to a value's name (it
 * becomes a value).  A value made in place of one hidden comes back as
 * that value: scratch_reveal() before create.
 */
bool scratch_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
		    fuse_ino_t newparent, const char *newname,
		    unsigned int flags);
/* Before creating `name` in parent: if it is a hidden value's name, the
 * value is shown again (true), to be opened truncated, keeping its type. */
bool scratch_reveal(struct hivefs *fs, fuse_ino_t parent, const char *name);

/* Node-based operations, for ids that scratch_ino() claims. */
void scratch_forget(struct hivefs *fs, fuse_ino_t ino, uint64_t nlookup);
void scratch_getattr(fuse_req_t req, fuse_ino_t ino);
void scratch_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr,
		     int to_set);
void scratch_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void scratch_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off);
void scratch_write(fuse_req_t req, fuse_ino_t ino, const char *buf,
		   size_t size, off_t off);
void scratch_release(fuse_req_t req, fuse_ino_t ino);
void scratch_readlink(fuse_req_t req, fuse_ino_t ino);
void scratch_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
		      size_t size);
void scratch_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size);
void scratch_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
		      const char *value, size_t size, int flags);
void scratch_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name);

/* Listings (under lock): is value `cell` of key `key` hidden by a scratch
 * file (a backup it was renamed to)? */
bool scratch_hides(struct hivefs *fs, uint32_t key, uint32_t cell);
/*
 * Add key `key`'s scratch files to a readdir reply from offset `off` on
 * (offsets from SCRATCH_OFF_BASE); *used grows.  Under lock.
 */
void scratch_list(fuse_req_t req, struct hivefs *fs, uint32_t key, off_t off,
		  bool plus, char *buf, size_t size, size_t *used);
/*
 * Key `from` now has nk cell `to` (a rename that had to move its nk):
 * its scratch files, and the values they hide, follow it.  Under lock.
 */
void scratch_key_moved(struct hivefs *fs, uint32_t from, uint32_t to);
/* Does key `key` hold scratch files (so rmdir is ENOTEMPTY)?  Under lock. */
bool scratch_in_key(struct hivefs *fs, uint32_t key);
/* Unmount: every scratch file goes. */
void scratch_free_all(struct hivefs *fs);

#endif /* HIVEFS_SCRATCH_H */
