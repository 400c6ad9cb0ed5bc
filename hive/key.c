/*
 * key.c — keys (nk records) and their subkey lists.
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
 * (`hivectl check` still reports the leaf referenced twice).
 */
#include <talloc.h>

#include "layout.h"

int hive_key_record(const struct hive *h, hive_key_t key,
		    const uint8_t **nk, uint32_t *len)
{
	int ret = hive_record(h, key, "nk", NK_FIXED_SIZE, nk, len);

	if (ret != HIVE_OK)
		return ret;
	if (le16(*nk + NK_NAME_LEN) > *len - NK_FIXED_SIZE)
		return HIVE_FAIL(HIVE_E_BOUNDS,
				 "key 0x%x: name of %u bytes exceeds its cell", key,
				 le16(*nk + NK_NAME_LEN));
	return HIVE_OK;
}

int hive_key_stored_name(const struct hive *h, hive_key_t key,
			 struct stored_name *name)
{
	const uint8_t *nk;
	uint32_t len;
	int ret = hive_key_record(h, key, &nk, &len);

	if (ret != HIVE_OK)
		return ret;
	name->bytes = nk + NK_NAME;
	name->len = le16(nk + NK_NAME_LEN);
	name->latin1 = (le16(nk + NK_FLAGS) & HIVE_KEY_COMP_NAME) != 0;
	return HIVE_OK;
}

int hive_key_stat(struct hive *h, hive_key_t key, struct hive_key_stat *st)
{
	const uint8_t *nk;
	uint32_t len;
	int ret = hive_key_record(h, key, &nk, &len);
	struct stored_name name;

	if (ret != HIVE_OK)
		return ret;
	name.bytes = nk + NK_NAME;
	name.len = le16(nk + NK_NAME_LEN);
	name.latin1 = (le16(nk + NK_FLAGS) & HIVE_KEY_COMP_NAME) != 0;
	memset(st, 0, sizeof(*st));
	st->last_write = le64(nk + NK_LAST_WRITE);
	st->flags = le16(nk + NK_FLAGS);
	st->access_bits = le32(nk + NK_ACCESS_BITS);
	st->parent = le32(nk + NK_PARENT);
	st->subkey_count = le32(nk + NK_SUBKEY_COUNT);
	st->value_count = le32(nk + NK_VALUE_COUNT);
	st->name_len = stored_name_units(&name);
	st->class_len = le32(nk + NK_CLASS) == HIVE_NO_CELL ? 0
							    : le16(nk + NK_CLASS_LEN);
	st->max_subkey_name = le32(nk + NK_MAX_SUBKEY_NAME) & 0xFFFFu;
	st->max_subkey_class = le32(nk + NK_MAX_SUBKEY_CLASS);
	st->max_value_name = le32(nk + NK_MAX_VALUE_NAME);
	st->max_value_data = le32(nk + NK_MAX_VALUE_DATA);
	return HIVE_OK;
}

int hive_key_name(void *mem, struct hive *h, hive_key_t key,
		  uint16_t **name, size_t *len)
{
	struct stored_name n;
	int ret = hive_key_stored_name(h, key, &n);

	return ret != HIVE_OK ? ret : stored_name_copy(mem, &n, name, len);
}

int hive_key_class(void *mem, struct hive *h, hive_key_t key,
		   uint8_t **data, size_t *len)
{
	const uint8_t *nk, *cls;
	uint32_t nk_len, cls_len, off;
	uint16_t want;
	int ret = hive_key_record(h, key, &nk, &nk_len);

	if (ret != HIVE_OK)
		return ret;
	off = le32(nk + NK_CLASS);
	want = le16(nk + NK_CLASS_LEN);
	if (off == HIVE_NO_CELL || want == 0) {
		*data = talloc_size(mem, 1);
		*len = 0;
		return *data ? HIVE_OK : HIVE_FAIL(HIVE_E_NOMEM, "class");
	}
	ret = hive_cell(h, off, &cls, &cls_len);
	if (ret != HIVE_OK)
		return ret;
	if (want > cls_len)
		return HIVE_FAIL(HIVE_E_BOUNDS,
				 "key 0x%x: class of %u bytes exceeds its cell", key,
				 want);
	*data = talloc_memdup(mem, cls, want);
	*len = want;
	return *data ? HIVE_OK : HIVE_FAIL(HIVE_E_NOMEM, "class");
}

int hive_key_security(void *mem, struct hive *h, hive_key_t key,
		      uint8_t **sd, size_t *len)
{
	const uint8_t *nk, *sk;
	uint32_t nk_len, sk_len, size;
	int ret = hive_key_record(h, key, &nk, &nk_len);

	if (ret != HIVE_OK)
		return ret;
	if (le32(nk + NK_SECURITY) == HIVE_NO_CELL) {
		*sd = talloc_size(mem, 1);
		*len = 0;
		return *sd ? HIVE_OK : HIVE_FAIL(HIVE_E_NOMEM, "descriptor");
	}
	ret = hive_record(h, le32(nk + NK_SECURITY), "sk", SK_FIXED_SIZE, &sk,
			  &sk_len);
	if (ret != HIVE_OK)
		return ret;
	size = le32(sk + SK_DESCRIPTOR_SIZE);
	if (size > sk_len - SK_FIXED_SIZE)
		return HIVE_FAIL(HIVE_E_BOUNDS,
				 "key 0x%x: descriptor of %u bytes exceeds its cell",
				 key, size);
	*sd = talloc_memdup(mem, sk + SK_DESCRIPTOR, size ? size : 1);
	*len = size;
	return *sd ? HIVE_OK : HIVE_FAIL(HIVE_E_NOMEM, "descriptor");
}

/* ---- subkey lists ---- */

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
	int ret = hive_cell(h, off, &p, &len);

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
	int ret = hive_key_record(h, key, &nk, &len);

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
	int ret = hive_key_stored_name(h, child, &n);

	if (ret == HIVE_OK)
		*cmp = -stored_name_compare(&n, name, len);
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
		if (hive_key_stored_name(h, keys[i - 1], &a) != HIVE_OK ||
		    hive_key_stored_name(h, keys[i], &b) != HIVE_OK ||
		    stored_name_copy(NULL, &b, &bn, &bl) != HIVE_OK) {
			sorted = false;
			break;
		}
		sorted = stored_name_compare(&a, bn, bl) < 0;
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

int hive_key_lookup_path(struct hive *h, hive_key_t start, const char *path,
			 hive_key_t *out)
{
	hive_key_t key = start;
	unsigned depth = 0;

	while (*path) {
		const char *end = strchr(path, '\\');
		size_t clen = end ? (size_t)(end - path) : strlen(path);
		uint16_t *name;
		size_t nlen;
		int ret;

		if (clen > 0) {
			if (++depth > HIVE_MAX_DEPTH)
				return HIVE_FAIL(HIVE_E_TOO_BIG, "path deeper than %u",
						 HIVE_MAX_DEPTH);
			ret = hive_utf8_to_utf16(NULL, path, clen, &name, &nlen);
			if (ret != HIVE_OK)
				return ret;
			ret = hive_key_lookup(h, key, name, nlen, &key);
			talloc_free(name);
			if (ret != HIVE_OK)
				return ret == HIVE_E_NOT_FOUND
					       ? HIVE_FAIL(ret, "no key '%.*s'",
							   (int)clen, path)
					       : ret;
		}
		path += clen;
		if (*path == '\\')
			path++;
	}
	*out = key;
	return HIVE_OK;
}
