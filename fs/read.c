/*
 * read.c — the FUSE operations that only read: lookup, forget,
 * attributes, listings, reading a value through a read-only descriptor,
 * statfs and access.  Those that change the hive are file.c's (values
 * being written), entry.c's (names) and xattr.c's (attributes).
 *
 * Every operation takes fs->lock around its use of the engine and the
 * inode table, and answers the kernel after releasing it.
 *
 * Handles.  With fs->handles, open renders a value's content once into a
 * file handle (reads are slices of that snapshot); with fs->dir_handles,
 * opendir takes the key's listing (readdir offsets are positions in it;
 * entries deleted or renamed since are skipped).  Writable opens are
 * file.c's.  On a kernel that allows it, a read-only mount answers open
 * and opendir with ENOSYS, and a read-write mount opendir (session.c):
 * the kernel then opens by itself, with the same caching, and never
 * sends those, nor their RELEASE or RELEASEDIR; read renders per call,
 * which is exact because nothing changes, and readdir takes the key's
 * listing from the listing cache (node.c), so the many calls that list
 * one large directory build its listing once (offsets: do_readdir).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include <talloc.h>

#include "prefetch.h"
#include "read.h"
#include "scratch.h"

/* d_ino of an entry the kernel has no node for yet (plain readdir). */
#define UNKNOWN_INO 0xffffffffu

/* ---- lookup and attributes ---- */

void read_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct hivefs *fs = fs_of(req);
	void *tmp = talloc_new(NULL);
	struct fuse_entry_param e;
	struct node_info dir;
	struct dir_entry found;
	int err = 0;

	memset(&e, 0, sizeof(e));
	if (strlen(name) > HIVEFS_NAME_MAX) {
		talloc_free(tmp);
		fs_reply_err(req, -ENAMETOOLONG);
		return;
	}
	pthread_mutex_lock(&fs->lock);
	if (!tmp) {
		err = -ENOMEM;
	} else if (!inode_get(fs->inodes, parent, &dir)) {
		err = -ESTALE;
	} else if (dir.flags & NODE_DEAD) {
		err = -ENOENT;
	} else if (dir.kind != NODE_KEY) {
		err = -ENOTDIR;
	}
	if (err)
		goto done;
	err = node_resolve(tmp, fs, parent, &dir, name, &found);
	/* A value renamed to a backup's name is not there (scratch.c). */
	if (!err && found.kind == ENTRY_VALUE &&
	    scratch_hides(fs, dir.cell, found.cell))
		err = -ENOENT;
	if (err == -ENOENT) {
		/* Negative entries only where nothing changes (inode.h). */
		e.entry_timeout = fs->writable ? 0 : fs->entry_timeout;
		err = 0;
		goto done;
	}
	if (!err)
		err = node_entry(fs,
				 found.kind == ENTRY_KEY ? NODE_KEY : NODE_VALUE,
				 dir.cell, found.cell,
				 found.synthetic ? NODE_SYNTHETIC : 0, &e);
	if (!err)
		node_entry_name(fs, parent, name, &e);
done:
	pthread_mutex_unlock(&fs->lock);
	talloc_free(tmp);
	if (err)
		fs_reply_err(req, err);
	else
		fuse_reply_entry(req, &e);
}

void read_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	struct hivefs *fs = fs_of(req);

	pthread_mutex_lock(&fs->lock);
	inode_forget(fs->inodes, ino, nlookup);
	pthread_mutex_unlock(&fs->lock);
	fuse_reply_none(req);
}

void read_forget_multi(fuse_req_t req, size_t count,
		       struct fuse_forget_data *forgets)
{
	struct hivefs *fs = fs_of(req);

	pthread_mutex_lock(&fs->lock);
	for (size_t i = 0; i < count; i++)
		inode_forget(fs->inodes, forgets[i].ino, forgets[i].nlookup);
	pthread_mutex_unlock(&fs->lock);
	fuse_reply_none(req);
}

void read_getattr(fuse_req_t req, fuse_ino_t ino,
		  struct fuse_file_info *fi)
{
	struct hivefs *fs = fs_of(req);
	struct node_info n;
	struct stat st;
	int err = 0;

	pthread_mutex_lock(&fs->lock);
	/* (fstat of a deleted value's open file comes without a handle:
	 * a deleted node still answers, see node_attr.) */
	if (!inode_get(fs->inodes, ino, &n))
		err = -ESTALE;
	else
		err = node_attr(fs, &n, ino, &st);
	pthread_mutex_unlock(&fs->lock);
	if (err)
		fs_reply_err(req, err);
	else
		fuse_reply_attr(req, &st, node_attr_timeout(fs, &st));
}

/* ---- directories ---- */

void read_opendir(fuse_req_t req, fuse_ino_t ino,
		  struct fuse_file_info *fi)
{
	struct hivefs *fs = fs_of(req);
	struct key_listing *dh;
	int err;

	if (!fs->dir_handles) {
		fs_reply_err(req, -ENOSYS); /* the kernel opens it itself */
		return;
	}
	err = node_listing_new(NULL, fs, ino, &dh);
	if (err) {
		fs_reply_err(req, err);
		return;
	}
	fi->fh = (uintptr_t)dh;
	/* Every change to a listing is an entry operation on its directory,
	 * after which the kernel drops the listing it keeps (inode.h). */
	fi->cache_readdir = 1;
	fi->keep_cache = 1;
	if (fuse_reply_open(req, fi) == -ENOENT)
		talloc_free(dh); /* the opener was interrupted */
}

/*
 * One entry for readdirplus: its attributes and a counted lookup, or, if
 * the entry cannot be read, just a name and type so that a later lookup
 * reports the error (e->ino stays 0).
 */
static void plus_entry(struct hivefs *fs, const struct key_listing *dh,
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
	err = fs_errno(fs, inode_lookup(fs->inodes, kind, dh->cell, de->cell,
					&ino, &gen));
	if (!err) {
		if (de->synthetic)
			inode_set_flags(fs->inodes, ino, NODE_SYNTHETIC);
		inode_get(fs->inodes, ino, &n);
		err = node_entry_attr(fs, kind, dh->cell, de->cell, n.flags,
				      &e->attr);
		if (err)
			inode_forget(fs->inodes, ino, 1);
	}
	if (err) {
		memset(&e->attr, 0, sizeof(e->attr));
		e->attr.st_ino = UNKNOWN_INO;
		e->attr.st_mode = kind == NODE_KEY ? S_IFDIR : S_IFREG;
		return;
	}
	node_fill_entry(fs, e, ino, gen);
	/* Listed names are entries' own, but "%~" forms can change. */
	if (fs->writable && (de->synthetic || dh->listing->aliases))
		e->entry_timeout = 0;
}

/* A plain readdir entry: the node's id if the kernel has one. */
static void plain_entry(struct hivefs *fs, const struct key_listing *dh,
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
static bool still_listed(struct hivefs *fs, const struct key_listing *dh,
			 const struct dir_entry *de)
{
	struct dir_entry now;

	if (de->kind == ENTRY_DAMAGED)
		return true;
	if (de->synthetic)
		return true; /* only listings resolve "%~" names */
	return dir_resolve(fs->hive, &fs->names, dh->cell, NULL, de->name, &now) == HIVE_OK &&
	       now.kind == de->kind && now.cell == de->cell;
}

/*
 * Offsets.  With a handle (opendir), positions in the listing taken at
 * opendir: 0 and 1 are "." and "..", entry i is at i + 2, and each
 * entry's offset is the next one's position; they stay valid for the
 * life of the handle.  Without one, on a read-only mount, the same
 * positions in the cached listing: the hive does not change.  Without
 * one on a read-write mount (the kernel opens directories itself), the
 * listing is the key's as it is now, and an entry's offset is its stable
 * one (node_listing_stable): entries come in that order, and a listing
 * resumed at an offset after entries were made or removed goes on with
 * the first entry at or past it, skipping and repeating none of those
 * that stayed.
 */
static void do_readdir(fuse_req_t req, fuse_ino_t ino, size_t size,
		       off_t off, struct fuse_file_info *fi, bool plus)
{
	struct hivefs *fs = fs_of(req);
	struct key_listing *dh = (struct key_listing *)(uintptr_t)fi->fh;
	size_t total, start, used = 0;
	bool prefetch, full = false, stable = false;
	uint32_t key;
	char *buf = malloc(size);
	int err = buf ? 0 : -ENOMEM;

	pthread_mutex_lock(&fs->lock);
	if (!err && !dh) {
		struct node_info n;

		if (!inode_get(fs->inodes, ino, &n) || (n.flags & NODE_DEAD))
			err = -ESTALE;
		else if (n.kind != NODE_KEY)
			err = -ENOTDIR;
		else
			err = node_listing_cached(fs, ino, &n, &dh);
		stable = fs->writable;
		if (!err && stable)
			err = node_listing_stable(fs, dh);
	}
	if (err) {
		pthread_mutex_unlock(&fs->lock);
		free(buf);
		fs_reply_err(req, err);
		return;
	}
	total = dh->listing->count + 2;
	start = off < 0 ? total : (size_t)off;
	if (stable && off >= 2) {
		/* The first entry whose offset is at or past off. */
		size_t lo = 0, hi = dh->listing->count;

		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;

			if (dh->stable_off[mid] < off)
				lo = mid + 1;
			else
				hi = mid;
		}
		start = lo + 2;
	}
	for (size_t pos = start; pos < total; pos++) {
		struct fuse_entry_param e;
		const struct dir_entry *de = NULL;
		const char *name;
		off_t next = (off_t)pos + 1;
		size_t n;

		if (stable && pos >= 2) {
			de = &dh->listing->ent[dh->order[pos - 2]];
			next = dh->stable_off[pos - 2] + 1;
		} else if (pos >= 2) {
			de = &dh->listing->ent[pos - 2];
		}
		memset(&e, 0, sizeof(e));
		if (!de) {
			/* Ids but no lookups: the kernel never counts these. */
			name = pos == 0 ? "." : "..";
			e.attr.st_ino = pos == 0 ? dh->ino : dh->parent_ino;
			e.attr.st_mode = S_IFDIR;
		} else if (dh->changes != fs->changes &&
			   !still_listed(fs, dh, de)) {
			continue; /* deleted or renamed since opendir */
		} else if (de->kind == ENTRY_VALUE &&
			   scratch_hides(fs, dh->cell, de->cell)) {
			continue; /* renamed to a backup's name (scratch.c) */
		} else if (plus) {
			name = de->name;
			plus_entry(fs, dh, de, &e);
		} else {
			name = de->name;
			plain_entry(fs, dh, de, &e.attr);
		}
		n = plus ? fuse_add_direntry_plus(req, buf + used, size - used,
						  name, &e, next)
			 : fuse_add_direntry(req, buf + used, size - used, name,
					     &e.attr, next);
		if (n > size - used) {
			/* Did not fit: the kernel will not count this one. */
			if (plus && e.ino)
				inode_forget(fs->inodes, e.ino, 1);
			full = true;
			break;
		}
		used += n;
	}
	/* Then the key's scratch files, at offsets of their own. */
	if (!full)
		scratch_list(req, fs, dh->cell, off, plus, buf, size, &used);
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

void read_readdir(fuse_req_t req, fuse_ino_t ino, size_t size,
		  off_t off, struct fuse_file_info *fi)
{
	do_readdir(req, ino, size, off, fi, false);
}

void read_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size,
		      off_t off, struct fuse_file_info *fi)
{
	do_readdir(req, ino, size, off, fi, true);
}

void read_releasedir(fuse_req_t req, fuse_ino_t ino,
		     struct fuse_file_info *fi)
{
	talloc_free((struct key_listing *)(uintptr_t)fi->fh);
	fs_reply_err(req, 0);
}

/* ---- files ---- */

/*
 * May a read-only open keep the pages the kernel has of value ino?  Not
 * if it changed since they were dropped last, nor while a descriptor
 * open for writing may put its unstored bytes there (inode.h).
 */
static bool keep_pages(struct hivefs *fs, fuse_ino_t ino)
{
	struct node_info n;
	bool keep = true;

	if (!fs->writable)
		return true;
	pthread_mutex_lock(&fs->lock);
	if (!inode_get(fs->inodes, ino, &n) || (n.flags & NODE_STORED)) {
		keep = false;
		inode_clear_flags(fs->inodes, ino, NODE_STORED);
	}
	for (struct wbuf *w = fs->writers; w && keep; w = w->next)
		if (w->ino == ino)
			keep = false;
	pthread_mutex_unlock(&fs->lock);
	return keep;
}

void read_open(fuse_req_t req, fuse_ino_t ino,
	       struct fuse_file_info *fi)
{
	struct hivefs *fs = fs_of(req);
	struct open_file *fh;
	int err;

	err = node_render_value(fs, ino, &fh);
	if (err) {
		fs_reply_err(req, err);
		return;
	}
	fi->fh = (uintptr_t)fh;
	fi->keep_cache = keep_pages(fs, ino);
	fi->noflush = 1;
	if (fs->writable)
		atomic_fetch_add(&fs->readers, 1); /* see stale.c */
	if (fuse_reply_open(req, fi) == -ENOENT) {
		if (fs->writable)
			atomic_fetch_sub(&fs->readers, 1);
		open_file_put(fh);
	}
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

void read_read(fuse_req_t req, fuse_ino_t ino, size_t size,
	       off_t off, struct fuse_file_info *fi)
{
	struct hivefs *fs = fs_of(req);
	struct open_file *fh = (struct open_file *)(uintptr_t)fi->fh;
	bool live = !fh;
	int err;

	if (fh && fs->writable && snapshot_stale(fs, ino, fh)) {
		fh = NULL; /* a writer stored since: read the value as it is */
		live = true;
	}
	if (fh) {
		atomic_fetch_add(&fh->refs, 1);
	} else if ((err = node_read_snapshot(fs, ino, size, &fh)) != 0) {
		fs_reply_err(req, err);
		return;
	}
	if (off < 0 || (size_t)off >= fh->size)
		size = 0;
	else if (size > fh->size - (size_t)off)
		size = fh->size - (size_t)off;
	fuse_reply_buf(req, size ? fh->data + off : NULL, size);
	if (live && (off < 0 || (size_t)off + size >= fh->size))
		node_read_done(fs, fh);
	open_file_put(fh);
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

void read_release(fuse_req_t req, fuse_ino_t ino,
		  struct fuse_file_info *fi)
{
	struct open_file *fh = (struct open_file *)(uintptr_t)fi->fh;

	if (fh) {
		if (fs_of(req)->writable)
			atomic_fetch_sub(&fs_of(req)->readers, 1);
		open_file_put(fh);
	}
	fs_reply_err(req, 0);
}

/* ---- the rest ---- */

void read_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct hivefs *fs = fs_of(req);
	const uint64_t block = 4096, max_bins = 0xFFFFFFFFull;
	struct statvfs sv, below;
	struct hive_info info;
	uint64_t room = 0, bins;
	int err = 0;

	/* Free cells change with every change: counted again after one. */
	pthread_mutex_lock(&fs->lock);
	if (!fs->space_known || fs->space_changes != fs->changes) {
		err = fs_errno(fs, hive_get_space(fs->hive, &fs->space));
		fs->space_known = err == 0;
		fs->space_changes = fs->changes;
	}
	hive_get_info(fs->hive, &info);
	pthread_mutex_unlock(&fs->lock);
	if (err) {
		fs_reply_err(req, err);
		return;
	}
	bins = info.bins_size;
	/*
	 * The hive as a disk: its bins are the blocks in use, except its
	 * free cells; it can grow into what the file system holding it has
	 * free (a read-only mount: not at all), up to the format's limit
	 * (cell offsets are 32-bit).  So df shows the hive's size, what is
	 * free in it and what it may still take, not a made-up capacity.
	 */
	if (fs->writable && fs->hive_fd >= 0 && fstatvfs(fs->hive_fd, &below) == 0)
		room = (uint64_t)below.f_bavail * below.f_frsize;
	if (bins > max_bins)
		bins = max_bins;
	if (room > max_bins - bins)
		room = max_bins - bins;
	memset(&sv, 0, sizeof(sv));
	sv.f_bsize = sv.f_frsize = block;
	sv.f_blocks = (bins + room) / block;
	sv.f_bfree = sv.f_bavail =
		(room + (fs->space.free_bytes < bins ? fs->space.free_bytes : 0)) / block;
	/* Every cell could be a key or value, hence the file counts. */
	sv.f_files = fs->space.allocated_cells + sv.f_bfree;
	sv.f_ffree = sv.f_favail = sv.f_bfree;
	sv.f_namemax = HIVEFS_NAME_MAX;
	fuse_reply_statfs(req, &sv);
}

void read_access(fuse_req_t req, fuse_ino_t ino, int mask)
{
	struct hivefs *fs = fs_of(req);
	struct node_info n;
	bool live;

	pthread_mutex_lock(&fs->lock);
	live = inode_get(fs->inodes, ino, &n);
	pthread_mutex_unlock(&fs->lock);
	fs_reply_err(req, !live				 ? -ESTALE
			  : (mask & W_OK) && !fs->writable ? -EROFS
							   : 0);
}

