/*
 * transport.h — how requests travel between the kernel and the session's
 * handlers: the one thing main.c knows of it, and nothing else in fs/ does.
 *
 * main.c chooses once, before the session exists, and from then on only
 * calls the functions below in their order.  The implementations behind
 * them (see transport.c for how one is picked):
 *
 *   plain.c  libfuse's own loops: one thread (-s) or its worker threads
 *            (-o spin=0); nothing stands between libfuse and /dev/fuse
 *   spin.c   one thread that polls /dev/fuse for -o spin=USEC after each
 *            request before it sleeps (the default)
 *   uring.c  FUSE over io_uring, hivefs's own (built against libfuse
 *            < 3.18 only): a thread per CPU serving the kernel's rings,
 *            with the polling or libfuse's loop serving what still comes
 *            over /dev/fuse (FORGET, INTERRUPT)
 *
 * Against libfuse >= 3.18 the io_uring choice is libfuse's own `-o
 * io_uring` instead of uring.c, over the same polling or worker loop.
 */
#ifndef HIVEFS_TRANSPORT_H
#define HIVEFS_TRANSPORT_H

#include <stdbool.h>

struct fuse_args;
struct fuse_session;

/* What the command line asked for. */
struct transport_wish {
	unsigned spin_us;          /* -o spin: 0 = libfuse's worker threads */
	bool single_thread;        /* -s: one thread, /dev/fuse only */
	bool nouring;              /* -o nouring: never io_uring */
	bool verbose;              /* -f or -d: say when io_uring serves */
	/* For libfuse's worker threads (fuse_cmdline_opts). */
	int clone_fd;
	unsigned max_idle_threads; /* UINT_MAX: not given */
	unsigned max_threads;
};

struct transport;

/*
 * Choose the transport from the wish and what the kernel offers.  Called
 * before fuse_session_new(): it may add to args an option libfuse must see
 * (-o io_uring with libfuse >= 3.18).  NULL when out of memory.
 */
struct transport *transport_choose(const struct transport_wish *wish,
				   struct fuse_args *args);

/*
 * The session is mounted and not yet serving: put in place what the
 * transport needs between libfuse and /dev/fuse (nothing, unless it is
 * hivefs's own io_uring; if that cannot be, the same loop serves
 * /dev/fuse alone).
 */
void transport_start(struct transport *t, struct fuse_session *se);

/* Serve requests until unmount or a signal: 0, or -1 on an error. */
int transport_run(struct transport *t);

/* The loop has ended: stop the transport's threads (before unmounting). */
void transport_stop(struct transport *t);

/* After fuse_session_destroy(): answers may be sent until then. */
void transport_free(struct transport *t);

#endif
