/*
 * The value codec (hive/text.c): type names in every spelling, numbers,
 * and value data as text and back.
 */
#include <string.h>

#include "common.h"

/* ---- type names ---- */

static void type_names_every_spelling(void **state)
{
	static const struct {
		const char *text;
		uint32_t type;
	} good[] = {
		{ "REG_DWORD", 4 }, { "reg_dword", 4 }, { "dword", 4 },
		{ "DWORD", 4 }, { "Reg_Dword", 4 }, { "4", 4 }, { "0x4", 4 },
		{ "0X4", 4 }, { "0x00000004", 4 }, { "04", 4 },
		{ "REG_DWORD_LITTLE_ENDIAN", 4 }, { "dword_little_endian", 4 },
		{ "REG_DWORD_BIG_ENDIAN", 5 }, { "dword_big_endian", 5 },
		{ "dword_be", 5 }, { "REG_QWORD_LITTLE_ENDIAN", 11 },
		{ "qword", 11 }, { "REG_NONE", 0 }, { "none", 0 }, { "0", 0 },
		{ "sz", 1 }, { "REG_EXPAND_SZ", 2 }, { "expand_sz", 2 },
		{ "binary", 3 }, { "link", 6 }, { "multi_sz", 7 },
		{ "resource_list", 8 }, { "full_resource_descriptor", 9 },
		{ "REG_RESOURCE_REQUIREMENTS_LIST", 10 }, { "hex(7)", 7 },
		{ "hex(b)", 11 }, { "HEX(2)", 2 }, { "hex(0)", 0 },
		/* Never octal: leading zeros are decimal. */
		{ "010", 10 }, { "0010", 10 }, { "08", 8 },
		{ "4294967295", 0xFFFFFFFFu }, { "0xffffffff", 0xFFFFFFFFu },
		{ "0x00000000000000012", 0x12 }, { "12345", 12345 },
	};
	static const char *const bad[] = {
		"", "REG_", "reg", "dwrd", "REG_DWORD ", " dword", "dword\n",
		"4294967296", "0x100000000", "-1", "+4", "0x", "0xg", "1e3",
		"4 ", "REG_4", "hex()", "hex(g)", "hex(100000000)", "hex(7",
		"0o10", "REG_QWORD_BIG_ENDIAN", "sz\x01",
	};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		uint32_t t = 0xDEADBEEF;

		if (!hive_type_parse(good[i].text, &t) || t != good[i].type)
			fail_msg("'%s': got %u, want %u", good[i].text, t,
				 good[i].type);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint32_t t = 77;

		if (hive_type_parse(bad[i], &t) || t != 77)
			fail_msg("'%s' was taken as type %u", bad[i], t);
	}
}

/* Every name the codec hands out parses back to its type. */
static void type_names_round_trip(void **state)
{
	for (uint32_t t = 0; t <= HIVE_REG_QWORD; t++) {
		const char *s = hive_type_short_name(t);
		uint32_t back = 99;

		assert_non_null(s);
		for (const char *p = s; *p; p++)
			if (*p >= 'A' && *p <= 'Z')
				fail_msg("short name '%s' is not lowercase", s);
		assert_true(hive_type_parse(s, &back));
		assert_int_equal(back, t);
		assert_true(hive_type_parse(hive_type_name(t), &back));
		assert_int_equal(back, t);
	}
	assert_string_equal(hive_type_short_name(HIVE_REG_DWORD_BIG_ENDIAN),
			    "dword_be");
	assert_string_equal(hive_type_short_name(HIVE_REG_EXPAND_SZ),
			    "expand_sz");
	assert_null(hive_type_short_name(12));
	assert_null(hive_type_short_name(0xFFFFFFFFu));
}

static void numbers(void **state)
{
	uint64_t v;

	assert_int_equal(hive_number_parse("010", 3, UINT32_MAX, &v), 0);
	assert_int_equal(v, 10);
	assert_int_equal(hive_number_parse("0x1F", 4, UINT32_MAX, &v), 0);
	assert_int_equal(v, 31);
	assert_int_equal(hive_number_parse("18446744073709551615", 20,
					   UINT64_MAX, &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(hive_number_parse("18446744073709551616", 20,
					   UINT64_MAX, &v), HIVE_E_INVALID);
	assert_int_equal(hive_number_parse("4294967296", 10, UINT32_MAX, &v),
			 HIVE_E_INVALID);
	assert_int_equal(hive_number_parse("", 0, UINT32_MAX, &v),
			 HIVE_E_INVALID);
	assert_int_equal(hive_number_parse("-1", 2, UINT32_MAX, &v),
			 HIVE_E_INVALID);
	/* The length counts, not a NUL. */
	assert_int_equal(hive_number_parse("12abc", 2, UINT32_MAX, &v), 0);
	assert_int_equal(v, 12);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		TEST(type_names_every_spelling),
		TEST(type_names_round_trip),
		TEST(numbers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
