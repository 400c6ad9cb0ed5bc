/*
 * cellmap.c — an open-addressing hash table from (key cell, entry cell)
 * to a fixed-size record (cellmap.h).  Ids and records sit in two arrays
 * of one capacity, a power of two kept at least twice the records, so a
 * probe ends at an empty slot soon.
 */
#include <string.h>

#include <talloc.h>

#include "cellmap.h"

#define FIRST_CAP 256

struct cellmap {
	uint64_t *id;       /* key << 32 | cell; 0 = empty */
	unsigned char *rec; /* cap records of size bytes */
	size_t size, cap, used;
};

static uint64_t id_of(uint32_t key, uint32_t cell)
{
	return (uint64_t)key << 32 | cell;
}

/*
 * Where the probe for id starts.  Every bit of the id must reach the slot:
 * cells are multiples of 8, and a table holds one record per key under
 * the same entry cell (HIVE_NO_CELL, 0), so a hash of the low bits alone
 * put all of those in one run that every probe walked.
 */
static size_t home_of(uint64_t id, size_t cap)
{
	id ^= id >> 33;
	id *= 0xFF51AFD7ED558CCDull;
	id ^= id >> 33;
	id *= 0xC4CEB9FE1A85EC53ull;
	id ^= id >> 33;
	return (size_t)id & (cap - 1);
}

static size_t slot_of(const uint64_t *id, size_t cap, uint64_t want)
{
	size_t mask = cap - 1;

	for (size_t i = home_of(want, cap);; i = (i + 1) & mask)
		if (id[i] == want || id[i] == 0)
			return i;
}

struct cellmap *cellmap_new(void *mem, size_t size)
{
	struct cellmap *m = talloc_zero(mem, struct cellmap);

	if (m)
		m->size = size;
	return m;
}

/*
 * Move every record into new arrays of `cap` slots, those of key `from`
 * as key `to`'s and without those `to` had; from == to moves none.
 */
static int rebuild(struct cellmap *m, size_t cap, uint32_t from, uint32_t to)
{
	uint64_t *id = talloc_zero_array(m, uint64_t, cap);
	unsigned char *rec = talloc_zero_size(m, cap * m->size);
	size_t used = 0;

	if (!id || !rec) {
		talloc_free(id);
		talloc_free(rec);
		return -1;
	}
	for (size_t i = 0; i < m->cap; i++) {
		uint64_t x = m->id[i];
		uint32_t key = (uint32_t)(x >> 32);
		size_t j;

		if (!x || (from != to && key == to))
			continue;
		if (from != to && key == from)
			x = id_of(to, (uint32_t)x);
		j = slot_of(id, cap, x);
		id[j] = x;
		memcpy(rec + j * m->size, m->rec + i * m->size, m->size);
		used++;
	}
	talloc_free(m->id);
	talloc_free(m->rec);
	m->id = id;
	m->rec = rec;
	m->cap = cap;
	m->used = used;
	return 0;
}

void *cellmap_get(const struct cellmap *m, uint32_t key, uint32_t cell)
{
	size_t i;

	if (!m || !m->cap)
		return NULL;
	i = slot_of(m->id, m->cap, id_of(key, cell));
	return m->id[i] ? m->rec + i * m->size : NULL;
}

void *cellmap_put(struct cellmap *m, uint32_t key, uint32_t cell)
{
	uint64_t want = id_of(key, cell);
	size_t i;

	if (2 * (m->used + 1) > m->cap &&
	    rebuild(m, m->cap ? 2 * m->cap : FIRST_CAP, 0, 0))
		return NULL;
	i = slot_of(m->id, m->cap, want);
	if (!m->id[i]) {
		m->id[i] = want;
		memset(m->rec + i * m->size, 0, m->size);
		m->used++;
	}
	return m->rec + i * m->size;
}

size_t cellmap_probe_length(const struct cellmap *m, uint32_t key,
			    uint32_t cell)
{
	uint64_t want = id_of(key, cell);

	if (!m || !m->cap)
		return 0;
	return ((slot_of(m->id, m->cap, want) - home_of(want, m->cap)) &
		(m->cap - 1)) + 1;
}

int cellmap_key_moved(struct cellmap *m, uint32_t from, uint32_t to)
{
	if (!m || !m->used || from == to)
		return 0;
	return rebuild(m, m->cap, from, to);
}
