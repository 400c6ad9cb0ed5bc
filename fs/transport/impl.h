/*
 * impl.h — what the transport's implementations share; private to
 * fs/transport/ (the rest of fs/ includes transport.h only).
 */
#ifndef HIVEFS_TRANSPORT_IMPL_H
#define HIVEFS_TRANSPORT_IMPL_H

#include <stdbool.h>
#include <stdint.h>

#include "transport.h"

struct fuse_session;

/* ---- plain.c ---- */

/*
 * libfuse's loop as the wish says: fuse_session_loop() with -s, else its
 * worker threads.  0 when the session ended by unmount or signal, -1 on
 * error.
 */
int plain_loop(struct fuse_session *se, const struct transport_wish *wish);

/* ---- spin.c ---- */

/*
 * Serve requests on one thread that polls for spin_us after each request
 * before sleeping.  While quiet(arg) is true (requests arrive another way,
 * only FORGETs come over /dev/fuse) it sleeps at once; quiet may be NULL.
 * Returns as plain_loop() does.
 */
int spin_loop(struct fuse_session *se, unsigned spin_us,
	      bool (*quiet)(const void *arg), const void *arg);
/* The monotonic clock in nanoseconds, what polling is measured by. */
uint64_t spin_now_ns(void);

/* ---- uring.c (only against libfuse < 3.18: HIVEFS_OWN_URING) ---- */

struct uring;

/*
 * Give the session hivefs's own I/O so that, once the kernel takes the
 * INIT answer asking for io_uring, requests are served by a thread per CPU,
 * each polling spin_us after small answers.  NULL if libfuse refused (or
 * out of memory): nothing then stands between libfuse and /dev/fuse.
 */
struct uring *uring_attach(struct fuse_session *se, unsigned spin_us,
			   bool verbose);
/* Are requests arriving over io_uring (not /dev/fuse)?  For spin_loop. */
bool uring_serving(const void *u);
/* Stop the queue threads (the session's loop has ended). */
void uring_stop(struct uring *u);
/* After fuse_session_destroy(): answers may come until then. */
void uring_free(struct uring *u);

#endif
