/*
 * mv.c — `hivectl mv`: rename a key, or move it with its subtree.
 */
#include <stdio.h>
#include <string.h>

#include <talloc.h>

#include "hivectl.h"

struct mv_opts {
	bool parents;
	char *parent_arg, *leaf; /* NEWKEY split */
	uint16_t *name;          /* the leaf as UTF-16 */
	size_t len;
};

static int mv_prepare(struct cmd_args *a)
{
	struct mv_opts *o = a->opts;

	if (!split_key_arg(a->mem, a->operands[2], &o->parent_arg, &o->leaf))
		return usage_error(a->cmd, "NEWKEY cannot be the root key");
	if (hive_utf8_to_utf16(a->mem, o->leaf, strlen(o->leaf), &o->name,
			       &o->len))
		return usage_error(a->cmd, "NEWKEY is not valid UTF-8");
	return 0;
}

static int run_mv(struct cmd_args *a)
{
	struct mv_opts *o = a->opts;
	struct hive *h = a->h;
	const char *hive_path = a->hive_path;
	const char *key_arg = a->operands[1], *new_arg = a->operands[2];
	struct keypath path;
	struct hive_key_stat st;
	hive_key_t key, new_parent, moved;
	int err;

	keypath_init(&path, a->mem);
	if (resolve_key(h, hive_path, key_arg, &path, &key))
		return EXIT_HIVE;
	if (key == hive_root(h)) {
		report("%s: the root key cannot be renamed or moved",
		       hive_path);
		return EXIT_HIVE;
	}
	err = hive_key_stat(h, key, &st);
	if (err) {
		report("%s: %s: %s", hive_path, key_arg, err_text(a->mem, err));
		return EXIT_HIVE;
	}
	if (resolve_key_create(h, hive_path, o->parent_arg, o->parents,
			       &new_parent, NULL))
		return EXIT_HIVE;
	/* Same parent: a rename in place (NtRenameKey); else a move. */
	err = hive_key_rename(h, key, new_parent == st.parent ? HIVE_NO_CELL :
				      new_parent, o->name, o->len, &moved);
	if (err == HIVE_E_EXISTS) {
		report("%s: %s: a key of that name exists", hive_path, new_arg);
		return EXIT_HIVE;
	}
	if (err) {
		report("%s: %s -> %s: %s", hive_path, key_arg, new_arg,
		       err_text(a->mem, err));
		return EXIT_HIVE;
	}
	return 0;
}

static const struct cmd_opt mv_options[] = {
	CMD_FLAG('p', "parents", struct mv_opts, parents),
	{ 0 },
};

const struct cmd cmd_mv = {
	.name = "mv",
	.synopsis = "[-p] HIVE KEY NEWKEY",
	.summary = "rename or move a key (with its subtree)",
	.help =
	"Gives KEY the full path NEWKEY.  When both have the same parent the\n"
	"key is renamed in place (as NtRenameKey does; a change of case only\n"
	"is allowed); otherwise it is moved, with its values and whole\n"
	"subtree, under NEWKEY's parent.  NEWKEY must not exist, and a key\n"
	"cannot be moved into its own subtree.  The root key cannot be\n"
	"renamed or moved.\n"
	"The change is committed as Windows commits: a transaction-log entry\n"
	"in HIVE.LOG1 or HIVE.LOG2 first, then the hive file itself.\n"
	"\nOptions:\n"
	"  -p, --parents   create NEWKEY's missing parents\n"
	"  -h, --help      show this help\n"
	"\nExit status: 0 done, 1 the hive could not be opened, changed or\n"
	"committed, 2 usage error.\n",
	.options = mv_options,
	.opts_size = sizeof(struct mv_opts),
	.operands = { 3, 3, "HIVE, KEY or NEWKEY" },
	.open = CMD_OPEN_READ_WRITE,
	.prepare = mv_prepare,
	.run = run_mv,
};
