/*
 * session.c — the session layer: the table of operations libfuse calls
 * (at the bottom: the driver's table of contents), what starts and stops
 * with the session (the helper threads, the final store and commit), and
 * the operations that go to read.c or file.c depending on the descriptor.
 * It is the only file that sees every handler.
 */
#include <errno.h>
#include <fcntl.h>

#include "change.h"
#include "entry.h"
#include "file.h"
#include "prefetch.h"
#include "read.h"
#include "scratch.h"
#include "session.h"
#include "stale.h"
#include "store.h"
#include "xattr.h"

static void session_init(void *userdata, struct fuse_conn_info *conn)
{
	struct hivefs *fs = userdata;

	/*
	 * The kernel can open files and directories by itself, keeping
	 * their pages and listings cached, which saves four of the six
	 * round trips a directory costs a walk and two of the three of a
	 * file.  Directories: on every mount, as readdir needs no state per
	 * open directory (read.c).  Files: on read-only mounts; a read-write
	 * mount holds a copy per descriptor open for writing (file.c), and
	 * the kernel, once told to open files itself, sends no open at all.
	 * Nor would it save a read-write walk anything: with no open, every
	 * close (a reader's too) sends a FLUSH the caller waits for, where
	 * today only the OPEN is waited for and the RELEASE is not (cold
	 * find + tar of SYSTEM, rw against ro: 1.33x that way, 1.31x with
	 * handles; with neither OPEN nor FLUSH, 1.14x, at the price of
	 * close reporting nothing).
	 * Kernels without that support, and -o handles, get handles.
	 */
	if (fs->writable || !(conn->capable & FUSE_CAP_NO_OPEN_SUPPORT))
		fs->handles = true;
	if (!(conn->capable & FUSE_CAP_NO_OPENDIR_SUPPORT))
		fs->dir_handles = true;
	/* O_TRUNC comes with open, so a value is never stored empty first. */
	if (conn->capable & FUSE_CAP_ATOMIC_O_TRUNC)
		conn->want |= FUSE_CAP_ATOMIC_O_TRUNC;
	/* FILETIME counts 100 ns. */
	conn->time_gran = 100;
	/* Every listing is worth its attributes: tools stat what they list. */
	if (conn->capable & FUSE_CAP_READDIRPLUS)
		conn->want |= FUSE_CAP_READDIRPLUS;
	conn->want &= ~FUSE_CAP_READDIRPLUS_AUTO;
	if (fs->prefetch_values && prefetch_start(fs) != 0)
		fuse_log(FUSE_LOG_ERR, "hivefs: cannot start prefetching; "
			 "every value is read on demand\n");
	if (stale_start(fs) != 0)
		fuse_log(FUSE_LOG_ERR, "hivefs: cannot start the invalidation "
			 "thread; caches are invalidated by the request loop\n");
	if (change_start(fs) != 0)
		fuse_log(FUSE_LOG_ERR, "hivefs: cannot start the periodic "
			 "commits; changes are committed on fsync and unmount\n");
}

static void session_destroy(void *userdata)
{
	struct hivefs *fs = userdata;

	prefetch_stop(fs);
	stale_stop(fs);
	change_stop(fs);
	file_store_all(fs);
	pthread_mutex_lock(&fs->lock);
	(void)change_commit(fs);
	recent_forget_all(fs);
	node_caches_free(fs);
	scratch_free_all(fs);
	pthread_mutex_unlock(&fs->lock);
}

/*
 * A descriptor that may write is file.c's (its own copy of the content);
 * one that only reads is read.c's (a snapshot).  Without handles (a
 * read-only mount whose kernel opens files itself) there is no open.
 */
static void session_open(fuse_req_t req, fuse_ino_t ino,
			 struct fuse_file_info *fi)
{
	struct hivefs *fs = fs_of(req);

	if (scratch_ino(ino))
		scratch_open(req, ino, fi);
	else if (!fs->handles)
		fs_reply_err(req, -ENOSYS); /* the kernel opens it itself */
	else if ((fi->flags & O_ACCMODE) == O_RDONLY && !(fi->flags & O_TRUNC))
		read_open(req, ino, fi);
	else if (fs->writable)
		file_open(req, ino, fi);
	else
		fs_reply_err(req, -EROFS);
}

static void session_read(fuse_req_t req, fuse_ino_t ino, size_t size,
			 off_t off, struct fuse_file_info *fi)
{
	struct open_file *fh = (struct open_file *)(uintptr_t)fi->fh;

	if (scratch_ino(ino))
		scratch_read(req, ino, size, off);
	else if (fh && fh->writable)
		file_read(req, fh, size, off);
	else
		read_read(req, ino, size, off, fi);
}

static void session_release(fuse_req_t req, fuse_ino_t ino,
			    struct fuse_file_info *fi)
{
	struct open_file *fh = (struct open_file *)(uintptr_t)fi->fh;

	if (scratch_ino(ino))
		scratch_release(req, ino);
	else if (fh && fh->writable)
		file_release(req, ino, fi);
	else
		read_release(req, ino, fi);
}

/*
 * Editors' scratch files (scratch.c) have node ids of their own; names
 * are theirs when scratch.c says so, everything else goes on as before.
 */
static void session_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	if (!scratch_lookup(req, parent, name))
		read_lookup(req, parent, name);
}

static void session_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	struct hivefs *fs = fs_of(req);

	if (!scratch_ino(ino)) {
		read_forget(req, ino, nlookup);
		return;
	}
	pthread_mutex_lock(&fs->lock);
	scratch_forget(fs, ino, nlookup);
	pthread_mutex_unlock(&fs->lock);
	fuse_reply_none(req);
}

static void session_forget_multi(fuse_req_t req, size_t count,
				 struct fuse_forget_data *forgets)
{
	struct hivefs *fs = fs_of(req);
	size_t kept = 0;

	/* Scratch ids are forgotten here, the rest by read.c. */
	pthread_mutex_lock(&fs->lock);
	for (size_t i = 0; i < count; i++) {
		if (scratch_ino(forgets[i].ino))
			scratch_forget(fs, forgets[i].ino, forgets[i].nlookup);
		else
			forgets[kept++] = forgets[i];
	}
	pthread_mutex_unlock(&fs->lock);
	read_forget_multi(req, kept, forgets);
}

static void session_getattr(fuse_req_t req, fuse_ino_t ino,
			    struct fuse_file_info *fi)
{
	if (scratch_ino(ino))
		scratch_getattr(req, ino);
	else
		read_getattr(req, ino, fi);
}

static void session_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr,
			    int to_set, struct fuse_file_info *fi)
{
	if (scratch_ino(ino))
		scratch_setattr(req, ino, attr, to_set);
	else
		file_setattr(req, ino, attr, to_set, fi);
}

static void session_opendir(fuse_req_t req, fuse_ino_t ino,
			    struct fuse_file_info *fi)
{
	if (scratch_ino(ino))
		fs_reply_err(req, -ENOTDIR);
	else
		read_opendir(req, ino, fi);
}

static void session_access(fuse_req_t req, fuse_ino_t ino, int mask)
{
	if (scratch_ino(ino))
		fs_reply_err(req, 0);
	else
		read_access(req, ino, mask);
}

static void session_write(fuse_req_t req, fuse_ino_t ino, const char *buf,
			  size_t size, off_t off, struct fuse_file_info *fi)
{
	if (scratch_ino(ino))
		scratch_write(req, ino, buf, size, off);
	else
		file_write(req, ino, buf, size, off, fi);
}

static void session_flush(fuse_req_t req, fuse_ino_t ino,
			  struct fuse_file_info *fi)
{
	if (scratch_ino(ino))
		fs_reply_err(req, 0); /* memory is all there is */
	else
		file_flush(req, ino, fi);
}

static void session_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
			  struct fuse_file_info *fi)
{
	if (scratch_ino(ino))
		fs_reply_err(req, 0);
	else
		file_fsync(req, ino, datasync, fi);
}

static void session_create(fuse_req_t req, fuse_ino_t parent, const char *name,
			   mode_t mode, struct fuse_file_info *fi)
{
	if (scratch_create(req, parent, name, mode, fi))
		return;
	/* The value a backup hid, written anew: it keeps its type. */
	if (scratch_reveal(fs_of(req), parent, name))
		fi->flags = (fi->flags & ~O_EXCL) | O_TRUNC;
	entry_create(req, parent, name, mode, fi);
}

static void session_mknod(fuse_req_t req, fuse_ino_t parent, const char *name,
			  mode_t mode, dev_t rdev)
{
	if (S_ISREG(mode) && scratch_create(req, parent, name, mode, NULL))
		return;
	entry_mknod(req, parent, name, mode, rdev);
}

static void session_symlink(fuse_req_t req, const char *link,
			    fuse_ino_t parent, const char *name)
{
	if (!scratch_symlink(req, link, parent, name))
		entry_symlink(req, link, parent, name);
}

static void session_readlink(fuse_req_t req, fuse_ino_t ino)
{
	if (scratch_ino(ino))
		scratch_readlink(req, ino);
	else
		fs_reply_err(req, -EINVAL);
}

static void session_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	if (!scratch_unlink(req, parent, name))
		entry_unlink(req, parent, name);
}

static void session_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
			   fuse_ino_t newparent, const char *newname,
			   unsigned int flags)
{
	if (!scratch_rename(req, parent, name, newparent, newname, flags))
		entry_rename(req, parent, name, newparent, newname, flags);
}

static void session_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			     size_t size)
{
	if (scratch_ino(ino))
		scratch_getxattr(req, ino, name, size);
	else
		xattr_getxattr(req, ino, name, size);
}

static void session_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	if (scratch_ino(ino))
		scratch_listxattr(req, ino, size);
	else
		xattr_listxattr(req, ino, size);
}

static void session_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			     const char *value, size_t size, int flags)
{
	if (scratch_ino(ino))
		scratch_setxattr(req, ino, name, value, size, flags);
	else
		xattr_setxattr(req, ino, name, value, size, flags);
}

static void session_removexattr(fuse_req_t req, fuse_ino_t ino,
				const char *name)
{
	if (scratch_ino(ino))
		scratch_removexattr(req, ino, name);
	else
		xattr_removexattr(req, ino, name);
}

const struct fuse_lowlevel_ops hivefs_ops = {
	.init = session_init,
	.destroy = session_destroy,
	/* read.c */
	.lookup = session_lookup,
	.forget = session_forget,
	.forget_multi = session_forget_multi,
	.getattr = session_getattr,
	.opendir = session_opendir,
	.readdir = read_readdir,
	.readdirplus = read_readdirplus,
	.releasedir = read_releasedir,
	.statfs = read_statfs,
	.access = session_access,
	/* read.c or file.c, by descriptor */
	.open = session_open,
	.read = session_read,
	.release = session_release,
	/* file.c */
	.write = session_write,
	.flush = session_flush,
	.fsync = session_fsync,
	.fsyncdir = file_fsyncdir,
	.setattr = session_setattr,
	/* entry.c */
	.create = session_create,
	.mknod = session_mknod,
	.mkdir = entry_mkdir,
	.unlink = session_unlink,
	.rmdir = entry_rmdir,
	.rename = session_rename,
	.link = entry_link,
	.symlink = session_symlink,
	.readlink = session_readlink,
	/* xattr.c */
	.getxattr = session_getxattr,
	.listxattr = session_listxattr,
	.setxattr = session_setxattr,
	.removexattr = session_removexattr,
};
