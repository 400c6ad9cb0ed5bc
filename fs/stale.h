/*
 * stale.h — telling the kernel which of its caches a change made stale,
 * then answering the request that made it (stale.c).
 */
#ifndef HIVEFS_STALE_H
#define HIVEFS_STALE_H

#include "node.h"

/*
 * Kernel caches made stale by a change: the pages and attributes of the
 * value (first), the attributes of its key and of others.
 */
#define STALE_MAX 3
struct stale {
	uint64_t ino[STALE_MAX];
	bool pages[STALE_MAX];
	int n;
};
void stale_add(struct stale *s, uint64_t ino);
/*
 * Tell the kernel (outside the lock), then answer req with err (0 or a
 * negative errno), or with attr when given and err is 0 (see stale.c for
 * which thread does it).
 */
void stale_reply(struct hivefs *fs, fuse_req_t req, const struct stale *s,
		 int err, const struct stat *attr);
int stale_start(struct hivefs *fs);
void stale_stop(struct hivefs *fs);

#endif /* HIVEFS_STALE_H */
