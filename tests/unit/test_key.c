/* Subkey lists of every kind, lookup, enumeration and the walk. */
#include <string.h>

#include "common.h"
#include "layout.h"

/* Root with children "alpha", "Beta", "gamma", "DELTA" sorted by upcase. */
static const char *const sorted[] = { "alpha", "Beta", "DELTA", "gamma" };

static struct hive *with_list(void *mem, struct image *im, const char kind[2],
			      uint32_t *kids)
{
	uint32_t root;

	image_init(im, 5, 8192);
	root = image_nk(im, "ROOT", HIVE_NO_CELL, 0, HIVE_NO_CELL, 0, HIVE_NO_CELL);
	for (int i = 0; i < 4; i++)
		kids[i] = image_nk(im, sorted[i], root, 0, HIVE_NO_CELL, 0,
				   HIVE_NO_CELL);
	if (kind[0] == 'r') {
		/* Two lh leaves of two under one ri. */
		uint32_t leaves[2] = {
			image_list(im, "lh", kids, 2, sorted),
			image_list(im, "lh", kids + 2, 2, sorted + 2),
		};
		image_set_subkeys(im, root, 4, image_list(im, "ri", leaves, 2, NULL));
	} else {
		image_set_subkeys(im, root, 4, image_list(im, kind, kids, 4, sorted));
	}
	image_finish(im, root);
	return open_image(mem, im);
}

static void check_lookups(struct hive *h, const uint32_t *kids)
{
	static const char *const probes[] = { "ALPHA", "beta", "delta", "Gamma" };
	uint16_t name[16];
	size_t len;
	hive_key_t found;

	for (int i = 0; i < 4; i++) {
		ascii16(name, probes[i], &len);
		assert_int_equal(hive_key_lookup(h, hive_root(h), name, len, &found),
				 HIVE_OK);
		assert_int_equal(found, kids[i]);
	}
	ascii16(name, "epsilon", &len);
	assert_int_equal(hive_key_lookup(h, hive_root(h), name, len, &found),
			 HIVE_E_NOT_FOUND);
	ascii16(name, "alph", &len);
	assert_int_equal(hive_key_lookup(h, hive_root(h), name, len, &found),
			 HIVE_E_NOT_FOUND);
}

static void check_enumeration(void *mem, struct hive *h, const uint32_t *kids)
{
	hive_key_t *keys;
	size_t n;

	assert_int_equal(hive_key_subkeys(mem, h, hive_root(h), &keys, &n), HIVE_OK);
	assert_int_equal(n, 4);
	assert_memory_equal(keys, kids, 4 * sizeof(*kids));
}

static void list_kind(void **state, const char kind[2])
{
	struct image im;
	uint32_t kids[4];
	struct hive *h = with_list(*state, &im, kind, kids);

	check_lookups(h, kids);
	check_enumeration(*state, h, kids);
	image_free(&im);
}

static void list_li(void **state) { list_kind(state, "li"); }
static void list_lf(void **state) { list_kind(state, "lf"); }
static void list_lh(void **state) { list_kind(state, "lh"); }
static void list_ri(void **state) { list_kind(state, "ri"); }

static void unsorted_list_still_found(void **state)
{
	struct image im;
	uint32_t kids[4], shuffled[4];
	struct hive *h;
	const char *names[4];

	h = with_list(*state, &im, "lf", kids);
	/* Rewrite the list in reverse order (like yarp's WrongOrderHive). */
	for (int i = 0; i < 4; i++) {
		shuffled[i] = kids[3 - i];
		names[i] = sorted[3 - i];
	}
	image_set_subkeys(&im, HBIN_HEADER_SIZE, 4,
			  image_list(&im, "lf", shuffled, 4, names));
	image_finish(&im, HBIN_HEADER_SIZE);
	h = open_image(*state, &im);
	check_lookups(h, kids);
	image_free(&im);
}

static void bad_lists_fail_cleanly(void **state)
{
	struct image im;
	uint32_t kids[4];
	struct hive *h = with_list(*state, &im, "lh", kids);
	uint32_t root = hive_root(h), list;
	hive_key_t *keys;
	size_t n;
	uint16_t name[8];
	size_t len;
	hive_key_t found;

	ascii16(name, "beta", &len);
	/* Count larger than the cell. */
	list = le32(image_at(&im, root) + 4 + NK_SUBKEY_LIST);
	put16(image_at(&im, list) + 4 + LIST_COUNT, 5000);
	h = open_image(*state, &im);
	assert_int_equal(hive_key_subkeys(*state, h, root, &keys, &n), HIVE_E_BOUNDS);
	assert_int_equal(hive_key_lookup(h, root, name, len, &found), HIVE_E_BOUNDS);
	/* Unknown signature. */
	put16(image_at(&im, list) + 4 + LIST_COUNT, 4);
	memcpy(image_at(&im, list) + 4, "zz", 2);
	h = open_image(*state, &im);
	assert_int_equal(hive_key_subkeys(*state, h, root, &keys, &n), HIVE_E_CORRUPT);
	/* ri inside ri. */
	memcpy(image_at(&im, list) + 4, "lh", 2);
	uint32_t inner = image_list(&im, "ri", &list, 1, NULL);
	image_set_subkeys(&im, root, 4, image_list(&im, "ri", &inner, 1, NULL));
	image_finish(&im, root);
	h = open_image(*state, &im);
	assert_int_equal(hive_key_subkeys(*state, h, root, &keys, &n), HIVE_E_CORRUPT);
	/* A subkey count of 0 means no subkeys, whatever the list says. */
	image_set_subkeys(&im, root, 0, 0x12345);
	h = open_image(*state, &im);
	assert_int_equal(hive_key_subkeys(*state, h, root, &keys, &n), HIVE_OK);
	assert_int_equal(n, 0);
	image_free(&im);
}

static void path_lookup(void **state)
{
	struct image im;
	uint32_t kids[4];
	struct hive *h = with_list(*state, &im, "lh", kids);
	hive_key_t k;

	assert_int_equal(hive_key_lookup_path(h, hive_root(h), "\\GAMMA\\", &k),
			 HIVE_OK);
	assert_int_equal(k, kids[3]);
	assert_int_equal(hive_key_lookup_path(h, hive_root(h), "", &k), HIVE_OK);
	assert_int_equal(k, hive_root(h));
	assert_int_equal(hive_key_lookup_path(h, hive_root(h), "gamma\\x", &k),
			 HIVE_E_NOT_FOUND);
	image_free(&im);
}

struct walk_log {
	unsigned keys, cycles, other_errors;
	unsigned max_depth;
};

static int log_key(void *arg, hive_key_t key, unsigned depth)
{
	struct walk_log *w = arg;

	w->keys++;
	if (depth > w->max_depth)
		w->max_depth = depth;
	return 0;
}

static int log_error(void *arg, hive_key_t parent, unsigned depth,
		     hive_key_t child, int err)
{
	struct walk_log *w = arg;

	if (err == HIVE_E_CYCLE)
		w->cycles++;
	else
		w->other_errors++;
	return 0;
}

static void walk_detects_cycles(void **state)
{
	struct image im;
	uint32_t root, a, b, la, lb;
	struct walk_log w = { 0 };
	const struct hive_walk_ops ops = { log_key, NULL, log_error };
	struct hive *h;

	image_init(&im, 5, 4096);
	root = image_nk(&im, "R", HIVE_NO_CELL, 0, HIVE_NO_CELL, 0, HIVE_NO_CELL);
	a = image_nk(&im, "a", root, 0, HIVE_NO_CELL, 0, HIVE_NO_CELL);
	b = image_nk(&im, "b", a, 0, HIVE_NO_CELL, 0, HIVE_NO_CELL);
	la = image_list(&im, "li", &a, 1, NULL);
	lb = image_list(&im, "li", &b, 1, NULL);
	image_set_subkeys(&im, root, 1, la);
	image_set_subkeys(&im, a, 1, lb);
	/* b lists the root as its child: R -> a -> b -> R. */
	image_set_subkeys(&im, b, 1, image_list(&im, "li", &root, 1, NULL));
	image_finish(&im, root);
	h = open_image(*state, &im);
	assert_int_equal(hive_walk(h, root, &ops, &w), 0);
	assert_int_equal(w.keys, 3);
	assert_int_equal(w.cycles, 1);
	assert_int_equal(w.max_depth, 2);
	/* A dangling entry is reported, its siblings still walked. */
	uint32_t two[2] = { 0x7777, b };
	image_set_subkeys(&im, b, 0, HIVE_NO_CELL);
	image_set_subkeys(&im, a, 2, image_list(&im, "li", two, 2, NULL));
	image_finish(&im, root);
	h = open_image(*state, &im);
	memset(&w, 0, sizeof(w));
	assert_int_equal(hive_walk(h, root, &ops, &w), 0);
	assert_int_equal(w.keys, 3);
	assert_int_equal(w.other_errors, 1);
	image_free(&im);
}

/*
 * Lists naming one key many times, level after level: each key is entered
 * once and every repeat reported, so the walk costs what the lists hold
 * (a naive walk would enter 64^6 keys here).
 */
static void walk_enters_each_key_once(void **state)
{
	struct image im;
	uint32_t chain[7], many[64];
	struct walk_log w = { 0 };
	const struct hive_walk_ops ops = { log_key, NULL, log_error };
	struct hive *h;

	image_init(&im, 5, 16384);
	chain[0] = image_nk(&im, "R", HIVE_NO_CELL, 0, HIVE_NO_CELL, 0, HIVE_NO_CELL);
	for (unsigned i = 1; i < 7; i++)
		chain[i] = image_nk(&im, "k", chain[i - 1], 0, HIVE_NO_CELL, 0,
				    HIVE_NO_CELL);
	for (unsigned i = 0; i < 6; i++) {
		for (unsigned j = 0; j < 64; j++)
			many[j] = chain[i + 1];
		image_set_subkeys(&im, chain[i], 64,
				  image_list(&im, "li", many, 64, NULL));
	}
	image_finish(&im, chain[0]);
	h = open_image(*state, &im);
	assert_int_equal(hive_walk(h, chain[0], &ops, &w), 0);
	assert_int_equal(w.keys, 7);
	assert_int_equal(w.max_depth, 6);
	assert_int_equal(w.cycles, 0);
	assert_int_equal(w.other_errors, 6 * 63);
	assert_int_equal(hive_walk(h, chain[3], &ops, &w), 0);
	image_free(&im);

	/*
	 * Two keys a level, each naming both keys of the next level: 2^40
	 * paths.  A key named by two keys is walked under both (as hivex
	 * shows it), but only while the walk stays within what a hive of
	 * this size could hold; then the rest is reported, not walked.
	 */
	uint32_t level[41][2];
	image_init(&im, 5, 65536);
	level[0][0] = level[0][1] =
		image_nk(&im, "R", HIVE_NO_CELL, 0, HIVE_NO_CELL, 0, HIVE_NO_CELL);
	for (unsigned i = 1; i <= 40; i++)
		for (unsigned j = 0; j < 2; j++)
			level[i][j] = image_nk(&im, j ? "b" : "a", level[i - 1][0], 0,
					       HIVE_NO_CELL, 0, HIVE_NO_CELL);
	for (unsigned i = 0; i < 40; i++) {
		uint32_t list = image_list(&im, "li", level[i + 1], 2, NULL);
		image_set_subkeys(&im, level[i][0], 2, list);
		if (i)
			image_set_subkeys(&im, level[i][1], 2, list);
	}
	image_finish(&im, level[0][0]);
	h = open_image(*state, &im);
	memset(&w, 0, sizeof(w));
	assert_int_equal(hive_walk(h, level[0][0], &ops, &w), 0);
	assert_true(w.keys >= 81);
	assert_true(w.keys < 65536 / 4);
	assert_int_equal(w.max_depth, 40);
	assert_true(w.other_errors > 0);
	image_free(&im);
}

static void key_metadata(void **state)
{
	struct image im;
	uint32_t root, sk, cls;
	struct hive *h;
	struct hive_key_stat st;
	uint8_t sd[SK_FIXED_SIZE + 8] = "sk", *out;
	size_t len;

	image_init(&im, 5, 4096);
	root = image_nk(&im, "Root", HIVE_NO_CELL, 0, HIVE_NO_CELL, 0, HIVE_NO_CELL);
	put32(sd + SK_DESCRIPTOR_SIZE, 8);
	memcpy(sd + SK_DESCRIPTOR, "\x01\x00\x04\x80" "abcd", 8);
	sk = image_cell(&im, sd, sizeof(sd));
	cls = image_cell(&im, "C\0l\0s\0", 6);
	put32(image_at(&im, root) + 4 + NK_SECURITY, sk);
	put32(image_at(&im, root) + 4 + NK_CLASS, cls);
	put16(image_at(&im, root) + 4 + NK_CLASS_LEN, 6);
	put32(image_at(&im, root) + 4 + NK_LAST_WRITE, 0x89abcdef);
	put32(image_at(&im, root) + 4 + NK_LAST_WRITE + 4, 0x01d2);
	image_finish(&im, root);
	h = open_image(*state, &im);
	assert_int_equal(hive_key_stat(h, root, &st), HIVE_OK);
	assert_int_equal(st.last_write, 0x01d289abcdefULL);
	assert_int_equal(st.name_len, 4);
	assert_int_equal(st.class_len, 6);
	assert_int_equal(hive_key_security(*state, h, root, &out, &len), HIVE_OK);
	assert_int_equal(len, 8);
	assert_memory_equal(out, "\x01\x00\x04\x80" "abcd", 8);
	assert_int_equal(hive_key_class(*state, h, root, &out, &len), HIVE_OK);
	assert_int_equal(len, 6);
	assert_memory_equal(out, "C\0l\0s\0", 6);
	/* Class length beyond its cell. */
	put16(image_at(&im, root) + 4 + NK_CLASS_LEN, 60);
	h = open_image(*state, &im);
	assert_int_equal(hive_key_class(*state, h, root, &out, &len), HIVE_E_BOUNDS);
	image_free(&im);
}

static void utf16_names(void **state)
{
	struct image im;
	uint32_t root, kid;
	struct hive *h;
	uint16_t *name, probe[3] = { 0x0444, 0xD800, 0 }; /* ф, lone surrogate, NUL */
	size_t len;
	hive_key_t found;

	image_init(&im, 3, 4096);
	root = image_nk(&im, "R", HIVE_NO_CELL, 0, HIVE_NO_CELL, 0, HIVE_NO_CELL);
	kid = image_nk(&im, "xxxxxx", root, 0, HIVE_NO_CELL, 0, HIVE_NO_CELL);
	/* Rewrite kid's name as UTF-16: Ф (upper), surrogate, NUL. */
	uint8_t *nk = image_at(&im, kid) + 4;
	put16(nk + NK_FLAGS, 0);
	put16(nk + NK_NAME, 0x0424);
	put16(nk + NK_NAME + 2, 0xD800);
	put16(nk + NK_NAME + 4, 0);
	put16(nk + NK_NAME_LEN, 6);
	image_set_subkeys(&im, root, 1, image_list(&im, "lf", &kid, 1,
						   (const char *const[]){ "x" }));
	image_finish(&im, root);
	h = open_image(*state, &im);
	assert_int_equal(hive_key_name(*state, h, kid, &name, &len), HIVE_OK);
	assert_int_equal(len, 3);
	assert_int_equal(name[0], 0x0424);
	assert_int_equal(name[1], 0xD800);
	assert_int_equal(name[2], 0);
	assert_int_equal(hive_key_lookup(h, root, probe, 3, &found), HIVE_OK);
	assert_int_equal(found, kid);
	image_free(&im);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		TEST(list_li),
		TEST(list_lf),
		TEST(list_lh),
		TEST(list_ri),
		TEST(unsorted_list_still_found),
		TEST(bad_lists_fail_cleanly),
		TEST(path_lookup),
		TEST(walk_detects_cycles),
		TEST(walk_enters_each_key_once),
		TEST(key_metadata),
		TEST(utf16_names),
	};
	return cmocka_run_group_tests_name("key", tests, NULL, NULL);
}
