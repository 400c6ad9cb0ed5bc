/*
 * change.c — the rules every change to the hive follows.
 *
 * Commits (hive_commit: a transaction-log entry, then the primary) happen
 * on fsync and fsyncdir (which return once the change is durable), every
 * fs->commit_interval seconds (a thread), after every change with -o
 * sync, and at unmount.  A failed commit leaves the engine handle
 * poisoned: the caller that asked for it (fsync) gets the error (ENOSPC
 * for a full file system, else EIO), every later change fails with EIO
 * until remount, and the exit status says so.
 *
 * A hive deleted or replaced while mounted (`rm HIVE`, `mv NEW HIVE`):
 * its path no longer names the file in memory, and a commit would write
 * a log beside a file that is not this hive (which a later open might
 * replay into it).  Each commit, and the first change after a commit,
 * first looks whether the path still names the mounted file; once it
 * does not, nothing is written any more, every change and fsync fails
 * with EIO, and the exit status is 1 (the engine checks again as it
 * commits).
 */
#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>

#include "change.h"

/*
 * Does the hive's path still name the mounted file, as its only link
 * (under lock)?  The engine looks; the first time it says no, the mount
 * stops writing for good and says what happened.
 */
static bool hive_still_named(struct hivefs *fs)
{
	char what[sizeof(fs->commit_detail)];
	struct stat named, open;

	if (fs->hive_lost)
		return false;
	if (hive_path_check(fs->hive) == HIVE_OK)
		return true;
	if (lstat(fs->hive_path, &named) != 0)
		snprintf(what, sizeof(what), "the hive was deleted while mounted");
	else if (fs->hive_fd >= 0 && fstat(fs->hive_fd, &open) == 0 &&
		 named.st_dev == open.st_dev && named.st_ino == open.st_ino)
		snprintf(what, sizeof(what), "%s", hive_error_detail());
	else
		snprintf(what, sizeof(what), "the hive was replaced while mounted");
	fs->hive_lost = true;
	if (!fs->commit_error)
		fs->commit_error = HIVE_E_IO;
	snprintf(fs->commit_detail, sizeof(fs->commit_detail), "%s", what);
	fuse_log(FUSE_LOG_ERR, "hivefs: %s: %s: nothing is written any more "
		 "(not beside the file now at that path either); changes fail "
		 "with EIO, and those made since the last commit are lost\n",
		 fs->hive_path, what);
	return false;
}

int change_commit(struct hivefs *fs)
{
	int err;

	if (!fs->writable)
		return 0;
	/* Durable where the hive's name says?  Never again. */
	if (fs->hive_lost)
		return -EIO;
	if (!hive_is_modified(fs->hive))
		return 0;
	if (!hive_still_named(fs))
		return -EIO;
	err = hive_commit(fs->hive);
	/* Said once: a poisoned handle fails each later commit alike. */
	if (err && !fs->commit_error) {
		fuse_log(FUSE_LOG_ERR, "hivefs: %s: commit failed: %s%s%s\n",
			 fs->hive_path, hive_strerror(err),
			 *hive_error_detail() ? ": " : "", hive_error_detail());
		fs->commit_error = err;
		snprintf(fs->commit_detail, sizeof(fs->commit_detail), "%s",
			 hive_error_detail());
	}
	return err ? -hive_error_to_errno(err) : 0;
}

int change_done(struct hivefs *fs)
{
	node_changed(fs);
	return fs->sync ? change_commit(fs) : 0;
}

int change_refused(struct hivefs *fs)
{
	if (!fs->writable)
		return -EROFS;
	if (hive_is_poisoned(fs->hive) || fs->hive_lost)
		return -EIO;
	/* The first change since a commit makes sure the hive is still
	 * there, so that a change after `mv NEW HIVE` fails itself, not
	 * only the next commit. */
	if (!hive_is_modified(fs->hive) && !hive_still_named(fs))
		return -EIO;
	return 0;
}

int change_node(struct hivefs *fs, uint64_t ino, struct node_info *n)
{
	int err = change_refused(fs);

	if (!err && (!inode_get(fs->inodes, ino, n) || (n->flags & NODE_DEAD)))
		err = -ENOENT;
	return err;
}

static void *committer(void *arg)
{
	struct hivefs *fs = arg;

	pthread_mutex_lock(&fs->lock);
	while (!fs->stopping) {
		struct timespec until;

		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += fs->commit_interval;
		pthread_cond_timedwait(&fs->wake, &fs->lock, &until);
		if (!fs->stopping)
			change_commit(fs);
	}
	pthread_mutex_unlock(&fs->lock);
	return NULL;
}

int change_start(struct hivefs *fs)
{
	if (!fs->writable || fs->commit_interval == 0)
		return 0;
	if (pthread_cond_init(&fs->wake, NULL) != 0)
		return -1;
	if (pthread_create(&fs->committer, NULL, committer, fs) != 0) {
		pthread_cond_destroy(&fs->wake);
		return -1;
	}
	fs->committer_running = true;
	return 0;
}

void change_stop(struct hivefs *fs)
{
	if (!fs->committer_running)
		return;
	pthread_mutex_lock(&fs->lock);
	fs->stopping = true;
	pthread_cond_signal(&fs->wake);
	pthread_mutex_unlock(&fs->lock);
	pthread_join(fs->committer, NULL);
	pthread_cond_destroy(&fs->wake);
	fs->committer_running = false;
}
