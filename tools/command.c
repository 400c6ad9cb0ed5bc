/*
 * command.c — running one entry of hivectl's command table: options,
 * operands, opening the hive and committing, the same for every command,
 * so that each command file holds only its own logic (see struct cmd).
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <talloc.h>

#include "hivectl.h"

int usage_error(const struct cmd *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "hivectl %s: ", cmd->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nUsage: hivectl %s %s\n"
		"Try 'hivectl %s --help' for more information.\n",
		cmd->name, cmd->synopsis, cmd->name);
	return EXIT_USAGE;
}

void print_cmd_help(const struct cmd *cmd)
{
	printf("Usage: hivectl %s %s\n%s\n\n%s", cmd->name, cmd->synopsis,
	       cmd->summary, cmd->help);
}

int finish_stdout(int rc)
{
	/* A full disk or a closed pipe must not pass for a complete export. */
	if (fflush(stdout) != 0 || ferror(stdout)) {
		report("write error on standard output: %s", strerror(errno));
		return EXIT_HIVE;
	}
	return rc;
}

#define OPT_HELP (-2)
#define OPT_BAD (-3)

/*
 * getopt_long() for a command (argv[0] is the command name).  Returns the
 * option, -1 at the end, OPT_HELP after printing --help, or OPT_BAD after
 * printing a usage error.
 */
static int cmd_getopt(const struct cmd *cmd, int argc, char **argv,
		      const char *shortopts, const struct option *longopts)
{
	int c;

	/* Our own messages name the command; getopt's would say "info:". */
	opterr = 0;
	c = getopt_long(argc, argv, shortopts, longopts, NULL);
	switch (c) {
	case 'h':
		print_cmd_help(cmd);
		return OPT_HELP;
	case ':':
		usage_error(cmd, "option '%s' needs an argument",
			    argv[optind - 1]);
		return OPT_BAD;
	case '?':
		/* A long option sets optopt too when it has a stray "=arg". */
		if (optopt && strncmp(argv[optind - 1], "--", 2) != 0)
			usage_error(cmd, "unknown option '-%c'", optopt);
		else
			usage_error(cmd, "bad option '%s'", argv[optind - 1]);
		return OPT_BAD;
	default:
		return c;
	}
}

/*
 * getopt's tables for the command's options and --help.  The leading ':'
 * of the short options tells a missing argument from an unknown option.
 */
static bool getopt_tables(void *mem, const struct cmd_opt *opts,
			  char **shortopts, struct option **longopts)
{
	size_t n = 0, nlong = 0;
	char *s;

	while (opts && opts[n].letter)
		n++;
	*shortopts = s = talloc_array(mem, char, 2 * n + 3);
	*longopts = talloc_zero_array(mem, struct option, n + 2);
	if (!s || !*longopts)
		return false;
	*s++ = ':';
	for (size_t i = 0; i < n; i++) {
		*s++ = (char)opts[i].letter;
		if (opts[i].has_arg)
			*s++ = ':';
		if (opts[i].name)
			(*longopts)[nlong++] = (struct option){
				opts[i].name,
				opts[i].has_arg ? required_argument :
						  no_argument,
				NULL, opts[i].letter };
	}
	*s++ = 'h';
	*s = '\0';
	(*longopts)[nlong] = (struct option){ "help", no_argument, NULL, 'h' };
	return true;
}

/* Stores one option as its entry says; 0 or EXIT_USAGE (printed). */
static int take_option(struct cmd_args *a, const struct cmd_opt *opt,
		       const char *arg)
{
	char *field = (char *)a->opts + opt->field;

	if (opt->parse)
		return opt->parse(a, arg);
	if (opt->has_arg)
		*(const char **)field = arg;
	else
		*(bool *)field = true;
	return 0;
}

/*
 * Parses the options into args->opts.  Returns GO_ON, or the exit status
 * when the command ends here (--help printed, or a usage error).
 */
#define GO_ON (-1)
static int parse_options(struct cmd_args *a, int argc, char **argv)
{
	const struct cmd *cmd = a->cmd;
	struct option *longopts;
	char *shortopts;
	int c, rc;

	if (!getopt_tables(a->mem, cmd->options, &shortopts, &longopts)) {
		report("out of memory");
		return EXIT_HIVE;
	}
	while ((c = cmd_getopt(cmd, argc, argv, shortopts, longopts)) != -1) {
		const struct cmd_opt *opt = cmd->options;

		if (c == OPT_HELP)
			return finish_stdout(0);
		while (opt && opt->letter && opt->letter != c)
			opt++;
		if (c == OPT_BAD || !opt || !opt->letter)
			return EXIT_USAGE;
		rc = take_option(a, opt, optarg);
		if (rc)
			return rc;
	}
	return GO_ON;
}

/* Whether the operand count fits the entry; if not, the usage error. */
static bool operands_ok(const struct cmd *cmd, int count)
{
	if (count < cmd->operands.min)
		usage_error(cmd, "missing %s", cmd->operands.missing);
	else if (cmd->operands.max >= 0 && count > cmd->operands.max)
		usage_error(cmd, "too many arguments");
	else
		return true;
	return false;
}

/* Prints "hivectl: PATH: error: detail" for a failed open. */
static void report_open_error(void *mem, const char *path, int err)
{
	char *text = err_text(mem, err);

	report("%s: %s", path, text ? text : hive_strerror(err));
	talloc_free(text);
}

/* Opens a->hive_path as a->cmd->open says; 0 or EXIT_HIVE (reported). */
static int open_for(struct cmd_args *a)
{
	const char *why;
	int err;

	switch (a->cmd->open) {
	case CMD_OPEN_NONE:
		return 0;
	case CMD_OPEN_READ_ONLY:
		err = hive_open(a->mem, a->hive_path, a->open_flags, &a->h);
		break;
	case CMD_OPEN_READ_WRITE:
		err = hive_open(a->mem, a->hive_path, 0, &a->h);
		break;
	default:
		return EXIT_HIVE;
	}
	if (err) {
		report_open_error(a->mem, a->hive_path, err);
		return EXIT_HIVE;
	}
	/* Say why up front rather than at the first change. */
	why = a->cmd->open == CMD_OPEN_READ_WRITE ?
		      hive_read_only_reason(a->h) : NULL;
	if (why) {
		report("%s: cannot change this hive: %s", a->hive_path, why);
		talloc_free(a->h);
		a->h = NULL;
		return EXIT_HIVE;
	}
	return 0;
}

/*
 * Commits the changes of a hive to its file (hive_save: transaction log,
 * then the hive); an unchanged hive is left alone.  Prints the error;
 * returns 0 or EXIT_HIVE.
 */
static int commit(struct hive *h, const char *path)
{
	int err;

	if (!hive_is_modified(h))
		return 0;
	err = hive_save(h);
	if (err) {
		char *text = err_text(NULL, err);

		report("%s: committing the change: %s", path,
		       text ? text : hive_strerror(err));
		talloc_free(text);
		return EXIT_HIVE;
	}
	return 0;
}

static int run_entry(struct cmd_args *a, int argc, char **argv)
{
	const struct cmd *cmd = a->cmd;
	int rc;

	if (cmd->opts_size) {
		a->opts = cmd->opts_default ?
			talloc_memdup(a->mem, cmd->opts_default,
				      cmd->opts_size) :
			talloc_zero_size(a->mem, cmd->opts_size);
		if (!a->opts) {
			report("out of memory");
			return EXIT_HIVE;
		}
	}
	a->open_flags = HIVE_OPEN_READ_ONLY;
	rc = parse_options(a, argc, argv);
	if (rc != GO_ON)
		return rc;
	if (!operands_ok(cmd, argc - optind))
		return EXIT_USAGE;
	a->operands = argv + optind;
	a->n_operands = argc - optind;
	a->hive_path = a->operands[0];
	if (cmd->prepare) {
		rc = cmd->prepare(a);
		if (rc)
			return rc;
	}
	rc = open_for(a);
	if (rc)
		return rc;
	rc = cmd->run(a);
	if (rc == CMD_UNCHANGED)
		return 0;
	if (rc || cmd->open != CMD_OPEN_READ_WRITE)
		return rc;
	rc = commit(a->h, a->hive_path);
	if (!rc)
		rc = finish_stdout(0);
	return rc;
}

int run_command(const struct cmd *cmd, int argc, char **argv)
{
	struct cmd_args a = { .cmd = cmd, .mem = talloc_new(NULL) };
	int rc;

	if (!a.mem) {
		report("out of memory");
		return EXIT_HIVE;
	}
	rc = run_entry(&a, argc, argv);
	talloc_free(a.mem);
	return rc;
}
