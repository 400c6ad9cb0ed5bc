/*
 * xattr.h — the user.winreg.* extended attributes of keys and values
 * (xattr.c): listing, reading, setting and removing them.
 */
#ifndef HIVEFS_XATTR_H
#define HIVEFS_XATTR_H

#include "node.h"

void xattr_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
		    size_t size);
void xattr_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size);
void xattr_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
		    const char *value, size_t size, int flags);
void xattr_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name);

#endif /* HIVEFS_XATTR_H */
