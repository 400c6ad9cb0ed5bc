/*
 * check.c — `hivectl check`: verify every structural invariant of a hive
 * (hive_check) and list what is wrong.
 */
#include <inttypes.h>
#include <stdio.h>

#include <talloc.h>

#include "hivectl.h"

static void print_finding(void *arg, const char *finding)
{
	(void)arg;
	printf("%s\n", finding);
}

static void print_note(void *arg, const char *text)
{
	(void)arg;
	printf("note: %s\n", text);
}

/*
 * Values whose data is larger than the engine hands out: the format
 * allows them (Windows writes up to 65535 big-data segments, about
 * 1 GiB), but hivectl and hivefs cannot read them, so check says so
 * beside whatever hive_check() made of them.
 */
struct large_walk {
	struct walk_paths wp;
};

static int large_on_key(void *arg, hive_key_t key, unsigned depth)
{
	struct large_walk *lw = arg;
	void *tmp = talloc_new(NULL);
	hive_value_t *vals;
	size_t n;
	int err;

	if (!tmp || !walk_paths_enter(&lw->wp, key, depth, &err) ||
	    hive_key_values(tmp, lw->wp.h, key, &vals, &n) != HIVE_OK)
		n = 0;
	for (size_t i = 0; i < n; i++) {
		struct hive_value_stat st;
		uint16_t *name;
		size_t len;

		if (hive_value_stat(lw->wp.h, vals[i], &st) != HIVE_OK ||
		    st.data_len <= HIVE_MAX_READ_DATA)
			continue;
		printf("note: key '%s': value '%s': %" PRIu32 " bytes of data, "
		       "more than hivectl and hivefs can read (%u bytes; Windows "
		       "allows up to 65535 segments, about 1 GiB): its data is "
		       "not checked, and reading it fails\n",
		       keypath_display(tmp, &lw->wp.path, lw->wp.path.n),
		       hive_value_name(tmp, lw->wp.h, vals[i], &name, &len) ==
				       HIVE_OK
			       ? (len ? display_name(tmp, name, len) : "(default)")
			       : "?",
		       st.data_len, HIVE_MAX_READ_DATA);
	}
	talloc_free(tmp);
	return 0;
}

struct check_opts {
	bool quiet, strict;
};

static int check_no_replay(struct cmd_args *a, const char *arg)
{
	(void)arg;
	a->open_flags |= HIVE_OPEN_NO_REPLAY;
	return 0;
}

static int run_check(struct cmd_args *a)
{
	struct check_opts *o = a->opts;
	struct hive *h = a->h;
	const char *hive_path = a->hive_path;
	const char *note;
	struct hive_info info;
	unsigned findings;

	/* Notes, not findings: a dirty hive is how Windows leaves one. */
	hive_get_info(h, &info);
	note = hive_recovery_note(h);
	if (info.recovered)
		report("%s: note: the hive was dirty; %s: the result, in "
		       "memory, is checked (the file is not changed)",
		       hive_path, note ? note : "its logs were replayed");
	else if (info.dirty)
		report("%s: note: the hive is dirty (sequence numbers %" PRIu32
		       " / %" PRIu32 ")%s%s; it is checked as stored",
		       hive_path, info.seq_primary, info.seq_secondary,
		       note ? ": " : "", note ? note : "");
	findings = o->strict ? hive_check(h, print_finding, NULL)
			     : hive_check_tolerant(h, print_finding,
						   o->quiet ? NULL : print_note,
						   NULL);
	if (!o->quiet) {
		struct large_walk lw;
		const struct hive_walk_ops ops = { .on_key = large_on_key };

		walk_paths_init(&lw.wp, a->mem, h, hive_root(h), NULL);
		hive_walk(h, hive_root(h), &ops, &lw);
	}
	if (!o->quiet) {
		if (findings)
			printf("%s: %u finding%s\n", hive_path, findings,
			       findings == 1 ? "" : "s");
		else
			printf("%s: clean\n", hive_path);
	}
	return finish_stdout(findings ? EXIT_HIVE : 0);
}

static const struct cmd_opt check_options[] = {
	CMD_FLAG('q', "quiet", struct check_opts, quiet),
	{ 'n', "no-replay", false, 0, check_no_replay },
	CMD_FLAG('s', "strict", struct check_opts, strict),
	{ 0 },
};

const struct cmd cmd_check = {
	.name = "check",
	.synopsis = "[-q] [--strict] [--no-replay] HIVE",
	.summary = "verify the structure of a hive; list every problem",
	.help =
	"Checks every structural invariant of HIVE: the base block checksum;\n"
	"hive bins and cells that tile them exactly; every allocated cell\n"
	"referenced exactly once from the tree (no leaks, no sharing); key\n"
	"parents, subkey and value counts and the maximum-length fields;\n"
	"subkey lists sorted as Windows sorts them, with correct lh hashes\n"
	"and a sound ri index; big-data records; the security descriptor\n"
	"list and its reference counts.\n"
	"\nEach finding is printed on its own line, then a summary line\n"
	"(\"HIVE: clean\" or \"HIVE: N findings\").  A dirty hive (pending\n"
	"transaction-log entries) has its logs replayed in memory first, as\n"
	"Windows does when it loads it, and the result is checked; without\n"
	"usable logs (or with --no-replay) it is checked as stored.  Either\n"
	"way a note on stderr says so; being dirty is not a finding.  Nothing\n"
	"is written: the hive is opened read-only.\n"
	"\nWindows itself leaves some harmless leftovers in sound hives (cells\n"
	"of renamed or self-healed keys that nothing references, security\n"
	"descriptors counting more keys than use them); these are printed as\n"
	"\"note:\" lines and are not findings unless --strict is given.  Hives\n"
	"hivefs writes pass --strict.\n"
	"\nA value with more than 268435455 bytes of data (256 MiB) gets a\n"
	"note too: the format allows about 1 GiB, but hivectl and hivefs\n"
	"read at most that much, so its data cannot be read or checked.\n"
	"\nOptions:\n"
	"  -n, --no-replay   check a dirty hive as stored, logs ignored\n"
	"  -s, --strict      count Windows' harmless leftovers as findings\n"
	"  -q, --quiet       no summary line and no notes\n"
	"  -h, --help        show this help\n"
	"\nExit status: 0 clean, 1 findings (or the hive cannot be opened),\n"
	"2 usage error.\n",
	.options = check_options,
	.opts_size = sizeof(struct check_opts),
	.operands = { 1, 1, "HIVE" },
	.open = CMD_OPEN_READ_ONLY,
	.run = run_check,
};
