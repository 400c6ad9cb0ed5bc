/*
 * worker.h — a helper thread of the mount (worker.c).  Its loop waits on
 * wake under lock until it has work or stopping is set; worker_stop()
 * sets it and joins.
 */
#ifndef HIVEFS_WORKER_H
#define HIVEFS_WORKER_H

#include <pthread.h>
#include <stdbool.h>

struct worker {
	pthread_t thread;
	pthread_mutex_t lock; /* guards stopping and the owner's queue */
	pthread_cond_t wake;
	bool stopping;
};
int worker_start(struct worker *w, void *(*run)(void *), void *arg);
void worker_stop(struct worker *w);

#endif /* HIVEFS_WORKER_H */
