/*
 * fsdriver.c — fs-bench: file-system workloads for tests/bench/create and
 * tests/bench/fsync, the same on a hivefs mount and on tmpfs or ext4.
 * One process does all the work (no shell per file), so the figures are
 * the file system's.
 *
 *   fs-bench create DIR KEYS PER-KEY SIZE
 *       KEYS = 0: PER-KEY files DIR/vNNNNNN.  Otherwise KEYS directories
 *       DIR/kNNNN (mkdir) with PER-KEY files each.  Each file: open
 *       (O_CREAT|O_TRUNC|O_WRONLY), one write of SIZE bytes of text ending
 *       in "\n" (a REG_SZ through hivefs), close.
 *   fs-bench overwrite DIR KEYS PER-KEY COUNT SIZE
 *       COUNT of the files `create` made (the same layout), chosen
 *       pseudo-randomly, rewritten the same way with new text.
 *   fs-bench fsync DIR COUNT SIZE
 *       COUNT new files DIR/fNNNNNN: open, write, fsync, close.
 *
 * Prints one line: "WORKLOAD FILES SECONDS" (wall clock, monotonic).
 * Exit 1 (and the failing call on stderr) on any error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, const char *path)
{
	fprintf(stderr, "fs-bench: %s %s: %s\n", what, path, strerror(errno));
	exit(1);
}

static unsigned long num(const char *s)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || end == s) {
		fprintf(stderr, "fs-bench: not a number: %s\n", s);
		exit(2);
	}
	return v;
}

static char *buf;

/* SIZE bytes of text, the last one "\n", distinct for each (i, gen). */
static void fill(size_t size, unsigned long i, unsigned gen)
{
	int n = snprintf(buf, size, "value %lu gen %u ", i, gen);

	for (size_t k = n > 0 ? (size_t)n : 0; k + 1 < size; k++)
		buf[k] = (char)('a' + (k * 7 + i + gen) % 26);
	buf[size - 1] = '\n';
}

static void path_of(char *out, size_t n, const char *dir, unsigned long keys,
		    unsigned long per, unsigned long i)
{
	if (keys == 0)
		snprintf(out, n, "%s/v%06lu", dir, i);
	else
		snprintf(out, n, "%s/k%04lu/v%06lu", dir, i / per, i % per);
}

static void write_file(const char *p, size_t size, int do_fsync)
{
	int fd = open(p, O_CREAT | O_TRUNC | O_WRONLY, 0644);

	if (fd < 0)
		die("open", p);
	if (write(fd, buf, size) != (ssize_t)size)
		die("write", p);
	if (do_fsync && fsync(fd) != 0)
		die("fsync", p);
	if (close(fd) != 0)
		die("close", p);
}

int main(int argc, char **argv)
{
	char p[4096];
	double t0;

	if (argc < 2)
		goto usage;
	if (strcmp(argv[1], "create") == 0 && argc == 6) {
		const char *dir = argv[2];
		unsigned long keys = num(argv[3]), per = num(argv[4]);
		size_t size = num(argv[5]);
		unsigned long total = keys ? keys * per : per;

		if (size < 2 || !(buf = malloc(size)))
			goto usage;
		t0 = now();
		for (unsigned long k = 0; k < keys; k++) {
			snprintf(p, sizeof(p), "%s/k%04lu", dir, k);
			if (mkdir(p, 0755) != 0)
				die("mkdir", p);
		}
		for (unsigned long i = 0; i < total; i++) {
			path_of(p, sizeof(p), dir, keys, per, i);
			fill(size, i, 0);
			write_file(p, size, 0);
		}
		printf("create %lu %.3f\n", total, now() - t0);
		return 0;
	}
	if (strcmp(argv[1], "overwrite") == 0 && argc == 7) {
		const char *dir = argv[2];
		unsigned long keys = num(argv[3]), per = num(argv[4]);
		unsigned long count = num(argv[5]);
		size_t size = num(argv[6]);
		unsigned long total = keys ? keys * per : per;
		uint64_t x = 88172645463325252ull;

		if (size < 2 || total == 0 || !(buf = malloc(size)))
			goto usage;
		t0 = now();
		for (unsigned long n = 0; n < count; n++) {
			unsigned long i;

			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			i = (unsigned long)(x % total);
			path_of(p, sizeof(p), dir, keys, per, i);
			fill(size, i, 1 + (unsigned)n);
			write_file(p, size, 0);
		}
		printf("overwrite %lu %.3f\n", count, now() - t0);
		return 0;
	}
	if (strcmp(argv[1], "fsync") == 0 && argc == 5) {
		const char *dir = argv[2];
		unsigned long count = num(argv[3]);
		size_t size = num(argv[4]);

		if (size < 2 || !(buf = malloc(size)))
			goto usage;
		t0 = now();
		for (unsigned long i = 0; i < count; i++) {
			snprintf(p, sizeof(p), "%s/f%06lu", dir, i);
			fill(size, i, 0);
			write_file(p, size, 1);
		}
		printf("fsync %lu %.3f\n", count, now() - t0);
		return 0;
	}
usage:
	fprintf(stderr,
		"usage: fs-bench create DIR KEYS PER-KEY SIZE\n"
		"       fs-bench overwrite DIR KEYS PER-KEY COUNT SIZE\n"
		"       fs-bench fsync DIR COUNT SIZE\n");
	return 2;
}
