/*
 * text.c — value types and value data as text: the one codec that hivefs
 * and hivectl share, so a type name or a number means the same in
 * setfattr, in a file written on the mount and on hivectl's command line.
 *
 * Type names.  A type is written as its name with or without "REG_"
 * (REG_DWORD, dword), any case; as Windows' long aliases
 * (REG_DWORD_LITTLE_ENDIAN, REG_QWORD_LITTLE_ENDIAN); as the short names
 * of hive_type_short_name() (dword_be, ...); as a .reg file's hex(N)
 * with N in hex; or as a number, decimal or 0x hex.
 *
 * Numbers (types and DWORD/QWORD text alike) are decimal or 0x hex and
 * never octal: leading zeros change nothing, so 010 is ten.  strtoul's
 * base 0, which reads 010 as eight, is what made hivefs and hivectl
 * disagree.  No sign, no spaces, nothing after the digits.
 */
#include <string.h>
#include <strings.h>

#include <talloc.h>

#include "hive.h"

struct type_spelling {
	const char *name;
	uint32_t type;
};

/* Names other than "REG_" + long name and the short names. */
static const struct type_spelling aliases[] = {
	{ "REG_DWORD_LITTLE_ENDIAN", HIVE_REG_DWORD },
	{ "DWORD_LITTLE_ENDIAN", HIVE_REG_DWORD },
	{ "DWORD_LE", HIVE_REG_DWORD },
	{ "REG_QWORD_LITTLE_ENDIAN", HIVE_REG_QWORD },
	{ "QWORD_LITTLE_ENDIAN", HIVE_REG_QWORD },
	{ "QWORD_LE", HIVE_REG_QWORD },
};

static const char *const short_names[] = {
	"none", "sz", "expand_sz", "binary", "dword", "dword_be", "link",
	"multi_sz", "resource_list", "full_resource_descriptor",
	"resource_requirements_list", "qword",
};

const char *hive_type_short_name(uint32_t type)
{
	return type < sizeof(short_names) / sizeof(short_names[0])
		       ? short_names[type]
		       : NULL;
}

static int digit_value(char c, unsigned base)
{
	int d = c >= '0' && c <= '9'   ? c - '0'
		: c >= 'a' && c <= 'f' ? c - 'a' + 10
		: c >= 'A' && c <= 'F' ? c - 'A' + 10
				       : 99;

	return d < (int)base ? d : -1;
}

/* Digits in `base`, all of s[0, len), at least one, at most `max`. */
static bool digits_value(const char *s, size_t len, unsigned base,
			 uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		int d = digit_value(s[i], base);

		if (d < 0 || v > (max - (uint64_t)d) / base)
			return false;
		v = v * base + (uint64_t)d;
	}
	*out = v;
	return true;
}

int hive_number_parse(const char *text, size_t len, uint64_t max,
		      uint64_t *out)
{
	bool hex = len >= 2 && text[0] == '0' && (text[1] | 0x20) == 'x';

	if (hex)
		return digits_value(text + 2, len - 2, 16, max, out)
			       ? HIVE_OK
			       : HIVE_E_INVALID;
	return digits_value(text, len, 10, max, out) ? HIVE_OK : HIVE_E_INVALID;
}

bool hive_type_parse(const char *text, uint32_t *type)
{
	size_t len = strlen(text);
	uint64_t v;

	for (uint32_t t = 0; t <= HIVE_REG_QWORD; t++) {
		const char *name = hive_type_name(t);

		if (!strcasecmp(text, name) || !strcasecmp(text, name + 4) ||
		    !strcasecmp(text, short_names[t])) {
			*type = t;
			return true;
		}
	}
	for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++) {
		if (!strcasecmp(text, aliases[i].name)) {
			*type = aliases[i].type;
			return true;
		}
	}
	/* hex(7), as a .reg file writes a type: hex digits, no 0x. */
	if (len > 5 && !strncasecmp(text, "hex(", 4) && text[len - 1] == ')') {
		if (!digits_value(text + 4, len - 5, 16, UINT32_MAX, &v))
			return false;
		*type = (uint32_t)v;
		return true;
	}
	if (hive_number_parse(text, len, UINT32_MAX, &v))
		return false;
	*type = (uint32_t)v;
	return true;
}

/*
 * ---- value data as text ----
 *
 * The text of a value exists for the types below and only where it is
 * exact: data is shown as text when parsing that text gives the same
 * bytes back (hive_text_render says SIZE_MAX otherwise, and a front end
 * shows such data as it is).
 *
 *   type               exact data                text     text -> data
 *   SZ, EXPAND_SZ      UTF-16LE, one NUL unit    S "\n"   UTF-16LE(S) NUL
 *                      at the end and no other            ("" and "\n"
 *                                                          give one NUL)
 *   MULTI_SZ           S1 NUL ... Sn NUL NUL,    S1 "\n"  each line + NUL,
 *                      n >= 1, every Si non-     ...      then one NUL;
 *                      empty and without LF      Sn "\n"  an empty line is
 *                      one NUL unit (no strings) ""       refused
 *   LINK               UTF-16LE without NUL      S        UTF-16LE(S)
 *   DWORD              4 bytes, little endian    "%u\n"   a number
 *   DWORD_BIG_ENDIAN   4 bytes, big endian       "%u\n"   a number
 *   QWORD              8 bytes, little endian    "%llu\n" a number
 *
 * A number is hive_number_parse()'s (decimal or 0x hex, never octal),
 * with one optional newline after it.  Text is UTF-8 of Unicode scalar
 * values: no NUL, no surrogate (not even a pair spelt in three bytes
 * each, CESU-8), no overlong form.  Every string of the data must be
 * valid UTF-16.
 *
 * Why these choices: Windows reads a REG_MULTI_SZ up to its first empty
 * string, so "a\0\0b\0\0" is the list "a" to it and a "b" written after
 * an empty line would be invisible; regedit refuses such lists too, and
 * here the text is refused rather than silently changed.  An empty
 * string is one NUL, as RegSetValueExW stores "".  Zero bytes of SZ,
 * data with bytes after its NUL, an odd length: all have no exact text.
 */

bool hive_type_has_text(uint32_t type)
{
	switch (type) {
	case HIVE_REG_SZ:
	case HIVE_REG_EXPAND_SZ:
	case HIVE_REG_MULTI_SZ:
	case HIVE_REG_LINK:
	case HIVE_REG_DWORD:
	case HIVE_REG_DWORD_BIG_ENDIAN:
	case HIVE_REG_QWORD:
		return true;
	default:
		return false;
	}
}

static inline uint16_t unit_at(const uint8_t *p, size_t i)
{
	return (uint16_t)(p[2 * i] | p[2 * i + 1] << 8);
}

/* ---- data -> text ---- */

/*
 * UTF-8 of units [from, to) of UTF-16LE data, written to out when out is
 * not NULL.  Returns the byte count, or SIZE_MAX if the units hold an
 * unpaired surrogate, a NUL, or (when no_lf is set) a line feed.
 */
static size_t utf16_to_utf8(const uint8_t *data, size_t from, size_t to,
			    bool no_lf, char *out)
{
	size_t n = 0;

	for (size_t i = from; i < to; i++) {
		uint32_t c = unit_at(data, i);
		size_t k;

		if (c == 0 || (no_lf && c == '\n'))
			return SIZE_MAX;
		if (c >= 0xD800 && c <= 0xDBFF) {
			uint16_t lo = i + 1 < to ? unit_at(data, i + 1) : 0;

			if (lo < 0xDC00 || lo > 0xDFFF)
				return SIZE_MAX;
			c = 0x10000 + ((c - 0xD800) << 10) + (lo - 0xDC00);
			i++;
		} else if (c >= 0xDC00 && c <= 0xDFFF) {
			return SIZE_MAX;
		}
		k = c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
		if (out) {
			char *p = out + n;

			if (k == 1) {
				p[0] = (char)c;
			} else if (k == 2) {
				p[0] = (char)(0xC0 | (c >> 6));
				p[1] = (char)(0x80 | (c & 0x3F));
			} else if (k == 3) {
				p[0] = (char)(0xE0 | (c >> 12));
				p[1] = (char)(0x80 | ((c >> 6) & 0x3F));
				p[2] = (char)(0x80 | (c & 0x3F));
			} else {
				p[0] = (char)(0xF0 | (c >> 18));
				p[1] = (char)(0x80 | ((c >> 12) & 0x3F));
				p[2] = (char)(0x80 | ((c >> 6) & 0x3F));
				p[3] = (char)(0x80 | (c & 0x3F));
			}
		}
		n += k;
	}
	return n;
}

/* The strings of an exact MULTI_SZ as lines; SIZE_MAX if not exact. */
static size_t multi_sz_text(const uint8_t *data, size_t units, char *out)
{
	size_t n = 0, start = 0;

	/* S1 NUL ... Sn NUL, then the final NUL; or that NUL alone. */
	if (units == 0 || unit_at(data, units - 1) != 0)
		return SIZE_MAX;
	units--;
	if (units > 0 && unit_at(data, units - 1) != 0)
		return SIZE_MAX;
	for (size_t i = 0; i < units; i++) {
		size_t k;

		if (unit_at(data, i) != 0)
			continue;
		if (i == start)
			return SIZE_MAX; /* an empty string ends the list */
		k = utf16_to_utf8(data, start, i, true, out ? out + n : NULL);
		if (k == SIZE_MAX)
			return SIZE_MAX;
		n += k;
		if (out)
			out[n] = '\n';
		n++;
		start = i + 1;
	}
	return n;
}

/* Decimal digits of v into out (if not NULL) and a newline; the count. */
static size_t number_text(uint64_t v, char *out)
{
	char digits[20];
	size_t n = 0;

	do {
		digits[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	if (out) {
		for (size_t i = 0; i < n; i++)
			out[i] = digits[n - 1 - i];
		out[n] = '\n';
	}
	return n + 1;
}

size_t hive_text_render(uint32_t type, const uint8_t *data, size_t len,
			char *out)
{
	size_t n, units = len / 2;
	uint64_t v = 0;

	switch (type) {
	case HIVE_REG_SZ:
	case HIVE_REG_EXPAND_SZ:
		if (len == 0 || len % 2 || unit_at(data, units - 1) != 0)
			return SIZE_MAX;
		n = utf16_to_utf8(data, 0, units - 1, false, out);
		if (n == SIZE_MAX)
			return n;
		if (out)
			out[n] = '\n';
		return n + 1;
	case HIVE_REG_MULTI_SZ:
		return len % 2 ? SIZE_MAX : multi_sz_text(data, units, out);
	case HIVE_REG_LINK:
		return len % 2 ? SIZE_MAX
			       : utf16_to_utf8(data, 0, units, false, out);
	case HIVE_REG_DWORD:
	case HIVE_REG_QWORD:
		if (len != (type == HIVE_REG_QWORD ? 8u : 4u))
			return SIZE_MAX;
		for (size_t i = len; i-- > 0;)
			v = v << 8 | data[i];
		return number_text(v, out);
	case HIVE_REG_DWORD_BIG_ENDIAN:
		if (len != 4)
			return SIZE_MAX;
		for (size_t i = 0; i < 4; i++)
			v = v << 8 | data[i];
		return number_text(v, out);
	default:
		return SIZE_MAX;
	}
}

/* ---- text -> data ---- */

enum utf8_step { UTF8_BAD = -1, UTF8_CUT = 0 };

/*
 * The Unicode scalar value at s[0, len): the bytes it takes (> 0) and
 * *c, or UTF8_CUT if the bytes are a valid start cut short by the end,
 * or UTF8_BAD (not UTF-8: a stray or missing continuation, an overlong
 * form, a surrogate, beyond U+10FFFF).
 */
static int utf8_next(const char *s, size_t len, uint32_t *c)
{
	uint8_t b = (uint8_t)s[0];
	uint32_t min, v;
	int k;

	if (b < 0x80) {
		*c = b;
		return 1;
	}
	if (b >= 0xC2 && b <= 0xDF) {
		k = 2, min = 0x80, v = b & 0x1F;
	} else if (b >= 0xE0 && b <= 0xEF) {
		k = 3, min = 0x800, v = b & 0x0F;
	} else if (b >= 0xF0 && b <= 0xF4) {
		k = 4, min = 0x10000, v = b & 0x07;
	} else {
		return UTF8_BAD;
	}
	for (int i = 1; i < k; i++) {
		if ((size_t)i >= len) {
			/* Cut short: bad already if what is there can only
			 * be overlong, a surrogate or too large. */
			uint32_t lo = v << (6 * (k - i)),
				 hi = lo | ((1u << (6 * (k - i))) - 1);

			if (hi < min || lo > 0x10FFFF ||
			    (lo >= 0xD800 && hi <= 0xDFFF))
				return UTF8_BAD;
			return UTF8_CUT;
		}
		if (((uint8_t)s[i] & 0xC0) != 0x80)
			return UTF8_BAD;
		v = v << 6 | ((uint8_t)s[i] & 0x3F);
	}
	if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
		return UTF8_BAD;
	*c = v;
	return k;
}

/*
 * Checks s[0, len) as the UTF-8 of one string (no NUL) and counts its
 * UTF-16 units.  Returns true if all of it is valid (*units set), and
 * false otherwise; *cut says whether the only fault is a character cut
 * short by the end (more bytes may still make it valid).
 */
static bool utf8_string(const char *s, size_t len, size_t *units, bool *cut)
{
	size_t n = 0;
	uint32_t c;

	*cut = false;
	for (size_t i = 0; i < len;) {
		int k = utf8_next(s + i, len - i, &c);

		if (k == UTF8_CUT)
			*cut = true;
		if (k <= 0 || c == 0)
			return false;
		n += c >= 0x10000 ? 2 : 1;
		i += (size_t)k;
	}
	*units = n;
	return true;
}

/* Valid UTF-8 s[0, len) as UTF-16LE at out (which has room). */
static size_t put_utf16(const char *s, size_t len, uint8_t *out)
{
	size_t n = 0;
	uint32_t c;

	for (size_t i = 0; i < len;) {
		i += (size_t)utf8_next(s + i, len - i, &c);
		if (c >= 0x10000) {
			uint32_t hi = 0xD800 + ((c - 0x10000) >> 10),
				 lo = 0xDC00 + ((c - 0x10000) & 0x3FF);

			out[n++] = (uint8_t)hi;
			out[n++] = (uint8_t)(hi >> 8);
			c = lo;
		}
		out[n++] = (uint8_t)c;
		out[n++] = (uint8_t)(c >> 8);
	}
	return n;
}

/* A number's text: the digits and at most one newline after them. */
static int number_value(uint32_t type, const char *text, size_t len,
			uint64_t *v)
{
	if (len && text[len - 1] == '\n')
		len--;
	return hive_number_parse(text, len,
				 type == HIVE_REG_QWORD ? UINT64_MAX : UINT32_MAX,
				 v);
}

/*
 * The lines of a MULTI_SZ's text: each checked, and the UTF-16 units of
 * the data they give counted (NULs included).  HIVE_E_INVALID for a line
 * that is empty or not UTF-8.
 */
static int multi_sz_measure(const char *text, size_t len, size_t *units)
{
	size_t total = 1; /* the final NUL */
	bool cut;

	for (size_t start = 0; start < len;) {
		const char *nl = memchr(text + start, '\n', len - start);
		size_t end = nl ? (size_t)(nl - text) : len, n;

		if (end == start ||
		    !utf8_string(text + start, end - start, &n, &cut))
			return HIVE_E_INVALID;
		total += n + 1;
		start = end + 1;
	}
	*units = total;
	return HIVE_OK;
}

int hive_text_parse(void *mem, uint32_t type, const char *text, size_t len,
		    uint8_t **data, size_t *data_len)
{
	size_t units = 0, n = 0;
	uint8_t *out;
	uint64_t v = 0;
	bool cut;
	int err = HIVE_OK;

	/* Measure and check first, so nothing is allocated on failure. */
	switch (type) {
	case HIVE_REG_SZ:
	case HIVE_REG_EXPAND_SZ:
		if (len && text[len - 1] == '\n')
			len--;
		if (!utf8_string(text, len, &units, &cut))
			return HIVE_E_INVALID;
		units++;
		break;
	case HIVE_REG_LINK:
		if (!utf8_string(text, len, &units, &cut))
			return HIVE_E_INVALID;
		break;
	case HIVE_REG_MULTI_SZ:
		err = multi_sz_measure(text, len, &units);
		break;
	case HIVE_REG_DWORD:
	case HIVE_REG_DWORD_BIG_ENDIAN:
	case HIVE_REG_QWORD:
		err = number_value(type, text, len, &v);
		units = type == HIVE_REG_QWORD ? 4 : 2;
		break;
	default:
		return HIVE_E_INVALID;
	}
	if (err)
		return err;
	if (units > HIVE_MAX_VALUE_DATA / 2)
		return HIVE_E_TOO_BIG;
	/* talloc refuses zero-sized arrays on some versions: one spare. */
	out = talloc_array(mem, uint8_t, 2 * units + 1);
	if (!out)
		return HIVE_E_NOMEM;
	switch (type) {
	case HIVE_REG_SZ:
	case HIVE_REG_EXPAND_SZ:
		n = put_utf16(text, len, out);
		out[n++] = 0;
		out[n++] = 0;
		break;
	case HIVE_REG_LINK:
		n = put_utf16(text, len, out);
		break;
	case HIVE_REG_MULTI_SZ:
		for (size_t start = 0; start < len;) {
			const char *nl = memchr(text + start, '\n', len - start);
			size_t end = nl ? (size_t)(nl - text) : len;

			n += put_utf16(text + start, end - start, out + n);
			out[n++] = 0;
			out[n++] = 0;
			start = end + 1;
		}
		out[n++] = 0;
		out[n++] = 0;
		break;
	default:
		n = 2 * units;
		for (size_t i = 0; i < n; i++) {
			size_t at = type == HIVE_REG_DWORD_BIG_ENDIAN ? 3 - i : i;

			out[at] = (uint8_t)(v >> (8 * i));
		}
		break;
	}
	*data = out;
	*data_len = n;
	return HIVE_OK;
}

/* ---- a beginning of text ---- */

/* Could digits so far, s[0, len), begin a number of at most max? */
static bool number_may_begin(const char *s, size_t len, uint64_t max)
{
	bool hex = len >= 2 && s[0] == '0' && (s[1] | 0x20) == 'x';
	size_t from = hex ? 2 : 0;
	uint64_t v;

	if (len == 0 || (len == 1 && s[0] == '0'))
		return true;
	if (hex && len == 2)
		return true;
	return digits_value(s + from, len - from, hex ? 16 : 10, max, &v);
}

bool hive_text_may_begin(uint32_t type, const char *text, size_t len)
{
	const char *nl;
	size_t units;
	bool cut;

	switch (type) {
	case HIVE_REG_SZ:
	case HIVE_REG_EXPAND_SZ:
	case HIVE_REG_LINK:
		/* A string may hold line feeds: all of it is one string. */
		return utf8_string(text, len, &units, &cut) || cut;
	case HIVE_REG_MULTI_SZ:
		for (size_t start = 0; start < len;) {
			nl = memchr(text + start, '\n', len - start);
			size_t end = nl ? (size_t)(nl - text) : len;

			if (nl && end == start)
				return false; /* an empty line */
			if (!utf8_string(text + start, end - start, &units,
					 &cut) &&
			    !(cut && !nl))
				return false;
			start = end + 1;
		}
		return true;
	case HIVE_REG_DWORD:
	case HIVE_REG_DWORD_BIG_ENDIAN:
	case HIVE_REG_QWORD:
		nl = memchr(text, '\n', len);
		if (nl) {
			/* Nothing may follow the newline; the number before
			 * it is complete. */
			uint64_t v;

			return (size_t)(nl - text) + 1 == len &&
			       number_value(type, text, len, &v) == HIVE_OK;
		}
		return number_may_begin(text, len,
					type == HIVE_REG_QWORD ? UINT64_MAX
							       : UINT32_MAX);
	default:
		return true; /* no text view: any bytes */
	}
}
