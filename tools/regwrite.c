/*
 * regwrite.c — the .reg writer of `hivectl export` and `hivectl diff`.
 *
 * How the output is built
 *   Every line is assembled as UTF-16 code units, the unit regedit itself
 *   thinks in (its 80-column wrapping of hex data counts them), and only
 *   encoded when the line is complete: to UTF-16LE with CRLF (regedit's own
 *   files, with a BOM at the start) or to UTF-8 with LF.
 *
 * What the format cannot say
 *   A .reg file is line-oriented and has no escapes in key paths, so some
 *   names that a hive can hold have no exact spelling.  A key or value
 *   name with CR or LF is left out (a key with its subtree) and reported as
 *   an error: written out, the rest of the name would be read as lines of
 *   their own, which would let a hostile hive plant "[-KEY]" lines.  A key
 *   name with '\' (the path separator), an empty key name (a doubled
 *   separator) and names with NUL are written as they are, with a warning;
 *   they still import, though not as the same names.  UTF-16LE output
 *   carries unpaired surrogates unchanged; UTF-8 output can only write them
 *   as WTF-8, with a warning.  Names are not restricted otherwise: ']' in
 *   a key name is fine for hivexregedit, which takes the last ']'.
 *
 * When data is written as a "string"
 *   Only when importing the text gives back the same bytes: a REG_SZ of
 *   even length whose one NUL is its last code unit, without unpaired
 *   surrogates and without control characters other than tab (regedit and
 *   hivexregedit both read lines).  In UTF-8 output the string must also be ASCII, because
 *   hivexregedit --merge reads the file as bytes and widens each byte to
 *   one UTF-16 unit.  Everything else is hex, which is always exact.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <talloc.h>

#include "regwrite.h"

/* regedit breaks a hex line once it reaches this column (before the '\'). */
#define HEX_WRAP_COLUMN 77

static inline void out_unit(struct reg_writer *o, uint16_t c)
{
	if (__builtin_expect(o->len == o->cap, 0)) {
		size_t cap = o->cap ? o->cap * 2 : 256;
		uint16_t *line = talloc_realloc(o->mem, o->line, uint16_t, cap);

		if (!line) {
			o->failed = true;
			return;
		}
		o->line = line;
		o->cap = cap;
	}
	o->line[o->len++] = c;
}

static void out_ascii(struct reg_writer *o, const char *s)
{
	for (; *s; s++)
		out_unit(o, (unsigned char)*s);
}

static void out_units(struct reg_writer *o, const uint16_t *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		out_unit(o, s[i]);
}

/* Ends the line: encodes it, writes it and starts an empty one. */
static void out_eol(struct reg_writer *o)
{
	if (o->utf16) {
		out_ascii(o, "\r\n");
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
		for (size_t i = 0; i < o->len; i++)
			o->line[i] = (uint16_t)(o->line[i] << 8 | o->line[i] >> 8);
#endif
		/* The line is UTF-16LE in memory now: one write per line. */
		fwrite(o->line, sizeof(uint16_t), o->len, stdout);
	} else {
		size_t n;
		char *s = hive_utf16_to_utf8(o->mem, o->line, o->len, &n,
					     NULL);

		if (s) {
			fwrite(s, 1, n, stdout);
			putchar('\n');
		} else {
			o->failed = true;
		}
		talloc_free(s);
	}
	o->len = 0;
}

/* A value name or string between quotes; '\' and '"' get a backslash. */
static void out_quoted(struct reg_writer *o, const uint16_t *s, size_t n)
{
	out_unit(o, '"');
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\\' || s[i] == '"')
			out_unit(o, '\\');
		out_unit(o, s[i]);
	}
	out_unit(o, '"');
}

static void out_hex(struct reg_writer *o, const uint8_t *data, size_t len)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out_unit(o, digits[data[i] >> 4]);
		out_unit(o, digits[data[i] & 15]);
		if (i + 1 == len)
			break;
		out_unit(o, ',');
		if (o->len >= HEX_WRAP_COLUMN) {
			out_unit(o, '\\');
			out_eol(o);
			out_ascii(o, "  ");
		}
	}
}

static bool is_surrogate(uint16_t c)
{
	return c >= 0xD800 && c <= 0xDFFF;
}

/* True if s[i] is half of a surrogate pair. */
static bool in_pair(const uint16_t *s, size_t n, size_t i)
{
	if (s[i] >= 0xD800 && s[i] <= 0xDBFF)
		return i + 1 < n && s[i + 1] >= 0xDC00 && s[i + 1] <= 0xDFFF;
	if (s[i] >= 0xDC00 && s[i] <= 0xDFFF)
		return i > 0 && s[i - 1] >= 0xD800 && s[i - 1] <= 0xDBFF;
	return false;
}

/* The string representability rule of the header comment. */
static bool sz_is_text(const uint16_t *u, size_t n, bool ascii_only)
{
	if (n == 0 || u[n - 1] != 0)
		return false;
	for (size_t i = 0; i + 1 < n; i++) {
		/*
		 * NUL, CR and LF cannot be inside a line; the other controls
		 * (Ctrl-Z ends a text file for some Windows readers) are not
		 * worth the risk when hex says the same.
		 */
		if (u[i] < 0x20 && u[i] != '\t')
			return false;
		if (ascii_only && u[i] >= 0x80)
			return false;
		if (is_surrogate(u[i]) && !in_pair(u, n, i))
			return false;
	}
	return true;
}

/*
 * Why a name cannot be written exactly, or NULL if it can.  *fatal is set
 * for a line break: written out, it would end the line, and the rest of the
 * name would be read as lines of its own; a hostile hive could smuggle in a
 * "[-HKEY_...]" line that deletes a key on import.  Such names are left
 * out.  The other problems leave the file's structure intact and are only
 * warned about.
 */
static const char *name_problem(const uint16_t *s, size_t n, bool key,
				bool utf16, bool *fatal)
{
	*fatal = false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\r' || s[i] == '\n') {
			*fatal = true;
			return "a line break cannot be written to a .reg "
			       "file; left out";
		}
	}
	if (key && n == 0)
		return "an empty key name cannot be written exactly";
	for (size_t i = 0; i < n; i++) {
		if (key && s[i] == '\\')
			return "a '\\' in a key name cannot be written "
			       "exactly";
		if (s[i] == 0)
			return "a NUL cannot be written exactly";
		if (!utf16 && is_surrogate(s[i]) && !in_pair(s, n, i))
			return "an unpaired surrogate is written as WTF-8";
	}
	return NULL;
}

void regw_init(struct reg_writer *w, void *mem, bool utf16,
	       const char *hive_path, const uint16_t *prefix,
	       size_t prefix_len)
{
	*w = (struct reg_writer){ .mem = mem, .utf16 = utf16,
				  .hive_path = hive_path, .prefix = prefix,
				  .prefix_len = prefix_len };
}

void regw_header(struct reg_writer *w)
{
	if (w->started)
		return;
	w->started = true;
	if (w->utf16)
		fputs("\xFF\xFE", stdout);
	out_ascii(w, "Windows Registry Editor Version 5.00");
	out_eol(w);
	out_eol(w);
}

void regw_report(struct reg_writer *w, const struct keypath *path, size_t n,
		 bool warning, const char *what, const char *detail)
{
	char *shown = keypath_display(NULL, path, n);

	report("%s%s: key '%s': %s: %s", warning ? "warning: " : "",
	       w->hive_path, shown ? shown : "?", what, detail);
	talloc_free(shown);
	if (!warning)
		w->errors++;
}

void regw_error(struct reg_writer *w, const struct keypath *path, size_t n,
		const char *what, int err)
{
	char *text = err_text(NULL, err);

	regw_report(w, path, n, false, what, text ? text : hive_strerror(err));
	talloc_free(text);
}

bool regw_key(struct reg_writer *w, const struct keypath *path, size_t n,
	      size_t first_checked, bool del)
{
	for (size_t i = first_checked; i < n; i++) {
		const struct keypath_ent *e = &path->ent[i];
		bool fatal;
		const char *problem = name_problem(e->name, e->len, true,
						   w->utf16, &fatal);

		if (!problem)
			continue;
		regw_report(w, path, i + 1, !fatal, "name", problem);
		if (fatal)
			return false;
	}
	regw_header(w);
	/*
	 * The root is the prefix alone, as regedit writes a hive's root;
	 * with an empty prefix it is "[\]", as hivexregedit writes it (an
	 * empty "[]" would be read as no key at all by some parsers).
	 */
	out_unit(w, '[');
	if (del)
		out_unit(w, '-');
	out_units(w, w->prefix, w->prefix_len);
	if (n == 0 && w->prefix_len == 0)
		out_unit(w, '\\');
	for (size_t i = 0; i < n; i++) {
		out_unit(w, '\\');
		out_units(w, path->ent[i].name, path->ent[i].len);
	}
	out_unit(w, ']');
	out_eol(w);
	return true;
}

void regw_end_key(struct reg_writer *w)
{
	out_eol(w);
}

/* "name"= or @=, after checking the name; false if it cannot be written. */
static bool value_name(struct reg_writer *w, const uint16_t *name,
		       size_t name_len, const struct keypath *path)
{
	bool fatal;
	const char *problem = name_problem(name, name_len, false, w->utf16,
					   &fatal);

	if (problem) {
		void *tmp = talloc_new(NULL);
		char *shown = talloc_asprintf(tmp, "value '%s'",
					      display_name(tmp, name,
							   name_len));

		regw_report(w, path, path->n, !fatal, shown ? shown : "value",
			    problem);
		talloc_free(tmp);
		if (fatal)
			return false;
	}
	if (name_len == 0)
		out_unit(w, '@');
	else
		out_quoted(w, name, name_len);
	out_unit(w, '=');
	return true;
}

void regw_value_delete(struct reg_writer *w, const uint16_t *name,
		       size_t len, const struct keypath *path)
{
	if (!value_name(w, name, len, path))
		return;
	out_unit(w, '-');
	out_eol(w);
}

void regw_value(struct reg_writer *w, struct hive *h, hive_value_t val,
		size_t index, const struct keypath *path)
{
	void *tmp = talloc_new(NULL);
	struct hive_value_stat st;
	uint16_t *name, *units;
	uint8_t *data;
	size_t name_len, len;
	char what[64];
	int err;

	snprintf(what, sizeof(what), "value %zu", index + 1);
	err = hive_value_stat(h, val, &st);
	if (!err)
		err = hive_value_name(tmp, h, val, &name, &name_len);
	if (!err)
		err = hive_value_data(tmp, h, val, &data, &len);
	if (err) {
		regw_error(w, path, path->n, what, err);
		goto done;
	}
	if (!value_name(w, name, name_len, path))
		goto done;

	units = talloc_array(tmp, uint16_t, len / 2 + 1);
	for (size_t i = 0; units && i < len / 2; i++)
		units[i] = (uint16_t)(data[2 * i] | data[2 * i + 1] << 8);
	if (st.type == HIVE_REG_SZ && len % 2 == 0 && units &&
	    sz_is_text(units, len / 2, !w->utf16)) {
		out_quoted(w, units, len / 2 - 1);
	} else if (st.type == HIVE_REG_DWORD && len == 4) {
		char buf[16];

		snprintf(buf, sizeof(buf), "dword:%08x",
			 (unsigned)(data[0] | data[1] << 8 | data[2] << 16 |
				    (uint32_t)data[3] << 24));
		out_ascii(w, buf);
	} else {
		char buf[24];

		if (st.type == HIVE_REG_BINARY)
			snprintf(buf, sizeof(buf), "hex:");
		else
			snprintf(buf, sizeof(buf), "hex(%x):",
				 (unsigned)st.type);
		out_ascii(w, buf);
		out_hex(w, data, len);
	}
	out_eol(w);
done:
	talloc_free(tmp);
}

struct subtree_walk {
	struct walk_paths wp;
	struct reg_writer *w;
};

static int subtree_on_key(void *arg, hive_key_t key, unsigned depth)
{
	struct subtree_walk *sw = arg;
	struct reg_writer *w = sw->w;
	void *tmp;
	hive_value_t *vals;
	size_t count;
	int err;

	if (!walk_paths_enter(&sw->wp, key, depth, &err)) {
		if (err)
			regw_error(w, &sw->wp.path, sw->wp.path.n,
				   "subkey name", err);
		return 0;
	}
	/*
	 * The start key checks all of its path (the names above it are in
	 * its key line too); below it, each key checks its own name.
	 */
	if (!regw_key(w, &sw->wp.path, sw->wp.path.n,
		      depth ? sw->wp.path.n - 1 : 0, false)) {
		walk_paths_skip(&sw->wp, depth);
		return 0;
	}
	tmp = talloc_new(NULL);
	err = hive_key_values(tmp, sw->wp.h, key, &vals, &count);
	if (err)
		regw_error(w, &sw->wp.path, sw->wp.path.n, "value list", err);
	for (size_t i = 0; !err && i < count; i++)
		regw_value(w, sw->wp.h, vals[i], i, &sw->wp.path);
	talloc_free(tmp);
	out_eol(w);
	return w->failed ? HIVE_E_NOMEM : 0;
}

static int subtree_on_error(void *arg, hive_key_t parent, unsigned depth,
			    hive_key_t child, int err)
{
	struct subtree_walk *sw = arg;
	const char *what;
	size_t n = walk_paths_error(&sw->wp, parent, depth, child, &what);

	regw_error(sw->w, &sw->wp.path, n, what, err);
	return 0;
}

int regw_subtree(struct reg_writer *w, struct hive *h, hive_key_t start,
		 const struct keypath *base)
{
	void *tmp = talloc_new(NULL);
	const struct hive_walk_ops ops = {
		.on_key = subtree_on_key,
		.on_error = subtree_on_error,
	};
	struct subtree_walk sw = { .w = w };
	int err;

	walk_paths_init(&sw.wp, tmp, h, start, base);
	err = hive_walk(h, start, &ops, &sw);
	if (err || w->failed) {
		err = err ? err : HIVE_E_NOMEM;
		regw_error(w, base, base->n, "walk", err);
	}
	talloc_free(tmp);
	return err;
}

const struct regw_opts regw_defaults = {
	.prefix = REG_DEFAULT_PREFIX,
	.utf16 = true,
};

int regw_option_encoding(struct cmd_args *a, const char *arg)
{
	struct regw_opts *o = a->opts;

	if (!strcasecmp(arg, "utf-16le") || !strcasecmp(arg, "utf16le"))
		o->utf16 = true;
	else if (!strcasecmp(arg, "utf-8") || !strcasecmp(arg, "utf8"))
		o->utf16 = false;
	else
		return usage_error(a->cmd, "unknown encoding '%s' (utf-16le "
				   "or utf-8)", arg);
	return 0;
}

int regw_prepare(struct cmd_args *a)
{
	struct regw_opts *o = a->opts;
	const char *prefix = o->prefix;
	uint16_t **out = &o->prefix16;
	size_t *len = &o->prefix_len;

	if (hive_utf8_to_utf16(a->mem, prefix, strlen(prefix), out, len))
		return usage_error(a->cmd, "the prefix is not valid UTF-8");
	/* One trailing separator is the user's, not part of a key name. */
	if (*len > 0 && (*out)[*len - 1] == '\\')
		(*len)--;
	if (strpbrk(prefix, "\r\n"))
		return usage_error(a->cmd,
				   "the prefix cannot hold a line break");
	/* "[-KEY]" means "delete KEY" to every .reg importer. */
	if (prefix[0] == '-')
		return usage_error(a->cmd, "the prefix cannot begin with '-'");
	return 0;
}
