/*
 * hivefs.h — the state of one mount, which every layer of the FUSE driver
 * shares, and the rules they all follow.  Which file does what, and which
 * may call which, is drawn in the README's "Architecture" section.
 *
 * Locking.  The engine (hive.h) is not thread-safe and the inode table is
 * shared, so one mutex, struct hivefs.lock, is held around every use of
 * either.
 *
 * Errors.  Two vocabularies, never one int that could be either:
 *   - the engine, and the helpers beside it that know no mount (names.c,
 *     view.c, dir.c, inode.c), return HIVE_OK or a HIVE_E_* code: >= 0;
 *   - everything from the node layer up (node.c and the files above it)
 *     returns 0 or a negative errno, as libfuse does.
 * fs_errno() (node.h) is the one conversion, where an engine result
 * enters the node layer or above; fs_reply_err() is the only way an error
 * reaches the kernel, and it takes only 0 or a negative errno (a positive
 * value there is an engine code that skipped the conversion: it aborts).
 */
#ifndef HIVEFS_H
#define HIVEFS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "dir.h"
#include "hive.h"
#include "names.h"

struct inode_table;
struct open_file;
struct wbuf;
struct dir_cache;
struct scratch_table;
struct cellmap;
struct fuse_session;
struct stale_worker;
struct name_worker;

/*
 * The last content written to a value through a file, kept a while so
 * that setting user.winreg.type or user.winreg.raw afterwards (cp -a,
 * rsync -aX, tar --xattrs set them after the data) re-interprets exactly
 * the bytes the program wrote, not their normalised text (store.c).
 */
#define RECENT_WRITES 16
struct recent_write {
	uint64_t ino;      /* 0 = unused */
	uint32_t parent, cell;
	char *bytes;       /* malloc'd */
	size_t len;
	bool pending;      /* stored converted (as text), no type set since:
			      user.winreg.raw=1 stores them as written */
};

/* The state of one mount. */
struct hivefs {
	pthread_mutex_t lock;          /* guards hive and inodes */
	struct hive *hive;             /* under lock */
	struct inode_table *inodes;    /* under lock */

	/* Set before the first operation (handles: by init); constant
	 * afterwards. */
	const char *hive_path;         /* absolute */
	bool raw;                      /* -o raw: every value shown raw */
	bool handles;                  /* open makes handles (else the
					  kernel opens, see init) */
	bool dir_handles;              /* opendir makes handles (else the
					  kernel opens, see read.c) */
	bool verbose;                  /* -d or -f: report damage on stderr */
	uid_t uid;
	gid_t gid;
	mode_t umask;
	/* The modes keys and values show (main.c, derived from the hive
	 * file's mode, the umask and whether changes are accepted). */
	mode_t key_mode, value_mode;
	/* The hive file as opened at mount time (main.c), kept for the life
	 * of the mount so its inode cannot be reused (hive_path_check() tells
	 * when the path names another file). */
	int hive_fd;
	double timeout;                /* values' attributes, seconds */
	double entry_timeout;          /* names, keys' attributes, seconds
					  (inode.h) */
	struct hive_info info;

	/* Cell usage for statfs, counted again after changes (under lock). */
	struct hive_space space;
	bool space_known;
	uint64_t space_changes;        /* fs->changes when counted */

	/* Read-only mounts: the value being read in pieces, rendered once
	 * (node.c, node_read_snapshot; under lock). */
	struct open_file *big_read;
	uint32_t big_read_cell, big_read_parent;
	/* The listings of the keys listed or looked up last (node.c; under
	 * lock), each valid while `changes` stays what it was. */
	struct dir_cache *dir_cache;
	/* The value prefetcher (prefetch.c), unless
	 * -o noprefetch. */
	bool prefetch_values;
	struct prefetch *prefetch;

	/* Read-write mounts.  Constant once mounted: */
	bool writable;
	bool sync;                     /* -o sync: commit every change */
	unsigned commit_interval;      /* -o commit=SECONDS; 0: none */
	struct fuse_session *se;       /* for cache invalidation */
	struct stale_worker *stale_worker; /* stale.c */
	struct name_worker *name_worker;   /* stale.c */
	atomic_uint readers;           /* descriptors open for reading
					  (read-write mounts; stale.c) */
	/* Under lock: */
	struct wbuf *writers;          /* values open for writing */
	struct recent_write recent[RECENT_WRITES];
	/* The sizes of values deleted while the kernel had them, for
	 * descriptors still open on them (node.c, node_deleted). */
	struct { uint64_t ino; off_t size; } dead[RECENT_WRITES];
	unsigned dead_next;
	struct scratch_table *scratch;  /* editors' files (scratch.c) */
	/* How values are named: -o typenames (constant once mounted),
	 * the values made as NAME%v (under lock; dir.c). */
	struct dir_names names;
	struct cellmap *value_times;     /* values' mtimes (node.c) */
	struct cellmap *listing_serials; /* readdir order (node.c) */
	unsigned recent_next;
	uint64_t changes;              /* every change counts (node_changed) */
	int commit_error;              /* first failed commit (an engine
					  code, for the exit), or 0 */
	/* The hive's path no longer names the mounted file (deleted or
	 * replaced): nothing more is written, every change is EIO. */
	bool hive_lost;
	char commit_detail[512];       /* why commit_error (for the exit) */
	/* The periodic committer (change.c). */
	pthread_t committer;
	pthread_cond_t wake;
	bool committer_running, stopping;
};

#endif /* HIVEFS_H */
