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
