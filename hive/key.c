/*
 * key.c — keys (nk records): finding a key's record, its name, class and
 * times, and looking a key up by a path of names.
 */
#include <talloc.h>

#include "layout.h"

int hv_key_record(const struct hive *h, hive_key_t key,
		  const uint8_t **nk, uint32_t *len)
{
	int ret = hv_record(h, key, "nk", NK_FIXED_SIZE, nk, len);

	if (ret != HIVE_OK)
		return ret;
	if (le16(*nk + NK_NAME_LEN) > *len - NK_FIXED_SIZE)
		return HIVE_FAIL(HIVE_E_BOUNDS,
				 "key 0x%x: name of %u bytes exceeds its cell", key,
				 le16(*nk + NK_NAME_LEN));
	return HIVE_OK;
}

int hv_key_stored_name(const struct hive *h, hive_key_t key,
		       struct stored_name *name)
{
	const uint8_t *nk;
	uint32_t len;
	int ret = hv_key_record(h, key, &nk, &len);

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
	int ret = hv_key_record(h, key, &nk, &len);
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
	st->name_len = hv_stored_name_units(&name);
	st->class_len = le32(nk + NK_CLASS) == HIVE_NO_CELL ? 0
							    : le16(nk + NK_CLASS_LEN);
	st->max_subkey_name = le32(nk + NK_MAX_SUBKEY_NAME) & 0xFFFFu;
	st->max_subkey_class = le32(nk + NK_MAX_SUBKEY_CLASS);
	st->max_value_name = le32(nk + NK_MAX_VALUE_NAME);
	st->max_value_data = le32(nk + NK_MAX_VALUE_DATA);
	st->cell_bytes = len + 4 + hv_cell_bytes(h, le32(nk + NK_CLASS)) +
			 (st->value_count ? hv_cell_bytes(h, le32(nk + NK_VALUE_LIST)) : 0) +
			 (st->subkey_count ? hv_cell_bytes(h, le32(nk + NK_SUBKEY_LIST)) : 0);
	return HIVE_OK;
}

int hive_key_name(void *mem, struct hive *h, hive_key_t key,
		  uint16_t **name, size_t *len)
{
	struct stored_name n;
	int ret = hv_key_stored_name(h, key, &n);

	return ret != HIVE_OK ? ret : hv_stored_name_copy(mem, &n, name, len);
}

int hive_key_class(void *mem, struct hive *h, hive_key_t key,
		   uint8_t **data, size_t *len)
{
	const uint8_t *nk, *cls;
	uint32_t nk_len, cls_len, off;
	uint16_t want;
	int ret = hv_key_record(h, key, &nk, &nk_len);

	if (ret != HIVE_OK)
		return ret;
	off = le32(nk + NK_CLASS);
	want = le16(nk + NK_CLASS_LEN);
	if (off == HIVE_NO_CELL || want == 0) {
		*data = talloc_size(mem, 1);
		*len = 0;
		return *data ? HIVE_OK : HIVE_FAIL(HIVE_E_NOMEM, "class");
	}
	ret = hv_cell(h, off, &cls, &cls_len);
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
