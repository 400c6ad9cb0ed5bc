/*
 * security.c — security descriptors: reading a key's, and setting one
 * with the sk cells shared and reference-counted as Windows keeps them.
 *
 * Security descriptors live in sk cells shared by every key that uses the
 * same bytes; all sk cells form one circular list (flink/blink) and each
 * counts the keys referring to it.  A key takes its parent's sk on
 * creation (hv_sk_retain); an sk whose count drops to zero is unlinked
 * and freed (hv_sk_release).
 */
#include <talloc.h>

#include "layout.h"

int hive_key_security(void *mem, struct hive *h, hive_key_t key,
		      uint8_t **sd, size_t *len)
{
	const uint8_t *nk, *sk;
	uint32_t nk_len, sk_len, size;
	int ret = hv_key_record(h, key, &nk, &nk_len);

	if (ret != HIVE_OK)
		return ret;
	if (le32(nk + NK_SECURITY) == HIVE_NO_CELL) {
		*sd = talloc_size(mem, 1);
		*len = 0;
		return *sd ? HIVE_OK : HIVE_FAIL(HIVE_E_NOMEM, "descriptor");
	}
	ret = hv_record(h, le32(nk + NK_SECURITY), "sk", SK_FIXED_SIZE, &sk,
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

void hv_sk_release(struct hive *h, uint32_t sk)
{
	const uint8_t *p;
	uint32_t len;

	if (sk == HIVE_NO_CELL ||
	    hv_record(h, sk, "sk", SK_FIXED_SIZE, &p, &len) != HIVE_OK)
		return;
	uint32_t refs = le32(p + SK_REFCOUNT);
	if (refs > 1) {
		put_le32(hv_cell_w(h, sk) + SK_REFCOUNT, refs - 1);
		return;
	}
	uint32_t flink = le32(p + SK_FLINK), blink = le32(p + SK_BLINK);
	if (flink == sk) {
		/* The last descriptor of the hive stays, unreferenced. */
		put_le32(hv_cell_w(h, sk) + SK_REFCOUNT, 0);
		return;
	}
	if (hv_record(h, flink, "sk", SK_FIXED_SIZE, &p, &len) == HIVE_OK &&
	    hv_record(h, blink, "sk", SK_FIXED_SIZE, &p, &len) == HIVE_OK) {
		put_le32(hv_cell_w(h, blink) + SK_FLINK, flink);
		put_le32(hv_cell_w(h, flink) + SK_BLINK, blink);
		hv_free(h, sk);
	}
}

int hv_sk_retain(struct hive *h, uint32_t sk)
{
	const uint8_t *p;
	uint32_t len;
	int ret = hv_record(h, sk, "sk", SK_FIXED_SIZE, &p, &len);

	if (ret == HIVE_OK)
		put_le32(hv_cell_w(h, sk) + SK_REFCOUNT, le32(p + SK_REFCOUNT) + 1);
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
		if (hv_record(h, sk, "sk", SK_FIXED_SIZE, &p, &plen) != HIVE_OK)
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
	    hv_record(h, anchor, "sk", SK_FIXED_SIZE, &p, &plen) == HIVE_OK) {
		next = le32(p + SK_FLINK);
		ret = hv_record(h, next, "sk", SK_FIXED_SIZE, &p, &plen);
		if (ret != HIVE_OK)
			return HIVE_FAIL(ret, "sk list after 0x%x: %s", anchor,
					 hive_error_detail());
	} else {
		anchor = HIVE_NO_CELL;
	}
	ret = hv_alloc(h, SK_FIXED_SIZE + (uint32_t)len, &sk);
	if (ret != HIVE_OK)
		return ret;
	uint8_t *rec = hv_cell_w(h, sk);
	memcpy(rec, "sk", 2);
	put_le32(rec + SK_REFCOUNT, 0);
	put_le32(rec + SK_DESCRIPTOR_SIZE, (uint32_t)len);
	memcpy(rec + SK_DESCRIPTOR, sd, len);
	if (anchor != HIVE_NO_CELL) {
		put_le32(rec + SK_FLINK, next);
		put_le32(rec + SK_BLINK, anchor);
		put_le32(hv_cell_w(h, anchor) + SK_FLINK, sk);
		put_le32(hv_cell_w(h, next) + SK_BLINK, sk);
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
	int ret = hv_begin_change(h);

	if (ret == HIVE_OK)
		ret = hv_key_record(h, key, &nk, &nk_len);
	if (ret != HIVE_OK)
		return ret;
	if (len < 20 || len > 0xFFFF)
		return HIVE_FAIL(HIVE_E_INVALID,
				 "security descriptor of %zu bytes", len);
	old = le32(nk + NK_SECURITY);
	anchor = old;
	if (hv_key_record(h, h->root, &nk, &nk_len) == HIVE_OK &&
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
	hv_sk_retain(h, sk);
	hv_sk_release(h, old);
	put_le32(hv_nk_w(h, key) + NK_SECURITY, sk);
	hv_touch_key(h, key);
	return HIVE_OK;
}
