/* common.h — cmocka set-up shared by the engine's unit tests. */
#ifndef TESTS_COMMON_H
#define TESTS_COMMON_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <talloc.h>

#include "builder.h"
#include "hive.h"

/*
 * Scratch folders.  A failed assertion ends a test at once, past its own
 * clean-up, so every folder test_dir() makes is remembered until
 * test_dir_remove() removes it, and the teardown removes what is left.
 */
#define TEST_DIRS_MAX 16
struct test_dirs {
	char path[TEST_DIRS_MAX][64];
	unsigned count;
};

static inline struct test_dirs *test_dirs(void)
{
	static struct test_dirs dirs;

	return &dirs;
}

static inline int test_dir_rm(const char *dir)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd);
}

/* A new empty folder /tmp/hivefs-unit-XXXXXX, allocated under mem. */
static inline char *test_dir(void *mem)
{
	struct test_dirs *d = test_dirs();
	char *dir = talloc_strdup(mem, "/tmp/hivefs-unit-XXXXXX");

	assert_non_null(dir);
	assert_true(d->count < TEST_DIRS_MAX);
	assert_non_null(mkdtemp(dir));
	snprintf(d->path[d->count++], sizeof(d->path[0]), "%s", dir);
	return dir;
}

static inline void test_dir_remove(const char *dir)
{
	struct test_dirs *d = test_dirs();

	for (unsigned i = 0; i < d->count; i++)
		if (!strcmp(d->path[i], dir)) {
			d->count--;
			memmove(d->path[i], d->path[i + 1],
				(d->count - i) * sizeof(d->path[0]));
			break;
		}
	assert_int_equal(test_dir_rm(dir), 0);
}

/* Every test runs under its own talloc context; anything the engine left
 * outside it (a leak) fails the test in teardown. */
static inline int ctx_setup(void **state)
{
	talloc_enable_null_tracking();
	*state = talloc_new(NULL);
	return *state ? 0 : -1;
}

static inline int ctx_teardown(void **state)
{
	struct test_dirs *d = test_dirs();
	size_t blocks;

	while (d->count)
		test_dir_rm(d->path[--d->count]);
	talloc_free(*state);
	blocks = talloc_total_blocks(NULL);
	/* The null context itself counts as one block. */
	if (blocks > 1) {
		talloc_report_full(NULL, stderr);
		fail_msg("%zu talloc blocks leaked", blocks - 1);
	}
	talloc_disable_null_tracking();
	return 0;
}

#define TEST(f) cmocka_unit_test_setup_teardown(f, ctx_setup, ctx_teardown)

static inline struct hive *open_image(void *mem, struct image *im)
{
	struct hive *h = NULL;
	int ret = hive_open_memory(mem, im->buf, im->len, 0, &h);

	if (ret != HIVE_OK)
		fail_msg("open failed: %s: %s", hive_strerror(ret),
			 hive_error_detail());
	return h;
}

static inline void ascii16(uint16_t *out, const char *s, size_t *len)
{
	size_t i;

	for (i = 0; s[i]; i++)
		out[i] = (uint8_t)s[i];
	*len = i;
}

#endif
