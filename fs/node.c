/*
 * node.c — the node layer: keys and values as the kernel sees them.
 *
 * Kernel caching: which caches the kernel keeps, and how each is kept
 * right on a read-write mount, is written down in inode.h.
 *
 * This layer's own caches (the listing cache, the snapshot kept for a
 * value read in pieces) serve while fs->changes is what it was when they
 * were made; node_changed(), which every change calls, moves it on.
 */
#define _GNU_SOURCE /* qsort_r */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <talloc.h>

#include "cellmap.h"
#include "node.h"

/* ---- errors ---- */

int fs_errno(struct hivefs *fs, int hive_code)
{
	if (hive_code == HIVE_OK)
		return 0;
	if (fs->verbose && hive_code != HIVE_E_NOT_FOUND) {
		const char *detail = hive_error_detail();

		fuse_log(FUSE_LOG_ERR, "hivefs: %s%s%s\n", hive_strerror(hive_code),
			 *detail ? ": " : "", detail);
	}
	return -hive_error_to_errno(hive_code);
}

void fs_reply_err(fuse_req_t req, int err)
{
	/* A positive value here is an engine code that skipped fs_errno(). */
	if (err > 0) {
		fuse_log(FUSE_LOG_ERR, "hivefs: internal error: engine code %d "
			 "answered as an errno\n", err);
		abort();
	}
	fuse_reply_err(req, -err);
}

/* ---- open files ---- */

/*
 * A read's reply can complete in the kernel, and so let it send RELEASE to
 * another thread, before fuse_reply_buf() has returned: read holds a
 * reference so the snapshot outlives the reply.
 */
void open_file_put(struct open_file *fh)
{
	if (atomic_fetch_sub(&fh->refs, 1) == 1)
		talloc_free(fh);
}

struct wbuf *node_dirty_copy(struct hivefs *fs, uint64_t ino)
{
	struct wbuf *last = NULL;

	for (struct wbuf *w = fs->writers; w; w = w->next)
		if (w->ino == ino && w->dirty && !w->spoiled &&
		    (!last || w->stamp > last->stamp))
			last = w;
	return last;
}

/* ---- attributes ---- */

static struct timespec filetime_to_timespec(uint64_t ft)
{
	/* FILETIME: 100 ns ticks since 1601-01-01 UTC. */
	const int64_t ticks = 10000000, epoch_diff = 11644473600LL;
	struct timespec ts = {
		.tv_sec = (time_t)((int64_t)(ft / ticks) - epoch_diff),
		.tv_nsec = (long)(ft % ticks) * 100,
	};

	return ts;
}

/*
 * Every entry shows the hive file's owner and group and modes derived from
 * its mode (main.c), so `ls -l` says who may read and change the hive;
 * with allow_other the kernel enforces them (default_permissions).
 */
static void common_attr(const struct hivefs *fs, struct timespec t,
			struct stat *st)
{
	st->st_uid = fs->uid;
	st->st_gid = fs->gid;
	st->st_blksize = 4096;
	st->st_atim = st->st_mtim = st->st_ctim = t;
}

/*
 * st_blocks of an entry whose cells (at offset cell) take `bytes`: whole
 * 512-byte blocks, and the part of one that is left counted for some
 * entries and not others, in proportion to its size (chosen by the
 * cell's offset, so it never changes while the cell does not).  Most
 * cells are far smaller than a block: rounding each up made du of an
 * 11 MB hive say 167 MB; this way du of many entries sums to what they
 * take in the hive.
 */
static blkcnt_t cell_blocks(uint32_t cell, uint64_t bytes)
{
	uint32_t pick = (uint32_t)((cell * 2654435761u) >> 7) % 512;

	return (blkcnt_t)(bytes / 512 + (pick < bytes % 512 ? 1 : 0));
}

static int key_attr(struct hivefs *fs, uint32_t cell, struct stat *st)
{
	struct hive_key_stat ks;
	int err = fs_errno(fs, hive_key_stat(fs->hive, cell, &ks));

	if (err)
		return err;
	memset(st, 0, sizeof(*st));
	common_attr(fs, filetime_to_timespec(ks.last_write), st);
	st->st_mode = S_IFDIR | fs->key_mode;
	st->st_nlink = 2 + (nlink_t)ks.subkey_count;
	st->st_size = 4096;
	st->st_blocks = cell_blocks(cell, ks.cell_bytes);
	return 0;
}

/*
 * A value's data, copied out of the hive (on mem).  Data larger than the
 * engine hands out (HIVE_MAX_READ_DATA; Windows allows up to about 1 GiB)
 * is EIO, said once per value on stderr with the bound (under lock).
 */
static int value_data(void *mem, struct hivefs *fs, uint32_t cell,
		      uint32_t *type, uint8_t **data, size_t *len)
{
	static uint32_t last_too_large = HIVE_NO_CELL;
	struct hive_value_stat vs;
	int err = fs_errno(fs, hive_value_stat(fs->hive, cell, &vs));

	if (!err && vs.data_len > HIVE_MAX_READ_DATA) {
		if (cell != last_too_large)
			fuse_log(FUSE_LOG_ERR,
				 "hivefs: value 0x%x: %u bytes of data, more "
				 "than hivefs can read (%u bytes; Windows allows "
				 "up to 65535 segments, about 1 GiB): EIO\n",
				 cell, vs.data_len, HIVE_MAX_READ_DATA);
		last_too_large = cell;
		return -EIO;
	}
	if (!err)
		err = fs_errno(fs, hive_value_data(mem, fs->hive, cell, data, len));
	if (!err)
		*type = vs.type;
	return err;
}

static int value_attr(struct hivefs *fs, uint32_t cell, struct timespec t,
		      bool raw, struct stat *st)
{
	void *tmp = talloc_new(NULL);
	uint8_t *data;
	size_t len;
	uint32_t type;
	struct view v;
	int err = tmp ? value_data(tmp, fs, cell, &type, &data, &len) : -ENOMEM;

	if (!err) {
		view_measure(type, data, len, raw, &v);
		memset(st, 0, sizeof(*st));
		common_attr(fs, t, st);
		st->st_mode = S_IFREG | fs->value_mode;
		st->st_nlink = 1;
		st->st_size = (off_t)v.size;
		/* What the value takes in the hive, not its text's size. */
		struct hive_value_stat vs;

		if (hive_value_stat(fs->hive, cell, &vs) == HIVE_OK)
			st->st_blocks = cell_blocks(cell, vs.cell_bytes);
	}
	talloc_free(tmp);
	return err;
}

/* A key's LastWriteTime, its directory's mtime. */
static struct timespec key_time(struct hivefs *fs, uint32_t key)
{
	struct hive_key_stat ks;

	if (hive_key_stat(fs->hive, key, &ks))
		return filetime_to_timespec(fs->info.last_written);
	return filetime_to_timespec(ks.last_write);
}

/*
 * Values' times.  A hive keeps no time per value, only its key's
 * LastWriteTime, which every change to the key moves on; shown as every
 * value's mtime, storing one value (or a file an editor makes beside it)
 * made all the others look changed, and editors then warned that the
 * file they had open "changed since reading it".  So on a read-write
 * mount a value's mtime is the time it was last stored through this
 * mount, else its key's LastWriteTime as first seen in this mount (kept
 * from the first time one of the key's values was looked at).  A table
 * of (key, value) -> time holds both, the key's with HIVE_NO_CELL as the
 * value; it grows by one entry per value stored and per key whose values
 * are looked at.  Under lock.
 */
/* Remember t for (key, value); forgetting is harmless (the key's time
 * stands in). */
static void time_put(struct hivefs *fs, uint32_t key, uint32_t value,
		     struct timespec t)
{
	struct timespec *slot;

	if (!fs->value_times &&
	    !(fs->value_times = cellmap_new(NULL, sizeof(struct timespec))))
		return;
	slot = cellmap_put(fs->value_times, key, value);
	if (slot)
		*slot = t;
}

/* The mtime value `cell` of key `key` shows. */
static struct timespec value_time(struct hivefs *fs, uint32_t key,
				  uint32_t cell)
{
	const struct timespec *t;
	struct timespec first;

	if (!fs->writable)
		return key_time(fs, key);
	if ((t = cellmap_get(fs->value_times, key, cell)) ||
	    (t = cellmap_get(fs->value_times, key, HIVE_NO_CELL)))
		return *t;
	first = key_time(fs, key);
	time_put(fs, key, HIVE_NO_CELL, first);
	return first;
}

void node_value_stored(struct hivefs *fs, uint32_t key, uint32_t cell)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	/* The key's other values keep the time they showed. */
	(void)value_time(fs, key, cell);
	time_put(fs, key, cell, now);
}

void node_value_moved(struct hivefs *fs, uint32_t from_key,
		      uint32_t from_cell, uint32_t to_key, uint32_t to_cell)
{
	if (fs->writable)
		time_put(fs, to_key, to_cell,
			 value_time(fs, from_key, from_cell));
}

void node_key_moved(struct hivefs *fs, uint32_t old_key, uint32_t new_key)
{
	/*
	 * Values' attributes are cached as long as keys' (inode.h): their
	 * times must not fall back to the key's when its cell moves, nor
	 * reach a key that reuses the old cell.  Its listing keeps its
	 * order (node_entries_change).  Without memory for the move, a
	 * value shows its key's time and a listing the hive's order.
	 */
	(void)cellmap_key_moved(fs->value_times, old_key, new_key);
	(void)cellmap_key_moved(fs->listing_serials, old_key, new_key);
}

bool node_shown_raw(const struct hivefs *fs, unsigned node_flags)
{
	return fs->raw || (node_flags & NODE_VERBATIM);
}

int node_entry_attr(struct hivefs *fs, enum node_kind kind, uint32_t parent,
		    uint32_t cell, unsigned node_flags, struct stat *st)
{
	return kind == NODE_KEY ? key_attr(fs, cell, st)
				: value_attr(fs, cell, value_time(fs, parent, cell),
					     node_shown_raw(fs, node_flags), st);
}

int node_attr(struct hivefs *fs, const struct node_info *n, uint64_t ino,
	      struct stat *st)
{
	struct wbuf *pending = n->kind == NODE_VALUE ? node_dirty_copy(fs, ino)
						      : NULL;
	int err;

	if (n->flags & NODE_DEAD) {
		/* Deleted, still open: what the descriptor holds (the
		 * kernel asks again once its cached size is dropped). */
		memset(st, 0, sizeof(*st));
		common_attr(fs, filetime_to_timespec(fs->info.last_written), st);
		st->st_mode = n->kind == NODE_KEY ? S_IFDIR | fs->key_mode
						  : S_IFREG | fs->value_mode;
		if (!pending)
			for (struct wbuf *w = fs->writers; w; w = w->next)
				if (w->ino == ino &&
				    (!pending || w->stamp > pending->stamp))
					pending = w;
		if (pending) {
			st->st_size = (off_t)pending->len;
		} else {
			for (unsigned i = 0; i < RECENT_WRITES; i++) {
				unsigned j = (fs->dead_next + RECENT_WRITES - 1 - i) %
					     RECENT_WRITES;

				if (fs->dead[j].ino == ino) {
					st->st_size = fs->dead[j].size;
					break;
				}
			}
		}
		st->st_ino = ino;
		return 0;
	}
	err = node_entry_attr(fs, n->kind, n->parent, n->cell, n->flags, st);
	/* Written but not yet stored: the size the writer sees. */
	if (!err && pending)
		st->st_size = (off_t)pending->len;
	st->st_ino = ino;
	return err;
}

void node_deleted(struct hivefs *fs, uint64_t ino)
{
	struct node_info n;
	struct stat st;

	if (!ino || !inode_get(fs->inodes, ino, &n) || (n.flags & NODE_DEAD) ||
	    n.kind != NODE_VALUE || node_attr(fs, &n, ino, &st) != 0)
		return;
	fs->dead[fs->dead_next].ino = ino;
	fs->dead[fs->dead_next].size = st.st_size;
	fs->dead_next = (fs->dead_next + 1) % RECENT_WRITES;
}

double node_attr_timeout(const struct hivefs *fs, const struct stat *st)
{
	/* A key's attributes change only with its own entries, times and
	 * attributes, each of which drops them (inode.h). */
	return S_ISDIR(st->st_mode) ? fs->entry_timeout : fs->timeout;
}

void node_fill_entry(struct hivefs *fs, struct fuse_entry_param *e,
		     uint64_t ino, uint64_t generation)
{
	e->ino = ino;
	e->generation = generation;
	e->attr.st_ino = ino;
	e->attr_timeout = node_attr_timeout(fs, &e->attr);
	/* A name given through another spelling is uncached again by
	 * node_entry_name (inode.h). */
	e->entry_timeout = fs->entry_timeout;
}

int node_file_name(void *mem, struct hivefs *fs, uint32_t dir,
		   enum node_kind kind, uint32_t cell, char **out)
{
	return fs_errno(fs, dir_file_name(mem, fs->hive, &fs->names, dir,
					  kind == NODE_KEY ? ENTRY_KEY
							   : ENTRY_VALUE,
					  cell, out));
}

bool node_name_is_own(struct hivefs *fs, uint64_t dir_ino, enum node_kind kind,
		      uint32_t cell, const char *name)
{
	void *tmp = talloc_new(NULL);
	struct node_info dir;
	char *own;
	bool is_own;

	if (!fs->writable)
		return true;
	is_own = tmp && inode_get(fs->inodes, dir_ino, &dir) &&
		 !(dir.flags & NODE_ALIASES) &&
		 node_file_name(tmp, fs, dir.cell, kind, cell, &own) == 0 &&
		 strcmp(own, name) == 0;
	talloc_free(tmp);
	return is_own;
}

void node_entry_name(struct hivefs *fs, uint64_t dir_ino, const char *name,
		     struct fuse_entry_param *e)
{
	struct node_info n;

	if (!fs->writable || !e->ino)
		return;
	if (!inode_get(fs->inodes, e->ino, &n) || (n.flags & NODE_SYNTHETIC) ||
	    !node_name_is_own(fs, dir_ino, n.kind, n.cell, name))
		e->entry_timeout = 0;
}

int node_entry(struct hivefs *fs, enum node_kind kind, uint32_t dir,
	       uint32_t cell, unsigned flags, struct fuse_entry_param *e)
{
	struct node_info n;
	uint64_t ino, gen;
	int err = fs_errno(fs, inode_lookup(fs->inodes, kind, dir, cell, &ino,
					    &gen));

	if (err)
		return err;
	if (flags)
		inode_set_flags(fs->inodes, ino, flags);
	inode_get(fs->inodes, ino, &n);
	memset(e, 0, sizeof(*e));
	err = node_attr(fs, &n, ino, &e->attr);
	if (err) {
		inode_forget(fs->inodes, ino, 1);
		return err;
	}
	node_fill_entry(fs, e, ino, gen);
	return 0;
}


uint64_t node_key_ino(struct hivefs *fs, uint32_t cell)
{
	struct hive_key_stat ks;

	if (cell == fs->info.root)
		return INODE_ROOT;
	if (hive_key_stat(fs->hive, cell, &ks) != HIVE_OK)
		return 0;
	return inode_peek(fs->inodes, NODE_KEY, ks.parent, cell);
}

/* ---- listings ---- */

/*
 * The listing cache: the listings of the keys listed or looked up last.
 * Readdir without a handle (read-only mounts: the kernel opens directories
 * itself) comes once per buffer of entries, and lookups of "%~" names, or
 * in keys whose listing renamed duplicates, need the listing too; building
 * it for each of those calls made a large key cost the square of its size.
 * A cached listing serves while fs->changes is what it was when it was
 * made (every change to the hive counts there) and its node still stands
 * for that key; the least recently used goes first.  Under fs->lock.
 */
#define DIR_CACHE_SLOTS 8
struct dir_cache {
	struct key_listing *slot[DIR_CACHE_SLOTS];
	uint64_t last_use[DIR_CACHE_SLOTS];
	uint64_t clock;
};

/* The id of the directory above `dir`, if the kernel has it; else root. */
static uint64_t parent_ino(struct hivefs *fs, const struct node_info *dir)
{
	struct hive_key_stat ks;
	uint32_t grandparent;
	uint64_t ino;

	if (dir->parent == HIVE_NO_CELL)
		return INODE_ROOT;
	if (dir->parent == fs->info.root)
		grandparent = HIVE_NO_CELL;
	else if (hive_key_stat(fs->hive, dir->parent, &ks) == HIVE_OK)
		grandparent = ks.parent;
	else
		return INODE_ROOT;
	ino = inode_peek(fs->inodes, NODE_KEY, grandparent, dir->parent);
	return ino ? ino : INODE_ROOT;
}

/* List key node n (ino) into kl (under lock). */
static int listing_fill(struct hivefs *fs, struct key_listing *kl,
			uint64_t ino, const struct node_info *n)
{
	int err = fs_errno(fs, listing_build(kl, fs->hive, &fs->names, n->cell,
					     &kl->listing));

	if (err)
		return err;
	inode_set_flags(fs->inodes, ino,
			NODE_LISTED | (kl->listing->aliases ? NODE_ALIASES : 0));
	kl->cell = n->cell;
	kl->changes = fs->changes;
	kl->ino = ino;
	kl->parent_ino = parent_ino(fs, n);
	kl->key_time = key_time(fs, n->cell);
	return 0;
}

/*
 * Readdir order on a read-write mount.  The kernel opens directories
 * itself, so nothing is kept per open directory, and a listing may be
 * read in pieces while entries come and go: the offset an entry gets
 * must name the same place in the next piece.  A key whose entries never
 * changed in this mount lists in the hive's order, and offsets are
 * positions in it (as on a read-only mount).  Just before its entries
 * first change, the positions are frozen as each entry's serial; entries
 * made afterwards get the next serials when first listed, and a listing
 * goes by serial.  So an offset given out before or after any change
 * still lands between the same two entries that stayed, and a new
 * subkey is listed after the others rather than in name order.  A table
 * (key, entry cell) -> serial holds them, the key's next serial under
 * entry cell 0 (no entry has it); they follow a key whose nk moves
 * (node_key_moved).  Under lock.
 */
static const uint32_t *serial_get(struct hivefs *fs, uint32_t key,
				  uint32_t cell)
{
	return cellmap_get(fs->listing_serials, key, cell);
}

/* 0, or -ENOMEM (then the key keeps listing by position). */
static int serial_put(struct hivefs *fs, uint32_t key, uint32_t cell,
		      uint32_t serial)
{
	uint32_t *slot;

	if (!fs->listing_serials &&
	    !(fs->listing_serials = cellmap_new(NULL, sizeof(uint32_t))))
		return -ENOMEM;
	slot = cellmap_put(fs->listing_serials, key, cell);
	if (!slot)
		return -ENOMEM;
	*slot = serial;
	return 0;
}

void node_entries_change(struct hivefs *fs, uint32_t key)
{
	void *tmp;
	struct listing *l;
	int err = 0;

	if (!fs->writable || serial_get(fs, key, 0))
		return;
	tmp = talloc_new(NULL);
	if (!tmp || listing_build(tmp, fs->hive, &fs->names, key, &l) != HIVE_OK) {
		talloc_free(tmp);
		return; /* damaged: it lists by position */
	}
	for (size_t i = 0; i < l->count && !err; i++)
		if (l->ent[i].cell && !serial_get(fs, key, l->ent[i].cell))
			err = serial_put(fs, key, l->ent[i].cell, (uint32_t)i);
	/* The key's own mark last: without it, it lists by position. */
	if (!err)
		(void)serial_put(fs, key, 0, (uint32_t)l->count);
	talloc_free(tmp);
}

void node_entry_moved(struct hivefs *fs, uint32_t key, uint32_t old,
		      uint32_t now)
{
	const uint32_t *was = serial_get(fs, key, old);

	if (was)
		(void)serial_put(fs, key, now, *was);
}

static int by_serial(const void *a, const void *b, void *offsets)
{
	const off_t *off = offsets;
	size_t i = *(const size_t *)a, j = *(const size_t *)b;

	if (off[i] != off[j])
		return off[i] < off[j] ? -1 : 1;
	return i < j ? -1 : i > j;
}

int node_listing_stable(struct hivefs *fs, struct key_listing *kl)
{
	size_t n = kl->listing->count;
	const uint32_t *next = serial_get(fs, kl->cell, 0);
	off_t *by_entry;

	if (kl->order)
		return 0;
	kl->order = talloc_array(kl, size_t, n ? n : 1);
	kl->stable_off = talloc_array(kl, off_t, n ? n : 1);
	by_entry = talloc_array(kl, off_t, n ? n : 1);
	if (!kl->order || !kl->stable_off || !by_entry) {
		TALLOC_FREE(kl->order);
		TALLOC_FREE(kl->stable_off);
		talloc_free(by_entry);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		const struct dir_entry *de = &kl->listing->ent[i];
		const uint32_t *slot;
		uint32_t serial = (uint32_t)i;

		if (next && de->cell) {
			slot = serial_get(fs, kl->cell, de->cell);
			if (slot) {
				serial = *slot;
			} else {
				serial = *next;
				if (serial_put(fs, kl->cell, de->cell, serial) ||
				    serial_put(fs, kl->cell, 0, serial + 1)) {
					TALLOC_FREE(kl->order);
					TALLOC_FREE(kl->stable_off);
					talloc_free(by_entry);
					return -ENOMEM;
				}
				/* The table may have grown. */
				next = serial_get(fs, kl->cell, 0);
			}
		}
		kl->order[i] = i;
		by_entry[i] = STABLE_OFF_MIN - 1 + (off_t)serial;
	}
	qsort_r(kl->order, n, sizeof(*kl->order), by_serial, by_entry);
	for (size_t k = 0; k < n; k++)
		kl->stable_off[k] = by_entry[kl->order[k]];
	talloc_free(by_entry);
	return 0;
}

int node_listing_new(void *mem, struct hivefs *fs, uint64_t ino,
		     struct key_listing **out)
{
	struct key_listing *kl = talloc_zero(mem, struct key_listing);
	struct node_info n;
	int err;

	if (!kl)
		return -ENOMEM;
	pthread_mutex_lock(&fs->lock);
	if (!inode_get(fs->inodes, ino, &n) || (n.flags & NODE_DEAD))
		err = -ESTALE;
	else if (n.kind != NODE_KEY)
		err = -ENOTDIR;
	else
		err = listing_fill(fs, kl, ino, &n);
	pthread_mutex_unlock(&fs->lock);
	if (err)
		talloc_free(kl);
	else
		*out = kl;
	return err;
}

int node_listing_cached(struct hivefs *fs, uint64_t ino,
			const struct node_info *n, struct key_listing **out)
{
	struct dir_cache *c = fs->dir_cache;
	struct key_listing *kl;
	unsigned victim = 0;
	int err;

	if (!c) {
		c = fs->dir_cache = talloc_zero(NULL, struct dir_cache);
		if (!c)
			return -ENOMEM;
	}
	c->clock++;
	for (unsigned i = 0; i < DIR_CACHE_SLOTS; i++) {
		kl = c->slot[i];
		if (kl && kl->ino == ino && kl->cell == n->cell &&
		    kl->changes == fs->changes) {
			c->last_use[i] = c->clock;
			*out = kl;
			return 0;
		}
		if (c->last_use[i] < c->last_use[victim])
			victim = i;
	}
	kl = talloc_zero(c, struct key_listing);
	if (!kl)
		return -ENOMEM;
	err = listing_fill(fs, kl, ino, n);
	if (err) {
		talloc_free(kl);
		return err;
	}
	talloc_free(c->slot[victim]);
	c->slot[victim] = kl;
	c->last_use[victim] = c->clock;
	*out = kl;
	return 0;
}

/*
 * The listing of a key when name resolution needs it (a synthetic name,
 * or a key with renamed duplicates), NULL otherwise.  Learns and records
 * whether the key has renamed duplicates on first use.
 */
static int listing_for_lookup(struct hivefs *fs, uint64_t ino,
			      const struct node_info *dir, const char *name,
			      const struct listing **out)
{
	bool synthetic = name_is_synthetic(name, strlen(name));
	struct key_listing *kl;
	int err;

	*out = NULL;
	if (!synthetic && (dir->flags & NODE_LISTED) &&
	    !(dir->flags & NODE_ALIASES))
		return 0;
	/* (The cache keeps it; it stays valid while the lock is held.) */
	err = node_listing_cached(fs, ino, dir, &kl);
	if (err)
		return err == -ENOMEM ? -ENOMEM : -EIO;
	*out = kl->listing;
	if (!synthetic && !(*out)->aliases)
		*out = NULL;
	return 0;
}

int node_resolve(void *mem, struct hivefs *fs, uint64_t dir_ino,
		 const struct node_info *dir, const char *name,
		 struct dir_entry *found)
{
	const struct listing *listing = NULL;
	int err = listing_for_lookup(fs, dir_ino, dir, name, &listing);

	if (!err)
		err = fs_errno(fs, dir_resolve(fs->hive, &fs->names, dir->cell, listing,
					       name, found));
	if (!err && found->kind == ENTRY_DAMAGED)
		err = -EIO;
	return err;
}

/* ---- content ---- */

int node_value_content(void *mem, struct hivefs *fs, uint32_t cell, bool raw,
		       uint32_t *type, char **content, size_t *len)
{
	uint8_t *data;
	size_t data_len;
	struct view v;
	char *text;
	int err = value_data(mem, fs, cell, type, &data, &data_len);

	if (err)
		return err;
	view_measure(*type, data, data_len, raw, &v);
	if (!v.text) {
		*content = (char *)data;
		*len = data_len;
		return 0;
	}
	text = talloc_size(mem, v.size ? v.size : 1);
	if (!text) {
		talloc_free(data);
		return -ENOMEM;
	}
	view_render(&v, *type, data, data_len, text);
	talloc_free(data);
	*content = text;
	*len = v.size;
	return 0;
}

/*
 * The engine is needed only for a copy of the data; rendering is done
 * outside the lock, and a raw view is that copy itself.
 */
int node_render_value(struct hivefs *fs, uint64_t ino, struct open_file **out)
{
	struct open_file *fh = talloc_zero(NULL, struct open_file);
	struct node_info n;
	uint8_t *data = NULL;
	size_t len = 0;
	uint32_t type = 0;
	struct view v;
	char *text;
	int err = 0;

	if (!fh)
		return -ENOMEM;
	pthread_mutex_lock(&fs->lock);
	if (!inode_get(fs->inodes, ino, &n))
		err = -ENOENT;
	else if (n.flags & NODE_DEAD)
		err = -ESTALE;
	else if (n.kind != NODE_VALUE)
		err = -EISDIR;
	else
		err = value_data(fh, fs, n.cell, &type, &data, &len);
	fh->version = fs->changes;
	pthread_mutex_unlock(&fs->lock);
	if (err) {
		talloc_free(fh);
		return err;
	}
	view_measure(type, data, len, node_shown_raw(fs, n.flags), &v);
	atomic_init(&fh->refs, 1);
	fh->size = v.size;
	fh->data = (const char *)data;
	if (v.text) {
		text = talloc_size(fh, v.size ? v.size : 1);
		if (!text) {
			talloc_free(fh);
			return -ENOMEM;
		}
		view_render(&v, type, data, len, text);
		talloc_free(data);
		fh->data = text;
	}
	*out = fh;
	return 0;
}

int node_read_snapshot(struct hivefs *fs, uint64_t ino, size_t size,
		       struct open_file **out)
{
	struct open_file *fh = NULL;
	struct node_info n;
	int err;

	pthread_mutex_lock(&fs->lock);
	if (fs->big_read && inode_get(fs->inodes, ino, &n) &&
	    n.cell == fs->big_read_cell && n.parent == fs->big_read_parent) {
		fh = fs->big_read;
		atomic_fetch_add(&fh->refs, 1);
	}
	pthread_mutex_unlock(&fs->lock);
	if (fh) {
		*out = fh;
		return 0;
	}
	err = node_render_value(fs, ino, &fh);
	if (err)
		return err;
	pthread_mutex_lock(&fs->lock);
	if (fh->size > size && inode_get(fs->inodes, ino, &n)) {
		if (fs->big_read)
			open_file_put(fs->big_read);
		atomic_fetch_add(&fh->refs, 1);
		fs->big_read = fh;
		fs->big_read_cell = n.cell;
		fs->big_read_parent = n.parent;
	}
	pthread_mutex_unlock(&fs->lock);
	*out = fh;
	return 0;
}

void node_read_done(struct hivefs *fs, struct open_file *fh)
{
	pthread_mutex_lock(&fs->lock);
	if (fs->big_read == fh) {
		fs->big_read = NULL;
		open_file_put(fh);
	}
	pthread_mutex_unlock(&fs->lock);
}

/* ---- change ---- */

void node_changed(struct hivefs *fs)
{
	fs->changes++;
	if (fs->big_read) {
		open_file_put(fs->big_read);
		fs->big_read = NULL;
	}
}

void node_caches_free(struct hivefs *fs)
{
	if (fs->big_read)
		open_file_put(fs->big_read);
	fs->big_read = NULL;
	talloc_free(fs->dir_cache);
	fs->dir_cache = NULL;
	talloc_free(fs->value_times);
	fs->value_times = NULL;
	talloc_free(fs->listing_serials);
	fs->listing_serials = NULL;
	talloc_free(fs->names.marks);
	fs->names.marks = NULL;
}
