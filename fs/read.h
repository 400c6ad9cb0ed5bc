/*
 * read.h — the FUSE operations that only read (read.c).  read_open,
 * read_read and read_release serve read-only descriptors; session.c
 * sends the others to file.c.
 */
#ifndef HIVEFS_READ_H
#define HIVEFS_READ_H

#include "node.h"

void read_lookup(fuse_req_t req, fuse_ino_t parent, const char *name);
void read_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup);
void read_forget_multi(fuse_req_t req, size_t count,
		       struct fuse_forget_data *forgets);
void read_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void read_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void read_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		  struct fuse_file_info *fi);
void read_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		      struct fuse_file_info *fi);
void read_releasedir(fuse_req_t req, fuse_ino_t ino,
		     struct fuse_file_info *fi);
/* A read-only open, with handles (see session.c). */
void read_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void read_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
	       struct fuse_file_info *fi);
void read_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void read_statfs(fuse_req_t req, fuse_ino_t ino);
void read_access(fuse_req_t req, fuse_ino_t ino, int mask);

#endif /* HIVEFS_READ_H */
