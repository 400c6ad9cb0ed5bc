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
#define STALE_NAMES 5
struct stale {
	uint64_t ino[STALE_MAX];
	bool pages[STALE_MAX];
	int n;
	/* Names in directories, dropped after the answer (inode.h). */
	struct {
		uint64_t dir;
		char name[HIVEFS_NAME_MAX + 1];
	} names[STALE_NAMES];
	int nnames;
};
void stale_add(struct stale *s, uint64_t ino);
/* Attributes only: a node no longer what the kernel thinks. */
void stale_add_attr(struct stale *s, uint64_t ino);
/*
 * The kernel's cached name `name` in directory dir is wrong now; 0, or
 * -ENOSPC when the change made more names stale than a stale holds (then
 * the caller must not make it).
 */
int stale_add_name(struct stale *s, uint64_t dir, const char *name);
/*
 * -o typenames: a value's file name carries its type and whether it is
 * shown raw (NAME.TYPE.raw), so a store or a new view may rename it.
 * stale_typed_name gives the name before such a change (NULL on other
 * mounts and for keys); stale_add_renamed then has the kernel drop that
 * name if the change renamed the value.  Under lock.
 */
char *stale_typed_name(void *tmp, struct hivefs *fs,
		       const struct node_info *n);
void stale_add_renamed(void *tmp, struct stale *s, struct hivefs *fs,
		       const struct node_info *n, const char *before);
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
