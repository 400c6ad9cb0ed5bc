/*
 * sublist.c — subkey lists: reading them (listing, lookup) and building
 * them (insert, remove, rebuild); the one place that knows their format.
 *
 * A key's subkeys hang from one list cell: a leaf (li: offsets; lf: offset
 * plus a 4-byte name hint; lh: offset plus the name hash) or an index (ri)
 * of leaves.  Windows keeps every leaf, and the leaves of an index in turn,
 * sorted by upcased name, which lookup exploits with binary searches.  Real
 * hives are not always sound (unsorted lists, duplicate entries), so a
 * lookup that misses falls back to a linear scan before it says "not
 * found": a listed key is always reachable by its name.
 *
 * An ri index that names one leaf more than once would repeat that
 * leaf's entries once per mention: 65535 mentions of a full leaf make an
 * 800 KB hive list four billion subkeys.  The repeats add nothing but
 * copies, so hive_key_subkeys() reads each leaf of an index once, and a
 * list costs what it holds, not what its mentions multiply to
 * (hive_check() still reports the leaf referenced twice).
 *
 * A change edits a list in place where its shape allows, and otherwise
 * rewrites it whole: the entries are read out (in order), the change is
 * applied to that array, and fresh list cells are built before the old
 * ones are freed, so a failed allocation leaves the hive as it was.  The
 * kind follows the file's version (lf up to 1.4, lh from 1.5) and a list
 * longer than LEAF_MAX entries becomes an ri index over leaves of equal
 * size — and goes back to one leaf as it shrinks.  Sorting uses Windows'
 * upcase rule, compared by code unit.
 */
#include <talloc.h>

#include "layout.h"

#define LEAF_MAX 500u

/* ---- reading ---- */

struct list_view {
	const uint8_t *entries;
	uint32_t count;
	uint32_t stride;        /* 4 for li and ri, 8 for lf and lh */
	bool index;             /* ri */
	bool hashed;            /* lh */
};

static int list_open(const struct hive *h, uint32_t off, struct list_view *v)
{
	const uint8_t *p;
	uint32_t len;
	int ret = hv_cell(h, off, &p, &len);

	if (ret != HIVE_OK)
		return ret;
	if (len < LIST_ENTRIES)
		return HIVE_FAIL(HIVE_E_CORRUPT, "subkey list 0x%x too short", off);
	memset(v, 0, sizeof(*v));
	if (memcmp(p, "li", 2) == 0 || memcmp(p, "ri", 2) == 0) {
		v->stride = 4;
		v->index = p[0] == 'r';
	} else if (memcmp(p, "lf", 2) == 0 || memcmp(p, "lh", 2) == 0) {
		v->stride = 8;
		v->hashed = p[1] == 'h';
	} else {
		return HIVE_FAIL(HIVE_E_CORRUPT,
				 "cell 0x%x is not a subkey list (signature %02x %02x)",
				 off, p[0], p[1]);
	}
	v->count = le16(p + LIST_COUNT);
	if ((uint64_t)v->count * v->stride > len - LIST_ENTRIES)
		return HIVE_FAIL(HIVE_E_BOUNDS,
				 "subkey list 0x%x: %u entries exceed its cell", off,
				 v->count);
	v->entries = p + LIST_ENTRIES;
	return HIVE_OK;
}

static inline uint32_t list_entry(const struct list_view *v, uint32_t i)
{
	return le32(v->entries + (size_t)i * v->stride);
}

static int list_open_leaf(const struct hive *h, uint32_t off,
			  struct list_view *v)
{
	int ret = list_open(h, off, v);

	if (ret == HIVE_OK && v->index)
		return HIVE_FAIL(HIVE_E_CORRUPT,
				 "ri index 0x%x nested in another ri", off);
	return ret;
}

static int key_list_root(const struct hive *h, hive_key_t key, uint32_t *list,
			 uint32_t *count)
{
	const uint8_t *nk;
	uint32_t len;
	int ret = hv_key_record(h, key, &nk, &len);

	if (ret != HIVE_OK)
		return ret;
	*count = le32(nk + NK_SUBKEY_COUNT);
	*list = le32(nk + NK_SUBKEY_LIST);
	return HIVE_OK;
}

/*
 * Has an earlier entry of the index named this leaf?  `seen` is a table of
 * mask + 1 slots holding leaf offset + 1 (0 empty); the leaf is added.
 */
static bool leaf_seen(uint64_t *seen, size_t mask, uint32_t leaf)
{
	size_t s = (size_t)((leaf * 0x9E3779B1u) ^ (leaf >> 16)) & mask;

	for (; seen[s]; s = (s + 1) & mask)
		if (seen[s] == (uint64_t)leaf + 1)
			return true;
	seen[s] = (uint64_t)leaf + 1;
	return false;
}

int hive_key_subkeys(void *mem, struct hive *h, hive_key_t key,
		     hive_key_t **keys, size_t *count)
{
	struct list_view top, leaf;
	uint32_t list, stored_count;
	hive_key_t *out = NULL;
	uint64_t *seen = NULL;
	size_t n = 0, cap, mask = 0;
	int ret = key_list_root(h, key, &list, &stored_count);

	if (ret != HIVE_OK)
		return ret;
	if (stored_count == 0) {
		*keys = talloc_array(mem, hive_key_t, 1);
		*count = 0;
		return *keys ? HIVE_OK : HIVE_FAIL(HIVE_E_NOMEM, "subkeys");
	}
	ret = list_open(h, list, &top);
	if (ret != HIVE_OK)
		return ret;
	/* The stored count is a guess to start from, not a promise. */
	cap = top.index ? stored_count : top.count;
	if (cap > (1u << 16))
		cap = 1u << 16;
	out = talloc_array(mem, hive_key_t, cap + 1);
	if (!out)
		return HIVE_FAIL(HIVE_E_NOMEM, "%zu subkeys", cap);
	if (top.index && top.count > 1) {
		size_t slots = 16;

		while (slots < 2 * (size_t)top.count)
			slots *= 2;
		mask = slots - 1;
		seen = talloc_zero_array(out, uint64_t, slots);
		if (!seen) {
			talloc_free(out);
			return HIVE_FAIL(HIVE_E_NOMEM, "ri index");
		}
	}
	for (uint32_t i = 0; i < top.count; i++) {
		const struct list_view *v = &top;
		uint32_t first = i, last = i + 1;

		if (top.index) {
			if (seen && leaf_seen(seen, mask, list_entry(&top, i)))
				continue; /* its entries are listed already */
			ret = list_open_leaf(h, list_entry(&top, i), &leaf);
			if (ret != HIVE_OK)
				goto fail;
			v = &leaf;
			first = 0;
			last = leaf.count;
		}
		for (uint32_t j = first; j < last; j++) {
			if (n == cap) {
				hive_key_t *grown;

				if (cap >= MAX_SUBKEYS_PER_KEY) {
					ret = HIVE_FAIL(HIVE_E_TOO_BIG,
							"key 0x%x: over %u subkeys",
							key, MAX_SUBKEYS_PER_KEY);
					goto fail;
				}
				cap = cap * 2 + 16;
				if (cap > MAX_SUBKEYS_PER_KEY)
					cap = MAX_SUBKEYS_PER_KEY;
				grown = talloc_realloc(mem, out, hive_key_t, cap + 1);
				if (!grown) {
					ret = HIVE_FAIL(HIVE_E_NOMEM, "subkeys");
					goto fail;
				}
				out = grown;
			}
			out[n++] = list_entry(v, j);
		}
	}
	talloc_free(seen);
	*keys = out;
	*count = n;
	return HIVE_OK;
fail:
	talloc_free(out);
	return ret;
}

/* Compare `name` with the name of the key at `child` (child's name second). */
static int compare_child(const struct hive *h, hive_key_t child,
			 const uint16_t *name, size_t len, int *cmp)
{
	struct stored_name n;
	int ret = hv_key_stored_name(h, child, &n);

	if (ret == HIVE_OK)
		*cmp = -hv_stored_name_compare(&n, name, len);
	return ret;
}

/* Binary search of one sorted leaf.  HIVE_E_NOT_FOUND if absent. */
static int leaf_search(const struct hive *h, const struct list_view *leaf,
		       const uint16_t *name, size_t len, hive_key_t *child)
{
	uint32_t lo = 0, hi = leaf->count;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int cmp, ret = compare_child(h, list_entry(leaf, mid), name, len,
					     &cmp);
		if (ret != HIVE_OK)
			return ret;
		if (cmp == 0) {
			*child = list_entry(leaf, mid);
			return HIVE_OK;
		}
		if (cmp < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return HIVE_E_NOT_FOUND;
}

static int sorted_search(const struct hive *h, uint32_t list,
			 const uint16_t *name, size_t len, hive_key_t *child)
{
	struct list_view top, leaf;
	int ret = list_open(h, list, &top);

	if (ret != HIVE_OK)
		return ret;
	if (!top.index)
		return leaf_search(h, &top, name, len, child);
	/*
	 * The leaves of an index are in order too: find the first whose last
	 * entry is not below the name, by bisection (a key with 100 000
	 * subkeys has 200 leaves, and a walk looks each subkey up).  An empty
	 * leaf has no last entry: then one leaf after another.
	 */
	for (uint32_t lo = 0, hi = top.count; lo < hi;) {
		uint32_t mid = lo + (hi - lo) / 2;
		int cmp;

		ret = list_open_leaf(h, list_entry(&top, mid), &leaf);
		if (ret != HIVE_OK)
			return ret;
		if (leaf.count == 0)
			break;
		ret = compare_child(h, list_entry(&leaf, leaf.count - 1), name,
				    len, &cmp);
		if (ret != HIVE_OK)
			return ret;
		if (cmp <= 0)
			hi = mid;
		else
			lo = mid + 1;
		if (lo == hi) {
			if (lo == top.count)
				return HIVE_E_NOT_FOUND;
			ret = list_open_leaf(h, list_entry(&top, lo), &leaf);
			if (ret != HIVE_OK)
				return ret;
			return leaf_search(h, &leaf, name, len, child);
		}
	}
	for (uint32_t i = 0; i < top.count; i++) {
		int cmp;

		ret = list_open_leaf(h, list_entry(&top, i), &leaf);
		if (ret != HIVE_OK)
			return ret;
		if (leaf.count == 0)
			continue;
		ret = compare_child(h, list_entry(&leaf, leaf.count - 1), name,
				    len, &cmp);
		if (ret != HIVE_OK)
			return ret;
		if (cmp <= 0)
			return leaf_search(h, &leaf, name, len, child);
	}
	return HIVE_E_NOT_FOUND;
}

static int linear_search(struct hive *h, hive_key_t parent,
			 const uint16_t *name, size_t len, hive_key_t *child)
{
	void *tmp = talloc_new(NULL);
	hive_key_t *keys;
	size_t n;
	int ret = tmp ? hive_key_subkeys(tmp, h, parent, &keys, &n)
		      : HIVE_FAIL(HIVE_E_NOMEM, "lookup");

	if (ret == HIVE_OK) {
		ret = HIVE_E_NOT_FOUND;
		for (size_t i = 0; i < n; i++) {
			int cmp;
			if (compare_child(h, keys[i], name, len, &cmp) == HIVE_OK &&
			    cmp == 0) {
				*child = keys[i];
				ret = HIVE_OK;
				break;
			}
		}
	}
	talloc_free(tmp);
	return ret;
}

enum { ORDER_UNKNOWN, ORDER_SORTED, ORDER_UNSORTED };

/*
 * Whether a key's list is in strictly ascending order, decided once per
 * list (one pass over its names) and remembered.  The engine only ever
 * writes sorted lists, so a remembered answer can only be pessimistic.
 */
static bool list_is_sorted(struct hive *h, hive_key_t parent, uint32_t list)
{
	unsigned slot = (list >> 3) % ORDER_CACHE_SIZE;
	hive_key_t *keys;
	size_t n;
	bool sorted = true;

	if (h->order_cache[slot].list == list &&
	    h->order_cache[slot].state != ORDER_UNKNOWN)
		return h->order_cache[slot].state == ORDER_SORTED;
	if (hive_key_subkeys(NULL, h, parent, &keys, &n) != HIVE_OK)
		return false;
	for (size_t i = 1; i < n && sorted; i++) {
		struct stored_name a, b;
		uint16_t *bn;
		size_t bl;
		if (hv_key_stored_name(h, keys[i - 1], &a) != HIVE_OK ||
		    hv_key_stored_name(h, keys[i], &b) != HIVE_OK ||
		    hv_stored_name_copy(NULL, &b, &bn, &bl) != HIVE_OK) {
			sorted = false;
			break;
		}
		sorted = hv_stored_name_compare(&a, bn, bl) < 0;
		talloc_free(bn);
	}
	talloc_free(keys);
	h->order_cache[slot].list = list;
	h->order_cache[slot].state = sorted ? ORDER_SORTED : ORDER_UNSORTED;
	return sorted;
}

int hive_key_lookup(struct hive *h, hive_key_t parent,
		    const uint16_t *name, size_t len, hive_key_t *child)
{
	uint32_t list, count;
	int ret = key_list_root(h, parent, &list, &count);

	if (ret != HIVE_OK)
		return ret;
	if (count == 0)
		return HIVE_E_NOT_FOUND;
	ret = sorted_search(h, list, name, len, child);
	if (ret == HIVE_OK)
		return HIVE_OK;
	if (ret == HIVE_E_NOT_FOUND && list_is_sorted(h, parent, list))
		return HIVE_E_NOT_FOUND;
	/* Unsorted or partly damaged list: still find what a listing shows. */
	ret = linear_search(h, parent, name, len, child);
	if (ret == HIVE_E_NOT_FOUND)
		return HIVE_E_NOT_FOUND; /* a normal outcome, not a failure */
	return ret;
}

/* ---- building ---- */

static void fill_leaf_entry(struct hive *h, uint8_t *entry, hive_key_t key,
			    bool hashed)
{
	struct stored_name n = { 0 };

	put_le32(entry, key);
	hv_key_stored_name(h, key, &n);
	if (hashed) {
		put_le32(entry + 4, hv_stored_name_hash(&n));
	} else {
		/* lf hint: the first four characters, as bytes, zero padded. */
		uint8_t hint[4] = { 0 };
		for (size_t i = 0; i < 4 && i < hv_stored_name_units(&n); i++)
			hint[i] = (uint8_t)hv_stored_name_unit(&n, i);
		memcpy(entry + 4, hint, 4);
	}
}

static int build_leaf(struct hive *h, const hive_key_t *keys, uint32_t n,
		      uint32_t *out)
{
	bool hashed = h->minor >= 5;
	uint32_t cell;
	int ret = hv_alloc(h, LIST_ENTRIES + 8 * n, &cell);

	if (ret != HIVE_OK)
		return ret;
	uint8_t *p = hv_cell_w(h, cell);
	memcpy(p, hashed ? "lh" : "lf", 2);
	put_le16(p + LIST_COUNT, (uint16_t)n);
	for (uint32_t i = 0; i < n; i++)
		fill_leaf_entry(h, p + LIST_ENTRIES + 8 * i, keys[i], hashed);
	*out = cell;
	return HIVE_OK;
}

void hv_subkey_list_free(struct hive *h, uint32_t list)
{
	const uint8_t *p;
	uint32_t len;

	if (list == HIVE_NO_CELL || hv_cell(h, list, &p, &len) != HIVE_OK)
		return;
	if (len >= LIST_ENTRIES && memcmp(p, "ri", 2) == 0) {
		uint32_t count = le16(p + LIST_COUNT);
		if (count > (len - LIST_ENTRIES) / 4)
			count = (len - LIST_ENTRIES) / 4;
		for (uint32_t i = 0; i < count; i++) {
			const uint8_t *leaf;
			uint32_t leaf_len, off = le32(p + LIST_ENTRIES + 4 * i);
			if (hv_cell(h, off, &leaf, &leaf_len) == HIVE_OK)
				hv_free(h, off);
		}
	}
	hv_free(h, list);
}

/* Build list cells for `n` sorted keys; *out = HIVE_NO_CELL when n == 0. */
static int build_list(struct hive *h, const hive_key_t *keys, size_t n,
		      uint32_t *out)
{
	uint32_t leaves, index;
	int ret;

	if (n == 0) {
		*out = HIVE_NO_CELL;
		return HIVE_OK;
	}
	if (n <= LEAF_MAX)
		return build_leaf(h, keys, (uint32_t)n, out);
	leaves = (uint32_t)((n + LEAF_MAX / 2 - 1) / (LEAF_MAX / 2));
	if (leaves > 0xFFFF)
		return HIVE_FAIL(HIVE_E_TOO_BIG, "%zu subkeys", n);
	ret = hv_alloc(h, LIST_ENTRIES + 4 * leaves, &index);
	if (ret != HIVE_OK)
		return ret;
	for (uint32_t i = 0, done = 0; i < leaves; i++) {
		/* Spread evenly: the first leaves take one more if it is uneven. */
		uint32_t take = (uint32_t)((n - done) / (leaves - i));
		uint32_t leaf;
		ret = build_leaf(h, keys + done, take, &leaf);
		if (ret != HIVE_OK) {
			put_le16(hv_cell_w(h, index) + LIST_COUNT, (uint16_t)i);
			memcpy(hv_cell_w(h, index), "ri", 2);
			hv_subkey_list_free(h, index);
			return ret;
		}
		uint8_t *p = hv_cell_w(h, index);
		put_le32(p + LIST_ENTRIES + 4 * i, leaf);
		done += take;
	}
	uint8_t *p = hv_cell_w(h, index);
	memcpy(p, "ri", 2);
	put_le16(p + LIST_COUNT, (uint16_t)leaves);
	*out = index;
	return HIVE_OK;
}

/*
 * A key's maximum subkey name and class lengths from its subkeys: exact
 * after a removal, and after an addition at least the longest (they only
 * grow then, as Windows keeps them).  Both look at every subkey, so a key
 * whose maxima Windows left too small (seen in XP hives) is put right by
 * the first change to its subkeys.
 */
void hv_subkey_maxima_update(struct hive *h, hive_key_t key,
			     const hive_key_t *kids, size_t n, bool exact)
{
	uint32_t max_name = 0, max_class = 0;

	for (size_t i = 0; i < n; i++) {
		struct hive_key_stat st;
		if (hive_key_stat(h, kids[i], &st) != HIVE_OK)
			continue;
		if (st.name_len * 2 > max_name)
			max_name = (uint32_t)st.name_len * 2;
		if (st.class_len > max_class)
			max_class = (uint32_t)st.class_len;
	}
	uint8_t *nk = hv_nk_w(h, key);
	uint32_t field = le32(nk + NK_MAX_SUBKEY_NAME);
	if (!exact && (field & 0xFFFF) > max_name)
		max_name = field & 0xFFFF;
	if (!exact && le32(nk + NK_MAX_SUBKEY_CLASS) > max_class)
		max_class = le32(nk + NK_MAX_SUBKEY_CLASS);
	/* The upper half of the field carries flags Windows keeps there. */
	put_le32(nk + NK_MAX_SUBKEY_NAME, (field & 0xFFFF0000u) | (max_name & 0xFFFF));
	put_le32(nk + NK_MAX_SUBKEY_CLASS, max_class);
}

/* Replace `parent`'s subkey list by the sorted array `kids`. */
static int set_subkeys(struct hive *h, hive_key_t parent, const hive_key_t *kids,
		       size_t n)
{
	uint32_t list, old;
	int ret = build_list(h, kids, n, &list);

	if (ret != HIVE_OK)
		return ret;
	old = le32(hv_nk_w(h, parent) + NK_SUBKEY_LIST);
	if (le32(hv_nk_w(h, parent) + NK_SUBKEY_COUNT) != 0 || old != HIVE_NO_CELL)
		hv_subkey_list_free(h, old);
	uint8_t *nk = hv_nk_w(h, parent);
	put_le32(nk + NK_SUBKEY_LIST, list);
	put_le32(nk + NK_SUBKEY_COUNT, (uint32_t)n);
	return HIVE_OK;
}

/* Position where `key` belongs in the sorted array. */
static size_t sorted_position(struct hive *h, const hive_key_t *kids, size_t n,
			      hive_key_t key)
{
	void *tmp = talloc_new(NULL);
	uint16_t *name;
	size_t len, lo = 0, hi = n;

	if (hive_key_name(tmp, h, key, &name, &len) != HIVE_OK) {
		talloc_free(tmp);
		return n;
	}
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		struct stored_name sn;
		if (hv_key_stored_name(h, kids[mid], &sn) != HIVE_OK ||
		    hv_stored_name_compare(&sn, name, len) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	talloc_free(tmp);
	return lo;
}

/*
 * In-place edits.  A leaf is edited where it is when it is of the kind the
 * version calls for; it grows with some slack (readers go by its count), so
 * a key gaining subkeys one by one rarely moves its list.  An ri index is
 * edited one leaf at a time.  Anything else — a first list, a leaf of the
 * wrong kind, a full leaf, an index shrunk to one leaf's worth — is rebuilt
 * whole, with ri leaves filled to half of LEAF_MAX so that they absorb
 * many inserts before the next rebuild.
 */
#define REBUILD 1 /* not an error: the caller rebuilds the whole list */

static bool leaf_is_native(const struct hive *h, const uint8_t *leaf)
{
	return memcmp(leaf, h->minor >= 5 ? "lh" : "lf", 2) == 0;
}

static int leaf_insert(struct hive *h, uint32_t *leaf, uint32_t pos,
		       hive_key_t key)
{
	const uint8_t *p;
	uint32_t len;
	int ret = hv_cell(h, *leaf, &p, &len);

	if (ret != HIVE_OK)
		return ret;
	uint32_t count = le16(p + LIST_COUNT);
	if (count >= LEAF_MAX || !leaf_is_native(h, p) || pos > count ||
	    LIST_ENTRIES + 8 * count > len)
		return REBUILD;
	if (LIST_ENTRIES + 8 * (count + 1) > len) {
		uint32_t cap = count + 1 + (count / 4 > 4 ? count / 4 : 4);
		if (cap > LEAF_MAX)
			cap = LEAF_MAX;
		ret = hv_realloc(h, leaf, LIST_ENTRIES + 8 * cap);
		if (ret != HIVE_OK)
			return ret;
	}
	uint8_t *w = hv_cell_w(h, *leaf);
	memmove(w + LIST_ENTRIES + 8 * (pos + 1), w + LIST_ENTRIES + 8 * pos,
		8 * (count - pos));
	fill_leaf_entry(h, w + LIST_ENTRIES + 8 * pos, key, h->minor >= 5);
	put_le16(w + LIST_COUNT, (uint16_t)(count + 1));
	return HIVE_OK;
}

/* Remove `key` from the leaf if it is there; *found says whether it was. */
static void leaf_remove(struct hive *h, uint32_t leaf, hive_key_t key,
			bool *found)
{
	const uint8_t *p;
	uint32_t len;

	*found = false;
	if (hv_cell(h, leaf, &p, &len) != HIVE_OK)
		return;
	uint32_t stride = memcmp(p, "li", 2) == 0 ? 4 : 8;
	uint32_t count = le16(p + LIST_COUNT);
	if (len < LIST_ENTRIES || (uint64_t)stride * count > len - LIST_ENTRIES)
		return; /* the shifts below stay inside the cell */
	for (uint32_t i = 0; i < count && LIST_ENTRIES + stride * (i + 1) <= len; i++) {
		if (le32(p + LIST_ENTRIES + stride * i) != key)
			continue;
		uint8_t *w = hv_cell_w(h, leaf);
		memmove(w + LIST_ENTRIES + stride * i, w + LIST_ENTRIES + stride * (i + 1),
			stride * (count - i - 1));
		memset(w + LIST_ENTRIES + stride * (count - 1), 0, stride);
		put_le16(w + LIST_COUNT, (uint16_t)(count - 1));
		*found = true;
		return;
	}
}

/* Try to remove in place; REBUILD if the shape calls for a rebuild. */
static int list_remove_in_place(struct hive *h, uint32_t list, uint32_t count,
				hive_key_t key)
{
	const uint8_t *p;
	uint32_t len;
	bool found;

	if (hv_cell(h, list, &p, &len) != HIVE_OK)
		return REBUILD;
	if (memcmp(p, "ri", 2) != 0) {
		leaf_remove(h, list, key, &found);
		return found ? HIVE_OK : REBUILD;
	}
	if (count - 1 <= LEAF_MAX / 2)
		return REBUILD; /* merge the leaves back into one */
	uint32_t leaves = le16(p + LIST_COUNT);
	for (uint32_t i = 0; i < leaves && LIST_ENTRIES + 4 * (i + 1) <= len; i++) {
		uint32_t leaf = le32(p + LIST_ENTRIES + 4 * i);
		const uint8_t *lp;
		uint32_t llen;
		leaf_remove(h, leaf, key, &found);
		if (!found)
			continue;
		if (hv_cell(h, leaf, &lp, &llen) == HIVE_OK &&
		    le16(lp + LIST_COUNT) == 0) {
			/* Drop the emptied leaf from the index. */
			uint8_t *w = hv_cell_w(h, list);
			memmove(w + LIST_ENTRIES + 4 * i, w + LIST_ENTRIES + 4 * (i + 1),
				4 * (leaves - i - 1));
			put_le32(w + LIST_ENTRIES + 4 * (leaves - 1), 0);
			put_le16(w + LIST_COUNT, (uint16_t)(leaves - 1));
			hv_free(h, leaf);
		}
		return HIVE_OK;
	}
	return REBUILD;
}

/* Try to insert in place at sorted position `pos`; REBUILD otherwise. */
static int list_insert_in_place(struct hive *h, uint32_t list, uint32_t pos,
				hive_key_t key, uint32_t *new_list)
{
	const uint8_t *p;
	uint32_t len;
	int ret;

	*new_list = list;
	if (hv_cell(h, list, &p, &len) != HIVE_OK)
		return REBUILD;
	if (memcmp(p, "ri", 2) != 0)
		return leaf_insert(h, new_list, pos, key);
	uint32_t leaves = le16(p + LIST_COUNT), before = 0;
	for (uint32_t i = 0; i < leaves && LIST_ENTRIES + 4 * (i + 1) <= len; i++) {
		uint32_t leaf = le32(p + LIST_ENTRIES + 4 * i);
		const uint8_t *lp;
		uint32_t llen;
		if (hv_cell(h, leaf, &lp, &llen) != HIVE_OK)
			return REBUILD;
		uint32_t n = le16(lp + LIST_COUNT);
		/* At a boundary the key joins the end of the earlier leaf. */
		if (pos <= before + n || i + 1 == leaves) {
			ret = leaf_insert(h, &leaf, pos - before, key);
			if (ret == HIVE_OK)
				put_le32(hv_cell_w(h, list) + LIST_ENTRIES + 4 * i, leaf);
			return ret;
		}
		before += n;
	}
	return REBUILD;
}

/* Insert (`add` != NO_CELL) and/or remove (`remove` != NO_CELL) a subkey. */
int hv_subkeys_edit(struct hive *h, hive_key_t parent, hive_key_t remove,
		    hive_key_t add)
{
	hive_key_t *kids;
	size_t n, w = 0;
	int ret = hive_key_subkeys(NULL, h, parent, &kids, &n);
	uint32_t list;
	bool rebuild = false;

	/* A parent field may name anything: only a key whose list reads is one. */
	if (ret != HIVE_OK)
		return ret;
	list = le32(hv_nk_w(h, parent) + NK_SUBKEY_LIST);
	if (remove != HIVE_NO_CELL) {
		for (size_t i = 0; i < n; i++)
			if (kids[i] != remove)
				kids[w++] = kids[i];
		if (w < n) {
			if (w == 0) {
				hv_subkey_list_free(h, list);
				list = HIVE_NO_CELL;
			} else if (list_remove_in_place(h, list, (uint32_t)n, remove) != HIVE_OK) {
				rebuild = true;
			}
		}
		n = w;
	}
	if (add != HIVE_NO_CELL) {
		hive_key_t *grown = talloc_realloc(NULL, kids, hive_key_t, n + 1);
		if (!grown) {
			talloc_free(kids);
			return HIVE_FAIL(HIVE_E_NOMEM, "subkey list");
		}
		kids = grown;
		size_t pos = sorted_position(h, kids, n, add);
		memmove(kids + pos + 1, kids + pos, (n - pos) * sizeof(*kids));
		kids[pos] = add;
		n++;
		if (!rebuild && n > 1) {
			ret = list_insert_in_place(h, list, (uint32_t)pos, add, &list);
			if (ret != HIVE_OK && ret != REBUILD) {
				talloc_free(kids);
				return ret;
			}
			rebuild = ret == REBUILD;
		} else {
			rebuild = true;
		}
	}
	if (rebuild) {
		ret = set_subkeys(h, parent, kids, n);
	} else {
		uint8_t *nk = hv_nk_w(h, parent);
		put_le32(nk + NK_SUBKEY_LIST, list);
		put_le32(nk + NK_SUBKEY_COUNT, (uint32_t)n);
	}
	if (ret == HIVE_OK) {
		hv_subkey_maxima_update(h, parent, kids, n, add == HIVE_NO_CELL);
		hv_touch_key(h, parent);
	}
	talloc_free(kids);
	return ret;
}
