/*
 * names.c — the reversible file-name encoding (hivefs(1), FILE NAMES).
 *
 * A stored name is a string of UTF-16 code units that may hold anything,
 * NUL and unpaired surrogates included.  Its file name is UTF-8 with these
 * units written as escapes instead:
 *
 *   %        %25          /        %2F
 *   C0, DEL  %XX          unpaired surrogate  %uXXXX
 *   a whole name "." or ".."   %2E or %2E%2E
 *
 * Values add two rules: the default value (empty name) is "@", and a value
 * really named "@" is "%40".  A key named "@" stays "@".
 *
 * Escapes use uppercase hex.  name_decode() is strict: it accepts only
 * what name_encode() produces (hex in either case), so every stored name
 * has exactly one file name, and no file name reaches two entries.
 *
 * A listing (dir.c) then adds suffixes this encoding can never produce:
 *   NAME%v     a value whose name is also a subkey's name
 *   NAME%~N    the N-th (N >= 2) entry whose name equals an earlier one's
 *              under Windows' case rules (a damaged list)
 * (with -o typenames, NAME.TYPE[.raw] first: names.h) and replaces a name
 * that cannot be a file name, because it is empty or
 * longer than HIVEFS_NAME_MAX (255) bytes, by its shortened form
 *
 *   PREFIX%~HHHHHHHHHHHHHHHH
 *
 * PREFIX is the longest start of the full file name, cut between whole
 * characters or escapes, that keeps the result within 255 bytes; the 16
 * lowercase hex digits are the 64-bit FNV-1a hash of the full file name's
 * bytes (suffixes included).  The full name of such an entry is in its
 * xattr user.winreg.name.  "%~" never comes out of the encoding itself, so
 * these forms cannot collide with a real name.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <talloc.h>

#include "hive.h"
#include "names.h"

#define SHORT_HASH_DIGITS 16
#define SHORT_SUFFIX_LEN (2 + SHORT_HASH_DIGITS) /* "%~" + hash */

static bool is_high(uint16_t c)
{
	return c >= 0xD800 && c <= 0xDBFF;
}

static bool is_low(uint16_t c)
{
	return c >= 0xDC00 && c <= 0xDFFF;
}

static const char hex_upper[] = "0123456789ABCDEF";

/* Append the escape or UTF-8 of unit i (and i + 1 for a pair); returns
 * the number of units consumed.  out must have 6 bytes of room. */
static size_t put_unit(const uint16_t *u, size_t len, size_t i, char *out,
		       size_t *used)
{
	uint32_t c = u[i];
	char *p = out + *used;

	if (is_high(c) && i + 1 < len && is_low(u[i + 1])) {
		c = 0x10000 + ((c - 0xD800) << 10) + (u[i + 1] - 0xDC00);
		p[0] = (char)(0xF0 | (c >> 18));
		p[1] = (char)(0x80 | ((c >> 12) & 0x3F));
		p[2] = (char)(0x80 | ((c >> 6) & 0x3F));
		p[3] = (char)(0x80 | (c & 0x3F));
		*used += 4;
		return 2;
	}
	if (is_high(c) || is_low(c)) {
		p[0] = '%';
		p[1] = 'u';
		for (int k = 0; k < 4; k++)
			p[2 + k] = hex_upper[(c >> (12 - 4 * k)) & 0xF];
		*used += 6;
	} else if (c < 0x20 || c == 0x7F || c == '%' || c == '/') {
		p[0] = '%';
		p[1] = hex_upper[c >> 4];
		p[2] = hex_upper[c & 0xF];
		*used += 3;
	} else if (c < 0x80) {
		p[0] = (char)c;
		*used += 1;
	} else if (c < 0x800) {
		p[0] = (char)(0xC0 | (c >> 6));
		p[1] = (char)(0x80 | (c & 0x3F));
		*used += 2;
	} else {
		p[0] = (char)(0xE0 | (c >> 12));
		p[1] = (char)(0x80 | ((c >> 6) & 0x3F));
		p[2] = (char)(0x80 | (c & 0x3F));
		*used += 3;
	}
	return 1;
}

char *name_encode(void *mem, const uint16_t *u, size_t len, enum name_ns ns)
{
	char *out;
	size_t used = 0;

	if (ns == NAME_VALUE && len == 0)
		return talloc_strdup(mem, "@");
	if (ns == NAME_VALUE && len == 1 && u[0] == '@')
		return talloc_strdup(mem, "%40");
	if (len == 1 && u[0] == '.')
		return talloc_strdup(mem, "%2E");
	if (len == 2 && u[0] == '.' && u[1] == '.')
		return talloc_strdup(mem, "%2E%2E");
	/* At most 6 bytes per unit (an escaped surrogate). */
	out = talloc_array(mem, char, len * 6 + 1);
	if (!out)
		return NULL;
	for (size_t i = 0; i < len;)
		i += put_unit(u, len, i, out, &used);
	out[used] = '\0';
	return out;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int hex_field(const char *s, size_t n)
{
	int v = 0;

	for (size_t i = 0; i < n; i++) {
		int d = hex_value(s[i]);
		if (d < 0)
			return -1;
		v = v * 16 + d;
	}
	return v;
}

/* One strict UTF-8 sequence at s (n bytes left): the code point and its
 * length, or -1 for malformed, overlong or surrogate sequences. */
static long utf8_next(const unsigned char *s, size_t n, size_t *step)
{
	unsigned char b = s[0];
	long c;
	size_t k;

	if (b < 0x80) {
		*step = 1;
		return b;
	}
	if (b >= 0xC2 && b <= 0xDF) {
		k = 2;
		c = b & 0x1F;
	} else if (b >= 0xE0 && b <= 0xEF) {
		k = 3;
		c = b & 0x0F;
	} else if (b >= 0xF0 && b <= 0xF4) {
		k = 4;
		c = b & 0x07;
	} else {
		return -1;
	}
	if (n < k)
		return -1;
	for (size_t i = 1; i < k; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return -1;
		c = (c << 6) | (s[i] & 0x3F);
	}
	if ((k == 3 && c < 0x800) || (k == 4 && (c < 0x10000 || c > 0x10FFFF)) ||
	    (c >= 0xD800 && c <= 0xDFFF))
		return -1;
	*step = k;
	return c;
}

/* Is the escaped surrogate at i unpaired in the decoded units? */
static bool stays_unpaired(const uint16_t *u, size_t n, size_t i)
{
	if (is_high(u[i]))
		return !(i + 1 < n && is_low(u[i + 1]));
	return !(i > 0 && is_high(u[i - 1]));
}

int name_decode(void *mem, const char *s, size_t len, enum name_ns ns,
		uint16_t **units, size_t *out_len)
{
	const unsigned char *p = (const unsigned char *)s;
	uint16_t *u;
	size_t n = 0, *esc, n_esc = 0;

	/* The whole-name forms first. */
	if (ns == NAME_VALUE && len == 1 && s[0] == '@') {
		*units = talloc_array(mem, uint16_t, 1);
		*out_len = 0;
		return *units ? 0 : -1;
	}
	if (len == 3 && strncasecmp(s, "%2E", 3) == 0) {
		s = ".";
		len = 1;
		p = (const unsigned char *)s;
		goto plain;
	}
	if (len == 6 && strncasecmp(s, "%2E%2E", 6) == 0) {
		s = "..";
		len = 2;
		p = (const unsigned char *)s;
		goto plain;
	}
	if (ns == NAME_VALUE && len == 3 && strncasecmp(s, "%40", 3) == 0) {
		s = "@";
		len = 1;
		p = (const unsigned char *)s;
		goto plain;
	}
	if (ns == NAME_KEY && len == 3 && strncasecmp(s, "%40", 3) == 0)
		return -1;
	if (len == 0 || (len == 1 && s[0] == '.') ||
	    (len == 2 && s[0] == '.' && s[1] == '.'))
		return -1;
plain:
	u = talloc_array(mem, uint16_t, len + 1);
	esc = talloc_array(u, size_t, len + 1);
	if (!u || !esc) {
		talloc_free(u);
		return -1;
	}
	for (size_t i = 0; i < len;) {
		if (p[i] == '%') {
			int v;

			if (i + 6 <= len && (p[i + 1] == 'u' || p[i + 1] == 'U')) {
				v = hex_field(s + i + 2, 4);
				if (v >= 0xD800 && v <= 0xDFFF) {
					esc[n_esc++] = n;
					u[n++] = (uint16_t)v;
					i += 6;
					continue;
				}
			}
			v = i + 3 <= len ? hex_field(s + i + 1, 2) : -1;
			if (v >= 0 && (v < 0x20 || v == 0x7F || v == '%' || v == '/')) {
				u[n++] = (uint16_t)v;
				i += 3;
				continue;
			}
			/* Not an escape name_encode() makes: a plain '%'.
			 * Programs make names of their own from listed ones
			 * (rsync's ".NAME%v.XXXXXX"); those must work. */
			u[n++] = '%';
			i++;
		} else {
			size_t step;
			long c = utf8_next(p + i, len - i, &step);

			/* Controls and DEL come only as escapes. */
			if (c < 0x20 || c == 0x7F || c == '/')
				goto bad;
			if (c >= 0x10000) {
				c -= 0x10000;
				u[n++] = (uint16_t)(0xD800 + (c >> 10));
				u[n++] = (uint16_t)(0xDC00 + (c & 0x3FF));
			} else {
				u[n++] = (uint16_t)c;
			}
			i += step;
		}
	}
	/* An escaped surrogate that pairs up would have been plain UTF-8. */
	for (size_t k = 0; k < n_esc; k++)
		if (!stays_unpaired(u, n, esc[k]))
			goto bad;
	talloc_free(esc);
	*units = u;
	*out_len = n;
	return 0;
bad:
	talloc_free(u);
	return -1;
}

/* 64-bit FNV-1a. */
static uint64_t name_hash(const char *s, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

/* Bytes of the character or escape that starts at s[i]. */
static size_t token_len(const char *s, size_t len, size_t i)
{
	unsigned char b = (unsigned char)s[i];
	size_t k = 1;

	if (b == '%' && i + 1 < len) {
		if (s[i + 1] == 'u')
			k = 6;
		else if (s[i + 1] == 'v')
			k = 2;
		else if (s[i + 1] == '~') /* %~N: keep the number whole */
			for (k = 2; i + k < len && s[i + k] >= '0' &&
				    s[i + k] <= '9'; k++)
				;
		else
			k = 3;
	} else if (b >= 0xF0) {
		k = 4;
	} else if (b >= 0xE0) {
		k = 3;
	} else if (b >= 0xC0) {
		k = 2;
	}
	return i + k <= len ? k : len - i;
}

char *name_shorten(void *mem, const char *name, size_t len)
{
	size_t keep = 0;

	if (len > 0 && len <= HIVEFS_NAME_MAX)
		return NULL;
	while (keep < len) {
		size_t k = token_len(name, len, keep);
		if (keep + k > HIVEFS_NAME_MAX - SHORT_SUFFIX_LEN)
			break;
		keep += k;
	}
	return talloc_asprintf(mem, "%.*s%%~%016llx", (int)keep, name,
			       (unsigned long long)name_hash(name, len));
}

bool name_is_synthetic(const char *s, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++)
		if (s[i] == '%' && s[i + 1] == '~')
			return true;
	return false;
}

/* ---- -o typenames ---- */

/* Types with a short name: hive_type_short_name() knows them. */
#define SHORT_NAMED_TYPES 12

void name_type_suffix(uint32_t type, bool raw, char *buf)
{
	const char *name = hive_type_short_name(type);

	if (name)
		snprintf(buf, NAME_TYPE_SUFFIX_MAX, ".%s%s", name,
			 raw ? ".raw" : "");
	else
		snprintf(buf, NAME_TYPE_SUFFIX_MAX, ".hex(%x)%s", (unsigned)type,
			 raw ? ".raw" : "");
}

static size_t type_only_len(const char *s, size_t len, uint32_t *type);

size_t name_type_suffix_len(const char *s, size_t len, uint32_t *type,
			    bool *raw)
{
	size_t n;

	if (len > 4 && strncasecmp(s + len - 4, ".raw", 4) == 0 &&
	    (n = type_only_len(s, len - 4, type)) != 0) {
		*raw = true;
		return n + 4;
	}
	*raw = false;
	return type_only_len(s, len, type);
}

/* name_type_suffix_len() without ".raw". */
static size_t type_only_len(const char *s, size_t len, uint32_t *type)
{
	const char *dot = NULL, *t;
	size_t n;

	for (size_t i = len; i > 1; i--) {
		if (s[i - 1] == '.') {
			dot = s + i - 1;
			break;
		}
	}
	if (!dot)
		return 0;
	t = dot + 1;
	n = (size_t)(s + len - t);
	for (uint32_t k = 0; k < SHORT_NAMED_TYPES; k++) {
		const char *name = hive_type_short_name(k);

		if (strlen(name) == n && strncasecmp(t, name, n) == 0) {
			*type = k;
			return n + 1;
		}
	}
	/* hex(N): exactly what name_type_suffix() writes for N >= 12 (no
	 * leading zeros), so each type has one spelling. */
	if (n > 5 && n <= 13 && strncasecmp(t, "hex(", 4) == 0 &&
	    t[n - 1] == ')' && t[4] != '0') {
		uint32_t v = 0;

		for (size_t i = 4; i < n - 1; i++) {
			int d = hex_value(t[i]);

			if (d < 0)
				return 0;
			v = v * 16 + (uint32_t)d;
		}
		if (v < SHORT_NAMED_TYPES)
			return 0;
		*type = v;
		return n + 1;
	}
	return 0;
}
