/*
 * main.c — `hivefs [options] HIVE MOUNTPOINT`.
 *
 * The hive is resolved, locked, read and validated before anything is
 * mounted, so every problem with it reaches the terminal as one line and
 * a non-zero exit status:
 *   0  unmounted cleanly
 *   1  the hive cannot be used, or mounting failed
 *   2  usage (options, arguments, a mount point that does not exist)
 * A hive that Windows left dirty (pending transaction-log entries) shows
 * the state after the engine replayed its logs in memory, with a note; if
 * they cannot be replayed, the file as stored, with a warning.  A hive with
 * damaged bins mounts with a warning; damaged entries give EIO.
 *
 * A read-write mount (the default) opens the hive for writing: the
 * engine locks it exclusively (a second hivefs or hivectl writer is told
 * it is in use), writes the state recovered from transaction logs before
 * accepting changes, and commits (write.c) on fsync, every -o commit=
 * seconds, after every change with -o sync, and at unmount; a failed
 * commit makes the exit status 1.  A hive that cannot take changes (on a
 * read-only medium, dirty with logs that cannot be replayed, damaged
 * bins) mounts read-only with the reason; -o force accepts changes to a
 * dirty hive whose logs are unusable, giving up their pending entries.
 * `-o ro` never writes any file: the hive gets a shared flock() for as
 * long as the mount lives, so a writer is told it is in use.
 */
#define _GNU_SOURCE /* asprintf */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include <fuse_lowlevel.h>
#include <talloc.h>

#include "hivefs.h"

#define EXIT_FAILED 1
#define EXIT_USAGE 2

/* Read-only: entries and attributes never change. */
#define CACHE_TIMEOUT 86400.0
/* Read-write: hivefs tells the kernel what it changes (see ops.c). */
#define CACHE_TIMEOUT_RW 1.0
#define DEFAULT_COMMIT_SECONDS 5
/* Microseconds the request loop polls for the next request (loop.c). */
#define DEFAULT_SPIN_US 50

/*
 * Worker threads unless -o max_threads says otherwise: the engine runs
 * under one lock, so more threads only add stacks and malloc caches.
 */
#define DEFAULT_THREADS "2"

struct options {
	unsigned uid, gid, umask;
	int raw;
	int handles;
	int ro, rw;
	int sync, force;
	unsigned commit;
	unsigned spin;
	int noprefetch;
	int nouring;
	char *hive;
	int have_mountpoint;
};

enum { KEY_RO, KEY_RW };

#define OPT(t, field, v) { t, offsetof(struct options, field), v }

static const struct fuse_opt option_table[] = {
	OPT("raw", raw, 1),
	OPT("handles", handles, 1),
	OPT("uid=%u", uid, 0),
	OPT("gid=%u", gid, 0),
	OPT("umask=%o", umask, 0),
	OPT("commit=%u", commit, 0),
	OPT("sync", sync, 1),
	OPT("spin=%u", spin, 0),
	OPT("noprefetch", noprefetch, 1),
	OPT("nouring", nouring, 1),
	OPT("force", force, 1),
	FUSE_OPT_KEY("ro", KEY_RO),
	FUSE_OPT_KEY("rw", KEY_RW),
	/* Words that only mean something to mount(8) and fstab. */
	FUSE_OPT_KEY("noauto", FUSE_OPT_KEY_DISCARD),
	FUSE_OPT_KEY("auto", FUSE_OPT_KEY_DISCARD),
	FUSE_OPT_KEY("user", FUSE_OPT_KEY_DISCARD),
	FUSE_OPT_KEY("nouser", FUSE_OPT_KEY_DISCARD),
	FUSE_OPT_KEY("users", FUSE_OPT_KEY_DISCARD),
	FUSE_OPT_KEY("_netdev", FUSE_OPT_KEY_DISCARD),
	FUSE_OPT_KEY("nofail", FUSE_OPT_KEY_DISCARD),
	FUSE_OPT_KEY("defaults", FUSE_OPT_KEY_DISCARD),
	FUSE_OPT_END
};

static void usage(const char *prog)
{
	printf("Usage: %s [options] HIVE MOUNTPOINT\n"
	       "Mount a Windows registry hive file: keys are directories, "
	       "values are files.\n\n"
	       "hivefs options:\n"
	       "    -o ro                  mount read-only; no file is ever "
	       "written\n"
	       "    -o commit=SECONDS      commit changes this often (default "
	       "5; 0: only on\n"
	       "                           fsync and unmount)\n"
	       "    -o sync                commit after every change\n"
	       "    -o force               accept changes to a dirty hive whose "
	       "logs cannot be\n"
	       "                           replayed (their pending changes are "
	       "lost)\n"
	       "    -o spin=USEC           poll this long for the next request "
	       "before sleeping\n"
	       "                           (default 50; 0: sleep at once, "
	       "several threads)\n"
	       "    -o nouring             never use FUSE over io_uring (by "
	       "default used when\n"
	       "                           the kernel offers it: "
	       "/sys/module/fuse/parameters/\n"
	       "                           enable_uring is Y)\n"
	       "    -o noprefetch          read-only: read values only when "
	       "asked (by default\n"
	       "                           listing or reading a key brings its "
	       "values into the\n"
	       "                           page cache)\n"
	       "    -o raw                 show every value's data raw, "
	       "without the text view\n"
	       "    -o handles             have open and opendir go through "
	       "hivefs even when\n"
	       "                           read-only (slower; for tests)\n"
	       "    -o uid=N,gid=N         owner and group of every file "
	       "(default: yours)\n"
	       "    -o umask=M             octal mask applied to the modes "
	       "0777 and 0666 (default 022)\n"
	       "    -o allow_other         let other users use the mount\n"
	       "    -o default_permissions let the kernel check the modes\n"
	       "    noauto, auto, user, users, nouser, _netdev, nofail, "
	       "defaults: fstab words, ignored\n\n",
	       prog);
}

static int opt_proc(void *data, const char *arg, int key,
		    struct fuse_args *outargs)
{
	struct options *o = data;

	switch (key) {
	case FUSE_OPT_KEY_NONOPT:
		if (!o->hive) {
			o->hive = strdup(arg);
			return o->hive ? 0 : -1;
		}
		if (!o->have_mountpoint) {
			o->have_mountpoint = 1;
			return 1; /* for fuse_parse_cmdline() */
		}
		fprintf(stderr, "hivefs: too many arguments: '%s'\n", arg);
		return -1;
	case KEY_RO:
		o->ro = 1;
		return 0;
	case KEY_RW:
		o->rw = 1;
		return 0;
	default:
		return 1; /* a FUSE or mount option: libfuse handles it */
	}
}

/* "hivefs: PATH: error: detail" for an engine failure. */
static void report_hive_error(const char *path, int err)
{
	const char *detail = hive_error_detail();

	fprintf(stderr, "hivefs: %s: %s%s%s\n", path, hive_strerror(err),
		*detail ? ": " : "", detail);
}

/* Resolve, lock, read and validate the hive; warn about its state. */
static int open_hive(void *mem, struct hivefs *fs, const char *arg,
		     const struct options *o, int *lock_fd)
{
	char *path = realpath(arg, NULL);
	const char *note, *why;
	unsigned flags = o->ro ? HIVE_OPEN_READ_ONLY : 0;
	int err;

	if (!path) {
		fprintf(stderr, "hivefs: %s: %s\n", arg, strerror(errno));
		return -1;
	}
	fs->hive_path = talloc_strdup(mem, path);
	free(path);
	if (!fs->hive_path)
		return -1;
	if (o->ro) {
		/* The engine locks only writers; a reader says it is here. */
		*lock_fd = open(fs->hive_path, O_RDONLY | O_CLOEXEC);
		if (*lock_fd < 0) {
			fprintf(stderr, "hivefs: %s: %s\n", fs->hive_path,
				strerror(errno));
			return -1;
		}
		if (flock(*lock_fd, LOCK_SH | LOCK_NB) < 0) {
			fprintf(stderr, "hivefs: %s: %s\n", fs->hive_path,
				errno == EWOULDBLOCK
					? "in use: another program holds a write lock on it"
					: strerror(errno));
			return -1;
		}
	}
	if (o->force)
		flags |= HIVE_OPEN_FORCE;
	err = hive_open(mem, fs->hive_path, flags, &fs->hive);
	if (err) {
		report_hive_error(fs->hive_path, err);
		return -1;
	}
	hive_get_info(fs->hive, &fs->info);
	note = hive_recovery_note(fs->hive);
	why = o->ro ? NULL : hive_read_only_reason(fs->hive);
	fs->writable = !o->ro && !why;
	if (fs->info.recovered)
		fprintf(stderr, "hivefs: %s: %s (%s)\n", fs->hive_path,
			note ? note : "transaction logs replayed",
			fs->writable ? "the recovered state is written to the hive"
				     : "in memory; no file is written");
	if (fs->info.dirty)
		fprintf(stderr,
			"hivefs: warning: %s is dirty (sequence numbers %u and "
			"%u)%s%s; showing the file as stored, %s\n",
			fs->hive_path, fs->info.seq_primary,
			fs->info.seq_secondary, note ? ": " : "",
			note ? note : "",
			fs->writable ? "and accepting changes (-o force: its "
				       "pending log entries are given up)"
				     : "read-only");
	if (fs->info.damaged_bins || fs->info.truncated)
		fprintf(stderr,
			"hivefs: warning: %s is damaged (%u bad hive bin "
			"header(s)%s): entries in damaged parts give EIO\n",
			fs->hive_path, fs->info.damaged_bins,
			fs->info.truncated ? ", file truncated" : "");
	if (why && !fs->info.dirty)
		fprintf(stderr, "hivefs: %s: mounting read-only: %s\n",
			fs->hive_path, why);
	else if (why)
		fprintf(stderr, "hivefs: %s: mounting read-only (-o force "
			"accepts changes and gives up the pending log entries)\n",
			fs->hive_path);
	return 0;
}

/* -o ro, subtype and fsname, so that mount, findmnt and df show
 * "HIVE ... fuse.hivefs".  Given first: the user's fsname= wins. */
static int add_mount_options(struct fuse_args *args, const char *hive_path,
			     bool writable)
{
	char *opts = NULL, *fsname = NULL;
	int ret = -1;

	if (asprintf(&fsname, "fsname=%s", hive_path) < 0)
		return -1;
	if (fuse_opt_add_opt(&opts, writable ? "rw" : "ro") == 0 &&
	    fuse_opt_add_opt(&opts, "subtype=hivefs") == 0 &&
	    fuse_opt_add_opt_escaped(&opts, fsname) == 0 &&
	    fuse_opt_insert_arg(args, 1, "-o") == 0 &&
	    fuse_opt_insert_arg(args, 2, opts) == 0)
		ret = 0;
	free(fsname);
	free(opts);
	return ret;
}

static int run_session(struct hivefs *fs, struct fuse_args *args,
		       const struct fuse_cmdline_opts *cmd,
		       const struct options *opts)
{
	struct fuse_session *se;
	int ret = EXIT_FAILED;

	se = fuse_session_new(args, &hivefs_ops, sizeof(hivefs_ops), fs);
	if (!se)
		return EXIT_FAILED; /* libfuse said why */
	fs->se = se;
	if (fuse_set_signal_handlers(se) != 0)
		goto destroy;
	if (fuse_session_mount(se, cmd->mountpoint) != 0)
		goto remove_handlers;
	/* -s: one thread, as asked (the queues would add one per CPU).  If
	 * libfuse refuses hivefs's I/O, /dev/fuse serves as it would anyway. */
	if (!opts->nouring && !cmd->singlethread)
		(void)uring_attach(fs, se, opts->spin);
	if (fuse_daemonize(cmd->foreground) != 0)
		goto unmount;
	if (cmd->singlethread) {
		ret = fuse_session_loop(se);
	} else if (opts->spin > 0) {
		ret = loop_spin(se, opts->spin, fs->uring);
	} else {
		struct fuse_loop_config *cfg = fuse_loop_cfg_create();

		if (!cfg)
			goto unmount;
		fuse_loop_cfg_set_clone_fd(cfg, (unsigned)cmd->clone_fd);
		/* UINT_MAX: not given (libfuse 3.14 would warn about it). */
		if (cmd->max_idle_threads != UINT_MAX)
			fuse_loop_cfg_set_idle_threads(cfg, cmd->max_idle_threads);
		fuse_loop_cfg_set_max_threads(cfg, cmd->max_threads);
		ret = fuse_session_loop_mt(se, cfg);
		fuse_loop_cfg_destroy(cfg);
	}
	ret = ret == 0 ? 0 : EXIT_FAILED;
unmount:
	uring_stop(fs->uring);
	fuse_session_unmount(se);
remove_handlers:
	fuse_remove_signal_handlers(se);
destroy:
	fuse_session_destroy(se);
	uring_free(fs->uring);
	fs->uring = NULL;
	return ret;
}

int main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct fuse_cmdline_opts cmd = { 0 };
	struct options opts = {
		.uid = getuid(), .gid = getgid(), .umask = 022,
		.commit = DEFAULT_COMMIT_SECONDS, .spin = DEFAULT_SPIN_US,
	};
	void *mem = talloc_new(NULL);
	struct hivefs fs = { .lock = PTHREAD_MUTEX_INITIALIZER };
	int lock_fd = -1, ret = EXIT_FAILED;

	/*
	 * All engine work is serialised by one lock, so one malloc arena
	 * serves every thread; a fixed mmap threshold sends large buffers
	 * (libfuse's per-thread request buffers, the inode table) to their
	 * own mappings, so the heap does not keep them after they are freed.
	 */
	mallopt(M_ARENA_MAX, 1);
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
	if (!mem || fuse_opt_parse(&args, &opts, option_table, opt_proc) != 0 ||
	    fuse_opt_insert_arg(&args, 1, "-omax_threads=" DEFAULT_THREADS) ||
	    fuse_parse_cmdline(&args, &cmd) != 0) {
		ret = EXIT_USAGE;
		goto done;
	}
	if (cmd.show_help) {
		usage(argv[0]);
		fuse_cmdline_help();
		fuse_lowlevel_help();
		ret = 0;
		goto done;
	}
	if (cmd.show_version) {
		printf("hivefs version %s\n", HIVEFS_VERSION);
		printf("FUSE library version %s\n", fuse_pkgversion());
		fuse_lowlevel_version();
		ret = 0;
		goto done;
	}
	if (!opts.hive || !cmd.mountpoint) {
		fprintf(stderr, "hivefs: missing %s\nTry '%s -h' for more "
				"information.\n",
			opts.hive ? "MOUNTPOINT" : "HIVE and MOUNTPOINT", argv[0]);
		ret = EXIT_USAGE;
		goto done;
	}
	fs.raw = opts.raw;
	fs.handles = opts.handles;
	fs.uid = opts.uid;
	fs.gid = opts.gid;
	fs.umask = opts.umask & 0777;
	fs.sync = opts.sync;
	fs.prefetch_values = !opts.noprefetch;
	fs.commit_interval = opts.commit;
	fs.verbose = cmd.foreground || cmd.debug;
	if (open_hive(mem, &fs, opts.hive, &opts, &lock_fd) != 0)
		goto done;
	fs.timeout = fs.writable ? CACHE_TIMEOUT_RW : CACHE_TIMEOUT;
	if (inode_table_new(mem, hive_root(fs.hive), &fs.inodes) != HIVE_OK ||
	    add_mount_options(&args, fs.hive_path, fs.writable) != 0) {
		fprintf(stderr, "hivefs: out of memory\n");
		goto done;
	}
	ret = run_session(&fs, &args, &cmd, &opts);
	if (fs.commit_error) {
		fprintf(stderr, "hivefs: %s: changes could not be committed "
				"(%s); the hive's transaction log repairs it on "
				"the next open\n",
			fs.hive_path, hive_strerror(fs.commit_error));
		ret = EXIT_FAILED;
	}
done:
	if (lock_fd >= 0)
		close(lock_fd);
	free(cmd.mountpoint);
	free(opts.hive);
	fuse_opt_free_args(&args);
	talloc_free(mem);
	return ret;
}
