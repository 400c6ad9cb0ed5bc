/*
 * mkdir.c — `hivectl mkdir`: create a key.
 */
#include <stdio.h>
#include <string.h>

#include <talloc.h>

#include "hivectl.h"

static int run_mkdir(const struct cmd *cmd, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "parents", no_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	void *tmp = talloc_new(NULL);
	const char *hive_path, *key_arg;
	char *parent_arg, *leaf;
	bool parents = false;
	struct hive *h;
	hive_key_t parent, key;
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
	if (!positional_ok(cmd, argc - optind, 2, 2, "HIVE or KEY")) {
		rc = EXIT_USAGE;
		goto done;
	}
	hive_path = argv[optind];
	key_arg = argv[optind + 1];
	if (!split_key_arg(tmp, key_arg, &parent_arg, &leaf)) {
		rc = usage_error(cmd, "KEY names the root key, which exists");
		goto done;
	}
	if (hive_utf8_to_utf16(tmp, leaf, strlen(leaf), &name, &len)) {
		rc = usage_error(cmd, "KEY is not valid UTF-8");
		goto done;
	}
	if (open_hive_rw(tmp, hive_path, &h) ||
	    resolve_key_create(h, hive_path, parent_arg, parents, &parent,
			       NULL)) {
		rc = EXIT_HIVE;
		goto done;
	}
	err = hive_key_create(h, parent, name, len, &key);
	if (err == HIVE_E_EXISTS && parents)
		err = HIVE_OK;
	if (err == HIVE_E_EXISTS) {
		report("%s: %s: key exists", hive_path, key_arg);
		rc = EXIT_HIVE;
		goto done;
	}
	if (err) {
		report("%s: %s: %s", hive_path, key_arg, err_text(tmp, err));
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
	.run = run_mkdir,
};
