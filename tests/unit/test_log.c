/*
 * Log replay against hostile logs (issue #12, item 3): a log may grow the
 * hive only as far as the pages it carries, whatever its headers claim;
 * many tiny entries replay in linear time.  Logs are built here with valid
 * Marvin32 hashes and given to replay from memory.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common.h"
#include "layout.h"

#define SECTOR 512u
#define PAGE 4096u
#define HUGE_BINS 0xFFFFF000u

static void count(void *arg, const char *text)
{
	(void)text;
	(*(unsigned *)arg)++;
}

struct buf {
	uint8_t *p;
	size_t len, cap;
};

static void append(struct buf *b, const void *data, size_t len)
{
	if (b->len + len > b->cap) {
		b->cap = (b->len + len) * 2;
		b->p = realloc(b->p, b->cap);
		assert_non_null(b->p);
	}
	if (data)
		memcpy(b->p + b->len, data, len);
	else
		memset(b->p + b->len, 0, len);
	b->len += len;
}

/* A clean 1.5 hive with a few keys: its image, and it made dirty. */
struct primary {
	uint8_t *image;
	size_t len;
	uint32_t bins, seq;
};

static void make_primary(void *mem, struct primary *p)
{
	struct hive *h;
	uint16_t n[16];
	size_t len;
	hive_key_t k;

	ascii16(n, "ROOT", &len);
	assert_int_equal(hive_create(mem, 5, n, len, &h), HIVE_OK);
	ascii16(n, "Software", &len);
	assert_int_equal(hive_key_create(h, hive_root(h), n, len, &k), HIVE_OK);
	p->len = h->image_len;
	p->image = talloc_memdup(mem, h->image, p->len);
	p->bins = le32(p->image + REGF_BINS_SIZE);
	p->seq = le32(p->image + REGF_SEQ2);
	put_le32(p->image + REGF_SEQ1, p->seq + 1);
	put_le32(p->image + REGF_CHECKSUM, hv_header_checksum(p->image));
	talloc_free(h);
}

static void base_sector(struct buf *log, const struct primary *p, uint32_t type,
			uint32_t seq, uint32_t bins)
{
	uint8_t b[SECTOR];

	memcpy(b, p->image, SECTOR);
	put_le32(b + REGF_SEQ1, seq);
	put_le32(b + REGF_SEQ2, seq);
	put_le32(b + REGF_TYPE, type);
	put_le32(b + REGF_BINS_SIZE, bins);
	put_le32(b + REGF_CHECKSUM, hv_header_checksum(b));
	append(log, b, SECTOR);
}

struct page {
	uint32_t off;
	const uint8_t *data;
	uint32_t len;
};

static void entry(struct buf *log, uint32_t seq, uint32_t bins,
		  const struct page *pages, uint32_t n)
{
	size_t body = 8 * (size_t)n, size;

	for (uint32_t i = 0; i < n; i++)
		body += pages[i].len;
	size = (40 + body + SECTOR - 1) / SECTOR * SECTOR;
	uint8_t *e = calloc(1, size), *at = e + 40 + 8 * (size_t)n;
	assert_non_null(e);
	memcpy(e, "HvLE", 4);
	put_le32(e + 4, (uint32_t)size);
	put_le32(e + 12, seq);
	put_le32(e + 16, bins);
	put_le32(e + 20, n);
	for (uint32_t i = 0; i < n; i++) {
		put_le32(e + 40 + 8 * i, pages[i].off);
		put_le32(e + 44 + 8 * i, pages[i].len);
		memcpy(at, pages[i].data, pages[i].len);
		at += pages[i].len;
	}
	put_le64(e + 24, hv_marvin32(e + 40, size - 40));
	put_le64(e + 32, hv_marvin32(e, 32));
	append(log, e, size);
	free(e);
}

static void empty_bin(uint8_t *b, uint32_t off, uint32_t size)
{
	memset(b, 0, size);
	memcpy(b, "hbin", 4);
	put_le32(b + HBIN_OFFSET, off);
	put_le32(b + HBIN_SIZE, size);
	put_le32(b + HBIN_HEADER_SIZE, size - HBIN_HEADER_SIZE);
}

/* Open `p` with `log` as .LOG1 (or .LOG when old). */
static int open_with(void *mem, const struct primary *p, const struct buf *log,
		     const struct buf *log2, bool old, struct hive **h)
{
	const uint8_t *data[3] = { NULL, NULL, NULL };
	size_t lens[3] = { 0, 0, 0 };

	data[old ? 0 : 1] = log->p;
	lens[old ? 0 : 1] = log->len;
	if (log2) {
		data[2] = log2->p;
		lens[2] = log2->len;
	}
	return hv_open_memory_logs(mem, p->image, p->len, data, lens, 0, h);
}

static void huge_bins_refused(void **state)
{
	struct primary p;
	struct buf log = { 0 };
	struct hive *h;

	make_primary(*state, &p);
	base_sector(&log, &p, 6, p.seq, p.bins);
	struct page pg = { 0, p.image + PAGE, PAGE };
	entry(&log, p.seq, HUGE_BINS, &pg, 1);
	assert_int_equal(open_with(*state, &p, &log, NULL, false, &h), HIVE_OK);
	assert_non_null(strstr(hive_recovery_note(h), "log replay failed"));
	assert_true(h->image_len <= p.len);
	assert_non_null(hive_read_only_reason(h)); /* still dirty */
	free(log.p);
}

static void far_page_refused(void **state)
{
	struct primary p;
	struct buf log = { 0 };
	struct hive *h;
	uint8_t bin[PAGE];

	make_primary(*state, &p);
	base_sector(&log, &p, 6, p.seq, p.bins);
	empty_bin(bin, HUGE_BINS - PAGE, PAGE);
	struct page pg = { HUGE_BINS - PAGE, bin, PAGE };
	entry(&log, p.seq, HUGE_BINS, &pg, 1);
	assert_int_equal(open_with(*state, &p, &log, NULL, false, &h), HIVE_OK);
	assert_non_null(strstr(hive_recovery_note(h), "does not carry"));
	assert_true(h->image_len <= p.len);
	free(log.p);
}

/* Growth the entry carries whole (one new bin) is applied. */
static void carried_growth_applies(void **state)
{
	struct primary p;
	struct buf log = { 0 };
	struct hive *h;
	uint8_t bin[PAGE];
	unsigned findings = 0;

	make_primary(*state, &p);
	base_sector(&log, &p, 6, p.seq, p.bins);
	empty_bin(bin, p.bins, PAGE);
	struct page pg[2] = { { 0, p.image + PAGE, PAGE }, { p.bins, bin, PAGE } };
	entry(&log, p.seq, p.bins + PAGE, pg, 2);
	assert_int_equal(open_with(*state, &p, &log, NULL, false, &h), HIVE_OK);
	assert_non_null(strstr(hive_recovery_note(h), "replayed 1 log entry"));
	assert_int_equal(h->image_len, p.len + PAGE);
	assert_null(hive_read_only_reason(h));
	assert_int_equal(hive_check(h, count, &findings), 0);
	free(log.p);
}

/* Growth with a page missing in the middle is not. */
static void growth_with_a_hole_refused(void **state)
{
	struct primary p;
	struct buf log = { 0 };
	struct hive *h;
	uint8_t bin[3 * PAGE];

	make_primary(*state, &p);
	base_sector(&log, &p, 6, p.seq, p.bins);
	empty_bin(bin, p.bins, 3 * PAGE);
	struct page pg[2] = { { p.bins, bin, PAGE },
			      { p.bins + 2 * PAGE, bin + 2 * PAGE, PAGE } };
	entry(&log, p.seq, p.bins + 3 * PAGE, pg, 2);
	assert_int_equal(open_with(*state, &p, &log, NULL, false, &h), HIVE_OK);
	assert_non_null(strstr(hive_recovery_note(h), "log replay failed"));
	assert_true(h->image_len <= p.len);
	free(log.p);
}

/* A sound entry, then one that claims 4 GiB: replay stops between them. */
static void replay_stops_before_the_bad_entry(void **state)
{
	struct primary p;
	struct buf log = { 0 };
	struct hive *h;

	make_primary(*state, &p);
	base_sector(&log, &p, 6, p.seq, p.bins);
	struct page pg = { 0, p.image + PAGE, PAGE };
	entry(&log, p.seq, p.bins, &pg, 1);
	entry(&log, p.seq + 1, HUGE_BINS, &pg, 1);
	assert_int_equal(open_with(*state, &p, &log, NULL, false, &h), HIVE_OK);
	assert_non_null(strstr(hive_recovery_note(h), "replayed 1 log entry"));
	assert_non_null(strstr(hive_recovery_note(h), "not applied"));
	assert_true(h->image_len <= p.len);
	assert_null(hive_read_only_reason(h));
	free(log.p);
}

/* Old format: a base block claiming almost 4 GiB with one dirty sector. */
static void old_format_huge_bins_refused(void **state)
{
	struct primary p;
	struct buf log = { 0 };
	struct hive *h;
	size_t bitmap = HUGE_BINS / SECTOR / 8;

	make_primary(*state, &p);
	base_sector(&log, &p, 1, p.seq + 1, HUGE_BINS);
	append(&log, "DIRT", 4);
	append(&log, NULL, bitmap);
	log.p[SECTOR + 4] = 1;                  /* sector 0 */
	append(&log, NULL, (SECTOR - log.len % SECTOR) % SECTOR);
	append(&log, p.image + PAGE, SECTOR);
	assert_int_equal(open_with(*state, &p, &log, NULL, true, &h), HIVE_OK);
	assert_non_null(strstr(hive_recovery_note(h), "does not carry sector"));
	assert_true(h->image_len <= p.len);
	free(log.p);
}

/* Old format, sound: the first sector of the bins, same bins size. */
static void old_format_sound_applies(void **state)
{
	struct primary p;
	struct buf log = { 0 };
	struct hive *h;

	make_primary(*state, &p);
	base_sector(&log, &p, 1, p.seq + 1, p.bins);
	append(&log, "DIRT", 4);
	append(&log, NULL, p.bins / SECTOR / 8);
	log.p[SECTOR + 4] = 1;
	append(&log, NULL, (SECTOR - log.len % SECTOR) % SECTOR);
	append(&log, p.image + PAGE, SECTOR);
	assert_int_equal(open_with(*state, &p, &log, NULL, true, &h), HIVE_OK);
	assert_non_null(strstr(hive_recovery_note(h), "replayed 1 dirty sectors"));
	assert_null(hive_read_only_reason(h));
	free(log.p);
}

/* 4000 one-sector entries alternating between the two logs. */
static void many_tiny_entries(void **state)
{
	struct primary p;
	struct buf log1 = { 0 }, log2 = { 0 };
	struct hive *h;
	char want[64];

	make_primary(*state, &p);
	base_sector(&log1, &p, 6, p.seq, p.bins);
	base_sector(&log2, &p, 6, p.seq + 1, p.bins);
	struct page pg = { 0, p.image + PAGE, SECTOR };
	for (uint32_t i = 0; i < 4000; i++)
		entry(i % 2 ? &log2 : &log1, p.seq + i, p.bins, &pg, 1);
	clock_t start = clock();
	assert_int_equal(open_with(*state, &p, &log1, &log2, false, &h), HIVE_OK);
	double seconds = (double)(clock() - start) / CLOCKS_PER_SEC;
	snprintf(want, sizeof(want), "replayed 4000 log entries (sequence %u-%u)",
		 p.seq, p.seq + 3999);
	assert_string_equal(hive_recovery_note(h), want);
	assert_true(seconds < 5);               /* linear: well under 0.1 s */
	free(log1.p);
	free(log2.p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		TEST(huge_bins_refused),
		TEST(far_page_refused),
		TEST(carried_growth_applies),
		TEST(growth_with_a_hole_refused),
		TEST(replay_stops_before_the_bad_entry),
		TEST(old_format_huge_bins_refused),
		TEST(old_format_sound_applies),
		TEST(many_tiny_entries),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
