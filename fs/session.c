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
#include "session.h"
#include "stale.h"
#include "store.h"
#include "xattr.h"

static void session_init(void *userdata, struct fuse_conn_info *conn)
{
	struct hivefs *fs = userdata;

	/*
	 * A read-only mount needs no snapshots: the kernel can open files
	 * and directories by itself, keeping their pages and listings
	 * cached, which saves four of the six round trips a directory costs
	 * a walk and two of the three of a file.  Kernels without that
	 * support, and -o handles, get open/opendir handles.
	 */
	if (fs->writable || !(conn->capable & FUSE_CAP_NO_OPEN_SUPPORT) ||
	    !(conn->capable & FUSE_CAP_NO_OPENDIR_SUPPORT))
		fs->handles = true;
	/* O_TRUNC comes with open, so a value is never stored empty first. */
	if (conn->capable & FUSE_CAP_ATOMIC_O_TRUNC)
		conn->want |= FUSE_CAP_ATOMIC_O_TRUNC;
	/* FILETIME counts 100 ns. */
	conn->time_gran = 100;
	/* Every listing is worth its attributes: tools stat what they list. */
	if (conn->capable & FUSE_CAP_READDIRPLUS)
		conn->want |= FUSE_CAP_READDIRPLUS;
	conn->want &= ~FUSE_CAP_READDIRPLUS_AUTO;
	if (!fs->writable && fs->prefetch_values && prefetch_start(fs) != 0)
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

	if (!fs->handles)
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

	if (fh && fh->writable)
		file_read(req, fh, size, off);
	else
		read_read(req, ino, size, off, fi);
}

static void session_release(fuse_req_t req, fuse_ino_t ino,
			    struct fuse_file_info *fi)
{
	struct open_file *fh = (struct open_file *)(uintptr_t)fi->fh;

	if (fh && fh->writable)
		file_release(req, ino, fi);
	else
		read_release(req, ino, fi);
}

const struct fuse_lowlevel_ops hivefs_ops = {
	.init = session_init,
	.destroy = session_destroy,
	/* read.c */
	.lookup = read_lookup,
	.forget = read_forget,
	.forget_multi = read_forget_multi,
	.getattr = read_getattr,
	.opendir = read_opendir,
	.readdir = read_readdir,
	.readdirplus = read_readdirplus,
	.releasedir = read_releasedir,
	.statfs = read_statfs,
	.access = read_access,
	/* read.c or file.c, by descriptor */
	.open = session_open,
	.read = session_read,
	.release = session_release,
	/* file.c */
	.write = file_write,
	.flush = file_flush,
	.fsync = file_fsync,
	.fsyncdir = file_fsyncdir,
	.setattr = file_setattr,
	/* entry.c */
	.create = entry_create,
	.mknod = entry_mknod,
	.mkdir = entry_mkdir,
	.unlink = entry_unlink,
	.rmdir = entry_rmdir,
	.rename = entry_rename,
	.link = entry_link,
	.symlink = entry_symlink,
	/* xattr.c */
	.getxattr = xattr_getxattr,
	.listxattr = xattr_listxattr,
	.setxattr = xattr_setxattr,
	.removexattr = xattr_removexattr,
};
