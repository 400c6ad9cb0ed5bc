/*
 * cellmap.h — small records kept per entry of a key, found by the key's
 * nk cell and the entry's cell (cellmap.c).
 *
 * node.c keeps two: values' mtimes and listings' readdir serials.  When a
 * rename moves a key's nk to another cell, cellmap_key_moved carries all
 * of that key's records over at once, so neither table loses track.  No
 * locking here: the mount's lock covers every call.
 */
#ifndef HIVEFS_CELLMAP_H
#define HIVEFS_CELLMAP_H

#include <stddef.h>
#include <stdint.h>

struct cellmap;

/* An empty table of records of `size` bytes, on mem; NULL without memory. */
struct cellmap *cellmap_new(void *mem, size_t size);

/* The record of (key, cell), or NULL (also for a NULL table).  Valid
 * until the next cellmap_put or cellmap_key_moved. */
void *cellmap_get(const struct cellmap *m, uint32_t key, uint32_t cell);

/* The record of (key, cell), zeroed when new; NULL without memory.  key
 * is never 0 (no nk has that cell). */
void *cellmap_put(struct cellmap *m, uint32_t key, uint32_t cell);

/* How many slots a look-up of (key, cell) reads (0 for an empty table):
 * how well the table spreads its records. */
size_t cellmap_probe_length(const struct cellmap *m, uint32_t key,
			    uint32_t cell);

/* Key `from`'s nk is now at cell `to`: its records become to's, and
 * those to had (a deleted key's, which had that cell) go.  0, or -1
 * without memory (then the table is as it was). */
int cellmap_key_moved(struct cellmap *m, uint32_t from, uint32_t to);

#endif /* HIVEFS_CELLMAP_H */
