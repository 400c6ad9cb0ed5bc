/*
 * export.c — `hivectl export`: a key and its subtree as a .reg file in the
 * format regedit writes ("Windows Registry Editor Version 5.00").
 *
 * The writing itself, and the rules for what a .reg file can carry, are
 * regwrite.c's, which `hivectl diff` shares.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <talloc.h>

#include "regwrite.h"

static int run_export(struct cmd_args *a)
{
	struct regw_opts *o = a->opts;
	const char *key_arg = a->n_operands == 2 ? a->operands[1] : "";
	struct reg_writer w;
	struct keypath base;
	hive_key_t start;

	keypath_init(&base, a->mem);
	if (resolve_key(a->h, a->hive_path, key_arg, &base, &start))
		return EXIT_HIVE;
	regw_init(&w, a->mem, o->utf16, a->hive_path, o->prefix16,
		  o->prefix_len);
	regw_header(&w);
	regw_subtree(&w, a->h, start, &base);
	return finish_stdout(w.errors ? EXIT_HIVE : 0);
}

static const struct cmd_opt export_options[] = {
	CMD_STRING('p', "prefix", struct regw_opts, prefix),
	{ 'e', "encoding", true, 0, regw_option_encoding },
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
	REG_DEFAULT_PREFIX ");\n"
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
	.opts_size = sizeof(struct regw_opts),
	.opts_default = &regw_defaults,
	.operands = { 1, 2, "HIVE" },
	.open = CMD_OPEN_READ_ONLY,
	.prepare = regw_prepare,
	.run = run_export,
};
