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
 * long as the mount lives, so a writer is told it is in use.  A hive whose
 * recovered state cannot be written for want of space mounts read-only
 * too (showing that state from memory), with a message.
 *
 * The hive's path is resolved (realpath: a link the user named is
 * followed, once) and opened here first, without waiting (a FIFO), and
 * must be a regular file; that descriptor stays open, so the mount can
 * tell later whether the path still names the file it mounted (write.c).
 *
 * Permissions.  Entries show the hive file's owner and group (or -o
 * uid=/gid=) and modes derived from its mode: a 0600 hive shows values
 * 0600 and keys 0700, a 0644 one 0644 and 0755; no write bits when
 * changes are refused; then -o umask.  Without allow_other only the
 * mounting user can reach the mount at all (the kernel's rule).  With
 * allow_other the kernel checks those modes for every other user
 * (default_permissions is added), so a root-owned 0600 hive stays
 * root's; -o no_default_permissions gives that up: every user may then
 * read and change everything the mount offers.
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
#include "inode.h"
#include "session.h"
#include "transport/transport.h"
#include "unmount.h"

#define EXIT_FAILED 1
#define EXIT_USAGE 2

/*
 * Read-only: entries and attributes never change.  Read-write: names and
 * attributes are cached as long, because every change that makes one
 * wrong tells the kernel (fs/inode.h).
 */
#define CACHE_TIMEOUT 86400.0
#define DEFAULT_COMMIT_SECONDS 5
/* Microseconds the request loop polls for the next request (transport/). */
#define DEFAULT_SPIN_US 50

/*
 * Worker threads unless -o max_threads says otherwise: the engine runs
 * under one lock, so more threads only add stacks and malloc caches.
 */
#define DEFAULT_THREADS "2"

struct options {
	unsigned uid, gid, umask;
	int raw;
	int typenames;
	int handles;
	int ro, rw;
	int sync, force;
	unsigned commit;
	unsigned spin;
	int noprefetch;
	int nouring, io_uring;
	int allow_other, default_permissions, no_default_permissions;
	int uid_given, gid_given;
	char *hive;
	int have_mountpoint;
};

enum { KEY_RO, KEY_RW, KEY_ALLOW_OTHER, KEY_DEFAULT_PERMISSIONS };

#define OPT(t, field, v) { t, offsetof(struct options, field), v }

static const struct fuse_opt option_table[] = {
	OPT("raw", raw, 1),
	OPT("typenames", typenames, 1),
	OPT("handles", handles, 1),
	OPT("uid=%u", uid, 0),
	OPT("uid=", uid_given, 1),
	OPT("gid=%u", gid, 0),
	OPT("gid=", gid_given, 1),
	OPT("umask=%o", umask, 0),
	OPT("commit=%u", commit, 0),
	OPT("sync", sync, 1),
	OPT("spin=%u", spin, 0),
	OPT("noprefetch", noprefetch, 1),
	OPT("nouring", nouring, 1),
	OPT("io_uring", io_uring, 1),
	OPT("force", force, 1),
	OPT("no_default_permissions", no_default_permissions, 1),
	/* Noted, and passed on to libfuse. */
	FUSE_OPT_KEY("allow_other", KEY_ALLOW_OTHER),
	FUSE_OPT_KEY("default_permissions", KEY_DEFAULT_PERMISSIONS),
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
	       "       %s -u [-z] MOUNTPOINT\n"
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
	       "                           enable_uring is Y; -o io_uring "
	       "asks for that default)\n"
	       "    -o noprefetch          read values only when "
	       "asked (by default\n"
	       "                           listing or reading a key brings its "
	       "values into the\n"
	       "                           page cache)\n"
	       "    -o raw                 show every value's data raw, "
	       "without the text view\n"
	       "    -o typenames           the type in values' file names "
	       "(Start.dword), so\n"
	       "                           copies without xattrs keep it\n"
	       "    -o handles             have open and opendir go through "
	       "hivefs even when\n"
	       "                           read-only (slower; for tests)\n"
	       "    -o uid=N,gid=N         owner and group of every file "
	       "(default: the hive\n"
	       "                           file's)\n"
	       "    -o umask=M             octal mask applied to the modes "
	       "(default 022); the\n"
	       "                           modes come from the hive file's: "
	       "0600 shows values\n"
	       "                           0600 and keys 0700, 0644 shows "
	       "0644 and 0755; no\n"
	       "                           write bits when changes are "
	       "refused\n"
	       "    -o allow_other         let other users use the mount; the "
	       "kernel then\n"
	       "                           checks the modes shown for them "
	       "(default_permissions)\n"
	       "    -o no_default_permissions\n"
	       "                           with allow_other: check nothing, "
	       "every user may read\n"
	       "                           and change everything (whatever "
	       "the modes say)\n"
	       "    -o defaults,auto,noauto,user,users,nouser,_netdev,nofail,"
	       "x-*\n"
	       "                           words for mount(8) and fstab only; "
	       "hivefs ignores them\n"
	       "\n"
	       "Unmounting (returns once the hive and its logs are final and "
	       "hivefs has ended;\n"
	       "fusermount3 -u returns before that):\n"
	       "    %s -u [-z] MOUNTPOINT    or, as root, umount MOUNTPOINT\n"
	       "\n"
	       "With mount(8) and in /etc/fstab (hivefs must be on PATH):\n"
	       "    mount -t fuse.hivefs -o ro /srv/win/SYSTEM /mnt/system\n"
	       "    mount -t fuse hivefs#/srv/win/SYSTEM /mnt/system\n"
	       "    /srv/win/SYSTEM  /mnt/system  fuse.hivefs  "
	       "ro,noauto,nofail  0 0\n"
	       "    (noauto and nofail are fstab-only words: mount(8) acts on "
	       "them)\n\n",
	       prog, prog, prog);
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
	case KEY_ALLOW_OTHER:
		o->allow_other = 1;
		return 1;
	case KEY_DEFAULT_PERMISSIONS:
		o->default_permissions = 1;
		return 1;
	default:
		/* x-*: comments for mount(8) and systemd, in fstab. */
		if (key == FUSE_OPT_KEY_OPT && !strncmp(arg, "x-", 2))
			return 0;
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

/*
 * What was lost when a commit failed, once the mount is gone: on stderr,
 * and into WHY (for the unmounter that waits, as stderr may be gone).
 */
static void report_commit_failure(const struct hivefs *fs, char *why,
				  size_t size)
{
	if (fs->hive_lost)
		snprintf(why, size, "hivefs: %s: the changes made since the last "
				"commit are lost: %s; nothing was written to "
				"the file that has that name now\n",
			fs->hive_path, fs->commit_detail);
	else
		snprintf(why, size, "hivefs: %s: the changes made since the last "
				"commit could not be saved (%s%s%s); every "
				"earlier commit (each fsync that returned) is in "
				"the hive, and its transaction log completes or "
				"undoes a half-written commit at the next open\n",
			fs->hive_path, hive_strerror(fs->commit_error),
			*fs->commit_detail ? ": " : "", fs->commit_detail);
	fputs(why, stderr);
}

/*
 * Open the hive file before the engine does, through the engine's own door
 * (hive_open_file: no link followed, regular files only, a FIFO never
 * waited for, a device never opened), so the mount refuses what hive_open
 * would, in the same words.  The path was resolved by realpath() (a link
 * the user named is followed there, so logs are looked for beside the file
 * itself).  The descriptor is kept for the life of the mount: it pins the
 * inode, whose identity write.c compares with what the path names at each
 * commit, and gives the owner and mode the mount shows; -1 on failure.
 */
static int open_hive_file(const char *path, struct stat *st)
{
	int fd, err = hive_open_file(path, &fd);

	if (err) {
		report_hive_error(path, err);
		return -1;
	}
	if (fstat(fd, st) < 0) {
		fprintf(stderr, "hivefs: %s: %s\n", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* The reader's lock of a read-only mount (the engine locks only writers). */
static int lock_shared(const struct hivefs *fs)
{
	if (flock(fs->hive_fd, LOCK_SH | LOCK_NB) == 0)
		return 0;
	fprintf(stderr, "hivefs: %s: %s\n", fs->hive_path,
		errno == EWOULDBLOCK
			? "in use: another program holds a write lock on it"
			: strerror(errno));
	return -1;
}

/*
 * Entry modes from the hive file's: its read and write bits for values,
 * the same plus search where readable for keys, no write bits where
 * changes are refused, then the umask.
 */
static void derive_modes(struct hivefs *fs, mode_t file_mode)
{
	mode_t bits = file_mode & 0666;

	if (!fs->writable)
		bits &= (mode_t)~0222;
	fs->value_mode = bits & ~fs->umask;
	fs->key_mode = (bits | (bits & 0444) >> 2) & ~fs->umask;
}

/* Open, lock, read and validate the hive; warn about its state. */
static int open_hive(void *mem, struct hivefs *fs, const char *arg,
		     const struct options *o)
{
	char *path = realpath(arg, NULL);
	const char *note, *why;
	unsigned flags = o->ro ? HIVE_OPEN_READ_ONLY : 0;
	bool no_space = false;
	char no_space_detail[256];
	struct stat st, now;
	int err;

	if (!path) {
		fprintf(stderr, "hivefs: %s: %s\n", arg, strerror(errno));
		return -1;
	}
	fs->hive_path = talloc_strdup(mem, path);
	free(path);
	if (!fs->hive_path)
		return -1;
	fs->hive_fd = open_hive_file(fs->hive_path, &st);
	if (fs->hive_fd < 0)
		return -1;
	if (!o->uid_given)
		fs->uid = st.st_uid;
	if (!o->gid_given)
		fs->gid = st.st_gid;
	if (o->ro && lock_shared(fs) != 0)
		return -1;
	if (o->force)
		flags |= HIVE_OPEN_FORCE;
	err = hive_open(mem, fs->hive_path, flags, &fs->hive);
	if (err == HIVE_E_NOSPC && !o->ro) {
		/*
		 * A dirty hive is made whole on disk before a writer may
		 * change it; on a full file system that fails.  Its
		 * recovered state can still be shown, from memory.
		 */
		snprintf(no_space_detail, sizeof(no_space_detail), "%s",
			 hive_error_detail());
		if (lock_shared(fs) != 0)
			return -1;
		no_space = true;
		flags |= HIVE_OPEN_READ_ONLY;
		err = hive_open(mem, fs->hive_path, flags, &fs->hive);
	}
	if (err) {
		report_hive_error(fs->hive_path, err);
		return -1;
	}
	/* The engine opened the path again: the same file as ours? */
	if (lstat(fs->hive_path, &now) < 0 || now.st_dev != st.st_dev ||
	    now.st_ino != st.st_ino) {
		fprintf(stderr, "hivefs: %s: replaced while being opened; "
				"try again\n",
			fs->hive_path);
		return -1;
	}
	hive_get_info(fs->hive, &fs->info);
	note = hive_recovery_note(fs->hive);
	why = (flags & HIVE_OPEN_READ_ONLY) ? NULL
					    : hive_read_only_reason(fs->hive);
	fs->writable = !(flags & HIVE_OPEN_READ_ONLY) && !why;
	derive_modes(fs, st.st_mode);
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
	if (no_space)
		fprintf(stderr, "hivefs: %s: mounting read-only: no space left "
				"on its file system to write the recovered "
				"state (%s); free some space and mount it again "
				"to make changes\n",
			fs->hive_path, no_space_detail);
	else if (why && !fs->info.dirty)
		fprintf(stderr, "hivefs: %s: mounting read-only: %s\n",
			fs->hive_path, why);
	else if (why)
		fprintf(stderr, "hivefs: %s: mounting read-only (-o force "
			"accepts changes and gives up the pending log entries)\n",
			fs->hive_path);
	return 0;
}

/*
 * -o ro, subtype and fsname, so that mount, findmnt and df show
 * "HIVE ... fuse.hivefs".  Given first: the user's fsname= wins.  With
 * allow_other, default_permissions unless the user gave it up.
 */
static int add_mount_options(struct fuse_args *args, const char *hive_path,
			     bool writable, bool check_permissions)
{
	char *opts = NULL, *fsname = NULL;
	int ret = -1;

	if (asprintf(&fsname, "fsname=%s", hive_path) < 0)
		return -1;
	if (fuse_opt_add_opt(&opts, writable ? "rw" : "ro") == 0 &&
	    (!check_permissions ||
	     fuse_opt_add_opt(&opts, "default_permissions") == 0) &&
	    fuse_opt_add_opt(&opts, "subtype=hivefs") == 0 &&
	    fuse_opt_add_opt_escaped(&opts, fsname) == 0 &&
	    fuse_opt_insert_arg(args, 1, "-o") == 0 &&
	    fuse_opt_insert_arg(args, 2, opts) == 0)
		ret = 0;
	free(fsname);
	free(opts);
	return ret;
}

/* How requests travel (transport/): chosen here, once. */
static struct transport *choose_transport(struct fuse_args *args,
					  const struct fuse_cmdline_opts *cmd,
					  const struct options *opts)
{
	const struct transport_wish wish = {
		.spin_us = opts->spin,
		.single_thread = cmd->singlethread,
		.nouring = opts->nouring,
		.verbose = cmd->foreground || cmd->debug,
		.clone_fd = cmd->clone_fd,
		.max_idle_threads = cmd->max_idle_threads,
		.max_threads = cmd->max_threads,
	};

	return transport_choose(&wish, args);
}

/*
 * Mount, serve until unmounted, unmount.  *UNMOUNT_SOCK gets the socket
 * `hivefs -u` waits on (unmount.h), made once mounted and before the
 * daemon goes to the background, so that it is there when mount returns.
 */
static int run_session(struct hivefs *fs, struct fuse_args *args,
		       const struct fuse_cmdline_opts *cmd,
		       const struct options *opts, int *unmount_sock)
{
	struct transport *transport = choose_transport(args, cmd, opts);
	struct fuse_session *se;
	int ret = EXIT_FAILED;

	if (!transport) {
		fprintf(stderr, "hivefs: out of memory\n");
		return EXIT_FAILED;
	}
	se = fuse_session_new(args, &hivefs_ops, sizeof(hivefs_ops), fs);
	if (!se) {
		transport_free(transport);
		return EXIT_FAILED; /* libfuse said why */
	}
	fs->se = se;
	if (fuse_set_signal_handlers(se) != 0)
		goto destroy;
	if (fuse_session_mount(se, cmd->mountpoint) != 0)
		goto remove_handlers;
	*unmount_sock = unmount_listen(cmd->mountpoint);
	transport_start(transport, se);
	if (fuse_daemonize(cmd->foreground) != 0)
		goto unmount;
	ret = transport_run(transport) == 0 ? 0 : EXIT_FAILED;
unmount:
	transport_stop(transport);
	fuse_session_unmount(se);
remove_handlers:
	fuse_remove_signal_handlers(se);
destroy:
	fuse_session_destroy(se);
	transport_free(transport);
	return ret;
}

/*
 * `hivefs -u [-z] MNT`, and umount(8)'s helper umount.fuse.hivefs (a link
 * to hivefs), called as `umount.fuse.hivefs MNT [-flnrv] [-t TYPE]
 * [-N NS]`: true when this is such a call, with the exit status in *RET.
 */
static bool unmount_call(int argc, char *argv[], int *ret)
{
	const char *base = strrchr(argv[0], '/'), *mnt = NULL;
	bool helper, lazy = false;

	base = base ? base + 1 : argv[0];
	helper = strncmp(base, "umount.", 7) == 0;
	/* hivefs's own -u comes first; any other first word is a mount. */
	if (!helper && (argc < 2 || (strcmp(argv[1], "-u") &&
				     strcmp(argv[1], "-uz") &&
				     strcmp(argv[1], "-zu"))))
		return false;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (a[0] != '-' || !a[1]) {
			if (mnt) {
				fprintf(stderr, "hivefs -u: too many "
						"arguments: '%s'\n", a);
				*ret = EXIT_USAGE;
				return true;
			}
			mnt = a;
			continue;
		}
		if (!strcmp(a, "--")) {
			if (i + 1 < argc && !mnt)
				mnt = argv[++i];
			continue;
		}
		if (helper && (!strcmp(a, "-t") || !strcmp(a, "-N"))) {
			i++; /* the type, the namespace */
			continue;
		}
		for (const char *c = a + 1; *c; c++) {
			if (*c == 'z' || (helper && *c == 'l')) {
				lazy = true;
			} else if (!strchr(helper ? "fnrvi" : "u", *c)) {
				/* umount's force, no mtab, read-only, verbose */
				fprintf(stderr, "hivefs -u: unknown option "
						"'-%c'\n", *c);
				*ret = EXIT_USAGE;
				return true;
			}
		}
	}
	if (!mnt) {
		fprintf(stderr, "Usage: hivefs -u [-z] MOUNTPOINT\n");
		*ret = EXIT_USAGE;
		return true;
	}
	*ret = unmount_and_wait(mnt, lazy);
	return true;
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
	struct hivefs fs = { .lock = PTHREAD_MUTEX_INITIALIZER, .hive_fd = -1 };
	char why[1024] = "";
	int ret = EXIT_FAILED, unmount_sock = -1;

	if (unmount_call(argc, argv, &ret)) {
		talloc_free(mem);
		return ret;
	}

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
		fflush(stdout);
		fuse_cmdline_help();
		fuse_lowlevel_help();
		ret = 0;
		goto done;
	}
	if (cmd.show_version) {
		printf("hivefs version %s\n", HIVEFS_VERSION);
		printf("FUSE library version %s\n", fuse_pkgversion());
		/* Ours first: libfuse has fusermount3 print its own. */
		fflush(stdout);
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
	if (opts.io_uring && opts.nouring) {
		fprintf(stderr, "hivefs: io_uring and nouring contradict each "
				"other\n");
		ret = EXIT_USAGE;
		goto done;
	}
	if (opts.default_permissions && opts.no_default_permissions) {
		fprintf(stderr, "hivefs: default_permissions and "
				"no_default_permissions contradict each other\n");
		ret = EXIT_USAGE;
		goto done;
	}
	fs.raw = opts.raw;
	fs.names.typed = opts.typenames;
	fs.names.raw_all = opts.raw;
	fs.handles = opts.handles;
	fs.dir_handles = opts.handles;
	fs.uid = opts.uid;
	fs.gid = opts.gid;
	fs.umask = opts.umask & 0777;
	fs.sync = opts.sync;
	fs.prefetch_values = !opts.noprefetch;
	fs.commit_interval = opts.commit;
	fs.verbose = cmd.foreground || cmd.debug;
	if (open_hive(mem, &fs, opts.hive, &opts) != 0)
		goto done;
	fs.timeout = CACHE_TIMEOUT;
	fs.entry_timeout = CACHE_TIMEOUT;
	if (inode_table_new(mem, hive_root(fs.hive), &fs.inodes) != HIVE_OK ||
	    add_mount_options(&args, fs.hive_path, fs.writable,
			      opts.allow_other &&
				      !opts.no_default_permissions) != 0) {
		fprintf(stderr, "hivefs: out of memory\n");
		goto done;
	}
	ret = run_session(&fs, &args, &cmd, &opts, &unmount_sock);
	if (fs.commit_error) {
		report_commit_failure(&fs, why, sizeof(why));
		ret = EXIT_FAILED;
	}
done:
	if (fs.hive_fd >= 0)
		close(fs.hive_fd);
	free(cmd.mountpoint);
	free(opts.hive);
	fuse_opt_free_args(&args);
	/* Closes the hive and its logs: only then may an unmounter go on. */
	talloc_free(mem);
	unmount_tell(unmount_sock, ret, why);
	return ret;
}
