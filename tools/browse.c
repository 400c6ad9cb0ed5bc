/*
 * browse.c — `hivectl ls` and `hivectl get`: look at one key or one value.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <talloc.h>

#include "hivectl.h"

/* ---- ls ---- */

/* Terminal columns taken by a UTF-8 string, close enough for alignment. */
static size_t display_width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		w += ((unsigned char)*s & 0xC0) != 0x80;
	return w;
}

struct ls_value {
	char *name;
	char *type;
	uint32_t len;
};

static int run_ls(struct cmd_args *a)
{
	void *tmp = a->mem;
	struct hive *h = a->h;
	const char *hive_path = a->hive_path;
	const char *key_arg = a->n_operands == 2 ? a->operands[1] : "";
	struct keypath path;
	hive_key_t key, *subkeys;
	hive_value_t *vals;
	size_t nsub, nval, width = 0, type_width = 0;
	struct ls_value *lv = NULL;
	int err, rc = 0;

	keypath_init(&path, tmp);
	if (resolve_key(h, hive_path, key_arg, &path, &key))
		return EXIT_HIVE;

	err = hive_key_subkeys(tmp, h, key, &subkeys, &nsub);
	if (err) {
		report("%s: %s: subkey list: %s", hive_path, key_arg,
		       err_text(tmp, err));
		rc = EXIT_HIVE;
		nsub = 0;
	}
	for (size_t i = 0; i < nsub; i++) {
		uint16_t *name;
		size_t len;

		err = hive_key_name(tmp, h, subkeys[i], &name, &len);
		if (err) {
			report("%s: %s: subkey %zu: %s", hive_path, key_arg,
			       i + 1, err_text(tmp, err));
			rc = EXIT_HIVE;
			continue;
		}
		printf("%s\\\n", display_name(tmp, name, len));
	}

	/* Values are collected first so that their columns line up. */
	err = hive_key_values(tmp, h, key, &vals, &nval);
	if (err) {
		report("%s: %s: value list: %s", hive_path, key_arg,
		       err_text(tmp, err));
		rc = EXIT_HIVE;
		nval = 0;
	}
	lv = talloc_zero_array(tmp, struct ls_value, nval ? nval : 1);
	for (size_t i = 0; lv && i < nval; i++) {
		struct hive_value_stat st;
		uint16_t *name;
		size_t len;

		err = hive_value_stat(h, vals[i], &st);
		if (!err)
			err = hive_value_name(tmp, h, vals[i], &name, &len);
		if (err) {
			report("%s: %s: value %zu: %s", hive_path, key_arg,
			       i + 1, err_text(tmp, err));
			rc = EXIT_HIVE;
			continue;
		}
		lv[i].name = len ? display_name(tmp, name, len) :
				   talloc_strdup(tmp, "(default)");
		lv[i].type = type_text(tmp, st.type);
		lv[i].len = st.data_len;
		if (lv[i].name && display_width(lv[i].name) > width)
			width = display_width(lv[i].name);
		if (lv[i].type && strlen(lv[i].type) > type_width)
			type_width = strlen(lv[i].type);
	}
	/* One very long name should not push every other line apart. */
	if (width > 40)
		width = 40;
	for (size_t i = 0; lv && i < nval; i++) {
		if (!lv[i].name || !lv[i].type)
			continue;
		size_t w = display_width(lv[i].name);

		printf("%s%*s  %-*s  %" PRIu32 "\n", lv[i].name,
		       (int)(w < width ? width - w : 0), "",
		       (int)type_width, lv[i].type, lv[i].len);
	}
	return finish_stdout(rc);
}

const struct cmd cmd_ls = {
	.name = "ls",
	.synopsis = "HIVE [KEY]",
	.summary = "list the subkeys and values of a key",
	.help =
	"Lists the subkeys of KEY (default: the root key), each followed by\n"
	"a backslash, then its values as NAME, TYPE and data length in\n"
	"bytes.  The unnamed default value is shown as (default).  Names\n"
	"are shown as stored, in list order; control characters appear as\n"
	"%XX and unpaired surrogates as %uXXXX.\n"
	"\nOptions:\n"
	"  -h, --help   show this help\n",
	.operands = { 1, 2, "HIVE" },
	.open = CMD_OPEN_READ_ONLY,
	.run = run_ls,
};

/* ---- get ---- */

static void print_hexdump(const uint8_t *data, size_t len)
{
	for (size_t off = 0; off < len; off += 16) {
		size_t n = len - off < 16 ? len - off : 16;

		printf("%08zx ", off);
		for (size_t i = 0; i < 16; i++) {
			if (i == 8)
				putchar(' ');
			if (i < n)
				printf(" %02x", data[off + i]);
			else
				fputs("   ", stdout);
		}
		fputs("  |", stdout);
		for (size_t i = 0; i < n; i++) {
			uint8_t b = data[off + i];
			putchar(b >= 0x20 && b < 0x7F ? b : '.');
		}
		fputs("|\n", stdout);
	}
}

/*
 * Prints the data as its text (the codec's, hive_text_render: what a
 * file on a hivefs mount shows), or as a hex dump when it has none.
 * Returns false when the type has a text form but this data has no
 * exact text, so the caller can point at --raw.
 */
static bool print_text(void *mem, uint32_t type, const uint8_t *data,
		       size_t len)
{
	size_t n = hive_text_render(type, data, len, NULL);
	char *text = n != SIZE_MAX ? talloc_size(mem, n ? n : 1) : NULL;

	if (text) {
		hive_text_render(type, data, len, text);
		fwrite(text, 1, n, stdout);
		talloc_free(text);
		return true;
	}
	print_hexdump(data, len);
	return !hive_type_has_text(type);
}

struct get_opts {
	bool raw, literal;
	uint16_t *name; /* VALUE as UTF-16 */
	size_t name_len;
};

/* VALUE, or the default value when there is none. */
static const char *get_value_arg(const struct cmd_args *a)
{
	return a->n_operands == 3 ? a->operands[2] : "";
}

static int get_prepare(struct cmd_args *a)
{
	struct get_opts *o = a->opts;

	if (value_name_arg(a->mem, get_value_arg(a), o->literal, &o->name,
			   &o->name_len))
		return usage_error(a->cmd, "VALUE is not valid UTF-8");
	return 0;
}

static int run_get(struct cmd_args *a)
{
	struct get_opts *o = a->opts;
	void *tmp = a->mem;
	struct hive *h = a->h;
	const char *hive_path = a->hive_path, *key_arg = a->operands[1];
	const char *value_arg = get_value_arg(a);
	struct keypath path;
	struct hive_value_stat st;
	hive_key_t key;
	hive_value_t val;
	size_t len;
	uint8_t *data;
	int err;

	keypath_init(&path, tmp);
	if (resolve_key(h, hive_path, key_arg, &path, &key))
		return EXIT_HIVE;
	err = hive_value_lookup(h, key, o->name, o->name_len, &val);
	if (!err)
		err = hive_value_stat(h, val, &st);
	if (!err)
		err = hive_value_data(tmp, h, val, &data, &len);
	if (err) {
		const char *shown = value_display(o->name_len, value_arg);

		if (err == HIVE_E_NOT_FOUND)
			report("%s: %s: no value '%s'", hive_path,
			       key_display(key_arg), shown);
		else
			report("%s: %s: value '%s': %s", hive_path,
			       key_display(key_arg), shown, err_text(tmp, err));
		return EXIT_HIVE;
	}
	if (o->raw) {
		fwrite(data, 1, len, stdout);
	} else if (!print_text(tmp, st.type, data, len)) {
		report("note: this %s data has no exact text form (shown as "
		       "a hex dump); use --raw for the bytes",
		       type_text(tmp, st.type));
	}
	return finish_stdout(0);
}

static const struct cmd_opt get_options[] = {
	CMD_FLAG('r', "raw", struct get_opts, raw),
	CMD_FLAG('L', "literal", struct get_opts, literal),
	{ 0 },
};

const struct cmd cmd_get = {
	.name = "get",
	.synopsis = "[--raw] [--literal] HIVE KEY [VALUE]",
	.summary = "print the data of a value",
	.help =
	"Prints the data of VALUE in KEY; without VALUE (or with \"\" or\n"
	"\"@\"), the unnamed default value; with --literal, \"@\" is a value\n"
	"named @.  Use \"\" as KEY for the root key.\n"
	"\nText forms (those of files on a hivefs mount):\n"
	"  REG_SZ, REG_EXPAND_SZ   the string as UTF-8 and a newline\n"
	"  REG_MULTI_SZ            one string per line\n"
	"  REG_LINK                the string, without a newline\n"
	"  REG_DWORD, REG_DWORD_BIG_ENDIAN, REG_QWORD\n"
	"                          decimal and a newline\n"
	"  anything else           a hex dump\n"
	"Data a text form cannot show exactly (a string without its NUL or\n"
	"with bytes after it, a DWORD of other than 4 bytes, ...) is shown\n"
	"as a hex dump, and a note on stderr says so.\n"
	"\nOptions:\n"
	"  -r, --raw       write the data bytes exactly as stored\n"
	"  -L, --literal   VALUE \"@\" is a value named @\n"
	"  -h, --help      show this help\n"
	"\nExit status: 0 success, 1 no such key or value, or unreadable,\n"
	"2 usage error.\n",
	.options = get_options,
	.opts_size = sizeof(struct get_opts),
	.operands = { 2, 3, "HIVE or KEY" },
	.open = CMD_OPEN_READ_ONLY,
	.prepare = get_prepare,
	.run = run_get,
};
