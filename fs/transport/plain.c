/*
 * plain.c — libfuse's own loops, untouched: one thread reading /dev/fuse
 * with -s, or libfuse's worker threads (-o spin=0).  With -s the one
 * thread is what was asked for (io_uring would add a thread per CPU).
 */
#include <limits.h>

#include <fuse_lowlevel.h>

#include "impl.h"

int plain_loop(struct fuse_session *se, const struct transport_wish *wish)
{
	struct fuse_loop_config *cfg;
	int ret;

	if (wish->single_thread)
		return fuse_session_loop(se);
	cfg = fuse_loop_cfg_create();
	if (!cfg)
		return -1;
	fuse_loop_cfg_set_clone_fd(cfg, (unsigned)wish->clone_fd);
	/* UINT_MAX: not given (libfuse 3.14 would warn about it). */
	if (wish->max_idle_threads != UINT_MAX)
		fuse_loop_cfg_set_idle_threads(cfg, wish->max_idle_threads);
	fuse_loop_cfg_set_max_threads(cfg, wish->max_threads);
	ret = fuse_session_loop_mt(se, cfg);
	fuse_loop_cfg_destroy(cfg);
	return ret;
}
