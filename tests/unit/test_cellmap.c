/*
 * The per-entry record table (fs/cellmap.c) against a plain model: random
 * puts, gets and key moves over a few keys and cells, so probes collide,
 * tables grow, and moves meet keys that already have records.
 */
#include <string.h>

#include "common.h"
#include "random.h"
/* The fs/ file under test. */
#include "cellmap.h"

#define KEYS 6
#define CELLS 700
#define NO_RECORD UINT32_MAX

static uint32_t key_cell(unsigned k)
{
	return 0x20u + 0x1000u * k;
}

static void check_all(const struct cellmap *m, uint32_t model[KEYS][CELLS])
{
	for (unsigned k = 0; k < KEYS; k++)
		for (unsigned c = 0; c < CELLS; c++) {
			const uint32_t *r = cellmap_get(m, key_cell(k), c);

			if (model[k][c] == NO_RECORD) {
				if (r)
					fail_msg("(%u, %u): a record %u where none is",
						 k, c, *r);
			} else if (!r) {
				fail_msg("(%u, %u): no record, expected %u", k, c,
					 model[k][c]);
			} else {
				assert_int_equal(*r, model[k][c]);
			}
		}
}

static void random_against_model(void **state)
{
	static uint32_t model[KEYS][CELLS];
	struct cellmap *m = cellmap_new(*state, sizeof(uint32_t));
	unsigned moves = 0;

	assert_non_null(m);
	assert_null(cellmap_get(m, key_cell(1), 5));
	memset(model, 0xFF, sizeof(model));
	rng_state = 20261203;
	for (unsigned op = 0; op < 40000; op++) {
		unsigned k = rng_below(KEYS), c = rng_below(CELLS);
		unsigned r = rng_below(1000);

		if (r < 990) {
			uint32_t *rec = cellmap_put(m, key_cell(k), c);
			uint32_t v = rng_below(1u << 30);

			assert_non_null(rec);
			if (model[k][c] == NO_RECORD)
				assert_int_equal(*rec, 0); /* zeroed when new */
			*rec = v;
			model[k][c] = v;
		} else {
			unsigned to = rng_below(KEYS);

			assert_int_equal(cellmap_key_moved(m, key_cell(k),
							   key_cell(to)), 0);
			if (to != k) {
				memcpy(model[to], model[k], sizeof(model[k]));
				memset(model[k], 0xFF, sizeof(model[k]));
				moves++;
			}
		}
		if (op % 4000 == 0)
			check_all(m, model);
	}
	check_all(m, model);
	assert_true(moves > 50);
}

/*
 * The shapes node.c really stores: one record per key under one entry
 * cell (a key's time under HIVE_NO_CELL, its next serial under 0), and
 * values' cells, all multiples of 8.  Look-ups must stay short however
 * many keys there are: a hash of the cell alone made each of 30,000 keys'
 * look-ups walk one run of all of them.
 */
static void records_spread(void **state)
{
	const unsigned keys = 30000;
	struct cellmap *m = cellmap_new(*state, sizeof(uint32_t));
	size_t total = 0, longest = 0, lookups = 0;

	assert_non_null(m);
	for (unsigned k = 0; k < keys; k++) {
		uint32_t key = 0x20u + 0x60u * k;

		assert_non_null(cellmap_put(m, key, 0xFFFFFFFFu));
		assert_non_null(cellmap_put(m, key, 0));
		assert_non_null(cellmap_put(m, key, key + 0x58u));
	}
	for (unsigned k = 0; k < keys; k++) {
		uint32_t key = 0x20u + 0x60u * k;
		const uint32_t cells[] = { 0xFFFFFFFFu, 0, key + 0x58u,
					   key + 0x30u /* absent */ };

		for (size_t c = 0; c < 4; c++) {
			size_t n = cellmap_probe_length(m, key, cells[c]);

			total += n;
			longest = n > longest ? n : longest;
			lookups++;
		}
	}
	/* At most half full: a few slots on average, never a long run. */
	if (total > 4 * lookups || longest > 64)
		fail_msg("look-ups read %.1f slots on average, %zu at most",
			 (double)total / (double)lookups, longest);
}

static void null_table_is_empty(void **state)
{
	(void)state;
	assert_null(cellmap_get(NULL, 0x20, 1));
	assert_int_equal(cellmap_key_moved(NULL, 0x20, 0x40), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		TEST(random_against_model),
		TEST(records_spread),
		TEST(null_table_is_empty),
	};
	return cmocka_run_group_tests_name("fs_cellmap", tests, NULL, NULL);
}
