/*
 * check.c — verify every structural invariant of a hive.
 *
 * How it works
 *  1. Every bin is walked cell by cell: sizes must be multiples of 8 and
 *     tile the bin exactly.  Allocated cells go into a sorted table with a
 *     reference counter each.
 *  2. The tree is walked from the root (cycle-safe).  Every cell a key
 *     uses — nk, subkey lists and their leaves, value list, vk, data, db,
 *     segment list, segments, class — counts one reference; sk cells count
 *     one per entry in the circular sk list, and the keys using each sk
 *     are tallied against its reference count.  Along the way each key's
 *     bookkeeping is compared with what it holds.
 *  3. Every allocated cell must have been referenced exactly once.
 * Findings are reported as text, one per problem, up to a cap.
 */
#include <stdio.h>
#include <stdlib.h>
#include <talloc.h>

#include "layout.h"

#define MAX_REPORTS 1000

struct cell_ref {
	uint32_t off;
	uint32_t refs;
};

struct sk_use {
	uint32_t off;
	uint32_t keys;
};

struct checker {
	struct hive *h;
	void (*report)(void *arg, const char *finding);
	void (*note)(void *arg, const char *text); /* tolerant mode, may be NULL */
	bool tolerant;
	void *arg;
	unsigned findings;
	struct cell_ref *cells;
	size_t ncells;
	struct sk_use *sks;
	size_t nsks, sk_cap;
	hive_key_t path[HIVE_MAX_DEPTH + 2];
};

__attribute__((format(printf, 2, 3)))
static void finding(struct checker *c, const char *fmt, ...)
{
	char text[512];
	va_list ap;

	c->findings++;
	if (c->findings > MAX_REPORTS)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (c->findings == MAX_REPORTS)
		snprintf(text, sizeof(text), "(further findings not listed)");
	c->report(c->arg, text);
}

/* In tolerant mode, a leftover Windows itself leaves: noted, not counted. */
__attribute__((format(printf, 2, 3)))
static void leftover(struct checker *c, const char *fmt, ...)
{
	char text[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (!c->tolerant)
		finding(c, "%s", text);
	else if (c->note)
		c->note(c->arg, text);
}

static struct cell_ref *find_cell(struct checker *c, uint32_t off)
{
	size_t lo = 0, hi = c->ncells;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (c->cells[mid].off == off)
			return &c->cells[mid];
		if (c->cells[mid].off < off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Count a reference to the cell at `off` (`what` names it for reports). */
static bool use_cell(struct checker *c, uint32_t off, const char *what,
		     hive_key_t key)
{
	struct cell_ref *r = find_cell(c, off);

	if (!r) {
		finding(c, "key 0x%x: %s at 0x%x is not an allocated cell", key,
			what, off);
		return false;
	}
	r->refs++;
	return true;
}

static void scan_cells(struct checker *c)
{
	struct hive *h = c->h;
	size_t cap = 1024;

	c->cells = talloc_array(NULL, struct cell_ref, cap);
	for (uint32_t off = 0; off < h->bins_len && c->cells;) {
		const struct hv_page *page = &h->pages[off / REGF_BLOCK_SIZE];
		uint32_t end = page->bin_end, cell;

		if (page->bin_start == PAGE_UNREADABLE) {
			finding(c, "bin at 0x%x: damaged header", off);
			off += REGF_BLOCK_SIZE;
			continue;
		}
		if (memcmp(h->bins + off, HBIN_SIGNATURE, 4) != 0)
			finding(c, "bin at 0x%x: bad signature", off);
		for (cell = page->bin_start + HBIN_HEADER_SIZE; cell + 4 <= end;) {
			int32_t size = (int32_t)le32(h->bins + cell);
			uint32_t abs = size < 0 ? (uint32_t)(-(int64_t)size)
						: (uint32_t)size;
			if (abs < CELL_ALIGN || abs % CELL_ALIGN || abs > end - cell) {
				finding(c, "cell at 0x%x: size %d breaks the bin "
					"(0x%x-0x%x)", cell, size, page->bin_start, end);
				break;
			}
			if (size < 0) {
				if (c->ncells == cap) {
					cap *= 2;
					c->cells = talloc_realloc(NULL, c->cells,
								  struct cell_ref, cap);
					if (!c->cells)
						return;
				}
				c->cells[c->ncells].off = cell;
				c->cells[c->ncells++].refs = 0;
			}
			cell += abs;
		}
		if (cell != end && cell + 4 > end && cell < end)
			finding(c, "bin at 0x%x: cells end at 0x%x, not at 0x%x",
				page->bin_start, cell, end);
		off = end;
	}
	if (h->truncated)
		finding(c, "file truncated: the base block declares %u bytes of bins",
			le32(h->image + REGF_BINS_SIZE));
}

static void note_sk(struct checker *c, uint32_t sk)
{
	for (size_t i = 0; i < c->nsks; i++) {
		if (c->sks[i].off == sk) {
			c->sks[i].keys++;
			return;
		}
	}
	if (c->nsks == c->sk_cap) {
		c->sk_cap = c->sk_cap ? c->sk_cap * 2 : 16;
		c->sks = talloc_realloc(NULL, c->sks, struct sk_use, c->sk_cap);
		if (!c->sks) {
			c->nsks = c->sk_cap = 0;
			return;
		}
	}
	c->sks[c->nsks].off = sk;
	c->sks[c->nsks++].keys = 1;
}

/* Count the cells of a subkey list; check kinds, sorting and hashes. */
static void check_subkey_list(struct checker *c, hive_key_t key, uint32_t list,
			      const hive_key_t *kids, size_t n)
{
	struct hive *h = c->h;
	const uint8_t *p;
	uint32_t len;

	if (!use_cell(c, list, "subkey list", key) ||
	    hv_cell(h, list, &p, &len) != HIVE_OK)
		return;
	if (memcmp(p, "ri", 2) == 0) {
		uint32_t count = le16(p + LIST_COUNT);
		for (uint32_t i = 0; i < count && LIST_ENTRIES + 4 * i + 4 <= len; i++) {
			const uint8_t *leaf;
			uint32_t leaf_len, off = le32(p + LIST_ENTRIES + 4 * i);
			if (!use_cell(c, off, "ri leaf", key))
				continue;
			if (hv_cell(h, off, &leaf, &leaf_len) == HIVE_OK &&
			    le16(leaf + LIST_COUNT) == 0)
				finding(c, "key 0x%x: empty leaf 0x%x in its ri index",
					key, off);
		}
	}
	/* Sorted strictly ascending by upcased name; lh hashes right. */
	for (size_t i = 0; i < n; i++) {
		struct stored_name a, b;
		if (hv_key_stored_name(h, kids[i], &a) != HIVE_OK)
			continue;
		if (i + 1 < n && hv_key_stored_name(h, kids[i + 1], &b) == HIVE_OK) {
			uint16_t *bn;
			size_t bl;
			if (hv_stored_name_copy(NULL, &b, &bn, &bl) == HIVE_OK) {
				int cmp = hv_stored_name_compare(&a, bn, bl);
				if (cmp >= 0)
					finding(c, "key 0x%x: subkeys 0x%x and 0x%x are %s",
						key, kids[i], kids[i + 1],
						cmp == 0 ? "duplicates" : "out of order");
				talloc_free(bn);
			}
		}
	}
}

static void check_lh_hashes(struct checker *c, hive_key_t key, uint32_t list)
{
	struct hive *h = c->h;
	const uint8_t *p;
	uint32_t len, leaves[1024], nleaves = 0;

	if (hv_cell(h, list, &p, &len) != HIVE_OK)
		return;
	if (memcmp(p, "ri", 2) == 0) {
		uint32_t count = le16(p + LIST_COUNT);
		for (uint32_t i = 0; i < count && i < 1024 &&
				     LIST_ENTRIES + 4 * i + 4 <= len; i++)
			leaves[nleaves++] = le32(p + LIST_ENTRIES + 4 * i);
	} else {
		leaves[nleaves++] = list;
	}
	for (uint32_t l = 0; l < nleaves; l++) {
		if (hv_cell(h, leaves[l], &p, &len) != HIVE_OK)
			continue;
		if (memcmp(p, "ri", 2) == 0)
			finding(c, "key 0x%x: ri index nested in an ri", key);
		if (memcmp(p, "lh", 2) != 0)
			continue;
		uint32_t count = le16(p + LIST_COUNT);
		for (uint32_t i = 0; i < count && LIST_ENTRIES + 8 * i + 8 <= len; i++) {
			struct stored_name n;
			uint32_t kid = le32(p + LIST_ENTRIES + 8 * i);
			if (hv_key_stored_name(h, kid, &n) == HIVE_OK &&
			    hv_stored_name_hash(&n) != le32(p + LIST_ENTRIES + 8 * i + 4))
				finding(c, "key 0x%x: wrong lh hash for subkey 0x%x",
					key, kid);
		}
	}
}

static void check_value(struct checker *c, hive_key_t key, hive_value_t val,
			uint32_t *max_name, uint32_t *max_data)
{
	struct hive *h = c->h;
	struct hive_value_stat st;
	const uint8_t *vk, *p;
	uint32_t len, plen;
	int ret;

	if (!use_cell(c, val, "value", key))
		return;
	ret = hive_value_stat(h, val, &st);
	if (ret != HIVE_OK) {
		finding(c, "key 0x%x: value 0x%x: %s", key, val, hive_error_detail());
		return;
	}
	if (st.name_len * 2 > *max_name)
		*max_name = (uint32_t)st.name_len * 2;
	if (st.data_len > *max_data)
		*max_data = st.data_len;
	hv_cell(h, val, &vk, &len);
	if (st.inline_data || st.data_len == 0)
		return;
	uint32_t data = le32(vk + VK_DATA);
	if (!use_cell(c, data, "value data", key))
		return;
	if (!st.big_data) {
		if (h->minor >= 4 && st.data_len > BIG_DATA_SEGMENT)
			finding(c, "key 0x%x: value 0x%x: %u bytes in one cell; "
				"version 1.%u needs a db record", key, val,
				st.data_len, h->minor);
		return;
	}
	hv_cell(h, data, &p, &plen);
	uint32_t count = le16(p + DB_SEGMENT_COUNT), list = le32(p + DB_SEGMENT_LIST);
	uint32_t needed = (st.data_len + BIG_DATA_SEGMENT - 1) / BIG_DATA_SEGMENT;
	if (count != needed)
		finding(c, "key 0x%x: value 0x%x: %u segments for %u bytes", key,
			val, count, st.data_len);
	if (!use_cell(c, list, "segment list", key) ||
	    hv_cell(h, list, &p, &plen) != HIVE_OK)
		return;
	for (uint32_t i = 0; i < count && 4 * i + 4 <= plen; i++)
		use_cell(c, le32(p + 4 * i), "data segment", key);
	/* Data the engine cannot hand out (more than HIVE_MAX_READ_DATA, which
	 * Windows allows) is sound when its segments are: the front ends note
	 * it; reading it here would only fail for want of memory. */
	if (st.data_len > HIVE_MAX_READ_DATA)
		return;
	uint8_t *bytes;
	size_t nbytes;
	ret = hive_value_data(NULL, h, val, &bytes, &nbytes);
	if (ret != HIVE_OK)
		finding(c, "key 0x%x: value 0x%x: %s", key, val, hive_error_detail());
	else
		talloc_free(bytes);
}

static int check_on_key(void *arg, hive_key_t key, unsigned depth)
{
	struct checker *c = arg;
	struct hive *h = c->h;
	struct hive_key_stat st;
	const uint8_t *nk;
	uint32_t nk_len, max_name = 0, max_data = 0, max_sub = 0, max_class = 0;
	hive_key_t *kids = NULL;
	hive_value_t *vals = NULL;
	size_t nkids = 0, nvals = 0;

	c->path[depth] = key;
	use_cell(c, key, "key", key);
	if (hive_key_stat(h, key, &st) != HIVE_OK ||
	    hv_key_record(h, key, &nk, &nk_len) != HIVE_OK)
		return 0;
	if (depth > 0 && st.parent != c->path[depth - 1])
		finding(c, "key 0x%x: parent field 0x%x, but listed under 0x%x",
			key, st.parent, c->path[depth - 1]);
	if (st.name_len > HIVE_MAX_KEY_NAME)
		finding(c, "key 0x%x: name of %zu units", key, st.name_len);
	if (st.class_len)
		use_cell(c, le32(nk + NK_CLASS), "class name", key);
	if (le32(nk + NK_SECURITY) != HIVE_NO_CELL)
		note_sk(c, le32(nk + NK_SECURITY));
	else
		finding(c, "key 0x%x: no security descriptor", key);

	if (hive_key_subkeys(NULL, h, key, &kids, &nkids) == HIVE_OK) {
		if (nkids != st.subkey_count)
			finding(c, "key 0x%x: subkey count %u, list holds %zu", key,
				st.subkey_count, nkids);
		if (st.subkey_count) {
			check_subkey_list(c, key, le32(nk + NK_SUBKEY_LIST), kids, nkids);
			check_lh_hashes(c, key, le32(nk + NK_SUBKEY_LIST));
		}
		for (size_t i = 0; i < nkids; i++) {
			struct hive_key_stat ks;
			if (hive_key_stat(h, kids[i], &ks) != HIVE_OK)
				continue;
			if (ks.name_len * 2 > max_sub)
				max_sub = (uint32_t)ks.name_len * 2;
			if (ks.class_len > max_class)
				max_class = (uint32_t)ks.class_len;
		}
		/* Windows XP leaves these below the longest subkey (seen in a
		 * real SYSTEM hive); they only size a reader's buffers. */
		if (st.max_subkey_name < max_sub)
			leftover(c, "key 0x%x: max subkey name %u < %u", key,
				 st.max_subkey_name, max_sub);
		if (st.max_subkey_class < max_class)
			leftover(c, "key 0x%x: max subkey class %u < %u", key,
				 st.max_subkey_class, max_class);
		talloc_free(kids);
	}
	if (hive_key_values(NULL, h, key, &vals, &nvals) == HIVE_OK) {
		if (nvals)
			use_cell(c, le32(nk + NK_VALUE_LIST), "value list", key);
		for (size_t i = 0; i < nvals; i++)
			check_value(c, key, vals[i], &max_name, &max_data);
		if (st.max_value_name < max_name)
			finding(c, "key 0x%x: max value name %u < %u", key,
				st.max_value_name, max_name);
		if (st.max_value_data < max_data)
			finding(c, "key 0x%x: max value data %u < %u", key,
				st.max_value_data, max_data);
		talloc_free(vals);
	} else {
		finding(c, "key 0x%x: values: %s", key, hive_error_detail());
	}
	return 0;
}

static int check_on_error(void *arg, hive_key_t parent, unsigned depth,
			  hive_key_t child, int err)
{
	struct checker *c = arg;

	if (child == HIVE_NO_CELL)
		finding(c, "key 0x%x: subkey list: %s", parent, hive_error_detail());
	else
		finding(c, "key 0x%x: subkey 0x%x: %s", parent, child,
			err == HIVE_E_CYCLE ? "is its own ancestor"
					    : hive_error_detail());
	return 0;
}

/* Walk the sk list once; compare each reference count with the keys. */
static void check_sk_list(struct checker *c)
{
	struct hive *h = c->h;
	size_t seen = 0;

	if (c->nsks == 0)
		return;
	uint32_t start = c->sks[0].off, sk = start, prev = HIVE_NO_CELL;
	for (;;) {
		const uint8_t *p;
		uint32_t len;
		if (hv_record(h, sk, "sk", SK_FIXED_SIZE, &p, &len) != HIVE_OK) {
			finding(c, "sk list: 0x%x is not an sk cell", sk);
			break;
		}
		if (!use_cell(c, sk, "sk", HIVE_NO_CELL))
			break;
		if (prev != HIVE_NO_CELL && le32(p + SK_BLINK) != prev)
			finding(c, "sk 0x%x: blink 0x%x, expected 0x%x", sk,
				le32(p + SK_BLINK), prev);
		if (le32(p + SK_DESCRIPTOR_SIZE) > len - SK_FIXED_SIZE)
			finding(c, "sk 0x%x: descriptor exceeds its cell", sk);
		uint32_t keys = 0;
		for (size_t i = 0; i < c->nsks; i++)
			if (c->sks[i].off == sk)
				keys = c->sks[i].keys, seen++;
		if (le32(p + SK_REFCOUNT) < keys)
			finding(c, "sk 0x%x: reference count %u, used by %u keys", sk,
				le32(p + SK_REFCOUNT), keys);
		else if (le32(p + SK_REFCOUNT) > keys)
			leftover(c, "sk 0x%x: reference count %u, used by %u keys", sk,
				 le32(p + SK_REFCOUNT), keys);
		prev = sk;
		sk = le32(p + SK_FLINK);
		if (sk == start) {
			if (hv_record(h, start, "sk", SK_FIXED_SIZE, &p, &len) ==
				    HIVE_OK && le32(p + SK_BLINK) != prev)
				finding(c, "sk 0x%x: blink 0x%x, expected 0x%x", start,
					le32(p + SK_BLINK), prev);
			break;
		}
		if (find_cell(c, sk) && find_cell(c, sk)->refs > 0) {
			finding(c, "sk list loops back to 0x%x", sk);
			break;
		}
	}
	if (seen != c->nsks)
		finding(c, "%zu security descriptors in use are not in the sk list",
			c->nsks - seen);
}

static unsigned check(struct checker c);

unsigned hive_check(struct hive *h,
		    void (*report)(void *arg, const char *finding), void *arg)
{
	return check((struct checker){ .h = h, .report = report, .arg = arg });
}

unsigned hive_check_tolerant(struct hive *h,
			     void (*report)(void *arg, const char *finding),
			     void (*note)(void *arg, const char *text), void *arg)
{
	return check((struct checker){ .h = h, .report = report, .note = note,
				       .arg = arg, .tolerant = true });
}

static unsigned check(struct checker c)
{
	struct hive *h = c.h;
	const struct hive_walk_ops ops = { check_on_key, NULL, check_on_error };
	uint32_t stored = le32(h->image + REGF_CHECKSUM);

	if (stored != hv_header_checksum(h->image))
		finding(&c, "base block checksum 0x%08x, computed 0x%08x", stored,
			hv_header_checksum(h->image));
	if (h->damaged_bins)
		finding(&c, "%u hive bins have damaged headers", h->damaged_bins);
	scan_cells(&c);
	if (!c.cells) {
		finding(&c, "out of memory");
		return c.findings;
	}
	hive_walk(h, h->root, &ops, &c);
	check_sk_list(&c);
	for (size_t i = 0; i < c.ncells; i++) {
		if (c.cells[i].refs == 0)
			leftover(&c, "cell 0x%x is allocated but unreachable",
				 c.cells[i].off);
		else if (c.cells[i].refs > 1)
			finding(&c, "cell 0x%x is referenced %u times",
				c.cells[i].off, c.cells[i].refs);
	}
	talloc_free(c.cells);
	talloc_free(c.sks);
	return c.findings;
}
