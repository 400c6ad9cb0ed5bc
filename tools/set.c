/*
 * set.c — `hivectl set`: SetValueKey from the command line.
 *
 * The data arguments are turned into the bytes Windows would store for the
 * type (the same text forms `hivectl get` prints and hivefs reads and
 * writes), or taken verbatim from a file; the engine then replaces the value
 * of that name (any case) or creates it, and the change is committed.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <talloc.h>

#include "hivectl.h"

static int hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Hex bytes: pairs of digits, optionally separated by white space, commas
 * or colons ("de ad be ef", "deadbeef", "de,ad,be,ef" as in .reg files).
 * A separator never splits a byte.
 */
static bool parse_hex(void *mem, const char *s, uint8_t **out, size_t *len)
{
	uint8_t *buf = talloc_array(mem, uint8_t, strlen(s) / 2 + 1);
	size_t n = 0;

	if (!buf)
		return false;
	while (*s) {
		int hi, lo;

		if (strchr(" \t\n\r,:", *s)) {
			s++;
			continue;
		}
		hi = hex_digit(s[0]);
		lo = hi >= 0 ? hex_digit(s[1]) : -1;
		if (lo < 0)
			return false;
		buf[n++] = (uint8_t)(hi << 4 | lo);
		s += 2;
	}
	*out = buf;
	*len = n;
	return true;
}

/*
 * Reads a whole file ("-" = standard input) into memory from malloc(), not
 * talloc (which refuses blocks of 256 MiB and more); the caller frees it.
 */
static bool read_file(const char *path, uint8_t **out, size_t *len)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	uint8_t *buf = NULL;
	size_t used = 0, cap = 0;
	bool ok = f != NULL;

	while (ok) {
		if (used == cap) {
			cap = cap ? cap * 2 : 65536;
			/* The format's limit: no need to read further. */
			if (cap > (size_t)HIVE_MAX_VALUE_DATA + 1)
				cap = (size_t)HIVE_MAX_VALUE_DATA + 1;
			if (used == cap) {
				errno = EFBIG;
				ok = false;
				break;
			}
			uint8_t *grown = realloc(buf, cap);
			if (!grown) {
				errno = ENOMEM;
				ok = false;
				break;
			}
			buf = grown;
		}
		size_t n = fread(buf + used, 1, cap - used, f);

		used += n;
		if (n == 0) {
			ok = !ferror(f);
			break;
		}
	}
	if (f && f != stdin)
		fclose(f);
	if (!ok) {
		free(buf);
		return false;
	}
	*out = buf ? buf : malloc(1);
	*len = used;
	return *out != NULL;
}

/*
 * REG_MULTI_SZ arguments as the codec's text: one line each.  An
 * argument holding a line feed would read as two strings, so it is
 * refused, as the codec refuses an empty one.
 */
static int multi_sz_data(void *mem, const struct cmd *cmd, char **args,
			 int nargs, uint8_t **data, size_t *len)
{
	char *text = talloc_strdup(mem, "");

	for (int i = 0; text && i < nargs; i++) {
		if (strchr(args[i], '\n'))
			return usage_error(cmd, "a REG_MULTI_SZ string cannot "
					   "hold a line feed (use --hex or "
					   "--file)");
		if (!*args[i])
			return usage_error(cmd, "a REG_MULTI_SZ string cannot "
					   "be empty: Windows reads the list "
					   "only up to an empty string");
		text = talloc_asprintf_append(text, "%s\n", args[i]);
	}
	if (!text)
		return usage_error(cmd, "out of memory");
	if (hive_text_parse(mem, HIVE_REG_MULTI_SZ, text, strlen(text), data,
			    len))
		return usage_error(cmd, "DATA is not valid UTF-8");
	return 0;
}

/*
 * The bytes for `type` from the DATA arguments: the codec's text forms,
 * as a file on a hivefs mount takes them (hive_text_parse), or hex bytes
 * for types without text.  Prints a usage error and returns EXIT_USAGE
 * when they do not fit the type.
 */
static int encode_data(void *mem, const struct cmd *cmd, uint32_t type,
		       bool hex, char **args, int nargs, uint8_t **data,
		       size_t *len)
{
	int err;

	if (type == HIVE_REG_MULTI_SZ && !hex)
		return multi_sz_data(mem, cmd, args, nargs, data, len);
	if (nargs != 1)
		return usage_error(cmd, nargs ? "too many arguments (only "
				   "REG_MULTI_SZ takes several strings)" :
				   "missing DATA (or --file)");
	if (hex || !hive_type_has_text(type)) {
		if (!parse_hex(mem, args[0], data, len))
			return usage_error(cmd, hex ? "'%s' is not hex bytes" :
					   "'%s' is not hex bytes (use --file "
					   "for raw data)", args[0]);
		return 0;
	}
	err = hive_text_parse(mem, type, args[0], strlen(args[0]), data, len);
	if (err == HIVE_E_NOMEM)
		return usage_error(cmd, "out of memory");
	if (err && (type == HIVE_REG_SZ || type == HIVE_REG_EXPAND_SZ ||
		    type == HIVE_REG_LINK))
		return usage_error(cmd, "DATA is not valid UTF-8");
	if (err)
		return usage_error(cmd, "'%s' is not a %d-bit number (decimal "
				   "or 0x hex)", args[0],
				   type == HIVE_REG_QWORD ? 64 : 32);
	return 0;
}

struct set_opts {
	uint32_t type;
	const char *file;
	bool hex, mkdir_p, literal;
	uint16_t *name; /* VALUE as UTF-16 */
	size_t name_len;
	uint8_t *data;  /* what is stored: from DATA, or file_data */
	size_t len;
	uint8_t *file_data; /* from malloc(): see read_file() */
};

static const struct set_opts set_defaults = {
	.type = HIVE_REG_SZ,
};

static int set_type(struct cmd_args *a, const char *arg)
{
	struct set_opts *o = a->opts;

	if (!hive_type_parse(arg, &o->type))
		return usage_error(a->cmd, "unknown type '%s'", arg);
	return 0;
}

static int free_file_data(struct set_opts *o)
{
	free(o->file_data);
	return 0;
}

/* VALUE and the data, checked before the hive is opened. */
static int set_prepare(struct cmd_args *a)
{
	struct set_opts *o = a->opts;
	const char *value_arg = a->operands[2];
	int rc;

	talloc_set_destructor(o, free_file_data);
	if (value_name_arg(a->mem, value_arg, o->literal, &o->name,
			   &o->name_len))
		return usage_error(a->cmd, "VALUE is not valid UTF-8");
	if (o->name_len > HIVE_MAX_VALUE_NAME)
		return usage_error(a->cmd, "VALUE has %zu UTF-16 units (at "
				   "most %u)", o->name_len,
				   HIVE_MAX_VALUE_NAME);
	if (o->file) {
		if (a->n_operands > 3 || o->hex)
			return usage_error(a->cmd, "--file replaces DATA%s",
					   o->hex ? " and --hex" : "");
		if (!read_file(o->file, &o->file_data, &o->len)) {
			report("%s: %s", o->file, errno == EFBIG ?
			       "larger than a value can be" : strerror(errno));
			return EXIT_HIVE;
		}
		o->data = o->file_data;
	} else {
		rc = encode_data(a->mem, a->cmd, o->type, o->hex,
				 a->operands + 3, a->n_operands - 3, &o->data,
				 &o->len);
		if (rc)
			return rc;
	}
	if (o->len > HIVE_MAX_VALUE_DATA) {
		report("%s: %zu bytes of data; a value holds at most %u",
		       o->file ? o->file : "DATA", o->len,
		       HIVE_MAX_VALUE_DATA);
		return EXIT_HIVE;
	}
	return 0;
}

static int run_set(struct cmd_args *a)
{
	struct set_opts *o = a->opts;
	const char *key_arg = a->operands[1], *value_arg = a->operands[2];
	hive_key_t key;
	int err;

	if (resolve_key_create(a->h, a->hive_path, key_arg, o->mkdir_p, &key,
			       NULL))
		return EXIT_HIVE;
	err = hive_value_set(a->h, key, o->name, o->name_len, o->type,
			     o->data, o->len, NULL);
	if (err) {
		report("%s: %s: value '%s': %s", a->hive_path,
		       key_display(key_arg),
		       value_display(o->name_len, value_arg),
		       err_text(a->mem, err));
		return EXIT_HIVE;
	}
	return 0;
}

static const struct cmd_opt set_options[] = {
	{ 't', "type", true, 0, set_type },
	CMD_STRING('f', "file", struct set_opts, file),
	CMD_FLAG('x', "hex", struct set_opts, hex),
	CMD_FLAG('p', "mkdir", struct set_opts, mkdir_p),
	CMD_FLAG('L', "literal", struct set_opts, literal),
	{ 0 },
};

const struct cmd cmd_set = {
	.name = "set",
	.synopsis = "[OPTIONS] HIVE KEY VALUE (DATA... | --file FILE)",
	.summary = "set a value (replace or create)",
	.help =
	"Sets VALUE in KEY as Windows' SetValueKey does: a value whose name\n"
	"matches case-insensitively is replaced (it keeps its stored\n"
	"spelling), otherwise a new value is created.\n"
	"The change is committed as Windows commits: a transaction-log entry\n"
	"in HIVE.LOG1 or HIVE.LOG2 first, then the hive file itself.\n"
	"\nVALUE \"\" or \"@\" is the unnamed default value; with --literal,\n"
	"\"@\" names a value that is really called @.  KEY \"\" is the root.\n"
	"\nDATA is read according to the type:\n"
	"  REG_SZ, REG_EXPAND_SZ   text (UTF-8), stored as UTF-16LE with a\n"
	"                          terminating NUL (one final line feed is\n"
	"                          dropped; \"\" is one NUL, as Windows stores\n"
	"                          an empty string)\n"
	"  REG_MULTI_SZ            zero or more DATA arguments, one string\n"
	"                          each, stored NUL-terminated followed by an\n"
	"                          empty string; a string may be neither\n"
	"                          empty (Windows stops reading there) nor\n"
	"                          hold a line feed\n"
	"  REG_DWORD, REG_DWORD_BIG_ENDIAN, REG_QWORD\n"
	"                          a number, decimal or 0x hex (never octal:\n"
	"                          010 is ten), that must fit in 32 (64) bits\n"
	"  REG_LINK                text, stored as UTF-16LE without a NUL\n"
	"These are the text forms of files on a hivefs mount, and what\n"
	"`hivectl get` prints.\n"
	"  anything else           hex bytes: \"de ad be ef\", \"deadbeef\",\n"
	"                          \"de,ad,be,ef\" (\"\" is no data)\n"
	"--file FILE takes the data bytes verbatim from FILE (\"-\": standard\n"
	"input) for any type, and --hex takes DATA as hex bytes for any type;\n"
	"both store exactly what is given, e.g. a string without its NUL.\n"
	"Put -- before DATA that starts with a dash.\n"
	"\nTYPE is a name in any case, with or without REG_ (REG_DWORD,\n"
	"dword), a short name (dword_be, expand_sz), REG_DWORD_LITTLE_ENDIAN,\n"
	"a .reg file's hex(N), or a number, decimal or 0x hex (010 is ten,\n"
	"never octal): the names user.winreg.type takes on a hivefs mount.\n"
	"\nOptions:\n"
	"  -t, --type TYPE   value type (default REG_SZ)\n"
	"  -f, --file FILE   data bytes from FILE instead of DATA\n"
	"  -x, --hex         DATA is hex bytes, whatever the type\n"
	"  -p, --mkdir       create KEY and its missing parents\n"
	"  -L, --literal     VALUE \"@\" is a value named @, not the default\n"
	"  -h, --help        show this help\n"
	"\nExamples:\n"
	"  hivectl set SYSTEM 'ControlSet001\\Services\\x' Start -t dword 4\n"
	"  hivectl set NTUSER.DAT Environment Path -t expand_sz '%HOME%\\bin'\n"
	"  hivectl set H 'K' List -t multi_sz one two 'three and four'\n"
	"  hivectl set H 'K' Blob -t binary 'de ad be ef'\n"
	"\nExit status: 0 set, 1 the hive could not be opened, changed or\n"
	"committed, 2 usage error.\n",
	.options = set_options,
	.opts_size = sizeof(struct set_opts),
	.opts_default = &set_defaults,
	.operands = { 3, -1, "HIVE, KEY or VALUE" },
	.open = CMD_OPEN_READ_WRITE,
	.prepare = set_prepare,
	.run = run_set,
};
