/*
 * recover.c — `hivectl recover`: replay a dirty hive's transaction logs
 * and write the result, in place or to a new file.
 */
#include <stdio.h>
#include <sys/stat.h>

#include <talloc.h>

#include "hivectl.h"

static int run_recover(const struct cmd *cmd, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	void *tmp = talloc_new(NULL);
	const char *out = NULL, *path, *note;
	bool force = false;
	struct hive *h;
	struct hive_info info;
	struct stat st;
	int c, err, rc = 0;

	while ((c = cmd_getopt(cmd, argc, argv, "o:fh", longopts)) != -1) {
		switch (c) {
		case 'o':
			out = optarg;
			break;
		case 'f':
			force = true;
			break;
		case OPT_HELP:
			rc = finish_stdout(0);
			goto done;
		default:
			rc = EXIT_USAGE;
			goto done;
		}
	}
	if (!positional_ok(cmd, argc - optind, 1, 1, "HIVE")) {
		rc = EXIT_USAGE;
		goto done;
	}
	path = argv[optind];
	/* Said early, before a replay; hive_save_new() below is what makes
	 * sure nothing that took the name meanwhile is replaced. */
	if (out && !force && lstat(out, &st) == 0) {
		report("%s: exists (use --force to replace it)", out);
		rc = EXIT_HIVE;
		goto done;
	}
	/* In place, the engine writes the replayed state while opening. */
	if (out ? open_hive(tmp, path, &h) : open_hive_flags(tmp, path, 0, &h)) {
		rc = EXIT_HIVE;
		goto done;
	}
	hive_get_info(h, &info);
	note = hive_recovery_note(h);
	if (info.dirty) {
		report("%s: %s", path, note ? note : "dirty, and its logs do not apply");
		rc = EXIT_HIVE;
		goto done;
	}
	if (!info.recovered) {
		printf("%s: clean; nothing to recover%s\n", path,
		       out ? " (writing a copy anyway)" : "");
		if (!out)
			goto done;
	} else {
		printf("%s: %s\n", path, note);
	}
	if (out) {
		err = force ? hive_save_as(h, out) : hive_save_new(h, out);
		if (err == HIVE_E_EXISTS) {
			report("%s: exists (use --force to replace it)", out);
			rc = EXIT_HIVE;
			goto done;
		}
		if (err) {
			report("%s: %s", out, err_text(tmp, err));
			rc = EXIT_HIVE;
			goto done;
		}
		printf("wrote %s\n", out);
	} else {
		printf("wrote the recovered hive back to %s\n", path);
	}
	rc = finish_stdout(0);
done:
	talloc_free(tmp);
	return rc;
}

const struct cmd cmd_recover = {
	.name = "recover",
	.synopsis = "[-o OUT [--force]] HIVE",
	.summary = "replay a dirty hive's transaction logs and write the result",
	.help =
	"Replays the transaction logs beside HIVE (HIVE.LOG, HIVE.LOG1,\n"
	"HIVE.LOG2, in any case; old DIRT and new HvLE formats) exactly as far\n"
	"as Windows would trust them, and writes the recovered hive: to OUT\n"
	"(a new, clean file; HIVE and its logs are left untouched), or without\n"
	"-o back into HIVE itself, crash-safely (until the last step the file\n"
	"still says dirty, so an interruption replays the same logs again).\n"
	"A clean hive needs nothing (with -o it is copied).  A dirty hive whose\n"
	"logs do not apply is an error and nothing is written.\n"
	"\nOptions:\n"
	"  -o, --output OUT  write the recovered hive to OUT\n"
	"  -f, --force       replace OUT if it exists\n"
	"  -h, --help        show this help\n",
	.run = run_recover,
};
