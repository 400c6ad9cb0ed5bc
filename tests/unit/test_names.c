/*
 * The file-name encoding (fs/names.c): encode and decode for keys and
 * values, the names decode refuses, shortening of long names, the type
 * suffixes of -o typenames.
 *
 * The expected encodings come from a small reference encoder written from
 * the table at the top of names.c, so a change of spelling (hex case, which
 * units are escaped) fails here, not only a failure to round-trip.
 */
#include <stdio.h>
#include <string.h>

#include "common.h"
#include "random.h"
/* The fs/ file under test. */
#include "names.h"

#define RANDOM_CASES 20000

static bool is_high(uint16_t c)
{
	return c >= 0xD800 && c <= 0xDBFF;
}

static bool is_low(uint16_t c)
{
	return c >= 0xDC00 && c <= 0xDFFF;
}

/*
 * The reference encoding of units as names.c's table describes it.
 * Returns the length; `cuts`, if given, receives every offset at which a
 * whole character or escape ends (the places a shortened prefix may end).
 */
static size_t ref_encode(const uint16_t *u, size_t len, enum name_ns ns,
			 char *out, bool *cuts)
{
	size_t n = 0;

	if (ns == NAME_VALUE && len == 0)
		return (size_t)sprintf(out, "@");
	if (ns == NAME_VALUE && len == 1 && u[0] == '@')
		return (size_t)sprintf(out, "%%40");
	if (len == 1 && u[0] == '.')
		return (size_t)sprintf(out, "%%2E");
	if (len == 2 && u[0] == '.' && u[1] == '.')
		return (size_t)sprintf(out, "%%2E%%2E");
	for (size_t i = 0; i < len; i++) {
		uint32_t c = u[i];

		if (is_high(u[i]) && i + 1 < len && is_low(u[i + 1])) {
			c = 0x10000 + (((uint32_t)u[i] - 0xD800) << 10) +
			    (u[i + 1] - 0xDC00u);
			i++;
			out[n++] = (char)(0xF0 | c >> 18);
			out[n++] = (char)(0x80 | (c >> 12 & 0x3F));
			out[n++] = (char)(0x80 | (c >> 6 & 0x3F));
			out[n++] = (char)(0x80 | (c & 0x3F));
		} else if (is_high(u[i]) || is_low(u[i])) {
			n += (size_t)sprintf(out + n, "%%u%04X", c);
		} else if (c < 0x20 || c == 0x7F || c == '%' || c == '/') {
			n += (size_t)sprintf(out + n, "%%%02X", c);
		} else if (c < 0x80) {
			out[n++] = (char)c;
		} else if (c < 0x800) {
			out[n++] = (char)(0xC0 | c >> 6);
			out[n++] = (char)(0x80 | (c & 0x3F));
		} else {
			out[n++] = (char)(0xE0 | c >> 12);
			out[n++] = (char)(0x80 | (c >> 6 & 0x3F));
			out[n++] = (char)(0x80 | (c & 0x3F));
		}
		if (cuts)
			cuts[n] = true;
	}
	out[n] = '\0';
	return n;
}

/* Units that exercise every rule of the encoding. */
static size_t random_units(uint16_t *u, size_t max)
{
	static const uint16_t special[] = {
		'%', '/', '@', '.', 0, 0x7F, '\n', 0x1F, '~', 'v', 'u',
		'2', 'E', 'F', 'D', '8', '0', ' ', 0xFFFF, 0xFFFE, 0xFEFF,
	};
	size_t len, n = 0;

	switch (rng_below(8)) {
	case 0:
		len = rng_below(3); /* "", ".", "..", "@" and friends */
		break;
	case 1:
		len = 200 + rng_below(200); /* long: shortening */
		break;
	default:
		len = rng_below(24);
	}
	if (len > max)
		len = max;
	while (n < len) {
		switch (rng_below(10)) {
		case 0:
			u[n++] = (uint16_t)(0xD800 + rng_below(0x400)); /* high */
			break;
		case 1:
			u[n++] = (uint16_t)(0xDC00 + rng_below(0x400)); /* low */
			break;
		case 2:
			if (n + 1 < len) { /* a pair */
				u[n++] = (uint16_t)(0xD800 + rng_below(0x400));
				u[n++] = (uint16_t)(0xDC00 + rng_below(0x400));
			}
			break;
		case 3:
			u[n++] = (uint16_t)rng_below(0x20); /* controls, NUL */
			break;
		case 4:
		case 5:
			u[n++] = special[rng_below(sizeof(special) /
						   sizeof(special[0]))];
			break;
		case 6:
			u[n++] = (uint16_t)(0x80 + rng_below(0x780)); /* 2 bytes */
			break;
		case 7: {
			uint16_t c = (uint16_t)(0x800 + rng_below(0xF800));
			u[n++] = is_high(c) || is_low(c) ? 0x20AC : c;
			break;
		}
		default:
			u[n++] = (uint16_t)(0x20 + rng_below(0x5F)); /* ASCII */
		}
	}
	return n;
}

static void assert_units(const uint16_t *got, size_t got_len,
			 const uint16_t *want, size_t want_len)
{
	assert_int_equal(got_len, want_len);
	for (size_t i = 0; i < want_len; i++)
		if (got[i] != want[i])
			fail_msg("unit %zu: got U+%04X, want U+%04X", i, got[i],
				 want[i]);
}

/* decode(s) == 0 and the units of the ASCII string want. */
static void assert_decodes(void *mem, const char *s, size_t len,
			   enum name_ns ns, const uint16_t *want,
			   size_t want_len)
{
	uint16_t *u = NULL;
	size_t n = 99;

	if (name_decode(mem, s, len, ns, &u, &n) != 0)
		fail_msg("decode refused \"%.*s\" (ns %d)", (int)len, s, ns);
	assert_units(u, n, want, want_len);
	talloc_free(u);
}

static void assert_decodes_ascii(void *mem, const char *s, enum name_ns ns,
				 const char *want)
{
	uint16_t w[64];
	size_t wl;

	ascii16(w, want, &wl);
	assert_decodes(mem, s, strlen(s), ns, w, wl);
}

static void assert_refused(void *mem, const char *s, size_t len,
			   enum name_ns ns)
{
	uint16_t *u = NULL;
	size_t n = 1234;
	int ret = name_decode(mem, s, len, ns, &u, &n);

	if (ret != -1)
		fail_msg("decode of \"%.*s\" (ns %d): got %d, want -1", (int)len,
			 s, ns, ret);
}

static void assert_encodes(void *mem, const uint16_t *u, size_t len,
			   enum name_ns ns, const char *want)
{
	char *got = name_encode(mem, u, len, ns);

	assert_non_null(got);
	assert_string_equal(got, want);
	talloc_free(got);
}

static void encode_table(void **state)
{
	void *mem = *state;
	uint16_t u[16] = { 0 };
	size_t len;

	/* The whole-name forms. */
	assert_encodes(mem, u, 0, NAME_VALUE, "@");
	assert_encodes(mem, u, 0, NAME_KEY, "");
	ascii16(u, "@", &len);
	assert_encodes(mem, u, len, NAME_VALUE, "%40");
	assert_encodes(mem, u, len, NAME_KEY, "@");
	ascii16(u, ".", &len);
	assert_encodes(mem, u, len, NAME_KEY, "%2E");
	assert_encodes(mem, u, len, NAME_VALUE, "%2E");
	ascii16(u, "..", &len);
	assert_encodes(mem, u, len, NAME_KEY, "%2E%2E");
	assert_encodes(mem, u, len, NAME_VALUE, "%2E%2E");
	/* Only whole names: dots and '@' inside a name stay. */
	ascii16(u, "...", &len);
	assert_encodes(mem, u, len, NAME_KEY, "...");
	ascii16(u, "@@", &len);
	assert_encodes(mem, u, len, NAME_VALUE, "@@");
	ascii16(u, "a.b@", &len);
	assert_encodes(mem, u, len, NAME_VALUE, "a.b@");
	/* Escapes, uppercase hex. */
	ascii16(u, "50%/x", &len);
	assert_encodes(mem, u, len, NAME_KEY, "50%25%2Fx");
	u[0] = 0;
	u[1] = 0x1F;
	u[2] = 0x7F;
	u[3] = 'a';
	u[4] = '\n';
	assert_encodes(mem, u, 5, NAME_KEY, "%00%1F%7Fa%0A");
	/* Space and the rest of ASCII pass. */
	ascii16(u, " ~!*?\\:", &len);
	assert_encodes(mem, u, len, NAME_VALUE, " ~!*?\\:");
	/* Non-ASCII as UTF-8; a pair as one character. */
	u[0] = 0xE9;
	u[1] = 0x20AC;
	u[2] = 0xD83D;
	u[3] = 0xDE00;
	assert_encodes(mem, u, 4, NAME_KEY, "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80");
	/* Unpaired surrogates: a lone high, a lone low, low before high. */
	u[0] = 0xD800;
	assert_encodes(mem, u, 1, NAME_KEY, "%uD800");
	u[0] = 0xDFFF;
	assert_encodes(mem, u, 1, NAME_KEY, "%uDFFF");
	u[0] = 0xDC00;
	u[1] = 0xD800;
	assert_encodes(mem, u, 2, NAME_KEY, "%uDC00%uD800");
	/* A high before a pair stays lone; the pair stays whole. */
	u[0] = 0xDBFF;
	u[1] = 0xD83D;
	u[2] = 0xDE00;
	assert_encodes(mem, u, 3, NAME_KEY, "%uDBFF\xF0\x9F\x98\x80");
	/* The surrogate-free edges of the BMP. */
	u[0] = 0xD7FF;
	u[1] = 0xE000;
	u[2] = 0xFFFF;
	assert_encodes(mem, u, 3, NAME_KEY, "\xED\x9F\xBF\xEE\x80\x80\xEF\xBF\xBF");
}

static void decode_accepts(void **state)
{
	void *mem = *state;
	uint16_t w[8] = { 0 };

	/* The whole-name forms, hex in either case. */
	assert_decodes(mem, "@", 1, NAME_VALUE, w, 0);
	assert_decodes_ascii(mem, "@", NAME_KEY, "@");
	assert_decodes_ascii(mem, "%40", NAME_VALUE, "@");
	assert_decodes_ascii(mem, "%2E", NAME_KEY, ".");
	assert_decodes_ascii(mem, "%2e", NAME_VALUE, ".");
	assert_decodes_ascii(mem, "%2E%2E", NAME_KEY, "..");
	assert_decodes_ascii(mem, "%2e%2E", NAME_VALUE, "..");
	assert_decodes_ascii(mem, "...", NAME_KEY, "...");
	assert_decodes_ascii(mem, ".a", NAME_KEY, ".a");
	/* Escapes, either case. */
	assert_decodes_ascii(mem, "%25", NAME_KEY, "%");
	assert_decodes_ascii(mem, "a%2fb%2Fc", NAME_KEY, "a/b/c");
	w[0] = 0;
	w[1] = 0x1F;
	w[2] = 0x7F;
	w[3] = 0x7F;
	assert_decodes(mem, "%00%1f%7F%7f", 12, NAME_VALUE, w, 4);
	w[0] = 0xD800;
	assert_decodes(mem, "%uD800", 6, NAME_KEY, w, 1);
	w[0] = 0xDBFF;
	assert_decodes(mem, "%udbff", 6, NAME_KEY, w, 1);
	assert_decodes(mem, "%UdBfF", 6, NAME_KEY, w, 1);
	/* Two highs, two lows, low then high: all stay unpaired. */
	w[0] = 0xD800;
	w[1] = 0xD801;
	assert_decodes(mem, "%uD800%uD801", 12, NAME_KEY, w, 2);
	w[0] = 0xDC00;
	w[1] = 0xDC01;
	assert_decodes(mem, "%uDC00%uDC01", 12, NAME_KEY, w, 2);
	w[0] = 0xDC00;
	w[1] = 0xD800;
	assert_decodes(mem, "%uDC00%uD800", 12, NAME_KEY, w, 2);
	/* An escaped high before a real pair, an escaped low after one. */
	w[0] = 0xD800;
	w[1] = 0xD83D;
	w[2] = 0xDE00;
	assert_decodes(mem, "%uD800\xF0\x9F\x98\x80", 10, NAME_KEY, w, 3);
	w[0] = 0xD83D;
	w[1] = 0xDE00;
	w[2] = 0xDC00;
	assert_decodes(mem, "\xF0\x9F\x98\x80%uDC00", 10, NAME_VALUE, w, 3);
	/* UTF-8 at its limits. */
	w[0] = 0x80;
	assert_decodes(mem, "\xC2\x80", 2, NAME_KEY, w, 1);
	w[0] = 0xFFFF;
	assert_decodes(mem, "\xEF\xBF\xBF", 3, NAME_KEY, w, 1);
	w[0] = 0xDBFF;
	w[1] = 0xDFFF;
	assert_decodes(mem, "\xF4\x8F\xBF\xBF", 4, NAME_KEY, w, 2);
}

/* A '%' that starts no escape name_encode() makes stands for itself. */
static void decode_plain_percent(void **state)
{
	void *mem = *state;
	static const char *const plain[] = {
		"%", "%%", "a%", "%2", "%zz", "%g0", "%41", "%20", "%80", "%FF",
		"%2E.", ".%2E", "a%2E", "%2E%2E%2E", "%2Ex", "%u", "%uD80",
		"%uZZZZ", "%u0041", "%uE000", "%uD7FF", "%v", "%~", "%~2",
		"x%v", "Run%40", ".NAME%v.XyZ123",
	};

	for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
		assert_decodes_ascii(mem, plain[i], NAME_KEY, plain[i]);
		assert_decodes_ascii(mem, plain[i], NAME_VALUE, plain[i]);
	}
	/* Mixed with real escapes. */
	assert_decodes_ascii(mem, "%%25%", NAME_KEY, "%%%");
	assert_decodes_ascii(mem, "%2%2F", NAME_KEY, "%2/");
	assert_decodes_ascii(mem, "%u%25", NAME_VALUE, "%u%");
	/* rsync's temporary name for a value listed as NAME%v */
	assert_decodes_ascii(mem, ".Start%v.a1B2c3", NAME_VALUE,
			     ".Start%v.a1B2c3");
}

static void decode_refuses(void **state)
{
	void *mem = *state;
	static const char *const bad[] = {
		/* names no entry can have */
		".", "..",
		/* '/' and controls unescaped */
		"/", "a/b", "a/", "\x01", "a\tb", "a\nb", "\x1F", "\x7F", "x\x7F",
		/* malformed UTF-8 */
		"\x80", "a\xBF", "\xC0\x80", "\xC1\xBF", "\xC3", "a\xC3",
		"\xC3\x28", "\xE0\x80\x80", "\xE0\x9F\xBF", "\xE2\x82",
		"\xE2\x28\xAC", "\xED\xA0\x80", "\xED\xBF\xBF",
		"\xED\xA0\xBD\xED\xB8\x80", /* CESU-8 pair */
		"\xF0\x80\x80\x80", "\xF0\x8F\xBF\xBF", "\xF4\x90\x80\x80",
		"\xF5\x80\x80\x80", "\xF8\x88\x80\x80\x80", "\xFE", "\xFF",
		"\xF0\x9F\x98", "ok\xF0\x9F\x98",
		/* escaped surrogates that would pair up */
		"%uD800%uDC00", "%ud83d%ude00", "a%uDBFF%uDFFFb",
		"%uD800%udc00%uD800",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_refused(mem, bad[i], strlen(bad[i]), NAME_KEY);
		assert_refused(mem, bad[i], strlen(bad[i]), NAME_VALUE);
	}
	/* Empty. */
	assert_refused(mem, "", 0, NAME_KEY);
	assert_refused(mem, "", 0, NAME_VALUE);
	/* A NUL byte inside the given length: a control, unescaped. */
	assert_refused(mem, "a\0b", 3, NAME_KEY);
	assert_refused(mem, "\0", 1, NAME_VALUE);
	/* Only `len` bytes count: the same text cut short is fine. */
	assert_decodes_ascii(mem, "ab", NAME_KEY, "ab");
	{
		uint16_t *u;
		size_t n;
		assert_int_equal(name_decode(mem, "ab/", 2, NAME_KEY, &u, &n), 0);
		assert_int_equal(n, 2);
		talloc_free(u);
	}
}

/*
 * "%40" is an escape only in the value namespace; as a key's file name
 * decode refuses it (names.h says why), although the "a '%' that starts
 * no escape stands for itself" rule accepts "%41" as the key "%41".
 */
static void decode_key_percent40(void **state)
{
	assert_refused(*state, "%40", 3, NAME_KEY);
	assert_decodes_ascii(*state, "%40", NAME_VALUE, "@");
	/* Longer names with %40 in them stand for themselves. */
	assert_decodes_ascii(*state, "%40a", NAME_KEY, "%40a");
}

/* decode(encode(x)) == x, with the encoding as the table says. */
static void round_trip_random(void **state)
{
	void *mem = *state;
	uint16_t u[512];
	char ref[512 * 6 + 1];
	size_t cases = 0, escapes = 0, surrogates = 0;

	rng_state = 0x13;
	for (int i = 0; i < RANDOM_CASES; i++) {
		size_t len = random_units(u, 512);
		enum name_ns ns = i % 2 ? NAME_KEY : NAME_VALUE;
		char *enc = name_encode(mem, u, len, ns);
		size_t elen;
		uint16_t *back = NULL;
		size_t blen = 0;

		assert_non_null(enc);
		elen = ref_encode(u, len, ns, ref, NULL);
		if (strcmp(enc, ref) != 0)
			fail_msg("case %d: encoded \"%s\", want \"%s\"", i, enc, ref);
		assert_int_equal(strlen(enc), elen);
		/* Nothing a file name cannot hold, and never a "%~". */
		for (size_t k = 0; k < elen; k++) {
			unsigned char b = (unsigned char)enc[k];
			assert_true(b >= 0x20 && b != 0x7F && b != '/');
		}
		assert_false(name_is_synthetic(enc, elen));
		if (ns == NAME_KEY && len == 0) {
			/* The empty key name encodes to "", which the listing
			 * shortens (name_shorten_random); decode refuses it. */
			assert_refused(mem, enc, 0, NAME_KEY);
			talloc_free(enc);
			continue;
		}
		if (name_decode(mem, enc, elen, ns, &back, &blen) != 0)
			fail_msg("case %d: decode refused its encoding \"%s\"", i,
				 enc);
		assert_units(back, blen, u, len);
		escapes += strchr(enc, '%') != NULL;
		surrogates += strstr(enc, "%u") != NULL;
		cases++;
		talloc_free(back);
		talloc_free(enc);
	}
	/* The generator reached the rules it is meant to. */
	assert_true(cases > RANDOM_CASES * 9 / 10);
	assert_true(escapes > RANDOM_CASES / 2);
	assert_true(surrogates > RANDOM_CASES / 4);
}

/* Every escape name_encode makes also decodes in lowercase. */
static void round_trip_lowercase_hex(void **state)
{
	void *mem = *state;
	uint16_t u[64];

	rng_state = 0x1313;
	for (int i = 0; i < 2000; i++) {
		size_t len = random_units(u, 64);
		char *enc = name_encode(mem, u, len, NAME_VALUE);
		size_t elen = strlen(enc);
		uint16_t *back;
		size_t blen;

		for (size_t k = 0; k < elen; k++) {
			if (enc[k] != '%')
				continue;
			size_t digits = enc[k + 1] == 'u' ? 4 : 2;
			size_t from = k + 1 + (enc[k + 1] == 'u');
			for (size_t d = from; d < from + digits; d++)
				if (enc[d] >= 'A' && enc[d] <= 'F')
					enc[d] = (char)(enc[d] - 'A' + 'a');
			k = from + digits - 1;
		}
		if (name_decode(mem, enc, elen, NAME_VALUE, &back, &blen) != 0)
			fail_msg("case %d: decode refused \"%s\"", i, enc);
		assert_units(back, blen, u, len);
		talloc_free(back);
		talloc_free(enc);
	}
}

/* 64-bit FNV-1a, as names.c documents the shortened form's hash. */
static uint64_t fnv1a(const char *s, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 0x100000001b3ull;
	return h;
}

/*
 * Check the shortened form of `full`: within HIVEFS_NAME_MAX, PREFIX%~HASH
 * with the documented hash, PREFIX the longest start ending at one of
 * `cuts`, and stable.
 */
static void check_shortened(void *mem, const char *full, size_t len,
			    const bool *cuts)
{
	char *s = name_shorten(mem, full, len);
	char *again, hash[17];
	size_t slen, keep, next;

	assert_non_null(s);
	slen = strlen(s);
	assert_true(slen <= HIVEFS_NAME_MAX);
	assert_true(slen >= 18);
	keep = slen - 18;
	assert_memory_equal(s, full, keep);
	assert_memory_equal(s + keep, "%~", 2);
	snprintf(hash, sizeof(hash), "%016llx",
		 (unsigned long long)fnv1a(full, len));
	assert_string_equal(s + keep + 2, hash);
	/* A whole number of characters and escapes, as many as fit. */
	assert_true(cuts[keep]);
	for (next = keep + 1; next <= len && !cuts[next]; next++)
		;
	if (next <= len)
		assert_true(next > HIVEFS_NAME_MAX - 18);
	assert_true(name_is_synthetic(s, slen));
	/* Stable, and itself a valid length. */
	again = name_shorten(mem, full, len);
	assert_string_equal(again, s);
	assert_null(name_shorten(mem, s, slen));
	talloc_free(again);
	talloc_free(s);
}

static void shorten_fixed(void **state)
{
	void *mem = *state;
	char name[600];
	bool cuts[600];
	char *s;

	/* Names that fit are left alone, up to exactly 255 bytes. */
	memset(name, 'a', sizeof(name));
	assert_null(name_shorten(mem, name, 1));
	assert_null(name_shorten(mem, name, HIVEFS_NAME_MAX));
	/* 256 ASCII bytes: 237 kept, 255 in all. */
	for (size_t i = 0; i < sizeof(cuts); i++)
		cuts[i] = true;
	check_shortened(mem, name, 256, cuts);
	s = name_shorten(mem, name, 256);
	assert_int_equal(strlen(s), HIVEFS_NAME_MAX);
	talloc_free(s);
	/* The empty name (a key with no name) becomes just %~HASH. */
	s = name_shorten(mem, "", 0);
	assert_non_null(s);
	assert_string_equal(s, "%~cbf29ce484222325");
	talloc_free(s);
	/* A 3-byte character straddling byte 237 is left out whole. */
	memset(name, 'a', 236);
	memcpy(name + 236, "\xE2\x82\xAC", 3);
	memset(name + 239, 'b', 50);
	s = name_shorten(mem, name, 289);
	assert_int_equal(strlen(s), 236 + 18);
	assert_memory_equal(s + 236, "%~", 2);
	talloc_free(s);
	/* So is an escaped surrogate, and a %~N suffix. */
	memset(name, 'a', 234);
	memcpy(name + 234, "%uD800", 6);
	memset(name + 240, 'b', 50);
	s = name_shorten(mem, name, 290);
	assert_int_equal(strlen(s), 234 + 18);
	talloc_free(s);
	memset(name, 'a', 300);
	memcpy(name + 235, "%~12", 4);
	s = name_shorten(mem, name, 300);
	assert_int_equal(strlen(s), 235 + 18);
	talloc_free(s);
	/* Names alike in their first 237 bytes shorten apart. */
	memset(name, 'a', 300);
	s = name_shorten(mem, name, 300);
	name[299] = 'b';
	char *t = name_shorten(mem, name, 300);
	assert_memory_equal(s, t, 237);
	assert_string_not_equal(s, t);
	talloc_free(s);
	talloc_free(t);
}

/* Listed names (encoding plus the listing's suffixes) over 255 bytes. */
static void shorten_random(void **state)
{
	void *mem = *state;
	uint16_t u[512];
	static char full[512 * 6 + 32];
	static bool cuts[512 * 6 + 32];
	size_t shortened = 0;

	rng_state = 0x1331;
	for (int i = 0; i < RANDOM_CASES / 4; i++) {
		size_t ulen = random_units(u, 512);
		enum name_ns ns = i % 2 ? NAME_KEY : NAME_VALUE;
		size_t len;
		char *s;

		memset(cuts, 0, sizeof(cuts));
		cuts[0] = true;
		len = ref_encode(u, ulen, ns, full, cuts);
		/* Whole-name forms set no cuts; they are short anyway. */
		cuts[len] = true;
		if (ns == NAME_VALUE && rng_below(4) == 0) {
			len += (size_t)sprintf(full + len, "%%v");
			cuts[len] = true;
		}
		if (rng_below(4) == 0) {
			len += (size_t)sprintf(full + len, "%%~%u",
					       2 + rng_below(30000));
			cuts[len] = true;
		}
		if (len > 0 && len <= HIVEFS_NAME_MAX) {
			assert_null(name_shorten(mem, full, len));
			continue;
		}
		check_shortened(mem, full, len, cuts);
		/* What a listing hands out decodes (as a literal "%~"). */
		s = name_shorten(mem, full, len);
		{
			uint16_t *back;
			size_t blen;
			assert_int_equal(name_decode(mem, s, strlen(s), ns,
						     &back, &blen), 0);
			talloc_free(back);
		}
		talloc_free(s);
		shortened++;
	}
	assert_true(shortened > RANDOM_CASES / 40);
}

static void synthetic(void **state)
{
	assert_true(name_is_synthetic("%~", 2));
	assert_true(name_is_synthetic("a%~2", 4));
	assert_true(name_is_synthetic("x%~0123456789abcdef", 19));
	assert_true(name_is_synthetic("%%~", 3));
	assert_false(name_is_synthetic("", 0));
	assert_false(name_is_synthetic("%", 1));
	assert_false(name_is_synthetic("~%", 2));
	assert_false(name_is_synthetic("%25~", 4));
	assert_false(name_is_synthetic("a%v", 3));
	/* Only the given length counts. */
	assert_false(name_is_synthetic("a%~", 2));
}

/* -o typenames: the suffix of every type reads back as that type, and
 * only what name_type_suffix() writes is a suffix. */
static void type_suffixes(void **state)
{
	static const uint32_t types[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
					  11, 12, 0x1234, 0x7fffffff,
					  0xffffffff };
	char name[64], suffix[NAME_TYPE_SUFFIX_MAX];
	uint32_t type;
	bool raw;

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		for (int r = 0; r < 2; r++) {
			name_type_suffix(types[i], r, suffix);
			snprintf(name, sizeof(name), "x.dword%s", suffix);
			type = 99;
			assert_int_equal(name_type_suffix_len(name, strlen(name),
							      &type, &raw),
					 strlen(suffix));
			assert_int_equal(type, types[i]);
			assert_int_equal(raw, r);
		}
	}
	name_type_suffix(4, false, suffix);
	assert_string_equal(suffix, ".dword");
	name_type_suffix(2, true, suffix);
	assert_string_equal(suffix, ".expand_sz.raw");
	name_type_suffix(0x1234, false, suffix);
	assert_string_equal(suffix, ".hex(1234)");
	/* Any case; the stem must not be empty. */
	assert_int_equal(name_type_suffix_len("Start.DWORD", 11, &type, &raw), 6);
	assert_int_equal(type, 4);
	assert_int_equal(name_type_suffix_len(".dword", 6, &type, &raw), 0);
	assert_int_equal(name_type_suffix_len("@.sz", 4, &type, &raw), 3);
	/* Other spellings are not suffixes: each type has one. */
	assert_int_equal(name_type_suffix_len("a.hex(4)", 8, &type, &raw), 0);
	assert_int_equal(name_type_suffix_len("a.hex(0c)", 9, &type, &raw), 0);
	assert_int_equal(name_type_suffix_len("a.hex(100000000)", 16, &type,
					      &raw), 0);
	assert_int_equal(name_type_suffix_len("a.reg_dword", 11, &type, &raw), 0);
	assert_int_equal(name_type_suffix_len("a.4", 3, &type, &raw), 0);
	assert_int_equal(name_type_suffix_len("a.raw", 5, &type, &raw), 0);
	assert_int_equal(name_type_suffix_len("a.txt", 5, &type, &raw), 0);
	assert_int_equal(name_type_suffix_len("sedAb12Q", 8, &type, &raw), 0);
	assert_int_equal(name_type_suffix_len("a.sz.RAW", 8, &type, &raw), 7);
	assert_true(raw);
	assert_int_equal(name_type_suffix_len("a.hex(c)", 8, &type, &raw), 7);
	assert_int_equal(type, 12);
	/* Only the given length counts. */
	assert_int_equal(name_type_suffix_len("a.sz%v", 4, &type, &raw), 3);
	assert_int_equal(name_type_suffix_len("a.sz%v", 6, &type, &raw), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		TEST(encode_table),
		TEST(decode_accepts),
		TEST(decode_plain_percent),
		TEST(decode_refuses),
		TEST(decode_key_percent40),
		TEST(round_trip_random),
		TEST(round_trip_lowercase_hex),
		TEST(shorten_fixed),
		TEST(shorten_random),
		TEST(synthetic),
		TEST(type_suffixes),
	};
	return cmocka_run_group_tests_name("fs names", tests, NULL, NULL);
}
