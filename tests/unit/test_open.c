/* Opening: base block checksum and fields, hive bins, truncation. */
#include <string.h>

#include "common.h"
#include "layout.h"

static void minimal(struct image *im, uint32_t minor)
{
	image_init(im, minor, 4096);
	image_finish(im, image_nk(im, "ROOT", HIVE_NO_CELL, 0, HIVE_NO_CELL, 0,
				  HIVE_NO_CELL));
}

static int open_status(void *mem, struct image *im)
{
	struct hive *h;
	int ret = hive_open_memory(mem, im->buf, im->len, 0, &h);

	if (ret == HIVE_OK)
		talloc_free(h);
	return ret;
}

static void checksum_reserved_values(void **state)
{
	uint8_t block[4096] = { 0 };

	/* All zero XORs to 0, stored as 1. */
	assert_int_equal(hv_header_checksum(block), 1);
	put32(block, 0xFFFFFFFFu);
	assert_int_equal(hv_header_checksum(block), 0xFFFFFFFEu);
	put32(block + 4, 0x12345678u);
	assert_int_equal(hv_header_checksum(block), 0xFFFFFFFFu ^ 0x12345678u);
	/* Bytes from 508 on are not covered. */
	put32(block + 508, 0xDEADBEEF);
	put32(block + 600, 0xDEADBEEF);
	assert_int_equal(hv_header_checksum(block), 0xFFFFFFFFu ^ 0x12345678u);
}

static void opens_minimal_hive(void **state)
{
	struct image im;
	struct hive *h;
	struct hive_info info;

	minimal(&im, 5);
	h = open_image(*state, &im);
	hive_get_info(h, &info);
	assert_int_equal(info.major, 1);
	assert_int_equal(info.minor, 5);
	assert_false(info.dirty);
	assert_int_equal(info.bin_count, 1);
	assert_int_equal(info.root, HBIN_HEADER_SIZE);
	assert_false(info.truncated);
	image_free(&im);
}

static void rejects_bad_base_blocks(void **state)
{
	struct image im;

	minimal(&im, 5);
	im.buf[0] = 'x';
	image_checksum(&im);
	assert_int_equal(open_status(*state, &im), HIVE_E_NOT_HIVE);
	memcpy(im.buf, "regf", 4);

	im.buf[100] ^= 1; /* checksum now wrong */
	assert_int_equal(open_status(*state, &im), HIVE_E_CHECKSUM);
	assert_non_null(strstr(hive_error_detail(), "computed"));

	put32(im.buf + REGF_MINOR, 2);
	image_checksum(&im);
	assert_int_equal(open_status(*state, &im), HIVE_E_VERSION);
	assert_non_null(strstr(hive_error_detail(), "1.2"));
	put32(im.buf + REGF_MINOR, 7);
	image_checksum(&im);
	assert_int_equal(open_status(*state, &im), HIVE_E_VERSION);
	put32(im.buf + REGF_MINOR, 3);
	put32(im.buf + REGF_TYPE, 6);
	image_checksum(&im);
	assert_int_equal(open_status(*state, &im), HIVE_E_NOT_HIVE);
	assert_non_null(strstr(hive_error_detail(), "log"));
	put32(im.buf + REGF_TYPE, 0);
	put32(im.buf + REGF_BINS_SIZE, 100);
	image_checksum(&im);
	assert_int_equal(open_status(*state, &im), HIVE_E_CORRUPT);

	assert_int_equal(hive_open_memory(*state, im.buf, 100, 0, &(struct hive *){ 0 }),
			 HIVE_E_NOT_HIVE);
	image_free(&im);
}

static void dirty_hive_opens_and_says_so(void **state)
{
	struct image im;
	struct hive_info info;

	minimal(&im, 3);
	put32(im.buf + REGF_SEQ1, 8);
	image_checksum(&im);
	hive_get_info(open_image(*state, &im), &info);
	assert_true(info.dirty);
	assert_int_equal(info.seq_primary, 8);
	assert_int_equal(info.seq_secondary, 7);
	image_free(&im);
}

static void truncated_file_keeps_what_is_there(void **state)
{
	struct image im;
	struct hive_info info;
	struct hive *h;

	minimal(&im, 5);
	put32(im.buf + REGF_BINS_SIZE, 3 * 4096); /* claims two bins more */
	image_checksum(&im);
	h = open_image(*state, &im);
	hive_get_info(h, &info);
	assert_true(info.truncated);
	assert_int_equal(info.bin_count, 1);
	/* Only the base block: nothing to read at all. */
	assert_int_equal(hive_open_memory(*state, im.buf, 4096 + 100, 0, &h),
			 HIVE_E_CORRUPT);
	image_free(&im);
}

static void bad_root_refused(void **state)
{
	struct image im;

	minimal(&im, 5);
	put32(im.buf + REGF_ROOT, 0x999);
	image_checksum(&im);
	assert_int_equal(open_status(*state, &im), HIVE_E_BOUNDS);
	put32(im.buf + REGF_ROOT, 0x10000);
	image_checksum(&im);
	assert_int_equal(open_status(*state, &im), HIVE_E_BOUNDS);
	image_free(&im);
}

static void damaged_bin_header_is_reported(void **state)
{
	struct image im;
	struct hive_info info;

	minimal(&im, 5);
	memcpy(im.buf + 4096, "gbin", 4);
	hive_get_info(open_image(*state, &im), &info);
	assert_int_equal(info.damaged_bins, 1);
	/* A bin whose size is unusable fences off its page: root unreadable. */
	put32(im.buf + 4096 + HBIN_SIZE, 7);
	assert_int_equal(open_status(*state, &im), HIVE_E_CORRUPT);
	image_free(&im);
}

static void space_accounting(void **state)
{
	struct image im;
	struct hive_space sp;

	minimal(&im, 5);
	assert_int_equal(hive_get_space(open_image(*state, &im), &sp), HIVE_OK);
	assert_int_equal(sp.allocated_cells, 1);
	assert_int_equal(sp.free_cells, 1);
	assert_int_equal(sp.allocated_bytes + sp.free_bytes, 4096 - 32);
	image_free(&im);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		TEST(checksum_reserved_values),
		TEST(opens_minimal_hive),
		TEST(rejects_bad_base_blocks),
		TEST(dirty_hive_opens_and_says_so),
		TEST(truncated_file_keeps_what_is_there),
		TEST(bad_root_refused),
		TEST(damaged_bin_header_is_reported),
		TEST(space_accounting),
	};
	return cmocka_run_group_tests_name("open", tests, NULL, NULL);
}
