/*
 * value.c — values (vk records), value lists and value data.
 *
 * Data lives in one of three places: inside the vk itself (bit 31 of the
 * size set, at most 4 bytes), in one data cell, or — from format 1.4 on,
 * for more than 16344 bytes — in a db record whose segment list points at
 * cells of 16344 bytes each (the last one shorter).  The size field is the
 * exact length; cells are padded to 8 bytes and that padding is never data.
 */
#include <talloc.h>

#include "layout.h"

static int value_record(const struct hive *h, hive_value_t val,
			const uint8_t **vk, uint32_t *len)
{
	int ret = hv_record(h, val, "vk", VK_FIXED_SIZE, vk, len);

	if (ret != HIVE_OK)
		return ret;
	if (le16(*vk + VK_NAME_LEN) > *len - VK_FIXED_SIZE)
		return HIVE_FAIL(HIVE_E_BOUNDS,
				 "value 0x%x: name of %u bytes exceeds its cell", val,
				 le16(*vk + VK_NAME_LEN));
	return HIVE_OK;
}

static void value_stored_name(const uint8_t *vk, struct stored_name *n)
{
	n->bytes = vk + VK_NAME;
	n->len = le16(vk + VK_NAME_LEN);
	n->latin1 = (le16(vk + VK_FLAGS) & VK_COMP_NAME) != 0;
}

/* Where the data is: inline, one cell, or a db record. */
struct data_place {
	uint32_t len;
	bool inline_data;
	bool big;
	const uint8_t *cell;    /* data cell, or the db record */
	uint32_t cell_len;
};

static int locate_data(const struct hive *h, hive_value_t val,
		       const uint8_t *vk, struct data_place *d)
{
	uint32_t raw = le32(vk + VK_DATA_SIZE);
	uint32_t off = le32(vk + VK_DATA);
	int ret;

	memset(d, 0, sizeof(*d));
	d->len = raw & ~VK_DATA_INLINE;
	if (raw & VK_DATA_INLINE) {
		if (d->len > 4)
			return HIVE_FAIL(HIVE_E_CORRUPT,
					 "value 0x%x: inline data of %u bytes (at most 4 fit)",
					 val, d->len);
		d->inline_data = true;
		return HIVE_OK;
	}
	if (d->len == 0)
		return HIVE_OK;
	if (d->len > MAX_VALUE_DATA)
		return HIVE_FAIL(HIVE_E_TOO_BIG, "value 0x%x: data of %u bytes",
				 val, d->len);
	ret = hv_cell(h, off, &d->cell, &d->cell_len);
	if (ret != HIVE_OK)
		return HIVE_FAIL(ret, "value 0x%x data: %s", val,
				 hive_error_detail());
	if (h->minor >= 4 && d->len > BIG_DATA_SEGMENT && d->cell_len >= 8 &&
	    memcmp(d->cell, "db", 2) == 0) {
		d->big = true;
		return HIVE_OK;
	}
	if (d->len > d->cell_len)
		return HIVE_FAIL(HIVE_E_BOUNDS,
				 "value 0x%x: data of %u bytes exceeds its cell of %u",
				 val, d->len, d->cell_len);
	return HIVE_OK;
}

int hive_value_stat(struct hive *h, hive_value_t val, struct hive_value_stat *st)
{
	const uint8_t *vk;
	uint32_t len;
	struct stored_name n;
	struct data_place d;
	int ret = value_record(h, val, &vk, &len);

	if (ret == HIVE_OK)
		ret = locate_data(h, val, vk, &d);
	if (ret != HIVE_OK)
		return ret;
	value_stored_name(vk, &n);
	memset(st, 0, sizeof(*st));
	st->type = le32(vk + VK_TYPE);
	st->data_len = d.len;
	st->name_len = hv_stored_name_units(&n);
	st->inline_data = d.inline_data;
	st->big_data = d.big;
	st->cell_bytes = (uint64_t)len + 4;
	if (!d.inline_data && d.len)
		st->cell_bytes += (uint64_t)d.cell_len + 4;
	if (d.big) {
		uint32_t count = le16(d.cell + DB_SEGMENT_COUNT);
		uint32_t list = le32(d.cell + DB_SEGMENT_LIST);
		const uint8_t *segs;
		uint32_t segs_len;

		st->cell_bytes += hv_cell_bytes(h, list);
		if (hv_cell(h, list, &segs, &segs_len) == HIVE_OK)
			for (uint32_t i = 0; i < count && 4 * (i + 1) <= segs_len; i++)
				st->cell_bytes += hv_cell_bytes(h, le32(segs + 4 * i));
	}
	return HIVE_OK;
}

int hive_value_name(void *mem, struct hive *h, hive_value_t val,
		    uint16_t **name, size_t *len)
{
	const uint8_t *vk;
	uint32_t vk_len;
	struct stored_name n;
	int ret = value_record(h, val, &vk, &vk_len);

	if (ret != HIVE_OK)
		return ret;
	value_stored_name(vk, &n);
	return hv_stored_name_copy(mem, &n, name, len);
}

static int copy_big_data(const struct hive *h, hive_value_t val,
			 const struct data_place *d, uint8_t *out)
{
	uint32_t count = le16(d->cell + DB_SEGMENT_COUNT);
	uint32_t list_off = le32(d->cell + DB_SEGMENT_LIST);
	uint32_t needed = (d->len + BIG_DATA_SEGMENT - 1) / BIG_DATA_SEGMENT;
	const uint8_t *list;
	uint32_t list_len, done = 0;
	int ret;

	if (count < needed)
		return HIVE_FAIL(HIVE_E_CORRUPT,
				 "value 0x%x: %u big-data segments hold less than %u bytes",
				 val, count, d->len);
	ret = hv_cell(h, list_off, &list, &list_len);
	if (ret != HIVE_OK)
		return ret;
	if ((uint64_t)needed * 4 > list_len)
		return HIVE_FAIL(HIVE_E_BOUNDS,
				 "value 0x%x: segment list shorter than %u entries",
				 val, needed);
	for (uint32_t i = 0; i < needed; i++) {
		uint32_t want = d->len - done < BIG_DATA_SEGMENT
					? d->len - done
					: BIG_DATA_SEGMENT;
		const uint8_t *seg;
		uint32_t seg_len;

		ret = hv_cell(h, le32(list + 4 * i), &seg, &seg_len);
		if (ret != HIVE_OK)
			return ret;
		if (seg_len < want)
			return HIVE_FAIL(HIVE_E_BOUNDS,
					 "value 0x%x: segment %u holds %u of %u bytes",
					 val, i, seg_len, want);
		memcpy(out + done, seg, want);
		done += want;
	}
	return HIVE_OK;
}

int hive_value_data(void *mem, struct hive *h, hive_value_t val,
		    uint8_t **data, size_t *len)
{
	const uint8_t *vk;
	uint32_t vk_len;
	struct data_place d;
	uint8_t *out;
	int ret = value_record(h, val, &vk, &vk_len);

	if (ret == HIVE_OK)
		ret = locate_data(h, val, vk, &d);
	if (ret != HIVE_OK)
		return ret;
	out = talloc_size(mem, d.len ? d.len : 1);
	if (!out)
		return HIVE_FAIL(HIVE_E_NOMEM, "value data of %u bytes", d.len);
	if (d.inline_data)
		memcpy(out, vk + VK_DATA, d.len);
	else if (d.big)
		ret = copy_big_data(h, val, &d, out);
	else if (d.len)
		memcpy(out, d.cell, d.len);
	if (ret != HIVE_OK) {
		talloc_free(out);
		return ret;
	}
	*data = out;
	*len = d.len;
	return HIVE_OK;
}

int hv_value_list(const struct hive *h, hive_key_t key,
		  const uint8_t **list, uint32_t *count)
{
	const uint8_t *nk;
	uint32_t nk_len, list_len;
	int ret = hv_key_record(h, key, &nk, &nk_len);

	if (ret != HIVE_OK)
		return ret;
	*count = le32(nk + NK_VALUE_COUNT);
	if (*count == 0)
		return HIVE_OK;
	if (*count > MAX_VALUES_PER_KEY)
		return HIVE_FAIL(HIVE_E_TOO_BIG, "key 0x%x: %u values", key,
				 *count);
	ret = hv_cell(h, le32(nk + NK_VALUE_LIST), list, &list_len);
	if (ret != HIVE_OK)
		return ret;
	if ((uint64_t)*count * 4 > list_len)
		return HIVE_FAIL(HIVE_E_BOUNDS,
				 "key 0x%x: %u values exceed the value list cell",
				 key, *count);
	return HIVE_OK;
}

int hive_key_values(void *mem, struct hive *h, hive_key_t key,
		    hive_value_t **values, size_t *count)
{
	const uint8_t *list = NULL;
	uint32_t n;
	hive_value_t *out;
	int ret = hv_value_list(h, key, &list, &n);

	if (ret != HIVE_OK)
		return ret;
	out = talloc_array(mem, hive_value_t, n + 1);
	if (!out)
		return HIVE_FAIL(HIVE_E_NOMEM, "%u values", n);
	for (uint32_t i = 0; i < n; i++)
		out[i] = le32(list + 4 * i);
	*values = out;
	*count = n;
	return HIVE_OK;
}

/* ---- the value-name index ----
 *
 * Value lists are unsorted and Windows scans them, which makes filling a
 * key with n values cost n^2/2 name comparisons.  For one key at a time
 * (the last one looked up with many values) the engine keeps a hash
 * index of its value names: open addressing, linear probing, entries in
 * list order (so of two equal names in a damaged list the first is found,
 * as a scan finds it).  It is known to be right while the key's list
 * offset and count are what they were when it was last built or kept up
 * to date by hive_value_set/delete; anything else rebuilds it.
 */
#define VINDEX_MIN_VALUES 32

struct value_index {
	hive_key_t key;      /* HIVE_NO_CELL: no index */
	uint32_t list, count;
	uint32_t cap;        /* a power of two, > 2 * count */
	uint32_t *vk;        /* 0 = an empty slot (no cell is at offset 0) */
	uint32_t *hash;
};

static void vindex_put(struct value_index *x, uint32_t hash, uint32_t vk)
{
	uint32_t i = hash & (x->cap - 1);

	while (x->vk[i])
		i = (i + 1) & (x->cap - 1);
	x->vk[i] = vk;
	x->hash[i] = hash;
}

static uint32_t list_offset(const struct hive *h, hive_key_t key)
{
	const uint8_t *nk;
	uint32_t nk_len;

	return hv_key_record(h, key, &nk, &nk_len) == HIVE_OK
		       ? le32(nk + NK_VALUE_LIST)
		       : HIVE_NO_CELL;
}

static int vindex_build(struct hive *h, hive_key_t key, const uint8_t *list,
			uint32_t n)
{
	struct value_index *x = h->vindex;
	uint32_t cap = 64;

	while (cap <= 2 * n + 2)
		cap *= 2;
	if (!x) {
		x = talloc_zero(h, struct value_index);
		if (!x)
			return HIVE_FAIL(HIVE_E_NOMEM, "value index");
		h->vindex = x;
	}
	x->key = HIVE_NO_CELL;
	if (x->cap < cap || x->cap > 4 * cap) {
		talloc_free(x->vk);
		talloc_free(x->hash);
		x->vk = talloc_zero_array(x, uint32_t, cap);
		x->hash = talloc_array(x, uint32_t, cap);
		x->cap = cap;
		if (!x->vk || !x->hash) {
			x->cap = 0;
			return HIVE_FAIL(HIVE_E_NOMEM, "value index");
		}
	} else {
		memset(x->vk, 0, sizeof(uint32_t) * x->cap);
	}
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *vk;
		uint32_t vk_len;
		struct stored_name sn;

		if (value_record(h, le32(list + 4 * i), &vk, &vk_len) != HIVE_OK)
			continue;
		value_stored_name(vk, &sn);
		vindex_put(x, hv_stored_name_hash(&sn), le32(list + 4 * i));
	}
	x->key = key;
	x->list = list_offset(h, key);
	x->count = n;
	return HIVE_OK;
}

/* The index of `key` if it is right for its list now, else NULL. */
static struct value_index *vindex_of(const struct hive *h, hive_key_t key,
				     uint32_t count)
{
	struct value_index *x = h->vindex;

	if (x && x->key == key && x->key != HIVE_NO_CELL && x->count == count &&
	    x->list == list_offset(h, key))
		return x;
	return NULL;
}

void hv_vindex_added(struct hive *h, hive_key_t key, uint32_t old_count,
		     uint32_t old_list, hive_value_t val)
{
	struct value_index *x = h->vindex;
	const uint8_t *vk;
	uint32_t vk_len;
	struct stored_name sn;

	if (!x || x->key != key)
		return;
	if (x->count != old_count || x->list != old_list ||
	    2 * (old_count + 1) + 2 >= x->cap ||
	    value_record(h, val, &vk, &vk_len) != HIVE_OK) {
		x->key = HIVE_NO_CELL;
		return;
	}
	value_stored_name(vk, &sn);
	vindex_put(x, hv_stored_name_hash(&sn), val);
	x->count = old_count + 1;
	x->list = list_offset(h, key);
}

void hv_vindex_removed(struct hive *h, hive_key_t key, uint32_t old_count,
		       uint32_t old_list, hive_value_t val)
{
	struct value_index *x = h->vindex;
	const uint8_t *vk;
	uint32_t vk_len, i, j, mask;
	struct stored_name sn;

	if (!x || x->key != key)
		return;
	if (x->count != old_count || x->list != old_list ||
	    value_record(h, val, &vk, &vk_len) != HIVE_OK) {
		x->key = HIVE_NO_CELL;
		return;
	}
	value_stored_name(vk, &sn);
	mask = x->cap - 1;
	for (i = hv_stored_name_hash(&sn) & mask; x->vk[i] != val;
	     i = (i + 1) & mask) {
		if (!x->vk[i]) {
			x->key = HIVE_NO_CELL;
			return;
		}
	}
	/* Backward-shift deletion keeps every probe sequence unbroken. */
	x->vk[i] = 0;
	for (j = (i + 1) & mask; x->vk[j]; j = (j + 1) & mask) {
		uint32_t home = x->hash[j] & mask;

		if (((j - home) & mask) >= ((j - i) & mask)) {
			x->vk[i] = x->vk[j];
			x->hash[i] = x->hash[j];
			x->vk[j] = 0;
			i = j;
		}
	}
	x->count = old_count - 1;
	x->list = list_offset(h, key);
}

void hv_vindex_forget(struct hive *h, hive_key_t key)
{
	if (h->vindex && h->vindex->key == key)
		h->vindex->key = HIVE_NO_CELL;
}

int hive_value_lookup(struct hive *h, hive_key_t key,
		      const uint16_t *name, size_t len, hive_value_t *val)
{
	const uint8_t *list = NULL;
	struct value_index *x;
	uint32_t n, hash;
	int ret = hv_value_list(h, key, &list, &n);

	if (ret != HIVE_OK)
		return ret;
	x = n >= VINDEX_MIN_VALUES ? vindex_of(h, key, n) : NULL;
	if (!x && n >= VINDEX_MIN_VALUES && vindex_build(h, key, list, n) == HIVE_OK)
		x = h->vindex;
	if (x) {
		hash = hive_name_hash(name, len);
		for (uint32_t i = hash & (x->cap - 1); x->vk[i];
		     i = (i + 1) & (x->cap - 1)) {
			const uint8_t *vk;
			uint32_t vk_len;
			struct stored_name sn;

			if (x->hash[i] != hash ||
			    value_record(h, x->vk[i], &vk, &vk_len) != HIVE_OK)
				continue;
			value_stored_name(vk, &sn);
			if (hv_stored_name_compare(&sn, name, len) == 0) {
				*val = x->vk[i];
				return HIVE_OK;
			}
		}
		return HIVE_E_NOT_FOUND;
	}
	/* Value lists are unsorted: Windows scans them too. */
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *vk;
		uint32_t vk_len;
		struct stored_name sn;

		if (value_record(h, le32(list + 4 * i), &vk, &vk_len) != HIVE_OK)
			continue;
		value_stored_name(vk, &sn);
		if (hv_stored_name_compare(&sn, name, len) == 0) {
			*val = le32(list + 4 * i);
			return HIVE_OK;
		}
	}
	return HIVE_E_NOT_FOUND;
}

const char *hive_type_name(uint32_t type)
{
	static const char *const names[] = {
		"REG_NONE", "REG_SZ", "REG_EXPAND_SZ", "REG_BINARY", "REG_DWORD",
		"REG_DWORD_BIG_ENDIAN", "REG_LINK", "REG_MULTI_SZ",
		"REG_RESOURCE_LIST", "REG_FULL_RESOURCE_DESCRIPTOR",
		"REG_RESOURCE_REQUIREMENTS_LIST", "REG_QWORD",
	};

	return type < sizeof(names) / sizeof(names[0]) ? names[type] : NULL;
}
