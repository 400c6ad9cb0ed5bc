/*
 * stale.c — telling the kernel which of its caches a change made stale,
 * then answering the request that made the change.
 *
 * The invalidation comes before the reply, so that once close() (or
 * setxattr, truncate …) returns, every reader sees the new content.
 * Attributes are dropped at once.  A value's pages matter only to
 * descriptors open for reading now: a read-write mount does not keep
 * pages across opens, so a later open starts from the new content.  With
 * no readable descriptor open (the common case: echo, cp, a creating
 * loop) the pages are left alone.  Dropping them waits for each page's
 * lock, and a page being read or written is locked until hivefs answers
 * that READ or WRITE.  One thread serving every request (the polling
 * loop, -s) would wait for itself, and libfuse's worker threads can all
 * end up waiting (each for a READ only another could answer): so then
 * the invalidation and the reply go to a thread of their own, and the
 * request loop stays free to answer.
 *
 * A reader racing a store can still see the old content, or for an
 * instant the old content cut or padded with zeros to the new size (a
 * READ answered before the store fills a page the kernel could not drop
 * while it was locked); the next read after the reply is right.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include <fuse_lowlevel.h>

#include "stale.h"
#include "worker.h"

struct stale_job {
	fuse_req_t req;
	struct stale st;
	int err;
	bool with_attr;
	struct stat attr;
	struct stale_job *next;
};

struct stale_worker {
	struct worker w; /* w.lock guards the queue */
	struct stale_job *head, *tail;
};

void stale_add(struct stale *s, uint64_t ino)
{
	if (ino && s->n < STALE_MAX) {
		s->pages[s->n] = s->n == 0;
		s->ino[s->n++] = ino;
	}
}

static void send_and_reply(struct hivefs *fs, fuse_req_t req,
			   const struct stale *s, int err,
			   const struct stat *attr)
{
	for (int i = 0; i < s->n; i++)
		fuse_lowlevel_notify_inval_inode(fs->se, s->ino[i],
						 s->pages[i] ? 0 : -1, 0);
	if (err || !attr)
		fs_reply_err(req, err);
	else
		fuse_reply_attr(req, attr, fs->timeout);
}

static void *stale_thread(void *arg)
{
	struct hivefs *fs = arg;
	struct stale_worker *w = fs->stale_worker;

	pthread_mutex_lock(&w->w.lock);
	for (;;) {
		struct stale_job *job;

		while (!w->w.stopping && !w->head)
			pthread_cond_wait(&w->w.wake, &w->w.lock);
		job = w->head;
		if (!job)
			break; /* stopping, and nothing left */
		w->head = job->next;
		if (!w->head)
			w->tail = NULL;
		pthread_mutex_unlock(&w->w.lock);
		send_and_reply(fs, job->req, &job->st, job->err,
			       job->with_attr ? &job->attr : NULL);
		free(job);
		pthread_mutex_lock(&w->w.lock);
	}
	pthread_mutex_unlock(&w->w.lock);
	return NULL;
}

int stale_start(struct hivefs *fs)
{
	struct stale_worker *w;

	if (!fs->writable)
		return 0;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	fs->stale_worker = w;
	if (worker_start(&w->w, stale_thread, fs) != 0) {
		fs->stale_worker = NULL;
		free(w);
		return -EAGAIN;
	}
	return 0;
}

void stale_stop(struct hivefs *fs)
{
	struct stale_worker *w = fs->stale_worker;

	if (!w)
		return;
	worker_stop(&w->w);
	fs->stale_worker = NULL;
	free(w);
}

void stale_reply(struct hivefs *fs, fuse_req_t req, const struct stale *s,
		 int err, const struct stat *attr)
{
	struct stale_worker *w = fs->stale_worker;
	bool readers = atomic_load(&fs->readers) > 0, pages = false;
	struct stale now = *s;
	struct stale_job *job;

	for (int i = 0; i < now.n; i++) {
		now.pages[i] = now.pages[i] && readers;
		pages |= now.pages[i];
	}
	/* Out of memory: the loop waits itself, which is safe unless a READ
	 * or WRITE of these pages is in flight. */
	if (!w || !pages || !(job = calloc(1, sizeof(*job)))) {
		send_and_reply(fs, req, &now, err, attr);
		return;
	}
	job->req = req;
	job->st = now;
	job->err = err;
	job->with_attr = attr != NULL;
	if (attr)
		job->attr = *attr;
	pthread_mutex_lock(&w->w.lock);
	if (w->tail)
		w->tail->next = job;
	else
		w->head = job;
	w->tail = job;
	pthread_cond_signal(&w->w.wake);
	pthread_mutex_unlock(&w->w.lock);
}
