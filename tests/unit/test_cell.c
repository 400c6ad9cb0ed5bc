/* Cell bounds: every way a reference can point where it must not. */
#include <string.h>

#include "common.h"
#include "layout.h"

struct fixture {
	struct image im;
	uint32_t root, cell, free_cell, last;
};

static struct hive *build(void *mem, struct fixture *f)
{
	uint8_t data[40] = "0123456789";

	image_init(&f->im, 5, 8192);
	f->root = image_nk(&f->im, "R", HIVE_NO_CELL, 0, HIVE_NO_CELL, 0,
			   HIVE_NO_CELL);
	f->cell = image_cell(&f->im, data, 36); /* size 40 */
	f->free_cell = image_cell(&f->im, NULL, 12);
	put32(image_at(&f->im, f->free_cell), 16); /* positive: free */
	/* The last cell of the first bin claims to run past its end. */
	f->im.next = 4096 - 16;
	f->last = image_cell(&f->im, NULL, 8);
	put32(image_at(&f->im, f->last), (uint32_t)-64);
	/* Second bin at 4096. */
	memcpy(image_at(&f->im, 4096), "hbin", 4);
	put32(image_at(&f->im, 4096) + HBIN_OFFSET, 4096);
	put32(image_at(&f->im, 4096) + HBIN_SIZE, 4096);
	put32(f->im.buf + REGF_BINS_SIZE, 8192);
	put32(image_at(&f->im, 0) + HBIN_SIZE, 4096);
	f->im.next = 4096 + 32;
	image_cell(&f->im, NULL, 4096 - 32 - 4);
	f->im.bin_size = 8192;
	put32(f->im.buf + REGF_ROOT, f->root);
	image_checksum(&f->im);
	return open_image(mem, &f->im);
}

static void valid_cell_exact_length(void **state)
{
	struct fixture f;
	struct hive *h = build(*state, &f);
	const uint8_t *d;
	uint32_t len;

	assert_int_equal(hv_cell(h, f.cell, &d, &len), HIVE_OK);
	assert_int_equal(len, 36);
	assert_memory_equal(d, "0123456789", 10);
	image_free(&f.im);
}

static void out_of_bounds_references(void **state)
{
	struct fixture f;
	struct hive *h = build(*state, &f);
	const uint8_t *d;
	uint32_t len;

	assert_int_equal(hv_cell(h, HIVE_NO_CELL, &d, &len), HIVE_E_BOUNDS);
	assert_int_equal(hv_cell(h, 8192, &d, &len), HIVE_E_BOUNDS);
	assert_int_equal(hv_cell(h, 0x7FFFFFF8, &d, &len), HIVE_E_BOUNDS);
	assert_int_equal(hv_cell(h, f.cell + 4, &d, &len), HIVE_E_BOUNDS);
	/* Into a bin header. */
	assert_int_equal(hv_cell(h, 0, &d, &len), HIVE_E_BOUNDS);
	assert_int_equal(hv_cell(h, 4096 + 8, &d, &len), HIVE_E_BOUNDS);
	/* Free cell. */
	assert_int_equal(hv_cell(h, f.free_cell, &d, &len), HIVE_E_CORRUPT);
	/* Crossing into the next bin. */
	assert_int_equal(hv_cell(h, f.last, &d, &len), HIVE_E_BOUNDS);
	image_free(&f.im);
}

static void absurd_sizes(void **state)
{
	struct fixture f;
	struct hive *h = build(*state, &f);
	const uint8_t *d;
	uint32_t len;

	put32(image_at(&f.im, f.cell), 0x80000000u); /* INT32_MIN */
	h = open_image(*state, &f.im);
	assert_int_equal(hv_cell(h, f.cell, &d, &len), HIVE_E_BOUNDS);
	put32(image_at(&f.im, f.cell), (uint32_t)-4); /* smaller than a header */
	h = open_image(*state, &f.im);
	assert_int_equal(hv_cell(h, f.cell, &d, &len), HIVE_E_BOUNDS);
	image_free(&f.im);
}

static void record_signature_and_length(void **state)
{
	struct fixture f;
	struct hive *h = build(*state, &f);
	const uint8_t *d;
	uint32_t len;

	assert_int_equal(hv_record(h, f.root, "nk", NK_FIXED_SIZE, &d, &len),
			 HIVE_OK);
	assert_int_equal(hv_record(h, f.root, "vk", 4, &d, &len),
			 HIVE_E_CORRUPT);
	assert_int_equal(hv_record(h, f.cell, "nk", 4, &d, &len),
			 HIVE_E_CORRUPT);
	/* A name length beyond the cell. */
	put16(image_at(&f.im, f.root) + 4 + NK_NAME_LEN, 200);
	assert_int_equal(hive_open_memory(*state, f.im.buf, f.im.len, 0, &h),
			 HIVE_E_BOUNDS);
	image_free(&f.im);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		TEST(valid_cell_exact_length),
		TEST(out_of_bounds_references),
		TEST(absurd_sizes),
		TEST(record_signature_and_length),
	};
	return cmocka_run_group_tests_name("cell", tests, NULL, NULL);
}
