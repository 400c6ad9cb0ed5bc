/*
 * scratch.c — editors' scratch files, kept in memory.
 *
 * Editors make files beside the one they edit: vim its swap file and a
 * probe that tells it whether it may replace the file by renaming, nano
 * its lock file, emacs a lock (a symbolic link) and autosaves, and most
 * of them backups.  Stored as values they change the key's LastWriteTime
 * (which editors then see as "the file changed since reading it") and,
 * left by a crashed editor, leave junk in the hive (a ".OneDrive.swp"
 * value in a Run key).  So a new file whose name has one of these
 * patterns, in a key with no value of that name, is a scratch file:
 *
 *   .NAME.swa … .NAME.swz  vim's swap files (.swp first), nano's lock
 *   .NAME.swax … .NAME.swzx vim's test of the file system's names
 *   4913, 5036, 5159 …      vim's probe: 4913 + 123·k, k < 100, when
 *                           4913 … 4913 + 123·(k-1) are there
 *   .#NAME                  emacs' lock (a symbolic link; the only
 *                           symbolic links a mount makes)
 *   #NAME#                  emacs' autosave
 *   NAME~, NAME.~N~         backups, when NAME is there
 *
 * A scratch file lives in memory for the life of the mount (it lists,
 * reads, writes, takes attributes and extended attributes like a file)
 * and never reaches the hive; the key's LastWriteTime does not change.
 * A name that is already a value's stays that value's: junk a crashed
 * editor left in a hive before is listed, read and removed as a value.
 *
 * Renames join the two worlds, because editors save through them:
 *
 *   - a scratch file renamed to a name that is not a scratch name becomes
 *     a value (stored then, under the existing value's type if it
 *     replaces one, else as a new file's content would be);
 *   - a value renamed to a scratch name (vim with backupcopy=no, emacs'
 *     backups: `mv NAME NAME~`, then a new NAME is written) is hidden,
 *     not deleted: it stays in the hive, unchanged, while the scratch
 *     file holds a copy of its content.  A file then made under the
 *     value's name is the value again, opened empty, keeping its type,
 *     so the editor's new version is stored as that type.  Deleting the
 *     backup while the value is still hidden deletes the value (`mv V
 *     V~; rm V~` is `rm V`); renaming it back shows the value again.  A
 *     crash or unmount while a value is hidden leaves it in the hive as
 *     it was.
 *
 * Scratch files have node ids of their own (from SCRATCH_INO_BASE) and
 * session.c routes every operation on them here.  They are bounded:
 * SCRATCH_MAX_BYTES in all, beyond which writes fail with ENOSPC.
 */
#define _GNU_SOURCE /* RENAME_NOREPLACE */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/limits.h>
#include <sys/xattr.h>
#include <time.h>

#include <talloc.h>

#include "change.h"
#include "scratch.h"
#include "stale.h"
#include "store.h"

/* All the content scratch files may hold together. */
#define SCRATCH_MAX_BYTES ((size_t)512 << 20)
/* Extended attributes a scratch file may carry, and their size. */
#define SCRATCH_MAX_XATTRS 32
#define SCRATCH_MAX_XATTR_BYTES 65536
/*
 * Seconds the kernel keeps a scratch file's attributes: briefly, as
 * before values' were kept long (inode.h); an editor's swap file is
 * stat'ed rarely, and nothing here is worth proving each of its times
 * dropped exactly.
 */
#define SCRATCH_ATTR_TIMEOUT 1.0

struct scratch_xattr {
	char *name;
	char *value;
	size_t len;
};

struct scratch {
	struct scratch *next;
	uint64_t ino;
	uint32_t key;            /* the key (nk cell) it lies in */
	char *name;              /* NULL once unlinked or renamed away */
	bool symlink;
	char *data;              /* content, or a symlink's target */
	size_t len, cap;
	mode_t mode;
	struct timespec atime, mtime, ctime;
	uint64_t nlookup;        /* the kernel's references */
	unsigned opens;
	bool written;            /* changed since it was made */
	/* A value renamed to this name, hidden in key shadow_key. */
	uint32_t shadow, shadow_key;
	uint32_t type;           /* that value's type (typed) */
	bool typed, raw;
	struct scratch_xattr xattr[SCRATCH_MAX_XATTRS];
	unsigned nxattr;
};

struct scratch_table {
	struct scratch *head, *tail; /* in order of creation */
	uint64_t serial;
	size_t bytes;
};

/* ---- names ---- */

/* Which pattern a name has (see the top of this file). */
enum pattern {
	PATTERN_NONE,
	PATTERN_ALWAYS,   /* swap files, locks, autosaves */
	PATTERN_PROBE,    /* vim's probe 4913 + 123k: k in *base_len */
	PATTERN_BACKUP,   /* NAME~, NAME.~N~: NAME is the first *base_len */
};

static enum pattern pattern_of(const char *name, size_t *base)
{
	size_t len = strlen(name), n = len;

	if (len < 2)
		return PATTERN_NONE;
	/* .NAME.swa … .NAME.swz, and .NAME.swpx … (vim's test whether the
	 * file system keeps long names) */
	if (name[0] == '.' && n >= 7 && name[n - 1] == 'x')
		n--;
	if (name[0] == '.' && n >= 6 && name[n - 4] == '.' &&
	    name[n - 3] == 's' && name[n - 2] == 'w' &&
	    name[n - 1] >= 'a' && name[n - 1] <= 'z')
		return PATTERN_ALWAYS;
	/* .#NAME, #NAME# */
	if ((name[0] == '.' && name[1] == '#' && len > 2) ||
	    (name[0] == '#' && name[len - 1] == '#' && len > 2))
		return PATTERN_ALWAYS;
	if (name[len - 1] == '~') {
		/* NAME.~N~ */
		size_t i = len - 2;

		while (i > 0 && name[i] >= '0' && name[i] <= '9')
			i--;
		*base = i < len - 2 && i >= 2 && name[i] == '~' &&
				name[i - 1] == '.'
			? i - 1
			: len - 1;
		return PATTERN_BACKUP;
	}
	if (name[0] >= '1' && name[0] <= '9') {
		char *end;
		unsigned long v = strtoul(name, &end, 10);

		if (*end == '\0' && v >= 4913 && (v - 4913) % 123 == 0 &&
		    (v - 4913) / 123 < 100) {
			*base = (v - 4913) / 123;
			return PATTERN_PROBE;
		}
	}
	return PATTERN_NONE;
}

/* ---- the table ---- */

static struct scratch_table *table(struct hivefs *fs)
{
	if (!fs->scratch)
		fs->scratch = talloc_zero(NULL, struct scratch_table);
	return fs->scratch;
}

static struct scratch *by_ino(struct hivefs *fs, uint64_t ino)
{
	if (!fs->scratch)
		return NULL;
	for (struct scratch *s = fs->scratch->head; s; s = s->next)
		if (s->ino == ino)
			return s;
	return NULL;
}

static struct scratch *by_name(struct hivefs *fs, uint32_t key,
			       const char *name)
{
	if (!fs->scratch)
		return NULL;
	for (struct scratch *s = fs->scratch->head; s; s = s->next)
		if (s->name && s->key == key && strcmp(s->name, name) == 0)
			return s;
	return NULL;
}

static void free_scratch(struct hivefs *fs, struct scratch *s)
{
	struct scratch_table *t = fs->scratch;
	struct scratch *prev = NULL;

	for (struct scratch *p = t->head; p; prev = p, p = p->next) {
		if (p != s)
			continue;
		if (prev)
			prev->next = s->next;
		else
			t->head = s->next;
		if (t->tail == s)
			t->tail = prev;
		break;
	}
	t->bytes -= s->cap;
	free(s->data);
	talloc_free(s);
}

/* Gone from its key; freed once the kernel and every descriptor let go. */
static void drop_name(struct hivefs *fs, struct scratch *s)
{
	talloc_free(s->name);
	s->name = NULL;
	if (s->nlookup == 0 && s->opens == 0)
		free_scratch(fs, s);
}

static void maybe_free(struct hivefs *fs, struct scratch *s)
{
	if (!s->name && s->nlookup == 0 && s->opens == 0)
		free_scratch(fs, s);
}

static struct scratch *scratch_new(struct hivefs *fs, uint32_t key,
				   const char *name, mode_t mode)
{
	struct scratch_table *t = table(fs);
	struct scratch *s = t ? talloc_zero(t, struct scratch) : NULL;
	struct timespec now;

	if (!s)
		return NULL;
	s->name = talloc_strdup(s, name);
	if (!s->name) {
		talloc_free(s);
		return NULL;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	s->ino = SCRATCH_INO_BASE + ++t->serial;
	s->key = key;
	s->mode = mode & 07777;
	s->atime = s->mtime = s->ctime = now;
	s->shadow = s->shadow_key = HIVE_NO_CELL;
	if (t->tail)
		t->tail->next = s;
	else
		t->head = s;
	t->tail = s;
	return s;
}

/* Room for `len` bytes of content: 0, -ENOSPC or -ENOMEM. */
static int reserve(struct hivefs *fs, struct scratch *s, size_t len)
{
	struct scratch_table *t = fs->scratch;
	size_t cap;
	char *data;

	if (len <= s->cap)
		return 0;
	cap = s->cap < 4096 ? 4096 : s->cap;
	while (cap < len)
		cap *= 2;
	if (cap - s->cap > SCRATCH_MAX_BYTES - t->bytes)
		return -ENOSPC;
	data = realloc(s->data, cap);
	if (!data)
		return -ENOMEM;
	t->bytes += cap - s->cap;
	s->data = data;
	s->cap = cap;
	return 0;
}

static int set_length(struct hivefs *fs, struct scratch *s, size_t len)
{
	int err = reserve(fs, s, len);

	if (err)
		return err;
	if (len > s->len)
		memset(s->data + s->len, 0, len - s->len);
	s->len = len;
	return 0;
}

static void touch(struct scratch *s)
{
	clock_gettime(CLOCK_REALTIME, &s->mtime);
	s->ctime = s->mtime;
	s->written = true;
}

/* ---- attributes and entries ---- */

static void attr_of(const struct hivefs *fs, const struct scratch *s,
		    struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = s->ino;
	st->st_mode = s->symlink ? S_IFLNK | 0777 : S_IFREG | s->mode;
	st->st_nlink = s->name ? 1 : 0;
	st->st_uid = fs->uid;
	st->st_gid = fs->gid;
	st->st_size = (off_t)s->len;
	st->st_blksize = 4096;
	st->st_blocks = (blkcnt_t)((s->cap + 511) / 512);
	st->st_atim = s->atime;
	st->st_mtim = s->mtime;
	st->st_ctim = s->ctime;
}

/* A counted entry for the kernel. */
static void entry_of(struct hivefs *fs, struct scratch *s,
		     struct fuse_entry_param *e)
{
	memset(e, 0, sizeof(*e));
	e->ino = s->ino;
	e->generation = 1;
	attr_of(fs, s, &e->attr);
	e->attr_timeout = SCRATCH_ATTR_TIMEOUT;
	e->entry_timeout = 0;
	s->nlookup++;
}

/* The key directory ino (under lock): its cell, or an errno. */
static int live_key(struct hivefs *fs, uint64_t ino, struct node_info *dir)
{
	if (scratch_ino(ino))
		return -ENOTDIR;
	if (!inode_get(fs->inodes, ino, dir) || (dir->flags & NODE_DEAD))
		return -ENOENT;
	return dir->kind == NODE_KEY ? 0 : -ENOTDIR;
}

/* Does the hive have an entry `name` in directory dir (ino)?  Its kind
 * and cell in *found. */
static bool hive_has(struct hivefs *fs, uint64_t ino,
		     const struct node_info *dir, const char *name,
		     struct dir_entry *found)
{
	void *tmp = talloc_new(NULL);
	int err = tmp ? node_resolve(tmp, fs, ino, dir, name, found) : -ENOMEM;

	talloc_free(tmp);
	return err != -ENOENT;
}

/* Has directory dir (ino) an entry, or a scratch file, called name? */
static bool exists(struct hivefs *fs, uint64_t ino, const struct node_info *dir,
		   const char *name)
{
	struct dir_entry found;

	return by_name(fs, dir->cell, name) || hive_has(fs, ino, dir, name, &found);
}

/*
 * Is `name` a scratch file's name in directory dir (ino), under lock?
 * Swap files, locks and autosaves by their pattern alone.  Backups only
 * while what they back up is there (NAME~ beside NAME: a value really
 * named "Qr~4~~", copied into a key, stays a value), and vim's probe
 * 4913 + 123k only when 4913 … 4913 + 123(k-1) are there (vim tries the
 * next only then: a value named 10079, a code page, stays a value).
 */
static bool scratch_name(struct hivefs *fs, uint64_t ino,
			 const struct node_info *dir, const char *name)
{
	size_t base = 0;
	char prev[16];
	char *stem;
	bool there;

	switch (pattern_of(name, &base)) {
	case PATTERN_ALWAYS:
		return true;
	case PATTERN_PROBE:
		for (size_t k = 0; k < base; k++) {
			snprintf(prev, sizeof(prev), "%zu", 4913 + 123 * k);
			if (!exists(fs, ino, dir, prev))
				return false;
		}
		return true;
	case PATTERN_BACKUP:
		stem = base ? strndup(name, base) : NULL;
		there = stem && exists(fs, ino, dir, stem);
		free(stem);
		return there;
	default:
		return false;
	}
}

/*
 * May `name` in directory parent be a new scratch file (under lock)?
 * Only on a read-write mount, for a scratch name no entry of the key
 * has already.
 */
static bool may_be_new(struct hivefs *fs, uint64_t parent,
		       struct node_info *dir, const char *name)
{
	struct dir_entry found;

	if (!fs->writable || strlen(name) > HIVEFS_NAME_MAX)
		return false;
	if (live_key(fs, parent, dir))
		return false;
	return !hive_has(fs, parent, dir, name, &found) &&
	       scratch_name(fs, parent, dir, name);
}

/* ---- name-based operations ---- */

bool scratch_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct hivefs *fs = fs_of(req);
	struct fuse_entry_param e;
	struct node_info dir;
	struct scratch *s = NULL;

	pthread_mutex_lock(&fs->lock);
	if (fs->scratch && live_key(fs, parent, &dir) == 0)
		s = by_name(fs, dir.cell, name);
	if (s)
		entry_of(fs, s, &e);
	pthread_mutex_unlock(&fs->lock);
	if (s)
		fuse_reply_entry(req, &e);
	return s != NULL;
}

bool scratch_create(fuse_req_t req, fuse_ino_t parent, const char *name,
		    mode_t mode, struct fuse_file_info *fi)
{
	struct hivefs *fs = fs_of(req);
	struct fuse_entry_param e;
	struct node_info dir;
	struct scratch *s = NULL;
	int err = 0;

	pthread_mutex_lock(&fs->lock);
	if (live_key(fs, parent, &dir) == 0)
		s = by_name(fs, dir.cell, name);
	if (s) {
		if (!fi || (fi->flags & O_EXCL))
			err = -EEXIST;
		else if (s->symlink)
			err = -ELOOP; /* O_NOFOLLOW, or a dangling lock */
		else if (fi->flags & O_TRUNC) {
			set_length(fs, s, 0);
			touch(s);
		}
	} else if (may_be_new(fs, parent, &dir, name)) {
		s = scratch_new(fs, dir.cell, name, mode);
		if (!s)
			err = -ENOMEM;
	} else {
		pthread_mutex_unlock(&fs->lock);
		return false;
	}
	if (!err) {
		entry_of(fs, s, &e);
		if (fi)
			s->opens++;
		node_changed(fs);
	}
	pthread_mutex_unlock(&fs->lock);
	if (err) {
		fs_reply_err(req, err);
		return true;
	}
	if (!fi) { /* mknod */
		fuse_reply_entry(req, &e);
		return true;
	}
	fi->fh = 0;
	fi->keep_cache = 0;
	if (fuse_reply_create(req, &e, fi) == -ENOENT) {
		pthread_mutex_lock(&fs->lock);
		s->opens--;
		s->nlookup--;
		maybe_free(fs, s);
		pthread_mutex_unlock(&fs->lock);
	}
	return true;
}

bool scratch_symlink(fuse_req_t req, const char *link, fuse_ino_t parent,
		     const char *name)
{
	struct hivefs *fs = fs_of(req);
	struct fuse_entry_param e;
	struct node_info dir;
	struct scratch *s = NULL;
	size_t len = strlen(link);
	int err = 0;

	pthread_mutex_lock(&fs->lock);
	if (live_key(fs, parent, &dir) == 0 && by_name(fs, dir.cell, name)) {
		err = -EEXIST;
	} else if (may_be_new(fs, parent, &dir, name)) {
		s = scratch_new(fs, dir.cell, name, 0777);
		err = !s ? -ENOMEM : len >= 4096 ? -ENAMETOOLONG : 0;
		if (!err)
			err = set_length(fs, s, len);
		if (!err) {
			memcpy(s->data, link, len);
			s->symlink = true;
			entry_of(fs, s, &e);
			node_changed(fs);
		} else if (s) {
			drop_name(fs, s);
		}
	} else {
		pthread_mutex_unlock(&fs->lock);
		return false;
	}
	pthread_mutex_unlock(&fs->lock);
	if (err)
		fs_reply_err(req, err);
	else
		fuse_reply_entry(req, &e);
	return true;
}

/* Delete value `cell` of key `key` from the hive (under lock). */
static int delete_hidden(struct hivefs *fs, uint32_t key, uint32_t cell)
{
	void *tmp = talloc_new(NULL);
	uint16_t *name;
	size_t len;
	int err = change_refused(fs);

	if (!err && !tmp)
		err = -ENOMEM;
	uint64_t ino = inode_peek(fs->inodes, NODE_VALUE, key, cell);

	if (!err)
		err = fs_errno(fs, hive_value_name(tmp, fs->hive, cell, &name, &len));
	if (!err)
		node_deleted(fs, ino);
	if (!err) {
		node_entries_change(fs, key);
		err = fs_errno(fs, hive_value_delete(fs->hive, key, name, len));
	}
	if (!err)
		value_unmark(&fs->names, key, cell);
	talloc_free(tmp);
	if (err)
		return err;
	inode_unlink(fs->inodes, ino);
	recent_forget_cell(fs, cell);
	return change_done(fs);
}

bool scratch_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct hivefs *fs = fs_of(req);
	struct node_info dir;
	struct scratch *s = NULL;
	int err = 0;

	pthread_mutex_lock(&fs->lock);
	if (fs->scratch && live_key(fs, parent, &dir) == 0)
		s = by_name(fs, dir.cell, name);
	if (!s) {
		pthread_mutex_unlock(&fs->lock);
		return false;
	}
	/* `mv V V~; rm V~` deletes V. */
	if (s->shadow != HIVE_NO_CELL)
		err = delete_hidden(fs, s->shadow_key, s->shadow);
	if (!err) {
		s->shadow = HIVE_NO_CELL;
		drop_name(fs, s);
		node_changed(fs);
	}
	pthread_mutex_unlock(&fs->lock);
	fs_reply_err(req, err);
	return true;
}

bool scratch_reveal(struct hivefs *fs, fuse_ino_t parent, const char *name)
{
	struct node_info dir;
	struct dir_entry found;
	bool revealed = false;

	pthread_mutex_lock(&fs->lock);
	if (fs->scratch && live_key(fs, parent, &dir) == 0 &&
	    hive_has(fs, parent, &dir, name, &found) &&
	    found.kind == ENTRY_VALUE) {
		for (struct scratch *s = fs->scratch->head; s; s = s->next) {
			if (s->name && s->shadow == found.cell &&
			    s->shadow_key == dir.cell) {
				s->shadow = HIVE_NO_CELL;
				revealed = true;
			}
		}
	}
	if (revealed)
		node_changed(fs);
	pthread_mutex_unlock(&fs->lock);
	return revealed;
}

/*
 * A value renamed to a scratch name (under lock): hidden, its content
 * copied into a new scratch file `name` in key `to`.
 */
static int hide_value(struct hivefs *fs, const struct node_info *from,
		      const struct dir_entry *src, uint32_t to,
		      const char *name, struct scratch **out)
{
	void *tmp = talloc_new(NULL);
	uint64_t ino = inode_peek(fs->inodes, NODE_VALUE, from->cell, src->cell);
	struct node_info vn = { .flags = 0 };
	struct scratch *s;
	uint32_t type;
	char *content;
	size_t len;
	int err = tmp ? 0 : -ENOMEM;

	if (ino)
		inode_get(fs->inodes, ino, &vn);
	if (!err)
		err = node_value_content(tmp, fs, src->cell,
					 node_shown_raw(fs, vn.flags), &type,
					 &content, &len);
	s = err ? NULL : scratch_new(fs, to, name, fs->value_mode);
	if (!err && !s)
		err = -ENOMEM;
	if (!err)
		err = set_length(fs, s, len);
	if (err) {
		if (s)
			drop_name(fs, s);
		talloc_free(tmp);
		return err;
	}
	memcpy(s->data, content, len);
	s->shadow = src->cell;
	s->shadow_key = from->cell;
	s->type = type;
	s->typed = true;
	s->raw = node_shown_raw(fs, vn.flags);
	talloc_free(tmp);
	*out = s;
	return 0;
}

/*
 * Scratch file s becomes value `name` of key `to` (ino to_ino): it
 * replaces that value, under its type, or is a new one (of the type of
 * the value it hid, else as a new file's content is stored).  A value it
 * hid is deleted, unless this is its own name (it is shown again, with
 * s's content if s was written).  Under lock.
 */
static int make_real(struct hivefs *fs, struct scratch *s, uint64_t to_ino,
		     const struct node_info *to, const char *name,
		     struct stale *st)
{
	void *tmp = talloc_new(NULL);
	struct dir_entry found;
	struct node_info n = { .kind = NODE_VALUE, .parent = to->cell };
	uint32_t type = s->typed ? s->type : HIVE_REG_SZ;
	bool made = false, own = false;
	uint16_t *units;
	size_t units_len;
	int err = tmp ? change_refused(fs) : -ENOMEM;

	if (err)
		goto out;
	if (s->symlink) {
		err = -EPERM; /* no links in a hive */
		goto out;
	}
	if (hive_has(fs, to_ino, to, name, &found)) {
		if (found.kind != ENTRY_VALUE) {
			err = found.kind == ENTRY_KEY ? -EISDIR : -EIO;
			goto out;
		}
		own = found.cell == s->shadow && to->cell == s->shadow_key;
		n.cell = found.cell;
		n.flags = s->raw ? NODE_VERBATIM : 0;
		uint64_t ino = inode_peek(fs->inodes, NODE_VALUE, to->cell,
					  n.cell);

		err = store_value_type(fs, n.cell, &type);
		if (!err && (!own || s->written))
			err = store_content(tmp, fs, ino, &n, type,
					    s->data ? s->data : "", s->len,
					    STORE_WRITE);
		/* The kernel may hold the value's attributes and pages
		 * (under another name it cached, or an open descriptor). */
		if (!err && (!own || s->written)) {
			stale_add(st, ino);
			stale_add(st, to_ino);
		}
	} else {
		bool named_type, named_raw;
		uint32_t name_type;

		if (dir_new_name(tmp, &fs->names, name, NAME_VALUE, &units,
				 &units_len, &named_type, &name_type,
				 &named_raw)) {
			err = -EINVAL;
			goto out;
		}
		/* -o typenames: the name says the type. */
		if (named_type) {
			type = name_type;
			s->typed = true;
			s->raw = s->raw || named_raw;
		}
		node_entries_change(fs, to->cell);
		err = fs_errno(fs, hive_value_set(fs->hive, to->cell, units,
						  units_len, type, "", 0, &n.cell));
		made = err == 0;
		n.flags = (s->typed ? 0 : NODE_FRESH) |
			  (s->raw ? NODE_VERBATIM : 0);
		if (!err)
			err = store_content(tmp, fs, 0, &n, type,
					    s->data ? s->data : "", s->len,
					    STORE_WRITE);
		if (!err && dir_has_value_mark(name))
			err = fs_errno(fs, value_mark(NULL, &fs->names, fs->hive,
						      to->cell, n.cell));
		if (err && made)
			(void)hive_value_delete(fs->hive, to->cell, units,
						units_len);
	}
	if (!err && s->shadow != HIVE_NO_CELL && !own)
		err = delete_hidden(fs, s->shadow_key, s->shadow);
	if (!err) {
		s->shadow = HIVE_NO_CELL;
		err = change_done(fs);
	}
out:
	talloc_free(tmp);
	return err;
}

bool scratch_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
		    fuse_ino_t newparent, const char *newname,
		    unsigned int flags)
{
	struct hivefs *fs = fs_of(req);
	struct node_info from, to;
	struct dir_entry found, target;
	struct stale st = { .n = 0 };
	struct scratch *s, *dst;
	bool dst_real;
	int err = 0;

	pthread_mutex_lock(&fs->lock);
	if (!fs->writable || live_key(fs, parent, &from) ||
	    live_key(fs, newparent, &to))
		goto not_mine;
	s = by_name(fs, from.cell, name);
	dst = by_name(fs, to.cell, newname);
	dst_real = !dst && hive_has(fs, newparent, &to, newname, &target);
	if (!s) {
		/* A value renamed to a scratch name is hidden. */
		if (dst_real || (!dst && !scratch_name(fs, newparent, &to, newname)) ||
		    strlen(newname) > HIVEFS_NAME_MAX ||
		    !hive_has(fs, parent, &from, name, &found) ||
		    found.kind != ENTRY_VALUE || scratch_hides(fs, from.cell,
							       found.cell))
			goto not_mine;
		if (dst && (flags & RENAME_NOREPLACE)) {
			err = -EEXIST;
		} else {
			err = change_refused(fs);
			/* The kernel moves its name of the value to newname;
			 * dropped after the answer, it finds the scratch file. */
			if (!err)
				err = stale_add_name(&st, newparent, newname);
			if (!err)
				err = hide_value(fs, &from, &found, to.cell,
						 newname, &s);
			if (!err && dst) {
				if (dst->shadow != HIVE_NO_CELL)
					err = delete_hidden(fs, dst->shadow_key,
							    dst->shadow);
				if (!err)
					drop_name(fs, dst);
			}
		}
	} else if (dst == s) {
		err = 0;
	} else if (dst || (!dst_real && scratch_name(fs, newparent, &to, newname))) {
		/* Scratch to scratch. */
		if (dst && (flags & RENAME_NOREPLACE))
			err = -EEXIST;
		else if (dst && dst->shadow != HIVE_NO_CELL)
			err = delete_hidden(fs, dst->shadow_key, dst->shadow);
		if (!err && dst)
			drop_name(fs, dst);
		if (!err) {
			char *copy = talloc_strdup(s, newname);

			if (!copy) {
				err = -ENOMEM;
			} else {
				talloc_free(s->name);
				s->name = copy;
				s->key = to.cell;
				clock_gettime(CLOCK_REALTIME, &s->ctime);
			}
		}
	} else {
		/* A scratch file becomes a value. */
		if (dst_real && (flags & RENAME_NOREPLACE))
			err = -EEXIST;
		else if (strlen(newname) > HIVEFS_NAME_MAX)
			err = -ENAMETOOLONG;
		else
			err = make_real(fs, s, newparent, &to, newname, &st);
		if (!err)
			drop_name(fs, s);
	}
	if (!err)
		node_changed(fs);
	else
		st.nnames = 0;
	pthread_mutex_unlock(&fs->lock);
	stale_reply(fs, req, &st, err, NULL);
	return true;
not_mine:
	pthread_mutex_unlock(&fs->lock);
	return false;
}

/* ---- node-based operations ---- */

/* The scratch file ino (under lock), or NULL after answering req. */
static struct scratch *held(fuse_req_t req, struct hivefs *fs, uint64_t ino)
{
	struct scratch *s = by_ino(fs, ino);

	if (!s) {
		pthread_mutex_unlock(&fs->lock);
		fs_reply_err(req, -ESTALE);
	}
	return s;
}

void scratch_forget(struct hivefs *fs, fuse_ino_t ino, uint64_t nlookup)
{
	struct scratch *s = by_ino(fs, ino);

	if (!s)
		return;
	s->nlookup = nlookup < s->nlookup ? s->nlookup - nlookup : 0;
	maybe_free(fs, s);
}

void scratch_getattr(fuse_req_t req, fuse_ino_t ino)
{
	struct hivefs *fs = fs_of(req);
	struct scratch *s;
	struct stat st;

	pthread_mutex_lock(&fs->lock);
	if (!(s = held(req, fs, ino)))
		return;
	attr_of(fs, s, &st);
	pthread_mutex_unlock(&fs->lock);
	fuse_reply_attr(req, &st, SCRATCH_ATTR_TIMEOUT);
}

void scratch_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr,
		     int to_set)
{
	struct hivefs *fs = fs_of(req);
	struct scratch *s;
	struct timespec now;
	struct stat st;
	int err = 0;

	pthread_mutex_lock(&fs->lock);
	if (!(s = held(req, fs, ino)))
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	if (to_set & FUSE_SET_ATTR_SIZE) {
		if (s->symlink)
			err = -EINVAL;
		else if (attr->st_size < 0)
			err = -EINVAL;
		else
			err = set_length(fs, s, (size_t)attr->st_size);
		if (!err)
			touch(s);
	}
	/* The owner is the mount's, as for every entry (vim's chown of
	 * its probe and swap file is answered with what they are). */
	if (!err && (to_set & FUSE_SET_ATTR_MODE))
		s->mode = attr->st_mode & 07777;
	if (!err && (to_set & FUSE_SET_ATTR_MTIME))
		s->mtime = attr->st_mtim;
	if (!err && (to_set & FUSE_SET_ATTR_MTIME_NOW))
		s->mtime = now;
	if (!err && (to_set & FUSE_SET_ATTR_ATIME))
		s->atime = attr->st_atim;
	if (!err && (to_set & FUSE_SET_ATTR_ATIME_NOW))
		s->atime = now;
	if (!err)
		s->ctime = now;
	attr_of(fs, s, &st);
	pthread_mutex_unlock(&fs->lock);
	if (err)
		fs_reply_err(req, err);
	else
		fuse_reply_attr(req, &st, SCRATCH_ATTR_TIMEOUT);
}

void scratch_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct hivefs *fs = fs_of(req);
	struct scratch *s;

	pthread_mutex_lock(&fs->lock);
	if (!(s = held(req, fs, ino)))
		return;
	if ((fi->flags & O_TRUNC) && (fi->flags & O_ACCMODE) != O_RDONLY) {
		set_length(fs, s, 0);
		touch(s);
	}
	s->opens++;
	pthread_mutex_unlock(&fs->lock);
	fi->fh = 0;
	fi->keep_cache = 0;
	if (fuse_reply_open(req, fi) == -ENOENT) {
		pthread_mutex_lock(&fs->lock);
		s->opens--;
		maybe_free(fs, s);
		pthread_mutex_unlock(&fs->lock);
	}
}

void scratch_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off)
{
	struct hivefs *fs = fs_of(req);
	struct scratch *s;
	char *copy = NULL;

	pthread_mutex_lock(&fs->lock);
	if (!(s = held(req, fs, ino)))
		return;
	if (off < 0 || (size_t)off >= s->len)
		size = 0;
	else if (size > s->len - (size_t)off)
		size = s->len - (size_t)off;
	if (size && (copy = malloc(size)))
		memcpy(copy, s->data + off, size);
	pthread_mutex_unlock(&fs->lock);
	if (size && !copy)
		fs_reply_err(req, -ENOMEM);
	else
		fuse_reply_buf(req, copy, size);
	free(copy);
}

void scratch_write(fuse_req_t req, fuse_ino_t ino, const char *buf,
		   size_t size, off_t off)
{
	struct hivefs *fs = fs_of(req);
	struct scratch *s;
	int err = 0;

	pthread_mutex_lock(&fs->lock);
	if (!(s = held(req, fs, ino)))
		return;
	if (off < 0 || size > SCRATCH_MAX_BYTES ||
	    (size_t)off > SCRATCH_MAX_BYTES - size)
		err = -EFBIG;
	else if ((size_t)off + size > s->len)
		err = set_length(fs, s, (size_t)off + size);
	if (!err) {
		memcpy(s->data + off, buf, size);
		touch(s);
	}
	pthread_mutex_unlock(&fs->lock);
	if (err)
		fs_reply_err(req, err);
	else
		fuse_reply_write(req, size);
}

void scratch_release(fuse_req_t req, fuse_ino_t ino)
{
	struct hivefs *fs = fs_of(req);
	struct scratch *s;

	pthread_mutex_lock(&fs->lock);
	s = by_ino(fs, ino);
	if (s) {
		if (s->opens)
			s->opens--;
		maybe_free(fs, s);
	}
	pthread_mutex_unlock(&fs->lock);
	fs_reply_err(req, 0);
}

void scratch_readlink(fuse_req_t req, fuse_ino_t ino)
{
	struct hivefs *fs = fs_of(req);
	struct scratch *s;
	char *target = NULL;
	bool link;

	pthread_mutex_lock(&fs->lock);
	if (!(s = held(req, fs, ino)))
		return;
	link = s->symlink;
	if (link)
		target = strndup(s->data ? s->data : "", s->len);
	pthread_mutex_unlock(&fs->lock);
	if (!link)
		fs_reply_err(req, -EINVAL);
	else if (!target)
		fs_reply_err(req, -ENOMEM);
	else
		fuse_reply_readlink(req, target);
	free(target);
}

/* ---- extended attributes: kept as given, like a file's ---- */

static struct scratch_xattr *xattr_named(struct scratch *s, const char *name)
{
	for (unsigned i = 0; i < s->nxattr; i++)
		if (strcmp(s->xattr[i].name, name) == 0)
			return &s->xattr[i];
	return NULL;
}

static void reply_sized(fuse_req_t req, const char *data, size_t len,
			size_t size)
{
	if (size == 0)
		fuse_reply_xattr(req, len);
	else if (size < len)
		fs_reply_err(req, -ERANGE);
	else
		fuse_reply_buf(req, data, len);
}

void scratch_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
		      size_t size)
{
	struct hivefs *fs = fs_of(req);
	struct scratch_xattr *x;
	struct scratch *s;
	char *copy = NULL;
	size_t len = 0;
	int err = 0;

	pthread_mutex_lock(&fs->lock);
	if (!(s = held(req, fs, ino)))
		return;
	x = xattr_named(s, name);
	if (!x)
		err = -ENODATA;
	else if ((len = x->len) && !(copy = malloc(len)))
		err = -ENOMEM;
	else if (len)
		memcpy(copy, x->value, len);
	pthread_mutex_unlock(&fs->lock);
	if (err)
		fs_reply_err(req, err);
	else
		reply_sized(req, copy, len, size);
	free(copy);
}

void scratch_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	struct hivefs *fs = fs_of(req);
	char names[SCRATCH_MAX_XATTRS * (XATTR_NAME_MAX + 1)];
	struct scratch *s;
	size_t len = 0;

	pthread_mutex_lock(&fs->lock);
	if (!(s = held(req, fs, ino)))
		return;
	for (unsigned i = 0; i < s->nxattr; i++) {
		size_t k = strlen(s->xattr[i].name) + 1;

		memcpy(names + len, s->xattr[i].name, k);
		len += k;
	}
	pthread_mutex_unlock(&fs->lock);
	reply_sized(req, names, len, size);
}

void scratch_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
		      const char *value, size_t size, int flags)
{
	struct hivefs *fs = fs_of(req);
	struct scratch_xattr *x;
	struct scratch *s;
	char *copy;
	int err = 0;

	pthread_mutex_lock(&fs->lock);
	if (!(s = held(req, fs, ino)))
		return;
	x = xattr_named(s, name);
	if (strncmp(name, "user.", 5) != 0)
		err = -ENOTSUP; /* only what a user may set on a file */
	else if (strlen(name) > XATTR_NAME_MAX)
		err = -ERANGE;
	else if (size > SCRATCH_MAX_XATTR_BYTES)
		err = -E2BIG;
	else if (x && (flags & XATTR_CREATE))
		err = -EEXIST;
	else if (!x && (flags & XATTR_REPLACE))
		err = -ENODATA;
	else if (!x && s->nxattr == SCRATCH_MAX_XATTRS)
		err = -ENOSPC;
	if (!err) {
		copy = talloc_memdup(s, value, size ? size : 1);
		if (!copy) {
			err = -ENOMEM;
		} else if (x) {
			talloc_free(x->value);
			x->value = copy;
			x->len = size;
		} else {
			x = &s->xattr[s->nxattr];
			x->name = talloc_strdup(s, name);
			if (!x->name) {
				talloc_free(copy);
				err = -ENOMEM;
			} else {
				x->value = copy;
				x->len = size;
				s->nxattr++;
			}
		}
	}
	pthread_mutex_unlock(&fs->lock);
	fs_reply_err(req, err);
}

void scratch_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	struct hivefs *fs = fs_of(req);
	struct scratch_xattr *x;
	struct scratch *s;
	int err = 0;

	pthread_mutex_lock(&fs->lock);
	if (!(s = held(req, fs, ino)))
		return;
	x = xattr_named(s, name);
	if (!x) {
		err = -ENODATA;
	} else {
		talloc_free(x->name);
		talloc_free(x->value);
		*x = s->xattr[--s->nxattr];
	}
	pthread_mutex_unlock(&fs->lock);
	fs_reply_err(req, err);
}

/* ---- listings ---- */

bool scratch_hides(struct hivefs *fs, uint32_t key, uint32_t cell)
{
	if (!fs->scratch)
		return false;
	for (struct scratch *s = fs->scratch->head; s; s = s->next)
		if (s->name && s->shadow == cell && s->shadow_key == key)
			return true;
	return false;
}

void scratch_list(fuse_req_t req, struct hivefs *fs, uint32_t key, off_t off,
		  bool plus, char *buf, size_t size, size_t *used)
{
	uint64_t from = off > SCRATCH_OFF_BASE ? (uint64_t)(off - SCRATCH_OFF_BASE)
					       : 0;

	if (!fs->scratch)
		return;
	for (struct scratch *s = fs->scratch->head; s; s = s->next) {
		uint64_t serial = s->ino - SCRATCH_INO_BASE;
		off_t next = SCRATCH_OFF_BASE + (off_t)serial;
		struct fuse_entry_param e;
		size_t n;

		if (!s->name || s->key != key || serial < from)
			continue;
		if (plus) {
			entry_of(fs, s, &e);
			n = fuse_add_direntry_plus(req, buf + *used,
						   size - *used, s->name, &e,
						   next + 1);
		} else {
			attr_of(fs, s, &e.attr);
			n = fuse_add_direntry(req, buf + *used, size - *used,
					      s->name, &e.attr, next + 1);
		}
		if (n > size - *used) {
			if (plus)
				s->nlookup--;
			break;
		}
		*used += n;
	}
}

void scratch_key_moved(struct hivefs *fs, uint32_t from, uint32_t to)
{
	if (!fs->scratch)
		return;
	for (struct scratch *s = fs->scratch->head; s; s = s->next) {
		if (s->key == from)
			s->key = to;
		if (s->shadow_key == from)
			s->shadow_key = to;
	}
}

bool scratch_in_key(struct hivefs *fs, uint32_t key)
{
	if (!fs->scratch)
		return false;
	for (struct scratch *s = fs->scratch->head; s; s = s->next)
		if (s->name && s->key == key)
			return true;
	return false;
}

void scratch_free_all(struct hivefs *fs)
{
	if (!fs->scratch)
		return;
	for (struct scratch *s = fs->scratch->head; s; s = s->next)
		free(s->data);
	talloc_free(fs->scratch);
	fs->scratch = NULL;
}
