/*
 * entry.c — the FUSE operations that make, remove and rename entries:
 * create, mknod, mkdir, unlink, rmdir, rename (link and symlink are
 * refused: a key or value has one name, and there are no links).
 *
 * Names.  create/mkdir decode the file name (names.c; NAME%v makes value
 * NAME, before or after subkey NAME: dir.c, "Marked values").  Lookups ignore case, so `echo 4 > start`
 * reaches Start and keeps its spelling.  A value renamed with mv is set
 * under the new name and deleted under the old (hivefs(1), WRITING), under one
 * lock so no one sees the state between; the kernel's node follows it to
 * the new vk.  A renamed or moved key is NtRenameKey (hive_key_rename).
 * ".Trash" and ".Trash-*" at the root are refused, so file managers offer
 * to delete instead of moving keys into a trash key.
 */
#define _GNU_SOURCE /* RENAME_NOREPLACE */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include <talloc.h>

#include "change.h"
#include "entry.h"
#include "file.h"
#include "scratch.h"
#include "stale.h"
#include "store.h"

/* The key directory `ino` (under lock): 0, or the errno. */
static int live_dir(struct hivefs *fs, uint64_t ino, struct node_info *dir)
{
	if (!inode_get(fs->inodes, ino, dir) || (dir->flags & NODE_DEAD))
		return -ENOENT;
	return dir->kind == NODE_KEY ? 0 : -ENOTDIR;
}

/* A trash directory a file manager wants at the root. */
static bool is_trash(uint64_t dir_ino, const char *name)
{
	return dir_ino == INODE_ROOT &&
	       (strcmp(name, ".Trash") == 0 ||
		strncmp(name, ".Trash-", 7) == 0);
}

/*
 * Checks common to create, mknod and mkdir, then the stored name of the
 * new entry (on tmp).  0 or an errno.
 */
static int prepare_new(void *tmp, struct hivefs *fs, uint64_t dir_ino,
		       struct node_info *dir, const char *name, enum name_ns ns,
		       uint16_t **units, size_t *len, bool *typed,
		       uint32_t *type, bool *raw)
{
	int err = change_refused(fs);

	if (!err)
		err = live_dir(fs, dir_ino, dir);
	if (!err && strlen(name) > HIVEFS_NAME_MAX)
		err = -ENAMETOOLONG;
	if (!err && is_trash(dir_ino, name))
		err = -EPERM;
	if (!err && dir_new_name(tmp, &fs->names, name, ns, units, len, typed,
				 type, raw))
		err = -EINVAL;
	return err;
}

/*
 * A new value, REG_SZ and empty until written (zero bytes, whose view is
 * an empty file: a type set before anything is written re-reads "" under
 * that type, as cp -a of an empty value needs); or, if it exists (a race
 * with another creator) and `existing` is allowed, that one.
 */
static int new_value(void *tmp, struct hivefs *fs, uint64_t dir_ino,
		     const char *name, bool existing,
		     struct fuse_entry_param *e)
{
	struct node_info dir;
	uint16_t *units;
	size_t len;
	hive_value_t cell;
	bool typed, raw;
	uint32_t type = HIVE_REG_SZ, had;
	int err = prepare_new(tmp, fs, dir_ino, &dir, name, NAME_VALUE, &units,
			      &len, &typed, &type, &raw);

	if (err)
		return err;
	if (hive_value_lookup(fs->hive, dir.cell, units, len, &cell) == HIVE_OK) {
		if (!existing)
			return -EEXIST;
		/* -o typenames: NAME.TYPE of another type than value NAME
		 * has is not that value's name (a value has one type). */
		err = typed ? store_value_type(fs, cell, &had) : 0;
		if (!err && typed && had != type) {
			if (fs->verbose) {
				struct node_info n = { .kind = NODE_VALUE,
						       .cell = cell,
						       .parent = dir.cell };
				char *path = store_value_path(tmp, fs, &n);
				char *own = NULL;

				node_file_name(tmp, fs, dir.cell, NODE_VALUE,
					       cell, &own);
				fuse_log(FUSE_LOG_ERR,
					 "hivefs: create of %s: value %s exists "
					 "with another type, as %s: refused "
					 "(EEXIST; mv or user.winreg.type "
					 "change a type)\n",
					 name, path ? path : "?",
					 own ? own : "?");
			}
			return -EEXIST;
		}
		if (!err)
			err = node_entry(fs, NODE_VALUE, dir.cell, cell, 0, e);
	} else {
		/*
		 * A type from the name (-o typenames) is set now, and the
		 * content is read as its text at the close.  Until written
		 * the file is empty, and so is the value: the data of empty
		 * text ("" is one NUL for REG_SZ, an empty REG_MULTI_SZ is
		 * two), else none (.raw, and types with no empty text).
		 * A copying tool writes nothing for an empty file.
		 */
		uint8_t *empty = NULL;
		size_t empty_len = 0;

		if (typed && !raw && !fs->raw &&
		    view_parse(tmp, type, "", 0, &empty, &empty_len) != HIVE_OK)
			empty_len = 0;
		node_entries_change(fs, dir.cell);
		err = fs_errno(fs, hive_value_set(fs->hive, dir.cell, units, len,
						  typed ? type : HIVE_REG_SZ,
						  empty_len ? empty : (const uint8_t *)"",
						  empty_len, &cell));
		/* Made as NAME%v: listed so, NAME left free for a subkey
		 * (dir.c, "Marked values"). */
		if (!err && dir_has_value_mark(name))
			err = fs_errno(fs, value_mark(NULL, &fs->names, fs->hive,
						      dir.cell, cell));
		if (!err)
			node_value_stored(fs, dir.cell, cell);
		if (!err)
			err = change_done(fs);
		if (!err)
			err = node_entry(fs, NODE_VALUE, dir.cell, cell,
					 !typed ? NODE_FRESH
					 : raw	? NODE_VERBATIM
						: NODE_NAMED,
					 e);
	}
	if (!err)
		node_entry_name(fs, dir_ino, name, e);
	return err;
}

void entry_create(fuse_req_t req, fuse_ino_t parent, const char *name,
		  mode_t mode, struct fuse_file_info *fi)
{
	struct hivefs *fs = fs_of(req);
	void *tmp = talloc_new(NULL);
	struct fuse_entry_param e;
	struct open_file *fh = NULL;
	struct node_info n;
	int err;

	pthread_mutex_lock(&fs->lock);
	err = tmp ? new_value(tmp, fs, parent, name, !(fi->flags & O_EXCL), &e)
		  : -ENOMEM;
	if (!err) {
		inode_get(fs->inodes, e.ino, &n);
		err = file_handle_new(fs, e.ino, &n, fi->flags, &fh);
		if (err)
			inode_forget(fs->inodes, e.ino, 1);
	}
	pthread_mutex_unlock(&fs->lock);
	talloc_free(tmp);
	if (err)
		fs_reply_err(req, err);
	else
		file_reply_handle(req, fs, fh, fi, &e);
}

void entry_mknod(fuse_req_t req, fuse_ino_t parent, const char *name,
		 mode_t mode, dev_t rdev)
{
	struct hivefs *fs = fs_of(req);
	void *tmp = talloc_new(NULL);
	struct fuse_entry_param e;
	int err;

	/* A regular file is a value; devices, fifos and sockets have no
	 * place in a hive. */
	if (!S_ISREG(mode)) {
		talloc_free(tmp);
		fs_reply_err(req, -EPERM);
		return;
	}
	pthread_mutex_lock(&fs->lock);
	err = tmp ? new_value(tmp, fs, parent, name, false, &e) : -ENOMEM;
	pthread_mutex_unlock(&fs->lock);
	talloc_free(tmp);
	if (err)
		fs_reply_err(req, err);
	else
		fuse_reply_entry(req, &e);
}

void entry_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name,
		 mode_t mode)
{
	struct hivefs *fs = fs_of(req);
	void *tmp = talloc_new(NULL);
	struct fuse_entry_param e;
	struct node_info dir;
	uint16_t *units;
	size_t len;
	hive_key_t key;
	bool typed, raw;
	uint32_t type;
	int err;

	pthread_mutex_lock(&fs->lock);
	err = tmp ? prepare_new(tmp, fs, parent, &dir, name, NAME_KEY, &units,
				&len, &typed, &type, &raw)
		  : -ENOMEM;
	if (!err) {
		int hive_err;

		node_entries_change(fs, dir.cell);
		hive_err = hive_key_create(fs->hive, dir.cell, units, len, &key);

		/* Too deep (512 levels) or too many subkeys. */
		err = hive_err == HIVE_E_TOO_BIG ? -EMLINK : fs_errno(fs, hive_err);
		if (!err)
			value_marks_prune(&fs->names, fs->hive, dir.cell);
		if (!err)
			err = change_done(fs);
		if (!err)
			err = node_entry(fs, NODE_KEY, dir.cell, key, 0, &e);
		if (!err)
			node_entry_name(fs, parent, name, &e);
	}
	pthread_mutex_unlock(&fs->lock);
	talloc_free(tmp);
	if (err)
		fs_reply_err(req, err);
	else
		fuse_reply_entry(req, &e);
}

/* Resolve `name` in directory `dir_ino` for a change (under lock). */
static int find_for_change(void *tmp, struct hivefs *fs, uint64_t dir_ino,
			   struct node_info *dir, const char *name,
			   struct dir_entry *found)
{
	int err = change_refused(fs);

	if (!err)
		err = live_dir(fs, dir_ino, dir);
	if (!err)
		err = node_resolve(tmp, fs, dir_ino, dir, name, found);
	return err;
}

/* Delete a value (under lock); its node, if any, becomes dead. */
static int delete_value(void *tmp, struct hivefs *fs, uint32_t key,
			uint32_t cell)
{
	uint16_t *name;
	size_t len;
	uint64_t ino = inode_peek(fs->inodes, NODE_VALUE, key, cell);
	int err = hive_value_name(tmp, fs->hive, cell, &name, &len);

	if (!err)
		node_deleted(fs, ino);
	if (!err) {
		node_entries_change(fs, key);
		err = hive_value_delete(fs->hive, key, name, len);
	}
	if (err)
		return fs_errno(fs, err);
	value_unmark(&fs->names, key, cell);
	inode_unlink(fs->inodes, ino);
	recent_forget_cell(fs, cell);
	return 0;
}

/* Delete an empty key (under lock): ENOTEMPTY with subkeys or values. */
static int delete_key(struct hivefs *fs, uint32_t parent, uint32_t key)
{
	struct hive_key_stat ks;
	int err = hive_key_stat(fs->hive, key, &ks);

	/* Scratch files list like files, and would be lost with it. */
	if (!err && (ks.subkey_count || ks.value_count ||
		     scratch_in_key(fs, key)))
		err = HIVE_E_NOT_EMPTY;
	if (!err) {
		node_entries_change(fs, parent);
		err = hive_key_delete(fs->hive, key);
	}
	if (!err)
		inode_unlink(fs->inodes,
			     inode_peek(fs->inodes, NODE_KEY, parent, key));
	return fs_errno(fs, err);
}

/*
 * The names the kernel may cache that a change to entry `found` of key
 * dir (dir_ino), made through `name`, leaves wrong (inode.h), under lock
 * and before the change: the entry's own name, if the change came
 * through another spelling; for a key, the name "K%v" of the value named
 * like it, which becomes "K" once the key is gone.  0, or -ENOSPC.
 */
static int stale_names(void *tmp, struct hivefs *fs, uint64_t dir_ino,
		       const struct node_info *dir,
		       const struct dir_entry *found, const char *name,
		       struct stale *st)
{
	enum node_kind kind = found->kind == ENTRY_KEY ? NODE_KEY : NODE_VALUE;
	uint16_t *units;
	size_t len;
	hive_value_t value;
	char *own;
	int err = 0;

	if (!fs->writable)
		return 0;
	if (node_file_name(tmp, fs, dir->cell, kind, found->cell, &own) == 0 &&
	    strcmp(own, name) != 0)
		err = stale_add_name(st, dir_ino, own);
	if (!err && kind == NODE_KEY &&
	    hive_key_name(tmp, fs->hive, found->cell, &units, &len) == HIVE_OK &&
	    hive_value_lookup(fs->hive, dir->cell, units, len, &value) ==
		    HIVE_OK &&
	    node_file_name(tmp, fs, dir->cell, NODE_VALUE, value, &own) == 0)
		err = stale_add_name(st, dir_ino, own);
	return err;
}

static void remove_entry(fuse_req_t req, fuse_ino_t parent, const char *name,
			 enum node_kind kind)
{
	struct hivefs *fs = fs_of(req);
	void *tmp = talloc_new(NULL);
	struct stale st = { .n = 0 };
	struct node_info dir;
	struct dir_entry found;
	int err;

	pthread_mutex_lock(&fs->lock);
	err = tmp ? find_for_change(tmp, fs, parent, &dir, name, &found) : -ENOMEM;
	if (!err && kind == NODE_VALUE && found.kind != ENTRY_VALUE)
		err = -EISDIR;
	if (!err && kind == NODE_KEY && found.kind != ENTRY_KEY)
		err = -ENOTDIR;
	if (!err)
		err = stale_names(tmp, fs, parent, &dir, &found, name, &st);
	if (!err) {
		err = kind == NODE_VALUE ? delete_value(tmp, fs, dir.cell, found.cell)
					 : delete_key(fs, dir.cell, found.cell);
		if (!err)
			err = change_done(fs);
	}
	if (err)
		st.nnames = 0;
	pthread_mutex_unlock(&fs->lock);
	talloc_free(tmp);
	stale_reply(fs, req, &st, err, NULL);
}

void entry_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	remove_entry(req, parent, name, NODE_VALUE);
}

void entry_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	remove_entry(req, parent, name, NODE_KEY);
}

void entry_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent,
		const char *newname)
{
	fs_reply_err(req, -EPERM); /* a key or value has one name */
}

void entry_symlink(fuse_req_t req, const char *link, fuse_ino_t parent,
		   const char *name)
{
	fs_reply_err(req, -EPERM);
}

/* ---- rename ---- */

/*
 * The content of value `cell` (node n, ino) as its file shows it, for
 * reading it again under another type, on tmp: for a new file whose type
 * nobody set, the bytes last written (before text was normalised).
 */
static int shown_content(void *tmp, struct hivefs *fs, uint64_t ino,
			 const struct node_info *n, uint32_t cell,
			 char **content, size_t *len)
{
	struct recent_write *r =
		ino && (n->flags & NODE_FRESH) ? recent_find(fs, ino, n) : NULL;
	uint32_t type;

	if (r) {
		*len = r->len;
		*content = talloc_memdup(tmp, r->bytes, *len ? *len : 1);
		return *content ? 0 : -ENOMEM;
	}
	return node_value_content(tmp, fs, cell, node_shown_raw(fs, n->flags),
				  &type, content, len);
}

/*
 * -o typenames: the data of a value renamed to a name of another type:
 * its file's content read as a text of `type` (EINVAL if it is none), or
 * for a type without text form, a NAME.TYPE.raw name or on a -o raw
 * mount, the bytes.
 */
static int convert_content(void *tmp, struct hivefs *fs, const char *path,
			   uint32_t from, uint32_t type, bool raw,
			   const char *content, size_t clen,
			   const uint8_t **data, size_t *data_len)
{
	uint8_t *parsed;
	int err;

	if (fs->raw || raw || !view_type_has_text(type)) {
		*data = (const uint8_t *)content;
		*data_len = clen;
		return 0;
	}
	err = view_parse(tmp, type, content, clen, &parsed, data_len);
	if (err == HIVE_E_INVALID) {
		char from_name[NAME_TYPE_SUFFIX_MAX], to_name[NAME_TYPE_SUFFIX_MAX];

		name_type_suffix(from, false, from_name);
		name_type_suffix(type, false, to_name);
		if (fs->verbose)
			fuse_log(FUSE_LOG_ERR,
				 "hivefs: rename of %s from %s to %s: the "
				 "content is not a text of %s: refused "
				 "(EINVAL); nothing changed\n",
				 path ? path : "?", from_name + 1, to_name + 1,
				 to_name + 1);
		return -EINVAL;
	}
	if (err)
		return fs_errno(fs, err);
	*data = parsed;
	return 0;
}

/* mv of a value: set under the new name, delete the old (under lock). */
static int rename_value(void *tmp, struct hivefs *fs, const struct node_info *from,
			const struct dir_entry *src, const struct node_info *to,
			const char *newname, const struct dir_entry *dst,
			bool follow)
{
	uint64_t src_ino = inode_peek(fs->inodes, NODE_VALUE, from->cell, src->cell);
	struct hive_value_stat vs;
	uint8_t *data;
	size_t data_len, len;
	uint16_t *units;
	hive_value_t cell;
	struct node_info sn = { .kind = NODE_VALUE, .cell = src->cell,
				.parent = from->cell };
	bool typed, fresh, raw;
	uint32_t type;
	int err;

	if (dir_new_name(tmp, &fs->names, newname, NAME_VALUE, &units, &len,
			 &typed, &type, &raw))
		return -EINVAL;
	/* Whichever way below, to's entries change (node.c). */
	node_entries_change(fs, to->cell);
	if (!src_ino || !inode_get(fs->inodes, src_ino, &sn))
		sn.flags = 0;
	fresh = sn.flags & NODE_FRESH;
	err = fs_errno(fs, hive_value_stat(fs->hive, src->cell, &vs));
	if (err)
		return err;
	if (dst && fresh) {
		/*
		 * A new file renamed over a value is a new version of it (sed
		 * -i, editors and rsync write a temporary file and rename
		 * it): its content is read under the target's type.
		 */
		struct node_info dn = {
			.kind = NODE_VALUE, .cell = dst->cell, .parent = to->cell,
		};
		char *content;
		size_t clen;

		err = shown_content(tmp, fs, src_ino, &sn, src->cell, &content,
				    &clen);
		if (!err)
			err = store_value_type(fs, dst->cell, &type);
		if (!err)
			err = store_content(tmp, fs, src_ino, &dn, type, content,
					    clen, STORE_WRITE);
		if (err)
			return err;
		cell = dn.cell;
		inode_clear_flags(fs->inodes, src_ino, NODE_FRESH);
	} else if (typed && (fresh || type != vs.type)) {
		/* -o typenames: the new name's type; the file keeps its
		 * content, read again as that type. */
		const uint8_t *converted = NULL;
		char *content;
		size_t clen;

		err = shown_content(tmp, fs, src_ino, &sn, src->cell, &content,
				    &clen);
		if (!err)
			err = convert_content(tmp, fs,
					      store_value_path(tmp, fs, &sn),
					      vs.type, type, raw, content, clen,
					      &converted, &data_len);
		if (!err)
			err = fs_errno(fs, hive_value_set(fs->hive, to->cell,
							  units, len, type,
							  converted, data_len,
							  &cell));
		if (err)
			return err;
		if (src_ino)
			inode_clear_flags(fs->inodes, src_ino, NODE_FRESH);
		node_value_stored(fs, to->cell, cell);
		/* Only the type changed (Foo.dword to Foo.qword): the value
		 * was set in place, and stays. */
		if (cell == src->cell)
			return 0;
	} else {
		err = hive_value_data(tmp, fs->hive, src->cell, &data, &data_len);
		if (!err)
			err = hive_value_set(fs->hive, to->cell, units, len,
					     vs.type, data, data_len, &cell);
		if (err)
			return fs_errno(fs, err);
		node_value_moved(fs, from->cell, src->cell, to->cell, cell);
	}
	/* The target's node (if the kernel has one) is replaced. */
	if (dst) {
		uint64_t dst_ino = inode_peek(fs->inodes, NODE_VALUE, to->cell,
					      dst->cell);

		node_deleted(fs, dst_ino);
		inode_unlink(fs->inodes, dst_ino);
		recent_forget_cell(fs, dst->cell);
	}
	err = delete_value(tmp, fs, from->cell, src->cell);
	if (!err && dir_has_value_mark(newname))
		err = fs_errno(fs, value_mark(NULL, &fs->names, fs->hive,
					      to->cell, cell));
	if (err)
		return err;
	/* Renamed through another spelling, its own name may still be in
	 * the kernel's cache for an instant: that name must not reach the
	 * value at its new place (inode.h), so the node stays deleted and
	 * the new name gets a node of its own. */
	if (src_ino && follow)
		inode_rekey(fs->inodes, src_ino, to->cell, cell);
	return 0;
}

/* mv of a key: NtRenameKey, within its parent or into another. */
static int rename_key(void *tmp, struct hivefs *fs, const struct node_info *from,
		      const struct dir_entry *src, const struct node_info *to,
		      const char *newname, const struct dir_entry *dst)
{
	uint64_t src_ino = inode_peek(fs->inodes, NODE_KEY, from->cell, src->cell);
	uint16_t *units;
	size_t len;
	hive_key_t moved;
	bool typed, raw;
	uint32_t type;
	int err;

	if (dir_new_name(tmp, &fs->names, newname, NAME_KEY, &units, &len,
			 &typed, &type, &raw))
		return -EINVAL;
	/* Refused before anything changes: into its own subtree. */
	for (uint32_t k = to->cell; k != fs->info.root;) {
		struct hive_key_stat ks;

		if (k == src->cell)
			return -EINVAL;
		err = fs_errno(fs, hive_key_stat(fs->hive, k, &ks));
		if (err)
			return err;
		k = ks.parent;
	}
	/* An empty directory as the target is replaced, as rename(2) does. */
	if (dst) {
		err = delete_key(fs, to->cell, dst->cell);
		if (err)
			return err;
	}
	node_entries_change(fs, from->cell);
	node_entries_change(fs, to->cell);
	err = hive_key_rename(fs->hive, src->cell,
			      to->cell == from->cell ? HIVE_NO_CELL : to->cell,
			      units, len, &moved);
	if (err)
		return fs_errno(fs, err);
	if (src_ino)
		inode_rekey(fs->inodes, src_ino, to->cell, moved);
	if (moved != src->cell) {
		inode_reparent(fs->inodes, src->cell, moved);
		scratch_key_moved(fs, src->cell, moved);
		node_key_moved(fs, src->cell, moved);
		value_marks_key_moved(&fs->names, src->cell, moved);
	}
	value_marks_prune(&fs->names, fs->hive, to->cell);
	return 0;
}

void entry_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
		  fuse_ino_t newparent, const char *newname, unsigned int flags)
{
	struct hivefs *fs = fs_of(req);
	void *tmp = talloc_new(NULL);
	struct stale st = { .n = 0 };
	struct node_info from, to;
	struct dir_entry src, dst;
	bool target = false, own = true;
	int err = 0;

	if (flags & ~(unsigned)RENAME_NOREPLACE) {
		talloc_free(tmp);
		fs_reply_err(req, -EINVAL); /* RENAME_EXCHANGE, WHITEOUT */
		return;
	}
	pthread_mutex_lock(&fs->lock);
	if (!tmp)
		err = -ENOMEM;
	if (!err)
		err = find_for_change(tmp, fs, parent, &from, name, &src);
	if (!err)
		err = live_dir(fs, newparent, &to);
	if (!err && strlen(newname) > HIVEFS_NAME_MAX)
		err = -ENAMETOOLONG;
	if (!err && is_trash(newparent, newname))
		err = -EPERM;
	if (!err) {
		err = node_resolve(tmp, fs, newparent, &to, newname, &dst);
		target = err == 0;
		if (err == -ENOENT)
			err = 0;
	}
	if (!err && target) {
		if (dst.kind == src.kind && dst.cell == src.cell)
			goto done; /* onto itself: nothing to do */
		if (flags & RENAME_NOREPLACE)
			err = -EEXIST;
		else if (src.kind == ENTRY_KEY && dst.kind != ENTRY_KEY)
			err = -ENOTDIR;
		else if (src.kind == ENTRY_VALUE && dst.kind != ENTRY_VALUE)
			err = -EISDIR;
	}
	if (!err) {
		own = node_name_is_own(fs, parent, src.kind == ENTRY_KEY
							   ? NODE_KEY
							   : NODE_VALUE,
				       src.cell, name);
		err = stale_names(tmp, fs, parent, &from, &src, name, &st);
	}
	if (!err && target)
		err = stale_names(tmp, fs, newparent, &to, &dst, newname, &st);
	if (!err) {
		uint64_t src_ino = inode_peek(fs->inodes,
					      src.kind == ENTRY_KEY ? NODE_KEY
								    : NODE_VALUE,
					      from.cell, src.cell);

		err = src.kind == ENTRY_KEY
			      ? rename_key(tmp, fs, &from, &src, &to, newname,
					   target ? &dst : NULL)
			      : rename_value(tmp, fs, &from, &src, &to, newname,
					     target ? &dst : NULL, own);
		if (!err)
			err = change_done(fs);
		/* Its time (and, over a new file's target, its type and
		 * size) may have changed, and the kernel keeps attributes
		 * for as long as names (inode.h). */
		if (!err)
			stale_add_attr(&st, src_ino);
		/* The kernel moves its name to newname: if that is not the
		 * entry's own name now, it must not stay cached. */
		if (!err && fs->writable) {
			struct dir_entry now;

			if (node_resolve(tmp, fs, newparent, &to, newname, &now) ||
			    !node_name_is_own(fs, newparent,
					      now.kind == ENTRY_KEY ? NODE_KEY
								    : NODE_VALUE,
					      now.cell, newname))
				(void)stale_add_name(&st, newparent, newname);
		}
	}
done:
	if (err)
		st.nnames = 0;
	pthread_mutex_unlock(&fs->lock);
	talloc_free(tmp);
	stale_reply(fs, req, &st, err, NULL);
}

