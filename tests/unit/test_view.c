/*
 * Values as file contents (fs/view.c): the text view of each type with
 * one, the raw view of everything it cannot reproduce byte for byte, and
 * text written back to data.
 */
#include <string.h>

#include "common.h"
#include "random.h"
/* The fs/ file under test. */
#include "hive.h"
#include "view.h"

#define RANDOM_CASES 20000

static const uint32_t text_types[] = {
	HIVE_REG_SZ, HIVE_REG_EXPAND_SZ, HIVE_REG_MULTI_SZ, HIVE_REG_LINK,
	HIVE_REG_DWORD, HIVE_REG_DWORD_BIG_ENDIAN, HIVE_REG_QWORD,
};
#define N_TEXT_TYPES (sizeof(text_types) / sizeof(text_types[0]))

/* UTF-16LE bytes of units. */
static size_t le16(uint8_t *out, const uint16_t *u, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = (uint8_t)u[i];
		out[2 * i + 1] = (uint8_t)(u[i] >> 8);
	}
	return 2 * n;
}

/* UTF-16LE of an ASCII string, '\0' characters included up to len. */
static size_t ascii_le16(uint8_t *out, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		out[2 * i] = (uint8_t)s[i];
		out[2 * i + 1] = 0;
	}
	return 2 * len;
}

/*
 * Measure and render; the rendering must fill exactly the measured size
 * (bytes after it are checked untouched).  Returns the content on mem.
 */
static char *show(void *mem, uint32_t type, const uint8_t *data, size_t len,
		  bool raw_mode, struct view *v)
{
	char *out;

	memset(v, 0xA5, sizeof(*v));
	view_measure(type, data, len, raw_mode, v);
	out = talloc_array(mem, char, v->size + 16);
	assert_non_null(out);
	memset(out, 0x5A, v->size + 16);
	view_render(v, type, data, len, out);
	for (size_t i = v->size; i < v->size + 16; i++)
		if (out[i] != 0x5A)
			fail_msg("type %u: rendering wrote past its measured "
				 "%zu bytes (at %zu)", type, v->size, i);
	return out;
}

/* The text view of data is exactly `want` (strlen bytes). */
static void assert_text(void *mem, uint32_t type, const uint8_t *data,
			size_t len, const char *want)
{
	struct view v;
	char *out = show(mem, type, data, len, false, &v);

	if (!v.text)
		fail_msg("type %u, %zu bytes: shown raw, want text \"%s\"", type,
			 len, want);
	assert_false(v.raw_flag);
	assert_int_equal(v.size, strlen(want));
	assert_memory_equal(out, want, v.size);
	talloc_free(out);
}

/* Data shown raw: the bytes themselves, flagged for types with text. */
static void assert_raw(void *mem, uint32_t type, const uint8_t *data,
		       size_t len)
{
	struct view v;
	char *out = show(mem, type, data, len, false, &v);

	if (v.text)
		fail_msg("type %u, %zu bytes: shown as text \"%.*s\", want raw",
			 type, len, (int)v.size, out);
	assert_int_equal(v.raw_flag, view_type_has_text(type));
	assert_int_equal(v.size, len);
	assert_memory_equal(out, data, len);
	talloc_free(out);
}

/* view_parse gives exactly want. */
static void assert_parses(void *mem, uint32_t type, const char *text,
			  size_t len, const uint8_t *want, size_t want_len)
{
	uint8_t *data = NULL;
	size_t n = 0;
	int ret = view_parse(mem, type, text, len, &data, &n);

	if (ret != HIVE_OK)
		fail_msg("type %u: \"%.*s\" refused (%d)", type, (int)len, text,
			 ret);
	assert_int_equal(n, want_len);
	assert_memory_equal(data, want, want_len);
	talloc_free(data);
}

static void assert_parse_refused(void *mem, uint32_t type, const char *text,
				 size_t len)
{
	uint8_t *data = NULL;
	size_t n = 0;
	int ret = view_parse(mem, type, text, len, &data, &n);

	if (ret != HIVE_E_INVALID)
		fail_msg("type %u: \"%.*s\": got %d (%zu bytes), want "
			 "HIVE_E_INVALID", type, (int)len, text, ret, n);
}

/* Text shown, parsed back: the same data. */
static void assert_round_trip(void *mem, uint32_t type, const uint8_t *data,
			      size_t len)
{
	struct view v;
	char *out = show(mem, type, data, len, false, &v);

	assert_true(v.text);
	assert_parses(mem, type, out, v.size, data, len);
	talloc_free(out);
}

static void types_with_text(void **state)
{
	for (size_t i = 0; i < N_TEXT_TYPES; i++)
		assert_true(view_type_has_text(text_types[i]));
	assert_false(view_type_has_text(HIVE_REG_NONE));
	assert_false(view_type_has_text(HIVE_REG_BINARY));
	assert_false(view_type_has_text(HIVE_REG_RESOURCE_LIST));
	assert_false(view_type_has_text(HIVE_REG_FULL_RESOURCE_DESCRIPTOR));
	assert_false(view_type_has_text(HIVE_REG_RESOURCE_REQUIREMENTS_LIST));
	assert_false(view_type_has_text(12));
	assert_false(view_type_has_text(0xFFFFFFFF));
}

static void sz_text(void **state)
{
	void *mem = *state;
	uint8_t d[64];
	uint16_t u[8];
	size_t n;

	for (int t = 0; t < 2; t++) {
		uint32_t type = t ? HIVE_REG_EXPAND_SZ : HIVE_REG_SZ;

		n = ascii_le16(d, "abc", 4);
		assert_text(mem, type, d, n, "abc\n");
		assert_round_trip(mem, type, d, n);
		assert_parses(mem, type, "abc", 3, d, n); /* newline optional */
		/* The empty string is one NUL, as RegSetValueExW stores "";
		 * zero bytes have no text of their own, so they are raw. */
		n = ascii_le16(d, "", 1);
		assert_text(mem, type, d, n, "\n");
		assert_round_trip(mem, type, d, n);
		assert_parses(mem, type, "", 0, d, n);
		assert_raw(mem, type, d, 0);
		/* Line feeds inside are kept; only one trailing one goes. */
		n = ascii_le16(d, "a\nb\n", 5);
		assert_text(mem, type, d, n, "a\nb\n\n");
		assert_round_trip(mem, type, d, n);
		assert_parses(mem, type, "a\nb\n\n", 5, d, n);
		/* Non-ASCII: é, €, U+1F600 as a pair. */
		u[0] = 0xE9;
		u[1] = 0x20AC;
		u[2] = 0xD83D;
		u[3] = 0xDE00;
		u[4] = 0;
		n = le16(d, u, 5);
		assert_text(mem, type, d, n,
			    "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\n");
		assert_round_trip(mem, type, d, n);
	}
}

static void sz_raw(void **state)
{
	void *mem = *state;
	uint8_t d[64];
	uint16_t u[8];
	size_t n;

	/* Odd length, with and without a NUL. */
	n = ascii_le16(d, "ab", 3);
	assert_raw(mem, HIVE_REG_SZ, d, n - 1);
	assert_raw(mem, HIVE_REG_SZ, d, 1);
	/* No NUL at the end. */
	n = ascii_le16(d, "ab", 2);
	assert_raw(mem, HIVE_REG_SZ, d, n);
	/* Bytes after the NUL, extra NULs. */
	n = ascii_le16(d, "ab\0c\0", 5);
	assert_raw(mem, HIVE_REG_EXPAND_SZ, d, n);
	n = ascii_le16(d, "ab\0\0", 4);
	assert_raw(mem, HIVE_REG_SZ, d, n);
	n = ascii_le16(d, "\0\0", 2);
	assert_raw(mem, HIVE_REG_SZ, d, n);
	/* Unpaired surrogates: high at the end, low alone, reversed pair. */
	u[0] = 'a';
	u[1] = 0xD83D;
	u[2] = 0;
	assert_raw(mem, HIVE_REG_SZ, d, le16(d, u, 3));
	u[1] = 0xDE00;
	assert_raw(mem, HIVE_REG_SZ, d, le16(d, u, 3));
	u[0] = 0xDE00;
	u[1] = 0xD83D;
	assert_raw(mem, HIVE_REG_SZ, d, le16(d, u, 3));
	u[0] = 0xD83D;
	u[1] = 'x';
	assert_raw(mem, HIVE_REG_SZ, d, le16(d, u, 3));
}

static void multi_sz(void **state)
{
	void *mem = *state;
	uint8_t d[64];
	size_t n;
	const uint32_t m = HIVE_REG_MULTI_SZ;

	n = ascii_le16(d, "a\0bc\0\0", 6);
	assert_text(mem, m, d, n, "a\nbc\n");
	assert_round_trip(mem, m, d, n);
	assert_parses(mem, m, "a\nbc", 4, d, n); /* last newline optional */
	/* No strings: one NUL unit, shown as nothing. */
	n = ascii_le16(d, "", 1);
	assert_text(mem, m, d, n, "");
	assert_round_trip(mem, m, d, n);
	assert_parses(mem, m, "", 0, d, n);
	/* Empty strings end the list for Windows: data holding one has no
	 * exact text (raw), and text with an empty line is refused. */
	n = ascii_le16(d, "\0", 2);
	assert_raw(mem, m, d, n);
	n = ascii_le16(d, "\0a\0\0\0", 5);
	assert_raw(mem, m, d, n);
	n = ascii_le16(d, "a\0\0b\0\0", 6);
	assert_raw(mem, m, d, n);
	n = ascii_le16(d, "\0\0", 3);
	assert_raw(mem, m, d, n);
	assert_parse_refused(mem, m, "\n", 1);
	assert_parse_refused(mem, m, "a\n\nb\n", 5);
	assert_parse_refused(mem, m, "\na\n", 3);
	assert_parse_refused(mem, m, "a\n\n", 3);
	/* Raw: no data at all, odd length, no final NUL, no NUL at all,
	 * a line feed inside a string, an unpaired surrogate. */
	assert_raw(mem, m, d, 0);
	n = ascii_le16(d, "a\0\0", 3);
	assert_raw(mem, m, d, n - 1);
	n = ascii_le16(d, "a\0b\0", 4);
	assert_raw(mem, m, d, n);
	n = ascii_le16(d, "ab", 2);
	assert_raw(mem, m, d, n);
	n = ascii_le16(d, "a\nb\0\0", 5);
	assert_raw(mem, m, d, n);
	n = ascii_le16(d, "a\0\0", 3);
	d[0] = 0x00;
	d[1] = 0xDC;
	assert_raw(mem, m, d, n);
}

static void link_text(void **state)
{
	void *mem = *state;
	uint8_t d[128];
	size_t n;
	const char *target = "\\Registry\\Machine\\System\\ControlSet001";

	n = ascii_le16(d, target, strlen(target));
	assert_text(mem, HIVE_REG_LINK, d, n, target); /* no newline */
	assert_round_trip(mem, HIVE_REG_LINK, d, n);
	/* A newline written is part of the link. */
	n = ascii_le16(d, "a\n", 2);
	assert_text(mem, HIVE_REG_LINK, d, n, "a\n");
	assert_round_trip(mem, HIVE_REG_LINK, d, n);
	assert_text(mem, HIVE_REG_LINK, d, 0, "");
	assert_round_trip(mem, HIVE_REG_LINK, d, 0);
	/* Raw: a NUL anywhere, odd length. */
	n = ascii_le16(d, "ab", 3);
	assert_raw(mem, HIVE_REG_LINK, d, n);
	assert_raw(mem, HIVE_REG_LINK, d, n - 1);
}

static void numbers(void **state)
{
	void *mem = *state;
	uint8_t d[8];

	/* DWORD limits. */
	memcpy(d, "\x00\x00\x00\x00", 4);
	assert_text(mem, HIVE_REG_DWORD, d, 4, "0\n");
	assert_round_trip(mem, HIVE_REG_DWORD, d, 4);
	memcpy(d, "\xFF\xFF\xFF\xFF", 4);
	assert_text(mem, HIVE_REG_DWORD, d, 4, "4294967295\n");
	assert_round_trip(mem, HIVE_REG_DWORD, d, 4);
	assert_parses(mem, HIVE_REG_DWORD, "4294967295", 10, d, 4);
	assert_parses(mem, HIVE_REG_DWORD, "0xffffffff", 10, d, 4);
	assert_parses(mem, HIVE_REG_DWORD, "0XFFFFFFFF\n", 11, d, 4);
	/* Byte order. */
	memcpy(d, "\x04\x03\x02\x01", 4);
	assert_text(mem, HIVE_REG_DWORD, d, 4, "16909060\n");
	assert_parses(mem, HIVE_REG_DWORD, "0x01020304", 10, d, 4);
	assert_parses(mem, HIVE_REG_DWORD, "0016909060\n", 11, d, 4);
	memcpy(d, "\x01\x02\x03\x04", 4);
	assert_text(mem, HIVE_REG_DWORD_BIG_ENDIAN, d, 4, "16909060\n");
	assert_round_trip(mem, HIVE_REG_DWORD_BIG_ENDIAN, d, 4);
	assert_parses(mem, HIVE_REG_DWORD_BIG_ENDIAN, "16909060", 8, d, 4);
	memcpy(d, "\x80\x00\x00\x00", 4);
	assert_text(mem, HIVE_REG_DWORD_BIG_ENDIAN, d, 4, "2147483648\n");
	assert_text(mem, HIVE_REG_DWORD, d, 4, "128\n");
	/* QWORD limits and order. */
	memcpy(d, "\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF", 8);
	assert_text(mem, HIVE_REG_QWORD, d, 8, "18446744073709551615\n");
	assert_round_trip(mem, HIVE_REG_QWORD, d, 8);
	assert_parses(mem, HIVE_REG_QWORD, "0xFFFFFFFFFFFFFFFF", 18, d, 8);
	memcpy(d, "\x08\x07\x06\x05\x04\x03\x02\x01", 8);
	assert_text(mem, HIVE_REG_QWORD, d, 8, "72623859790382856\n");
	assert_parses(mem, HIVE_REG_QWORD, "0x0102030405060708\n", 19, d, 8);
	memset(d, 0, 8);
	assert_text(mem, HIVE_REG_QWORD, d, 8, "0\n");
	assert_parses(mem, HIVE_REG_QWORD, "0", 1, d, 8);
	d[4] = 1;
	assert_text(mem, HIVE_REG_QWORD, d, 8, "4294967296\n");
	assert_parses(mem, HIVE_REG_QWORD, "4294967296", 10, d, 8);
	/* Other sizes are raw. */
	assert_raw(mem, HIVE_REG_DWORD, d, 0);
	assert_raw(mem, HIVE_REG_DWORD, d, 3);
	assert_raw(mem, HIVE_REG_DWORD, d, 5);
	assert_raw(mem, HIVE_REG_DWORD, d, 8);
	assert_raw(mem, HIVE_REG_DWORD_BIG_ENDIAN, d, 2);
	assert_raw(mem, HIVE_REG_QWORD, d, 4);
	assert_raw(mem, HIVE_REG_QWORD, d, 7);
}

static void number_refusals(void **state)
{
	void *mem = *state;
	static const char *const bad[] = {
		"", "\n", "\n\n", "1\n\n", " 1", "1 ", "+1", "-1", "1.0", "1e3",
		"0x", "0x\n", "0xg", "x1", "0b1", "1a", "\r\n", "1\r\n", "١",
	};
	static const char *const too_big_32[] = {
		"4294967296", "99999999999", "0x100000000", "0x1FFFFFFFF",
	};
	static const char *const too_big_64[] = {
		"18446744073709551616", "99999999999999999999",
		"0x10000000000000000", "0x1FFFFFFFFFFFFFFFF",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_parse_refused(mem, HIVE_REG_DWORD, bad[i], strlen(bad[i]));
		assert_parse_refused(mem, HIVE_REG_DWORD_BIG_ENDIAN, bad[i],
				     strlen(bad[i]));
		assert_parse_refused(mem, HIVE_REG_QWORD, bad[i], strlen(bad[i]));
	}
	for (size_t i = 0; i < 4; i++) {
		assert_parse_refused(mem, HIVE_REG_DWORD, too_big_32[i],
				     strlen(too_big_32[i]));
		assert_parse_refused(mem, HIVE_REG_DWORD_BIG_ENDIAN,
				     too_big_32[i], strlen(too_big_32[i]));
		assert_parse_refused(mem, HIVE_REG_QWORD, too_big_64[i],
				     strlen(too_big_64[i]));
	}
	/* A NUL byte ends nothing: "1\0" is not a number. */
	assert_parse_refused(mem, HIVE_REG_DWORD, "1\0", 2);
}

static void string_refusals(void **state)
{
	void *mem = *state;
	static const uint32_t strings[] = {
		HIVE_REG_SZ, HIVE_REG_EXPAND_SZ, HIVE_REG_MULTI_SZ, HIVE_REG_LINK,
	};
	static const char *const bad[] = {
		"\x80", "a\xC3", "\xC0\x80", "\xE0\x80\x80", "\xF4\x90\x80\x80",
		"\xFF", "a\xE2\x82", "\xF8\x88\x80\x80\x80",
		/* WTF-8 lone surrogates */
		"\xED\xA0\x80", "\xED\xBF\xBF", "a\xED\xA0\xBD",
		"\xED\xB8\x80\xED\xA0\xBD",
	};

	for (size_t t = 0; t < 4; t++) {
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
			assert_parse_refused(mem, strings[t], bad[i],
					     strlen(bad[i]));
		/* NUL characters cannot be written as text. */
		assert_parse_refused(mem, strings[t], "a\0b", 3);
		assert_parse_refused(mem, strings[t], "\0", 1);
	}
	/* In a MULTI_SZ the bad string may be any line. */
	assert_parse_refused(mem, HIVE_REG_MULTI_SZ, "ok\n\xFF\nok\n", 8);
	assert_parse_refused(mem, HIVE_REG_MULTI_SZ, "ok\nok\n\xED\xA0\x80", 9);
	/* Types without text. */
	assert_parse_refused(mem, HIVE_REG_BINARY, "1", 1);
	assert_parse_refused(mem, HIVE_REG_NONE, "", 0);
	assert_parse_refused(mem, HIVE_REG_RESOURCE_LIST, "a\n", 2);
	assert_parse_refused(mem, 12, "1", 1);
}

/*
 * A surrogate pair spelt as two WTF-8 sequences (CESU-8) is not UTF-8;
 * view.c's append_utf16() says it refuses "anything that is not valid
 * UTF-8 of Unicode scalar values".
 */
static void string_refuses_cesu8_pair(void **state)
{
	static const char cesu[] = "\xED\xA0\xBD\xED\xB8\x80"; /* U+1F600 */
	uint8_t *data = NULL;
	size_t n = 0;
	int ret = view_parse(*state, HIVE_REG_SZ, cesu, 6, &data, &n);

	/* Once stored as the pair 3D D8 00 DE, so not the bytes written. */
	assert_int_equal(ret, HIVE_E_INVALID);
}

static void raw_mode(void **state)
{
	void *mem = *state;
	uint8_t d[16];
	struct view v;
	char *out;
	size_t n = ascii_le16(d, "ab", 3);

	/* -o raw: the data itself, flagged where the type has text. */
	for (size_t i = 0; i < N_TEXT_TYPES; i++) {
		size_t len = text_types[i] == HIVE_REG_QWORD ? 8 :
			     text_types[i] == HIVE_REG_DWORD ||
			     text_types[i] == HIVE_REG_DWORD_BIG_ENDIAN ? 4 : n;
		out = show(mem, text_types[i], d, len, true, &v);
		assert_false(v.text);
		assert_true(v.raw_flag);
		assert_int_equal(v.size, len);
		assert_memory_equal(out, d, len);
		talloc_free(out);
	}
	/* Types without text: raw, never flagged, in either mode. */
	for (int raw = 0; raw < 2; raw++) {
		out = show(mem, HIVE_REG_BINARY, d, 5, raw, &v);
		assert_false(v.text);
		assert_false(v.raw_flag);
		assert_int_equal(v.size, 5);
		assert_memory_equal(out, d, 5);
		talloc_free(out);
		out = show(mem, HIVE_REG_NONE, d, 0, raw, &v);
		assert_false(v.text);
		assert_false(v.raw_flag);
		assert_int_equal(v.size, 0);
		talloc_free(out);
	}
}

/* Units that make strings canonical or not: NUL, LF, surrogates. */
static uint16_t random_unit(void)
{
	switch (rng_below(12)) {
	case 0:
		return 0;
	case 1:
		return '\n';
	case 2:
		return (uint16_t)(0xD800 + rng_below(0x400));
	case 3:
		return (uint16_t)(0xDC00 + rng_below(0x400));
	case 4:
		return (uint16_t)(0x80 + rng_below(0xD780));
	case 5:
		return (uint16_t)(0xE000 + rng_below(0x2000));
	default:
		return (uint16_t)(0x20 + rng_below(0x5F));
	}
}

/* Valid UTF-16 without NUL (or LF, for MULTI_SZ), pairs included. */
static size_t random_string(uint16_t *u, size_t max, bool lf)
{
	size_t n = 0, len = rng_below((uint32_t)max);

	while (n < len) {
		uint16_t c = random_unit();
		if (c >= 0xD800 && c <= 0xDFFF) {
			if (n + 2 > len)
				continue;
			u[n++] = (uint16_t)(0xD800 + rng_below(0x400));
			u[n++] = (uint16_t)(0xDC00 + rng_below(0x400));
		} else if (c != 0 && (lf || c != '\n')) {
			u[n++] = c;
		}
	}
	return n;
}

/* Canonical data of each type: shown as text, read back the same. */
static void canonical_random(void **state)
{
	void *mem = *state;
	uint16_t u[256];
	uint8_t d[600];

	rng_state = 0x1313;
	for (int i = 0; i < RANDOM_CASES; i++) {
		uint32_t type = text_types[i % N_TEXT_TYPES];
		size_t n = 0, len;

		switch (type) {
		case HIVE_REG_SZ:
		case HIVE_REG_EXPAND_SZ:
			n = random_string(u, 64, true);
			u[n++] = 0;
			break;
		case HIVE_REG_LINK:
			n = random_string(u, 64, true);
			break;
		case HIVE_REG_MULTI_SZ: {
			size_t strings = rng_below(6);
			for (size_t s = 0; s < strings; s++) {
				size_t k = random_string(u + n, 20, false);

				if (k == 0) /* no empty strings */
					u[n + k++] = 'e';
				n += k;
				u[n++] = 0;
			}
			u[n++] = 0;
			break;
		}
		default:
			break;
		}
		if (type == HIVE_REG_QWORD || type == HIVE_REG_DWORD ||
		    type == HIVE_REG_DWORD_BIG_ENDIAN) {
			len = type == HIVE_REG_QWORD ? 8 : 4;
			for (size_t k = 0; k < len; k++)
				d[k] = rng_below(3) ? (uint8_t)rng() :
				       rng_below(2) ? 0xFF : 0;
		} else {
			len = le16(d, u, n);
		}
		assert_round_trip(mem, type, d, len);
	}
}

/*
 * Any data: either shown raw (the bytes themselves, flagged) or as text
 * that parses back to exactly the data.  A file never hides or invents a
 * byte.
 */
static void any_data_random(void **state)
{
	void *mem = *state;
	uint8_t d[80];
	size_t texts = 0, raws = 0;

	rng_state = 0x3113;
	for (int i = 0; i < RANDOM_CASES; i++) {
		uint32_t type = text_types[rng_below(N_TEXT_TYPES)];
		size_t units = rng_below(12), len;
		struct view v;
		char *out;

		for (size_t k = 0; k < units; k++) {
			uint16_t c = random_unit();
			d[2 * k] = (uint8_t)c;
			d[2 * k + 1] = (uint8_t)(c >> 8);
		}
		len = 2 * units;
		/* Ends in NULs more often than chance would have it. */
		if (len >= 2 && rng_below(2))
			d[len - 1] = d[len - 2] = 0;
		if (len >= 4 && rng_below(3) == 0)
			d[len - 3] = d[len - 4] = 0;
		if (rng_below(8) == 0)
			d[len++] = (uint8_t)rng(); /* odd */
		out = show(mem, type, d, len, false, &v);
		if (v.text) {
			assert_false(v.raw_flag);
			assert_parses(mem, type, out, v.size, d, len);
			texts++;
		} else {
			assert_true(v.raw_flag);
			assert_int_equal(v.size, len);
			assert_memory_equal(out, d, len);
			raws++;
		}
		talloc_free(out);
	}
	/* Both outcomes were reached often (texts fewer since zero bytes of
	 * SZ and MULTI_SZ lists with empty strings have no text). */
	assert_true(texts > RANDOM_CASES / 20);
	assert_true(raws > RANDOM_CASES / 10);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		TEST(types_with_text),
		TEST(sz_text),
		TEST(sz_raw),
		TEST(multi_sz),
		TEST(link_text),
		TEST(numbers),
		TEST(number_refusals),
		TEST(string_refusals),
		TEST(string_refuses_cesu8_pair),
		TEST(raw_mode),
		TEST(canonical_random),
		TEST(any_data_random),
	};
	return cmocka_run_group_tests_name("fs view", tests, NULL, NULL);
}
