/*
 * driver.c — crash-driver: the workload of tests/crash/run.
 *
 *   crash-driver BASE JOURNAL SEED FIRST-SEQ
 *
 * Works in BASE (a directory in a hivefs mount) until it is killed, one
 * change at a time, each made durable before the next starts:
 *
 *   set   open(O_CREAT|O_TRUNC|O_WRONLY), write text + "\n" (sizes: small,
 *         about 1 KB, and one in ten over 16 KiB once stored as UTF-16LE,
 *         so big-data "db" values come and go), fsync, close.  Overwrites
 *         of existing values use another letter case part of the time
 *         (the value keeps its stored spelling).
 *   del   unlink, then fsync of the key's directory (fsyncdir).
 *   mv    rename a value onto another name, in the same key or another
 *         one, replacing it if it exists; fsyncdir of both keys.
 *   key   mkdir of the keys k0..k3 below BASE (at start), fsyncdir BASE;
 *         and of BASE itself if it does not exist, fsyncdir its parent.
 *
 * Names come from a pool of POOL names spread over BASE and its keys, so
 * the hive stays small while values are created, replaced, deleted and
 * moved over and over, across runs.
 *
 * The journal (a file outside the mount) gets, for each change:
 *   B SEQ set PATH LEN CRC      before the change starts
 *   B SEQ del PATH
 *   B SEQ mv FROM TO
 *   B SEQ key PATH              ("." for BASE)
 *   D SEQ                       after its fsync/fsyncdir returned
 * each line written with one write(2) and fsync'd.  PATH is relative to
 * BASE, in the spelling the value was created with (lower case); LEN and
 * CRC are the byte length and CRC-32 (zlib's) of the text without the
 * newline.  After a crash every change with a D line must be in the hive;
 * the one change with a B line and no D line may or may not be.  The text
 * of a value starts with "PATH#SEQ:" so a wrong value is easy to place.
 *
 * Exit: only on an error (the mount went away when hivefs was killed, or
 * something failed): the failing call and errno on stderr, exit 1.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define POOL 240
#define NKEYS 4

static const char *base;
static int journal = -1;
static uint64_t rng;

static uint64_t rnd(void)
{
	uint64_t z = (rng += 0x9E3779B97F4A7C15ull);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static uint32_t range(uint32_t lo, uint32_t hi)
{
	return lo + (uint32_t)(rnd() % ((uint64_t)hi - lo + 1));
}

static uint32_t crc_table[256];

static void crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
		crc_table[i] = c;
	}
}

static uint32_t crc32(const unsigned char *p, size_t n)
{
	uint32_t c = 0xFFFFFFFFu;

	while (n--)
		c = crc_table[(c ^ *p++) & 0xFF] ^ (c >> 8);
	return c ^ 0xFFFFFFFFu;
}

static void die(const char *what, const char *path)
{
	fprintf(stderr, "crash-driver: %s %s: %s\n", what, path ? path : "",
		strerror(errno));
	exit(1);
}

static void jlog(const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n <= 0 || (size_t)n >= sizeof(line))
		abort();
	if (write(journal, line, (size_t)n) != n)
		die("write", "journal");
	if (fsync(journal) != 0)
		die("fsync", "journal");
}

/* Pool entry i: "valNNN" in BASE, or "kK/valNNN". */
static void pool_name(unsigned i, char *out, size_t n)
{
	unsigned where = i % (NKEYS + 2);

	if (where < NKEYS)
		snprintf(out, n, "k%u/val%03u", where, i);
	else
		snprintf(out, n, "val%03u", i);
}

static void full(const char *rel, char *out, size_t n)
{
	if ((size_t)snprintf(out, n, "%s/%s", base, rel) >= n)
		abort();
}

/* The directory part of REL as a full path. */
static void dir_of(const char *rel, char *out, size_t n)
{
	const char *slash = strrchr(rel, '/');

	if (slash)
		snprintf(out, n, "%s/%.*s", base, (int)(slash - rel), rel);
	else
		snprintf(out, n, "%s", base);
}

static void fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY);

	if (fd < 0)
		die("open", dir);
	if (fsync(fd) != 0)
		die("fsyncdir", dir);
	if (close(fd) != 0)
		die("close", dir);
}

static int exists(const char *rel)
{
	char p[512];
	struct stat st;

	full(rel, p, sizeof(p));
	if (stat(p, &st) == 0)
		return 1;
	if (errno != ENOENT)
		die("stat", p);
	return 0;
}

/* The text of a value: "REL#SEQ:" then filler, LEN bytes of UTF-8 about
 * TARGET long, some of it non-ASCII (two, three and four bytes: the last
 * a surrogate pair once stored). */
static size_t make_text(char *buf, size_t target, const char *rel,
			uint64_t seq)
{
	static const char alpha[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 -";
	static const char *wide[] = { "\xc3\xa4", "\xe2\x82\xac", "\xf0\x90\x90\x90" };
	int with_wide = range(0, 3) == 0;
	size_t n = (size_t)sprintf(buf, "%s#%" PRIu64 ":", rel, seq);

	while (n < target) {
		if (with_wide && range(0, 15) == 0) {
			const char *w = wide[range(0, 2)];

			memcpy(buf + n, w, strlen(w));
			n += strlen(w);
		} else {
			buf[n++] = alpha[range(0, 63)];
		}
	}
	return n;
}

static void op_set(const char *rel, const char *spelling, uint64_t seq)
{
	static char buf[64 * 1024];
	char p[512];
	size_t target, len, off = 0;
	uint32_t kind = range(0, 99);
	int fd;

	if (kind < 60)
		target = range(1, 100);
	else if (kind < 90)
		target = range(800, 1300);
	else
		target = range(9000, 40000); /* > 16344 bytes as UTF-16LE */
	len = make_text(buf, target, rel, seq);
	jlog("B %" PRIu64 " set %s %zu %08x\n", seq, rel, len,
	     crc32((unsigned char *)buf, len));
	buf[len] = '\n';
	full(spelling, p, sizeof(p));
	fd = open(p, O_CREAT | O_TRUNC | O_WRONLY, 0644);
	if (fd < 0)
		die("open", p);
	/* In pieces of varying size, as programs write. */
	while (off < len + 1) {
		size_t chunk = range(1, 8192);
		ssize_t w;

		if (chunk > len + 1 - off)
			chunk = len + 1 - off;
		w = write(fd, buf + off, chunk);
		if (w <= 0)
			die("write", p);
		off += (size_t)w;
	}
	if (fsync(fd) != 0)
		die("fsync", p);
	jlog("D %" PRIu64 "\n", seq);
	if (close(fd) != 0)
		die("close", p);
}

static void op_del(const char *rel, uint64_t seq)
{
	char p[512], d[512];

	jlog("B %" PRIu64 " del %s\n", seq, rel);
	full(rel, p, sizeof(p));
	if (unlink(p) != 0)
		die("unlink", p);
	dir_of(rel, d, sizeof(d));
	fsync_dir(d);
	jlog("D %" PRIu64 "\n", seq);
}

static void op_mv(const char *from, const char *to, uint64_t seq)
{
	char p[512], q[512], d[512], e[512];

	jlog("B %" PRIu64 " mv %s %s\n", seq, from, to);
	full(from, p, sizeof(p));
	full(to, q, sizeof(q));
	if (rename(p, q) != 0)
		die("rename", p);
	dir_of(from, d, sizeof(d));
	dir_of(to, e, sizeof(e));
	fsync_dir(d);
	if (strcmp(d, e) != 0)
		fsync_dir(e);
	jlog("D %" PRIu64 "\n", seq);
}

int main(int argc, char **argv)
{
	uint64_t seq;

	if (argc != 5) {
		fprintf(stderr, "usage: crash-driver BASE JOURNAL SEED FIRST-SEQ\n");
		return 2;
	}
	base = argv[1];
	rng = strtoull(argv[3], NULL, 0);
	seq = strtoull(argv[4], NULL, 0);
	crc_init();
	journal = open(argv[2], O_WRONLY | O_APPEND | O_CREAT, 0644);
	if (journal < 0)
		die("open", argv[2]);

	/* BASE itself, the first time (a key below the root of a corpus
	 * hive), journaled as "key .". */
	if (access(base, F_OK) != 0) {
		char parent[512], *slash;

		if (errno != ENOENT)
			die("access", base);
		snprintf(parent, sizeof(parent), "%s", base);
		slash = strrchr(parent, '/');
		if (!slash)
			abort();
		*slash = 0;
		jlog("B %" PRIu64 " key .\n", seq);
		if (mkdir(base, 0755) != 0)
			die("mkdir", base);
		fsync_dir(parent);
		jlog("D %" PRIu64 "\n", seq);
		seq++;
	}

	for (unsigned k = 0; k < NKEYS; k++) {
		char rel[16], p[512];

		snprintf(rel, sizeof(rel), "k%u", k);
		if (exists(rel))
			continue;
		jlog("B %" PRIu64 " key %s\n", seq, rel);
		full(rel, p, sizeof(p));
		if (mkdir(p, 0755) != 0)
			die("mkdir", p);
		fsync_dir(base);
		jlog("D %" PRIu64 "\n", seq);
		seq++;
	}

	for (;; seq++) {
		char rel[64], other[64], upper[64];
		unsigned i = range(0, POOL - 1);
		uint32_t what = range(0, 99);

		pool_name(i, rel, sizeof(rel));
		if (!exists(rel)) {
			op_set(rel, rel, seq);
			continue;
		}
		if (what < 55) {
			/* Overwrite; a third of the time as "VALnnn". */
			snprintf(upper, sizeof(upper), "%s", rel);
			if (range(0, 2) == 0) {
				char *v = strstr(upper, "val");

				memcpy(v, "VAL", 3);
			}
			op_set(rel, upper, seq);
		} else if (what < 80) {
			op_del(rel, seq);
		} else {
			unsigned j = range(0, POOL - 1);

			if (j == i)
				j = (j + 1) % POOL;
			pool_name(j, other, sizeof(other));
			op_mv(rel, other, seq);
		}
	}
}
