/*
 * The value codec (hive/text.c): type names in every spelling, numbers,
 * and value data as text and back.
 */
#include <string.h>

#include "common.h"
#include "random.h"

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

/* ---- the beginning of a text (early errors) ---- */

static const uint32_t text_types[] = {
	HIVE_REG_SZ, HIVE_REG_EXPAND_SZ, HIVE_REG_MULTI_SZ, HIVE_REG_LINK,
	HIVE_REG_DWORD, HIVE_REG_DWORD_BIG_ENDIAN, HIVE_REG_QWORD,
};
#define N_TEXT_TYPES (sizeof(text_types) / sizeof(text_types[0]))

static void may_begin_examples(void **state)
{
	static const struct {
		uint32_t type;
		const char *text;
		bool ok;
	} cases[] = {
		{ HIVE_REG_DWORD, "", true }, { HIVE_REG_DWORD, "0", true },
		{ HIVE_REG_DWORD, "0x", true }, { HIVE_REG_DWORD, "0X1f", true },
		{ HIVE_REG_DWORD, "42\n", true },
		{ HIVE_REG_DWORD, "4294967295", true },
		{ HIVE_REG_DWORD, "000000000000004294967295", true },
		{ HIVE_REG_DWORD, "abc", false }, { HIVE_REG_DWORD, "-1", false },
		{ HIVE_REG_DWORD, "4294967296", false },
		{ HIVE_REG_DWORD, "0x100000000", false },
		{ HIVE_REG_DWORD, "12a", false }, { HIVE_REG_DWORD, "\n", false },
		{ HIVE_REG_DWORD, "0x\n", false },
		{ HIVE_REG_DWORD, "5\n\n", false },
		{ HIVE_REG_DWORD, "5\n6", false }, { HIVE_REG_DWORD, " 5", false },
		{ HIVE_REG_DWORD_BIG_ENDIAN, "4294967296", false },
		{ HIVE_REG_QWORD, "4294967296", true },
		{ HIVE_REG_QWORD, "18446744073709551616", false },
		{ HIVE_REG_SZ, "", true }, { HIVE_REG_SZ, "a\nb\n", true },
		{ HIVE_REG_SZ, "\xC3", true },	       /* cut short */
		{ HIVE_REG_SZ, "\xF0\x9F\x98", true }, /* cut short */
		{ HIVE_REG_SZ, "\xC3(", false },
		{ HIVE_REG_SZ, "\xC0", false },	  /* only overlong */
		{ HIVE_REG_SZ, "\xE0\x80", false },	  /* overlong */
		{ HIVE_REG_SZ, "\xED\xA0", false },	  /* a surrogate */
		{ HIVE_REG_SZ, "\xF4\x90", false },	  /* past U+10FFFF */
		{ HIVE_REG_SZ, "\xFF", false }, { HIVE_REG_SZ, "a\0", false },
		{ HIVE_REG_EXPAND_SZ, "%x%\x80", false },
		{ HIVE_REG_LINK, "\\Registry\xC3", true },
		{ HIVE_REG_MULTI_SZ, "a\nb", true },
		{ HIVE_REG_MULTI_SZ, "a\n\xE2\x82", true },
		{ HIVE_REG_MULTI_SZ, "a\n\n", false },
		{ HIVE_REG_MULTI_SZ, "\n", false },
		{ HIVE_REG_MULTI_SZ, "\xE2\x82\nb", false },
		{ HIVE_REG_BINARY, "\0\xFF", true },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = strlen(cases[i].text);

		if (cases[i].text[0] == 'a' && cases[i].text[1] == '\0' &&
		    !cases[i].ok)
			len = 2; /* "a" and a NUL */
		if (hive_text_may_begin(cases[i].type, cases[i].text, len) !=
		    cases[i].ok)
			fail_msg("type %u, \"%s\": may begin a text: %s, want %s",
				 cases[i].type, cases[i].text,
				 cases[i].ok ? "no" : "yes",
				 cases[i].ok ? "yes" : "no");
	}
}

/* Bytes likely to matter to a text's validity. */
static char random_text_byte(void)
{
	static const char some[] = "0123456789xXabfgAF\n\n\n -+\0\x80\xC3\xA9"
				   "\xE2\x82\xAC\xED\xA0\xF0\x9F\x98\xFF";

	return rng_below(3) ? some[rng_below(sizeof(some) - 1)]
			    : (char)rng_below(256);
}

/*
 * Against the parser: every beginning of a text that parses may begin a
 * text, and a beginning refused is refused whatever follows it.
 */
static void may_begin_agrees_with_parse(void **state)
{
	void *mem = *state;
	char t[40];
	size_t good = 0, refused = 0;

	rng_state = 0x5eed;
	for (int i = 0; i < 200000; i++) {
		uint32_t type = text_types[rng_below(N_TEXT_TYPES)];
		size_t len = rng_below(sizeof(t)), cut;
		uint8_t *data;
		size_t n;

		for (size_t k = 0; k < len; k++)
			t[k] = random_text_byte();
		if (hive_text_parse(mem, type, t, len, &data, &n) == HIVE_OK) {
			talloc_free(data);
			good++;
			for (size_t k = 0; k <= len; k++)
				if (!hive_text_may_begin(type, t, k))
					fail_msg("type %u: a text that parses "
						 "refused at %zu of %zu bytes",
						 type, k, len);
			continue;
		}
		cut = rng_below((uint32_t)len + 1);
		if (!hive_text_may_begin(type, t, cut)) {
			refused++;
			/* Whatever follows: still no text. */
			assert_int_equal(hive_text_parse(mem, type, t, len, &data,
							 &n), HIVE_E_INVALID);
		}
	}
	assert_true(good > 1000);
	assert_true(refused > 1000);
}

/* A text that parses: rendered from its data, then parsed, the same. */
static void parse_render_parse(void **state)
{
	void *mem = *state;
	char t[40];
	size_t exact = 0;

	rng_state = 0xc0dec;
	for (int i = 0; i < 200000; i++) {
		uint32_t type = text_types[rng_below(N_TEXT_TYPES)];
		size_t len = rng_below(sizeof(t)), n, m, r;
		uint8_t *data, *again;
		char *text;

		for (size_t k = 0; k < len; k++)
			t[k] = random_text_byte();
		if (hive_text_parse(mem, type, t, len, &data, &n) != HIVE_OK)
			continue;
		/* Data made from text always has exact text. */
		r = hive_text_render(type, data, n, NULL);
		if (r == SIZE_MAX)
			fail_msg("type %u: data parsed from \"%.*s\" has no "
				 "text", type, (int)len, t);
		text = talloc_size(mem, r + 1);
		assert_int_equal(hive_text_render(type, data, n, text), r);
		assert_int_equal(hive_text_parse(mem, type, text, r, &again, &m),
				 HIVE_OK);
		assert_int_equal(m, n);
		assert_memory_equal(again, data, n);
		talloc_free(again);
		talloc_free(text);
		talloc_free(data);
		exact++;
	}
	assert_true(exact > 1000);
}

/* The empty string of each string type, as Windows stores it. */
static void empty_strings(void **state)
{
	void *mem = *state;
	uint8_t *data;
	size_t n;

	assert_int_equal(hive_text_parse(mem, HIVE_REG_SZ, "", 0, &data, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(data[0] | data[1], 0);
	talloc_free(data);
	assert_int_equal(hive_text_parse(mem, HIVE_REG_EXPAND_SZ, "\n", 1, &data,
					 &n), 0);
	assert_int_equal(n, 2);
	talloc_free(data);
	assert_int_equal(hive_text_parse(mem, HIVE_REG_MULTI_SZ, "", 0, &data,
					 &n), 0);
	assert_int_equal(n, 2); /* the empty list: its final NUL */
	talloc_free(data);
	assert_int_equal(hive_text_parse(mem, HIVE_REG_LINK, "", 0, &data, &n),
			 0);
	assert_int_equal(n, 0);
	talloc_free(data);
	assert_int_equal(hive_text_render(HIVE_REG_SZ, (const uint8_t *)"", 0,
					  NULL), SIZE_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		TEST(type_names_every_spelling),
		TEST(type_names_round_trip),
		TEST(numbers),
		TEST(may_begin_examples),
		TEST(may_begin_agrees_with_parse),
		TEST(parse_render_parse),
		TEST(empty_strings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
