/*
 * spin.c — the polling transport: one thread that keeps polling /dev/fuse
 * for a few microseconds after each request before it sleeps.
 *
 * Why: a walk (find, tar, grep -r, a file manager) is a chain of short
 * requests, each sent only after the previous answer arrived.  With
 * libfuse's loops the daemon sleeps in read() between them, so every
 * request has to wake it: an inter-processor interrupt, and on a virtual
 * machine an exit to the hypervisor to wake a halted vCPU.  That wake-up
 * costs more than the work of the request (measured on a 2-vCPU VM: a
 * getxattr round trip 47-98 us sleeping, 20 us polling; a cold find over
 * regipy SYSTEM 10.4 s -> 3.1 s).  The walker's next request arrives
 * within a few microseconds of the answer, so a short spin catches it;
 * an idle mount spins at most spin_us once and then sleeps in poll().
 *
 * The spin yields the CPU at each turn rather than pausing on it: with
 * two mounts (diff -r, a copy between hives) two daemons spin while one
 * program waits on them, and on two CPUs a pause kept that program off a
 * CPU; yielding gives it the CPU whenever it is ready to run (diff -r of
 * two read-write mounts of SYSTEM: 11.4 s -> 8.4-8.8 s, a single walk
 * unchanged within noise).
 *
 * One thread serves everything, as the engine runs under one lock anyway.
 * The one thing a handler may wait for is the kernel dropping a value's
 * pages after a change, which waits for any READ of that page in flight;
 * stale.c hands that to a thread of its own when a READ could be.
 *
 * When requests come over io_uring instead (uring.c), this loop only sees
 * FORGET and INTERRUPT, and sleeps at once (the caller's quiet()).
 */
#define _GNU_SOURCE /* ppoll */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include <fuse_lowlevel.h>

#include "impl.h"

uint64_t spin_now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/*
 * Sleep until a request comes or a signal ends the session.  The signals
 * libfuse handles are blocked between the last look at the session and
 * ppoll(), which unblocks them atomically: one arriving in between would
 * otherwise leave the loop asleep with the session already ended.
 */
static int wait_for_request(struct fuse_session *se, int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	sigset_t exit_signals, old;
	int ret = 0;

	sigemptyset(&exit_signals);
	sigaddset(&exit_signals, SIGHUP);
	sigaddset(&exit_signals, SIGINT);
	sigaddset(&exit_signals, SIGTERM);
	if (pthread_sigmask(SIG_BLOCK, &exit_signals, &old) != 0)
		return -EINVAL;
	if (!fuse_session_exited(se) && ppoll(&p, 1, NULL, &old) < 0 &&
	    errno != EINTR)
		ret = -errno;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return ret;
}

int spin_loop(struct fuse_session *se, unsigned spin_us,
	      bool (*quiet)(const void *arg), const void *arg)
{
	struct fuse_buf buf = { .mem = NULL };
	int fd = fuse_session_fd(se);
	int flags = fcntl(fd, F_GETFL);
	uint64_t spin_ns = (uint64_t)spin_us * 1000u, last;
	int res = 0;

	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0)
		return fuse_session_loop(se);
	last = spin_now_ns();
	while (!fuse_session_exited(se)) {
		res = fuse_session_receive_buf(se, &buf);
		if (res == -EAGAIN) {
			if (spin_now_ns() - last < spin_ns &&
			    !(quiet && quiet(arg))) {
				sched_yield();
				continue;
			}
			res = wait_for_request(se, fd);
			if (res < 0)
				break;
			last = spin_now_ns();
			continue;
		}
		if (res == -EINTR)
			continue;
		if (res <= 0)
			break; /* 0: unmounted */
		fuse_session_process_buf(se, &buf);
		last = spin_now_ns();
	}
	free(buf.mem);
	fuse_session_reset(se);
	return res < 0 ? -1 : 0;
}
