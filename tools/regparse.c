/*
 * regparse.c — the .reg parser (see regparse.h for the grammar).
 *
 * How it works
 *   The input is read one physical line at a time, decoded into UTF-16
 *   code units (the unit of registry names, and what regedit counts in):
 *   UTF-16LE units are taken as they are, UTF-8 is decoded (WTF-8, which
 *   hivectl export writes for unpaired surrogates, included), and
 *   Windows-1252 is mapped.  Only the current line is ever decoded, so
 *   the memory used is the longest line, not the file.  A byte list that
 *   ends a line with '\' pulls in the next physical line and goes on, so
 *   the line and column of every error are those of the physical line.
 *   Columns count UTF-16 code units from 1.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "regparse.h"

/* The engine's limits, restated so that the parser stands alone. */
#define MAX_KEY_NAME 255
#define MAX_VALUE_NAME 16383
#define MAX_DATA (16000u * 16344u)

enum encoding { ENC_UTF16LE, ENC_UTF8, ENC_CP1252 };

struct ubuf {
	uint16_t *u;
	size_t n, cap;
};

struct parser {
	const uint8_t *buf;
	size_t len, off; /* off: the first byte of the next physical line */
	enum encoding enc;
	int version;
	unsigned lineno;   /* of the line in `line` */
	struct ubuf line;  /* the current physical line, decoded */
	size_t pos;        /* cursor in line */
	struct ubuf key;   /* the last [KEY] */
	bool have_key, key_deleted;
	struct ubuf name, text;
	uint8_t *data;
	size_t data_len, data_cap;
	struct reg_error *err;
};

/* Windows-1252's 0x80-0x9F; the five bytes it leaves undefined map to the
 * C1 control of the same number, as MultiByteToWideChar maps them. */
static const uint16_t cp1252_high[32] = {
	0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
	0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008D, 0x017D, 0x008F,
	0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
	0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
};

static uint16_t cp1252(uint8_t b)
{
	return b >= 0x80 && b < 0xA0 ? cp1252_high[b - 0x80] : b;
}

static bool ubuf_push(struct ubuf *b, uint16_t c)
{
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 128;
		uint16_t *u = realloc(b->u, cap * sizeof(*u));

		if (!u)
			return false;
		b->u = u;
		b->cap = cap;
	}
	b->u[b->n++] = c;
	return true;
}

static bool data_push(struct parser *p, uint8_t byte)
{
	if (p->data_len == p->data_cap) {
		size_t cap = p->data_cap ? p->data_cap * 2 : 256;
		uint8_t *d = realloc(p->data, cap);

		if (!d)
			return false;
		p->data = d;
		p->data_cap = cap;
	}
	p->data[p->data_len++] = byte;
	return true;
}

/* Records a syntax error at column `col` (from 1) of the current line. */
static int syntax(struct parser *p, size_t col, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int syntax(struct parser *p, size_t col, const char *fmt, ...)
{
	va_list ap;

	p->err->line = p->lineno;
	p->err->column = (unsigned)col;
	va_start(ap, fmt);
	vsnprintf(p->err->text, sizeof(p->err->text), fmt, ap);
	va_end(ap);
	return REG_SYNTAX;
}

/* What is at the cursor, for "found X" in messages. */
static const char *found(struct parser *p, char *buf, size_t size)
{
	uint16_t c;

	if (p->pos >= p->line.n)
		return "the end of the line";
	c = p->line.u[p->pos];
	if (c >= 0x21 && c < 0x7F)
		snprintf(buf, size, "'%c'", (char)c);
	else
		snprintf(buf, size, "U+%04X", (unsigned)c);
	return buf;
}

/* Decodes one UTF-8 sequence at s[0..n); 0 when malformed, else its
 * length.  Surrogates are accepted (WTF-8); overlong forms are not. */
static size_t utf8_decode(const uint8_t *s, size_t n, uint32_t *cp)
{
	uint32_t c = s[0];
	size_t len, i;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xC2 && c <= 0xDF)
		len = 2, c &= 0x1F;
	else if (c >= 0xE0 && c <= 0xEF)
		len = 3, c &= 0x0F;
	else if (c >= 0xF0 && c <= 0xF4)
		len = 4, c &= 0x07;
	else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3F);
	}
	if ((len == 3 && c < 0x800) || (len == 4 && (c < 0x10000 ||
						      c > 0x10FFFF)))
		return 0;
	*cp = c;
	return len;
}

/*
 * Reads the next physical line into p->line (without its CR/LF).
 * Returns 1 at the end of the input, 0 for a line, or an error.
 */
static int read_line(struct parser *p)
{
	const uint8_t *b = p->buf;
	size_t len = p->len, i = p->off;

	if (i >= len)
		return 1;
	p->lineno++;
	p->line.n = 0;
	p->pos = 0;
	switch (p->enc) {
	case ENC_UTF16LE:
		for (; i + 1 < len; i += 2) {
			uint16_t c = (uint16_t)(b[i] | b[i + 1] << 8);

			if (c == '\n') {
				i += 2;
				goto done;
			}
			if (!ubuf_push(&p->line, c))
				return REG_NOMEM;
		}
		if (i < len)
			return syntax(p, p->line.n + 1,
				      "odd-length UTF-16 file: one byte is "
				      "left after the last character");
		break;
	case ENC_UTF8:
		while (i < len) {
			uint32_t cp;
			size_t n;

			if (b[i] == '\n') {
				i++;
				goto done;
			}
			n = utf8_decode(b + i, len - i, &cp);
			if (!n)
				return syntax(p, p->line.n + 1,
					      "invalid UTF-8 (byte 0x%02x)",
					      b[i]);
			i += n;
			if (cp >= 0x10000) {
				cp -= 0x10000;
				if (!ubuf_push(&p->line,
					       (uint16_t)(0xD800 | cp >> 10)))
					return REG_NOMEM;
				cp = 0xDC00 | (cp & 0x3FF);
			}
			if (!ubuf_push(&p->line, (uint16_t)cp))
				return REG_NOMEM;
		}
		break;
	case ENC_CP1252:
		for (; i < len; i++) {
			if (b[i] == '\n') {
				i++;
				goto done;
			}
			if (!ubuf_push(&p->line, cp1252(b[i])))
				return REG_NOMEM;
		}
		break;
	}
done:
	p->off = i;
	while (p->line.n > 0 && p->line.u[p->line.n - 1] == '\r')
		p->line.n--;
	return 0;
}

static bool is_blank(uint16_t c)
{
	return c == ' ' || c == '\t';
}

static void skip_blanks(struct parser *p)
{
	while (p->pos < p->line.n && is_blank(p->line.u[p->pos]))
		p->pos++;
}

/* At the end of the line, or at a ';' comment (after blanks). */
static bool at_end(struct parser *p)
{
	skip_blanks(p);
	return p->pos >= p->line.n || p->line.u[p->pos] == ';';
}

static int expect_end(struct parser *p, const char *after)
{
	char f[16];

	if (at_end(p))
		return 0;
	return syntax(p, p->pos + 1, "unexpected %s after %s (a comment "
		      "starts with ';')", found(p, f, sizeof(f)), after);
}

static int hex_digit(uint16_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Whether the line continues at the cursor with `word`, ignoring case. */
static bool take_word(struct parser *p, const char *word)
{
	size_t n = strlen(word);

	if (p->line.n - p->pos < n)
		return false;
	for (size_t i = 0; i < n; i++) {
		uint16_t c = p->line.u[p->pos + i];

		if (c >= 'A' && c <= 'Z')
			c = (uint16_t)(c - 'A' + 'a');
		if (c != (unsigned char)word[i])
			return false;
	}
	p->pos += n;
	return true;
}

/*
 * A quoted string at the cursor (on its '"') into *out, unescaping \\ and
 * \".  regedit writes no other escape, and a backslash before anything
 * else is kept (paths in hand-written files: "C:\Windows").
 */
static int quoted(struct parser *p, struct ubuf *out, size_t max,
		  const char *what)
{
	size_t start = p->pos;

	out->n = 0;
	p->pos++;
	for (;;) {
		uint16_t c;

		if (p->pos >= p->line.n)
			return syntax(p, p->pos + 1, "unterminated %s: "
				      "expected '\"' (the string began at "
				      "column %zu)", what, start + 1);
		c = p->line.u[p->pos++];
		if (c == '"')
			break;
		if (c == '\\' && p->pos < p->line.n &&
		    (p->line.u[p->pos] == '\\' || p->line.u[p->pos] == '"'))
			c = p->line.u[p->pos++];
		if (out->n >= max)
			return syntax(p, start + 1, "%s longer than %zu "
				      "characters", what, max);
		if (!ubuf_push(out, c))
			return REG_NOMEM;
	}
	return 0;
}

/*
 * A comma-separated byte list: "01,ab, 2,\" and so on, over as many lines
 * as end in '\'.  A trailing comma is allowed, as regedit allows it.
 */
static int hex_bytes(struct parser *p)
{
	char f[16];
	int rc;

	for (;;) {
		int hi, lo;
		size_t col;

		if (at_end(p))
			return 0;
		if (p->line.u[p->pos] == '\\') {
			col = ++p->pos;
			skip_blanks(p);
			if (p->pos < p->line.n)
				return syntax(p, col + 1, "a '\\' continues "
					      "the value on the next line, "
					      "so nothing may follow it");
			rc = read_line(p);
			if (rc == 1)
				return syntax(p, p->line.n + 1, "the value "
					      "is continued with '\\' past "
					      "the end of the file");
			if (rc)
				return rc;
			continue;
		}
		col = p->pos + 1;
		hi = hex_digit(p->line.u[p->pos]);
		if (hi < 0)
			return syntax(p, col, "expected a hex byte, found %s",
				      found(p, f, sizeof(f)));
		p->pos++;
		lo = p->pos < p->line.n ? hex_digit(p->line.u[p->pos]) : -1;
		if (lo >= 0) {
			p->pos++;
			if (p->pos < p->line.n &&
			    hex_digit(p->line.u[p->pos]) >= 0)
				return syntax(p, col, "a hex byte has at most "
					      "two digits");
		} else {
			lo = hi;
			hi = 0;
		}
		if (p->data_len >= MAX_DATA)
			return syntax(p, col, "value data longer than %u "
				      "bytes", MAX_DATA);
		if (!data_push(p, (uint8_t)(hi << 4 | lo)))
			return REG_NOMEM;
		skip_blanks(p);
		if (p->pos < p->line.n && p->line.u[p->pos] == ',') {
			p->pos++;
			continue;
		}
		if (at_end(p) || p->line.u[p->pos] == '\\')
			continue;
		return syntax(p, p->pos + 1, "expected ',' between hex bytes, "
			      "found %s", found(p, f, sizeof(f)));
	}
}

/* dword:X — 1 to 8 significant hex digits, as many leading zeros as
 * anyone writes (dword:0ffffffff is in real tweak files). */
static int dword(struct parser *p, struct reg_item *it)
{
	size_t start = p->pos, digits = 0;
	uint32_t v = 0;
	char f[16];
	int d;

	while (p->pos < p->line.n &&
	       (d = hex_digit(p->line.u[p->pos])) >= 0) {
		if (v || d)
			digits++;
		if (digits > 8)
			return syntax(p, start + 1, "dword: takes at most 8 "
				      "significant hex digits");
		v = v << 4 | (uint32_t)d;
		p->pos++;
	}
	if (p->pos == start)
		return syntax(p, p->pos + 1, "expected hex digits after "
			      "dword:, found %s", found(p, f, sizeof(f)));
	p->data_len = 0;
	for (int i = 0; i < 4; i++)
		if (!data_push(p, (uint8_t)(v >> (8 * i))))
			return REG_NOMEM;
	it->type = 4;
	return expect_end(p, "the dword");
}

/* REGEDIT4's hex(2)/hex(7) hold ANSI bytes: widen them to UTF-16LE. */
static int widen_ansi(struct parser *p)
{
	size_t n = p->data_len;

	if (n > MAX_DATA / 2)
		return syntax(p, p->line.n + 1, "value data longer than %u "
			      "bytes", MAX_DATA);
	for (size_t i = 0; i < n; i++)
		if (!data_push(p, 0))
			return REG_NOMEM;
	for (size_t i = n; i-- > 0;) {
		uint16_t c = cp1252(p->data[i]);

		p->data[2 * i] = (uint8_t)c;
		p->data[2 * i + 1] = (uint8_t)(c >> 8);
	}
	return 0;
}

static int value_line(struct parser *p, struct reg_item *it)
{
	char f[16];
	int rc;

	it->line = p->lineno;
	it->column = (unsigned)p->pos + 1;
	if (!p->have_key)
		return syntax(p, p->pos + 1, "a value line before the first "
			      "[KEY] line");
	if (p->key_deleted)
		return syntax(p, p->pos + 1, "a value line after a [-KEY] "
			      "line belongs to no key");
	if (p->line.u[p->pos] == '@') {
		p->pos++;
		p->name.n = 0;
	} else {
		rc = quoted(p, &p->name, MAX_VALUE_NAME, "value name");
		if (rc)
			return rc;
	}
	it->key = p->key.u;
	it->key_len = p->key.n;
	it->name = p->name.u;
	it->name_len = p->name.n;
	skip_blanks(p);
	if (p->pos >= p->line.n || p->line.u[p->pos] != '=')
		return syntax(p, p->pos + 1, "expected '=' after the value "
			      "name, found %s", found(p, f, sizeof(f)));
	p->pos++;
	skip_blanks(p);
	p->data_len = 0;
	if (p->pos < p->line.n && p->line.u[p->pos] == '-') {
		p->pos++;
		it->kind = REG_ITEM_VALUE_DELETE;
		return expect_end(p, "'-'");
	}
	it->kind = REG_ITEM_VALUE;
	it->data = NULL;
	if (p->pos < p->line.n && p->line.u[p->pos] == '"') {
		rc = quoted(p, &p->text, MAX_DATA / 2 - 1, "string");
		if (rc)
			return rc;
		for (size_t i = 0; i < p->text.n; i++)
			if (!data_push(p, (uint8_t)p->text.u[i]) ||
			    !data_push(p, (uint8_t)(p->text.u[i] >> 8)))
				return REG_NOMEM;
		if (!data_push(p, 0) || !data_push(p, 0))
			return REG_NOMEM;
		it->type = 1;
		rc = expect_end(p, "the string");
	} else if (take_word(p, "dword:")) {
		rc = dword(p, it);
	} else if (take_word(p, "hex:")) {
		it->type = 3;
		rc = hex_bytes(p);
	} else if (take_word(p, "hex(")) {
		size_t start = p->pos, digits = 0;
		uint32_t t = 0;
		int d;

		while (p->pos < p->line.n &&
		       (d = hex_digit(p->line.u[p->pos])) >= 0) {
			if (t || d)
				digits++;
			if (digits > 8)
				return syntax(p, start + 1, "the type in "
					      "hex(T) is at most ffffffff");
			t = t << 4 | (uint32_t)d;
			p->pos++;
		}
		if (p->pos == start)
			return syntax(p, p->pos + 1, "expected the type in "
				      "hex digits after 'hex(', found %s",
				      found(p, f, sizeof(f)));
		if (!take_word(p, "):"))
			return syntax(p, p->pos + 1, "expected '):' after "
				      "the type of hex(T), found %s",
				      found(p, f, sizeof(f)));
		it->type = t;
		rc = hex_bytes(p);
		if (!rc && p->version == 4 && (t == 2 || t == 7))
			rc = widen_ansi(p);
	} else {
		return syntax(p, p->pos + 1, "expected the value's data "
			      "(\"string\", dword:, hex:, hex(T): or - to "
			      "delete), found %s", found(p, f, sizeof(f)));
	}
	if (rc)
		return rc;
	/* Never a null pointer, even for no bytes: callers memcpy it. */
	it->data = p->data_len ? p->data : (const uint8_t *)"";
	it->data_len = p->data_len;
	return 0;
}

static int key_line(struct parser *p, struct reg_item *it)
{
	size_t start, end, comp;
	bool del;

	it->line = p->lineno;
	it->column = (unsigned)p->pos + 1;
	p->pos++;
	del = p->pos < p->line.n && p->line.u[p->pos] == '-';
	if (del)
		p->pos++;
	start = p->pos;
	/* The last ']' ends the path (key names may hold ']'); after it
	 * only blanks, or a comment. */
	end = p->line.n;
	while (end > start && is_blank(p->line.u[end - 1]))
		end--;
	if (end == start || p->line.u[end - 1] != ']') {
		end = start;
		while (end < p->line.n && p->line.u[end] != ']')
			end++;
		p->pos = end + 1;
		if (end == p->line.n || !at_end(p))
			return syntax(p, p->line.n + 1, "expected ']' at the "
				      "end of the key line");
		end++;
	}
	end--;
	if (end == start)
		return syntax(p, start + 1, "empty key path");
	/* Each name within Windows' limit, pointed at where it starts. */
	comp = start;
	for (size_t i = start; i <= end; i++) {
		if (i < end && p->line.u[i] != '\\')
			continue;
		if (i - comp > MAX_KEY_NAME)
			return syntax(p, comp + 1, "key name longer than %d "
				      "characters", MAX_KEY_NAME);
		comp = i + 1;
	}
	p->key.n = 0;
	for (size_t i = start; i < end; i++)
		if (!ubuf_push(&p->key, p->line.u[i]))
			return REG_NOMEM;
	p->have_key = true;
	p->key_deleted = del;
	it->kind = del ? REG_ITEM_KEY_DELETE : REG_ITEM_KEY;
	it->key = p->key.u;
	it->key_len = p->key.n;
	return 0;
}

static bool line_is(struct parser *p, const char *text)
{
	size_t n = p->line.n;

	while (n > 0 && is_blank(p->line.u[n - 1]))
		n--;
	if (n != strlen(text))
		return false;
	for (size_t i = 0; i < n; i++)
		if (p->line.u[i] != (unsigned char)text[i])
			return false;
	return true;
}

static int parse(struct parser *p, int (*on_item)(void *, const struct
						  reg_item *), void *arg)
{
	static const char v5[] = "Windows Registry Editor Version 5.00";
	const uint8_t *b = p->buf;
	size_t len = p->len;
	int rc;

	/* The byte-order mark, or what the first bytes look like. */
	if (len >= 2 && b[0] == 0xFF && b[1] == 0xFE) {
		p->enc = ENC_UTF16LE;
		p->off = 2;
	} else if (len >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF) {
		p->enc = ENC_UTF8;
		p->off = 3;
	} else if (len >= 2 && b[0] == 0xFE && b[1] == 0xFF) {
		p->lineno = 1;
		return syntax(p, 1, "a UTF-16 big-endian file (byte-order mark "
			      "FE FF): .reg files are UTF-16LE, UTF-8 or "
			      "Windows-1252");
	} else if (len >= 2 && b[0] != 0 && b[1] == 0) {
		p->enc = ENC_UTF16LE;
	} else if (len >= 8 && !memcmp(b, "REGEDIT4", 8)) {
		p->enc = ENC_CP1252;
	} else {
		p->enc = ENC_UTF8;
	}
	rc = read_line(p);
	if (rc == 1 || (rc == 0 && !line_is(p, v5) &&
			!line_is(p, "REGEDIT4"))) {
		p->lineno = 1;
		return syntax(p, 1, "not a .reg file: the first line must be "
			      "\"%s\" or \"REGEDIT4\"", v5);
	}
	if (rc)
		return rc;
	p->version = line_is(p, "REGEDIT4") ? 4 : 5;
	while ((rc = read_line(p)) == 0) {
		struct reg_item it = { 0 };
		char f[16];

		if (at_end(p))
			continue;
		if (p->line.u[p->pos] == '[')
			rc = key_line(p, &it);
		else if (p->line.u[p->pos] == '"' || p->line.u[p->pos] == '@')
			rc = value_line(p, &it);
		else
			rc = syntax(p, p->pos + 1, "expected a [KEY] line, a "
				    "\"name\"= or @= value line or a ';' "
				    "comment, found %s",
				    found(p, f, sizeof(f)));
		it.offset = p->off;
		if (!rc)
			rc = on_item(arg, &it);
		if (rc)
			return rc;
	}
	return rc == 1 ? 0 : rc;
}

int reg_parse(const uint8_t *buf, size_t len,
	      int (*on_item)(void *arg, const struct reg_item *item),
	      void *arg, struct reg_format *fmt, struct reg_error *err)
{
	struct parser p = { .buf = buf, .len = len, .err = err };
	int rc = parse(&p, on_item, arg);

	if (fmt) {
		fmt->version = p.version;
		fmt->encoding = p.enc == ENC_UTF16LE ? "UTF-16LE" :
				p.enc == ENC_UTF8 ? "UTF-8" : "Windows-1252";
	}
	free(p.line.u);
	free(p.key.u);
	free(p.name.u);
	free(p.text.u);
	free(p.data);
	return rc;
}
