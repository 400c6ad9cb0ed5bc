/*
 * ops.c — the low-level FUSE operations that read: lookup, attributes,
 * listings, file contents, extended attributes, statfs.  Those that
 * change the hive are in write.c.
 *
 * Every operation takes fs->lock around its use of the engine and the
 * inode table, and answers the kernel after releasing it.  Engine errors
 * become errno values in one place, ops_fail().
 *
 * Kernel caching.  A read-only mount changes only through nothing, so
 * entries (also negative ones) and attributes are cached for fs->timeout,
 * file pages are kept across opens and listings are cached by the kernel.
 * A read-write mount caches entries and attributes briefly (fs->timeout
 * is short there), never negative entries (a cached "foo" would hide a
 * "Foo" created later), keeps no pages or listings across opens, and
 * write.c tells the kernel when a change makes its attributes stale.
 *
 * Handles.  With fs->handles, open renders a value's content once into a
 * file handle (reads are slices of that snapshot) and opendir takes the
 * key's listing (readdir offsets are positions in it; entries deleted or
 * renamed since are skipped).  Writable opens are write.c's.  A read-only
 * mount on a kernel that allows it answers open and opendir with ENOSYS
 * instead: the kernel then opens by itself, with the same caching, and
 * never sends OPEN, OPENDIR, RELEASE or RELEASEDIR; read renders per
 * call, which is exact because nothing changes, and readdir takes the
 * key's listing from the listing cache (below), so the many calls that
 * list one large directory build its listing once.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include <talloc.h>

#include "ops.h"

/* d_ino of an entry the kernel has no node for yet (plain readdir). */
#define UNKNOWN_INO 0xffffffffu

struct dir_handle {
	struct listing *listing;
	uint64_t changes;         /* fs->changes when listed */
	struct timespec key_time; /* the key's LastWriteTime, for its values */
	uint32_t cell;
	uint64_t ino, parent_ino;
};

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
	struct dir_handle *slot[DIR_CACHE_SLOTS];
	uint64_t last_use[DIR_CACHE_SLOTS];
	uint64_t clock;
};

static int dir_cached(struct hivefs *fs, fuse_ino_t ino,
		      const struct node_info *n, struct dir_handle **out);

/*
 * A read's reply can complete in the kernel, and so let it send RELEASE to
 * another thread, before fuse_reply_buf() has returned: read holds a
 * reference so the snapshot outlives the reply.
 */
void ops_open_file_put(struct open_file *fh)
{
	if (atomic_fetch_sub(&fh->refs, 1) == 1)
		talloc_free(fh);
}

int ops_fail(struct hivefs *fs, int err, const char *op, uint64_t ino)
{
	if (fs->verbose && err != HIVE_OK && err != HIVE_E_NOT_FOUND) {
		const char *detail = hive_error_detail();

		fuse_log(FUSE_LOG_ERR, "hivefs: %s (inode %llu): %s%s%s\n", op,
			 (unsigned long long)ino, hive_strerror(err),
			 *detail ? ": " : "", detail);
	}
	return hive_error_to_errno(err);
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

static int key_attr(struct hivefs *fs, uint32_t cell, struct stat *st)
{
	struct hive_key_stat ks;
	int err = hive_key_stat(fs->hive, cell, &ks);

	if (err)
		return err;
	memset(st, 0, sizeof(*st));
	common_attr(fs, filetime_to_timespec(ks.last_write), st);
	st->st_mode = S_IFDIR | fs->key_mode;
	st->st_nlink = 2 + (nlink_t)ks.subkey_count;
	st->st_size = 4096;
	st->st_blocks = 8;
	return HIVE_OK;
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
	int err = hive_value_stat(fs->hive, cell, &vs);

	if (!err && vs.data_len > HIVE_MAX_READ_DATA) {
		if (cell != last_too_large)
			fuse_log(FUSE_LOG_ERR,
				 "hivefs: value 0x%x: %u bytes of data, more "
				 "than hivefs can read (%u bytes; Windows allows "
				 "up to 65535 segments, about 1 GiB): EIO\n",
				 cell, vs.data_len, HIVE_MAX_READ_DATA);
		last_too_large = cell;
		return HIVE_E_IO;
	}
	if (!err)
		err = hive_value_data(mem, fs->hive, cell, data, len);
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
	int err = tmp ? value_data(tmp, fs, cell, &type, &data, &len)
		      : HIVE_E_NOMEM;

	if (!err) {
		view_measure(type, data, len, raw, &v);
		memset(st, 0, sizeof(*st));
		common_attr(fs, t, st);
		st->st_mode = S_IFREG | fs->value_mode;
		st->st_nlink = 1;
		st->st_size = (off_t)v.size;
		st->st_blocks = (blkcnt_t)((v.size + 511) / 512);
	}
	talloc_free(tmp);
	return err;
}

/* The time a value shows: its key's LastWriteTime. */
static struct timespec key_time(struct hivefs *fs, uint32_t key)
{
	struct hive_key_stat ks;

	if (hive_key_stat(fs->hive, key, &ks))
		return filetime_to_timespec(fs->info.last_written);
	return filetime_to_timespec(ks.last_write);
}

static bool shown_raw(const struct hivefs *fs, unsigned node_flags)
{
	return fs->raw || (node_flags & NODE_VERBATIM);
}

int ops_node_attr(struct hivefs *fs, const struct node_info *n, uint64_t ino,
		  struct stat *st)
{
	size_t pending;
	int err;

	if (n->flags & NODE_DEAD) {
		/* Deleted, still open: what the descriptor holds. */
		memset(st, 0, sizeof(*st));
		common_attr(fs, filetime_to_timespec(fs->info.last_written), st);
		st->st_mode = n->kind == NODE_KEY ? S_IFDIR | fs->key_mode
						  : S_IFREG | fs->value_mode;
		if (write_pending_size(fs, ino, &pending))
			st->st_size = (off_t)pending;
		st->st_ino = ino;
		return HIVE_OK;
	}
	err = n->kind == NODE_KEY
		      ? key_attr(fs, n->cell, st)
		      : value_attr(fs, n->cell, key_time(fs, n->parent),
				   shown_raw(fs, n->flags), st);
	/* Written but not yet stored: the size the writer sees. */
	if (!err && n->kind == NODE_VALUE && write_pending_size(fs, ino, &pending)) {
		st->st_size = (off_t)pending;
		st->st_blocks = (blkcnt_t)((pending + 511) / 512);
	}
	st->st_ino = ino;
	return err;
}

void ops_fill_entry(struct hivefs *fs, struct fuse_entry_param *e,
		    uint64_t ino, uint64_t generation)
{
	e->ino = ino;
	e->generation = generation;
	e->attr.st_ino = ino;
	e->attr_timeout = fs->timeout;
	/*
	 * Lookups ignore case, so one entry can have several names in the
	 * kernel's cache ("val013", "VAL013").  A rename or unlink moves or
	 * drops only the name it was given; a cached other spelling would
	 * still lead to the entry that moved, and a write through it would
	 * land in the wrong value.  So a read-write mount has every name
	 * checked again on each use.
	 */
	e->entry_timeout = fs->writable ? 0 : fs->timeout;
}

int ops_entry(struct hivefs *fs, enum node_kind kind, uint32_t dir,
	      uint32_t cell, unsigned flags, struct fuse_entry_param *e)
{
	struct node_info n;
	uint64_t ino, gen;
	int err = inode_lookup(fs->inodes, kind, dir, cell, &ino, &gen);

	if (err)
		return err;
	if (flags)
		inode_set_flags(fs->inodes, ino, flags);
	inode_get(fs->inodes, ino, &n);
	memset(e, 0, sizeof(*e));
	err = ops_node_attr(fs, &n, ino, &e->attr);
	if (err) {
		inode_forget(fs->inodes, ino, 1);
		return err;
	}
	ops_fill_entry(fs, e, ino, gen);
	return HIVE_OK;
}

/* ---- lookup and forget ---- */

/*
 * The listing of a key when name resolution needs it (a synthetic name,
 * or a key with renamed duplicates), NULL otherwise.  Learns and records
 * whether the key has renamed duplicates on first use.
 */
static int listing_for_lookup(struct hivefs *fs, fuse_ino_t ino,
			      const struct node_info *dir, const char *name,
			      const struct listing **out)
{
	bool synthetic = name_is_synthetic(name, strlen(name));
	struct dir_handle *dh;
	int err;

	*out = NULL;
	if (!synthetic && (dir->flags & NODE_LISTED) &&
	    !(dir->flags & NODE_ALIASES))
		return HIVE_OK;
	/* (The cache keeps it; it stays valid while the lock is held.) */
	err = dir_cached(fs, ino, dir, &dh);
	if (err)
		return err == ENOMEM ? HIVE_E_NOMEM : HIVE_E_CORRUPT;
	*out = dh->listing;
	if (!synthetic && !(*out)->aliases)
		*out = NULL;
	return HIVE_OK;
}

int ops_resolve(void *mem, struct hivefs *fs, uint64_t dir_ino,
		const struct node_info *dir, const char *name,
		struct dir_entry *found)
{
	const struct listing *listing = NULL;
	int err = listing_for_lookup(fs, dir_ino, dir, name, &listing);

	if (!err)
		err = dir_resolve(fs->hive, dir->cell, listing, name, found);
	if (!err && found->kind == ENTRY_DAMAGED)
		err = HIVE_E_CORRUPT;
	return err;
}

static void hivefs_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct hivefs *fs = fs_of(req);
	void *tmp = talloc_new(NULL);
	struct fuse_entry_param e;
	struct node_info dir;
	struct dir_entry found;
	int err = 0, hive_err;

	memset(&e, 0, sizeof(e));
	if (strlen(name) > HIVEFS_NAME_MAX) {
		talloc_free(tmp);
		fuse_reply_err(req, ENAMETOOLONG);
		return;
	}
	pthread_mutex_lock(&fs->lock);
	if (!tmp) {
		err = ENOMEM;
	} else if (!inode_get(fs->inodes, parent, &dir)) {
		err = ESTALE;
	} else if (dir.flags & NODE_DEAD) {
		err = ENOENT;
	} else if (dir.kind != NODE_KEY) {
		err = ENOTDIR;
	}
	if (err)
		goto done;
	hive_err = ops_resolve(tmp, fs, parent, &dir, name, &found);
	if (hive_err == HIVE_E_NOT_FOUND) {
		/*
		 * A negative entry, cached like a positive one where nothing
		 * changes; never where it can, because a cached "foo" would
		 * hide a "Foo" made later (lookups ignore case).
		 */
		e.entry_timeout = fs->writable ? 0 : fs->timeout;
		goto done;
	}
	if (!hive_err)
		hive_err = ops_entry(fs,
				     found.kind == ENTRY_KEY ? NODE_KEY : NODE_VALUE,
				     dir.cell, found.cell,
				     found.synthetic ? NODE_SYNTHETIC : 0, &e);
	if (hive_err)
		err = ops_fail(fs, hive_err, "lookup", parent);
done:
	pthread_mutex_unlock(&fs->lock);
	talloc_free(tmp);
	if (err)
		fuse_reply_err(req, err);
	else
		fuse_reply_entry(req, &e);
}

static void hivefs_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	struct hivefs *fs = fs_of(req);

	pthread_mutex_lock(&fs->lock);
	inode_forget(fs->inodes, ino, nlookup);
	pthread_mutex_unlock(&fs->lock);
	fuse_reply_none(req);
}

static void hivefs_forget_multi(fuse_req_t req, size_t count,
				struct fuse_forget_data *forgets)
{
	struct hivefs *fs = fs_of(req);

	pthread_mutex_lock(&fs->lock);
	for (size_t i = 0; i < count; i++)
		inode_forget(fs->inodes, forgets[i].ino, forgets[i].nlookup);
	pthread_mutex_unlock(&fs->lock);
	fuse_reply_none(req);
}

static void hivefs_getattr(fuse_req_t req, fuse_ino_t ino,
			   struct fuse_file_info *fi)
{
	struct hivefs *fs = fs_of(req);
	struct node_info n;
	struct stat st;
	int err = 0;

	pthread_mutex_lock(&fs->lock);
	/* (fstat of a deleted value's open file comes without a handle:
	 * a deleted node still answers, see ops_node_attr.) */
	if (!inode_get(fs->inodes, ino, &n))
		err = ESTALE;
	else
		err = ops_fail(fs, ops_node_attr(fs, &n, ino, &st), "getattr", ino);
	pthread_mutex_unlock(&fs->lock);
	if (err)
		fuse_reply_err(req, err);
	else
		fuse_reply_attr(req, &st, fs->timeout);
}

/* ---- directories ---- */

uint64_t ops_key_ino(struct hivefs *fs, uint32_t cell)
{
	struct hive_key_stat ks;

	if (cell == fs->info.root)
		return INODE_ROOT;
	if (hive_key_stat(fs->hive, cell, &ks) != HIVE_OK)
		return 0;
	return inode_peek(fs->inodes, NODE_KEY, ks.parent, cell);
}

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

/* List key node n (ino) into dh (under lock): 0 or an errno. */
static int dir_fill(struct hivefs *fs, struct dir_handle *dh, fuse_ino_t ino,
		    const struct node_info *n)
{
	int err = ops_fail(fs, listing_build(dh, fs->hive, n->cell, &dh->listing),
			   "listing", ino);

	if (err)
		return err;
	inode_set_flags(fs->inodes, ino,
			NODE_LISTED | (dh->listing->aliases ? NODE_ALIASES : 0));
	dh->cell = n->cell;
	dh->changes = fs->changes;
	dh->ino = ino;
	dh->parent_ino = parent_ino(fs, n);
	dh->key_time = key_time(fs, n->cell);
	return 0;
}

/* A directory's listing and what readdir needs besides (on mem). */
static int dir_handle_new(void *mem, struct hivefs *fs, fuse_ino_t ino,
			  struct dir_handle **out)
{
	struct dir_handle *dh = talloc_zero(mem, struct dir_handle);
	struct node_info n;
	int err;

	if (!dh)
		return ENOMEM;
	pthread_mutex_lock(&fs->lock);
	if (!inode_get(fs->inodes, ino, &n) || (n.flags & NODE_DEAD))
		err = ESTALE;
	else if (n.kind != NODE_KEY)
		err = ENOTDIR;
	else
		err = dir_fill(fs, dh, ino, &n);
	pthread_mutex_unlock(&fs->lock);
	if (err)
		talloc_free(dh);
	else
		*out = dh;
	return err;
}

/*
 * The cached listing of key node n (ino), made if the cache has none that
 * is still valid (under lock; see struct dir_cache).  0 or an errno; *out
 * stays valid until the lock is released.
 */
static int dir_cached(struct hivefs *fs, fuse_ino_t ino,
		      const struct node_info *n, struct dir_handle **out)
{
	struct dir_cache *c = fs->dir_cache;
	struct dir_handle *dh;
	unsigned victim = 0;
	int err;

	if (!c) {
		c = fs->dir_cache = talloc_zero(NULL, struct dir_cache);
		if (!c)
			return ENOMEM;
	}
	c->clock++;
	for (unsigned i = 0; i < DIR_CACHE_SLOTS; i++) {
		dh = c->slot[i];
		if (dh && dh->ino == ino && dh->cell == n->cell &&
		    dh->changes == fs->changes) {
			c->last_use[i] = c->clock;
			*out = dh;
			return 0;
		}
		if (c->last_use[i] < c->last_use[victim])
			victim = i;
	}
	dh = talloc_zero(c, struct dir_handle);
	if (!dh)
		return ENOMEM;
	err = dir_fill(fs, dh, ino, n);
	if (err) {
		talloc_free(dh);
		return err;
	}
	talloc_free(c->slot[victim]);
	c->slot[victim] = dh;
	c->last_use[victim] = c->clock;
	*out = dh;
	return 0;
}

static void hivefs_opendir(fuse_req_t req, fuse_ino_t ino,
			   struct fuse_file_info *fi)
{
	struct hivefs *fs = fs_of(req);
	struct dir_handle *dh;
	int err;

	if (!fs->handles) {
		fuse_reply_err(req, ENOSYS); /* the kernel opens it itself */
		return;
	}
	err = dir_handle_new(NULL, fs, ino, &dh);
	if (err) {
		fuse_reply_err(req, err);
		return;
	}
	fi->fh = (uintptr_t)dh;
	/* Listings stay right while nothing can change them. */
	fi->cache_readdir = !fs->writable;
	fi->keep_cache = !fs->writable;
	if (fuse_reply_open(req, fi) == -ENOENT)
		talloc_free(dh); /* the opener was interrupted */
}

/*
 * One entry for readdirplus: its attributes and a counted lookup, or, if
 * the entry cannot be read, just a name and type so that a later lookup
 * reports the error (e->ino stays 0).
 */
static void plus_entry(struct hivefs *fs, const struct dir_handle *dh,
		       const struct dir_entry *de, struct fuse_entry_param *e)
{
	enum node_kind kind = de->kind == ENTRY_KEY ? NODE_KEY : NODE_VALUE;
	struct node_info n;
	uint64_t ino, gen;
	int err;

	memset(e, 0, sizeof(*e));
	e->attr.st_ino = UNKNOWN_INO;
	if (de->kind == ENTRY_DAMAGED)
		return;
	e->attr.st_mode = kind == NODE_KEY ? S_IFDIR : S_IFREG;
	err = inode_lookup(fs->inodes, kind, dh->cell, de->cell, &ino, &gen);
	if (!err) {
		if (de->synthetic)
			inode_set_flags(fs->inodes, ino, NODE_SYNTHETIC);
		inode_get(fs->inodes, ino, &n);
		err = kind == NODE_KEY
			      ? key_attr(fs, de->cell, &e->attr)
			      : value_attr(fs, de->cell, dh->key_time,
					   shown_raw(fs, n.flags), &e->attr);
		if (err)
			inode_forget(fs->inodes, ino, 1);
	}
	if (err) {
		ops_fail(fs, err, "readdirplus", dh->ino);
		memset(&e->attr, 0, sizeof(e->attr));
		e->attr.st_ino = UNKNOWN_INO;
		e->attr.st_mode = kind == NODE_KEY ? S_IFDIR : S_IFREG;
		return;
	}
	ops_fill_entry(fs, e, ino, gen);
}

/* A plain readdir entry: the node's id if the kernel has one. */
static void plain_entry(struct hivefs *fs, const struct dir_handle *dh,
			const struct dir_entry *de, struct stat *st)
{
	enum node_kind kind = de->kind == ENTRY_KEY ? NODE_KEY : NODE_VALUE;
	uint64_t ino = de->kind == ENTRY_DAMAGED
			       ? 0
			       : inode_peek(fs->inodes, kind, dh->cell, de->cell);

	memset(st, 0, sizeof(*st));
	st->st_ino = ino ? ino : UNKNOWN_INO;
	if (de->kind != ENTRY_DAMAGED)
		st->st_mode = kind == NODE_KEY ? S_IFDIR : S_IFREG;
}

/*
 * An entry of a listing taken before entries changed: is that name still
 * this entry?  (Its cell may have been freed, or reused by another.)
 */
static bool still_listed(struct hivefs *fs, const struct dir_handle *dh,
			 const struct dir_entry *de)
{
	struct dir_entry now;

	if (de->kind == ENTRY_DAMAGED)
		return true;
	if (de->synthetic)
		return true; /* only listings resolve "%~" names */
	return dir_resolve(fs->hive, dh->cell, NULL, de->name, &now) == HIVE_OK &&
	       now.kind == de->kind && now.cell == de->cell;
}

/*
 * Offsets are positions in the listing taken at opendir: 0 and 1 are "."
 * and "..", entry i is at i + 2, and each entry's offset is the next one's
 * position.  They stay valid for the life of the handle.
 */
static void do_readdir(fuse_req_t req, fuse_ino_t ino, size_t size,
		       off_t off, struct fuse_file_info *fi, bool plus)
{
	struct hivefs *fs = fs_of(req);
	struct dir_handle *dh = (struct dir_handle *)(uintptr_t)fi->fh;
	size_t total, used = 0;
	bool prefetch;
	uint32_t key;
	char *buf = malloc(size);
	int err = buf ? 0 : ENOMEM;

	pthread_mutex_lock(&fs->lock);
	/* Without opendir (read-only mounts) the listing comes from the
	 * cache: the hive does not change, so the offsets stay valid. */
	if (!err && !dh) {
		struct node_info n;

		if (!inode_get(fs->inodes, ino, &n) || (n.flags & NODE_DEAD))
			err = ESTALE;
		else if (n.kind != NODE_KEY)
			err = ENOTDIR;
		else
			err = dir_cached(fs, ino, &n, &dh);
	}
	if (err) {
		pthread_mutex_unlock(&fs->lock);
		free(buf);
		fuse_reply_err(req, err);
		return;
	}
	total = dh->listing->count + 2;
	for (size_t pos = off < 0 ? total : (size_t)off; pos < total; pos++) {
		struct fuse_entry_param e;
		const char *name;
		size_t n;

		memset(&e, 0, sizeof(e));
		if (pos < 2) {
			/* Ids but no lookups: the kernel never counts these. */
			name = pos == 0 ? "." : "..";
			e.attr.st_ino = pos == 0 ? dh->ino : dh->parent_ino;
			e.attr.st_mode = S_IFDIR;
		} else if (dh->changes != fs->changes &&
			   !still_listed(fs, dh, &dh->listing->ent[pos - 2])) {
			continue; /* deleted or renamed since opendir */
		} else if (plus) {
			name = dh->listing->ent[pos - 2].name;
			plus_entry(fs, dh, &dh->listing->ent[pos - 2], &e);
		} else {
			name = dh->listing->ent[pos - 2].name;
			plain_entry(fs, dh, &dh->listing->ent[pos - 2], &e.attr);
		}
		n = plus ? fuse_add_direntry_plus(req, buf + used, size - used,
						  name, &e, (off_t)pos + 1)
			 : fuse_add_direntry(req, buf + used, size - used, name,
					     &e.attr, (off_t)pos + 1);
		if (n > size - used) {
			/* Did not fit: the kernel will not count this one. */
			if (plus && e.ino)
				inode_forget(fs->inodes, e.ino, 1);
			break;
		}
		used += n;
	}
	/* A listing of values is about to be read, most likely. */
	prefetch = fs->prefetch && plus && off == 0 && dh->listing->count > 0 &&
		   dh->listing->ent[dh->listing->count - 1].kind == ENTRY_VALUE;
	key = dh->cell;
	pthread_mutex_unlock(&fs->lock);
	fuse_reply_buf(req, buf, used);
	if (prefetch)
		prefetch_key(fs, key, 0);
	free(buf);
}

static void hivefs_readdir(fuse_req_t req, fuse_ino_t ino, size_t size,
			   off_t off, struct fuse_file_info *fi)
{
	do_readdir(req, ino, size, off, fi, false);
}

static void hivefs_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size,
			       off_t off, struct fuse_file_info *fi)
{
	do_readdir(req, ino, size, off, fi, true);
}

static void hivefs_releasedir(fuse_req_t req, fuse_ino_t ino,
			      struct fuse_file_info *fi)
{
	talloc_free((struct dir_handle *)(uintptr_t)fi->fh);
	fuse_reply_err(req, 0);
}

/* ---- files ---- */

int ops_value_content(void *mem, struct hivefs *fs, uint32_t cell, bool raw,
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
		return HIVE_OK;
	}
	text = talloc_size(mem, v.size ? v.size : 1);
	if (!text) {
		talloc_free(data);
		return HIVE_E_NOMEM;
	}
	view_render(&v, *type, data, data_len, text);
	talloc_free(data);
	*content = text;
	*len = v.size;
	return HIVE_OK;
}

/*
 * The content of a value's file, in a new handle.  The engine is needed
 * only for a copy of the data; rendering is done outside the lock, and a
 * raw view is that copy itself.
 */
int ops_render_value(struct hivefs *fs, uint64_t ino, struct open_file **out)
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
		return ENOMEM;
	pthread_mutex_lock(&fs->lock);
	if (!inode_get(fs->inodes, ino, &n))
		err = ENOENT;
	else if (n.flags & NODE_DEAD)
		err = ESTALE;
	else if (n.kind != NODE_VALUE)
		err = EISDIR;
	else
		err = ops_fail(fs, value_data(fh, fs, n.cell, &type, &data, &len),
			       "open", ino);
	fh->version = fs->changes;
	pthread_mutex_unlock(&fs->lock);
	if (err) {
		talloc_free(fh);
		return err;
	}
	view_measure(type, data, len, shown_raw(fs, n.flags), &v);
	atomic_init(&fh->refs, 1);
	fh->size = v.size;
	fh->data = (const char *)data;
	if (v.text) {
		text = talloc_size(fh, v.size ? v.size : 1);
		if (!text) {
			talloc_free(fh);
			return ENOMEM;
		}
		view_render(&v, type, data, len, text);
		talloc_free(data);
		fh->data = text;
	}
	*out = fh;
	return 0;
}

static void hivefs_open(fuse_req_t req, fuse_ino_t ino,
			struct fuse_file_info *fi)
{
	struct hivefs *fs = fs_of(req);
	struct open_file *fh;
	int err;

	if (!fs->handles) {
		fuse_reply_err(req, ENOSYS); /* the kernel opens it itself */
		return;
	}
	if ((fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & O_TRUNC)) {
		if (fs->writable)
			write_open(req, ino, fi);
		else
			fuse_reply_err(req, EROFS);
		return;
	}
	err = ops_render_value(fs, ino, &fh);
	if (err) {
		fuse_reply_err(req, err);
		return;
	}
	fi->fh = (uintptr_t)fh;
	/* Pages stay valid across opens only while nothing changes. */
	fi->keep_cache = !fs->writable;
	fi->noflush = 1;
	if (fs->writable)
		atomic_fetch_add(&fs->readers, 1); /* see stale.c */
	if (fuse_reply_open(req, fi) == -ENOENT) {
		if (fs->writable)
			atomic_fetch_sub(&fs->readers, 1);
		ops_open_file_put(fh);
	}
}

/*
 * A read without a handle (read-only mounts) renders the value for itself.
 * A value too large for one read comes in pieces, and rendering it for
 * every piece would be quadratic: its rendering is kept, one at a time,
 * until the piece at its end has been read.
 */
static int read_without_handle(struct hivefs *fs, fuse_ino_t ino,
			       size_t size, struct open_file **out)
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
	err = ops_render_value(fs, ino, &fh);
	if (err)
		return err;
	pthread_mutex_lock(&fs->lock);
	if (fh->size > size && inode_get(fs->inodes, ino, &n)) {
		if (fs->big_read)
			ops_open_file_put(fs->big_read);
		atomic_fetch_add(&fh->refs, 1);
		fs->big_read = fh;
		fs->big_read_cell = n.cell;
		fs->big_read_parent = n.parent;
	}
	pthread_mutex_unlock(&fs->lock);
	*out = fh;
	return 0;
}

static void drop_big_read(struct hivefs *fs, struct open_file *fh)
{
	pthread_mutex_lock(&fs->lock);
	if (fs->big_read == fh) {
		fs->big_read = NULL;
		ops_open_file_put(fh);
	}
	pthread_mutex_unlock(&fs->lock);
}

/*
 * Has the hive changed since a reader's snapshot was taken, and does its
 * value still exist (else the snapshot is all an unlinked file has)?
 */
static bool snapshot_stale(struct hivefs *fs, fuse_ino_t ino,
			   const struct open_file *fh)
{
	struct node_info n;
	bool stale;

	pthread_mutex_lock(&fs->lock);
	stale = fh->version != fs->changes && inode_get(fs->inodes, ino, &n) &&
		!(n.flags & NODE_DEAD);
	pthread_mutex_unlock(&fs->lock);
	return stale;
}

static void hivefs_read(fuse_req_t req, fuse_ino_t ino, size_t size,
			off_t off, struct fuse_file_info *fi)
{
	struct hivefs *fs = fs_of(req);
	struct open_file *fh = (struct open_file *)(uintptr_t)fi->fh;
	bool live = !fh;
	int err;

	if (fh && fh->writable) {
		write_read(req, fh, size, off);
		return;
	}
	if (fh && fs->writable && snapshot_stale(fs, ino, fh)) {
		fh = NULL; /* a writer stored since: read the value as it is */
		live = true;
	}
	if (fh) {
		atomic_fetch_add(&fh->refs, 1);
	} else if ((err = read_without_handle(fs, ino, size, &fh)) != 0) {
		fuse_reply_err(req, err);
		return;
	}
	if (off < 0 || (size_t)off >= fh->size)
		size = 0;
	else if (size > fh->size - (size_t)off)
		size = fh->size - (size_t)off;
	fuse_reply_buf(req, size ? fh->data + off : NULL, size);
	if (live && (off < 0 || (size_t)off + size >= fh->size))
		drop_big_read(fs, fh);
	ops_open_file_put(fh);
	if (fs->prefetch && off == 0) {
		struct node_info n;
		bool known;

		pthread_mutex_lock(&fs->lock);
		known = inode_get(fs->inodes, ino, &n);
		pthread_mutex_unlock(&fs->lock);
		if (known)
			prefetch_key(fs, n.parent, ino);
	}
}

static void hivefs_release(fuse_req_t req, fuse_ino_t ino,
			   struct fuse_file_info *fi)
{
	struct open_file *fh = (struct open_file *)(uintptr_t)fi->fh;

	if (fh && fh->writable) {
		write_release(req, ino, fi);
		return;
	}
	if (fh) {
		if (fs_of(req)->writable)
			atomic_fetch_sub(&fs_of(req)->readers, 1);
		ops_open_file_put(fh);
	}
	fuse_reply_err(req, 0);
}

/* ---- extended attributes ---- */

static void reply_sized(fuse_req_t req, const char *data, size_t len,
			size_t size)
{
	/* size 0 asks for the length; a short buffer is ERANGE. */
	if (size == 0)
		fuse_reply_xattr(req, len);
	else if (size < len)
		fuse_reply_err(req, ERANGE);
	else
		fuse_reply_buf(req, data, len);
}

static void hivefs_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			    size_t size)
{
	struct hivefs *fs = fs_of(req);
	void *tmp = talloc_new(NULL);
	struct node_info n;
	char *value = NULL;
	size_t len = 0;
	int err = 0, hive_err;

	pthread_mutex_lock(&fs->lock);
	if (!tmp) {
		err = ENOMEM;
	} else if (!inode_get(fs->inodes, ino, &n) || (n.flags & NODE_DEAD)) {
		err = ESTALE;
	} else {
		hive_err = xattr_get(tmp, fs, n.kind, n.cell,
				     n.flags, name, &value,
				     &len);
		err = hive_err == HIVE_E_NOT_FOUND
			      ? ENODATA
			      : ops_fail(fs, hive_err, "getxattr", ino);
	}
	pthread_mutex_unlock(&fs->lock);
	if (err)
		fuse_reply_err(req, err);
	else
		reply_sized(req, value, len, size);
	talloc_free(tmp);
}

static void hivefs_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	struct hivefs *fs = fs_of(req);
	void *tmp = talloc_new(NULL);
	struct node_info n;
	char *names = NULL;
	size_t len = 0;
	int err = 0;

	pthread_mutex_lock(&fs->lock);
	if (!tmp)
		err = ENOMEM;
	else if (!inode_get(fs->inodes, ino, &n) || (n.flags & NODE_DEAD))
		err = ESTALE;
	else
		err = ops_fail(fs,
			   xattr_list(tmp, fs, n.kind, n.cell,
				      n.flags, &names, &len),
			   "listxattr", ino);
	pthread_mutex_unlock(&fs->lock);
	if (err)
		fuse_reply_err(req, err);
	else
		reply_sized(req, names, len, size);
	talloc_free(tmp);
}

/* ---- the rest ---- */

static void hivefs_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct hivefs *fs = fs_of(req);
	const uint64_t block = 4096, max_bins = 0xFFFFFFFFull;
	uint64_t bins = fs->info.bins_size;
	struct statvfs sv;
	int err = 0;

	/* One scan of the bins, the first time only. */
	pthread_mutex_lock(&fs->lock);
	if (!fs->space_known) {
		err = ops_fail(fs, hive_get_space(fs->hive, &fs->space), "statfs", ino);
		fs->space_known = err == 0;
	}
	pthread_mutex_unlock(&fs->lock);
	if (err) {
		fuse_reply_err(req, err);
		return;
	}
	memset(&sv, 0, sizeof(sv));
	/*
	 * The capacity is the format's limit (cell offsets are 32-bit);
	 * the allocated cells are in use, free cells and growth are free.
	 * Every cell could be a key or value, hence the file counts.
	 */
	sv.f_bsize = sv.f_frsize = block;
	sv.f_blocks = max_bins / block;
	sv.f_bfree = sv.f_bavail =
		(max_bins - bins + fs->space.free_bytes) / block;
	sv.f_files = fs->space.allocated_cells + sv.f_bfree;
	sv.f_ffree = sv.f_favail = sv.f_bfree;
	sv.f_namemax = HIVEFS_NAME_MAX;
	fuse_reply_statfs(req, &sv);
}

static void hivefs_access(fuse_req_t req, fuse_ino_t ino, int mask)
{
	struct hivefs *fs = fs_of(req);
	struct node_info n;
	bool live;

	pthread_mutex_lock(&fs->lock);
	live = inode_get(fs->inodes, ino, &n);
	pthread_mutex_unlock(&fs->lock);
	fuse_reply_err(req, !live				? ESTALE
			    : (mask & W_OK) && !fs->writable ? EROFS
							     : 0);
}

static void hivefs_init(void *userdata, struct fuse_conn_info *conn)
{
	struct hivefs *fs = userdata;

	/*
	 * A read-only mount needs no snapshots: the kernel can open files
	 * and directories by itself, keeping their pages and listings
	 * cached, which saves four of the six round trips a directory costs
	 * a walk and two of the three of a file.  Kernels without that
	 * support, and -o handles, get open/opendir handles.
	 */
	if (fs->writable || !(conn->capable & FUSE_CAP_NO_OPEN_SUPPORT) ||
	    !(conn->capable & FUSE_CAP_NO_OPENDIR_SUPPORT))
		fs->handles = true;
	/* O_TRUNC comes with open, so a value is never stored empty first. */
	if (conn->capable & FUSE_CAP_ATOMIC_O_TRUNC)
		conn->want |= FUSE_CAP_ATOMIC_O_TRUNC;
	/* FILETIME counts 100 ns. */
	conn->time_gran = 100;
	/* Every listing is worth its attributes: tools stat what they list. */
	if (conn->capable & FUSE_CAP_READDIRPLUS)
		conn->want |= FUSE_CAP_READDIRPLUS;
	conn->want &= ~FUSE_CAP_READDIRPLUS_AUTO;
	if (!fs->writable && fs->prefetch_values && prefetch_start(fs) != 0)
		fuse_log(FUSE_LOG_ERR, "hivefs: cannot start prefetching; "
			 "every value is read on demand\n");
	if (stale_start(fs) != 0)
		fuse_log(FUSE_LOG_ERR, "hivefs: cannot start the invalidation "
			 "thread; caches are invalidated by the request loop\n");
	if (write_start(fs) != 0)
		fuse_log(FUSE_LOG_ERR, "hivefs: cannot start the periodic "
			 "commits; changes are committed on fsync and unmount\n");
}

static void hivefs_destroy(void *userdata)
{
	struct hivefs *fs = userdata;

	prefetch_stop(fs);
	stale_stop(fs);
	if (fs->big_read)
		ops_open_file_put(fs->big_read);
	fs->big_read = NULL;
	write_stop(fs);
	talloc_free(fs->dir_cache);
	fs->dir_cache = NULL;
}

const struct fuse_lowlevel_ops hivefs_ops = {
	.init = hivefs_init,
	.destroy = hivefs_destroy,
	.lookup = hivefs_lookup,
	.forget = hivefs_forget,
	.forget_multi = hivefs_forget_multi,
	.getattr = hivefs_getattr,
	.opendir = hivefs_opendir,
	.readdir = hivefs_readdir,
	.readdirplus = hivefs_readdirplus,
	.releasedir = hivefs_releasedir,
	.open = hivefs_open,
	.read = hivefs_read,
	.release = hivefs_release,
	.getxattr = hivefs_getxattr,
	.listxattr = hivefs_listxattr,
	.statfs = hivefs_statfs,
	.access = hivefs_access,
	.write = write_write,
	.flush = write_flush,
	.fsync = write_fsync,
	.fsyncdir = write_fsyncdir,
	.setattr = write_setattr,
	.mknod = write_mknod,
	.mkdir = write_mkdir,
	.unlink = write_unlink,
	.rmdir = write_rmdir,
	.rename = write_rename,
	.link = write_link,
	.symlink = write_symlink,
	.create = write_create,
	.setxattr = write_setxattr,
	.removexattr = write_removexattr,
};
