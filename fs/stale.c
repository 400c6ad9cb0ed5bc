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
 *
 * Names (inode.h) are dropped after the answer, on another thread again:
 * dropping one takes its directory's lock, which the kernel holds while
 * a create, unlink or rename there waits for its answer.  That thread
 * only drops names, so whoever holds the lock gets answered meanwhile
 * (by the request loop, or the thread above, which never waits for it).
 *
 * Every value whose content a change touched is marked NODE_STORED here,
 * before the answer: its next read-only open drops the pages the kernel
 * kept (read.c).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

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

struct name_job {
	uint64_t dir;
	struct name_job *next;
	char name[];
};

struct name_worker {
	struct worker w; /* w.lock guards the queue */
	struct name_job *head, *tail;
};

void stale_add(struct stale *s, uint64_t ino)
{
	if (ino && s->n < STALE_MAX) {
		s->pages[s->n] = s->n == 0;
		s->ino[s->n++] = ino;
	}
}

void stale_add_attr(struct stale *s, uint64_t ino)
{
	if (ino && s->n < STALE_MAX) {
		s->pages[s->n] = false;
		s->ino[s->n++] = ino;
	}
}

int stale_add_name(struct stale *s, uint64_t dir, const char *name)
{
	size_t len = strlen(name);

	if (s->nnames == STALE_NAMES || len > HIVEFS_NAME_MAX)
		return -ENOSPC;
	s->names[s->nnames].dir = dir;
	memcpy(s->names[s->nnames].name, name, len + 1);
	s->nnames++;
	return 0;
}

char *stale_typed_name(void *tmp, struct hivefs *fs,
		       const struct node_info *n)
{
	char *name = NULL;

	if (fs->names.typed && n->kind == NODE_VALUE &&
	    node_file_name(tmp, fs, n->parent, NODE_VALUE, n->cell, &name))
		name = NULL;
	return name;
}

void stale_add_renamed(void *tmp, struct stale *s, struct hivefs *fs,
		       const struct node_info *n, const char *before)
{
	uint64_t dir = before ? node_key_ino(fs, n->parent) : 0;
	char *after;

	/* (A name the stale cannot hold stays until its entry times out.) */
	if (dir && (node_file_name(tmp, fs, n->parent, NODE_VALUE, n->cell,
				   &after) ||
		    strcmp(before, after) != 0))
		(void)stale_add_name(s, dir, before);
}

/* Hand the names to their thread (after the answer). */
static void drop_names(struct hivefs *fs, const struct stale *s)
{
	struct name_worker *w = fs->name_worker;

	for (int i = 0; i < s->nnames; i++) {
		size_t len = strlen(s->names[i].name);
		struct name_job *job = w ? malloc(sizeof(*job) + len + 1) : NULL;

		/* Without the thread the name stays until it times out: the
		 * loop must not wait for a directory's lock. */
		if (!job)
			continue;
		job->dir = s->names[i].dir;
		job->next = NULL;
		memcpy(job->name, s->names[i].name, len + 1);
		pthread_mutex_lock(&w->w.lock);
		if (w->tail)
			w->tail->next = job;
		else
			w->head = job;
		w->tail = job;
		pthread_cond_signal(&w->w.wake);
		pthread_mutex_unlock(&w->w.lock);
	}
}

static void *name_thread(void *arg)
{
	struct hivefs *fs = arg;
	struct name_worker *w = fs->name_worker;

	pthread_mutex_lock(&w->w.lock);
	for (;;) {
		struct name_job *job;

		while (!w->w.stopping && !w->head)
			pthread_cond_wait(&w->w.wake, &w->w.lock);
		job = w->head;
		if (!job || w->w.stopping)
			break; /* unmounting: the kernel's names go anyway */
		w->head = job->next;
		if (!w->head)
			w->tail = NULL;
		pthread_mutex_unlock(&w->w.lock);
		fuse_lowlevel_notify_inval_entry(fs->se, job->dir, job->name,
						 strlen(job->name));
		free(job);
		pthread_mutex_lock(&w->w.lock);
	}
	while (w->head) {
		struct name_job *job = w->head;

		w->head = job->next;
		free(job);
	}
	w->tail = NULL;
	pthread_mutex_unlock(&w->w.lock);
	return NULL;
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
		fuse_reply_attr(req, attr, node_attr_timeout(fs, attr));
	drop_names(fs, s);
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
	struct name_worker *nw;

	if (!fs->writable)
		return 0;
	w = calloc(1, sizeof(*w));
	nw = calloc(1, sizeof(*nw));
	if (!w || !nw) {
		free(w);
		free(nw);
		return -ENOMEM;
	}
	fs->stale_worker = w;
	fs->name_worker = nw;
	if (worker_start(&nw->w, name_thread, fs) != 0) {
		fs->name_worker = NULL;
		free(nw);
	}
	if (worker_start(&w->w, stale_thread, fs) != 0) {
		fs->stale_worker = NULL;
		free(w);
	}
	return fs->stale_worker && fs->name_worker ? 0 : -EAGAIN;
}

void stale_stop(struct hivefs *fs)
{
	struct stale_worker *w = fs->stale_worker;
	struct name_worker *nw = fs->name_worker;

	if (w) {
		worker_stop(&w->w);
		fs->stale_worker = NULL;
		free(w);
	}
	if (nw) {
		worker_stop(&nw->w);
		fs->name_worker = NULL;
		free(nw);
	}
}

/* What a change touched is marked for the next read-only open. */
static void mark_stored(struct hivefs *fs, const struct stale *s)
{
	if (!s->n || !s->pages[0])
		return;
	pthread_mutex_lock(&fs->lock);
	inode_set_flags(fs->inodes, s->ino[0], NODE_STORED);
	pthread_mutex_unlock(&fs->lock);
}

void stale_reply(struct hivefs *fs, fuse_req_t req, const struct stale *s,
		 int err, const struct stat *attr)
{
	struct stale_worker *w = fs->stale_worker;
	bool readers = atomic_load(&fs->readers) > 0, pages = false;
	struct stale now = *s;
	struct stale_job *job;

	mark_stored(fs, s);
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
