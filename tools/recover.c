/*
 * recover.c — `hivectl recover`: replay a dirty hive's transaction logs
 * and write the result, in place or to a new file.
 */
#include <stdio.h>
#include <sys/stat.h>

#include <talloc.h>

#include "hivectl.h"

struct recover_opts {
	const char *out;
	bool force;
};

static int recover_prepare(struct cmd_args *a)
{
	struct recover_opts *o = a->opts;
	struct stat st;

	/* Said early, before a replay; hive_save_new() below is what makes
	 * sure nothing that took the name meanwhile is replaced. */
	if (o->out && !o->force && lstat(o->out, &st) == 0) {
		report("%s: exists (use --force to replace it)", o->out);
		return EXIT_HIVE;
	}
	/* In place, the engine writes the replayed state while opening. */
	if (!o->out)
		a->open_flags = 0;
	return 0;
}

static int run_recover(struct cmd_args *a)
{
	struct recover_opts *o = a->opts;
	const char *path = a->hive_path, *out = o->out, *note;
	struct hive_info info;
	int err;

	hive_get_info(a->h, &info);
	note = hive_recovery_note(a->h);
	if (info.dirty) {
		report("%s: %s", path,
		       note ? note : "dirty, and its logs do not apply");
		return EXIT_HIVE;
	}
	if (!info.recovered) {
		printf("%s: clean; nothing to recover%s\n", path,
		       out ? " (writing a copy anyway)" : "");
		if (!out)
			return 0;
	} else {
		printf("%s: %s\n", path, note);
	}
	if (out) {
		err = o->force ? hive_save_as(a->h, out) :
				 hive_save_new(a->h, out);
		if (err == HIVE_E_EXISTS) {
			report("%s: exists (use --force to replace it)", out);
			return EXIT_HIVE;
		}
		if (err) {
			report("%s: %s", out, err_text(a->mem, err));
			return EXIT_HIVE;
		}
		printf("wrote %s\n", out);
	} else {
		printf("wrote the recovered hive back to %s\n", path);
	}
	return finish_stdout(0);
}

static const struct cmd_opt recover_options[] = {
	CMD_STRING('o', "output", struct recover_opts, out),
	CMD_FLAG('f', "force", struct recover_opts, force),
	{ 0 },
};

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
	.options = recover_options,
	.opts_size = sizeof(struct recover_opts),
	.operands = { 1, 1, "HIVE" },
	/* Read-only with -o; in place recover_prepare() opens for writing. */
	.open = CMD_OPEN_READ_ONLY,
	.prepare = recover_prepare,
	.run = run_recover,
};
