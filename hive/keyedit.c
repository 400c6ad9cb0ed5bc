/*
 * keyedit.c — key changes: creating, deleting, renaming and moving keys;
 * their classes and times.  The subkey lists they touch are sublist.c's,
 * the security descriptors security.c's.
 */
#include <talloc.h>

#include "layout.h"

void hv_touch_key(struct hive *h, hive_key_t key)
{
	put_le64(hv_nk_w(h, key) + NK_LAST_WRITE, hv_now_filetime());
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
		int ret = hv_key_record(h, key, &nk, &len);
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
	int ret = hv_begin_change(h);

	if (ret == HIVE_OK)
		ret = check_key_name(name, len);
	if (ret == HIVE_OK)
		ret = hv_key_record(h, parent, &pnk, &pnk_len);
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

	bool latin1 = hv_name_is_latin1(name, len);
	size_t name_bytes = latin1 ? len : 2 * len;
	ret = hv_alloc(h, NK_FIXED_SIZE + (uint32_t)name_bytes, &key);
	if (ret != HIVE_OK)
		return ret;
	uint8_t *nk = hv_cell_w(h, key);
	memcpy(nk, "nk", 2);
	put_le16(nk + NK_FLAGS, latin1 ? HIVE_KEY_COMP_NAME : 0);
	put_le64(nk + NK_LAST_WRITE, hv_now_filetime());
	put_le32(nk + NK_PARENT, parent);
	put_le32(nk + NK_SUBKEY_LIST, HIVE_NO_CELL);
	put_le32(nk + NK_VOLATILE_SUBKEY_LIST, HIVE_NO_CELL);
	put_le32(nk + NK_VALUE_LIST, HIVE_NO_CELL);
	put_le32(nk + NK_SECURITY, HIVE_NO_CELL);
	put_le32(nk + NK_CLASS, HIVE_NO_CELL);
	put_le16(nk + NK_NAME_LEN, (uint16_t)name_bytes);
	hv_store_name(nk + NK_NAME, name, len, latin1);
	ret = hv_subkeys_edit(h, parent, HIVE_NO_CELL, key);
	if (ret != HIVE_OK) {
		hv_free(h, key);
		return ret;
	}
	if (sk != HIVE_NO_CELL && hv_sk_retain(h, sk) == HIVE_OK)
		put_le32(hv_nk_w(h, key) + NK_SECURITY, sk);
	*out = key;
	return HIVE_OK;
}

int hive_key_delete(struct hive *h, hive_key_t key)
{
	const uint8_t *nk;
	uint32_t nk_len;
	int ret = hv_begin_change(h);

	if (ret == HIVE_OK)
		ret = hv_key_record(h, key, &nk, &nk_len);
	if (ret != HIVE_OK)
		return ret;
	if (key == h->root)
		return HIVE_FAIL(HIVE_E_INVALID, "the root key cannot be deleted");
	if (le32(nk + NK_SUBKEY_COUNT) != 0)
		return HIVE_FAIL(HIVE_E_NOT_EMPTY, "key has %u subkeys",
				 le32(nk + NK_SUBKEY_COUNT));
	hive_key_t parent = le32(nk + NK_PARENT);
	hv_vindex_forget(h, key);
	ret = hv_subkeys_edit(h, parent, key, HIVE_NO_CELL);
	if (ret != HIVE_OK)
		return ret;
	hv_delete_all_values(h, key);
	hv_key_record(h, key, &nk, &nk_len);
	uint32_t cls = le32(nk + NK_CLASS), sk = le32(nk + NK_SECURITY);
	uint32_t list = le32(nk + NK_SUBKEY_LIST);
	const uint8_t *p;
	uint32_t plen;
	if (cls != HIVE_NO_CELL && hv_cell(h, cls, &p, &plen) == HIVE_OK)
		hv_free(h, cls);
	if (list != HIVE_NO_CELL)
		hv_subkey_list_free(h, list);
	hv_sk_release(h, sk);
	hv_free(h, key);
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
		int ret = hv_key_record(h, key, &nk, &len);
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
	int ret = hv_begin_change(h);

	if (ret == HIVE_OK)
		ret = check_key_name(name, len);
	if (ret == HIVE_OK)
		ret = hv_key_record(h, key, &nk, &nk_len);
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
	bool latin1 = hv_name_is_latin1(name, len);
	size_t name_bytes = latin1 ? len : 2 * len;
	hive_key_t target = key;
	hv_cell(h, key, &nk, &cell_len);
	if (NK_FIXED_SIZE + name_bytes > cell_len) {
		ret = hv_alloc(h, NK_FIXED_SIZE + (uint32_t)name_bytes, &target);
		if (ret != HIVE_OK)
			return ret;
		memcpy(hv_cell_w(h, target), h->bins + key + CELL_HEADER_SIZE,
		       NK_FIXED_SIZE);
	}
	/* Lists first: they are the only step that can fail from here on. */
	if (new_parent == old_parent) {
		ret = hv_subkeys_edit(h, old_parent, key, HIVE_NO_CELL);
	} else {
		ret = hv_subkeys_edit(h, old_parent, key, HIVE_NO_CELL);
	}
	if (ret != HIVE_OK) {
		if (target != key)
			hv_free(h, target);
		return ret;
	}
	uint8_t *w = hv_nk_w(h, target);
	uint16_t flags = le16(w + NK_FLAGS);
	put_le16(w + NK_FLAGS, latin1 ? flags | HIVE_KEY_COMP_NAME
				       : flags & ~HIVE_KEY_COMP_NAME);
	put_le16(w + NK_NAME_LEN, (uint16_t)name_bytes);
	hv_store_name(w + NK_NAME, name, len, latin1);
	put_le32(w + NK_PARENT, new_parent);
	put_le64(w + NK_LAST_WRITE, hv_now_filetime());
	if (target != key) {
		hive_key_t *kids;
		size_t n;
		if (hive_key_subkeys(NULL, h, target, &kids, &n) == HIVE_OK) {
			for (size_t i = 0; i < n; i++)
				if (hv_key_record(h, kids[i], &nk, &nk_len) == HIVE_OK)
					put_le32(hv_nk_w(h, kids[i]) + NK_PARENT, target);
			talloc_free(kids);
		}
		hv_vindex_forget(h, key);
		hv_free(h, key);
	}
	ret = hv_subkeys_edit(h, new_parent, HIVE_NO_CELL, target);
	if (ret != HIVE_OK) {
		/* Out of space after the key left its old list: put it back
		 * where it was rather than lose it. */
		put_le32(hv_nk_w(h, target) + NK_PARENT, old_parent);
		if (hv_subkeys_edit(h, old_parent, HIVE_NO_CELL, target) != HIVE_OK)
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
	int ret = hv_begin_change(h);

	if (ret == HIVE_OK)
		ret = hv_key_record(h, key, &nk, &nk_len);
	if (ret != HIVE_OK)
		return ret;
	if (len > 0xFFFF)
		return HIVE_FAIL(HIVE_E_TOO_BIG, "class of %zu bytes", len);
	if (len) {
		ret = hv_alloc(h, (uint32_t)len, &cls);
		if (ret != HIVE_OK)
			return ret;
		memcpy(hv_cell_w(h, cls), data, len);
	}
	hv_key_record(h, key, &nk, &nk_len);
	old = le32(nk + NK_CLASS);
	if (old != HIVE_NO_CELL && hv_cell(h, old, &p, &plen) == HIVE_OK)
		hv_free(h, old);
	uint8_t *w = hv_nk_w(h, key);
	put_le32(w + NK_CLASS, cls);
	put_le16(w + NK_CLASS_LEN, (uint16_t)len);
	hv_touch_key(h, key);
	if (key != h->root) {
		hive_key_t parent = le32(w + NK_PARENT), *kids;
		size_t n;
		if (hive_key_subkeys(NULL, h, parent, &kids, &n) == HIVE_OK) {
			hv_subkey_maxima_update(h, parent, kids, n, true);
			talloc_free(kids);
		}
	}
	return HIVE_OK;
}

int hive_key_set_time(struct hive *h, hive_key_t key, uint64_t filetime)
{
	const uint8_t *nk;
	uint32_t nk_len;
	int ret = hv_begin_change(h);

	if (ret == HIVE_OK)
		ret = hv_key_record(h, key, &nk, &nk_len);
	if (ret == HIVE_OK)
		put_le64(hv_nk_w(h, key) + NK_LAST_WRITE, filetime);
	return ret;
}
