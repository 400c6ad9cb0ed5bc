/*
 * hivectl.c — main of hivectl, the command-line companion of hivefs: the
 * command table, the overview that --help prints, and dispatch.  Every
 * command goes through hive.h.  Inspecting commands open hives read-only;
 * changing ones open them for writing and commit the change through the
 * hive's transaction logs, as Windows does.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "hivectl.h"

#ifndef HIVEFS_VERSION
#define HIVEFS_VERSION "unknown"
#endif

/*
 * The command table, in the order of --help.  Each entry (struct cmd in
 * hivectl.h) lives at the bottom of its command's file, beside the logic
 * it runs; command.c runs it.
 */
static const struct cmd *const commands[] = {
	&cmd_info, &cmd_ls, &cmd_get, &cmd_export, &cmd_diff, &cmd_dump,
	&cmd_check, &cmd_create, &cmd_set, &cmd_rm, &cmd_mkdir, &cmd_mv,
	&cmd_import, &cmd_recover,
};
#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void print_help(FILE *f)
{
	fputs("Usage: hivectl COMMAND [ARGUMENTS]\n"
	      "       hivectl COMMAND --help\n"
	      "Inspect and edit Windows registry hive files (regf).\n"
	      "\nCommands:\n", f);
	for (size_t i = 0; i < N_COMMANDS; i++) {
		char head[64];

		snprintf(head, sizeof(head), "%s %s", commands[i]->name,
			 commands[i]->synopsis);
		if (strlen(head) > 30)
			fprintf(f, "  %s\n  %-30s %s\n", head, "",
				commands[i]->summary);
		else
			fprintf(f, "  %-30s %s\n", head, commands[i]->summary);
	}
	fprintf(f, "  %-30s %s\n", "version", "print the version");
	fputs("\nKEY is a backslash-separated path below the root key,\n"
	      "matched case-insensitively as Windows does; \"\" is the root.\n"
	      "info, ls, get, export, diff, dump and check open hives\n"
	      "read-only.  set, rm, mkdir, mv and import commit each change\n"
	      "as Windows does:\n"
	      "a transaction-log entry in HIVE.LOG1 or HIVE.LOG2 first, then\n"
	      "the hive file, so that after a crash at any point, log replay\n"
	      "at the next open makes the hive whole.  A dirty hive (pending\n"
	      "log entries) is replayed in memory when it is opened.\n"
	      "\nExit status: 0 success; 1 a hive could not be read (fully),\n"
	      "changed or committed, or check found problems; 2 the command\n"
	      "line is wrong.\n", f);
}

static int print_version(void)
{
	printf("hivectl (hivefs) %s\n", HIVEFS_VERSION);
	return finish_stdout(0);
}

/*
 * `hivectl --complete commands | types | options COMMAND`: the words the
 * bash completion (hivectl.bash-completion) offers, taken from the tables
 * the commands themselves use, so the completion never drifts from them.
 * Options print one a line: "-t --type 1" (short, long or -, takes an
 * argument).
 */
static int complete(int argc, char **argv)
{
	const char *what = argc > 2 ? argv[2] : "";

	if (!strcmp(what, "commands")) {
		for (size_t i = 0; i < N_COMMANDS; i++)
			printf("%s\n", commands[i]->name);
		printf("help\nversion\n");
	} else if (!strcmp(what, "types")) {
		for (uint32_t t = 0; t < 256; t++) {
			const char *name = hive_type_name(t),
				   *short_name = hive_type_short_name(t);

			if (name)
				printf("%s\n", name);
			if (short_name)
				printf("%s\n", short_name);
		}
	} else if (!strcmp(what, "options") && argc > 3) {
		for (size_t i = 0; i < N_COMMANDS; i++) {
			const struct cmd_opt *o = commands[i]->options;

			if (strcmp(argv[3], commands[i]->name))
				continue;
			for (; o && o->letter; o++)
				printf("-%c %s%s %d\n", o->letter,
				       o->name ? "--" : "-",
				       o->name ? o->name : "", o->has_arg);
			printf("-h --help 0\n");
		}
	} else {
		fprintf(stderr, "Usage: hivectl --complete commands | types | "
				"options COMMAND\n");
		return EXIT_USAGE;
	}
	return finish_stdout(0);
}

int main(int argc, char **argv)
{
	const char *name;

	if (argc < 2) {
		print_help(stderr);
		return EXIT_USAGE;
	}
	name = argv[1];
	if (!strcmp(name, "-h") || !strcmp(name, "--help") ||
	    !strcmp(name, "help")) {
		/* "hivectl help CMD" is the same as "hivectl CMD --help". */
		if (argc > 2 && strcmp(name, "help") == 0) {
			for (size_t i = 0; i < N_COMMANDS; i++) {
				if (!strcmp(argv[2], commands[i]->name)) {
					print_cmd_help(commands[i]);
					return finish_stdout(0);
				}
			}
			fprintf(stderr, "hivectl: unknown command '%s'\n",
				argv[2]);
			return EXIT_USAGE;
		}
		print_help(stdout);
		return finish_stdout(0);
	}
	if (!strcmp(name, "--complete"))
		return complete(argc, argv);
	if (!strcmp(name, "-V") || !strcmp(name, "--version") ||
	    !strcmp(name, "version"))
		return print_version();

	for (size_t i = 0; i < N_COMMANDS; i++) {
		if (!strcmp(name, commands[i]->name))
			return run_command(commands[i], argc - 1, argv + 1);
	}
	fprintf(stderr, "hivectl: unknown command '%s'\n"
		"Try 'hivectl --help' for the list of commands.\n", name);
	return EXIT_USAGE;
}
