/* Values: inline data, exact lengths, big data, value lists, lookup. */
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "layout.h"

struct fixture {
	struct image im;
	uint32_t root;
	uint32_t vals[16];
	unsigned n;
};

static void start(struct fixture *f, uint32_t minor, uint32_t bin_size)
{
	image_init(&f->im, minor, bin_size);
	f->root = image_nk(&f->im, "R", HIVE_NO_CELL, 0, HIVE_NO_CELL, 0,
			   HIVE_NO_CELL);
	f->n = 0;
}

static uint32_t add(struct fixture *f, const char *name, uint32_t type,
		    uint32_t size_field, uint32_t data_field)
{
	return f->vals[f->n++] = image_vk(&f->im, name, type, size_field,
					  data_field);
}

static struct hive *finish(void *mem, struct fixture *f)
{
	uint8_t *nk = image_at(&f->im, f->root) + 4;

	put32(nk + NK_VALUE_COUNT, f->n);
	put32(nk + NK_VALUE_LIST, image_offsets(&f->im, f->vals, f->n));
	image_finish(&f->im, f->root);
	return open_image(mem, &f->im);
}

static void expect_data(void *mem, struct hive *h, hive_value_t v,
			const void *want, size_t want_len)
{
	uint8_t *data;
	size_t len;
	struct hive_value_stat st;

	assert_int_equal(hive_value_stat(h, v, &st), HIVE_OK);
	assert_int_equal(st.data_len, want_len);
	assert_int_equal(hive_value_data(mem, h, v, &data, &len), HIVE_OK);
	assert_int_equal(len, want_len);
	if (want_len)
		assert_memory_equal(data, want, want_len);
}

static void inline_data(void **state)
{
	struct fixture f;
	struct hive *h;
	uint8_t *d;
	size_t len;

	start(&f, 5, 4096);
	add(&f, "four", 4, 0x80000004u, 0x04030201u);
	add(&f, "one", 3, 0x80000001u, 0xFFFFFF7Fu);
	add(&f, "zero", 3, 0x80000000u, 0xFFFFFFFFu);
	add(&f, "five", 3, 0x80000005u, 0);
	add(&f, "empty", 1, 0, 0x12345678u); /* no data: offset ignored */
	h = finish(*state, &f);
	expect_data(*state, h, f.vals[0], "\x01\x02\x03\x04", 4);
	expect_data(*state, h, f.vals[1], "\x7f", 1);
	expect_data(*state, h, f.vals[2], "", 0);
	assert_int_equal(hive_value_data(*state, h, f.vals[3], &d, &len),
			 HIVE_E_CORRUPT);
	expect_data(*state, h, f.vals[4], "", 0);
	image_free(&f.im);
}

static void exact_length_not_padding(void **state)
{
	struct fixture f;
	struct hive *h;
	uint8_t *d;
	size_t len;
	uint32_t cell;

	start(&f, 5, 4096);
	cell = image_cell(&f.im, "h\0i\0\0\0", 6); /* cell padded to 16 */
	add(&f, "sz", 1, 6, cell);
	add(&f, "toolong", 3, 13, cell);
	h = finish(*state, &f);
	expect_data(*state, h, f.vals[0], "h\0i\0\0\0", 6);
	assert_int_equal(hive_value_data(*state, h, f.vals[1], &d, &len),
			 HIVE_E_BOUNDS);
	image_free(&f.im);
}

static uint8_t *pattern(size_t n)
{
	uint8_t *p = malloc(n);

	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(i * 7 + i / 251);
	return p;
}

static void big_data(void **state)
{
	const uint32_t total = BIG_DATA_SEGMENT * 2 + 100;
	struct fixture f;
	struct hive *h;
	uint8_t *want = pattern(total), db[8] = "db", *d;
	uint32_t segs[3], list, dbcell;
	size_t len;
	struct hive_value_stat st;

	start(&f, 5, 65536);
	segs[0] = image_cell(&f.im, want, BIG_DATA_SEGMENT);
	segs[1] = image_cell(&f.im, want + BIG_DATA_SEGMENT, BIG_DATA_SEGMENT);
	segs[2] = image_cell(&f.im, want + 2 * BIG_DATA_SEGMENT, 100);
	list = image_offsets(&f.im, segs, 3);
	put16(db + DB_SEGMENT_COUNT, 3);
	put32(db + DB_SEGMENT_LIST, list);
	dbcell = image_cell(&f.im, db, 8);
	add(&f, "big", 3, total, dbcell);
	add(&f, "short", 3, total + BIG_DATA_SEGMENT, dbcell); /* needs 4 */
	h = finish(*state, &f);
	expect_data(*state, h, f.vals[0], want, total);
	assert_int_equal(hive_value_stat(h, f.vals[0], &st), HIVE_OK);
	assert_true(st.big_data);
	assert_int_equal(hive_value_data(*state, h, f.vals[1], &d, &len),
			 HIVE_E_CORRUPT);
	/* A short segment. */
	put32(image_at(&f.im, list) + 4 + 4, segs[2]);
	h = open_image(*state, &f.im);
	assert_int_equal(hive_value_data(*state, h, f.vals[0], &d, &len),
			 HIVE_E_BOUNDS);
	free(want);
	image_free(&f.im);
}

static void large_plain_cell_in_1_3(void **state)
{
	const uint32_t total = BIG_DATA_SEGMENT + 1000;
	struct fixture f;
	struct hive *h;
	uint8_t *want = pattern(total);
	struct hive_value_stat st;

	start(&f, 3, 20480);
	add(&f, "v", 3, total, image_cell(&f.im, want, total));
	h = finish(*state, &f);
	expect_data(*state, h, f.vals[0], want, total);
	assert_int_equal(hive_value_stat(h, f.vals[0], &st), HIVE_OK);
	assert_false(st.big_data);
	free(want);
	image_free(&f.im);
}

static void lookup_and_default(void **state)
{
	struct fixture f;
	struct hive *h;
	uint16_t name[16];
	size_t len;
	hive_value_t v;
	hive_value_t *vals;
	size_t n;

	start(&f, 5, 4096);
	add(&f, "Start", 4, 0x80000004u, 3);
	add(&f, "", 1, 0x80000000u, 0);
	h = finish(*state, &f);
	ascii16(name, "START", &len);
	assert_int_equal(hive_value_lookup(h, f.root, name, len, &v), HIVE_OK);
	assert_int_equal(v, f.vals[0]);
	assert_int_equal(hive_value_lookup(h, f.root, name, 0, &v), HIVE_OK);
	assert_int_equal(v, f.vals[1]);
	ascii16(name, "Stop", &len);
	assert_int_equal(hive_value_lookup(h, f.root, name, len, &v),
			 HIVE_E_NOT_FOUND);
	assert_int_equal(hive_key_values(*state, h, f.root, &vals, &n), HIVE_OK);
	assert_int_equal(n, 2);
	/* A value count beyond the list cell. */
	put32(image_at(&f.im, f.root) + 4 + NK_VALUE_COUNT, 100);
	h = open_image(*state, &f.im);
	assert_int_equal(hive_key_values(*state, h, f.root, &vals, &n),
			 HIVE_E_BOUNDS);
	image_free(&f.im);
}

static void type_names(void **state)
{
	assert_string_equal(hive_type_name(1), "REG_SZ");
	assert_string_equal(hive_type_name(11), "REG_QWORD");
	assert_null(hive_type_name(12));
	assert_null(hive_type_name(0xFFFF0010u));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		TEST(inline_data),
		TEST(exact_length_not_padding),
		TEST(big_data),
		TEST(large_plain_cell_in_1_3),
		TEST(lookup_and_default),
		TEST(type_names),
	};
	return cmocka_run_group_tests_name("value", tests, NULL, NULL);
}
