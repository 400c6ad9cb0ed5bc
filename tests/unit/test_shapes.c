/*
 * Subkey lists shaped to cost more than their size: an ri index naming
 * one leaf over and over, and an index of many leaves looked up by name.
 */
#include <stdio.h>
#include <string.h>

#include "common.h"
#include "layout.h"

#define LEAF_KEYS 4
#define RI_REPEATS 2000

/* An ri naming one lf of four keys 2000 times: listed once each. */
static void ri_repeating_a_leaf_lists_it_once(void **state)
{
	static const char *const names[LEAF_KEYS] = { "a", "b", "c", "d" };
	static uint32_t leaves[RI_REPEATS];
	struct image im;
	uint32_t root, kids[LEAF_KEYS], leaf;
	hive_key_t *keys, found;
	uint16_t name[4];
	size_t n, len;
	struct hive *h;

	image_init(&im, 5, 16384);
	root = image_nk(&im, "ROOT", HIVE_NO_CELL, 0, HIVE_NO_CELL, 0,
			HIVE_NO_CELL);
	for (int i = 0; i < LEAF_KEYS; i++)
		kids[i] = image_nk(&im, names[i], root, 0, HIVE_NO_CELL, 0,
				   HIVE_NO_CELL);
	leaf = image_list(&im, "lf", kids, LEAF_KEYS, names);
	for (int i = 0; i < RI_REPEATS; i++)
		leaves[i] = leaf;
	image_set_subkeys(&im, root, LEAF_KEYS * RI_REPEATS,
			  image_list(&im, "ri", leaves, RI_REPEATS, NULL));
	image_finish(&im, root);
	h = open_image(*state, &im);
	assert_int_equal(hive_key_subkeys(*state, h, root, &keys, &n), HIVE_OK);
	assert_int_equal(n, LEAF_KEYS);
	for (int i = 0; i < LEAF_KEYS; i++)
		assert_int_equal(keys[i], kids[i]);
	ascii16(name, "C", &len);
	assert_int_equal(hive_key_lookup(h, root, name, len, &found), HIVE_OK);
	assert_int_equal(found, kids[2]);
	ascii16(name, "e", &len);
	assert_int_equal(hive_key_lookup(h, root, name, len, &found),
			 HIVE_E_NOT_FOUND);
	image_free(&im);
}

#define LEAVES 37
#define PER_LEAF 5

/* Every key of a 37-leaf index is found by name; names between, before
 * and after them are not. */
static void ri_of_many_leaves_is_searched(void **state)
{
	static char text[LEAVES * PER_LEAF][8];
	static const char *names[LEAVES * PER_LEAF];
	uint32_t kids[LEAVES * PER_LEAF], leaves[LEAVES], root;
	struct image im;
	hive_key_t found;
	uint16_t name[8];
	size_t len;
	struct hive *h;

	image_init(&im, 5, 65536);
	root = image_nk(&im, "ROOT", HIVE_NO_CELL, 0, HIVE_NO_CELL, 0,
			HIVE_NO_CELL);
	for (int i = 0; i < LEAVES * PER_LEAF; i++) {
		snprintf(text[i], sizeof(text[i]), "k%04d", 2 * i + 1);
		names[i] = text[i];
		kids[i] = image_nk(&im, names[i], root, 0, HIVE_NO_CELL, 0,
				   HIVE_NO_CELL);
	}
	for (int l = 0; l < LEAVES; l++)
		leaves[l] = image_list(&im, "lh", kids + l * PER_LEAF, PER_LEAF,
				       names + l * PER_LEAF);
	image_set_subkeys(&im, root, LEAVES * PER_LEAF,
			  image_list(&im, "ri", leaves, LEAVES, NULL));
	image_finish(&im, root);
	h = open_image(*state, &im);
	for (int i = 0; i <= 2 * LEAVES * PER_LEAF; i++) {
		char probe[8];

		snprintf(probe, sizeof(probe), "K%04d", i);
		ascii16(name, probe, &len);
		if (i % 2) {
			assert_int_equal(hive_key_lookup(h, root, name, len,
							 &found), HIVE_OK);
			assert_int_equal(found, kids[i / 2]);
		} else {
			assert_int_equal(hive_key_lookup(h, root, name, len,
							 &found),
					 HIVE_E_NOT_FOUND);
		}
	}
	image_free(&im);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		TEST(ri_repeating_a_leaf_lists_it_once),
		TEST(ri_of_many_leaves_is_searched),
	};
	return cmocka_run_group_tests_name("shapes", tests, NULL, NULL);
}
