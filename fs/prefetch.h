/*
 * prefetch.h — a key's values brought into the page cache
 * (prefetch.c).
 */
#ifndef HIVEFS_PREFETCH_H
#define HIVEFS_PREFETCH_H

#include "node.h"

int prefetch_start(struct hivefs *fs);
void prefetch_stop(struct hivefs *fs);
/* Value `read_ino` of `key` was just read: prefetch the others. */
void prefetch_key(struct hivefs *fs, uint32_t key, uint64_t read_ino);

#endif /* HIVEFS_PREFETCH_H */
