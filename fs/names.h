/*
 * names.h — the reversible file-name encoding (names.c).
 */
#ifndef HIVEFS_NAMES_H
#define HIVEFS_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest file name handed to the kernel (Linux NAME_MAX). */
#define HIVEFS_NAME_MAX 255

/*
 * Which namespace a name belongs to: value names have two extra rules
 * (the default value is "@", a value named "@" is "%40").
 */
enum name_ns { NAME_KEY, NAME_VALUE };

/*
 * The encoded file name of a stored name (NUL-terminated, on mem), before
 * the suffixes a listing may add (%v, %~N) and before shortening.
 */
char *name_encode(void *mem, const uint16_t *units, size_t len,
		  enum name_ns ns);
/*
 * The inverse of name_encode(): 0 and the units (on mem).  A '%' that
 * starts no escape name_encode() makes stands for itself (but for a
 * final "%v", which dir.c takes off first: NAME%v is value NAME), so names other
 * programs derive from listed ones (rsync's ".NAME%v.XXXXXX") can be
 * created and found; they list in their encoded form.  -1 for a name no
 * entry can have: empty, "." or "..", controls or '/' unescaped,
 * malformed UTF-8, an escaped surrogate that would pair up; and "%40" as
 * a key's name: it is a value's "@", so `mkdir %40` beside `cp %40 ...`
 * would mean two things (a key named "@" is "@", one named "%40" is
 * "%2540").
 */
int name_decode(void *mem, const char *s, size_t len, enum name_ns ns,
		uint16_t **units, size_t *out_len);
/*
 * If `name` cannot be a file name (empty, or longer than HIVEFS_NAME_MAX
 * bytes), its shortened form PREFIX%~HASH (see names.c); otherwise NULL.
 */
char *name_shorten(void *mem, const char *name, size_t len);
/* Does the file name carry a listing-made "%~" part? */
bool name_is_synthetic(const char *s, size_t len);

/*
 * -o typenames: a value's file name ends in ".TYPE", TYPE the engine's
 * short type name (hive_type_short_name: "sz", "dword", ...) or, for a
 * type without one, "hex(N)" with N in lowercase hex (as .reg files
 * write types), then ".raw" when the file shows the data itself although
 * the type has a text form.  The suffix is always added, so the last one
 * is the type whatever the name looks like ("x.dword" of REG_SZ is
 * "x.dword.sz").
 */
#define NAME_TYPE_SUFFIX_MAX 40
/* The suffix of `type` (raw: and ".raw"), with its dot, into buf
 * (NAME_TYPE_SUFFIX_MAX bytes). */
void name_type_suffix(uint32_t type, bool raw, char *buf);
/*
 * If s[0, len) ends in a suffix name_type_suffix() makes (letters in any
 * case) after at least one byte, the suffix's length (dot included),
 * *type and *raw; else 0.
 */
size_t name_type_suffix_len(const char *s, size_t len, uint32_t *type,
			    bool *raw);

#endif /* HIVEFS_NAMES_H */
