/*
 * rm.c — `hivectl rm`: delete a value, a key, or a key with its subtree.
 */
#include <stdio.h>
#include <string.h>

#include <talloc.h>

#include "hivectl.h"

struct rm_opts {
	bool recursive, force, literal;
};

static int rm_prepare(struct cmd_args *a)
{
	struct rm_opts *o = a->opts;

	if (a->n_operands == 3 && o->recursive)
		return usage_error(a->cmd, "-r deletes keys, not values");
	return 0;
}

static int rm_value(struct cmd_args *a, hive_key_t key)
{
	struct rm_opts *o = a->opts;
	const char *key_arg = a->operands[1], *value_arg = a->operands[2];
	uint16_t *name;
	size_t len;
	int err;

	if (value_name_arg(a->mem, value_arg, o->literal, &name, &len))
		return usage_error(a->cmd, "VALUE is not valid UTF-8");
	err = hive_value_delete(a->h, key, name, len);
	if (err == HIVE_E_NOT_FOUND && o->force)
		return CMD_UNCHANGED;
	if (err == HIVE_E_NOT_FOUND) {
		report("%s: %s: no value '%s'", a->hive_path,
		       key_display(key_arg), value_display(len, value_arg));
		return EXIT_HIVE;
	}
	if (err) {
		report("%s: %s: value '%s': %s", a->hive_path,
		       key_display(key_arg), value_display(len, value_arg),
		       err_text(a->mem, err));
		return EXIT_HIVE;
	}
	return 0;
}

static int rm_key(struct cmd_args *a, hive_key_t key)
{
	struct rm_opts *o = a->opts;
	const char *key_arg = a->operands[1];
	unsigned deleted = 0;
	int err;

	if (key == hive_root(a->h)) {
		report("%s: the root key cannot be deleted", a->hive_path);
		return EXIT_HIVE;
	}
	err = o->recursive ? delete_subtree(a->h, key, &deleted) :
			     hive_key_delete(a->h, key);
	if (err == HIVE_E_NOT_EMPTY) {
		report("%s: %s: key has subkeys (use -r to delete them too)",
		       a->hive_path, key_arg);
		return EXIT_HIVE;
	}
	if (err) {
		report("%s: %s: %s", a->hive_path, key_arg,
		       err_text(a->mem, err));
		return EXIT_HIVE;
	}
	return 0;
}

static int run_rm(struct cmd_args *a)
{
	struct rm_opts *o = a->opts;
	const char *key_arg = a->operands[1];
	struct keypath path;
	hive_key_t key;

	keypath_init(&path, a->mem);
	/* With -f a missing key is no error: look quietly first. */
	if (o->force && hive_key_lookup_path(a->h, hive_root(a->h), key_arg,
					     &key) == HIVE_E_NOT_FOUND)
		return CMD_UNCHANGED;
	if (resolve_key(a->h, a->hive_path, key_arg, &path, &key))
		return EXIT_HIVE;
	return a->n_operands == 3 ? rm_value(a, key) : rm_key(a, key);
}

static const struct cmd_opt rm_options[] = {
	CMD_FLAG('r', "recursive", struct rm_opts, recursive),
	CMD_FLAG('R', NULL, struct rm_opts, recursive),
	CMD_FLAG('f', "force", struct rm_opts, force),
	CMD_FLAG('L', "literal", struct rm_opts, literal),
	{ 0 },
};

const struct cmd cmd_rm = {
	.name = "rm",
	.synopsis = "[-r] [-f] [-L] HIVE KEY [VALUE]",
	.summary = "delete a value, or a key (-r: with its subtree)",
	.help =
	"With VALUE, deletes that value of KEY (\"\" or \"@\": the default\n"
	"value; with --literal \"@\" is a value named @).  Without VALUE,\n"
	"deletes KEY with its values; a key that has subkeys is deleted only\n"
	"with -r, which deletes the whole subtree.  The root key cannot be\n"
	"deleted.  If anything fails, nothing is changed.\n"
	"The change is committed as Windows commits: a transaction-log entry\n"
	"in HIVE.LOG1 or HIVE.LOG2 first, then the hive file itself.\n"
	"\nOptions:\n"
	"  -r, -R, --recursive   delete KEY with all its subkeys\n"
	"  -f, --force           a missing key or value is not an error\n"
	"  -L, --literal         VALUE \"@\" is a value named @\n"
	"  -h, --help            show this help\n"
	"\nExit status: 0 deleted (or, with -f, nothing to delete), 1 the\n"
	"hive could not be opened, changed or committed, 2 usage error.\n",
	.options = rm_options,
	.opts_size = sizeof(struct rm_opts),
	.operands = { 2, 3, "HIVE or KEY" },
	.open = CMD_OPEN_READ_WRITE,
	.prepare = rm_prepare,
	.run = run_rm,
};
