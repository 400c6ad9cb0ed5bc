/*
 * unmount.c — `hivefs -u MNT`: an unmount that returns once the daemon
 * that served MNT has committed, closed the hive and its logs, and ended.
 *
 * Finding the daemon.  A mount point names nothing the daemon holds: a
 * pid file would need a folder every user may write, and guessing from
 * /proc which process serves which /dev/fuse connection cannot be done.
 * What both sides can see without asking the (perhaps hung) file system
 * is the mount's device number, in /proc/self/mountinfo.  So the daemon
 * listens on the abstract socket "hivefs-mount/MAJOR:MINOR" (no file, so
 * nothing to plant, nothing stale after a crash: the kernel drops the
 * name when the last holder of the socket ends).  Anyone may bind an
 * abstract name, so the unmounter trusts a listener only if the kernel
 * says (SO_PEERCRED) it belongs to the mount's owner (FUSE's user_id=).
 *
 * Waiting.  The unmounter connects before it unmounts; the daemon never
 * accepts until it is done: it has left its request loop, committed,
 * freed the hive (closing the hive and every log), and only then accepts
 * every queued connection, writes "hivefs-status N" and what went wrong,
 * and closes the socket.  The socket was made before the daemon went to
 * the background, so it lives exactly as long as the process that holds
 * the hive; if that process is killed the kernel resets the connection
 * and the unmounter says the end was not clean.
 */
#define _GNU_SOURCE /* accept4, struct ucred */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "unmount.h"

#define EXIT_FAILED 1
#define EXIT_USAGE 2
/* How often a waiting unmounter says it is still waiting. */
#define NOTE_EVERY_MS 10000
/* What the daemon says at the end, at most: a status and one message. */
#define TELL_MAX 4096

struct mount_entry {
	unsigned major, minor;
	long user_id; /* -1: the mount names no owner */
	char fstype[64];
};

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unescape_octal(char *s)
{
	char *out = s;

	while (*s) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' &&
		    s[2] >= '0' && s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*out++ = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 |
					(s[3] - '0'));
			s += 4;
		} else {
			*out++ = *s++;
		}
	}
	*out = '\0';
}

/*
 * The last mount at PATH (the one on top) in /proc/self/mountinfo:
 *   ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [OPTIONAL...] - TYPE SOURCE SUPER
 * 0 when found.
 */
static int find_mount(const char *path, struct mount_entry *found)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char *line = NULL;
	size_t cap = 0;
	int ret = -1;

	if (!f)
		return -1;
	while (getline(&line, &cap, f) > 0) {
		char *save, *field[5], *dash, *type, *super, *opt;
		struct mount_entry m = { .user_id = -1 };
		int i;

		dash = strstr(line, " - ");
		if (!dash)
			continue;
		*dash = '\0';
		for (i = 0; i < 5; i++) {
			field[i] = strtok_r(i ? NULL : line, " ", &save);
			if (!field[i])
				break;
		}
		if (i < 5 || sscanf(field[2], "%u:%u", &m.major, &m.minor) != 2)
			continue;
		unescape_octal(field[4]);
		if (strcmp(field[4], path) != 0)
			continue;
		type = strtok_r(dash + 3, " \n", &save);
		if (!type || !strtok_r(NULL, " \n", &save)) /* the source */
			continue;
		snprintf(m.fstype, sizeof(m.fstype), "%s", type);
		super = strtok_r(NULL, " \n", &save);
		for (opt = super ? strtok_r(super, ",", &save) : NULL; opt;
		     opt = strtok_r(NULL, ",", &save)) {
			if (!strncmp(opt, "user_id=", 8))
				m.user_id = strtol(opt + 8, NULL, 10);
		}
		*found = m;
		ret = 0;
	}
	free(line);
	fclose(f);
	return ret;
}

static socklen_t socket_name(struct sockaddr_un *addr,
			     const struct mount_entry *m)
{
	int len;

	memset(addr, 0, sizeof(*addr));
	addr->sun_family = AF_UNIX;
	/* sun_path[0] stays NUL: the abstract namespace. */
	len = snprintf(addr->sun_path + 1, sizeof(addr->sun_path) - 1,
		       "hivefs-mount/%u:%u", m->major, m->minor);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + len);
}

int unmount_listen(const char *mountpoint)
{
	struct mount_entry m;
	struct sockaddr_un addr;
	socklen_t len;
	int sock;

	if (find_mount(mountpoint, &m) != 0) {
		fprintf(stderr, "hivefs: %s: not in /proc/self/mountinfo; "
				"hivefs -u will not be able to wait for this "
				"mount\n",
			mountpoint);
		return -1;
	}
	len = socket_name(&addr, &m);
	/* Non-blocking: the last accept must not wait for anyone. */
	sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (sock < 0 || bind(sock, (struct sockaddr *)&addr, len) != 0 ||
	    listen(sock, SOMAXCONN) != 0) {
		fprintf(stderr, "hivefs: %s: cannot listen on @%s (%s); "
				"hivefs -u will not be able to wait for this "
				"mount\n",
			mountpoint, addr.sun_path + 1, strerror(errno));
		if (sock >= 0)
			close(sock);
		return -1;
	}
	return sock;
}

void unmount_tell(int sock, int status, const char *message)
{
	char text[TELL_MAX];
	int len, conn;

	if (sock < 0)
		return;
	len = snprintf(text, sizeof(text), "hivefs-status %d\n%s", status,
		       message ? message : "");
	if (len < 0 || len >= (int)sizeof(text))
		len = (int)sizeof(text) - 1;
	while ((conn = accept4(sock, NULL, NULL, SOCK_CLOEXEC)) >= 0) {
		/* An unmounter that gave up is no reason to stop. */
		if (send(conn, text, (size_t)len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
			errno = 0;
		close(conn);
	}
	close(sock);
}

/*
 * PATH made absolute without asking any file system: a mount point whose
 * daemon hangs must not hang the command that unmounts it.  "." and ".."
 * are taken lexically; symbolic links are left alone (the caller falls
 * back to realpath() when this spelling names no mount).
 */
static char *absolute_path(const char *path)
{
	char cwd[PATH_MAX], *joined, *out, *seg, *save;
	size_t n = 0;

	if (path[0] == '/') {
		joined = strdup(path);
	} else {
		if (!getcwd(cwd, sizeof(cwd)))
			return NULL;
		if (asprintf(&joined, "%s/%s", cwd, path) < 0)
			joined = NULL;
	}
	if (!joined)
		return NULL;
	out = malloc(strlen(joined) + 2);
	if (!out) {
		free(joined);
		return NULL;
	}
	for (seg = strtok_r(joined, "/", &save); seg;
	     seg = strtok_r(NULL, "/", &save)) {
		if (!strcmp(seg, "."))
			continue;
		if (!strcmp(seg, "..")) {
			while (n > 0 && out[--n] != '/')
				;
			continue;
		}
		out[n++] = '/';
		memcpy(out + n, seg, strlen(seg));
		n += strlen(seg);
	}
	if (n == 0)
		out[n++] = '/';
	out[n] = '\0';
	free(joined);
	return out;
}

/*
 * A connection to the daemon of mount M, or -1 when none answers (it
 * ended, or is older than this program) or the one answering is not
 * the mount's owner.
 */
static int connect_daemon(const char *path, const struct mount_entry *m)
{
	struct sockaddr_un addr;
	socklen_t len = socket_name(&addr, m), cred_len;
	struct ucred cred;
	int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (sock < 0)
		return -1;
	if (connect(sock, (struct sockaddr *)&addr, len) != 0) {
		close(sock);
		return -1;
	}
	cred_len = sizeof(cred);
	if (getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &cred, &cred_len) != 0 ||
	    (m->user_id >= 0 && (long)cred.uid != m->user_id)) {
		fprintf(stderr, "hivefs: %s: the process answering for this "
				"mount (uid %ld) does not own it (uid %ld); "
				"not waiting for it\n",
			path, (long)cred.uid, m->user_id);
		close(sock);
		return -1;
	}
	return sock;
}

/* 0 once unmounted; otherwise 1, the unmounting program having said why. */
static int detach(const char *path, bool lazy)
{
	const char *argv[6];
	int n = 0, status;
	pid_t pid;

	if (geteuid() == 0) {
		if (umount2(path, UMOUNT_NOFOLLOW | (lazy ? MNT_DETACH : 0)) == 0)
			return 0;
		fprintf(stderr, "hivefs: %s: cannot unmount: %s\n", path,
			strerror(errno));
		return EXIT_FAILED;
	}
	/* Only fusermount3, setuid root, may unmount a user's mount. */
	argv[n++] = "fusermount3";
	argv[n++] = "-u";
	if (lazy)
		argv[n++] = "-z";
	argv[n++] = "--";
	argv[n++] = path;
	argv[n] = NULL;
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "hivefs: fork: %s\n", strerror(errno));
		return EXIT_FAILED;
	}
	if (pid == 0) {
		execvp(argv[0], (char *const *)argv);
		fprintf(stderr, "hivefs: fusermount3: %s\n", strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return EXIT_FAILED;
	}
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : EXIT_FAILED;
}

/* Read what the daemon says at its end; its exit status to pass on. */
static int wait_daemon(int sock, const char *path)
{
	char text[TELL_MAX + 1];
	size_t got = 0;
	int status, waited_ms = 0;

	for (;;) {
		struct pollfd p = { .fd = sock, .events = POLLIN };
		ssize_t n;
		int r = poll(&p, 1, NOTE_EVERY_MS);

		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0) {
			waited_ms += NOTE_EVERY_MS;
			fprintf(stderr, "hivefs: %s: unmounted; still waiting "
					"(%d s) for its hivefs process to "
					"finish writing the hive\n",
				path, waited_ms / 1000);
			continue;
		}
		n = read(sock, text + got, TELL_MAX - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || (got += (size_t)n) == TELL_MAX)
			break;
	}
	text[got] = '\0';
	if (sscanf(text, "hivefs-status %d", &status) != 1) {
		fprintf(stderr, "hivefs: %s: its hivefs process ended without "
				"finishing (killed?): changes since its last "
				"commit may be lost; the transaction logs "
				"complete or undo a half-written commit at the "
				"next open\n",
			path);
		return EXIT_FAILED;
	}
	/* The daemon's own words about a failed end: its stderr is gone. */
	if (strchr(text, '\n') && strchr(text, '\n')[1])
		fputs(strchr(text, '\n') + 1, stderr);
	return status == 0 ? 0 : EXIT_FAILED;
}

int unmount_and_wait(const char *mountpoint, bool lazy)
{
	struct mount_entry m;
	char *path = absolute_path(mountpoint);
	int sock, ret;

	if (!path || find_mount(path, &m) != 0) {
		/* Spelt through a symbolic link, perhaps. */
		free(path);
		path = realpath(mountpoint, NULL);
		if (!path || find_mount(path, &m) != 0) {
			fprintf(stderr, "hivefs: %s: not a mount point\n",
				mountpoint);
			free(path);
			return EXIT_USAGE;
		}
	}
	if (strcmp(m.fstype, "fuse.hivefs") != 0) {
		fprintf(stderr, "hivefs: %s: not a hivefs mount (%s)\n", path,
			m.fstype);
		free(path);
		return EXIT_USAGE;
	}
	sock = connect_daemon(path, &m);
	ret = detach(path, lazy);
	if (ret == 0 && sock < 0) {
		/* Unmounted, but nothing says the hive is whole: not 0. */
		fprintf(stderr, "hivefs: %s: unmounted; no hivefs process "
				"answered for it (it had ended, or is older "
				"than this hivefs), so nothing was waited for\n",
			path);
		ret = EXIT_FAILED;
	} else if (ret == 0 && !lazy)
		ret = wait_daemon(sock, path);
	if (sock >= 0)
		close(sock);
	free(path);
	return ret;
}
