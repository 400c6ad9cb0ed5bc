/*
 * fuzz_read.c — libFuzzer target over the whole read path: open an
 * arbitrary image, walk every key, read every name, class, descriptor,
 * value and datum, look every name up again, and sum the space.  Any
 * out-of-bounds access, leak, hang or undefined behaviour is a finding.
 */
#include <stdint.h>
#include <stdlib.h>
#include <talloc.h>

#include "hive.h"

struct visit {
	struct hive *h;
	void *mem;
	hive_key_t parent[HIVE_MAX_DEPTH + 1];
};

static void touch_values(struct visit *v, hive_key_t key)
{
	hive_value_t *vals;
	size_t n;

	if (hive_key_values(v->mem, v->h, key, &vals, &n) != HIVE_OK)
		return;
	for (size_t i = 0; i < n; i++) {
		struct hive_value_stat st;
		uint16_t *name;
		size_t len;
		uint8_t *data;
		size_t dlen;
		hive_value_t again;

		hive_value_stat(v->h, vals[i], &st);
		if (hive_value_data(v->mem, v->h, vals[i], &data, &dlen) == HIVE_OK)
			talloc_free(data);
		if (hive_value_name(v->mem, v->h, vals[i], &name, &len) == HIVE_OK) {
			hive_value_lookup(v->h, key, name, len, &again);
			talloc_free(hive_utf16_to_utf8(v->mem, name, len, NULL, NULL));
			talloc_free(name);
		}
	}
	talloc_free(vals);
}

static int on_key(void *arg, hive_key_t key, unsigned depth)
{
	struct visit *v = arg;
	struct hive_key_stat st;
	uint16_t *name;
	size_t len;
	uint8_t *bytes;
	hive_key_t again;

	v->parent[depth] = key;
	hive_key_stat(v->h, key, &st);
	if (hive_key_class(v->mem, v->h, key, &bytes, &len) == HIVE_OK)
		talloc_free(bytes);
	if (hive_key_security(v->mem, v->h, key, &bytes, &len) == HIVE_OK)
		talloc_free(bytes);
	if (hive_key_name(v->mem, v->h, key, &name, &len) == HIVE_OK) {
		if (depth > 0)
			hive_key_lookup(v->h, v->parent[depth - 1], name, len, &again);
		talloc_free(name);
	}
	touch_values(v, key);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	void *mem = talloc_new(NULL);
	struct visit v = { .mem = mem };
	const struct hive_walk_ops ops = { .on_key = on_key };
	struct hive_info info;
	struct hive_space space;
	hive_key_t k;

	if (hive_open_memory(mem, data, size, HIVE_OPEN_READ_ONLY, &v.h) == HIVE_OK) {
		hive_get_info(v.h, &info);
		hive_get_space(v.h, &space);
		hive_walk(v.h, hive_root(v.h), &ops, &v);
		hive_key_lookup_path(v.h, hive_root(v.h), "a\\b\\c", &k);
	}
	talloc_free(mem);
	return 0;
}
