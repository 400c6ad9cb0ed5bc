/*
 * entry.h — the FUSE operations that make, remove and rename keys and
 * values (entry.c).
 */
#ifndef HIVEFS_ENTRY_H
#define HIVEFS_ENTRY_H

#include "node.h"

void entry_create(fuse_req_t req, fuse_ino_t parent, const char *name,
		  mode_t mode, struct fuse_file_info *fi);
void entry_mknod(fuse_req_t req, fuse_ino_t parent, const char *name,
		 mode_t mode, dev_t rdev);
void entry_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name,
		 mode_t mode);
void entry_unlink(fuse_req_t req, fuse_ino_t parent, const char *name);
void entry_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name);
void entry_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
		  fuse_ino_t newparent, const char *newname, unsigned int flags);
void entry_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent,
		const char *newname);
void entry_symlink(fuse_req_t req, const char *link, fuse_ino_t parent,
		   const char *name);

#endif /* HIVEFS_ENTRY_H */
