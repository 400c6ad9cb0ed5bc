/*
 * What a hive must pass before it is written, and writes that must stay
 * inside their cell whatever the hive says (issue #12, items 10 and 11).
 */
#include <string.h>

#include "common.h"
#include "layout.h"

static void count(void *arg, const char *text)
{
	(void)text;
	(*(unsigned *)arg)++;
}

/*
 * A key whose parent field names a spot inside a data cell that reads as
 * an allocated cell of almost 2 GiB: moving the key must fail without
 * writing anything (the fuzz_write finding wrote past the dirty map).
 */
static void rename_with_bogus_parent(void **state)
{
	struct image im;
	uint8_t junk[64] = { 0 };
	uint16_t name[8];
	size_t len;
	hive_key_t moved;

	image_init(&im, 5, 8192);
	uint32_t root = image_nk(&im, "ROOT", HIVE_NO_CELL, 0, HIVE_NO_CELL, 0,
				 HIVE_NO_CELL);
	put32(junk + 4, 0x80000010u); /* a "cell" of -0x7FFFFFF0 bytes */
	uint32_t data = image_cell(&im, junk, sizeof(junk));
	uint32_t kid = image_nk(&im, "kid", data + 8, 0, HIVE_NO_CELL, 0,
				HIVE_NO_CELL);
	image_set_subkeys(&im, root, 1, image_list(&im, "li", &kid, 1, NULL));
	image_finish(&im, root);
	struct hive *h = open_image(*state, &im);

	assert_null(hive_read_only_reason(h));
	ascii16(name, "other", &len);
	/* Moved (to where it is listed): the old parent's list is edited. */
	assert_int_not_equal(hive_key_rename(h, kid, root, name, len, &moved),
			     HIVE_OK);
	assert_false(hive_is_modified(h));
	image_free(&im);
}

/*
 * A class reference into the middle of a value's data, where the bytes
 * look like a small allocated cell: replacing the class must not free
 * that "cell" (it would zero the value's data and let the allocator hand
 * the same bytes out twice).
 */
static void reference_inside_a_cell(void **state)
{
	struct image im;
	uint8_t bytes[64];
	uint16_t name[8];
	size_t len;
	uint8_t *got;
	size_t got_len;
	hive_value_t val;

	for (unsigned i = 0; i < sizeof(bytes); i++)
		bytes[i] = (uint8_t)(0x40 + i);
	put32(bytes + 12, (uint32_t)-16); /* looks like a 16-byte allocated cell */
	image_init(&im, 5, 8192);
	uint32_t data = image_cell(&im, bytes, sizeof(bytes));
	uint32_t vk = image_vk(&im, "v", HIVE_REG_BINARY, sizeof(bytes), data);
	uint32_t vlist = image_offsets(&im, &vk, 1);
	uint32_t root = image_nk(&im, "ROOT", HIVE_NO_CELL, 0, HIVE_NO_CELL, 1, vlist);
	put32(image_at(&im, root) + 4 + NK_CLASS, data + 16);
	put16(image_at(&im, root) + 4 + NK_CLASS_LEN, 4);
	image_finish(&im, root);
	struct hive *h = open_image(*state, &im);

	assert_int_equal(hive_key_set_class(h, root, "c\0l\0", 4), HIVE_OK);
	ascii16(name, "v", &len);
	assert_int_equal(hive_value_lookup(h, root, name, len, &val), HIVE_OK);
	assert_int_equal(hive_value_data(*state, h, val, &got, &got_len), HIVE_OK);
	assert_int_equal(got_len, sizeof(bytes));
	assert_memory_equal(got, bytes, sizeof(bytes));
	/* Later allocations never land inside the value's data either. */
	for (int i = 0; i < 20; i++) {
		char s[8] = { 'k', (char)('a' + i), 0 };
		hive_key_t k;
		ascii16(name, s, &len);
		assert_int_equal(hive_key_create(h, root, name, len, &k), HIVE_OK);
	}
	assert_int_equal(hive_value_data(*state, h, val, &got, &got_len), HIVE_OK);
	assert_memory_equal(got, bytes, sizeof(bytes));
	image_free(&im);
}

/* Cells that do not tile their bin: the hive opens read-only and says why. */
static void broken_tiling_is_read_only(void **state)
{
	struct image im;
	uint16_t name[8];
	size_t len;

	image_init(&im, 5, 8192);
	uint32_t root = image_nk(&im, "ROOT", HIVE_NO_CELL, 0, HIVE_NO_CELL, 0,
				 HIVE_NO_CELL);
	uint32_t filler = image_cell(&im, NULL, 40);
	image_finish(&im, root);
	put32(image_at(&im, filler), (uint32_t)-44); /* not a multiple of 8 */
	struct hive *h = open_image(*state, &im);

	assert_non_null(hive_read_only_reason(h));
	assert_non_null(strstr(hive_read_only_reason(h), "cells"));
	ascii16(name, "v", &len);
	assert_int_equal(hive_value_set(h, root, name, len, 4, "abcd", 4, NULL),
			 HIVE_E_READ_ONLY);
	image_free(&im);
}

/*
 * Windows XP leaves keys whose maximum subkey name length is below the
 * longest subkey's: a note for the tolerant check, a finding for the
 * strict one, and put right by the next change to the key's subkeys.
 */
static void stale_subkey_maxima(void **state)
{
	struct hive *h;
	uint16_t name[16];
	size_t len;
	hive_key_t parent, k;
	unsigned findings = 0, notes = 0;

	ascii16(name, "ROOT", &len);
	assert_int_equal(hive_create(*state, 5, name, len, &h), HIVE_OK);
	ascii16(name, "Parent", &len);
	assert_int_equal(hive_key_create(h, hive_root(h), name, len, &parent), HIVE_OK);
	ascii16(name, "Longest", &len);
	assert_int_equal(hive_key_create(h, parent, name, len, &k), HIVE_OK);
	ascii16(name, "abc", &len);
	assert_int_equal(hive_key_create(h, parent, name, len, &k), HIVE_OK);
	assert_int_equal(hive_check(h, count, &findings), 0);

	/* As Windows left it: the field says 0 (its flag half kept). */
	uint8_t *nk = h->bins + parent + CELL_HEADER_SIZE;
	put_le32(nk + NK_MAX_SUBKEY_NAME, le32(nk + NK_MAX_SUBKEY_NAME) & 0xFFFF0000u);
	assert_int_equal(hive_check_tolerant(h, count, count, &notes), 0);
	assert_int_equal(notes, 1);
	assert_int_equal(hive_check(h, count, &findings), 1);

	/* A shorter subkey added: the maximum covers every subkey again. */
	ascii16(name, "z", &len);
	assert_int_equal(hive_key_create(h, parent, name, len, &k), HIVE_OK);
	findings = 0;
	assert_int_equal(hive_check(h, count, &findings), 0);
	struct hive_key_stat st;
	assert_int_equal(hive_key_stat(h, parent, &st), HIVE_OK);
	assert_int_equal(st.max_subkey_name, 14);

	/* The same after a removal and after a rename. */
	/* (h->bins moves when the hive grows: found again each time.) */
	put_le32(h->bins + parent + CELL_HEADER_SIZE + NK_MAX_SUBKEY_NAME, 0);
	assert_int_equal(hive_key_delete(h, k), HIVE_OK);
	assert_int_equal(hive_check(h, count, &findings), 0);
	put_le32(h->bins + parent + CELL_HEADER_SIZE + NK_MAX_SUBKEY_NAME, 0);
	ascii16(name, "abc", &len);
	assert_int_equal(hive_key_lookup(h, parent, name, len, &k), HIVE_OK);
	ascii16(name, "abcd", &len);
	assert_int_equal(hive_key_rename(h, k, HIVE_NO_CELL, name, len, &k), HIVE_OK);
	assert_int_equal(hive_check(h, count, &findings), 0);
}

/*
 * An empty value may be given without a data buffer (an empty hex: line
 * in a .reg file): stored as zero inline bytes, never read from NULL.
 */
static void empty_value_without_buffer(void **state)
{
	struct hive *h;
	uint16_t name[16];
	size_t len;
	hive_value_t v;
	struct hive_value_stat st;
	unsigned findings = 0;

	ascii16(name, "ROOT", &len);
	assert_int_equal(hive_create(*state, 5, name, len, &h), HIVE_OK);
	ascii16(name, "Empty", &len);
	assert_int_equal(hive_value_set(h, hive_root(h), name, len, 3, NULL, 0,
					&v), HIVE_OK);
	assert_int_equal(hive_value_stat(h, v, &st), HIVE_OK);
	assert_int_equal(st.data_len, 0);
	assert_int_equal(st.type, 3);
	/* Replacing it with empty data again takes the same path. */
	assert_int_equal(hive_value_set(h, hive_root(h), name, len, 4, NULL, 0,
					&v), HIVE_OK);
	assert_int_equal(hive_check(h, count, &findings), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		TEST(rename_with_bogus_parent),
		TEST(empty_value_without_buffer),
		TEST(reference_inside_a_cell),
		TEST(broken_tiling_is_read_only),
		TEST(stale_subkey_maxima),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
