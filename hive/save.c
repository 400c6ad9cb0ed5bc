/*
 * save.c — writing the whole image as a new, clean hive file (new hives,
 * recovered copies, exports), and locking the hive file for a writer.
 *
 * A save writes the complete image to a temporary file in the target's
 * folder, flushes it, renames it over the target and flushes the folder.  A crash at any point leaves either the
 * old or the new file, each complete; the hive is never truncated and
 * rewritten in place.  The base block is finished on the way out:
 * both sequence numbers advanced and equal, timestamp, bins size and
 * checksum.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <talloc.h>
#include <unistd.h>

#include "layout.h"

static void finish_base_block(struct hive *h)
{
	uint8_t *b = h->image;
	uint32_t seq = le32(b + REGF_SEQ1);

	if (le32(b + REGF_SEQ2) > seq)
		seq = le32(b + REGF_SEQ2);
	put_le32(b + REGF_SEQ1, seq + 1);
	put_le32(b + REGF_SEQ2, seq + 1);
	put_le64(b + REGF_TIMESTAMP, hv_now_filetime());
	put_le32(b + REGF_BINS_SIZE, h->bins_len);
	put_le32(b + REGF_CHECKSUM, hv_header_checksum(b));
}

static int write_all(struct hive *h, int fd, const char *path,
		     const uint8_t *p, size_t len)
{
	uint64_t off = 0;

	while (len) {
		long n = h->io.pwrite(h->io.ctx, fd, p, len, (int64_t)off);
		if (n <= 0)
			return HIVE_FAIL(n < 0 ? hv_io_error((int)-n) : HIVE_E_IO,
					 "writing %s: %s", path,
					 n < 0 ? strerror((int)-n) : "no progress");
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return HIVE_OK;
}

static int fsync_dir(struct hive *h, const char *dir)
{
	int fd, err, ret;

	ret = hv_file_open(&h->io, dir, HV_FILE_DIR, NULL, &fd, NULL);
	if (ret != HIVE_OK)
		return ret;
	err = h->io.fsync(h->io.ctx, fd);
	hv_file_close(&h->io, fd);
	return err ? HIVE_FAIL(hv_io_error(-err), "flushing the folder %s: %s",
			       dir, strerror(-err))
		   : HIVE_OK;
}

/*
 * Open the hive file for writing and lock it against a second writer; the
 * descriptor and the lock live with h.  A file that cannot be written (a
 * read-only medium, permissions) or must not be (it has other hard links)
 * still opens, read-only, with the reason.
 */
int hv_lock(struct hive *h, const char *path)
{
	int fd, ret;

	ret = hv_file_open(&h->io, path, HV_FILE_HIVE_WRITE, NULL, &fd,
			   &h->file);
	if (ret == HIVE_E_READ_ONLY) {
		h->read_only_reason = talloc_strdup(h, hive_error_detail());
		return h->read_only_reason ? HIVE_OK
					   : HIVE_FAIL(HIVE_E_NOMEM, "reason");
	}
	if (ret != HIVE_OK)
		return ret;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int err = errno;
		hv_file_close(&h->io, fd);
		return HIVE_FAIL(err == EWOULDBLOCK ? HIVE_E_READ_ONLY : HIVE_E_IO,
				 err == EWOULDBLOCK
					 ? "the hive is open for writing elsewhere "
					   "(another writer holds its lock)"
					 : "lock: %s", strerror(err));
	}
	if (h->lock_fd >= 0)
		hv_file_close(&h->io, h->lock_fd);
	h->lock_fd = fd;
	return HIVE_OK;
}

/* A name for the temporary file no one can guess in advance. */
static void temp_name(char *buf, size_t size, const char *dir, const char *base)
{
	uint64_t r = 0;

	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r)) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		r ^= (uint64_t)ts.tv_nsec * 0x9E3779B97F4A7C15ull ^
		     (uint64_t)getpid() << 32 ^ (uint64_t)(uintptr_t)buf;
	}
	snprintf(buf, size, "%s/%s.hivefs-%012llx", strcmp(dir, "/") ? dir : "",
		 base, (unsigned long long)(r & 0xFFFFFFFFFFFFull));
}

/*
 * Where a save goes: the folder resolved once (the user chose it), and the
 * name in it, which is replaced by the rename, never followed.
 */
static int resolve_target(void *mem, const char *path, char **dir, char **full,
			  const char **base)
{
	char *copy1 = talloc_strdup(mem, path), *copy2 = talloc_strdup(mem, path);
	char *real;

	if (!copy1 || !copy2)
		return HIVE_FAIL(HIVE_E_NOMEM, "path");
	*base = basename(copy2);
	if (!**base || strcmp(*base, ".") == 0 || strcmp(*base, "..") == 0 ||
	    strcmp(*base, "/") == 0)
		return HIVE_FAIL(HIVE_E_INVALID, "%s: not a file name", path);
	real = realpath(dirname(copy1), NULL);
	if (!real)
		return HIVE_FAIL(hv_io_error(errno), "%s: %s", path, strerror(errno));
	*dir = talloc_strdup(mem, real);
	free(real);
	if (!*dir)
		return HIVE_FAIL(HIVE_E_NOMEM, "path");
	*full = talloc_asprintf(mem, "%s/%s", strcmp(*dir, "/") ? *dir : "", *base);
	return *full ? HIVE_OK : HIVE_FAIL(HIVE_E_NOMEM, "path");
}

static int save_image(struct hive *h, const char *path, bool replace)
{
	size_t len = (size_t)REGF_BLOCK_SIZE + h->bins_len;
	void *tmp = talloc_new(NULL);
	char *dir = NULL, *full = NULL, *temp = NULL;
	const char *base = NULL;
	struct stat st;
	int fd = -1, err, ret;

	if (!tmp)
		return HIVE_FAIL(HIVE_E_NOMEM, "path");
	ret = resolve_target(tmp, path, &dir, &full, &base);
	if (ret != HIVE_OK)
		goto out;
	/* A read-only handle may write a copy elsewhere (recovery, export),
	 * never its own file, by whatever name. */
	bool copy_only = (h->flags & HIVE_OPEN_READ_ONLY) != 0;
	bool same_file = h->path && (strcmp(h->path, full) == 0 ||
				     (h->file.known && lstat(full, &st) == 0 &&
				      (uint64_t)st.st_dev == h->file.dev &&
				      (uint64_t)st.st_ino == h->file.ino));
	if (copy_only && same_file) {
		ret = HIVE_FAIL(HIVE_E_READ_ONLY, "%s", h->read_only_reason);
		goto out;
	}
	temp = talloc_array(tmp, char, strlen(dir) + strlen(base) + 32);
	if (!temp) {
		ret = HIVE_FAIL(HIVE_E_NOMEM, "path");
		goto out;
	}
	ret = HIVE_E_EXISTS;
	for (int tries = 0; ret == HIVE_E_EXISTS && tries < 100; tries++) {
		temp_name(temp, talloc_get_size(temp), dir, base);
		ret = hv_file_open(&h->io, temp, HV_FILE_NEW, NULL, &fd, NULL);
	}
	if (ret != HIVE_OK)
		goto out;
	/*
	 * Keep the permissions and owner of the file replaced — of a regular
	 * file only: a link there is replaced, and what it points to is
	 * nobody's business here.  A new name keeps the umask's mode.
	 */
	if (replace && lstat(full, &st) == 0 && S_ISREG(st.st_mode) &&
	    (fchmod(fd, st.st_mode & 07777) < 0 ||
	     (fchown(fd, st.st_uid, st.st_gid) < 0 && errno != EPERM))) {
		ret = HIVE_FAIL(HIVE_E_IO, "permissions: %s", strerror(errno));
		goto fail;
	}
	finish_base_block(h);
	ret = write_all(h, fd, temp, h->image, len);
	if (ret != HIVE_OK)
		goto fail;
	err = h->io.fsync(h->io.ctx, fd);
	if (err) {
		ret = HIVE_FAIL(hv_io_error(-err), "flushing %s: %s", temp,
				strerror(-err));
		goto fail;
	}
	/* The writer's lock moves to the new file before it gets the name, so
	 * no second writer can slip in between. */
	if (!copy_only && flock(fd, LOCK_EX | LOCK_NB) < 0) {
		ret = HIVE_FAIL(HIVE_E_IO, "lock: %s", strerror(errno));
		goto fail;
	}
	/* Its name: over whatever has it, or, for a new hive, only if
	 * nothing has it (a file that appears meanwhile is never replaced). */
	err = h->io.rename(h->io.ctx, temp, full, replace);
	if (err == -EEXIST) {
		ret = HIVE_FAIL(HIVE_E_EXISTS, "%s exists", full);
		goto fail;
	}
	if (err) {
		ret = HIVE_FAIL(hv_io_error(-err), "renaming %s to %s: %s", temp,
				full, strerror(-err));
		goto fail;
	}
	/* Logs beside the path belonged to the file just replaced; a later
	 * crash must never replay them into this one. */
	char *logs[3];
	if (hv_find_log_names(tmp, full, logs) == HIVE_OK)
		for (unsigned i = 0; i < 3; i++)
			if (logs[i])
				h->io.unlink(h->io.ctx, logs[i]);
	ret = fsync_dir(h, dir);
	if (ret != HIVE_OK || copy_only) {
		hv_file_close(&h->io, fd);
		goto out;
	}
	struct stat now;
	if (fstat(fd, &now) == 0)
		h->file = (struct hv_file_id){
			.dev = (uint64_t)now.st_dev, .ino = (uint64_t)now.st_ino,
			.nlink = (uint64_t)now.st_nlink, .uid = (uint32_t)now.st_uid,
			.gid = (uint32_t)now.st_gid, .mode = (uint32_t)now.st_mode,
			.known = true,
		};
	if (!h->path || strcmp(h->path, full) != 0) {
		talloc_free(h->path);
		h->path = talloc_strdup(h, full);
	}
	if (h->lock_fd >= 0)
		hv_file_close(&h->io, h->lock_fd);
	h->lock_fd = fd;
	/* Whatever logs were found belong to the replaced file. */
	h->log_names[0] = h->log_names[1] = NULL;
	h->logs_reset = false;
	h->modified = false;
	if (h->dirty)
		memset(h->dirty, 0, h->bins_len / REGF_BLOCK_SIZE);
	h->image_len = len;
	ret = HIVE_OK;
	goto out;
fail:
	hv_file_close(&h->io, fd);
	h->io.unlink(h->io.ctx, temp);
out:
	talloc_free(tmp);
	return ret;
}

int hive_save_as(struct hive *h, const char *path)
{
	return save_image(h, path, true);
}

int hive_save_new(struct hive *h, const char *path)
{
	return save_image(h, path, false);
}
