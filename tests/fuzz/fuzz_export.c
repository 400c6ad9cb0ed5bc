/*
 * fuzz_export.c — libFuzzer target over `hivectl export` itself: the input
 * is written to a file, exported as .reg (both encodings) through the same
 * command code hivectl runs, and the output thrown away.  Together with
 * fuzz_read this covers open, the full walk and the export formatting.
 */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "hivectl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[64];
/* getopt wants writable strings. */
static char a_export[] = "export", a_enc[] = "--encoding", a_utf8[] = "utf-8",
	    a_prefix[] = "--prefix", a_empty[] = "";

static void remove_input(void)
{
	unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *utf16[] = { a_export, path, NULL };
	char *utf8[] = { a_export, a_enc, a_utf8, a_prefix, a_empty, path, NULL };
	FILE *f;

	if (!path[0]) {
		snprintf(path, sizeof(path), "/tmp/hivefs-fuzz-export-%d", (int)getpid());
		/* One file per fuzzing process, gone when it exits (a crash
		 * keeps it, beside the input libFuzzer saves). */
		if (atexit(remove_input))
			abort();
		/* The .reg text goes nowhere (libFuzzer reports on stderr). */
		if (!freopen("/dev/null", "w", stdout))
			abort();
	}
	f = fopen(path, "wb");
	if (!f)
		abort();
	fwrite(data, 1, size, f);
	fclose(f);
	optind = 0; /* restart getopt for each run */
	run_command(&cmd_export, 2, utf16);
	optind = 0;
	run_command(&cmd_export, 6, utf8);
	return 0;
}
