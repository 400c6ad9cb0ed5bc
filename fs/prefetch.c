/*
 * prefetch.c — a read-only mount brings the values of the keys being
 * walked into the kernel's page cache before they are read.
 *
 * Programs that list a key usually read its values next: tar, cp -r,
 * grep -r, rsync, file managers drawing previews.  Each read would be a
 * round trip to hivefs (a READ request and two wake-ups), and in a walk
 * of a large hive the wake-ups, not the rendering, are most of the time.
 * So when a key is listed, and when a value of a key is read, a background
 * thread renders the key's small values and stores them in the kernel's
 * cache (fuse_lowlevel_notify_store); the reads are then answered by the
 * kernel itself.  A read-only mount never changes, so what is stored
 * stays true.  On a read-write mount a value can change between its
 * rendering here and the kernel taking the pages: values open for writing
 * or marked NODE_STORED are left alone, and if anything changed in the
 * hive meanwhile, or a writer opened the value, the pages just stored are
 * dropped again and the value marked, so no read-only open keeps them
 * (inode.h).
 *
 * A thread of its own, because storing a page waits for its page lock,
 * and a page another reader has locked is unlocked only when hivefs
 * answers that reader's READ: the request loop must stay free to answer
 * it, and the prefetcher holds no lock of hivefs while it stores.
 *
 * Bounds: values up to PREFETCH_VALUE_MAX bytes as shown, at most
 * PREFETCH_VALUES values and PREFETCH_BYTES bytes per key; a queue of
 * PREFETCH_QUEUE keys (a full queue drops the request: prefetching is only
 * a shortcut); a table of recently prefetched keys, so a key is not done
 * twice in a row.  Listings stop prefetching once the pages stored reach
 * a sixteenth of the machine's memory, so a `find` over a huge hive does
 * not push everything else out of the page cache; reads keep prefetching
 * their own key.  The kernel drops these clean pages under memory
 * pressure like any other.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <fuse_lowlevel.h>
#include <talloc.h>

#include "prefetch.h"
#include "worker.h"

#define PREFETCH_VALUE_MAX (64u << 10)
#define PREFETCH_BYTES (2u << 20)
#define PREFETCH_VALUES 1024
#define PREFETCH_QUEUE 256
#define PREFETCH_RECENT 4096 /* a power of two */
/* Attempts at a value whose inode the kernel does not have yet (it makes
 * them while the lister parses the listing), and the pause between. */
#define PREFETCH_ATTEMPTS 3
#define PREFETCH_RETRY_NS 200000L

struct prefetch_request {
	uint32_t key;
	uint64_t read_ino; /* the value whose READ asked for it, or 0 */
	bool listing;
};

struct prefetch {
	struct worker w; /* w.lock guards what follows; never held with
			    fs->lock */
	struct prefetch_request queue[PREFETCH_QUEUE];
	unsigned head, count;
	uint32_t recent[PREFETCH_RECENT]; /* key cells; 0: none */
	uint64_t listing_pages, listing_budget;
	size_t page_size;
	uint64_t inos[PREFETCH_VALUES];   /* the prefetch thread's own */
};

/*
 * Read-write mounts: may value ino hold content its pages do not show
 * (under lock)?  Open for writing, or changed since its pages were last
 * dropped.
 */
static bool changing(struct hivefs *fs, uint64_t ino)
{
	struct node_info n;

	if (!fs->writable)
		return false;
	if (!inode_get(fs->inodes, ino, &n) || (n.flags & NODE_STORED))
		return true;
	for (struct wbuf *w = fs->writers; w; w = w->next)
		if (w->ino == ino)
			return true;
	return false;
}

/*
 * Pages of ino just stored from a rendering made when fs->changes was
 * `version`: on a read-write mount, still the value's content?  If not,
 * they go again.
 */
static void recheck(struct hivefs *fs, uint64_t ino, uint64_t version)
{
	bool drop;

	if (!fs->writable)
		return;
	pthread_mutex_lock(&fs->lock);
	drop = fs->changes != version || changing(fs, ino);
	if (drop)
		inode_set_flags(fs->inodes, ino, NODE_STORED);
	pthread_mutex_unlock(&fs->lock);
	if (drop)
		fuse_lowlevel_notify_inval_inode(fs->se, ino, 0, 0);
}

/* The inodes the kernel has of key's values, except `skip`. */
static size_t known_values(struct hivefs *fs, uint32_t key, uint64_t skip,
			   uint64_t *inos)
{
	void *tmp = talloc_new(NULL);
	hive_value_t *values = NULL;
	size_t count = 0, n = 0;

	if (!tmp)
		return 0;
	pthread_mutex_lock(&fs->lock);
	if (hive_key_values(tmp, fs->hive, key, &values, &count) == HIVE_OK) {
		for (size_t i = 0; i < count && n < PREFETCH_VALUES; i++) {
			uint64_t ino = inode_peek(fs->inodes, NODE_VALUE, key,
						  values[i]);

			if (ino && ino != skip && !changing(fs, ino))
				inos[n++] = ino;
		}
	}
	pthread_mutex_unlock(&fs->lock);
	talloc_free(tmp);
	return n;
}

/*
 * Store the rendering of each of p->inos[0..n); they then hold those the
 * kernel did not have yet.  Returns how many are left, and adds the pages stored.
 */
static size_t store_values(struct hivefs *fs, struct prefetch *p, size_t n,
			   size_t *bytes, uint64_t *pages)
{
	uint64_t *inos = p->inos;
	size_t left = 0;

	for (size_t i = 0; i < n && *bytes < PREFETCH_BYTES; i++) {
		struct open_file *fh;
		int ret;

		if (node_render_value(fs, inos[i], &fh) != 0)
			continue; /* damaged: its own READ reports it */
		if (fh->size > 0 && fh->size <= PREFETCH_VALUE_MAX) {
			struct fuse_bufvec bv = FUSE_BUFVEC_INIT(fh->size);

			bv.buf[0].mem = (void *)fh->data;
			ret = fuse_lowlevel_notify_store(fs->se, inos[i], 0,
							 &bv, 0);
			if (ret == -ENOENT) {
				inos[left++] = inos[i];
			} else if (ret == 0) {
				recheck(fs, inos[i], fh->version);
				*bytes += fh->size;
				*pages += (fh->size + p->page_size - 1) /
					  p->page_size;
			}
		}
		open_file_put(fh);
	}
	return left;
}

static void prefetch_run(struct hivefs *fs, struct prefetch *p,
			 const struct prefetch_request *r)
{
	size_t n = known_values(fs, r->key, r->read_ino, p->inos), bytes = 0;
	uint64_t pages = 0;

	for (int attempt = 1; n > 0; attempt++) {
		struct timespec pause = { 0, PREFETCH_RETRY_NS };

		n = store_values(fs, p, n, &bytes, &pages);
		if (n == 0 || attempt == PREFETCH_ATTEMPTS)
			break;
		nanosleep(&pause, NULL);
	}
	if (r->listing) {
		pthread_mutex_lock(&p->w.lock);
		p->listing_pages += pages;
		pthread_mutex_unlock(&p->w.lock);
	}
}

static unsigned recent_slot(uint32_t key)
{
	return (key * 2654435761u) & (PREFETCH_RECENT - 1);
}

static void *prefetch_thread(void *arg)
{
	struct hivefs *fs = arg;
	struct prefetch *p = fs->prefetch;

	pthread_mutex_lock(&p->w.lock);
	for (;;) {
		struct prefetch_request r;

		while (!p->w.stopping && p->count == 0)
			pthread_cond_wait(&p->w.wake, &p->w.lock);
		if (p->w.stopping)
			break;
		r = p->queue[p->head];
		p->head = (p->head + 1) % PREFETCH_QUEUE;
		p->count--;
		pthread_mutex_unlock(&p->w.lock);
		prefetch_run(fs, p, &r);
		pthread_mutex_lock(&p->w.lock);
	}
	pthread_mutex_unlock(&p->w.lock);
	return NULL;
}

int prefetch_start(struct hivefs *fs)
{
	struct prefetch *p = calloc(1, sizeof(*p));
	long pages = sysconf(_SC_PHYS_PAGES);

	long page = sysconf(_SC_PAGESIZE);

	if (!p)
		return -ENOMEM;
	p->listing_budget = pages > 0 ? (uint64_t)pages / 16 : 16384;
	p->page_size = page > 0 ? (size_t)page : 4096;
	fs->prefetch = p;
	if (worker_start(&p->w, prefetch_thread, fs) != 0) {
		fs->prefetch = NULL;
		free(p);
		return -EAGAIN;
	}
	return 0;
}

void prefetch_stop(struct hivefs *fs)
{
	struct prefetch *p = fs->prefetch;

	if (!p)
		return;
	worker_stop(&p->w);
	fs->prefetch = NULL;
	free(p);
}

void prefetch_key(struct hivefs *fs, uint32_t key, uint64_t read_ino)
{
	struct prefetch *p = fs->prefetch;
	unsigned slot = recent_slot(key);

	if (!p)
		return;
	pthread_mutex_lock(&p->w.lock);
	if (p->recent[slot] != key && p->count < PREFETCH_QUEUE &&
	    (read_ino || p->listing_pages < p->listing_budget)) {
		unsigned tail = (p->head + p->count) % PREFETCH_QUEUE;

		p->recent[slot] = key;
		p->queue[tail] = (struct prefetch_request){
			.key = key, .read_ino = read_ino, .listing = !read_ino,
		};
		p->count++;
		pthread_cond_signal(&p->w.wake);
	}
	pthread_mutex_unlock(&p->w.lock);
}
