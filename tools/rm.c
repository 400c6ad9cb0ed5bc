/*
 * rm.c — `hivectl rm`: delete a value, a key, or a key with its subtree.
 */
#include <stdio.h>
#include <string.h>

#include <talloc.h>

#include "hivectl.h"

struct rm_frame {
	hive_key_t key;
	hive_key_t *kids; /* not yet deleted: kids[0 .. n-1] */
	size_t n;
};

/*
 * Delete `top` and everything below it, children before parents, with an
 * explicit stack bounded by the depth limit (a damaged hive could hold a
 * cycle; it is refused before anything on it is deleted, since a cycle has
 * no key without subkeys to start from).  Subkeys are taken from the end
 * of each list, which is the cheapest end to remove from.
 */
static int delete_tree(struct hive *h, hive_key_t top, unsigned *deleted)
{
	void *tmp = talloc_new(NULL);
	struct rm_frame *st = talloc_array(tmp, struct rm_frame,
					   HIVE_MAX_DEPTH + 2);
	size_t depth = 0;
	int err = st ? HIVE_OK : HIVE_E_NOMEM;

	if (!err) {
		st[0].key = top;
		err = hive_key_subkeys(tmp, h, top, &st[0].kids, &st[0].n);
	}
	while (!err) {
		struct rm_frame *f = &st[depth];

		if (f->n > 0) {
			hive_key_t child = f->kids[--f->n];

			if (depth + 1 > HIVE_MAX_DEPTH) {
				err = HIVE_E_TOO_BIG;
				report("subtree deeper than %u keys (or a "
				       "key cycle): nothing deleted",
				       HIVE_MAX_DEPTH);
				break;
			}
			depth++;
			st[depth].key = child;
			err = hive_key_subkeys(tmp, h, child, &st[depth].kids,
					       &st[depth].n);
			continue;
		}
		err = hive_key_delete(h, f->key);
		if (err)
			break;
		(*deleted)++;
		talloc_free(f->kids);
		if (depth == 0)
			break;
		depth--;
	}
	talloc_free(tmp);
	return err;
}

static int run_rm(const struct cmd *cmd, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "recursive", no_argument, NULL, 'r' },
		{ "force", no_argument, NULL, 'f' },
		{ "literal", no_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	void *tmp = talloc_new(NULL);
	const char *hive_path, *key_arg, *value_arg = NULL;
	bool recursive = false, force = false, literal = false;
	struct hive *h;
	struct keypath path;
	hive_key_t key;
	unsigned deleted = 0;
	int c, err, rc = 0;

	while ((c = cmd_getopt(cmd, argc, argv, "rRfLh", longopts)) != -1) {
		switch (c) {
		case 'r':
		case 'R':
			recursive = true;
			break;
		case 'f':
			force = true;
			break;
		case 'L':
			literal = true;
			break;
		case OPT_HELP:
			rc = finish_stdout(0);
			goto done;
		default:
			rc = EXIT_USAGE;
			goto done;
		}
	}
	if (!positional_ok(cmd, argc - optind, 2, 3, "HIVE or KEY")) {
		rc = EXIT_USAGE;
		goto done;
	}
	hive_path = argv[optind];
	key_arg = argv[optind + 1];
	if (argc - optind == 3)
		value_arg = argv[optind + 2];
	if (value_arg && recursive) {
		rc = usage_error(cmd, "-r deletes keys, not values");
		goto done;
	}
	if (open_hive_rw(tmp, hive_path, &h)) {
		rc = EXIT_HIVE;
		goto done;
	}
	keypath_init(&path, tmp);
	/* With -f a missing key is no error: look quietly first. */
	if (force && hive_key_lookup_path(h, hive_root(h), key_arg, &key) ==
			     HIVE_E_NOT_FOUND)
		goto done;
	if (resolve_key(h, hive_path, key_arg, &path, &key)) {
		rc = EXIT_HIVE;
		goto done;
	}

	if (value_arg) {
		uint16_t *name;
		size_t len;

		if (value_name_arg(tmp, value_arg, literal, &name, &len)) {
			rc = usage_error(cmd, "VALUE is not valid UTF-8");
			goto done;
		}
		err = hive_value_delete(h, key, name, len);
		if (err == HIVE_E_NOT_FOUND && force)
			goto done;
		if (err == HIVE_E_NOT_FOUND) {
			report("%s: %s: no value '%s'", hive_path,
			       key_display(key_arg),
			       value_display(len, value_arg));
			rc = EXIT_HIVE;
			goto done;
		}
		if (err) {
			report("%s: %s: value '%s': %s", hive_path,
			       key_display(key_arg),
			       value_display(len, value_arg),
			       err_text(tmp, err));
			rc = EXIT_HIVE;
			goto done;
		}
	} else {
		if (key == hive_root(h)) {
			report("%s: the root key cannot be deleted", hive_path);
			rc = EXIT_HIVE;
			goto done;
		}
		err = recursive ? delete_tree(h, key, &deleted) :
				  hive_key_delete(h, key);
		if (err == HIVE_E_NOT_EMPTY) {
			report("%s: %s: key has subkeys (use -r to delete "
			       "them too)", hive_path, key_arg);
			rc = EXIT_HIVE;
			goto done;
		}
		if (err) {
			report("%s: %s: %s", hive_path, key_arg,
			       err_text(tmp, err));
			rc = EXIT_HIVE;
			goto done;
		}
	}
	rc = save_hive(h, hive_path);
	if (!rc)
		rc = finish_stdout(0);
done:
	talloc_free(tmp);
	return rc;
}

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
	.run = run_rm,
};
