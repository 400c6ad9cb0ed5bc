/*
 * export.c — `hivectl export`: a key and its subtree as a .reg file in the
 * format regedit writes ("Windows Registry Editor Version 5.00").
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

#include "hivectl.h"

#define DEFAULT_PREFIX "HKEY_LOCAL_MACHINE"
/* regedit breaks a hex line once it reaches this column (before the '\'). */
#define HEX_WRAP_COLUMN 77

struct reg_out {
	void *mem;
	bool utf16;     /* UTF-16LE + CRLF, else UTF-8 + LF */
	bool failed;    /* out of memory while building a line */
	uint16_t *line; /* the line being built */
	size_t len, cap;
};

static inline void out_unit(struct reg_out *o, uint16_t c)
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

static void out_ascii(struct reg_out *o, const char *s)
{
	for (; *s; s++)
		out_unit(o, (unsigned char)*s);
}

static void out_units(struct reg_out *o, const uint16_t *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		out_unit(o, s[i]);
}

/* Ends the line: encodes it, writes it and starts an empty one. */
static void out_eol(struct reg_out *o)
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
static void out_quoted(struct reg_out *o, const uint16_t *s, size_t n)
{
	out_unit(o, '"');
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\\' || s[i] == '"')
			out_unit(o, '\\');
		out_unit(o, s[i]);
	}
	out_unit(o, '"');
}

static void out_hex(struct reg_out *o, const uint8_t *data, size_t len)
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

struct export_walk {
	struct walk_paths wp;
	struct reg_out out;
	const char *hive_path;
	const uint16_t *prefix;
	size_t prefix_len;
	unsigned errors;
};

/* "[warning: ]HIVE: key 'PATH': WHAT: DETAIL" on stderr. */
static void export_report(struct export_walk *ew, size_t n, bool warning,
			  const char *what, const char *detail)
{
	char *path = keypath_display(NULL, &ew->wp.path, n);

	report("%s%s: key '%s': %s: %s", warning ? "warning: " : "",
	       ew->hive_path, path ? path : "?", what, detail);
	talloc_free(path);
	if (!warning)
		ew->errors++;
}

static void export_error(struct export_walk *ew, size_t n, const char *what,
			 int err)
{
	char *text = err_text(NULL, err);

	export_report(ew, n, false, what, text ? text : hive_strerror(err));
	talloc_free(text);
}

static void export_value(struct export_walk *ew, hive_value_t val,
			 size_t index)
{
	void *tmp = talloc_new(NULL);
	struct reg_out *o = &ew->out;
	struct hive_value_stat st;
	uint16_t *name, *units;
	uint8_t *data;
	size_t name_len, len;
	const char *problem;
	char what[64];
	bool fatal;
	int err;

	snprintf(what, sizeof(what), "value %zu", index + 1);
	err = hive_value_stat(ew->wp.h, val, &st);
	if (!err)
		err = hive_value_name(tmp, ew->wp.h, val, &name, &name_len);
	if (!err)
		err = hive_value_data(tmp, ew->wp.h, val, &data, &len);
	if (err) {
		export_error(ew, ew->wp.path.n, what, err);
		goto done;
	}
	problem = name_problem(name, name_len, false, o->utf16, &fatal);
	if (problem) {
		char *shown = talloc_asprintf(tmp, "value '%s'",
					      display_name(tmp, name,
							   name_len));

		export_report(ew, ew->wp.path.n, !fatal, shown ? shown : what,
			      problem);
		if (fatal)
			goto done;
	}

	if (name_len == 0)
		out_unit(o, '@');
	else
		out_quoted(o, name, name_len);
	out_unit(o, '=');

	units = talloc_array(tmp, uint16_t, len / 2 + 1);
	for (size_t i = 0; units && i < len / 2; i++)
		units[i] = (uint16_t)(data[2 * i] | data[2 * i + 1] << 8);
	if (st.type == HIVE_REG_SZ && len % 2 == 0 && units &&
	    sz_is_text(units, len / 2, !o->utf16)) {
		out_quoted(o, units, len / 2 - 1);
	} else if (st.type == HIVE_REG_DWORD && len == 4) {
		char buf[16];

		snprintf(buf, sizeof(buf), "dword:%08x",
			 (unsigned)(data[0] | data[1] << 8 | data[2] << 16 |
				    (uint32_t)data[3] << 24));
		out_ascii(o, buf);
	} else {
		char buf[24];

		if (st.type == HIVE_REG_BINARY)
			snprintf(buf, sizeof(buf), "hex:");
		else
			snprintf(buf, sizeof(buf), "hex(%x):",
				 (unsigned)st.type);
		out_ascii(o, buf);
		out_hex(o, data, len);
	}
	out_eol(o);
done:
	talloc_free(tmp);
}

static int export_on_key(void *arg, hive_key_t key, unsigned depth)
{
	struct export_walk *ew = arg;
	struct reg_out *o = &ew->out;
	void *tmp;
	hive_value_t *vals;
	size_t count;
	int err;

	if (!walk_paths_enter(&ew->wp, key, depth, &err)) {
		if (err)
			export_error(ew, ew->wp.path.n, "subkey name", err);
		return 0;
	}
	/*
	 * The start key checks all of its path (the names above it are in
	 * its key line too); below it, each key checks its own name.
	 */
	for (size_t i = depth ? ew->wp.path.n - 1 : 0; i < ew->wp.path.n;
	     i++) {
		const struct keypath_ent *e = &ew->wp.path.ent[i];
		bool fatal;
		const char *problem = name_problem(e->name, e->len, true,
						   o->utf16, &fatal);

		if (!problem)
			continue;
		export_report(ew, i + 1, !fatal, "name", problem);
		if (fatal) {
			walk_paths_skip(&ew->wp, depth);
			return 0;
		}
	}

	/*
	 * The root is the prefix alone, as regedit writes a hive's root;
	 * with an empty prefix it is "[\]", as hivexregedit writes it (an
	 * empty "[]" would be read as no key at all by some parsers).
	 */
	out_unit(o, '[');
	out_units(o, ew->prefix, ew->prefix_len);
	if (ew->wp.path.n == 0 && ew->prefix_len == 0)
		out_unit(o, '\\');
	for (size_t i = 0; i < ew->wp.path.n; i++) {
		out_unit(o, '\\');
		out_units(o, ew->wp.path.ent[i].name, ew->wp.path.ent[i].len);
	}
	out_unit(o, ']');
	out_eol(o);

	tmp = talloc_new(NULL);
	err = hive_key_values(tmp, ew->wp.h, key, &vals, &count);
	if (err)
		export_error(ew, ew->wp.path.n, "value list", err);
	for (size_t i = 0; !err && i < count; i++)
		export_value(ew, vals[i], i);
	talloc_free(tmp);
	out_eol(o);
	return ew->out.failed ? HIVE_E_NOMEM : 0;
}

static int export_on_error(void *arg, hive_key_t parent, unsigned depth,
			   hive_key_t child, int err)
{
	struct export_walk *ew = arg;
	const char *what;
	size_t n = walk_paths_error(&ew->wp, parent, depth, child, &what);

	export_error(ew, n, what, err);
	return 0;
}

struct export_opts {
	const char *prefix;
	bool utf16;
	uint16_t *prefix16; /* the prefix as UTF-16, without a trailing '\\' */
	size_t prefix_len;
};

static const struct export_opts export_defaults = {
	.prefix = DEFAULT_PREFIX,
	.utf16 = true,
};

static int export_encoding(struct cmd_args *a, const char *arg)
{
	struct export_opts *o = a->opts;

	if (!strcasecmp(arg, "utf-16le") || !strcasecmp(arg, "utf16le"))
		o->utf16 = true;
	else if (!strcasecmp(arg, "utf-8") || !strcasecmp(arg, "utf8"))
		o->utf16 = false;
	else
		return usage_error(a->cmd, "unknown encoding '%s' (utf-16le "
				   "or utf-8)", arg);
	return 0;
}

static int export_prepare(struct cmd_args *a)
{
	struct export_opts *o = a->opts;
	const char *prefix = o->prefix;

	if (hive_utf8_to_utf16(a->mem, prefix, strlen(prefix), &o->prefix16,
			       &o->prefix_len))
		return usage_error(a->cmd, "the prefix is not valid UTF-8");
	/* One trailing separator is the user's, not part of a key name. */
	if (o->prefix_len > 0 && o->prefix16[o->prefix_len - 1] == '\\')
		o->prefix_len--;
	if (strpbrk(prefix, "\r\n"))
		return usage_error(a->cmd,
				   "the prefix cannot hold a line break");
	/* "[-KEY]" means "delete KEY" to every .reg importer. */
	if (prefix[0] == '-')
		return usage_error(a->cmd, "the prefix cannot begin with '-'");
	return 0;
}

static int run_export(struct cmd_args *a)
{
	struct export_opts *o = a->opts;
	void *tmp = a->mem;
	const struct hive_walk_ops ops = {
		.on_key = export_on_key,
		.on_error = export_on_error,
	};
	struct export_walk ew = { .hive_path = a->hive_path };
	const char *key_arg = a->n_operands == 2 ? a->operands[1] : "";
	bool utf16 = o->utf16;
	struct keypath base;
	hive_key_t start;
	struct hive *h = a->h;
	int err;

	keypath_init(&base, tmp);
	if (resolve_key(h, ew.hive_path, key_arg, &base, &start))
		return EXIT_HIVE;

	ew.prefix = o->prefix16;
	ew.prefix_len = o->prefix_len;
	ew.out.mem = tmp;
	ew.out.utf16 = utf16;
	walk_paths_init(&ew.wp, tmp, h, start, &base);
	if (utf16)
		fputs("\xFF\xFE", stdout);
	out_ascii(&ew.out, "Windows Registry Editor Version 5.00");
	out_eol(&ew.out);
	out_eol(&ew.out);
	err = hive_walk(h, start, &ops, &ew);
	if (err || ew.out.failed) {
		keypath_truncate(&ew.wp.path, 0);
		export_error(&ew, 0, "walk", err ? err : HIVE_E_NOMEM);
	}
	return finish_stdout(ew.errors ? EXIT_HIVE : 0);
}

static const struct cmd_opt export_options[] = {
	CMD_STRING('p', "prefix", struct export_opts, prefix),
	{ 'e', "encoding", true, 0, export_encoding },
	{ 0 },
};

const struct cmd cmd_export = {
	.name = "export",
	.synopsis = "[--prefix P] [--encoding E] HIVE [KEY]",
	.summary = "write a key and its subtree as a .reg file",
	.help =
	"Writes KEY (default: the root key) and everything below it to\n"
	"standard output in the .reg format of regedit, version 5.00: one\n"
	"[PATH] block per key, parents before children, values in list\n"
	"order, a blank line after each block.\n"
	"\n"
	"Key lines are [P\\A\\B] where A\\B is the key's path below the root\n"
	"(names as stored); the root key itself is [P], or [\\] when P is\n"
	"empty, as hivexregedit writes it.  The default value is @.\n"
	"\n"
	"Values: REG_DWORD of 4 bytes as dword:xxxxxxxx; REG_SZ as \"text\"\n"
	"when that text imports back to the same bytes: exactly one NUL, at\n"
	"the end; no control characters but tab; no unpaired surrogates;\n"
	"and, for UTF-8 output, ASCII only, because hivexregedit --merge\n"
	"takes each byte of a string for a character.  REG_BINARY as hex:;\n"
	"any other type or data as hex(T): with T the type in hex, as\n"
	"regedit does (hex(2) for REG_EXPAND_SZ, hex(7) for REG_MULTI_SZ,\n"
	"hex(b) for REG_QWORD).\n"
	"Hex lines wrap at 80 columns with ',\\' and a two-space indent.\n"
	"A key or value whose name holds CR or LF is left out (a key with its\n"
	"subtree) and reported: a .reg file cannot carry it.  Other names a\n"
	".reg file cannot express exactly (a key name holding '\\' or empty,\n"
	"names holding NUL) are written as they are, with a warning.\n"
	"\n"
	"Options:\n"
	"  -p, --prefix P     prepended to every key path (default "
	DEFAULT_PREFIX ");\n"
	"                     use the same with hivexregedit --merge --prefix\n"
	"  -e, --encoding E   utf-16le (default): UTF-16LE with a byte-order\n"
	"                     mark and CRLF line ends, as regedit writes;\n"
	"                     utf-8: UTF-8 without a byte-order mark and LF\n"
	"                     line ends, which hivexregedit --merge reads\n"
	"  -h, --help         show this help\n"
	"\n"
	"Exit status: 0 success, 1 some key or value could not be read or\n"
	"written (it is reported on stderr and left out; the rest is\n"
	"exported), 2 usage error.\n",
	.options = export_options,
	.opts_size = sizeof(struct export_opts),
	.opts_default = &export_defaults,
	.operands = { 1, 2, "HIVE" },
	.open = CMD_OPEN_READ_ONLY,
	.prepare = export_prepare,
	.run = run_export,
};
