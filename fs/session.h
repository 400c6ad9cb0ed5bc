/*
 * session.h — the operations hivefs gives libfuse (session.c): the one
 * thing main.c needs of the layers below.
 */
#ifndef HIVEFS_SESSION_H
#define HIVEFS_SESSION_H

struct fuse_lowlevel_ops;
extern const struct fuse_lowlevel_ops hivefs_ops;

#endif /* HIVEFS_SESSION_H */
