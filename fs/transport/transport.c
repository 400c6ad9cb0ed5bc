/*
 * transport.c — choosing the transport once, and the seam main.c calls.
 *
 *   -s                        plain.c, one thread: what was asked for
 *   the kernel offers io_uring, no -o nouring:
 *       libfuse < 3.18        uring.c over the loop below (hivefs's own)
 *       libfuse >= 3.18       libfuse's -o io_uring over the loop below
 *   -o spin=USEC (default)    spin.c
 *   -o spin=0                 plain.c, libfuse's worker threads
 *
 * The kernel offers FUSE over io_uring when the fuse module has the
 * enable_uring parameter (Linux 6.14+, built with CONFIG_FUSE_IO_URING)
 * and it is Y: the kernel then sets FUSE_OVER_IO_URING in the INIT
 * request's flags.  The parameter is read here, before mounting, so that
 * on every other kernel (Debian's default is N) no hook of hivefs stands
 * between libfuse and /dev/fuse; uring.c still checks the INIT request
 * itself, as the parameter may change in between.
 *
 * Which io_uring is built is meson's choice (HIVEFS_OWN_URING, from the
 * libfuse version found): libfuse 3.18 brings its own, and a second
 * implementation of the same kernel interface would only be more to keep
 * right.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <fuse_lowlevel.h>

#include "impl.h"

#define URING_PARAM "/sys/module/fuse/parameters/enable_uring"

enum kind { KIND_PLAIN, KIND_SPIN };

struct transport {
	struct transport_wish wish;
	enum kind loop;          /* what serves /dev/fuse */
	bool uring;              /* and io_uring beside it */
	struct fuse_session *se;
	struct uring *own;       /* uring.c, once attached */
};

/* Does the kernel offer FUSE over io_uring to the next mount? */
static bool kernel_offers_uring(bool *has_param)
{
	char c = 0;
	FILE *f = fopen(URING_PARAM, "r");

	*has_param = f != NULL;
	if (!f)
		return false; /* older kernel, or built without it */
	if (fread(&c, 1, 1, f) != 1)
		c = 0;
	fclose(f);
	return c == 'Y' || c == '1';
}

struct transport *transport_choose(const struct transport_wish *wish,
				   struct fuse_args *args)
{
	struct transport *t = calloc(1, sizeof(*t));
	bool has_param = false;

	if (!t)
		return NULL;
	t->wish = *wish;
	t->loop = wish->single_thread || wish->spin_us == 0 ? KIND_PLAIN
							   : KIND_SPIN;
	/* -s: one thread, as asked (the queues would add one per CPU). */
	t->uring = !wish->nouring && !wish->single_thread &&
		   kernel_offers_uring(&has_param);
	if (!t->uring && !wish->nouring && !wish->single_thread &&
	    has_param && wish->verbose)
		fprintf(stderr, "hivefs: note: FUSE over io_uring is off (%s "
				"is N); walks are faster with it on\n",
			URING_PARAM);
#ifndef HIVEFS_OWN_URING
	/*
	 * libfuse's own: asked for by option; its FUSE_URING_ENABLE would
	 * ask for it too, so it goes where io_uring is not to be used.
	 */
	if (!t->uring)
		unsetenv("FUSE_URING_ENABLE");
	else if (fuse_opt_add_arg(args, "-oio_uring") != 0) {
		free(t);
		return NULL;
	} else if (wish->verbose)
		fprintf(stderr, "hivefs: asking libfuse to serve requests over "
				"io_uring\n");
#endif
	return t;
}

void transport_start(struct transport *t, struct fuse_session *se)
{
	t->se = se;
#ifdef HIVEFS_OWN_URING
	/* If libfuse refuses hivefs's I/O, /dev/fuse serves as it would
	 * anyway. */
	if (t->uring)
		t->own = uring_attach(se, t->wish.spin_us, t->wish.verbose);
#endif
}

int transport_run(struct transport *t)
{
	bool (*quiet)(const void *) = NULL;

#ifdef HIVEFS_OWN_URING
	/* Over io_uring only FORGETs come over /dev/fuse. */
	if (t->own)
		quiet = uring_serving;
#endif
	if (t->loop == KIND_SPIN)
		return spin_loop(t->se, t->wish.spin_us, quiet, t->own);
	return plain_loop(t->se, &t->wish);
}

void transport_stop(struct transport *t)
{
#ifdef HIVEFS_OWN_URING
	uring_stop(t->own);
#endif
}

void transport_free(struct transport *t)
{
	if (!t)
		return;
#ifdef HIVEFS_OWN_URING
	uring_free(t->own);
#endif
	free(t);
}
