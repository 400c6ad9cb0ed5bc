/*
 * Commits under failure: every write of a commit torn at many byte
 * prefixes (partial sectors included), every flush failing, running out
 * of space at each step.  After each fault the handle must be poisoned,
 * and reopening the file (which replays its logs) must give a hive with no
 * structural finding that holds either the state before the commit or the
 * state after it, never a mix.  A commit that returned holds after it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"

struct faults {
	long budget;       /* bytes the next pwrites may still write; <0 = no limit */
	int fail_fsync;    /* fail the n-th fsync (1-based); 0 = never */
	int fsync_errno;   /* ... with this errno (0 = EIO) */
	int fail_truncate; /* fail ftruncate */
	int fsyncs;
	long written;
};

static long faulty_pwrite(void *ctx, int fd, const void *buf, size_t len,
			  int64_t off)
{
	struct faults *f = ctx;
	ssize_t n;

	if (f->budget >= 0 && (long)len > f->budget)
		len = (size_t)f->budget;
	if (len == 0)
		return -ENOSPC;
	n = pwrite(fd, buf, len, (off_t)off);
	if (n < 0)
		return -errno;
	if (f->budget >= 0)
		f->budget -= n;
	f->written += n;
	return n;
}

static int faulty_fsync(void *ctx, int fd)
{
	struct faults *f = ctx;

	if (++f->fsyncs == f->fail_fsync)
		return f->fsync_errno ? -f->fsync_errno : -EIO;
	return fsync(fd) < 0 ? -errno : 0;
}

static int faulty_truncate(void *ctx, int fd, int64_t len)
{
	struct faults *f = ctx;

	if (f->fail_truncate)
		return -ENOSPC;
	return ftruncate(fd, (off_t)len) < 0 ? -errno : 0;
}

/* The engine's file calls, failing as f says. */
static struct hive_io faulty_io(struct faults *f)
{
	return (struct hive_io){
		.pwrite = faulty_pwrite,
		.fsync = faulty_fsync,
		.ftruncate = faulty_truncate,
		.ctx = f,
	};
}

static uint8_t payload[40000];

static void name16(uint16_t *out, size_t *len, const char *s)
{
	ascii16(out, s, len);
}

/* A committed hive with 40 keys; returns its path under `dir`. */
static char *prepare(void *mem, const char *dir)
{
	char *path = talloc_asprintf(mem, "%s/hive", dir);
	struct hive *h;
	uint16_t n[32];
	size_t len;
	hive_key_t k;

	name16(n, &len, "ROOT");
	assert_int_equal(hive_create(mem, 5, n, len, &h), HIVE_OK);
	assert_int_equal(hive_save_as(h, path), HIVE_OK);
	talloc_free(h);
	assert_int_equal(hive_open(mem, path, 0, &h), HIVE_OK);
	for (int i = 0; i < 40; i++) {
		char s[16];
		snprintf(s, sizeof(s), "Key%02d", i);
		name16(n, &len, s);
		assert_int_equal(hive_key_create(h, hive_root(h), n, len, &k), HIVE_OK);
	}
	assert_int_equal(hive_commit(h), HIVE_OK);
	talloc_free(h);
	return path;
}

/* Open path writable through io, with new key `key` holding value Data. */
static struct hive *open_with_new_value(void *mem, const char *path,
					const struct hive_io *io,
					const char *key, const uint8_t *data,
					size_t data_len)
{
	struct hive *h;
	uint16_t n[32];
	size_t len;
	hive_key_t k;

	assert_int_equal(hive_open(mem, path, 0, &h), HIVE_OK);
	hive_set_io(h, io);
	name16(n, &len, key);
	assert_int_equal(hive_key_create(h, hive_root(h), n, len, &k), HIVE_OK);
	name16(n, &len, "Data");
	assert_int_equal(hive_value_set(h, k, n, len, 3, data, data_len, NULL),
			 HIVE_OK);
	return h;
}

/* The change under test: a new key with a big value, one key deleted. */
static int change_and_commit(void *mem, const char *path, struct faults *f)
{
	const struct hive_io io = faulty_io(f);
	struct hive *h = open_with_new_value(mem, path, &io, "New", payload,
					     sizeof(payload));
	uint16_t n[32];
	size_t len;
	hive_key_t k;
	int ret;

	name16(n, &len, "Key07");
	assert_int_equal(hive_key_lookup(h, hive_root(h), n, len, &k), HIVE_OK);
	assert_int_equal(hive_key_delete(h, k), HIVE_OK);
	ret = hive_commit(h);
	if (ret != HIVE_OK) {
		assert_true(hive_is_poisoned(h));
		name16(n, &len, "Other");
		assert_int_equal(hive_key_create(h, hive_root(h), n, len, &k),
				 HIVE_E_POISONED);
		assert_int_equal(hive_commit(h), HIVE_E_POISONED);
	}
	talloc_free(h);
	return ret;
}

static void no_findings(void *arg, const char *finding)
{
	fail_msg("finding after recovery: %s", finding);
}

/* 0 = old state, 1 = new state; fails on anything else. */
static int state_of(void *mem, const char *path)
{
	struct hive *h;
	uint16_t n[32];
	size_t len, count, dlen;
	hive_key_t *kids, k;
	hive_value_t v;
	uint8_t *data;

	assert_int_equal(hive_open(mem, path, HIVE_OPEN_READ_ONLY, &h), HIVE_OK);
	assert_int_equal(hive_check(h, no_findings, NULL), 0);
	assert_int_equal(hive_key_subkeys(mem, h, hive_root(h), &kids, &count),
			 HIVE_OK);
	name16(n, &len, "New");
	if (hive_key_lookup(h, hive_root(h), n, len, &k) != HIVE_OK) {
		assert_int_equal(count, 40);
		talloc_free(h);
		return 0;
	}
	assert_int_equal(count, 40);
	name16(n, &len, "data");
	assert_int_equal(hive_value_lookup(h, k, n, len, &v), HIVE_OK);
	assert_int_equal(hive_value_data(mem, h, v, &data, &dlen), HIVE_OK);
	assert_int_equal(dlen, sizeof(payload));
	assert_memory_equal(data, payload, dlen);
	name16(n, &len, "Key07");
	assert_int_equal(hive_key_lookup(h, hive_root(h), n, len, &k),
			 HIVE_E_NOT_FOUND);
	talloc_free(h);
	return 1;
}

static void clean_commit_holds(void **state)
{
	char *dir = test_dir(*state);
	char *path = prepare(*state, dir);
	struct faults f = { .budget = -1 };

	assert_int_equal(change_and_commit(*state, path, &f), HIVE_OK);
	assert_int_equal(state_of(*state, path), 1);
	test_dir_remove(dir);
}

static void torn_writes(void **state)
{
	struct faults probe = { .budget = -1 };
	char *dir = test_dir(*state);
	char *path = prepare(*state, dir);
	long total;
	unsigned old_states = 0, new_states = 0, cases = 0;

	assert_int_equal(change_and_commit(*state, path, &probe), HIVE_OK);
	total = probe.written;
	test_dir_remove(dir);
	/* Every sector boundary of everything a commit writes, and a byte
	 * either side of it (torn sectors). */
	for (long budget = 0; budget < total; budget += 512) {
		for (long delta = -1; delta <= 1; delta++) {
			struct faults f = { .budget = budget + delta };
			if (f.budget < 0)
				continue;
			dir = test_dir(*state);
			path = prepare(*state, dir);
			assert_int_not_equal(change_and_commit(*state, path, &f), HIVE_OK);
			if (state_of(*state, path))
				new_states++;
			else
				old_states++;
			cases++;
			test_dir_remove(dir);
		}
	}
	print_message("torn writes: %u cases over %ld bytes: %u old, %u new\n",
		      cases, total, old_states, new_states);
	assert_true(old_states > 0 && new_states > 0);
}

static void failed_flushes_and_truncate(void **state)
{
	for (int n = 1; n <= 4; n++) {
		struct faults f = { .budget = -1, .fail_fsync = n };
		char *dir = test_dir(*state);
		char *path = prepare(*state, dir);

		assert_int_not_equal(change_and_commit(*state, path, &f), HIVE_OK);
		state_of(*state, path);
		test_dir_remove(dir);
	}
	struct faults f = { .budget = -1, .fail_truncate = 1 };
	char *dir = test_dir(*state);
	char *path = prepare(*state, dir);
	assert_int_not_equal(change_and_commit(*state, path, &f), HIVE_OK);
	assert_int_equal(state_of(*state, path), 0);
	test_dir_remove(dir);
}

/* A full file system or quota is told apart from other failures (ENOSPC,
 * not EIO), and nothing acknowledged is lost: the handle is poisoned as
 * for any failed write and the file holds the state before the commit. */
static void full_disk_is_nospc(void **state)
{
	static const struct { long budget; int fail_fsync, fsync_errno; } cases[] = {
		{ 0, 0, 0 },            /* the first write of the log */
		{ 700, 0, 0 },          /* a torn log sector */
		{ -1, 1, ENOSPC },      /* a flush (NFS, thin provisioning) */
		{ -1, 1, EDQUOT },
	};

	assert_int_equal(hive_error_to_errno(HIVE_E_NOSPC), ENOSPC);
	assert_string_equal(hive_strerror(HIVE_E_NOSPC),
			    "no space left on the file system");
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct faults f = { .budget = cases[c].budget,
				    .fail_fsync = cases[c].fail_fsync,
				    .fsync_errno = cases[c].fsync_errno };
		char *dir = test_dir(*state);
		char *path = prepare(*state, dir);

		assert_int_equal(change_and_commit(*state, path, &f), HIVE_E_NOSPC);
		assert_int_equal(state_of(*state, path), 0);
		test_dir_remove(dir);
	}
}

/*
 * A change larger than the buffer a log entry is written through (1 MiB):
 * the entry goes out in pieces and is hashed across them.  Stopping the
 * commit at each flush must still leave the old state or, once the log is
 * flushed, a log that replays into the new one.
 */
static uint8_t big[3u << 20];

static int big_change_and_commit(void *mem, const char *path, struct faults *f)
{
	const struct hive_io io = faulty_io(f);
	struct hive *h = open_with_new_value(mem, path, &io, "Big", big,
					     sizeof(big));
	int ret = hive_commit(h);

	talloc_free(h);
	return ret;
}

static int big_state_of(void *mem, const char *path)
{
	struct hive *h;
	uint16_t n[32];
	size_t len, dlen;
	hive_key_t k;
	hive_value_t v;
	uint8_t *data;
	int found;

	assert_int_equal(hive_open(mem, path, HIVE_OPEN_READ_ONLY, &h), HIVE_OK);
	assert_int_equal(hive_check(h, no_findings, NULL), 0);
	name16(n, &len, "Big");
	found = hive_key_lookup(h, hive_root(h), n, len, &k) == HIVE_OK;
	if (found) {
		name16(n, &len, "Data");
		assert_int_equal(hive_value_lookup(h, k, n, len, &v), HIVE_OK);
		assert_int_equal(hive_value_data(mem, h, v, &data, &dlen), HIVE_OK);
		assert_int_equal(dlen, sizeof(big));
		assert_memory_equal(data, big, dlen);
	}
	talloc_free(h);
	return found;
}

static void big_entry_in_pieces(void **state)
{
	unsigned old_states = 0, new_states = 0;
	struct faults probe = { .budget = -1 };
	char *dir = test_dir(*state);
	char *path = prepare(*state, dir);

	assert_int_equal(big_change_and_commit(*state, path, &probe), HIVE_OK);
	assert_int_equal(big_state_of(*state, path), 1);
	assert_true(probe.written > 2 * (long)sizeof(big));
	test_dir_remove(dir);
	for (int fail = 1; fail <= probe.fsyncs; fail++) {
		struct faults f = { .budget = -1, .fail_fsync = fail };

		dir = test_dir(*state);
		path = prepare(*state, dir);
		assert_int_not_equal(big_change_and_commit(*state, path, &f),
				     HIVE_OK);
		if (big_state_of(*state, path))
			new_states++;
		else
			old_states++;
		test_dir_remove(dir);
	}
	/* Some flush comes before the log is durable, some after it. */
	assert_true(old_states > 0 && new_states > 0);
}

static void second_writer_refused(void **state)
{
	char *dir = test_dir(*state);
	char *path = prepare(*state, dir);
	struct hive *a, *b;

	assert_int_equal(hive_open(*state, path, 0, &a), HIVE_OK);
	assert_int_equal(hive_open(*state, path, 0, &b), HIVE_E_READ_ONLY);
	/* Readers are not writers. */
	assert_int_equal(hive_open(*state, path, HIVE_OPEN_READ_ONLY, &b), HIVE_OK);
	talloc_free(a);
	test_dir_remove(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		TEST(clean_commit_holds),
		TEST(torn_writes),
		TEST(failed_flushes_and_truncate),
		TEST(full_disk_is_nospc),
		TEST(big_entry_in_pieces),
		TEST(second_writer_refused),
	};
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 31 + 7);
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 131 + i / 4099);
	return cmocka_run_group_tests_name("commit", tests, NULL, NULL);
}
