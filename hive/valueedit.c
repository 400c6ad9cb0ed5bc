/*
 * valueedit.c — value changes: setting and deleting values, with the
 * bookkeeping Windows keeps around them.
 *
 * Value data is stored the way Windows stores it: up to 4 bytes inline in
 * the vk, up to 16344 bytes (or any size in a 1.3 hive) in one cell, and
 * beyond that in a db record with 16344-byte segments.  Replacing a value
 * keeps its vk, so its name spelling and its handle survive.
 */
#include <stdio.h>
#include <stdlib.h>
#include <talloc.h>

#include "layout.h"

/* ---- value data ---- */

/* Free whatever holds a value's data (not the vk). */
static void free_data(struct hive *h, const uint8_t *vk_unused, uint32_t raw_size,
		      uint32_t data_off)
{
	uint32_t len = raw_size & ~VK_DATA_INLINE;
	const uint8_t *cell;
	uint32_t cell_len;

	(void)vk_unused;
	if ((raw_size & VK_DATA_INLINE) || len == 0 ||
	    hv_cell(h, data_off, &cell, &cell_len) != HIVE_OK)
		return;
	if (h->minor >= 4 && len > BIG_DATA_SEGMENT && cell_len >= 8 &&
	    memcmp(cell, "db", 2) == 0) {
		uint32_t count = le16(cell + DB_SEGMENT_COUNT);
		uint32_t list = le32(cell + DB_SEGMENT_LIST);
		const uint8_t *segs;
		uint32_t segs_len;

		if (hv_cell(h, list, &segs, &segs_len) == HIVE_OK) {
			if (count > segs_len / 4)
				count = segs_len / 4;
			for (uint32_t i = 0; i < count; i++) {
				const uint8_t *seg;
				uint32_t seg_len, seg_off;

				hv_cell(h, list, &segs, &segs_len);
				seg_off = le32(segs + 4 * i);
				if (hv_cell(h, seg_off, &seg, &seg_len) == HIVE_OK)
					hv_free(h, seg_off);
			}
			hv_free(h, list);
		}
	}
	hv_free(h, data_off);
}

/*
 * Store `len` bytes; on success *raw_size and *data_field are what the vk
 * gets.  On failure nothing stays allocated.
 */
static int store_data(struct hive *h, const uint8_t *data, uint32_t len,
		      uint32_t *raw_size, uint32_t *data_field)
{
	uint32_t cell, list, db;
	int ret;

	if (len <= 4) {
		uint8_t inline_bytes[4] = { 0 };
		/* Empty data may come without a buffer; memcpy must not see NULL. */
		if (len)
			memcpy(inline_bytes, data, len);
		*raw_size = len | VK_DATA_INLINE;
		*data_field = le32(inline_bytes);
		return HIVE_OK;
	}
	if (len <= BIG_DATA_SEGMENT || h->minor < 4) {
		ret = hv_alloc(h, len, &cell);
		if (ret != HIVE_OK)
			return ret;
		memcpy(hv_cell_w(h, cell), data, len);
		*raw_size = len;
		*data_field = cell;
		return HIVE_OK;
	}
	uint32_t count = (len + BIG_DATA_SEGMENT - 1) / BIG_DATA_SEGMENT;
	ret = hv_alloc(h, 4 * count, &list);
	if (ret != HIVE_OK)
		return ret;
	for (uint32_t i = 0; i < count; i++) {
		uint32_t chunk = len - i * BIG_DATA_SEGMENT < BIG_DATA_SEGMENT
					 ? len - i * BIG_DATA_SEGMENT
					 : BIG_DATA_SEGMENT;
		/* Windows sizes every segment cell for a full 16344 bytes, the
		 * last one too, and readers such as hivex rely on it. */
		ret = hv_alloc(h, BIG_DATA_SEGMENT, &cell);
		if (ret != HIVE_OK) {
			for (uint32_t j = 0; j < i; j++)
				hv_free(h, le32(hv_cell_w(h, list) + 4 * j));
			hv_free(h, list);
			return ret;
		}
		memcpy(hv_cell_w(h, cell), data + (size_t)i * BIG_DATA_SEGMENT, chunk);
		put_le32(hv_cell_w(h, list) + 4 * i, cell);
	}
	ret = hv_alloc(h, 8, &db);
	if (ret != HIVE_OK) {
		for (uint32_t j = 0; j < count; j++)
			hv_free(h, le32(hv_cell_w(h, list) + 4 * j));
		hv_free(h, list);
		return ret;
	}
	uint8_t *rec = hv_cell_w(h, db);
	memcpy(rec, "db", 2);
	put_le16(rec + DB_SEGMENT_COUNT, (uint16_t)count);
	put_le32(rec + DB_SEGMENT_LIST, list);
	*raw_size = len;
	*data_field = db;
	return HIVE_OK;
}

/* ---- value lists ---- */

static int value_list_of(struct hive *h, hive_key_t key, uint32_t *list,
			 uint32_t *count)
{
	const uint8_t *entries;
	int ret = hv_value_list(h, key, &entries, count);

	if (ret != HIVE_OK)
		return ret;
	*list = le32(hv_nk_w(h, key) + NK_VALUE_LIST);
	return HIVE_OK;
}

/*
 * The key's maximum value name and data lengths after a value was set.
 * They only grow, as Windows keeps them: a maximum above every value is
 * harmless to readers (it sizes buffers), and exact ones would cost a
 * scan of the whole list per change.
 */
static void update_value_maxima(struct hive *h, hive_key_t key, size_t name_len,
				 size_t data_len)
{
	uint8_t *nk = hv_nk_w(h, key);

	if (2 * name_len > le32(nk + NK_MAX_VALUE_NAME))
		put_le32(nk + NK_MAX_VALUE_NAME, (uint32_t)(2 * name_len));
	if (data_len > le32(nk + NK_MAX_VALUE_DATA))
		put_le32(nk + NK_MAX_VALUE_DATA, (uint32_t)data_len);
}

int hive_value_set(struct hive *h, hive_key_t key, const uint16_t *name,
		   size_t len, uint32_t type, const void *data, size_t data_len,
		   hive_value_t *out)
{
	hive_value_t val;
	uint32_t raw_size, data_field, list, count;
	int ret = hv_begin_change(h);

	if (ret != HIVE_OK)
		return ret;
	if (len > HIVE_MAX_VALUE_NAME)
		return HIVE_FAIL(HIVE_E_TOO_BIG, "value name of %zu units (at most %u)",
				 len, HIVE_MAX_VALUE_NAME);
	if (data_len > HIVE_MAX_VALUE_DATA ||
	    (h->minor < 4 && data_len > 0x7FFFFFF0u - 4096))
		return HIVE_FAIL(HIVE_E_TOO_BIG, "value data of %zu bytes", data_len);
	ret = value_list_of(h, key, &list, &count);
	if (ret != HIVE_OK)
		return ret;
	ret = hive_value_lookup(h, key, name, len, &val);
	if (ret != HIVE_OK && ret != HIVE_E_NOT_FOUND)
		return ret;
	if (ret == HIVE_OK) {
		/* Replace: new data first, so a failure leaves the old value. */
		const uint8_t *vk;
		uint32_t vk_len;
		ret = hv_cell(h, val, &vk, &vk_len);
		if (ret != HIVE_OK)
			return ret;
		uint32_t old_size = le32(vk + VK_DATA_SIZE), old_off = le32(vk + VK_DATA);
		ret = store_data(h, data, (uint32_t)data_len, &raw_size, &data_field);
		if (ret != HIVE_OK)
			return ret;
		free_data(h, NULL, old_size, old_off);
	} else {
		bool latin1 = hv_name_is_latin1(name, len);
		size_t name_bytes = latin1 ? len : 2 * len;

		if (count >= MAX_VALUES_PER_KEY)
			return HIVE_FAIL(HIVE_E_TOO_BIG, "key has %u values", count);
		ret = hv_alloc(h, VK_FIXED_SIZE + (uint32_t)name_bytes, &val);
		if (ret != HIVE_OK)
			return ret;
		ret = store_data(h, data, (uint32_t)data_len, &raw_size, &data_field);
		if (ret == HIVE_OK) {
			uint32_t new_list = list;
			/* Room for a few more, so a growing key rarely moves its list. */
			uint32_t cap = count + 1 + (count / 4 > 4 ? count / 4 : 4);
			/* (A key with values has a list hive_key_values() validated.) */
			if (count == 0)
				ret = hv_alloc(h, 4 * cap, &new_list);
			else if (4 * (count + 1) > hv_cell_capacity(h, list))
				ret = hv_realloc(h, &new_list, 4 * cap);
			if (ret != HIVE_OK)
				free_data(h, NULL, raw_size, data_field);
			else
				list = new_list;
		}
		if (ret != HIVE_OK) {
			hv_free(h, val);
			return ret;
		}
		uint8_t *vk = hv_cell_w(h, val);
		memcpy(vk, "vk", 2);
		put_le16(vk + VK_NAME_LEN, (uint16_t)name_bytes);
		put_le16(vk + VK_FLAGS, latin1 && len ? VK_COMP_NAME : 0);
		hv_store_name(vk + VK_NAME, name, len, latin1);
		put_le32(hv_cell_w(h, list) + 4 * count, val);
		uint8_t *nk = hv_nk_w(h, key);
		uint32_t old_list = le32(nk + NK_VALUE_LIST);
		put_le32(nk + NK_VALUE_LIST, list);
		put_le32(nk + NK_VALUE_COUNT, count + 1);
		hv_vindex_added(h, key, count, old_list, val);
	}
	uint8_t *vk = hv_cell_w(h, val);
	put_le32(vk + VK_DATA_SIZE, raw_size);
	put_le32(vk + VK_DATA, data_field);
	put_le32(vk + VK_TYPE, type);
	update_value_maxima(h, key, len, data_len);
	hv_touch_key(h, key);
	if (out)
		*out = val;
	return HIVE_OK;
}

/* Delete the value at index `i` of a key's list, with its data. */
static void remove_value(struct hive *h, hive_key_t key, uint32_t list,
			 uint32_t count, uint32_t i)
{
	uint32_t val = le32(hv_cell_w(h, list) + 4 * i);
	const uint8_t *vk;
	uint32_t vk_len;

	hv_vindex_removed(h, key, count, list, val);
	if (hv_cell(h, val, &vk, &vk_len) == HIVE_OK) {
		free_data(h, NULL, le32(vk + VK_DATA_SIZE), le32(vk + VK_DATA));
		hv_free(h, val);
	}
	uint8_t *entries = hv_cell_w(h, list);
	memmove(entries + 4 * i, entries + 4 * (i + 1), 4 * (count - i - 1));
	put_le32(entries + 4 * (count - 1), 0);
	uint8_t *nk = hv_nk_w(h, key);
	put_le32(nk + NK_VALUE_COUNT, count - 1);
	if (count == 1) {
		hv_free(h, list);
		put_le32(hv_nk_w(h, key) + NK_VALUE_LIST, HIVE_NO_CELL);
	}
}

int hive_value_delete(struct hive *h, hive_key_t key, const uint16_t *name,
		      size_t len)
{
	hive_value_t val;
	uint32_t list, count;
	int ret = hv_begin_change(h);

	if (ret == HIVE_OK)
		ret = value_list_of(h, key, &list, &count);
	if (ret == HIVE_OK)
		ret = hive_value_lookup(h, key, name, len, &val);
	if (ret != HIVE_OK)
		return ret;
	for (uint32_t i = 0; i < count; i++) {
		if (le32(hv_cell_w(h, list) + 4 * i) == val) {
			remove_value(h, key, list, count, i);
			break;
		}
	}
	hv_touch_key(h, key);
	return HIVE_OK;
}

/* Delete every value of a key (the key is going away). */
void hv_delete_all_values(struct hive *h, hive_key_t key)
{
	uint32_t list, count;

	if (value_list_of(h, key, &list, &count) != HIVE_OK)
		return;
	while (count > 0) {
		remove_value(h, key, list, count, count - 1);
		count--;
	}
}
