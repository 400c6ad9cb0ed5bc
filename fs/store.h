/*
 * store.h — a file's content turned into a value's data and stored
 * (store.c), and the bytes last written to each value, kept for a type
 * set afterwards.  Returns are 0 or a negative errno (hivefs.h); all
 * under lock.
 */
#ifndef HIVEFS_STORE_H
#define HIVEFS_STORE_H

#include "node.h"

enum store_how {
	STORE_WRITE,  /* the content of a file: -EINVAL if it does not parse */
	STORE_RETYPE, /* re-interpretation: verbatim if it does not parse */
	STORE_CHECK,  /* as STORE_WRITE, but only say whether it would work */
};

/*
 * Store `content` as the value of node n (ino) with `type` (store.c's
 * rules).  n->cell follows the value if it moves.  The caller calls
 * change_done() once per operation.
 */
int store_content(void *tmp, struct hivefs *fs, uint64_t ino,
		  struct node_info *n, uint32_t type, const char *content,
		  size_t len, enum store_how how);
/* Value n's path in the hive for messages ("Key\Sub\Name"), on mem;
 * NULL only when out of memory. */
char *store_value_path(void *mem, struct hivefs *fs, const struct node_info *n);
/* The type value `cell` has now. */
int store_value_type(struct hivefs *fs, uint32_t cell, uint32_t *type);

/* The bytes last written to node n (ino), or NULL. */
struct recent_write *recent_find(struct hivefs *fs, uint64_t ino,
				 const struct node_info *n);
/* A value's cell was freed: what was remembered of it goes. */
void recent_forget_cell(struct hivefs *fs, uint32_t cell);
/* Unmount: everything remembered goes. */
void recent_forget_all(struct hivefs *fs);

#endif /* HIVEFS_STORE_H */
