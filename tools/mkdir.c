/*
 * mkdir.c — `hivectl mkdir`: create a key.
 */
#include <stdio.h>
#include <string.h>

#include <talloc.h>

#include "hivectl.h"

struct mkdir_opts {
	bool parents;
	char *parent_arg, *leaf; /* KEY split */
	uint16_t *name;          /* the leaf as UTF-16 */
	size_t len;
};

static int mkdir_prepare(struct cmd_args *a)
{
	struct mkdir_opts *o = a->opts;

	if (!split_key_arg(a->mem, a->operands[1], &o->parent_arg, &o->leaf))
		return usage_error(a->cmd,
				   "KEY names the root key, which exists");
	if (hive_utf8_to_utf16(a->mem, o->leaf, strlen(o->leaf), &o->name,
			       &o->len))
		return usage_error(a->cmd, "KEY is not valid UTF-8");
	return 0;
}

static int run_mkdir(struct cmd_args *a)
{
	struct mkdir_opts *o = a->opts;
	const char *key_arg = a->operands[1];
	hive_key_t parent, key;
	int err;

	if (resolve_key_create(a->h, a->hive_path, o->parent_arg, o->parents,
			       &parent, NULL))
		return EXIT_HIVE;
	err = hive_key_create(a->h, parent, o->name, o->len, &key);
	if (err == HIVE_E_EXISTS && o->parents)
		err = HIVE_OK;
	if (err == HIVE_E_EXISTS) {
		report("%s: %s: key exists", a->hive_path, key_arg);
		return EXIT_HIVE;
	}
	if (err) {
		report("%s: %s: %s", a->hive_path, key_arg,
		       err_text(a->mem, err));
		return EXIT_HIVE;
	}
	return 0;
}

static const struct cmd_opt mkdir_options[] = {
	CMD_FLAG('p', "parents", struct mkdir_opts, parents),
	{ 0 },
};

const struct cmd cmd_mkdir = {
	.name = "mkdir",
	.synopsis = "[-p] HIVE KEY",
	.summary = "create a key",
	.help =
	"Creates KEY, a backslash-separated path below the root key.  Its\n"
	"parent must exist (with -p missing parents are created, and an\n"
	"existing KEY is no error).  A new key takes its parent's security\n"
	"descriptor, as Windows does.  Key names are matched\n"
	"case-insensitively, so 'foo' is taken when 'Foo' exists.\n"
	"The change is committed as Windows commits: a transaction-log entry\n"
	"in HIVE.LOG1 or HIVE.LOG2 first, then the hive file itself.\n"
	"\nOptions:\n"
	"  -p, --parents   create missing parents; no error if KEY exists\n"
	"  -h, --help      show this help\n"
	"\nExit status: 0 created (or, with -p, present), 1 the key exists or\n"
	"the hive could not be opened, changed or committed, 2 usage error.\n",
	.options = mkdir_options,
	.opts_size = sizeof(struct mkdir_opts),
	.operands = { 2, 2, "HIVE or KEY" },
	.open = CMD_OPEN_READ_WRITE,
	.prepare = mkdir_prepare,
	.run = run_mkdir,
};
