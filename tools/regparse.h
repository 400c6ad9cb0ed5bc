/*
 * regparse.h — the .reg file parser: bytes in, a stream of items out.
 *
 * Pure: it calls nothing of the engine and opens no file, so it can be
 * fuzzed alone and run twice over the same bytes (import parses every
 * file once to check it, and again to apply it).
 *
 * What it reads is the text regedit writes and people write by hand:
 *   - the header "Windows Registry Editor Version 5.00" (UTF-16LE with a
 *     byte-order mark as regedit writes it, UTF-16LE without one, or UTF-8
 *     with or without one) or "REGEDIT4" (Windows-1252, or UTF-8 with its
 *     byte-order mark);
 *   - [KEY] and [-KEY]; "name"=DATA, @=DATA and "name"=- below a key;
 *   - DATA as "string" (\\ and \" escaped; another backslash is itself),
 *     dword:X (up to 8 significant hex digits, leading zeros free),
 *     hex:BYTES (REG_BINARY) and hex(T):BYTES for any T up to ffffffff;
 *     byte lists continue over lines ending in '\';
 *   - ';' comments, blank lines, CRLF or LF, a last line without either.
 * In REGEDIT4 files hex(2) and hex(7) data is ANSI text, as Windows 9x
 * wrote it; it is widened to UTF-16LE as regedit does.
 */
#ifndef HIVECTL_REGPARSE_H
#define HIVECTL_REGPARSE_H

#include <stddef.h>
#include <stdint.h>

enum reg_item_kind {
	REG_ITEM_KEY,          /* [KEY]: create it (and its parents) */
	REG_ITEM_KEY_DELETE,   /* [-KEY]: delete it with its subtree */
	REG_ITEM_VALUE,        /* "name"=DATA under the last [KEY] */
	REG_ITEM_VALUE_DELETE, /* "name"=- under the last [KEY] */
};

/* Everything an item points to is valid only during the callback. */
struct reg_item {
	enum reg_item_kind kind;
	unsigned line, column; /* where the item starts, from 1 */
	size_t offset;         /* bytes of the input read so far */
	/* The key as written between the brackets (for values: their key). */
	const uint16_t *key;
	size_t key_len;
	/* The value's name; length 0 is the default value (@). */
	const uint16_t *name;
	size_t name_len;
	uint32_t type;
	const uint8_t *data;
	size_t data_len;
};

/* A syntax error: where it is (from 1) and what was expected. */
struct reg_error {
	unsigned line, column;
	char text[192];
};

struct reg_format {
	int version;          /* 4 (REGEDIT4) or 5 */
	const char *encoding; /* "UTF-16LE", "UTF-8" or "Windows-1252" */
};

/* reg_parse() returns 0, REG_SYNTAX (with *err filled in), REG_NOMEM, or
 * the non-zero value an on_item callback returned to stop. */
#define REG_SYNTAX (-1)
#define REG_NOMEM (-2)

/*
 * Parse the whole of buf, calling on_item for each item in file order.
 * Nothing is kept once it returns; `fmt` (may be NULL) receives the
 * header's version and the encoding found.
 */
int reg_parse(const uint8_t *buf, size_t len,
	      int (*on_item)(void *arg, const struct reg_item *item),
	      void *arg, struct reg_format *fmt, struct reg_error *err);

#endif /* HIVECTL_REGPARSE_H */
