/*
 * change.h — what every change to the hive goes through (change.c):
 * whether it may be made now, what happens after it, and commits.
 * Returns are 0 or a negative errno (hivefs.h); all under lock except
 * change_start() and change_stop().
 */
#ifndef HIVEFS_CHANGE_H
#define HIVEFS_CHANGE_H

#include "node.h"

/* 0, or why no change can be made now: -EROFS, -EIO. */
int change_refused(struct hivefs *fs);
/* A live node to change: 0, or the errno (-ENOENT for a dead one). */
int change_node(struct hivefs *fs, uint64_t ino, struct node_info *n);
/* What every change does last, once per operation: the caches learn of
 * it, and with -o sync it is committed. */
int change_done(struct hivefs *fs);
/* Commit what changed; the first failure is remembered for the exit. */
int change_commit(struct hivefs *fs);
/* Start (after mounting) and stop the periodic commits (the final
 * commit is the session's, after every open file is stored). */
int change_start(struct hivefs *fs);
void change_stop(struct hivefs *fs);

#endif /* HIVEFS_CHANGE_H */
