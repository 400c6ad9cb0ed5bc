/*
 * mv.c — `hivectl mv`: rename a key, or move it with its subtree.
 */
#include <stdio.h>
#include <string.h>

#include <talloc.h>

#include "hivectl.h"

static int run_mv(const struct cmd *cmd, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "parents", no_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	void *tmp = talloc_new(NULL);
	const char *hive_path, *key_arg, *new_arg;
	char *parent_arg, *leaf;
	bool parents = false;
	struct hive *h;
	struct keypath path;
	struct hive_key_stat st;
	hive_key_t key, new_parent, moved;
	uint16_t *name;
	size_t len;
	int c, err, rc = 0;

	while ((c = cmd_getopt(cmd, argc, argv, "ph", longopts)) != -1) {
		switch (c) {
		case 'p':
			parents = true;
			break;
		case OPT_HELP:
			rc = finish_stdout(0);
			goto done;
		default:
			rc = EXIT_USAGE;
			goto done;
		}
	}
	if (!positional_ok(cmd, argc - optind, 3, 3, "HIVE, KEY or NEWKEY")) {
		rc = EXIT_USAGE;
		goto done;
	}
	hive_path = argv[optind];
	key_arg = argv[optind + 1];
	new_arg = argv[optind + 2];
	if (!split_key_arg(tmp, new_arg, &parent_arg, &leaf)) {
		rc = usage_error(cmd, "NEWKEY cannot be the root key");
		goto done;
	}
	if (hive_utf8_to_utf16(tmp, leaf, strlen(leaf), &name, &len)) {
		rc = usage_error(cmd, "NEWKEY is not valid UTF-8");
		goto done;
	}
	keypath_init(&path, tmp);
	if (open_hive_rw(tmp, hive_path, &h) ||
	    resolve_key(h, hive_path, key_arg, &path, &key)) {
		rc = EXIT_HIVE;
		goto done;
	}
	if (key == hive_root(h)) {
		report("%s: the root key cannot be renamed or moved",
		       hive_path);
		rc = EXIT_HIVE;
		goto done;
	}
	err = hive_key_stat(h, key, &st);
	if (err) {
		report("%s: %s: %s", hive_path, key_arg, err_text(tmp, err));
		rc = EXIT_HIVE;
		goto done;
	}
	if (resolve_key_create(h, hive_path, parent_arg, parents, &new_parent,
			       NULL)) {
		rc = EXIT_HIVE;
		goto done;
	}
	/* Same parent: a rename in place (NtRenameKey); else a move. */
	err = hive_key_rename(h, key, new_parent == st.parent ? HIVE_NO_CELL :
				      new_parent, name, len, &moved);
	if (err == HIVE_E_EXISTS) {
		report("%s: %s: a key of that name exists", hive_path, new_arg);
		rc = EXIT_HIVE;
		goto done;
	}
	if (err) {
		report("%s: %s -> %s: %s", hive_path, key_arg, new_arg,
		       err_text(tmp, err));
		rc = EXIT_HIVE;
		goto done;
	}
	rc = save_hive(h, hive_path);
	if (!rc)
		rc = finish_stdout(0);
done:
	talloc_free(tmp);
	return rc;
}

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
	.run = run_mv,
};
