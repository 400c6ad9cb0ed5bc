/*
 * worker.c — a helper thread of the mount (the prefetcher, the cache
 * invalidator): it sleeps on `wake` under `lock` until it has work or
 * `stopping` is set, and is joined at unmount.  Its queue is its owner's.
 */
#include <errno.h>
#include <pthread.h>

#include "worker.h"

int worker_start(struct worker *w, void *(*run)(void *), void *arg)
{
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->wake, NULL);
	w->stopping = false;
	if (pthread_create(&w->thread, NULL, run, arg) != 0) {
		pthread_cond_destroy(&w->wake);
		pthread_mutex_destroy(&w->lock);
		return -EAGAIN;
	}
	return 0;
}

void worker_stop(struct worker *w)
{
	pthread_mutex_lock(&w->lock);
	w->stopping = true;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	pthread_cond_destroy(&w->wake);
	pthread_mutex_destroy(&w->lock);
}
