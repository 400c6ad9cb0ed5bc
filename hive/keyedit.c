/*
 * keyedit.c — creating, deleting, renaming and moving keys; classes, times
 * and security descriptors.
 *
 * Subkey lists are rewritten whole on every change: the entries are read
 * out (in order), the change is applied to that array, and fresh list
 * cells are built before the old ones are freed, so a failed allocation
 * leaves the hive as it was.  The kind follows the file's version (lf up to
 * 1.4, lh from 1.5) and a list longer than LEAF_MAX entries becomes an ri
 * index over leaves of equal size — and goes back to one leaf as it
 * shrinks.  Sorting uses Windows' upcase rule, compared by code unit.
 *
 * Security descriptors live in sk cells shared by every key that uses the
 * same bytes; all sk cells form one circular list (flink/blink) and each
 * counts the keys referring to it.  A key takes its parent's sk on
 * creation; an sk whose count drops to zero is unlinked and freed.
 */
#include <talloc.h>

#include "layout.h"

#define LEAF_MAX 500u

/* ---- subkey lists ---- */

static void fill_leaf_entry(struct hive *h, uint8_t *entry, hive_key_t key,
			    bool hashed)
{
	struct stored_name n = { 0 };

	put_le32(entry, key);
	hive_key_stored_name(h, key, &n);
	if (hashed) {
		put_le32(entry + 4, stored_name_hash(&n));
	} else {
		/* lf hint: the first four characters, as bytes, zero padded. */
		uint8_t hint[4] = { 0 };
		for (size_t i = 0; i < 4 && i < stored_name_units(&n); i++)
			hint[i] = (uint8_t)stored_name_unit(&n, i);
		memcpy(entry + 4, hint, 4);
	}
}

static int build_leaf(struct hive *h, const hive_key_t *keys, uint32_t n,
		      uint32_t *out)
{
	bool hashed = h->minor >= 5;
	uint32_t cell;
	int ret = hive_alloc(h, LIST_ENTRIES + 8 * n, &cell);

	if (ret != HIVE_OK)
		return ret;
	uint8_t *p = hive_cell_w(h, cell);
	memcpy(p, hashed ? "lh" : "lf", 2);
	put_le16(p + LIST_COUNT, (uint16_t)n);
	for (uint32_t i = 0; i < n; i++)
		fill_leaf_entry(h, p + LIST_ENTRIES + 8 * i, keys[i], hashed);
	*out = cell;
	return HIVE_OK;
}

static void free_list_cells(struct hive *h, uint32_t list)
{
	const uint8_t *p;
	uint32_t len;

	if (list == HIVE_NO_CELL || hive_cell(h, list, &p, &len) != HIVE_OK)
		return;
	if (len >= LIST_ENTRIES && memcmp(p, "ri", 2) == 0) {
		uint32_t count = le16(p + LIST_COUNT);
		if (count > (len - LIST_ENTRIES) / 4)
			count = (len - LIST_ENTRIES) / 4;
		for (uint32_t i = 0; i < count; i++) {
			const uint8_t *leaf;
			uint32_t leaf_len, off = le32(p + LIST_ENTRIES + 4 * i);
			if (hive_cell(h, off, &leaf, &leaf_len) == HIVE_OK)
				hive_free(h, off);
		}
	}
	hive_free(h, list);
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
	ret = hive_alloc(h, LIST_ENTRIES + 4 * leaves, &index);
	if (ret != HIVE_OK)
		return ret;
	for (uint32_t i = 0, done = 0; i < leaves; i++) {
		/* Spread evenly: the first leaves take one more if it is uneven. */
		uint32_t take = (uint32_t)((n - done) / (leaves - i));
		uint32_t leaf;
		ret = build_leaf(h, keys + done, take, &leaf);
		if (ret != HIVE_OK) {
			put_le16(hive_cell_w(h, index) + LIST_COUNT, (uint16_t)i);
			memcpy(hive_cell_w(h, index), "ri", 2);
			free_list_cells(h, index);
			return ret;
		}
		uint8_t *p = hive_cell_w(h, index);
		put_le32(p + LIST_ENTRIES + 4 * i, leaf);
		done += take;
	}
	uint8_t *p = hive_cell_w(h, index);
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
static void update_subkey_maxima(struct hive *h, hive_key_t key,
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
	uint8_t *nk = hive_nk_w(h, key);
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
	old = le32(hive_nk_w(h, parent) + NK_SUBKEY_LIST);
	if (le32(hive_nk_w(h, parent) + NK_SUBKEY_COUNT) != 0 || old != HIVE_NO_CELL)
		free_list_cells(h, old);
	uint8_t *nk = hive_nk_w(h, parent);
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
		if (hive_key_stored_name(h, kids[mid], &sn) != HIVE_OK ||
		    stored_name_compare(&sn, name, len) < 0)
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
	int ret = hive_cell(h, *leaf, &p, &len);

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
		ret = hive_realloc(h, leaf, LIST_ENTRIES + 8 * cap);
		if (ret != HIVE_OK)
			return ret;
	}
	uint8_t *w = hive_cell_w(h, *leaf);
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
	if (hive_cell(h, leaf, &p, &len) != HIVE_OK)
		return;
	uint32_t stride = memcmp(p, "li", 2) == 0 ? 4 : 8;
	uint32_t count = le16(p + LIST_COUNT);
	if (len < LIST_ENTRIES || (uint64_t)stride * count > len - LIST_ENTRIES)
		return; /* the shifts below stay inside the cell */
	for (uint32_t i = 0; i < count && LIST_ENTRIES + stride * (i + 1) <= len; i++) {
		if (le32(p + LIST_ENTRIES + stride * i) != key)
			continue;
		uint8_t *w = hive_cell_w(h, leaf);
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

	if (hive_cell(h, list, &p, &len) != HIVE_OK)
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
		if (hive_cell(h, leaf, &lp, &llen) == HIVE_OK &&
		    le16(lp + LIST_COUNT) == 0) {
			/* Drop the emptied leaf from the index. */
			uint8_t *w = hive_cell_w(h, list);
			memmove(w + LIST_ENTRIES + 4 * i, w + LIST_ENTRIES + 4 * (i + 1),
				4 * (leaves - i - 1));
			put_le32(w + LIST_ENTRIES + 4 * (leaves - 1), 0);
			put_le16(w + LIST_COUNT, (uint16_t)(leaves - 1));
			hive_free(h, leaf);
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
	if (hive_cell(h, list, &p, &len) != HIVE_OK)
		return REBUILD;
	if (memcmp(p, "ri", 2) != 0)
		return leaf_insert(h, new_list, pos, key);
	uint32_t leaves = le16(p + LIST_COUNT), before = 0;
	for (uint32_t i = 0; i < leaves && LIST_ENTRIES + 4 * (i + 1) <= len; i++) {
		uint32_t leaf = le32(p + LIST_ENTRIES + 4 * i);
		const uint8_t *lp;
		uint32_t llen;
		if (hive_cell(h, leaf, &lp, &llen) != HIVE_OK)
			return REBUILD;
		uint32_t n = le16(lp + LIST_COUNT);
		/* At a boundary the key joins the end of the earlier leaf. */
		if (pos <= before + n || i + 1 == leaves) {
			ret = leaf_insert(h, &leaf, pos - before, key);
			if (ret == HIVE_OK)
				put_le32(hive_cell_w(h, list) + LIST_ENTRIES + 4 * i, leaf);
			return ret;
		}
		before += n;
	}
	return REBUILD;
}

/* Insert (`add` != NO_CELL) and/or remove (`remove` != NO_CELL) a subkey. */
static int edit_subkeys(struct hive *h, hive_key_t parent, hive_key_t remove,
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
	list = le32(hive_nk_w(h, parent) + NK_SUBKEY_LIST);
	if (remove != HIVE_NO_CELL) {
		for (size_t i = 0; i < n; i++)
			if (kids[i] != remove)
				kids[w++] = kids[i];
		if (w < n) {
			if (w == 0) {
				free_list_cells(h, list);
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
		uint8_t *nk = hive_nk_w(h, parent);
		put_le32(nk + NK_SUBKEY_LIST, list);
		put_le32(nk + NK_SUBKEY_COUNT, (uint32_t)n);
	}
	if (ret == HIVE_OK) {
		update_subkey_maxima(h, parent, kids, n, add == HIVE_NO_CELL);
		hive_touch_key(h, parent);
	}
	talloc_free(kids);
	return ret;
}

/* ---- security ---- */

static void sk_release(struct hive *h, uint32_t sk)
{
	const uint8_t *p;
	uint32_t len;

	if (sk == HIVE_NO_CELL ||
	    hive_record(h, sk, "sk", SK_FIXED_SIZE, &p, &len) != HIVE_OK)
		return;
	uint32_t refs = le32(p + SK_REFCOUNT);
	if (refs > 1) {
		put_le32(hive_cell_w(h, sk) + SK_REFCOUNT, refs - 1);
		return;
	}
	uint32_t flink = le32(p + SK_FLINK), blink = le32(p + SK_BLINK);
	if (flink == sk) {
		/* The last descriptor of the hive stays, unreferenced. */
		put_le32(hive_cell_w(h, sk) + SK_REFCOUNT, 0);
		return;
	}
	if (hive_record(h, flink, "sk", SK_FIXED_SIZE, &p, &len) == HIVE_OK &&
	    hive_record(h, blink, "sk", SK_FIXED_SIZE, &p, &len) == HIVE_OK) {
		put_le32(hive_cell_w(h, blink) + SK_FLINK, flink);
		put_le32(hive_cell_w(h, flink) + SK_BLINK, blink);
		hive_free(h, sk);
	}
}

static int sk_retain(struct hive *h, uint32_t sk)
{
	const uint8_t *p;
	uint32_t len;
	int ret = hive_record(h, sk, "sk", SK_FIXED_SIZE, &p, &len);

	if (ret == HIVE_OK)
		put_le32(hive_cell_w(h, sk) + SK_REFCOUNT, le32(p + SK_REFCOUNT) + 1);
	return ret;
}

/* The sk cell holding exactly `sd`, found by walking the list from `start`. */
static uint32_t sk_find(struct hive *h, uint32_t start, const void *sd,
			size_t len)
{
	uint32_t sk = start;

	for (uint32_t steps = 0; steps < h->bins_len / 16; steps++) {
		const uint8_t *p;
		uint32_t plen;
		if (hive_record(h, sk, "sk", SK_FIXED_SIZE, &p, &plen) != HIVE_OK)
			break;
		if (le32(p + SK_DESCRIPTOR_SIZE) == len &&
		    len <= plen - SK_FIXED_SIZE &&
		    memcmp(p + SK_DESCRIPTOR, sd, len) == 0)
			return sk;
		sk = le32(p + SK_FLINK);
		if (sk == start)
			break;
	}
	return HIVE_NO_CELL;
}

/* A new sk cell holding `sd`, linked after `anchor` (or alone). */
static int sk_create(struct hive *h, uint32_t anchor, const void *sd,
		     size_t len, uint32_t *out)
{
	uint32_t sk, next = HIVE_NO_CELL;
	const uint8_t *p;
	uint32_t plen;
	int ret;

	/* Both neighbours get a link written: both must be sk cells. */
	if (anchor != HIVE_NO_CELL &&
	    hive_record(h, anchor, "sk", SK_FIXED_SIZE, &p, &plen) == HIVE_OK) {
		next = le32(p + SK_FLINK);
		ret = hive_record(h, next, "sk", SK_FIXED_SIZE, &p, &plen);
		if (ret != HIVE_OK)
			return HIVE_FAIL(ret, "sk list after 0x%x: %s", anchor,
					 hive_error_detail());
	} else {
		anchor = HIVE_NO_CELL;
	}
	ret = hive_alloc(h, SK_FIXED_SIZE + (uint32_t)len, &sk);
	if (ret != HIVE_OK)
		return ret;
	uint8_t *rec = hive_cell_w(h, sk);
	memcpy(rec, "sk", 2);
	put_le32(rec + SK_REFCOUNT, 0);
	put_le32(rec + SK_DESCRIPTOR_SIZE, (uint32_t)len);
	memcpy(rec + SK_DESCRIPTOR, sd, len);
	if (anchor != HIVE_NO_CELL) {
		put_le32(rec + SK_FLINK, next);
		put_le32(rec + SK_BLINK, anchor);
		put_le32(hive_cell_w(h, anchor) + SK_FLINK, sk);
		put_le32(hive_cell_w(h, next) + SK_BLINK, sk);
	} else {
		put_le32(rec + SK_FLINK, sk);
		put_le32(rec + SK_BLINK, sk);
	}
	*out = sk;
	return HIVE_OK;
}

int hive_key_set_security(struct hive *h, hive_key_t key, const void *sd,
			  size_t len)
{
	const uint8_t *nk;
	uint32_t nk_len, old, anchor, sk;
	int ret = hive_begin_change(h);

	if (ret == HIVE_OK)
		ret = hive_key_record(h, key, &nk, &nk_len);
	if (ret != HIVE_OK)
		return ret;
	if (len < 20 || len > 0xFFFF)
		return HIVE_FAIL(HIVE_E_INVALID,
				 "security descriptor of %zu bytes", len);
	old = le32(nk + NK_SECURITY);
	anchor = old;
	if (hive_key_record(h, h->root, &nk, &nk_len) == HIVE_OK &&
	    le32(nk + NK_SECURITY) != HIVE_NO_CELL)
		anchor = le32(nk + NK_SECURITY);
	sk = anchor == HIVE_NO_CELL ? HIVE_NO_CELL : sk_find(h, anchor, sd, len);
	if (sk == old && sk != HIVE_NO_CELL)
		return HIVE_OK;
	if (sk == HIVE_NO_CELL) {
		ret = sk_create(h, anchor, sd, len, &sk);
		if (ret != HIVE_OK)
			return ret;
	}
	sk_retain(h, sk);
	sk_release(h, old);
	put_le32(hive_nk_w(h, key) + NK_SECURITY, sk);
	hive_touch_key(h, key);
	return HIVE_OK;
}

/* ---- keys ---- */

static int check_key_name(const uint16_t *name, size_t len)
{
	if (len == 0)
		return HIVE_FAIL(HIVE_E_INVALID, "empty key name");
	if (len > HIVE_MAX_KEY_NAME)
		return HIVE_FAIL(HIVE_E_TOO_BIG, "key name of %zu units (at most %u)",
				 len, HIVE_MAX_KEY_NAME);
	for (size_t i = 0; i < len; i++)
		if (name[i] == '\\')
			return HIVE_FAIL(HIVE_E_INVALID,
					 "key names cannot contain '\\'");
	return HIVE_OK;
}

/* Depth of a key below the root, following parent fields (bounded). */
static int key_depth(struct hive *h, hive_key_t key, unsigned *depth)
{
	unsigned d = 0;

	while (key != h->root) {
		const uint8_t *nk;
		uint32_t len;
		int ret = hive_key_record(h, key, &nk, &len);
		if (ret != HIVE_OK)
			return ret;
		if (++d > HIVE_MAX_DEPTH + 1)
			return HIVE_FAIL(HIVE_E_CYCLE, "parent chain of key 0x%x", key);
		key = le32(nk + NK_PARENT);
	}
	*depth = d;
	return HIVE_OK;
}

int hive_key_create(struct hive *h, hive_key_t parent, const uint16_t *name,
		    size_t len, hive_key_t *out)
{
	const uint8_t *pnk;
	uint32_t pnk_len, sk, key;
	unsigned depth;
	hive_key_t existing;
	int ret = hive_begin_change(h);

	if (ret == HIVE_OK)
		ret = check_key_name(name, len);
	if (ret == HIVE_OK)
		ret = hive_key_record(h, parent, &pnk, &pnk_len);
	if (ret != HIVE_OK)
		return ret;
	ret = hive_key_lookup(h, parent, name, len, &existing);
	if (ret == HIVE_OK) {
		*out = existing;
		return HIVE_FAIL(HIVE_E_EXISTS, "key exists");
	}
	if (ret != HIVE_E_NOT_FOUND)
		return ret;
	ret = key_depth(h, parent, &depth);
	if (ret != HIVE_OK)
		return ret;
	if (depth + 1 > HIVE_MAX_DEPTH)
		return HIVE_FAIL(HIVE_E_TOO_BIG, "keys nest at most %u deep",
				 HIVE_MAX_DEPTH);
	if (le32(pnk + NK_SUBKEY_COUNT) >= MAX_SUBKEYS_PER_KEY)
		return HIVE_FAIL(HIVE_E_TOO_BIG, "too many subkeys");
	sk = le32(pnk + NK_SECURITY);

	bool latin1 = hive_name_is_latin1(name, len);
	size_t name_bytes = latin1 ? len : 2 * len;
	ret = hive_alloc(h, NK_FIXED_SIZE + (uint32_t)name_bytes, &key);
	if (ret != HIVE_OK)
		return ret;
	uint8_t *nk = hive_cell_w(h, key);
	memcpy(nk, "nk", 2);
	put_le16(nk + NK_FLAGS, latin1 ? HIVE_KEY_COMP_NAME : 0);
	put_le64(nk + NK_LAST_WRITE, hive_now_filetime());
	put_le32(nk + NK_PARENT, parent);
	put_le32(nk + NK_SUBKEY_LIST, HIVE_NO_CELL);
	put_le32(nk + NK_VOLATILE_SUBKEY_LIST, HIVE_NO_CELL);
	put_le32(nk + NK_VALUE_LIST, HIVE_NO_CELL);
	put_le32(nk + NK_SECURITY, HIVE_NO_CELL);
	put_le32(nk + NK_CLASS, HIVE_NO_CELL);
	put_le16(nk + NK_NAME_LEN, (uint16_t)name_bytes);
	hive_store_name(nk + NK_NAME, name, len, latin1);
	ret = edit_subkeys(h, parent, HIVE_NO_CELL, key);
	if (ret != HIVE_OK) {
		hive_free(h, key);
		return ret;
	}
	if (sk != HIVE_NO_CELL && sk_retain(h, sk) == HIVE_OK)
		put_le32(hive_nk_w(h, key) + NK_SECURITY, sk);
	*out = key;
	return HIVE_OK;
}

int hive_key_delete(struct hive *h, hive_key_t key)
{
	const uint8_t *nk;
	uint32_t nk_len;
	int ret = hive_begin_change(h);

	if (ret == HIVE_OK)
		ret = hive_key_record(h, key, &nk, &nk_len);
	if (ret != HIVE_OK)
		return ret;
	if (key == h->root)
		return HIVE_FAIL(HIVE_E_INVALID, "the root key cannot be deleted");
	if (le32(nk + NK_SUBKEY_COUNT) != 0)
		return HIVE_FAIL(HIVE_E_NOT_EMPTY, "key has %u subkeys",
				 le32(nk + NK_SUBKEY_COUNT));
	hive_key_t parent = le32(nk + NK_PARENT);
	hive_vindex_forget(h, key);
	ret = edit_subkeys(h, parent, key, HIVE_NO_CELL);
	if (ret != HIVE_OK)
		return ret;
	hive_delete_all_values(h, key);
	hive_key_record(h, key, &nk, &nk_len);
	uint32_t cls = le32(nk + NK_CLASS), sk = le32(nk + NK_SECURITY);
	uint32_t list = le32(nk + NK_SUBKEY_LIST);
	const uint8_t *p;
	uint32_t plen;
	if (cls != HIVE_NO_CELL && hive_cell(h, cls, &p, &plen) == HIVE_OK)
		hive_free(h, cls);
	if (list != HIVE_NO_CELL)
		free_list_cells(h, list);
	sk_release(h, sk);
	hive_free(h, key);
	return HIVE_OK;
}

/* Is `key` `ancestor` or below it? */
static int in_subtree(struct hive *h, hive_key_t key, hive_key_t ancestor,
		      bool *inside)
{
	for (unsigned steps = 0; steps <= HIVE_MAX_DEPTH + 1; steps++) {
		const uint8_t *nk;
		uint32_t len;
		if (key == ancestor) {
			*inside = true;
			return HIVE_OK;
		}
		if (key == h->root) {
			*inside = false;
			return HIVE_OK;
		}
		int ret = hive_key_record(h, key, &nk, &len);
		if (ret != HIVE_OK)
			return ret;
		key = le32(nk + NK_PARENT);
	}
	return HIVE_FAIL(HIVE_E_CYCLE, "parent chain too long");
}

struct height_walk {
	unsigned max;
};

static int height_on_key(void *arg, hive_key_t key, unsigned depth)
{
	struct height_walk *w = arg;

	if (depth > w->max)
		w->max = depth;
	return 0;
}

int hive_key_rename(struct hive *h, hive_key_t key, hive_key_t new_parent,
		    const uint16_t *name, size_t len, hive_key_t *moved)
{
	const uint8_t *nk;
	uint32_t nk_len, cell_len;
	hive_key_t old_parent, existing;
	int ret = hive_begin_change(h);

	if (ret == HIVE_OK)
		ret = check_key_name(name, len);
	if (ret == HIVE_OK)
		ret = hive_key_record(h, key, &nk, &nk_len);
	if (ret != HIVE_OK)
		return ret;
	if (key == h->root)
		return HIVE_FAIL(HIVE_E_INVALID, "the root key cannot be renamed");
	old_parent = le32(nk + NK_PARENT);
	if (new_parent == HIVE_NO_CELL)
		new_parent = old_parent;
	if (new_parent != old_parent) {
		bool inside = false;
		unsigned depth;
		struct height_walk hw = { 0 };
		const struct hive_walk_ops ops = { .on_key = height_on_key };

		ret = in_subtree(h, new_parent, key, &inside);
		if (ret != HIVE_OK)
			return ret;
		if (inside)
			return HIVE_FAIL(HIVE_E_INVALID,
					 "cannot move a key into its own subtree");
		ret = key_depth(h, new_parent, &depth);
		if (ret == HIVE_OK)
			ret = hive_walk(h, key, &ops, &hw);
		if (ret != HIVE_OK)
			return ret;
		if (depth + 1 + hw.max > HIVE_MAX_DEPTH)
			return HIVE_FAIL(HIVE_E_TOO_BIG, "keys nest at most %u deep",
					 HIVE_MAX_DEPTH);
	}
	ret = hive_key_lookup(h, new_parent, name, len, &existing);
	if (ret == HIVE_OK && existing != key)
		return HIVE_FAIL(HIVE_E_EXISTS, "a key of that name exists");
	if (ret != HIVE_OK && ret != HIVE_E_NOT_FOUND)
		return ret;

	/* The nk with its new name: in place if it fits, else a new cell. */
	bool latin1 = hive_name_is_latin1(name, len);
	size_t name_bytes = latin1 ? len : 2 * len;
	hive_key_t target = key;
	hive_cell(h, key, &nk, &cell_len);
	if (NK_FIXED_SIZE + name_bytes > cell_len) {
		ret = hive_alloc(h, NK_FIXED_SIZE + (uint32_t)name_bytes, &target);
		if (ret != HIVE_OK)
			return ret;
		memcpy(hive_cell_w(h, target), h->bins + key + CELL_HEADER_SIZE,
		       NK_FIXED_SIZE);
	}
	/* Lists first: they are the only step that can fail from here on. */
	if (new_parent == old_parent) {
		ret = edit_subkeys(h, old_parent, key, HIVE_NO_CELL);
	} else {
		ret = edit_subkeys(h, old_parent, key, HIVE_NO_CELL);
	}
	if (ret != HIVE_OK) {
		if (target != key)
			hive_free(h, target);
		return ret;
	}
	uint8_t *w = hive_nk_w(h, target);
	uint16_t flags = le16(w + NK_FLAGS);
	put_le16(w + NK_FLAGS, latin1 ? flags | HIVE_KEY_COMP_NAME
				       : flags & ~HIVE_KEY_COMP_NAME);
	put_le16(w + NK_NAME_LEN, (uint16_t)name_bytes);
	hive_store_name(w + NK_NAME, name, len, latin1);
	put_le32(w + NK_PARENT, new_parent);
	put_le64(w + NK_LAST_WRITE, hive_now_filetime());
	if (target != key) {
		hive_key_t *kids;
		size_t n;
		if (hive_key_subkeys(NULL, h, target, &kids, &n) == HIVE_OK) {
			for (size_t i = 0; i < n; i++)
				if (hive_key_record(h, kids[i], &nk, &nk_len) == HIVE_OK)
					put_le32(hive_nk_w(h, kids[i]) + NK_PARENT, target);
			talloc_free(kids);
		}
		hive_vindex_forget(h, key);
		hive_free(h, key);
	}
	ret = edit_subkeys(h, new_parent, HIVE_NO_CELL, target);
	if (ret != HIVE_OK) {
		/* Out of space after the key left its old list: put it back
		 * where it was rather than lose it. */
		put_le32(hive_nk_w(h, target) + NK_PARENT, old_parent);
		if (edit_subkeys(h, old_parent, HIVE_NO_CELL, target) != HIVE_OK)
			return HIVE_FAIL(HIVE_E_NOMEM, "key 0x%x lost its parent list",
					 target);
		*moved = target;
		return ret;
	}
	*moved = target;
	return HIVE_OK;
}

int hive_key_set_class(struct hive *h, hive_key_t key, const void *data,
		       size_t len)
{
	const uint8_t *nk, *p;
	uint32_t nk_len, plen, cls = HIVE_NO_CELL, old;
	int ret = hive_begin_change(h);

	if (ret == HIVE_OK)
		ret = hive_key_record(h, key, &nk, &nk_len);
	if (ret != HIVE_OK)
		return ret;
	if (len > 0xFFFF)
		return HIVE_FAIL(HIVE_E_TOO_BIG, "class of %zu bytes", len);
	if (len) {
		ret = hive_alloc(h, (uint32_t)len, &cls);
		if (ret != HIVE_OK)
			return ret;
		memcpy(hive_cell_w(h, cls), data, len);
	}
	hive_key_record(h, key, &nk, &nk_len);
	old = le32(nk + NK_CLASS);
	if (old != HIVE_NO_CELL && hive_cell(h, old, &p, &plen) == HIVE_OK)
		hive_free(h, old);
	uint8_t *w = hive_nk_w(h, key);
	put_le32(w + NK_CLASS, cls);
	put_le16(w + NK_CLASS_LEN, (uint16_t)len);
	hive_touch_key(h, key);
	if (key != h->root) {
		hive_key_t parent = le32(w + NK_PARENT), *kids;
		size_t n;
		if (hive_key_subkeys(NULL, h, parent, &kids, &n) == HIVE_OK) {
			update_subkey_maxima(h, parent, kids, n, true);
			talloc_free(kids);
		}
	}
	return HIVE_OK;
}

int hive_key_set_time(struct hive *h, hive_key_t key, uint64_t filetime)
{
	const uint8_t *nk;
	uint32_t nk_len;
	int ret = hive_begin_change(h);

	if (ret == HIVE_OK)
		ret = hive_key_record(h, key, &nk, &nk_len);
	if (ret == HIVE_OK)
		put_le64(hive_nk_w(h, key) + NK_LAST_WRITE, filetime);
	return ret;
}
