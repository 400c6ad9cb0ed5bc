/*
 * alloc.c — the cell allocator of a hive being written.
 *
 * How it works
 *  - Free cells are found in the image (positive size) when the hive is
 *    first changed and indexed by size class: exact classes of 8 bytes up to
 *    1 KiB, then one class per power of two.  Allocation takes the smallest
 *    non-empty class that can hold the request (close to best fit, which
 *    keeps fragmentation low under churn) and splits off the remainder.
 *  - Freeing zeroes the cell (deleted data must not linger in the file) and
 *    merges it with free neighbours in the same bin, so space is reused
 *    rather than the file growing.
 *  - When nothing fits, a new bin is appended: a multiple of 4 KiB, large
 *    enough for the cell (big cells get multi-page bins, as Windows does);
 *    its unused tail becomes one free cell.
 *  - Every byte changed is marked dirty per 4 KiB page, for the commit.
 *
 * What a writer trusts.  Before the first change (at open, for a handle
 * that may write) one pass over the cell headers proves that cells tile
 * every bin exactly, and records where each cell starts.  From then on a
 * reference is a cell only if it names one of those starts (hv_cell()
 * checks the map), so two cells the engine writes can never overlap, and
 * only the allocator changes a cell's size.  hv_cell_w() proves its cell
 * again before handing out a pointer: a write it allows stays inside the
 * bins and inside that one allocated cell, whatever the hive says.
 *
 * Every change starts with hv_begin_change(), which refuses hives that
 * must not be written and readies the allocator.  Allocation may move the
 * whole image, so writers hold offsets across allocations and turn them
 * into pointers again afterwards (hv_cell_w(), hv_nk_w()), never
 * keeping a pointer over a call that can allocate.
 */
#include <stdio.h>
#include <stdlib.h>
#include <talloc.h>
#include <time.h>

#include "layout.h"

#define EXACT_LIMIT 1024u

static unsigned size_class(uint32_t size)
{
	unsigned log = 0;

	if (size <= EXACT_LIMIT)
		return size / CELL_ALIGN - 1;
	for (uint32_t s = size >> 11; s; s >>= 1)
		log++;
	return EXACT_LIMIT / CELL_ALIGN + log;
}

static uint32_t hash_off(uint32_t off)
{
	return (off >> 3) * 2654435761u;
}

static void start_set(struct hive *h, uint32_t off)
{
	h->cell_starts[off / CELL_ALIGN / 8] |= (uint8_t)(1u << (off / CELL_ALIGN % 8));
}

static void start_clear(struct hive *h, uint32_t off)
{
	h->cell_starts[off / CELL_ALIGN / 8] &= (uint8_t)~(1u << (off / CELL_ALIGN % 8));
}

static int slots_grow(struct hive *h)
{
	struct free_index *fi = &h->free;
	uint32_t new_size = fi->slot_mask ? (fi->slot_mask + 1) * 2 : 1024;
	uint32_t *slots = talloc_zero_array(h, uint32_t, new_size);

	if (!slots)
		return HIVE_FAIL(HIVE_E_NOMEM, "free-cell table");
	/* Re-insert live entries; deleted markers are dropped. */
	for (uint32_t i = 0; fi->slots && i <= fi->slot_mask; i++) {
		uint32_t v = fi->slots[i];
		if (v == 0 || v == FREE_NONE)
			continue;
		uint32_t j = hash_off(fi->nodes[v - 1].off) & (new_size - 1);
		while (slots[j])
			j = (j + 1) & (new_size - 1);
		slots[j] = v;
	}
	talloc_free(fi->slots);
	fi->slots = slots;
	fi->slot_mask = new_size - 1;
	fi->slots_used = 0;
	for (uint32_t i = 0; i < new_size; i++)
		fi->slots_used += slots[i] != 0;
	return HIVE_OK;
}

/* Slot holding `off`, or FREE_NONE. */
static uint32_t slot_find(const struct free_index *fi, uint32_t off)
{
	if (!fi->slots)
		return FREE_NONE;
	for (uint32_t j = hash_off(off) & fi->slot_mask;; j = (j + 1) & fi->slot_mask) {
		uint32_t v = fi->slots[j];
		if (v == 0)
			return FREE_NONE;
		if (v != FREE_NONE && fi->nodes[v - 1].off == off)
			return j;
	}
}

static void class_unlink(struct free_index *fi, uint32_t n)
{
	struct free_node *node = &fi->nodes[n];

	if (node->prev != FREE_NONE)
		fi->nodes[node->prev].next = node->next;
	else
		fi->heads[size_class(node->size)] = node->next;
	if (node->next != FREE_NONE)
		fi->nodes[node->next].prev = node->prev;
}

static void class_link(struct free_index *fi, uint32_t n)
{
	struct free_node *node = &fi->nodes[n];
	unsigned c = size_class(node->size);

	node->prev = FREE_NONE;
	node->next = fi->heads[c];
	if (node->next != FREE_NONE)
		fi->nodes[node->next].prev = n;
	fi->heads[c] = n;
}

static int index_add(struct hive *h, uint32_t off, uint32_t size)
{
	struct free_index *fi = &h->free;
	uint32_t n;

	if ((fi->slots_used + 1) * 4 > (fi->slot_mask + 1) * 3 || !fi->slots) {
		int ret = slots_grow(h);
		if (ret != HIVE_OK)
			return ret;
	}
	if (fi->recycled != FREE_NONE) {
		n = fi->recycled;
		fi->recycled = fi->nodes[n].next;
	} else {
		if (fi->count == fi->cap) {
			uint32_t cap = fi->cap ? fi->cap * 2 : 256;
			struct free_node *nodes = talloc_realloc(h, fi->nodes,
								 struct free_node, cap);
			if (!nodes)
				return HIVE_FAIL(HIVE_E_NOMEM, "free-cell nodes");
			fi->nodes = nodes;
			fi->cap = cap;
		}
		n = fi->count++;
	}
	fi->nodes[n].off = off;
	fi->nodes[n].size = size;
	class_link(fi, n);
	for (uint32_t j = hash_off(off) & fi->slot_mask;; j = (j + 1) & fi->slot_mask) {
		if (fi->slots[j] == 0 || fi->slots[j] == FREE_NONE) {
			fi->slots_used += fi->slots[j] == 0;
			fi->slots[j] = n + 1;
			break;
		}
	}
	return HIVE_OK;
}

static void index_remove_slot(struct free_index *fi, uint32_t slot)
{
	uint32_t n = fi->slots[slot] - 1;

	class_unlink(fi, n);
	fi->slots[slot] = FREE_NONE;
	fi->nodes[n].next = fi->recycled;
	fi->recycled = n;
}

/* The map and the index of one pass; a hive whose cells do not tile keeps
 * neither (it is read as any reader reads it). */
static int index_build(struct hive *h)
{
	h->free.recycled = FREE_NONE;
	for (unsigned c = 0; c < FREE_CLASSES; c++)
		h->free.heads[c] = FREE_NONE;
	h->cell_starts = talloc_zero_array(h, uint8_t, h->bins_len / CELL_ALIGN / 8 + 1);
	if (!h->cell_starts)
		return HIVE_FAIL(HIVE_E_NOMEM, "cell map");
	for (uint32_t off = 0; off < h->bins_len;) {
		const struct hv_page *page = &h->pages[off / REGF_BLOCK_SIZE];
		uint32_t end = page->bin_end;

		if (page->bin_start == PAGE_UNREADABLE || page->bin_start != off)
			return HIVE_FAIL(HIVE_E_CORRUPT, "hive bin at 0x%x is damaged",
					 off);
		for (uint32_t c = page->bin_start + HBIN_HEADER_SIZE; c + 4 <= end;) {
			int32_t size = (int32_t)le32(h->bins + c);
			uint32_t abs = size < 0 ? (uint32_t)(-(int64_t)size)
						: (uint32_t)size;
			if (abs < CELL_ALIGN || abs % CELL_ALIGN || abs > end - c)
				return HIVE_FAIL(HIVE_E_CORRUPT,
						 "cell at 0x%x has size %d, which breaks "
						 "its hive bin (0x%x-0x%x)", c, size,
						 page->bin_start, end);
			start_set(h, c);
			if (size > 0) {
				int ret = index_add(h, c, abs);
				if (ret != HIVE_OK)
					return ret;
			}
			c += abs;
		}
		off = end;
	}
	return HIVE_OK;
}

int hv_free_index_build(struct hive *h)
{
	int ret;

	if (h->free_index_ready)
		return HIVE_OK;
	ret = index_build(h);
	if (ret != HIVE_OK) {
		struct free_index *fi = &h->free;
		talloc_free(h->cell_starts);
		talloc_free(fi->nodes);
		talloc_free(fi->slots);
		memset(fi, 0, sizeof(*fi));
		h->cell_starts = NULL;
		return ret;
	}
	h->free_index_ready = true;
	return HIVE_OK;
}

void hv_base_block_changed(struct hive *h)
{
	put_le32(h->image + REGF_CHECKSUM, hv_header_checksum(h->image));
	h->base_dirty = true;
	h->modified = true;
}

/* A broken invariant of the engine itself, never a property of the input:
 * stop rather than write outside a cell. */
__attribute__((noreturn))
static void write_bug(const char *what, uint32_t off)
{
	fprintf(stderr, "hive engine bug: %s at 0x%x: %s\n", what, off,
		hive_error_detail());
	abort();
}

void hv_mark_dirty(struct hive *h, uint32_t off, uint32_t len)
{
	if (len == 0)
		return;
	if (off > h->bins_len || len > h->bins_len - off)
		write_bug("change beyond the hive bins", off);
	for (uint32_t p = off / REGF_BLOCK_SIZE; p <= (off + len - 1) / REGF_BLOCK_SIZE;
	     p++)
		h->dirty[p] = 1;
	h->modified = true;
}

uint8_t *hv_cell_w(struct hive *h, uint32_t off)
{
	const uint8_t *data;
	uint32_t len;

	if (hv_cell(h, off, &data, &len) != HIVE_OK)
		write_bug("write to an unproven cell", off);
	hv_mark_dirty(h, off, CELL_HEADER_SIZE + len);
	return h->bins + off + CELL_HEADER_SIZE;
}

uint64_t hv_now_filetime(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((uint64_t)ts.tv_sec + 11644473600ull) * 10000000ull +
	       (uint64_t)ts.tv_nsec / 100;
}

/* Append a bin of at least `min_size` bytes; its space becomes one free cell. */
static int grow_bins(struct hive *h, uint32_t min_size)
{
	uint32_t size = (min_size + HBIN_HEADER_SIZE + REGF_BLOCK_SIZE - 1) &
			~(REGF_BLOCK_SIZE - 1);
	uint32_t start = h->bins_len, pages = start / REGF_BLOCK_SIZE;
	uint32_t new_pages = size / REGF_BLOCK_SIZE;
	size_t need = (size_t)REGF_BLOCK_SIZE + start + size;
	uint8_t *bin;

	if ((uint64_t)start + size > 0x7FFFFFF0u)
		return HIVE_FAIL(HIVE_E_TOO_BIG, "hive bins would exceed 2 GiB");
	if (need > h->image_len) {
		int ret = hv_image_resize(h, need);
		if (ret != HIVE_OK)
			return ret;
	}
	struct hv_page *pg = talloc_realloc(h, h->pages, struct hv_page,
					    pages + new_pages);
	uint8_t *dirty = pg ? talloc_realloc(h, h->dirty, uint8_t,
					     pages + new_pages) : NULL;
	uint32_t map_bytes = (start + size) / CELL_ALIGN / 8 + 1;
	uint8_t *starts = dirty ? talloc_realloc(h, h->cell_starts, uint8_t,
						 map_bytes) : NULL;
	if (pg)
		h->pages = pg;
	if (dirty)
		h->dirty = dirty;
	if (!starts)
		return HIVE_FAIL(HIVE_E_NOMEM, "page map");
	h->cell_starts = starts;
	memset(starts + start / CELL_ALIGN / 8, 0,
	       map_bytes - start / CELL_ALIGN / 8);
	for (uint32_t p = pages; p < pages + new_pages; p++) {
		h->pages[p].bin_start = start;
		h->pages[p].bin_end = start + size;
	}
	bin = h->bins + start;
	memset(bin, 0, size);
	memcpy(bin, HBIN_SIGNATURE, 4);
	put_le32(bin + HBIN_OFFSET, start);
	put_le32(bin + HBIN_SIZE, size);
	put_le32(bin + HBIN_HEADER_SIZE, size - HBIN_HEADER_SIZE);
	h->bins_len = start + size;
	h->bin_count++;
	start_set(h, start + HBIN_HEADER_SIZE);
	put_le32(h->image + REGF_BINS_SIZE, h->bins_len);
	hv_base_block_changed(h);
	hv_mark_dirty(h, start, size);
	return index_add(h, start + HBIN_HEADER_SIZE, size - HBIN_HEADER_SIZE);
}

static uint32_t find_fit(const struct free_index *fi, uint32_t need)
{
	for (unsigned c = size_class(need); c < FREE_CLASSES; c++) {
		for (uint32_t n = fi->heads[c]; n != FREE_NONE; n = fi->nodes[n].next)
			if (fi->nodes[n].size >= need)
				return n;
	}
	return FREE_NONE;
}

int hv_alloc(struct hive *h, uint32_t data_len, uint32_t *off)
{
	uint32_t need, n, cell, size;
	int ret;

	if (data_len > 0x7FFFFFF0u - CELL_HEADER_SIZE - HBIN_HEADER_SIZE)
		return HIVE_FAIL(HIVE_E_TOO_BIG, "cell of %u bytes", data_len);
	need = (data_len + CELL_HEADER_SIZE + CELL_ALIGN - 1) & ~(CELL_ALIGN - 1);
	n = find_fit(&h->free, need);
	if (n == FREE_NONE) {
		ret = grow_bins(h, need);
		if (ret != HIVE_OK)
			return ret;
		n = find_fit(&h->free, need);
	}
	cell = h->free.nodes[n].off;
	size = h->free.nodes[n].size;
	index_remove_slot(&h->free, slot_find(&h->free, cell));
	if (size - need >= CELL_ALIGN) {
		put_le32(h->bins + cell + need, size - need);
		start_set(h, cell + need);
		hv_mark_dirty(h, cell + need, 4);
		ret = index_add(h, cell + need, size - need);
		if (ret != HIVE_OK)
			return ret;
		size = need;
	}
	put_le32(h->bins + cell, (uint32_t)-(int32_t)size);
	memset(h->bins + cell + CELL_HEADER_SIZE, 0, size - CELL_HEADER_SIZE);
	hv_mark_dirty(h, cell, size);
	*off = cell;
	return HIVE_OK;
}

/* The cell just before `off` in its bin, or FREE_NONE. */
static uint32_t previous_cell(const struct hive *h, uint32_t off)
{
	uint32_t c = h->pages[off / REGF_BLOCK_SIZE].bin_start + HBIN_HEADER_SIZE;
	uint32_t prev = FREE_NONE;

	while (c < off) {
		int32_t size = (int32_t)le32(h->bins + c);
		uint32_t abs = size < 0 ? (uint32_t)(-(int64_t)size) : (uint32_t)size;
		if (abs < CELL_ALIGN)
			return FREE_NONE;
		prev = c;
		c += abs;
	}
	return c == off ? prev : FREE_NONE;
}

void hv_free(struct hive *h, uint32_t off)
{
	const uint8_t *data;
	uint32_t len;

	/* Freeing what is not a cell would make the allocator hand out
	 * overlapping space: callers validated it, this makes sure. */
	if (hv_cell(h, off, &data, &len) != HIVE_OK)
		write_bug("free of an unproven cell", off);
	uint32_t size = CELL_HEADER_SIZE + len;
	uint32_t bin_end = h->pages[off / REGF_BLOCK_SIZE].bin_end;
	uint32_t next = off + size, prev, slot;

	memset(h->bins + off, 0, size);
	hv_mark_dirty(h, off, size);
	if (next + 4 <= bin_end && (int32_t)le32(h->bins + next) > 0 &&
	    (slot = slot_find(&h->free, next)) != FREE_NONE) {
		uint32_t next_size = le32(h->bins + next);
		index_remove_slot(&h->free, slot);
		memset(h->bins + next, 0, 4);
		start_clear(h, next);
		hv_mark_dirty(h, next, 4);
		size += next_size;
	}
	prev = previous_cell(h, off);
	if (prev != FREE_NONE && (int32_t)le32(h->bins + prev) > 0 &&
	    (slot = slot_find(&h->free, prev)) != FREE_NONE) {
		index_remove_slot(&h->free, slot);
		size += le32(h->bins + prev);
		memset(h->bins + off, 0, 4);
		start_clear(h, off);
		off = prev;
	}
	put_le32(h->bins + off, size);
	hv_mark_dirty(h, off, 4);
	/* Out of memory here only costs the reuse of this cell. */
	index_add(h, off, size);
}

int hv_realloc(struct hive *h, uint32_t *off, uint32_t data_len)
{
	const uint8_t *data;
	uint32_t len;
	int ret = hv_cell(h, *off, &data, &len);

	if (ret != HIVE_OK)
		return ret;
	uint32_t size = CELL_HEADER_SIZE + len;
	uint32_t need = (data_len + CELL_HEADER_SIZE + CELL_ALIGN - 1) & ~(CELL_ALIGN - 1);
	uint32_t next = *off + size, slot, moved;

	if (data_len > 0x7FFFFFF0u - CELL_HEADER_SIZE - HBIN_HEADER_SIZE)
		return HIVE_FAIL(HIVE_E_TOO_BIG, "cell of %u bytes", data_len);
	if (need <= size)
		return HIVE_OK;
	/* Grow in place into a free neighbour: no copy, no fragmentation. */
	if (next + 4 <= h->pages[*off / REGF_BLOCK_SIZE].bin_end &&
	    (int32_t)le32(h->bins + next) > 0 &&
	    size + le32(h->bins + next) >= need &&
	    (slot = slot_find(&h->free, next)) != FREE_NONE) {
		uint32_t total = size + le32(h->bins + next);
		index_remove_slot(&h->free, slot);
		memset(h->bins + next, 0, 4);
		start_clear(h, next);
		if (total - need >= CELL_ALIGN) {
			put_le32(h->bins + *off + need, total - need);
			start_set(h, *off + need);
			/* Out of memory only costs the reuse of the remainder. */
			index_add(h, *off + need, total - need);
			total = need;
		}
		put_le32(h->bins + *off, (uint32_t)-(int32_t)total);
		hv_mark_dirty(h, *off, total);
		return HIVE_OK;
	}
	ret = hv_alloc(h, data_len, &moved);
	if (ret != HIVE_OK)
		return ret;
	memcpy(h->bins + moved + CELL_HEADER_SIZE, h->bins + *off + CELL_HEADER_SIZE,
	       size - CELL_HEADER_SIZE);
	hv_free(h, *off);
	*off = moved;
	return HIVE_OK;
}

int hv_begin_change(struct hive *h)
{
	if (h->poisoned)
		return HIVE_FAIL(HIVE_E_POISONED, "an earlier commit failed; "
				 "reopen the hive (its log repairs it)");
	if (h->read_only_reason)
		return HIVE_FAIL(HIVE_E_READ_ONLY, "%s", h->read_only_reason);
	if (!h->dirty) {
		h->dirty = talloc_zero_array(h, uint8_t,
					     h->bins_len / REGF_BLOCK_SIZE + 1);
		if (!h->dirty)
			return HIVE_FAIL(HIVE_E_NOMEM, "dirty map");
	}
	return hv_free_index_build(h);
}

uint8_t *hv_nk_w(struct hive *h, hive_key_t key)
{
	const uint8_t *nk;
	uint32_t len;

	/* Callers write fixed nk fields: the cell must hold a whole nk. */
	if (hv_key_record(h, key, &nk, &len) != HIVE_OK) {
		fprintf(stderr, "hive engine bug: nk write to 0x%x: %s\n", key,
			hive_error_detail());
		abort();
	}
	return hv_cell_w(h, key);
}
