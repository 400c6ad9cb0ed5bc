/*
 * create.c — `hivectl create`: write a new, empty hive file.
 */
#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <talloc.h>

#include "hivectl.h"

/* "1.3", "3", ... to the minor version; 0 when not one we create. */
static uint32_t parse_version(const char *s)
{
	if (strncmp(s, "1.", 2) == 0)
		s += 2;
	if (!strcmp(s, "3"))
		return 3;
	if (!strcmp(s, "4"))
		return 4;
	if (!strcmp(s, "5"))
		return 5;
	return 0;
}

/*
 * Remove the transaction logs of the hive that `path` replaced (BASE.LOG,
 * BASE.LOG1, BASE.LOG2 in any case, as Windows and the engine find them):
 * their entries belong to the old hive, and left beside the new one they
 * could be mistaken for its own after a crash.  Returns the number of
 * failures (each reported).
 */
static int remove_old_logs(void *mem, const char *path)
{
	char *dir_copy = talloc_strdup(mem, path);
	char *base_copy = talloc_strdup(mem, path);
	const char *dir, *base;
	struct dirent *de;
	DIR *d;
	int fails = 0;

	if (!dir_copy || !base_copy)
		return 1;
	dir = dirname(dir_copy);
	base = basename(base_copy);
	d = opendir(dir);
	if (!d) {
		report("%s: cannot look for old transaction logs: %s", path,
		       strerror(errno));
		return 1;
	}
	while ((de = readdir(d)) != NULL) {
		size_t n = strlen(base);

		if (strncasecmp(de->d_name, base, n) != 0 ||
		    (strcasecmp(de->d_name + n, ".LOG") != 0 &&
		     strcasecmp(de->d_name + n, ".LOG1") != 0 &&
		     strcasecmp(de->d_name + n, ".LOG2") != 0))
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0) < 0) {
			report("%s/%s: cannot remove the old hive's log: %s",
			       dir, de->d_name, strerror(errno));
			fails++;
		}
	}
	closedir(d);
	return fails;
}

struct create_opts {
	const char *root;
	uint32_t minor;
	bool force;
};

static const struct create_opts create_defaults = {
	.root = "ROOT",
	.minor = 5,
};

static int create_version(struct cmd_args *a, const char *arg)
{
	struct create_opts *o = a->opts;

	o->minor = parse_version(arg);
	if (!o->minor)
		return usage_error(a->cmd, "version '%s': use 1.3, 1.4 or 1.5",
				   arg);
	return 0;
}

static int run_create(struct cmd_args *a)
{
	struct create_opts *o = a->opts;
	const char *path = a->hive_path, *root = o->root;
	struct hive *h;
	uint16_t *name;
	size_t len;
	int err;

	if (hive_utf8_to_utf16(a->mem, root, strlen(root), &name, &len))
		return usage_error(a->cmd, "the root name is not valid UTF-8");
	if (len == 0 || len > HIVE_MAX_KEY_NAME ||
	    memchr(root, '\\', strlen(root)))
		return usage_error(a->cmd, "the root name must have 1 to %u "
				   "UTF-16 units and no backslash",
				   HIVE_MAX_KEY_NAME);
	err = hive_create(a->mem, o->minor, name, len, &h);
	if (err) {
		report("%s: %s", path, err_text(a->mem, err));
		return EXIT_HIVE;
	}
	/* Without --force the name must be free up to the last instant: a
	 * file (or link, or FIFO) appearing meanwhile is never replaced. */
	err = o->force ? hive_save_as(h, path) : hive_save_new(h, path);
	if (err == HIVE_E_EXISTS) {
		report("%s: file exists (use --force to replace it)", path);
		return EXIT_HIVE;
	}
	if (err) {
		report("%s: %s", path, err_text(a->mem, err));
		return EXIT_HIVE;
	}
	if (o->force && remove_old_logs(a->mem, path))
		return EXIT_HIVE;
	return finish_stdout(0);
}

static const struct cmd_opt create_options[] = {
	CMD_STRING('r', "root", struct create_opts, root),
	{ 'v', "version", true, 0, create_version },
	CMD_FLAG('f', "force", struct create_opts, force),
	{ 0 },
};

const struct cmd cmd_create = {
	.name = "create",
	.synopsis = "[--root NAME] [--version 1.3|1.4|1.5] [--force] HIVE",
	.summary = "write a new hive with only a root key",
	.help =
	"Writes a new hive file HIVE holding one key, the root, which has a\n"
	"default security descriptor (owner Administrators; full control for\n"
	"SYSTEM and Administrators, read for Users; inherited by subkeys).\n"
	"An existing file is not replaced unless --force is given; then it\n"
	"is replaced atomically (a new file renamed over it), and the old\n"
	"hive's transaction logs (HIVE.LOG, .LOG1, .LOG2) are removed: they\n"
	"do not belong to the new hive.\n"
	"\nThe version decides the on-disk forms the writer uses: 1.5 (what\n"
	"current Windows writes; lh subkey lists and big-data records),\n"
	"1.4 (lf lists, big data) or 1.3 (lf lists, no big data; the oldest\n"
	"form, still used by BCD stores).\n"
	"\nOptions:\n"
	"  -r, --root NAME      name of the root key (default ROOT)\n"
	"  -v, --version V      1.3, 1.4 or 1.5 (default 1.5)\n"
	"  -f, --force          replace HIVE (and its logs) if it exists\n"
	"  -h, --help           show this help\n"
	"\nExit status: 0 written, 1 the file could not be written or exists,\n"
	"2 usage error.\n",
	.options = create_options,
	.opts_size = sizeof(struct create_opts),
	.opts_default = &create_defaults,
	.operands = { 1, 1, "HIVE" },
	.open = CMD_OPEN_NONE,
	.run = run_create,
};
