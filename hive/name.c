/*
 * name.c — names as Windows compares and stores them, and UTF-16 <-> UTF-8.
 *
 * Registry names are sequences of UTF-16 code units compared one unit at a
 * time after RtlUpcaseUnicodeChar; no normalisation, no surrogate pairing.
 * Names are stored either as UTF-16LE or, when every unit is below 256, as
 * Latin-1 bytes (the COMP_NAME flag); both compare as their code units.
 */
#include <talloc.h>

#include "layout.h"

static uint16_t upcase_table[65536];

/* Expanding the runs once keeps hive_upcase() a single load. */
__attribute__((constructor)) static void upcase_table_init(void)
{
	for (uint32_t c = 0; c < 65536; c++)
		upcase_table[c] = (uint16_t)c;
	for (uint16_t c = 'a'; c <= 'z'; c++)
		upcase_table[c] = (uint16_t)(c - 32);
	for (unsigned i = 0; i < hv_upcase_run_count; i++) {
		const struct upcase_run *r = &hv_upcase_runs[i];
		for (uint32_t c = r->first; c <= r->last; c += r->stride)
			upcase_table[c] = (uint16_t)((int32_t)c + r->delta);
	}
}

uint16_t hive_upcase(uint16_t c)
{
	return upcase_table[c];
}

int hive_name_compare(const uint16_t *a, size_t alen,
		      const uint16_t *b, size_t blen)
{
	size_t n = alen < blen ? alen : blen;

	for (size_t i = 0; i < n; i++) {
		uint16_t ua = upcase_table[a[i]], ub = upcase_table[b[i]];
		if (ua != ub)
			return ua < ub ? -1 : 1;
	}
	return alen < blen ? -1 : alen > blen ? 1 : 0;
}

uint32_t hive_name_hash(const uint16_t *name, size_t len)
{
	uint32_t h = 0;

	for (size_t i = 0; i < len; i++)
		h = h * 37u + upcase_table[name[i]];
	return h;
}

size_t hv_stored_name_units(const struct stored_name *n)
{
	return n->latin1 ? n->len : n->len / 2;
}

uint16_t hv_stored_name_unit(const struct stored_name *n, size_t i)
{
	return n->latin1 ? n->bytes[i] : le16(n->bytes + 2 * i);
}

int hv_stored_name_compare(const struct stored_name *n, const uint16_t *name,
			   size_t len)
{
	size_t units = hv_stored_name_units(n);
	size_t common = units < len ? units : len;

	for (size_t i = 0; i < common; i++) {
		uint16_t ua = upcase_table[hv_stored_name_unit(n, i)];
		uint16_t ub = upcase_table[name[i]];
		if (ua != ub)
			return ua < ub ? -1 : 1;
	}
	return units < len ? -1 : units > len ? 1 : 0;
}

uint32_t hv_stored_name_hash(const struct stored_name *n)
{
	uint32_t h = 0;
	size_t units = hv_stored_name_units(n);

	for (size_t i = 0; i < units; i++)
		h = h * 37u + upcase_table[hv_stored_name_unit(n, i)];
	return h;
}

int hv_stored_name_copy(void *mem, const struct stored_name *n,
			uint16_t **out, size_t *len)
{
	size_t units = hv_stored_name_units(n);
	/* One spare unit so an empty name still gets a non-NULL array. */
	uint16_t *s = talloc_array(mem, uint16_t, units + 1);

	if (!s)
		return HIVE_FAIL(HIVE_E_NOMEM, "name of %zu units", units);
	for (size_t i = 0; i < units; i++)
		s[i] = hv_stored_name_unit(n, i);
	s[units] = 0;
	*out = s;
	*len = units;
	return HIVE_OK;
}

char *hive_utf16_to_utf8(void *mem, const uint16_t *s, size_t len,
			 size_t *out_len, bool *lossy)
{
	char *out = talloc_array(mem, char, len * 3 + 1);
	size_t o = 0;

	if (lossy)
		*lossy = false;
	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		uint32_t c = s[i];
		if (c >= 0xD800 && c <= 0xDBFF && i + 1 < len &&
		    s[i + 1] >= 0xDC00 && s[i + 1] <= 0xDFFF) {
			c = 0x10000 + ((c - 0xD800) << 10) + (s[i + 1] - 0xDC00);
			i++;
		} else if (c >= 0xD800 && c <= 0xDFFF && lossy) {
			*lossy = true;
		}
		if (c < 0x80) {
			out[o++] = (char)c;
		} else if (c < 0x800) {
			out[o++] = (char)(0xC0 | c >> 6);
			out[o++] = (char)(0x80 | (c & 0x3F));
		} else if (c < 0x10000) {
			out[o++] = (char)(0xE0 | c >> 12);
			out[o++] = (char)(0x80 | ((c >> 6) & 0x3F));
			out[o++] = (char)(0x80 | (c & 0x3F));
		} else {
			out[o++] = (char)(0xF0 | c >> 18);
			out[o++] = (char)(0x80 | ((c >> 12) & 0x3F));
			out[o++] = (char)(0x80 | ((c >> 6) & 0x3F));
			out[o++] = (char)(0x80 | (c & 0x3F));
		}
	}
	out[o] = '\0';
	if (out_len)
		*out_len = o;
	return out;
}

int hive_utf8_to_utf16(void *mem, const char *str, size_t len,
		       uint16_t **out, size_t *out_len)
{
	const uint8_t *s = (const uint8_t *)str;
	uint16_t *u = talloc_array(mem, uint16_t, len + 1);
	size_t o = 0;

	if (!u)
		return HIVE_FAIL(HIVE_E_NOMEM, "UTF-16 buffer of %zu units", len);
	for (size_t i = 0; i < len;) {
		uint32_t c = s[i];
		size_t extra;
		uint32_t min;

		if (c < 0x80) {
			extra = 0, min = 0;
		} else if ((c & 0xE0) == 0xC0) {
			extra = 1, min = 0x80, c &= 0x1F;
		} else if ((c & 0xF0) == 0xE0) {
			extra = 2, min = 0x800, c &= 0x0F;
		} else if ((c & 0xF8) == 0xF0) {
			extra = 3, min = 0x10000, c &= 0x07;
		} else {
			goto invalid;
		}
		if (extra && i + extra >= len)
			goto invalid;
		for (size_t k = 1; k <= extra; k++) {
			if ((s[i + k] & 0xC0) != 0x80)
				goto invalid;
			c = c << 6 | (s[i + k] & 0x3F);
		}
		if (c < min || c > 0x10FFFF)
			goto invalid;
		i += extra + 1;
		if (c >= 0x10000) {
			c -= 0x10000;
			u[o++] = (uint16_t)(0xD800 + (c >> 10));
			u[o++] = (uint16_t)(0xDC00 + (c & 0x3FF));
		} else {
			/* A lone surrogate in WTF-8 form is kept: it is a legal name unit. */
			u[o++] = (uint16_t)c;
		}
	}
	u[o] = 0;
	*out = u;
	*out_len = o;
	return HIVE_OK;
invalid:
	talloc_free(u);
	return HIVE_FAIL(HIVE_E_INVALID, "malformed UTF-8");
}

bool hv_name_is_latin1(const uint16_t *name, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (name[i] > 0xFF)
			return false;
	return true;
}

void hv_store_name(uint8_t *dst, const uint16_t *name, size_t len, bool latin1)
{
	for (size_t i = 0; i < len; i++) {
		if (latin1)
			dst[i] = (uint8_t)name[i];
		else
			put_le16(dst + 2 * i, name[i]);
	}
}
