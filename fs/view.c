/*
 * view.c — a value's data as the content of its file.
 *
 * The text view exists for the types below.  It is used only where it is
 * exact: data is "canonical" for its type when reading the text back under
 * the rule in the right column gives the same bytes.  Anything else is
 * shown raw (the data itself) and flagged with user.winreg.raw, so a file
 * never hides or invents a byte.
 *
 *   type               canonical data            text     text -> data
 *   SZ, EXPAND_SZ      UTF-16LE, one NUL unit    S "\n"   UTF-16LE(S) NUL
 *                      at the end and no other
 *                      empty (0 bytes)           ""       0 bytes
 *   MULTI_SZ           S1 NUL ... Sn NUL NUL,    S1 "\n"  each line + NUL,
 *                      n >= 1, no LF in any Si   ...      then one NUL
 *                      (empty Si allowed)        Sn "\n"
 *                      one NUL unit (no strings) ""       NUL
 *   LINK               UTF-16LE without NUL      S        UTF-16LE(S)
 *   DWORD              4 bytes, little endian    "%u\n"   decimal
 *   DWORD_BIG_ENDIAN   4 bytes, big endian       "%u\n"   decimal
 *   QWORD              8 bytes, little endian    "%llu\n" decimal
 *
 * Every string must be valid UTF-16 (no unpaired surrogate); it becomes
 * UTF-8.  So an empty MULTI_SZ with its final NUL is one NUL unit (190
 * such values in the corpus), a list of one empty string is two (53), and
 * zero bytes of MULTI_SZ, which no corpus hive holds, is shown raw.  Data
 * of an odd length, without the NUL, with bytes after it (346 SZ values
 * in the corpus carry extra NULs), a MULTI_SZ lacking its final NUL, a
 * DWORD of other than 4 bytes: all raw.
 *
 * With -o raw every value is raw, and those whose type has a text view
 * carry user.winreg.raw.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <talloc.h>

#include "hive.h"
#include "view.h"

bool view_type_has_text(uint32_t type)
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

/* The strings of a canonical MULTI_SZ as lines; SIZE_MAX if not canonical. */
static size_t multi_sz_text(const uint8_t *data, size_t units, char *out)
{
	size_t n = 0, start = 0;

	/* S1 NUL ... Sn NUL, then the final NUL. */
	if (units == 0 || unit_at(data, units - 1) != 0)
		return SIZE_MAX;
	units--;
	if (units > 0 && unit_at(data, units - 1) != 0)
		return SIZE_MAX;
	for (size_t i = 0; i < units; i++) {
		size_t k;

		if (unit_at(data, i) != 0)
			continue;
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

/* The text of canonical data, written to out if not NULL; SIZE_MAX if
 * the data is not canonical for the type. */
static size_t text_of(uint32_t type, const uint8_t *data, size_t len,
		      char *out)
{
	char num[24];
	size_t n, units = len / 2;

	switch (type) {
	case HIVE_REG_SZ:
	case HIVE_REG_EXPAND_SZ:
		if (len == 0)
			return 0;
		if (len % 2 || unit_at(data, units - 1) != 0)
			return SIZE_MAX;
		n = utf16_to_utf8(data, 0, units - 1, false, out);
		if (n != SIZE_MAX && out)
			out[n] = '\n';
		return n == SIZE_MAX ? n : n + 1;
	case HIVE_REG_MULTI_SZ:
		return len % 2 ? SIZE_MAX : multi_sz_text(data, units, out);
	case HIVE_REG_LINK:
		return len % 2 ? SIZE_MAX
			       : utf16_to_utf8(data, 0, units, false, out);
	case HIVE_REG_DWORD:
		if (len != 4)
			return SIZE_MAX;
		n = (size_t)snprintf(num, sizeof(num), "%" PRIu32 "\n",
				     (uint32_t)data[0] | (uint32_t)data[1] << 8 |
					     (uint32_t)data[2] << 16 |
					     (uint32_t)data[3] << 24);
		break;
	case HIVE_REG_DWORD_BIG_ENDIAN:
		if (len != 4)
			return SIZE_MAX;
		n = (size_t)snprintf(num, sizeof(num), "%" PRIu32 "\n",
				     (uint32_t)data[3] | (uint32_t)data[2] << 8 |
					     (uint32_t)data[1] << 16 |
					     (uint32_t)data[0] << 24);
		break;
	case HIVE_REG_QWORD: {
		uint64_t q = 0;

		if (len != 8)
			return SIZE_MAX;
		for (int i = 7; i >= 0; i--)
			q = q << 8 | data[i];
		n = (size_t)snprintf(num, sizeof(num), "%" PRIu64 "\n", q);
		break;
	}
	default:
		return SIZE_MAX;
	}
	if (out)
		memcpy(out, num, n);
	return n;
}

void view_measure(uint32_t type, const uint8_t *data, size_t len,
		  bool raw_mode, struct view *v)
{
	size_t n = raw_mode ? SIZE_MAX : text_of(type, data, len, NULL);

	v->text = n != SIZE_MAX;
	v->size = v->text ? n : len;
	v->raw_flag = !v->text && view_type_has_text(type);
}

void view_render(const struct view *v, uint32_t type, const uint8_t *data,
		 size_t len, char *out)
{
	if (v->text)
		text_of(type, data, len, out);
	else
		memcpy(out, data, len);
}

/* ---- text back to data ---- */

/* UTF-8 of a string to UTF-16LE units (with a NUL after if `nul`),
 * appended to out at *pos.  Refuses NUL characters and anything that is
 * not valid UTF-8 of Unicode scalar values (so no lone surrogates). */
static int append_utf16(void *mem, const char *s, size_t len, bool nul,
			uint8_t **out, size_t *pos)
{
	uint16_t *u;
	size_t n;
	uint8_t *grown;

	if (len && memchr(s, '\0', len))
		return HIVE_E_INVALID;
	/*
	 * A surrogate written as three bytes (ED A0..BF xx) is not UTF-8,
	 * even two of them that pair up (CESU-8): the engine's decoder lets
	 * them through for names, but data taken from them would be bytes
	 * other than the ones written.
	 */
	for (size_t i = 0; i + 1 < len; i++)
		if ((uint8_t)s[i] == 0xED && (uint8_t)s[i + 1] >= 0xA0)
			return HIVE_E_INVALID;
	if (hive_utf8_to_utf16(mem, s, len, &u, &n))
		return HIVE_E_INVALID;
	for (size_t i = 0; i < n; i++) {
		bool hi = u[i] >= 0xD800 && u[i] <= 0xDBFF;
		bool lo = u[i] >= 0xDC00 && u[i] <= 0xDFFF;

		if (lo || (hi && (i + 1 == n || u[i + 1] < 0xDC00 ||
				  u[i + 1] > 0xDFFF))) {
			talloc_free(u);
			return HIVE_E_INVALID;
		}
		if (hi)
			i++;
	}
	/* Room for a MULTI_SZ's final NUL after this string, too. */
	grown = talloc_realloc(mem, *out, uint8_t, *pos + 2 * (n + nul) + 2);
	if (!grown) {
		talloc_free(u);
		return HIVE_E_NOMEM;
	}
	*out = grown;
	for (size_t i = 0; i < n; i++) {
		grown[*pos + 2 * i] = (uint8_t)u[i];
		grown[*pos + 2 * i + 1] = (uint8_t)(u[i] >> 8);
	}
	*pos += 2 * n;
	if (nul) {
		grown[*pos] = grown[*pos + 1] = 0;
		*pos += 2;
	}
	talloc_free(u);
	return HIVE_OK;
}

/* Decimal, or hexadecimal after 0x: the whole text, at most `max`. */
static int parse_number(const char *s, size_t len, uint64_t max,
			uint64_t *out)
{
	bool hex = len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
	uint64_t v = 0, base = hex ? 16 : 10;

	if (hex) {
		s += 2;
		len -= 2;
	}
	if (len == 0)
		return HIVE_E_INVALID;
	for (size_t i = 0; i < len; i++) {
		unsigned d;
		char c = s[i];

		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (hex && c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else if (hex && c >= 'A' && c <= 'F')
			d = (unsigned)(c - 'A' + 10);
		else
			return HIVE_E_INVALID;
		if (v > (max - d) / base)
			return HIVE_E_INVALID;
		v = v * base + d;
	}
	*out = v;
	return HIVE_OK;
}

int view_parse(void *mem, uint32_t type, const char *text, size_t len,
	       uint8_t **data, size_t *data_len)
{
	uint8_t *out = talloc_array(mem, uint8_t, 8);
	size_t pos = 0;
	uint64_t num;
	int err = HIVE_OK;

	if (!out)
		return HIVE_E_NOMEM;
	switch (type) {
	case HIVE_REG_SZ:
	case HIVE_REG_EXPAND_SZ:
		/* "" is no data at all; otherwise one optional newline. */
		if (len == 0)
			break;
		if (text[len - 1] == '\n')
			len--;
		err = append_utf16(mem, text, len, true, &out, &pos);
		break;
	case HIVE_REG_MULTI_SZ:
		/* One string per line; the last line's newline is optional. */
		for (size_t start = 0; start < len && !err;) {
			const char *nl = memchr(text + start, '\n', len - start);
			size_t end = nl ? (size_t)(nl - text) : len;

			err = append_utf16(mem, text + start, end - start, true,
					   &out, &pos);
			start = end + 1;
		}
		if (!err) {
			out[pos++] = 0;
			out[pos++] = 0;
		}
		break;
	case HIVE_REG_LINK:
		err = append_utf16(mem, text, len, false, &out, &pos);
		break;
	case HIVE_REG_DWORD:
	case HIVE_REG_DWORD_BIG_ENDIAN:
	case HIVE_REG_QWORD:
		if (len && text[len - 1] == '\n')
			len--;
		err = parse_number(text, len,
				   type == HIVE_REG_QWORD ? UINT64_MAX : UINT32_MAX,
				   &num);
		if (err)
			break;
		pos = type == HIVE_REG_QWORD ? 8 : 4;
		for (size_t i = 0; i < pos; i++) {
			size_t at = type == HIVE_REG_DWORD_BIG_ENDIAN ? 3 - i : i;
			out[at] = (uint8_t)(num >> (8 * i));
		}
		break;
	default:
		err = HIVE_E_INVALID;
	}
	if (err) {
		talloc_free(out);
		return err;
	}
	*data = out;
	*data_len = pos;
	return HIVE_OK;
}
