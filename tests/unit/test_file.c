/*
 * Files beside a hive are hostile: symbolic links (to a file, dangling),
 * FIFOs, directories, devices, hard links and other users' files named as
 * the hive or as HIVE.LOG1/.LOG2, met at open, at a commit and at replay;
 * a hive deleted or replaced while open; faults injected into the open and
 * the reads of replay, and into the writes, flushes and renames of saves.  Each must end at once with the
 * reason, write nothing through the planted name, and leave every file as
 * it was.  (The refusals need root for devices and other owners; without
 * it those cases are skipped.)
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common.h"

#define STRANGER 65534u /* nobody */

/* ---- set-up ---- */

static void name16(uint16_t *out, size_t *len, const char *s)
{
	ascii16(out, s, len);
}

static void add_key(struct hive *h, const char *name)
{
	uint16_t n[32];
	size_t len;
	hive_key_t k;

	name16(n, &len, name);
	assert_int_equal(hive_key_create(h, hive_root(h), n, len, &k), HIVE_OK);
}

static bool has_key(struct hive *h, const char *name)
{
	uint16_t n[32];
	size_t len;
	hive_key_t k;

	name16(n, &len, name);
	return hive_key_lookup(h, hive_root(h), n, len, &k) == HIVE_OK;
}

/* A clean hive DIR/hive with keys A and B, committed twice so that both
 * hive.LOG1 and hive.LOG2 exist beside it. */
static char *make_hive(void *mem, const char *dir)
{
	char *path = talloc_asprintf(mem, "%s/hive", dir);
	struct hive *h;
	uint16_t n[8];
	size_t len;

	name16(n, &len, "ROOT");
	assert_int_equal(hive_create(mem, 5, n, len, &h), HIVE_OK);
	assert_int_equal(hive_save_as(h, path), HIVE_OK);
	talloc_free(h);
	assert_int_equal(hive_open(mem, path, 0, &h), HIVE_OK);
	add_key(h, "A");
	assert_int_equal(hive_commit(h), HIVE_OK);
	add_key(h, "B");
	assert_int_equal(hive_commit(h), HIVE_OK);
	talloc_free(h);
	return path;
}

static uint8_t *slurp(void *mem, const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	rewind(f);
	buf = talloc_array(mem, uint8_t, (size_t)n + 1);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

/* The file at path holds exactly `text`. */
static void holds(void *mem, const char *path, const char *text)
{
	size_t len;
	uint8_t *got = slurp(mem, path, &len);

	assert_int_equal(len, strlen(text));
	assert_memory_equal(got, text, len);
	talloc_free(got);
}

/* Same bytes as a copy taken before. */
static void unchanged(void *mem, const char *path, const uint8_t *before,
		      size_t before_len)
{
	size_t len;
	uint8_t *now = slurp(mem, path, &len);

	assert_int_equal(len, before_len);
	assert_memory_equal(now, before, len);
	talloc_free(now);
}

static unsigned entries_in(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	unsigned n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static void detail_says(const char *text, const char *phrase)
{
	if (!text || !strstr(text, phrase))
		fail_msg("expected \"%s\" in: %s", phrase, text ? text : "(none)");
}

/* A FIFO must never make anything wait: a hang ends the test. */
static void bounded(void)
{
	alarm(20);
}

/* ---- what a user can leave at a name ---- */

enum kind { SYMLINK, DANGLING, FIFO, DIRECTORY, DEVICE, HARDLINK, FOREIGN,
	    KINDS };

static const char *const kind_names[KINDS] = {
	"symlink", "dangling symlink", "FIFO", "directory", "device",
	"hard link", "foreign owner",
};

static const char *why(enum kind k)
{
	switch (k) {
	case SYMLINK:
	case DANGLING:
		return "is a symbolic link";
	case FIFO:
		return "is not a regular file (a FIFO)";
	case DIRECTORY:
		return "is not a regular file (a directory)";
	case DEVICE:
		return "is not a regular file (a character device)";
	case HARDLINK:
		return "has 2 hard links";
	default:
		return "is owned by uid 65534, not by the hive's owner";
	}
}

static bool root(void)
{
	return geteuid() == 0;
}

/* Leave `kind` at path: links lead to `target`; a foreign file is a copy
 * of `target` owned by someone else.  False when it needs root. */
static bool plant(enum kind k, const char *path, const char *target,
		  const char *nowhere)
{
	char cmd[512];

	unlink(path);
	switch (k) {
	case SYMLINK:
		assert_int_equal(symlink(target, path), 0);
		return true;
	case DANGLING:
		assert_int_equal(symlink(nowhere, path), 0);
		return true;
	case FIFO:
		assert_int_equal(mkfifo(path, 0644), 0);
		return true;
	case DIRECTORY:
		assert_int_equal(mkdir(path, 0755), 0);
		return true;
	case DEVICE:
		if (!root())
			return false;
		assert_int_equal(mknod(path, S_IFCHR | 0666, makedev(1, 3)), 0);
		return true;
	case HARDLINK:
		assert_int_equal(link(target, path), 0);
		return true;
	default:
		if (!root())
			return false;
		snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", target, path);
		assert_int_equal(system(cmd), 0);
		assert_int_equal(chown(path, STRANGER, STRANGER), 0);
		return true;
	}
}

/* ---- fault injection ---- */

struct inject {
	const char *open_suffix; /* fail opens of names ending so ... */
	int open_err;            /* ... with this errno */
	int create_err;          /* fail exclusive creates with this errno */
	uint64_t read_ino;       /* fail preads of this file ... */
	int read_err;
	uint64_t write_ino;      /* fail pwrites of this file at write_from on */
	int64_t write_from;
	int write_err;           /* (or of any file, write_ino 0) */
	int fsync_err;           /* fail every fsync */
	bool write_any;
	int rename_err;          /* fail every rename */
};

static uint64_t ino_of_fd(int fd)
{
	struct stat st;

	assert_int_equal(fstat(fd, &st), 0);
	return (uint64_t)st.st_ino;
}

static uint64_t ino_of(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return (uint64_t)st.st_ino;
}

static int inject_open(void *ctx, const char *path, int flags, unsigned mode)
{
	struct inject *f = ctx;
	size_t n = strlen(path);
	int fd;

	if (f->open_suffix && n >= strlen(f->open_suffix) &&
	    strcmp(path + n - strlen(f->open_suffix), f->open_suffix) == 0)
		return -f->open_err;
	if (f->create_err && (flags & O_CREAT) && (flags & O_EXCL))
		return -f->create_err;
	fd = open(path, flags, (mode_t)mode);
	return fd < 0 ? -errno : fd;
}

static long inject_pread(void *ctx, int fd, void *buf, size_t len, int64_t off)
{
	struct inject *f = ctx;
	ssize_t n;

	if (f->read_ino && ino_of_fd(fd) == f->read_ino)
		return -f->read_err;
	n = pread(fd, buf, len, (off_t)off);
	return n < 0 ? -errno : (long)n;
}

static long inject_pwrite(void *ctx, int fd, const void *buf, size_t len,
			  int64_t off)
{
	struct inject *f = ctx;
	ssize_t n;

	if (f->write_err && off >= f->write_from &&
	    (f->write_any || ino_of_fd(fd) == f->write_ino))
		return -f->write_err;
	n = pwrite(fd, buf, len, (off_t)off);
	return n < 0 ? -errno : (long)n;
}

static int inject_fsync(void *ctx, int fd)
{
	struct inject *f = ctx;

	if (f->fsync_err)
		return -f->fsync_err;
	return fsync(fd) < 0 ? -errno : 0;
}

static int inject_rename(void *ctx, const char *from, const char *to,
			 bool replace)
{
	struct inject *f = ctx;

	if (f->rename_err)
		return -f->rename_err;
	if (replace)
		return rename(from, to) < 0 ? -errno : 0;
	/* Enough for these tests: link(2) never replaces. */
	if (link(from, to) < 0)
		return -errno;
	return unlink(from) < 0 ? -errno : 0;
}

static struct hive_io injecting(struct inject *f)
{
	return (struct hive_io){
		.open = inject_open,
		.pread = inject_pread,
		.pwrite = inject_pwrite,
		.fsync = inject_fsync,
		.rename = inject_rename,
		.ctx = f,
	};
}

/*
 * A dirty hive: a commit adding key C whose pages never reached the hive
 * (its writes fail after the base block said dirty), so C lives only in
 * hive.LOG1, which replay must read.
 */
static char *make_dirty_hive(void *mem, const char *dir)
{
	char *path = make_hive(mem, dir);
	struct inject f = { .write_ino = ino_of(path), .write_from = 4096,
			    .write_err = EIO };
	struct hive_io io = injecting(&f);
	struct hive *h;
	struct hive_info info;

	assert_int_equal(hive_open_io(mem, path, 0, &io, &h), HIVE_OK);
	add_key(h, "C");
	assert_int_equal(hive_commit(h), HIVE_E_IO);
	talloc_free(h);
	assert_int_equal(hive_open(mem, path, HIVE_OPEN_READ_ONLY, &h), HIVE_OK);
	hive_get_info(h, &info);
	assert_true(info.recovered);
	assert_true(has_key(h, "C"));
	talloc_free(h);
	return path;
}

/* ---- the hive itself ---- */

static void hive_not_a_file(void **state)
{
	static const enum kind kinds[] = { DANGLING, FIFO, DIRECTORY, DEVICE };
	static const unsigned flags[] = { 0, HIVE_OPEN_READ_ONLY };

	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		for (size_t f = 0; f < 2; f++) {
			char *dir = test_dir(*state);
			char *path = talloc_asprintf(*state, "%s/plant", dir);
			char *nowhere = talloc_asprintf(*state, "%s/nowhere", dir);
			struct hive *h;
			int ret;

			if (!plant(kinds[k], path, NULL, nowhere)) {
				test_dir_remove(dir);
				continue;
			}
			bounded();
			ret = hive_open(*state, path, flags[f], &h);
			alarm(0);
			if (ret == HIVE_OK)
				fail_msg("%s opened as a hive", kind_names[kinds[k]]);
			detail_says(hive_error_detail(), why(kinds[k]));
			/* Nothing was created anywhere. */
			assert_int_equal(entries_in(dir), 1);
			test_dir_remove(dir);
		}
	}
	/* A device by its own name. */
	struct hive *h;
	int fd;
	assert_int_not_equal(hive_open(*state, "/dev/null", HIVE_OPEN_READ_ONLY, &h),
			     HIVE_OK);
	detail_says(hive_error_detail(), "is not a regular file (a character device)");
	/* The front ends' own descriptor of the hive meets the same door. */
	char *dir = test_dir(*state);
	char *fifo = talloc_asprintf(*state, "%s/fifo", dir);
	char *link_path = talloc_asprintf(*state, "%s/link", dir);
	char *hive = make_hive(*state, dir);
	assert_int_equal(mkfifo(fifo, 0644), 0);
	assert_int_equal(symlink(hive, link_path), 0);
	bounded();
	assert_int_equal(hive_open_file(fifo, &fd), HIVE_E_NOT_HIVE);
	alarm(0);
	detail_says(hive_error_detail(), "is not a regular file (a FIFO)");
	assert_int_equal(hive_open_file(link_path, &fd), HIVE_E_NOT_HIVE);
	detail_says(hive_error_detail(), "is a symbolic link");
	assert_int_equal(hive_open_file(hive, &fd), HIVE_OK);
	assert_int_equal(fcntl(fd, F_GETFL) & (O_NONBLOCK | O_ACCMODE), O_RDONLY);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);
	test_dir_remove(dir);
}

/* A hive with a second name is never written through either name. */
static void hive_hard_link_read_only(void **state)
{
	char *dir = test_dir(*state);
	char *path = make_hive(*state, dir);
	char *other = talloc_asprintf(*state, "%s/other", dir);
	struct hive *h;
	size_t len;
	uint8_t *before;

	assert_int_equal(link(path, other), 0);
	before = slurp(*state, path, &len);
	assert_int_equal(hive_open(*state, other, 0, &h), HIVE_OK);
	detail_says(hive_read_only_reason(h), "has 2 hard links");
	uint16_t n[4];
	size_t nlen;
	hive_key_t k;
	name16(n, &nlen, "X");
	assert_int_equal(hive_key_create(h, hive_root(h), n, nlen, &k),
			 HIVE_E_READ_ONLY);
	talloc_free(h);
	unchanged(*state, path, before, len);
	test_dir_remove(dir);
}

/* A link given as the hive names the file it leads to (the user chose
 * it): the logs are beside that file, never beside the link. */
static void hive_symlink_followed_once(void **state)
{
	char *dir = test_dir(*state);
	char *sub = talloc_asprintf(*state, "%s/real", dir);
	char *link_path = talloc_asprintf(*state, "%s/link", dir);
	char *real;
	struct hive *h;

	assert_int_equal(mkdir(sub, 0755), 0);
	real = make_hive(*state, sub);
	assert_int_equal(symlink(real, link_path), 0);
	assert_int_equal(hive_open(*state, link_path, 0, &h), HIVE_OK);
	add_key(h, "Linked");
	assert_int_equal(hive_commit(h), HIVE_OK);
	talloc_free(h);
	assert_int_equal(access(talloc_asprintf(*state, "%s.LOG1", link_path), F_OK), -1);
	assert_int_equal(entries_in(dir), 2); /* real/ and link */
	assert_int_equal(hive_open(*state, real, HIVE_OPEN_READ_ONLY, &h), HIVE_OK);
	assert_true(has_key(h, "Linked"));
	talloc_free(h);
	test_dir_remove(dir);
}

/* ---- logs met at open, at a commit, at replay ---- */

/* A writer that finds a log it may not write opens read-only, saying why,
 * and writes nothing anywhere. */
static void log_refused_at_open(void **state)
{
	for (int k = 0; k < KINDS; k++) {
		for (int which = 1; which <= 2; which++) {
			char *dir = test_dir(*state);
			char *path = make_hive(*state, dir);
			char *log = talloc_asprintf(*state, "%s.LOG%d", path, which);
			char *victim = talloc_asprintf(*state, "%s/victim", dir);
			char *nowhere = talloc_asprintf(*state, "%s/nowhere", dir);
			struct hive *h;
			size_t len;
			uint8_t *before;

			write_file(victim, "precious\n");
			if (k == FOREIGN) {
				/* someone else's copy of the real log */
				rename(log, victim);
			}
			if (!plant(k, log, victim, nowhere)) {
				test_dir_remove(dir);
				continue;
			}
			before = slurp(*state, path, &len);
			bounded();
			assert_int_equal(hive_open(*state, path, 0, &h), HIVE_OK);
			detail_says(hive_read_only_reason(h), why(k));
			uint16_t n[4];
			size_t nlen;
			hive_key_t key;
			name16(n, &nlen, "X");
			assert_int_equal(hive_key_create(h, hive_root(h), n, nlen, &key),
					 HIVE_E_READ_ONLY);
			assert_int_equal(hive_commit(h), HIVE_OK); /* nothing to do */
			talloc_free(h);
			alarm(0);
			unchanged(*state, path, before, len);
			if (k != FOREIGN)
				holds(*state, victim, "precious\n");
			assert_int_equal(access(nowhere, F_OK), -1);
			test_dir_remove(dir);
		}
	}
}

/*
 * Planted after the open, between two commits: the commit refuses the
 * log it would write (LOG1) or empty (LOG2), writes nothing through it
 * and nothing to the hive, and poisons the handle.
 */
static void log_refused_at_commit(void **state)
{
	for (int k = 0; k < KINDS; k++) {
		for (int which = 1; which <= 2; which++) {
			char *dir = test_dir(*state);
			char *path = make_hive(*state, dir);
			char *log = talloc_asprintf(*state, "%s.LOG%d", path, which);
			char *victim = talloc_asprintf(*state, "%s/victim", dir);
			char *nowhere = talloc_asprintf(*state, "%s/nowhere", dir);
			struct hive *h;
			size_t len;
			uint8_t *before;
			int ret;

			write_file(victim, "precious\n");
			before = slurp(*state, path, &len);
			assert_int_equal(hive_open(*state, path, 0, &h), HIVE_OK);
			assert_null(hive_read_only_reason(h));
			add_key(h, "X");
			if (!plant(k, log, victim, nowhere)) {
				talloc_free(h);
				test_dir_remove(dir);
				continue;
			}
			bounded();
			ret = hive_commit(h);
			alarm(0);
			if (ret == HIVE_OK)
				fail_msg("commit through a %s as LOG%d", kind_names[k],
					 which);
			assert_int_equal(ret, HIVE_E_IO);
			detail_says(hive_error_detail(), why(k));
			assert_true(hive_is_poisoned(h));
			talloc_free(h);
			unchanged(*state, path, before, len);
			holds(*state, victim, "precious\n");
			assert_int_equal(access(nowhere, F_OK), -1);
			test_dir_remove(dir);
		}
	}
}

/*
 * A dirty hive whose log is replaced by a planted file: the log is not
 * read (a link to the real log elsewhere included), the hive stays dirty
 * and read-only, the note says why, and nothing is written.
 */
static void log_refused_at_replay(void **state)
{
	for (int k = 0; k < KINDS; k++) {
		if (k == HARDLINK)
			continue; /* reading a second name of a log harms nothing */
		char *dir = test_dir(*state);
		char *away = talloc_asprintf(*state, "%s/away", dir);
		char *path, *log, *real, *nowhere;
		struct hive *h;
		struct hive_info info;
		size_t len;
		uint8_t *before;

		assert_int_equal(mkdir(away, 0755), 0);
		path = make_dirty_hive(*state, away);
		log = talloc_asprintf(*state, "%s.LOG1", path);
		real = talloc_asprintf(*state, "%s/real.LOG1", dir);
		nowhere = talloc_asprintf(*state, "%s/nowhere", dir);
		assert_int_equal(rename(log, real), 0);
		if (!plant(k, log, real, nowhere)) {
			test_dir_remove(dir);
			continue;
		}
		before = slurp(*state, path, &len);
		for (int rw = 0; rw < 2; rw++) {
			bounded();
			assert_int_equal(hive_open(*state, path,
						   rw ? 0 : HIVE_OPEN_READ_ONLY, &h),
					 HIVE_OK);
			alarm(0);
			hive_get_info(h, &info);
			assert_false(info.recovered);
			assert_true(info.dirty);
			assert_false(has_key(h, "C"));
			detail_says(hive_recovery_note(h), why(k));
			if (rw)
				assert_non_null(hive_read_only_reason(h));
			talloc_free(h);
		}
		char *text;
		assert_int_equal(hive_describe_logs(*state, path, &text), HIVE_OK);
		detail_says(text, why(k));
		unchanged(*state, path, before, len);
		test_dir_remove(dir);
	}
}

/* A log of the hive's owner's that is missing is created with the hive's
 * owner and mode, not root's. */
static void new_log_takes_hive_owner(void **state)
{
	if (!root())
		skip();
	char *dir = test_dir(*state);
	char *path = make_hive(*state, dir);
	char *log1 = talloc_asprintf(*state, "%s.LOG1", path);
	char *log2 = talloc_asprintf(*state, "%s.LOG2", path);
	struct hive *h;
	struct stat st;

	unlink(log1);
	unlink(log2);
	assert_int_equal(chown(path, STRANGER, STRANGER), 0);
	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(hive_open(*state, path, 0, &h), HIVE_OK);
	add_key(h, "X");
	assert_int_equal(hive_commit(h), HIVE_OK);
	talloc_free(h);
	assert_int_equal(lstat(log1, &st), 0);
	assert_int_equal(st.st_uid, STRANGER);
	assert_int_equal(st.st_gid, STRANGER);
	assert_int_equal(st.st_mode & 07777, 0640);
	/* The owner's own logs are used as they are. */
	assert_int_equal(hive_open(*state, path, 0, &h), HIVE_OK);
	assert_null(hive_read_only_reason(h));
	talloc_free(h);
	test_dir_remove(dir);
}

/* ---- the hive's name changing under an open handle ---- */

static void hive_deleted_before_commit(void **state)
{
	char *dir = test_dir(*state);
	char *path = make_hive(*state, dir);
	struct hive *h;

	assert_int_equal(hive_open(*state, path, 0, &h), HIVE_OK);
	add_key(h, "X");
	/* Only the hive's name goes; its old logs go too, so any log found
	 * afterwards was written by the commit. */
	assert_int_equal(unlink(path), 0);
	unlink(talloc_asprintf(*state, "%s.LOG1", path));
	unlink(talloc_asprintf(*state, "%s.LOG2", path));
	assert_int_equal(hive_commit(h), HIVE_E_IO);
	assert_int_equal(hive_error_to_errno(HIVE_E_IO), EIO);
	detail_says(hive_error_detail(), "was deleted or replaced while open; "
		    "changes since the last commit are not written");
	assert_true(hive_is_poisoned(h));
	assert_int_equal(hive_commit(h), HIVE_E_POISONED);
	talloc_free(h);
	assert_int_equal(entries_in(dir), 0);
	test_dir_remove(dir);
}

/* hive_path_check: the commit's own look at the name, for a front end. */
static void path_check(void **state)
{
	char *dir = test_dir(*state);
	char *path = make_hive(*state, dir);
	char *other_dir = test_dir(*state);
	char *other = make_hive(*state, other_dir);
	char *second = talloc_asprintf(*state, "%s/second", dir);
	struct hive *h, *r;

	assert_int_equal(hive_open(*state, path, 0, &h), HIVE_OK);
	assert_int_equal(hive_open(*state, path, HIVE_OPEN_READ_ONLY, &r), HIVE_OK);
	assert_int_equal(hive_path_check(h), HIVE_OK);
	/* A second name: writing would change what it shows too. */
	assert_int_equal(link(path, second), 0);
	assert_int_equal(hive_path_check(h), HIVE_E_IO);
	detail_says(hive_error_detail(), "has 2 hard links");
	assert_int_equal(unlink(second), 0);
	assert_int_equal(hive_path_check(h), HIVE_OK);
	/* mv NEW HIVE */
	assert_int_equal(rename(other, second), 0);
	assert_int_equal(rename(second, path), 0);
	assert_int_equal(hive_path_check(h), HIVE_E_IO);
	detail_says(hive_error_detail(), "was deleted or replaced while open");
	/* rm HIVE */
	assert_int_equal(unlink(path), 0);
	assert_int_equal(hive_path_check(h), HIVE_E_IO);
	detail_says(hive_error_detail(), "was deleted or replaced while open");
	/* Only looking: the handle is not poisoned, and a read-only handle
	 * writes nothing, so has nothing to check. */
	assert_false(hive_is_poisoned(h));
	assert_int_equal(hive_path_check(r), HIVE_OK);
	talloc_free(h);
	talloc_free(r);
	test_dir_remove(dir);
	test_dir_remove(other_dir);
}

static void hive_replaced_before_commit(void **state)
{
	char *dir = test_dir(*state);
	char *path = make_hive(*state, dir);
	char *other_dir = test_dir(*state);
	char *other = make_hive(*state, other_dir);
	char *moved = talloc_asprintf(*state, "%s/new", dir);
	struct hive *h;
	size_t len;
	uint8_t *before;

	/* mv NEW HIVE: another hive takes the name; no logs beside it. */
	assert_int_equal(hive_open(*state, path, 0, &h), HIVE_OK);
	add_key(h, "X");
	unlink(talloc_asprintf(*state, "%s.LOG1", path));
	unlink(talloc_asprintf(*state, "%s.LOG2", path));
	assert_int_equal(rename(other, moved), 0);
	before = slurp(*state, moved, &len);
	assert_int_equal(rename(moved, path), 0);
	assert_int_equal(hive_commit(h), HIVE_E_IO);
	detail_says(hive_error_detail(), "was deleted or replaced while open");
	assert_true(hive_is_poisoned(h));
	talloc_free(h);
	unchanged(*state, path, before, len);
	assert_int_equal(entries_in(dir), 1); /* no log beside the new file */
	test_dir_remove(dir);
	test_dir_remove(other_dir);
}

/* ---- faults in the reads and opens of replay, and in save_as ---- */

static void replay_faults(void **state)
{
	for (int fault = 0; fault < 2; fault++) {
		char *dir = test_dir(*state);
		char *path = make_dirty_hive(*state, dir);
		char *log = talloc_asprintf(*state, "%s.LOG1", path);
		struct inject f = { 0 };
		struct hive_io io = injecting(&f);
		struct hive *h;
		struct hive_info info;
		size_t len, log_len;
		uint8_t *before = slurp(*state, path, &len);
		uint8_t *log_before = slurp(*state, log, &log_len);

		if (fault == 0) {
			f.open_suffix = ".LOG1";
			f.open_err = EMFILE;
		} else {
			f.read_ino = ino_of(log);
			f.read_err = EIO;
		}
		for (int rw = 0; rw < 2; rw++) {
			assert_int_equal(hive_open_io(*state, path,
						      rw ? 0 : HIVE_OPEN_READ_ONLY,
						      &io, &h), HIVE_OK);
			hive_get_info(h, &info);
			assert_false(info.recovered);
			assert_true(info.dirty);
			detail_says(hive_recovery_note(h),
				    fault ? "Input/output error"
					  : "Too many open files");
			detail_says(hive_recovery_note(h), log);
			if (rw)
				assert_non_null(hive_read_only_reason(h));
			talloc_free(h);
		}
		unchanged(*state, path, before, len);
		unchanged(*state, log, log_before, log_len);
		/* Intact: without the fault the log replays. */
		assert_int_equal(hive_open(*state, path, HIVE_OPEN_READ_ONLY, &h),
				 HIVE_OK);
		assert_true(has_key(h, "C"));
		talloc_free(h);
		test_dir_remove(dir);
	}
}

static void hive_read_faults(void **state)
{
	char *dir = test_dir(*state);
	char *path = make_hive(*state, dir);
	struct inject f = { .read_ino = ino_of(path), .read_err = EIO };
	struct hive_io io = injecting(&f);
	struct hive *h;
	size_t len;
	uint8_t *before = slurp(*state, path, &len);
	unsigned files = entries_in(dir);

	for (int rw = 0; rw < 2; rw++) {
		assert_int_equal(hive_open_io(*state, path, rw ? 0 : HIVE_OPEN_READ_ONLY,
					      &io, &h), HIVE_E_IO);
		detail_says(hive_error_detail(), "reading");
		detail_says(hive_error_detail(), "Input/output error");
	}
	f = (struct inject){ .open_suffix = "/hive", .open_err = ENFILE };
	assert_int_equal(hive_open_io(*state, path, 0, &io, &h), HIVE_E_IO);
	detail_says(hive_error_detail(), "Too many open files in system");
	/* A writer that could not read the hive left it and its folder as
	 * they were. */
	unchanged(*state, path, before, len);
	assert_int_equal(entries_in(dir), files);
	test_dir_remove(dir);
}

static void save_as_faults(void **state)
{
	static const struct { int create_err, write_err, fsync_err, expect; } cases[] = {
		{ ENOSPC, 0, 0, HIVE_E_NOSPC },
		{ EACCES, 0, 0, HIVE_E_IO },
		{ 0, ENOSPC, 0, HIVE_E_NOSPC },
		{ 0, EDQUOT, 0, HIVE_E_NOSPC },
		{ 0, EIO, 0, HIVE_E_IO },
		{ 0, 0, EIO, HIVE_E_IO },
		{ 0, 0, ENOSPC, HIVE_E_NOSPC },
	};

	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		char *dir = test_dir(*state);
		char *path = make_hive(*state, dir);
		char *copy = talloc_asprintf(*state, "%s/copy", dir);
		struct inject f = { .create_err = cases[c].create_err,
				    .write_err = cases[c].write_err,
				    .write_any = true,
				    .fsync_err = cases[c].fsync_err };
		struct hive_io io = injecting(&f);
		struct hive *h;
		size_t len;
		uint8_t *before;
		unsigned files;

		write_file(copy, "an older copy\n");
		before = slurp(*state, path, &len);
		files = entries_in(dir);
		assert_int_equal(hive_open(*state, path, HIVE_OPEN_READ_ONLY, &h),
				 HIVE_OK);
		hive_set_io(h, &io);
		assert_int_equal(hive_save_as(h, copy), cases[c].expect);
		talloc_free(h);
		holds(*state, copy, "an older copy\n");
		unchanged(*state, path, before, len);
		assert_int_equal(entries_in(dir), files); /* no temporary left */
		test_dir_remove(dir);
	}
}

/*
 * A writer saving its changed hive over its own file: a failed write,
 * flush or rename leaves the file on disk as it was, no temporary file
 * behind, and the error says what the system said (a full disk apart).
 */
static void save_own_faults(void **state)
{
	static const struct { int write_err, fsync_err, rename_err, expect; } cases[] = {
		{ EIO, 0, 0, HIVE_E_IO },
		{ ENOSPC, 0, 0, HIVE_E_NOSPC },
		{ 0, EIO, 0, HIVE_E_IO },
		{ 0, EDQUOT, 0, HIVE_E_NOSPC },
		{ 0, 0, EIO, HIVE_E_IO },
		{ 0, 0, ENOSPC, HIVE_E_NOSPC },
	};

	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		char *dir = test_dir(*state);
		char *path = make_hive(*state, dir);
		struct inject f = { 0 };
		struct hive_io io = injecting(&f);
		struct hive *h;
		size_t len;
		uint8_t *before = slurp(*state, path, &len);
		unsigned files = entries_in(dir);

		assert_int_equal(hive_open_io(*state, path, 0, &io, &h), HIVE_OK);
		add_key(h, "X");
		f = (struct inject){ .write_err = cases[c].write_err,
				     .write_any = true,
				     .fsync_err = cases[c].fsync_err,
				     .rename_err = cases[c].rename_err };
		assert_int_equal(hive_save_as(h, path), cases[c].expect);
		talloc_free(h);
		unchanged(*state, path, before, len);
		assert_int_equal(entries_in(dir), files); /* no temporary left */
		assert_int_equal(hive_open(*state, path, HIVE_OPEN_READ_ONLY, &h),
				 HIVE_OK);
		assert_false(has_key(h, "X"));
		talloc_free(h);
		test_dir_remove(dir);
	}
	/* A new hive whose name cannot be given: nothing has the name after,
	 * and no temporary file is left. */
	char *dir = test_dir(*state);
	char *out = talloc_asprintf(*state, "%s/new", dir);
	struct inject f = { .rename_err = EIO };
	struct hive_io io = injecting(&f);
	struct hive *h;
	uint16_t n[8];
	size_t len;

	name16(n, &len, "ROOT");
	assert_int_equal(hive_create(*state, 5, n, len, &h), HIVE_OK);
	hive_set_io(h, &io);
	assert_int_equal(hive_save_new(h, out), HIVE_E_IO);
	detail_says(hive_error_detail(), "Input/output error");
	assert_int_equal(entries_in(dir), 0);
	f.rename_err = 0;
	assert_int_equal(hive_save_new(h, out), HIVE_OK);
	assert_int_equal(entries_in(dir), 1);
	talloc_free(h);
	test_dir_remove(dir);
}

/* save_as replaces a link at its target name, never what it points to. */
static void save_as_replaces_link(void **state)
{
	char *dir = test_dir(*state);
	char *path = make_hive(*state, dir);
	char *victim = talloc_asprintf(*state, "%s/victim", dir);
	char *out = talloc_asprintf(*state, "%s/out", dir);
	struct hive *h;
	struct stat st;

	write_file(victim, "precious\n");
	assert_int_equal(chmod(victim, 0600), 0);
	assert_int_equal(symlink(victim, out), 0);
	assert_int_equal(hive_open(*state, path, HIVE_OPEN_READ_ONLY, &h), HIVE_OK);
	assert_int_equal(hive_save_as(h, out), HIVE_OK);
	talloc_free(h);
	holds(*state, victim, "precious\n");
	assert_int_equal(lstat(out, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	/* The link's target's mode was not taken for the new file. */
	assert_int_equal(st.st_mode & 07777, 0644);
	test_dir_remove(dir);
}

/* A new hive never takes a name something has meanwhile, whatever it is,
 * and leaves nothing behind when it cannot. */
static void save_new_never_replaces(void **state)
{
	for (int k = SYMLINK; k <= DIRECTORY; k++) {
		char *dir = test_dir(*state);
		char *victim = talloc_asprintf(*state, "%s/victim", dir);
		char *nowhere = talloc_asprintf(*state, "%s/nowhere", dir);
		char *out = talloc_asprintf(*state, "%s/new", dir);
		struct hive *h;
		uint16_t n[8];
		size_t len;
		struct stat st;

		write_file(victim, "precious\n");
		name16(n, &len, "ROOT");
		assert_int_equal(hive_create(*state, 5, n, len, &h), HIVE_OK);
		assert_true(plant(k, out, victim, nowhere));
		bounded();
		assert_int_equal(hive_save_new(h, out), HIVE_E_EXISTS);
		alarm(0);
		assert_int_equal(lstat(out, &st), 0);
		assert_false(S_ISREG(st.st_mode));
		holds(*state, victim, "precious\n");
		assert_int_equal(access(nowhere, F_OK), -1);
		assert_int_equal(entries_in(dir), 2);
		unlink(out);
		rmdir(out);
		assert_int_equal(hive_save_new(h, out), HIVE_OK);
		assert_int_equal(lstat(out, &st), 0);
		assert_true(S_ISREG(st.st_mode));
		talloc_free(h);
		test_dir_remove(dir);
	}
}

/* A reader holding the shared lock keeps writers out, and a writer keeps
 * such a reader out. */
static void shared_lock(void **state)
{
	char *dir = test_dir(*state);
	char *path = make_hive(*state, dir);
	struct hive *r, *w;

	assert_int_equal(hive_open(*state, path,
				   HIVE_OPEN_READ_ONLY | HIVE_OPEN_SHARED_LOCK, &r),
			 HIVE_OK);
	assert_int_equal(hive_open(*state, path, 0, &w), HIVE_E_READ_ONLY);
	talloc_free(r);
	assert_int_equal(hive_open(*state, path, 0, &w), HIVE_OK);
	assert_int_equal(hive_open(*state, path,
				   HIVE_OPEN_READ_ONLY | HIVE_OPEN_SHARED_LOCK, &r),
			 HIVE_E_READ_ONLY);
	detail_says(hive_error_detail(), "open for writing elsewhere");
	talloc_free(w);
	test_dir_remove(dir);
}

/* An argument runs only the tests it matches (cmocka's filter). */
int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		TEST(hive_not_a_file),
		TEST(hive_hard_link_read_only),
		TEST(hive_symlink_followed_once),
		TEST(log_refused_at_open),
		TEST(log_refused_at_commit),
		TEST(log_refused_at_replay),
		TEST(new_log_takes_hive_owner),
		TEST(hive_deleted_before_commit),
		TEST(hive_replaced_before_commit),
		TEST(path_check),
		TEST(replay_faults),
		TEST(hive_read_faults),
		TEST(save_as_faults),
		TEST(save_own_faults),
		TEST(save_as_replaces_link),
		TEST(save_new_never_replaces),
		TEST(shared_lock),
	};
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	umask(022); /* new files' modes are asserted */
	return cmocka_run_group_tests_name("file", tests, NULL, NULL);
}
