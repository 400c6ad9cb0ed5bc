/* Names: Windows upcase, ordering, the lh hash and UTF-8 conversion. */
#include <string.h>

#include "common.h"

static void upcase_ascii_and_latin1(void **state)
{
	assert_int_equal(hive_upcase('a'), 'A');
	assert_int_equal(hive_upcase('z'), 'Z');
	assert_int_equal(hive_upcase('A'), 'A');
	assert_int_equal(hive_upcase('{'), '{');
	assert_int_equal(hive_upcase(0x00E9), 0x00C9); /* é */
	assert_int_equal(hive_upcase(0x00FF), 0x0178); /* ÿ */
	assert_int_equal(hive_upcase(0x00F7), 0x00F7); /* ÷ has no case */
	/* Windows has no 1:1 upper case of ß and does not fold ı or ſ. */
	assert_int_equal(hive_upcase(0x00DF), 0x00DF);
	assert_int_equal(hive_upcase(0x0131), 0x0131);
	assert_int_equal(hive_upcase(0x017F), 0x017F);
}

static void upcase_other_scripts(void **state)
{
	assert_int_equal(hive_upcase(0x03B1), 0x0391); /* Greek alpha */
	assert_int_equal(hive_upcase(0x0430), 0x0410); /* Cyrillic a */
	assert_int_equal(hive_upcase(0x0101), 0x0100); /* ā, stride-2 run */
	assert_int_equal(hive_upcase(0x0100), 0x0100);
	assert_int_equal(hive_upcase(0xFF41), 0xFF21); /* fullwidth a */
	assert_int_equal(hive_upcase(0x24D0), 0x24B6); /* circled a */
	/* Case pairs younger than Windows' table are not folded. */
	assert_int_equal(hive_upcase(0x10D0), 0x10D0); /* Georgian an */
	assert_int_equal(hive_upcase(0xAB70), 0xAB70); /* Cherokee small a */
	/* Surrogates are units like any other. */
	assert_int_equal(hive_upcase(0xD800), 0xD800);
}

static void compare_orders_by_upcased_unit(void **state)
{
	uint16_t a[8], b[8];
	size_t al, bl;

	ascii16(a, "abc", &al);
	ascii16(b, "ABC", &bl);
	assert_int_equal(hive_name_compare(a, al, b, bl), 0);
	ascii16(b, "ABD", &bl);
	assert_true(hive_name_compare(a, al, b, bl) < 0);
	ascii16(b, "AB", &bl);
	assert_true(hive_name_compare(a, al, b, bl) > 0);
	/* '_' (0x5F) sorts after upcased letters, not between a and z. */
	ascii16(a, "_x", &al);
	ascii16(b, "zz", &bl);
	assert_true(hive_name_compare(a, al, b, bl) > 0);
	/* ß stays 0xDF and sorts after "SS3" (yarp UpcaseHive: ss1, SS3, ß2). */
	uint16_t eszett[2] = { 0x00DF, '2' };
	ascii16(b, "SS3", &bl);
	assert_true(hive_name_compare(eszett, 2, b, bl) > 0);
}

static void lh_hash(void **state)
{
	uint16_t n[8] = { 0 };
	size_t len;

	assert_int_equal(hive_name_hash(n, 0), 0);
	ascii16(n, "a", &len);
	assert_int_equal(hive_name_hash(n, len), 'A');
	ascii16(n, "ab", &len);
	assert_int_equal(hive_name_hash(n, len), 'A' * 37 + 'B');
	ascii16(n, "Ab", &len);
	assert_int_equal(hive_name_hash(n, len), 'A' * 37 + 'B');
	/* Wraps modulo 2^32. */
	ascii16(n, "ZZZZZZZ", &len);
	uint32_t h = 0;
	for (int i = 0; i < 7; i++)
		h = h * 37u + 'Z';
	assert_int_equal(hive_name_hash(n, len), h);
}

static void utf8_round_trip(void **state)
{
	/* "a", é, €, U+1F600 as a pair, a lone high surrogate, NUL. */
	const uint16_t in[] = { 'a', 0x00E9, 0x20AC, 0xD83D, 0xDE00, 0xD800, 0 };
	size_t n = sizeof(in) / sizeof(in[0]), out_len, back_len;
	bool lossy;
	char *s = hive_utf16_to_utf8(*state, in, n, &out_len, &lossy);
	uint16_t *back;

	assert_non_null(s);
	assert_true(lossy);
	assert_int_equal(out_len, 1 + 2 + 3 + 4 + 3 + 1);
	assert_memory_equal(s, "a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\xED\xA0\x80",
			    out_len - 1);
	assert_int_equal(hive_utf8_to_utf16(*state, s, out_len, &back, &back_len),
			 HIVE_OK);
	assert_int_equal(back_len, n);
	assert_memory_equal(back, in, sizeof(in));

	s = hive_utf16_to_utf8(*state, in, 3, &out_len, &lossy);
	assert_false(lossy);
}

static void utf8_rejects_malformed(void **state)
{
	static const char *const bad[] = {
		"\x80", "\xC3", "\xC0\xAF", "\xE0\x80\xAF", "\xF4\x90\x80\x80",
		"\xFF", "a\xE2\x82",
	};
	uint16_t *out;
	size_t len;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(hive_utf8_to_utf16(*state, bad[i], strlen(bad[i]),
						    &out, &len),
				 HIVE_E_INVALID);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		TEST(upcase_ascii_and_latin1),
		TEST(upcase_other_scripts),
		TEST(compare_orders_by_upcased_unit),
		TEST(lh_hash),
		TEST(utf8_round_trip),
		TEST(utf8_rejects_malformed),
	};
	return cmocka_run_group_tests_name("name", tests, NULL, NULL);
}
