/*
 * file.c — the one door to files beside a hive, and the I/O layer.
 *
 * The engine's callers often run as root beside folders other users
 * control, so every name the engine opens there — the hive, HIVE.LOG,
 * .LOG1, .LOG2 (any case), the temporary file of a save, the folder it
 * flushes — may be a trap laid by whoever can write that folder.
 * hv_file_open() is the only way the engine opens any of them, and it
 * refuses:
 *
 *  - a symbolic link, for every use ("is a symbolic link"): it could point
 *    at any file of root's, which would then be read as a log or
 *    overwritten with log data.  The final component is opened with
 *    O_NOFOLLOW; the folders above it come from the hive's path as
 *    resolved once, at open (realpath: the user chose that path).
 *  - anything but a regular file ("is not a regular file (a FIFO)", a
 *    directory, a character or block device, a socket): a FIFO blocks
 *    whoever opens it and devices have effects of their own.  The name is
 *    looked at (lstat) before it is opened, so a device is not even opened
 *    in the ordinary case, and it is opened O_NONBLOCK (a FIFO swapped in
 *    meanwhile cannot block) and O_NOCTTY, then fstat()ed and refused
 *    before a byte is read or written; only then is O_NONBLOCK cleared.
 *  - for a file about to be written, more than one hard link ("has N hard
 *    links"): writing would change the bytes another name shows, perhaps
 *    a file of root's linked into the user's folder.  For the hive itself
 *    this is not an error: the hive opens read-only with that reason.
 *  - a log, read or written, owned by neither the hive file's owner nor
 *    root ("is owned by uid N, not by the hive's owner"): someone else put
 *    it there, so replaying it would let them change the hive and writing
 *    it would hand them the hive's data.
 *
 * A missing log is created with O_CREAT|O_EXCL|O_NOFOLLOW (a name planted
 * in between is then looked at as above, never followed) with the hive's
 * mode bits and owner.  A temporary file is only ever created new
 * (O_EXCL).  Every open, read, write, flush, cut, close, rename and
 * unlink goes through struct hive_io, so the fault-injection tests reach
 * all of them.
 */
#define _GNU_SOURCE /* renameat2 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <talloc.h>
#include <unistd.h>

#include "layout.h"

/* ---- the default I/O: the system calls ---- */

static int default_open(void *ctx, const char *path, int flags, unsigned mode)
{
	int fd;

	(void)ctx;
	do
		fd = open(path, flags, (mode_t)mode);
	while (fd < 0 && errno == EINTR);
	return fd < 0 ? -errno : fd;
}

static long default_pread(void *ctx, int fd, void *buf, size_t len, int64_t off)
{
	ssize_t n;

	(void)ctx;
	do
		n = pread(fd, buf, len, (off_t)off);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : (long)n;
}

static long default_pwrite(void *ctx, int fd, const void *buf, size_t len,
			   int64_t off)
{
	ssize_t n;

	(void)ctx;
	do
		n = pwrite(fd, buf, len, (off_t)off);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : (long)n;
}

static int default_fsync(void *ctx, int fd)
{
	(void)ctx;
	return fsync(fd) < 0 ? -errno : 0;
}

static int default_ftruncate(void *ctx, int fd, int64_t len)
{
	(void)ctx;
	return ftruncate(fd, (off_t)len) < 0 ? -errno : 0;
}

static int default_close(void *ctx, int fd)
{
	(void)ctx;
	/* Linux releases the descriptor even when close reports EINTR. */
	return close(fd) < 0 && errno != EINTR ? -errno : 0;
}

/*
 * A name taken only if free: renameat2's NOREPLACE, or where the file
 * system lacks it a second link made (link(2) never replaces) and the
 * first removed — the same outcome, also atomic.
 */
static int default_rename(void *ctx, const char *from, const char *to,
			  bool replace)
{
	(void)ctx;
	if (replace)
		return rename(from, to) < 0 ? -errno : 0;
	if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -errno;
	if (link(from, to) < 0)
		return -errno;
	unlink(from);
	return 0;
}

static int default_unlink(void *ctx, const char *path)
{
	(void)ctx;
	return unlink(path) < 0 ? -errno : 0;
}

void hv_io_default(struct hive_io *io)
{
	*io = (struct hive_io){
		.pwrite = default_pwrite,
		.fsync = default_fsync,
		.ftruncate = default_ftruncate,
		.open = default_open,
		.pread = default_pread,
		.close = default_close,
		.rename = default_rename,
		.unlink = default_unlink,
	};
}

void hv_io_fill(struct hive_io *io, const struct hive_io *given)
{
	hv_io_default(io);
	if (!given)
		return;
	io->ctx = given->ctx;
	if (given->pwrite)
		io->pwrite = given->pwrite;
	if (given->fsync)
		io->fsync = given->fsync;
	if (given->ftruncate)
		io->ftruncate = given->ftruncate;
	if (given->open)
		io->open = given->open;
	if (given->pread)
		io->pread = given->pread;
	if (given->close)
		io->close = given->close;
	if (given->rename)
		io->rename = given->rename;
	if (given->unlink)
		io->unlink = given->unlink;
}

void hive_set_io(struct hive *h, const struct hive_io *io)
{
	hv_io_fill(&h->io, io);
}

int hv_io_error(int err)
{
	/* A full disk or quota is the user's to fix, and worth telling apart. */
	return err == ENOSPC || err == EDQUOT ? HIVE_E_NOSPC : HIVE_E_IO;
}

/* ---- the door ---- */

static const char *kind_of(mode_t mode)
{
	if (S_ISFIFO(mode))
		return "a FIFO";
	if (S_ISDIR(mode))
		return "a directory";
	if (S_ISCHR(mode))
		return "a character device";
	if (S_ISBLK(mode))
		return "a block device";
	if (S_ISSOCK(mode))
		return "a socket";
	return "of an unknown type";
}

static bool is_hive_use(enum hv_file_use use)
{
	return use == HV_FILE_HIVE_READ || use == HV_FILE_HIVE_WRITE;
}

static bool is_log_use(enum hv_file_use use)
{
	return use == HV_FILE_LOG_READ || use == HV_FILE_LOG_WRITE ||
	       use == HV_FILE_LOG_EMPTY;
}

static bool writes(enum hv_file_use use)
{
	return use != HV_FILE_HIVE_READ && use != HV_FILE_LOG_READ &&
	       use != HV_FILE_DIR;
}

/* What a refusal is reported as: the hive's own file that is not a file
 * is not a hive; anything else is a failed I/O of the operation. */
static int refusal(enum hv_file_use use)
{
	return is_hive_use(use) ? HIVE_E_NOT_HIVE : HIVE_E_IO;
}

static int refuse_type(const char *path, mode_t mode, enum hv_file_use use)
{
	if (S_ISLNK(mode))
		return HIVE_FAIL(refusal(use), "%s is a symbolic link (not "
				 "followed: it could lead to any file)", path);
	return HIVE_FAIL(refusal(use), "%s is not a regular file (%s)", path,
			 kind_of(mode));
}

static bool type_fits(mode_t mode, enum hv_file_use use)
{
	return use == HV_FILE_DIR ? S_ISDIR(mode) : S_ISREG(mode);
}

/* Everything decided from the open file itself, before any byte moves. */
static int check_open_file(const char *path, int fd, enum hv_file_use use,
			   const struct hv_file_id *owner,
			   struct hv_file_id *id)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return HIVE_FAIL(HIVE_E_IO, "%s: stat: %s", path, strerror(errno));
	if (!type_fits(st.st_mode, use))
		return refuse_type(path, st.st_mode, use);
	if (is_log_use(use) && owner && owner->known && st.st_uid != owner->uid &&
	    st.st_uid != 0)
		return HIVE_FAIL(HIVE_E_IO, "%s is owned by uid %u, not by the "
				 "hive's owner (uid %u) or root", path,
				 (unsigned)st.st_uid, owner->uid);
	if (writes(use) && st.st_nlink != 1)
		return HIVE_FAIL(use == HV_FILE_HIVE_WRITE ? HIVE_E_READ_ONLY
							     : HIVE_E_IO,
				 "%s has %ju hard links: writing it would change "
				 "what the other names show", path,
				 (uintmax_t)st.st_nlink);
	if (id) {
		id->dev = (uint64_t)st.st_dev;
		id->ino = (uint64_t)st.st_ino;
		id->nlink = (uint64_t)st.st_nlink;
		id->uid = (uint32_t)st.st_uid;
		id->gid = (uint32_t)st.st_gid;
		id->mode = (uint32_t)st.st_mode;
		id->known = true;
	}
	return HIVE_OK;
}

static int open_flags(enum hv_file_use use)
{
	int base = O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;

	switch (use) {
	case HV_FILE_HIVE_READ:
	case HV_FILE_LOG_READ:
		return base | O_RDONLY;
	case HV_FILE_DIR:
		return base | O_RDONLY | O_DIRECTORY;
	case HV_FILE_NEW:
		return base | O_RDWR | O_CREAT | O_EXCL;
	default:
		return base | O_RDWR;
	}
}

/* An error of open(2) itself, after the name looked acceptable. */
static int open_failed(const char *path, int err, enum hv_file_use use)
{
	/* O_NOFOLLOW says ELOOP for a link swapped in after the lstat. */
	if (err == ELOOP)
		return refuse_type(path, S_IFLNK, use);
	if (err == EISDIR || (err == ENOTDIR && use == HV_FILE_DIR))
		return refuse_type(path, use == HV_FILE_DIR ? S_IFREG : S_IFDIR,
				   use);
	if (err == ENXIO)
		return HIVE_FAIL(refusal(use), "%s is not a regular file (a "
				 "socket or a device)", path);
	if (use == HV_FILE_HIVE_WRITE &&
	    (err == EACCES || err == EPERM || err == EROFS))
		return HIVE_FAIL(HIVE_E_READ_ONLY, "%s",
				 err == EROFS ? "the file is on a read-only file system"
					      : "the file is not writable");
	if (use == HV_FILE_NEW && err == EEXIST)
		return HIVE_FAIL(HIVE_E_EXISTS, "%s exists", path);
	return HIVE_FAIL(hv_io_error(err), "opening %s: %s", path, strerror(err));
}

/* Clear O_NONBLOCK once the file is known to be a regular file (or the
 * folder): regular files ignore it, but nothing should rely on that. */
static int make_blocking(const char *path, int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0)
		return HIVE_FAIL(HIVE_E_IO, "%s: fcntl: %s", path, strerror(errno));
	return HIVE_OK;
}

/* A new log: exclusive, never through a name someone planted meanwhile;
 * the hive's mode bits (not the umask's) and, where permitted, its owner,
 * so the hive's owner can go on using the log. */
static int create_log(const struct hive_io *io, const char *path,
		      const struct hv_file_id *owner, int *fdp)
{
	mode_t mode = owner && owner->known ? (mode_t)(owner->mode & 0666) : 0600;
	int fd = io->open(io->ctx, path,
			  O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_NONBLOCK |
				  O_NOCTTY | O_CLOEXEC, mode);

	if (fd < 0)
		return fd;
	if (fchmod(fd, mode) < 0 ||
	    (owner && owner->known &&
	     fchown(fd, (uid_t)owner->uid, (gid_t)owner->gid) < 0 && errno != EPERM)) {
		int err = errno;
		io->close(io->ctx, fd);
		unlink(path);
		return -err;
	}
	*fdp = fd;
	return 0;
}

int hv_file_open(const struct hive_io *io, const char *path,
		 enum hv_file_use use, const struct hv_file_id *owner,
		 int *fdp, struct hv_file_id *id)
{
	struct hive_io dflt;
	struct stat st;
	int fd = -1, ret;

	*fdp = -1;
	if (!io) {
		hv_io_default(&dflt);
		io = &dflt;
	}
	/* A name planted between two tries is looked at again, a few times. */
	for (int attempt = 0; fd < 0; attempt++) {
		if (use != HV_FILE_NEW) {
			if (lstat(path, &st) == 0) {
				if (!type_fits(st.st_mode, use))
					return refuse_type(path, st.st_mode, use);
			} else if (errno != ENOENT || attempt >= 3) {
				return HIVE_FAIL(hv_io_error(errno), "%s: %s", path,
						 strerror(errno));
			} else if (use == HV_FILE_LOG_EMPTY) {
				return HIVE_OK; /* nothing to empty */
			} else if (use == HV_FILE_LOG_WRITE) {
				int err = create_log(io, path, owner, &fd);
				if (err == -EEXIST)
					continue;
				if (err < 0)
					return open_failed(path, -err, use);
				break;
			} else {
				return HIVE_FAIL(HIVE_E_IO, "%s: %s", path,
						 strerror(ENOENT));
			}
		}
		/* A new file gets the umask's mode unless the caller sets one. */
		fd = io->open(io->ctx, path, open_flags(use),
			      use == HV_FILE_NEW ? 0666 : 0600);
		if (fd == -ENOENT && use == HV_FILE_LOG_WRITE && attempt < 3) {
			fd = -1;
			continue; /* removed since the lstat: create it */
		}
		if (fd < 0)
			return open_failed(path, -fd, use);
	}
	ret = check_open_file(path, fd, use, owner, id);
	if (ret == HIVE_OK)
		ret = make_blocking(path, fd);
	if (ret != HIVE_OK) {
		io->close(io->ctx, fd);
		return ret;
	}
	*fdp = fd;
	return HIVE_OK;
}

int hive_open_file(const char *path, int *fd)
{
	return hv_file_open(NULL, path, HV_FILE_HIVE_READ, NULL, fd, NULL);
}

void hv_file_close(const struct hive_io *io, int fd)
{
	if (fd < 0)
		return;
	if (io)
		io->close(io->ctx, fd);
	else
		close(fd);
}

int hv_file_read(const struct hive_io *io, int fd, const char *path,
		 uint8_t *buf, size_t len, size_t *got)
{
	struct hive_io dflt;

	if (!io) {
		hv_io_default(&dflt);
		io = &dflt;
	}
	*got = 0;
	while (*got < len) {
		long n = io->pread(io->ctx, fd, buf + *got, len - *got,
				   (int64_t)*got);
		if (n < 0)
			return HIVE_FAIL(HIVE_E_IO, "reading %s: %s", path,
					 strerror((int)-n));
		if (n == 0)
			break; /* shorter than it was: the caller takes what is there */
		*got += (size_t)n;
	}
	return HIVE_OK;
}

/* The descriptor a reader keeps for its shared lock, closed with it. */
struct held_fd {
	struct hive_io io;
	int fd;
};

static int release_held_fd(struct held_fd *held)
{
	hv_file_close(&held->io, held->fd);
	return 0;
}

int hv_file_hold(void *mem, const struct hive_io *io, int fd)
{
	struct held_fd *held = talloc(mem, struct held_fd);

	if (!held)
		return HIVE_FAIL(HIVE_E_NOMEM, "file handle");
	held->io = *io;
	held->fd = fd;
	talloc_set_destructor(held, release_held_fd);
	return HIVE_OK;
}

int hv_file_still_named(const struct hive *h)
{
	struct stat named, open;

	/*
	 * The name must still lead to the file this handle holds: a hive
	 * deleted or replaced (mv NEW HIVE) while open would otherwise have
	 * its log written beside a file it does not describe, where a later
	 * open could replay it into the wrong hive.
	 */
	if (fstat(h->lock_fd, &open) < 0)
		return HIVE_FAIL(HIVE_E_IO, "%s: stat: %s", h->path, strerror(errno));
	if (open.st_nlink == 0 || lstat(h->path, &named) < 0 ||
	    named.st_dev != open.st_dev || named.st_ino != open.st_ino)
		return HIVE_FAIL(HIVE_E_IO, "%s was deleted or replaced while "
				 "open; changes since the last commit are not "
				 "written", h->path);
	if (open.st_nlink != 1)
		return HIVE_FAIL(HIVE_E_IO, "%s has %ju hard links: writing it "
				 "would change what the other names show; "
				 "changes since the last commit are not written",
				 h->path, (uintmax_t)open.st_nlink);
	return HIVE_OK;
}

int hive_path_check(const struct hive *h)
{
	/* Only a handle that writes its file holds one to compare with. */
	if (h->lock_fd < 0)
		return HIVE_OK;
	return hv_file_still_named(h);
}
