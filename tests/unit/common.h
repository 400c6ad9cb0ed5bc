/* common.h — cmocka set-up shared by the engine's unit tests. */
#ifndef TESTS_COMMON_H
#define TESTS_COMMON_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <talloc.h>

#include "builder.h"
#include "hive.h"

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
	size_t blocks;

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
