/*
 * file.h — values open for writing (file.c): the FUSE operations on a
 * writable descriptor, and the handles entry.c's create hands out.
 */
#ifndef HIVEFS_FILE_H
#define HIVEFS_FILE_H

#include "node.h"

/*
 * A writable handle on node ino (under lock) with its own copy of the
 * value's content as a read shows it; O_TRUNC in flags empties it.
 */
int file_handle_new(struct hivefs *fs, uint64_t ino, const struct node_info *n,
		    int flags, struct open_file **out);
/* A descriptor goes (under lock); the content with its last one. */
void file_handle_free(struct hivefs *fs, struct open_file *fh);
/* Hand a new writable handle to the kernel (with e: as create's answer);
 * undone if the opener left. */
void file_reply_handle(fuse_req_t req, struct hivefs *fs,
		       struct open_file *fh, struct fuse_file_info *fi,
		       const struct fuse_entry_param *e);
/* Unmount: store what descriptors the kernel never closed wrote. */
void file_store_all(struct hivefs *fs);

void file_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void file_read(fuse_req_t req, struct open_file *fh, size_t size, off_t off);
void file_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size,
		off_t off, struct fuse_file_info *fi);
void file_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void file_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
		struct fuse_file_info *fi);
void file_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync,
		   struct fuse_file_info *fi);
void file_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void file_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr,
		  int to_set, struct fuse_file_info *fi);

#endif /* HIVEFS_FILE_H */
