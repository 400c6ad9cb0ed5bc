/*
 * write.c — the FUSE operations that change the hive, and commits.
 *
 * Files being written.  Each open file description that may write holds
 * a copy of the whole file of its own (the content as a read showed it at
 * open, or nothing after O_TRUNC); write, ftruncate and reads through it
 * (and its dups) work on that copy only.  The value is stored once, when
 * the descriptor is flushed (close, and each close of a dup), with
 * SetValueKey semantics: the value keeps its vk and spelling.  So every
 * close stores one writer's whole content, never a mix of two writers'
 * (two loops of O_TRUNC, several writes and close, on one value, leave
 * all of one or all of the other); the last close wins.  Other
 * descriptors read the value as stored, not another's unstored writes
 * (stat shows the size of the copy written last, so the kernel's size
 * may run ahead of what a reader gets until that close).
 *
 * Size.  A value holds at most HIVE_MAX_VALUE_DATA bytes of data, so a
 * write, or an ftruncate or truncate, after which the content could no
 * longer be stored is refused at once with EFBIG (content_fits), and the
 * copy is never grown past that: raw content up to that many bytes; text
 * as long as it could still parse to that little data (a string's text
 * may be half as long again, CJK in UTF-8).  A descriptor that had a
 * write refused stores nothing: its close fails with EFBIG too, and the
 * value keeps what it had (a dd that stopped half-way is not a value);
 * until it is truncated to nothing, its reads, writes and other
 * truncations fail with EFBIG as well.
 *
 * The rules for turning the content into data (store_content) are:
 *
 *   - shown raw (-o raw, user.winreg.raw set, a type without text form):
 *     the bytes themselves;
 *   - otherwise the text is parsed for the value's type (view_parse);
 *     text that does not parse fails the close with EINVAL and changes
 *     nothing, except for a value whose data is not canonical (it was
 *     shown raw, so the bytes are taken back as they are) and for a value
 *     made by create whose type nobody set (NODE_FRESH): content that is
 *     not text makes it REG_BINARY, so `cp picture.png NewValue` works.
 *
 * Setting user.winreg.type re-interprets "the file's current content"
 * under the new type: the content of a descriptor still being written,
 * else the bytes last written to the value (struct recent_write: copying
 * tools set xattrs after the data, and the stored text may have been
 * normalised, "hello" -> "hello\n"), else what a read returns now.  If it
 * does not parse for the new type, the bytes are stored as they are (and
 * shown raw).  Setting user.winreg.raw=1 stores that content verbatim and
 * shows the value raw for as long as the kernel keeps its node.  So a copy
 * made by cp -a, rsync -aX or tar --xattrs holds every byte and type of
 * the original whichever order the data and the attributes arrive in.
 *
 * Names.  create/mkdir decode the file name (names.c; NAME%v makes value
 * NAME next to subkey NAME).  Lookups ignore case, so `echo 4 > start`
 * reaches Start and keeps its spelling.  A value renamed with mv is set
 * under the new name and deleted under the old (DESIGN.md §1), under one
 * lock so no one sees the state between; the kernel's node follows it to
 * the new vk.  A renamed or moved key is NtRenameKey (hive_key_rename).
 * ".Trash" and ".Trash-*" at the root are refused, so file managers offer
 * to delete instead of moving keys into a trash key.
 *
 * Commits (hive_commit: a transaction-log entry, then the primary) happen
 * on fsync and fsyncdir (which return once the change is durable), every
 * fs->commit_interval seconds (a thread), after every change with -o
 * sync, and at unmount.  A failed commit leaves the engine handle
 * poisoned: the caller that asked for it (fsync) gets the error (ENOSPC
 * for a full file system, else EIO), every later change fails with EIO
 * until remount, and the exit status says so.
 *
 * A hive deleted or replaced while mounted (`rm HIVE`, `mv NEW HIVE`):
 * its path no longer names the file in memory, and a commit would write
 * a log beside a file that is not this hive (which a later open might
 * replay into it).  Each commit, and the first change after a commit,
 * first looks whether the path still names the mounted file; once it
 * does not, nothing is written any more, every change and fsync fails
 * with EIO, and the exit status is 1 (the engine checks again as it
 * commits).
 */
#define _GNU_SOURCE /* RENAME_NOREPLACE */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <time.h>

#include <talloc.h>

#include "ops.h"

/* The longest text of the largest value the engine stores: its data as
 * UTF-16 of 3-byte UTF-8 characters, and a newline (see content_fits). */
#define MAX_FILE_SIZE ((size_t)HIVE_MAX_VALUE_DATA / 2 * 3 + 4)

/* Bytes of one write kept for re-interpretation, at most. */
#define RECENT_MAX_BYTES ((size_t)16 << 20)

#define XATTR_TYPE "user.winreg.type"
#define XATTR_RAW "user.winreg.raw"
#define XATTR_CLASS "user.winreg.class"
#define XATTR_SECURITY "user.winreg.security"
#define XATTR_NAME "user.winreg.name"

/* ---- commits ---- */

/*
 * Does the hive's path still name the mounted file (under lock)?  The
 * first time it does not, the mount stops writing for good and says so.
 */
static bool hive_still_named(struct hivefs *fs)
{
	const char *what;
	struct stat now;

	if (fs->hive_lost)
		return false;
	if (fs->hive_fd < 0)
		return true;
	if (lstat(fs->hive_path, &now) == 0) {
		if (now.st_dev == fs->hive_dev && now.st_ino == fs->hive_ino)
			return true;
		what = "replaced";
	} else if (errno == ENOENT || errno == ENOTDIR) {
		what = "deleted";
	} else {
		return true; /* cannot tell; hive_commit looks again */
	}
	fs->hive_lost = true;
	if (!fs->commit_error)
		fs->commit_error = HIVE_E_IO;
	snprintf(fs->commit_detail, sizeof(fs->commit_detail),
		 "the hive was %s while mounted", what);
	fuse_log(FUSE_LOG_ERR, "hivefs: %s: the hive was %s while mounted: "
		 "nothing is written any more (not beside the file now at "
		 "that path either); changes fail with EIO, and those made "
		 "since the last commit are lost\n",
		 fs->hive_path, what);
	return false;
}

/* Commit what changed (under lock); the first failure is remembered. */
static int commit_now(struct hivefs *fs)
{
	int err;

	if (!fs->writable)
		return HIVE_OK;
	/* Durable where the hive's name says?  Never again. */
	if (fs->hive_lost)
		return HIVE_E_IO;
	if (!hive_is_modified(fs->hive))
		return HIVE_OK;
	if (!hive_still_named(fs))
		return HIVE_E_IO;
	err = hive_commit(fs->hive);
	/* Said once: a poisoned handle fails each later commit alike. */
	if (err && !fs->commit_error) {
		fuse_log(FUSE_LOG_ERR, "hivefs: %s: commit failed: %s%s%s\n",
			 fs->hive_path, hive_strerror(err),
			 *hive_error_detail() ? ": " : "", hive_error_detail());
		fs->commit_error = err;
		snprintf(fs->commit_detail, sizeof(fs->commit_detail), "%s",
			 hive_error_detail());
	}
	return err;
}

/* What every change does last (under lock). */
static int changed(struct hivefs *fs)
{
	fs->changes++;
	/* The rendering kept for a value read in pieces may be stale. */
	if (fs->big_read) {
		struct open_file *old = fs->big_read;

		fs->big_read = NULL;
		if (atomic_fetch_sub(&old->refs, 1) == 1)
			talloc_free(old);
	}
	return fs->sync ? commit_now(fs) : HIVE_OK;
}

/* 0, or the errno for a change that cannot be made now. */
static int refuse_change(struct hivefs *fs)
{
	if (!fs->writable)
		return EROFS;
	if (hive_is_poisoned(fs->hive) || fs->hive_lost)
		return EIO;
	/* The first change since a commit makes sure the hive is still
	 * there, so that a change after `mv NEW HIVE` fails itself, not
	 * only the next commit. */
	if (!hive_is_modified(fs->hive) && !hive_still_named(fs))
		return EIO;
	return 0;
}

/* A live node to change (under lock): 0, or the errno. */
static int node_for_change(struct hivefs *fs, uint64_t ino, struct node_info *n)
{
	int err = refuse_change(fs);

	if (!err && (!inode_get(fs->inodes, ino, n) || (n->flags & NODE_DEAD)))
		err = ENOENT;
	return err;
}

static void *committer(void *arg)
{
	struct hivefs *fs = arg;

	pthread_mutex_lock(&fs->lock);
	while (!fs->stopping) {
		struct timespec until;

		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += fs->commit_interval;
		pthread_cond_timedwait(&fs->wake, &fs->lock, &until);
		if (!fs->stopping)
			commit_now(fs);
	}
	pthread_mutex_unlock(&fs->lock);
	return NULL;
}

int write_start(struct hivefs *fs)
{
	if (!fs->writable || fs->commit_interval == 0)
		return 0;
	if (pthread_cond_init(&fs->wake, NULL) != 0)
		return -1;
	if (pthread_create(&fs->committer, NULL, committer, fs) != 0) {
		pthread_cond_destroy(&fs->wake);
		return -1;
	}
	fs->committer_running = true;
	return 0;
}

static int store_wbuf(void *tmp, struct hivefs *fs, struct wbuf *w,
		      struct stale *st);
static void recent_clear(struct recent_write *r);

void write_stop(struct hivefs *fs)
{
	void *tmp = talloc_new(NULL);
	struct stale st = { .n = 0 };

	if (fs->committer_running) {
		pthread_mutex_lock(&fs->lock);
		fs->stopping = true;
		pthread_cond_signal(&fs->wake);
		pthread_mutex_unlock(&fs->lock);
		pthread_join(fs->committer, NULL);
		pthread_cond_destroy(&fs->wake);
		fs->committer_running = false;
	}
	pthread_mutex_lock(&fs->lock);
	/* Descriptors the kernel never closed (a lazy unmount, a crash of
	 * the process using them): what they wrote is kept. */
	for (struct wbuf *w = fs->writers; w && tmp; w = w->next)
		store_wbuf(tmp, fs, w, &st);
	commit_now(fs);
	for (unsigned i = 0; i < RECENT_WRITES; i++)
		recent_clear(&fs->recent[i]);
	pthread_mutex_unlock(&fs->lock);
	talloc_free(tmp);
}

/* ---- recently written content ---- */

static struct recent_write *recent_find(struct hivefs *fs, uint64_t ino,
					const struct node_info *n)
{
	for (unsigned i = 0; i < RECENT_WRITES; i++) {
		struct recent_write *r = &fs->recent[i];

		if (r->ino == ino && r->cell == n->cell && r->parent == n->parent)
			return r;
	}
	return NULL;
}

static void recent_clear(struct recent_write *r)
{
	free(r->bytes);
	memset(r, 0, sizeof(*r));
}

static void remember(struct hivefs *fs, uint64_t ino, const struct node_info *n,
		     const char *bytes, size_t len)
{
	struct recent_write *r = recent_find(fs, ino, n);
	char *copy;

	if (!r) {
		r = &fs->recent[fs->recent_next];
		fs->recent_next = (fs->recent_next + 1) % RECENT_WRITES;
	}
	if (r->bytes == bytes) /* re-storing what is remembered */
		return;
	copy = len <= RECENT_MAX_BYTES ? malloc(len ? len : 1) : NULL;
	recent_clear(r);
	if (!copy)
		return; /* too large to keep: the stored view stands in */
	if (len)
		memcpy(copy, bytes, len);
	*r = (struct recent_write){
		.ino = ino, .parent = n->parent, .cell = n->cell,
		.bytes = copy, .len = len,
	};
}

/* A value's cell was freed: what was remembered of it goes. */
static void recent_forget_cell(struct hivefs *fs, uint32_t cell)
{
	for (unsigned i = 0; i < RECENT_WRITES; i++)
		if (fs->recent[i].ino && fs->recent[i].cell == cell)
			recent_clear(&fs->recent[i]);
}

/* ---- storing a file's content as a value ---- */

enum store_how {
	STORE_WRITE,  /* the content of a file: EINVAL if it does not parse */
	STORE_RETYPE, /* re-interpretation: verbatim if it does not parse */
	STORE_CHECK,  /* as STORE_WRITE, but only say whether it would work */
};

/*
 * Store `content` as the value of node n (ino) with `type`, by the rules at
 * the top of this file.  Under lock.
 */
static int store_content(void *tmp, struct hivefs *fs, uint64_t ino,
			 struct node_info *n, uint32_t type, const char *content,
			 size_t len, enum store_how how)
{
	const void *data = content;
	size_t data_len = len;
	uint8_t *parsed, *old;
	size_t old_len;
	uint16_t *name;
	size_t name_len;
	hive_value_t cell;
	struct view v;
	int err;

	if (!fs->raw && !(n->flags & NODE_VERBATIM) && view_type_has_text(type)) {
		err = view_parse(tmp, type, content, len, &parsed, &data_len);
		if (err == HIVE_OK) {
			data = parsed;
		} else if (err != HIVE_E_INVALID) {
			return err;
		} else if (how == STORE_RETYPE) {
			data_len = len;
		} else if (n->flags & NODE_FRESH) {
			type = HIVE_REG_BINARY;
			data_len = len;
		} else {
			/* Data shown raw is taken back raw. */
			struct hive_value_stat vs;

			err = hive_value_stat(fs->hive, n->cell, &vs);
			if (!err)
				err = hive_value_data(tmp, fs->hive, n->cell, &old,
						      &old_len);
			if (err)
				return err;
			view_measure(vs.type, old, old_len, false, &v);
			if (v.text)
				return HIVE_E_INVALID;
			data_len = len;
		}
	}
	if (how == STORE_CHECK)
		return HIVE_OK;
	err = hive_value_name(tmp, fs->hive, n->cell, &name, &name_len);
	if (!err)
		err = hive_value_set(fs->hive, n->parent, name, name_len, type,
				     data, data_len, &cell);
	if (err)
		return err;
	if (cell != n->cell) {
		recent_forget_cell(fs, n->cell);
		inode_rekey(fs->inodes, ino, n->parent, cell);
		n->cell = cell;
	}
	remember(fs, ino, n, content, len);
	return HIVE_OK; /* the caller calls changed(), once per operation */
}

/* The type a value has now. */
static int value_type(struct hivefs *fs, uint32_t cell, uint32_t *type)
{
	struct hive_value_stat vs;
	int err = hive_value_stat(fs->hive, cell, &vs);

	if (!err)
		*type = vs.type;
	return err;
}

/* Store what the descriptors of a value wrote, if anything (under lock). */
static int store_wbuf(void *tmp, struct hivefs *fs, struct wbuf *w,
		      struct stale *st)
{
	struct node_info n;
	uint32_t type;
	int err;

	if (!w->dirty)
		return HIVE_OK;
	w->dirty = false; /* a failure is reported once, by this close */
	/* A deleted value's descriptor writes into nothing, as on any
	 * file system. */
	if (!inode_get(fs->inodes, w->ino, &n) || (n.flags & NODE_DEAD))
		return w->spoiled ? HIVE_E_TOO_BIG : HIVE_OK;
	/* Nothing stored (refused or failed below): the kernel's size and
	 * pages, which followed the writes, must be the value's again. */
	stale_add(st, w->ino);
	if (w->spoiled)
		return HIVE_E_TOO_BIG; /* see spoil() */
	err = !refuse_change(fs)	      ? HIVE_OK
	      : hive_is_poisoned(fs->hive) || fs->hive_lost ? HIVE_E_POISONED
					   : HIVE_E_READ_ONLY;
	if (!err)
		err = value_type(fs, n.cell, &type);
	if (!err)
		err = store_content(tmp, fs, w->ino, &n, type, w->buf, w->len,
				    STORE_WRITE);
	if (!err)
		err = changed(fs);
	if (!err)
		stale_add(st, ops_key_ino(fs, n.parent));
	return err;
}

/* ---- open files ---- */

/* Orders the changes to descriptors' copies (under lock). */
static uint64_t write_clock;

/* Of the copies of ino with unstored writes, the one written last. */
static struct wbuf *dirty_wbuf(struct hivefs *fs, uint64_t ino)
{
	struct wbuf *last = NULL;

	for (struct wbuf *w = fs->writers; w; w = w->next)
		if (w->ino == ino && w->dirty && !w->spoiled &&
		    (!last || w->stamp > last->stamp))
			last = w;
	return last;
}

bool write_pending_size(struct hivefs *fs, uint64_t ino, size_t *size)
{
	struct wbuf *w = dirty_wbuf(fs, ino);

	if (w)
		*size = w->len;
	return w != NULL;
}

/*
 * The least data the text of a string type can parse to (view.c's table),
 * summed per byte: each character becomes a UTF-16 unit (2 bytes), one of
 * four UTF-8 bytes two units; a newline becomes a NUL unit, or is the one
 * dropped at the end, which the closing NUL pays for.  So a byte that
 * starts a character counts 2 (4 for a 4-byte one), a continuation byte 0,
 * and text that parses never gives less data than its weight.
 */
static size_t text_weight(const char *s, size_t len)
{
	size_t weight = 0;

	for (size_t i = 0; i < len; i++) {
		uint8_t c = (uint8_t)s[i];

		weight += c >= 0xF0 ? 4 : (c & 0xC0) == 0x80 ? 0 : 2;
	}
	return weight;
}

static bool is_string_type(uint32_t type)
{
	return type == HIVE_REG_SZ || type == HIVE_REG_EXPAND_SZ ||
	       type == HIVE_REG_MULTI_SZ || type == HIVE_REG_LINK;
}

/* Is the stored data of value `cell` shown raw (not canonical)? */
static bool stored_shown_raw(struct hivefs *fs, uint32_t cell, uint32_t type)
{
	void *tmp = talloc_new(NULL);
	uint8_t *data;
	size_t len;
	struct view v = { .text = true };

	if (tmp && hive_value_data(tmp, fs->hive, cell, &data, &len) == HIVE_OK)
		view_measure(type, data, len, false, &v);
	talloc_free(tmp);
	return !v.text;
}

/*
 * Could w's content, grown or cut to `len` bytes of text weight `weight`,
 * still be stored by its close (under lock)?  0, or EFBIG when no way
 * store_content may take it gives at most HIVE_MAX_VALUE_DATA bytes:
 * bytes stored as they are (shown raw; or text that does not parse, for
 * a new value or data shown raw) must fit as they are; a string's text
 * may parse to that much data only if its weight fits (and it is not
 * longer than valid UTF-8 of that weight can be); a number's text is
 * held to the same bytes as raw content.
 */
static int content_fits(struct hivefs *fs, struct wbuf *w, size_t len,
			size_t weight)
{
	const size_t max = HIVE_MAX_VALUE_DATA;
	struct node_info n;
	uint32_t type;
	bool text_fits;

	if (len <= max && weight <= max)
		return 0;
	if (len > MAX_FILE_SIZE)
		return EFBIG;
	/* Deleted (stored nowhere) or unreadable: as raw content. */
	if (!inode_get(fs->inodes, w->ino, &n) || (n.flags & NODE_DEAD) ||
	    value_type(fs, n.cell, &type) != HIVE_OK || fs->raw ||
	    (n.flags & NODE_VERBATIM) || !view_type_has_text(type))
		return len <= max ? 0 : EFBIG;
	text_fits = is_string_type(type) ? weight <= max && len <= weight / 2 * 3 + 4
					 : len <= max;
	if (text_fits)
		return 0;
	if (len > max)
		return EFBIG;
	if (n.flags & NODE_FRESH)
		return 0;
	if (w->raw_fallback < 0)
		w->raw_fallback = stored_shown_raw(fs, n.cell, type);
	return w->raw_fallback ? 0 : EFBIG;
}

/* A refused write: the copy is dropped, and its close stores nothing. */
static void spoil(struct wbuf *w)
{
	free(w->buf);
	w->buf = NULL;
	w->len = w->cap = 0;
	w->spoiled = true;
	w->dirty = true; /* so the close reports it */
}

static int reserve(struct wbuf *w, size_t need)
{
	size_t cap;
	char *buf;

	if (need > MAX_FILE_SIZE)
		return EFBIG;
	if (need <= w->cap)
		return 0;
	cap = w->cap < 4096 ? 4096 : w->cap;
	while (cap < need)
		cap = cap > MAX_FILE_SIZE / 2 ? MAX_FILE_SIZE : cap * 2;
	buf = realloc(w->buf, cap);
	if (!buf)
		return ENOMEM;
	w->buf = buf;
	w->cap = cap;
	return 0;
}

/*
 * Set the length of the content (ftruncate); new bytes are zeros.  Cut to
 * nothing, a spoiled copy is whole again: the program said what all of
 * its content is (stress-ng's fsize does that after an EFBIG).
 */
static int resize(struct hivefs *fs, struct wbuf *w, size_t len)
{
	size_t weight;
	int err;

	if (w->spoiled && len == 0) {
		w->spoiled = false;
		w->text_weight = 0;
	}
	weight = len > w->len ? w->text_weight + 2 * (len - w->len)
			      : w->text_weight - text_weight(w->buf + len, w->len - len);
	err = w->spoiled ? EFBIG : content_fits(fs, w, len, weight);
	if (!err)
		err = reserve(w, len ? len : 1);
	if (err)
		return err;
	if (len > w->len)
		memset(w->buf + w->len, 0, len - w->len);
	w->len = len;
	w->text_weight = weight;
	w->dirty = true;
	w->trunc_only = false;
	w->stamp = ++write_clock;
	return 0;
}

/* A descriptor goes (under lock); the content with its last one. */
static void handle_free(struct hivefs *fs, struct open_file *fh)
{
	struct wbuf *w = fh->w;

	if (fh->readable)
		atomic_fetch_sub(&fs->readers, 1);
	if (w) {
		if (w->prev)
			w->prev->next = w->next;
		else
			fs->writers = w->next;
		if (w->next)
			w->next->prev = w->prev;
		free(w->buf);
		free(w);
	}
	talloc_free(fh);
}

/*
 * A writable handle on node ino (under lock) with its own copy of the
 * value's content as a read shows it; O_TRUNC empties it (and a close
 * then stores it empty).
 */
static int handle_new(struct hivefs *fs, uint64_t ino, const struct node_info *n,
		      int flags, struct open_file **out)
{
	struct open_file *fh = talloc_zero(NULL, struct open_file);
	struct wbuf *w = calloc(1, sizeof(*w));
	void *tmp = fh ? talloc_new(fh) : NULL;
	uint32_t type;
	char *content = NULL;
	size_t len = 0;
	int err = 0;

	if (!fh || !w || !tmp)
		err = ENOMEM;
	if (!err && !(flags & O_TRUNC))
		err = ops_fail(fs,
			       ops_value_content(tmp, fs, n->cell,
						 fs->raw || (n->flags & NODE_VERBATIM),
						 &type, &content, &len),
			       "open", ino);
	/* Never a NULL buffer, even for empty content. */
	if (!err)
		err = reserve(w, len ? len : 1);
	if (err) {
		if (w)
			free(w->buf);
		free(w);
		talloc_free(fh);
		return err;
	}
	if (len)
		memcpy(w->buf, content, len);
	talloc_free(tmp);
	w->ino = ino;
	w->len = len;
	w->text_weight = text_weight(w->buf, len);
	w->raw_fallback = -1;
	w->dirty = w->trunc_only = (flags & O_TRUNC) != 0;
	w->stamp = ++write_clock;
	w->next = fs->writers;
	if (fs->writers)
		fs->writers->prev = w;
	fs->writers = w;
	atomic_init(&fh->refs, 1);
	fh->writable = true;
	fh->readable = (flags & O_ACCMODE) == O_RDWR;
	if (fh->readable)
		atomic_fetch_add(&fs->readers, 1);
	fh->w = w;
	*out = fh;
	return 0;
}

/* Hand a new writable handle to the kernel; undone if the opener left. */
static void reply_handle(fuse_req_t req, struct hivefs *fs,
			 struct open_file *fh, struct fuse_file_info *fi,
			 const struct fuse_entry_param *e)
{
	int ret;

	fi->fh = (uintptr_t)fh;
	fi->keep_cache = 0;
	ret = e ? fuse_reply_create(req, e, fi) : fuse_reply_open(req, fi);
	if (ret == -ENOENT) {
		pthread_mutex_lock(&fs->lock);
		handle_free(fs, fh);
		pthread_mutex_unlock(&fs->lock);
	}
}

void write_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct hivefs *fs = fs_of(req);
	struct open_file *fh = NULL;
	struct node_info n;
	int err;

	pthread_mutex_lock(&fs->lock);
	err = node_for_change(fs, ino, &n);
	if (!err && n.kind != NODE_VALUE)
		err = EISDIR;
	if (!err)
		err = handle_new(fs, ino, &n, fi->flags, &fh);
	pthread_mutex_unlock(&fs->lock);
	if (err)
		fuse_reply_err(req, err);
	else
		reply_handle(req, fs, fh, fi, NULL);
}

void write_read(fuse_req_t req, struct open_file *fh, size_t size, off_t off)
{
	struct hivefs *fs = fs_of(req);
	char *copy = NULL;
	int err = 0;

	struct wbuf *w = fh->w;

	pthread_mutex_lock(&fs->lock);
	if (!fh->readable)
		err = EBADF;
	else if (w->spoiled)
		err = EFBIG; /* its content is gone; see spoil() */
	else if (off < 0 || (size_t)off >= w->len)
		size = 0;
	else if (size > w->len - (size_t)off)
		size = w->len - (size_t)off;
	if (!err && size) {
		copy = malloc(size);
		if (copy)
			memcpy(copy, w->buf + off, size);
		else
			err = ENOMEM;
	}
	pthread_mutex_unlock(&fs->lock);
	if (err)
		fuse_reply_err(req, err);
	else
		fuse_reply_buf(req, copy, size);
	free(copy);
}

void write_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size,
		 off_t off, struct fuse_file_info *fi)
{
	struct hivefs *fs = fs_of(req);
	struct open_file *fh = (struct open_file *)(uintptr_t)fi->fh;
	size_t weight = 0;
	struct wbuf *w;
	int err = 0;

	if (!fh || !fh->writable) {
		fuse_reply_err(req, EBADF);
		return;
	}
	pthread_mutex_lock(&fs->lock);
	w = fh->w;
	if (w->spoiled || off < 0 || size > MAX_FILE_SIZE ||
	    (size_t)off > MAX_FILE_SIZE - size) {
		err = EFBIG;
	} else {
		/* The weight after the write: the bytes overwritten go, a gap
		 * of zeros and the new bytes come. */
		size_t end = (size_t)off + size;
		size_t over = (size_t)off < w->len
				      ? (end < w->len ? end : w->len) - (size_t)off
				      : 0;
		size_t gap = (size_t)off > w->len ? (size_t)off - w->len : 0;

		weight = w->text_weight - text_weight(w->buf + off, over) +
			 2 * gap + text_weight(buf, size);
		err = content_fits(fs, w, end > w->len ? end : w->len, weight);
	}
	if (err == EFBIG && !w->spoiled) {
		spoil(w);
		if (fs->verbose)
			fuse_log(FUSE_LOG_ERR,
				 "hivefs: write (inode %llu): the value would "
				 "hold more than %u bytes, the most a value can: "
				 "refused (EFBIG); this descriptor stores "
				 "nothing\n",
				 (unsigned long long)ino, HIVE_MAX_VALUE_DATA);
	}
	if (!err)
		err = reserve(w, (size_t)off + size);
	if (!err) {
		if ((size_t)off > w->len)
			memset(w->buf + w->len, 0, (size_t)off - w->len);
		memcpy(w->buf + off, buf, size);
		if ((size_t)off + size > w->len)
			w->len = (size_t)off + size;
		w->text_weight = weight;
		w->dirty = true;
		w->trunc_only = false;
		w->stamp = ++write_clock;
	}
	pthread_mutex_unlock(&fs->lock);
	if (err)
		fuse_reply_err(req, err);
	else
		fuse_reply_write(req, size);
}

/*
 * What a flush does with a copy that O_TRUNC emptied and nothing has
 * written since (under lock): say whether storing it would work, but
 * store it only at the last close (release) or fsync.  A shell's `> file`
 * and dd close a dup of the new descriptor before they write: storing the
 * empty file there stored the value twice, and left it empty when the
 * writes that followed were refused.
 */
static int check_truncation(void *tmp, struct hivefs *fs, struct wbuf *w)
{
	struct node_info n;
	uint32_t type;
	int err = refuse_change(fs);

	if (err)
		return hive_is_poisoned(fs->hive) || fs->hive_lost
			       ? HIVE_E_POISONED
			       : HIVE_E_READ_ONLY;
	if (!inode_get(fs->inodes, w->ino, &n) || (n.flags & NODE_DEAD))
		return HIVE_OK;
	err = value_type(fs, n.cell, &type);
	return err ? err : store_content(tmp, fs, w->ino, &n, type, "", 0,
					 STORE_CHECK);
}

/* Store a descriptor's writes and answer with the outcome. */
static void store_and_reply(fuse_req_t req, fuse_ino_t ino,
			    struct open_file *fh, bool commit)
{
	struct hivefs *fs = fs_of(req);
	void *tmp = talloc_new(NULL);
	struct stale st = { .n = 0 };
	int err = 0;

	pthread_mutex_lock(&fs->lock);
	if (!tmp)
		err = HIVE_E_NOMEM;
	if (!err && fh && fh->writable && !commit && fh->w->dirty &&
	    fh->w->trunc_only)
		err = check_truncation(tmp, fs, fh->w);
	else if (!err && fh && fh->writable)
		err = store_wbuf(tmp, fs, fh->w, &st);
	if (!err && commit)
		err = commit_now(fs);
	err = ops_fail(fs, err, commit ? "fsync" : "close", ino);
	pthread_mutex_unlock(&fs->lock);
	stale_reply(fs, req, &st, err, NULL);
	talloc_free(tmp);
}

void write_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	/*
	 * Files a read-only mount lets the kernel open itself have nothing
	 * to store; ENOSYS stops the kernel asking at every close, which
	 * would otherwise cost a walk one round trip per file.
	 */
	if (!fs_of(req)->writable) {
		fuse_reply_err(req, ENOSYS);
		return;
	}
	store_and_reply(req, ino, (struct open_file *)(uintptr_t)fi->fh, false);
}

void write_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
		 struct fuse_file_info *fi)
{
	store_and_reply(req, ino, (struct open_file *)(uintptr_t)fi->fh, true);
}

void write_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync,
		    struct fuse_file_info *fi)
{
	store_and_reply(req, ino, NULL, true);
}

void write_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct hivefs *fs = fs_of(req);
	struct open_file *fh = (struct open_file *)(uintptr_t)fi->fh;
	void *tmp = talloc_new(NULL);
	struct stale st = { .n = 0 };

	pthread_mutex_lock(&fs->lock);
	/* Written through mmap, or never flushed: store it now; there is
	 * no one left to tell of a failure but the log. */
	if (tmp && fh->w->dirty)
		ops_fail(fs, store_wbuf(tmp, fs, fh->w, &st), "release", ino);
	handle_free(fs, fh);
	pthread_mutex_unlock(&fs->lock);
	talloc_free(tmp);
	stale_reply(fs, req, &st, 0, NULL);
}

/* ---- attributes ---- */

/* 100 ns ticks since 1601 of a time given to setattr. */
static uint64_t filetime_of(const struct timespec *ts)
{
	const uint64_t epoch_diff = 11644473600ull;

	return ((uint64_t)ts->tv_sec + epoch_diff) * 10000000u +
	       (uint64_t)ts->tv_nsec / 100;
}

/* truncate(2) by path: the stored content, cut or extended. */
static int truncate_value(void *tmp, struct hivefs *fs, uint64_t ino,
			  struct node_info *n, size_t size)
{
	uint32_t type;
	char *content, *cut;
	size_t len;
	int err = ops_value_content(tmp, fs, n->cell,
				    fs->raw || (n->flags & NODE_VERBATIM), &type,
				    &content, &len);

	if (err)
		return err;
	cut = talloc_zero_size(tmp, size ? size : 1);
	if (!cut)
		return HIVE_E_NOMEM;
	memcpy(cut, content, len < size ? len : size);
	err = store_content(tmp, fs, ino, n, type, cut, size, STORE_WRITE);
	return err ? err : changed(fs);
}

void write_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr,
		   int to_set, struct fuse_file_info *fi)
{
	struct hivefs *fs = fs_of(req);
	struct open_file *fh = fi ? (struct open_file *)(uintptr_t)fi->fh : NULL;
	void *tmp = talloc_new(NULL);
	struct stale st = { .n = 0 };
	struct node_info n;
	struct stat out;
	int err = 0, hive_err = 0;

	pthread_mutex_lock(&fs->lock);
	if (!tmp)
		err = ENOMEM;
	else if (!inode_get(fs->inodes, ino, &n))
		err = ENOENT;
	if (!err && (to_set & FUSE_SET_ATTR_SIZE)) {
		err = refuse_change(fs);
		if (!err && n.kind == NODE_KEY)
			err = EISDIR;
		if (!err && (attr->st_size < 0 ||
			     (uint64_t)attr->st_size > MAX_FILE_SIZE))
			err = EFBIG;
		if (!err && fh && fh->writable)
			err = resize(fs, fh->w, (size_t)attr->st_size);
		/* The zeros a truncate adds are never text: they fit only
		 * as raw data. */
		else if (!err && (uint64_t)attr->st_size > HIVE_MAX_VALUE_DATA)
			err = EFBIG;
		else if (!err && !(n.flags & NODE_DEAD))
			hive_err = truncate_value(tmp, fs, ino, &n,
						  (size_t)attr->st_size);
	}
	/* touch on a key sets its LastWriteTime; values have none. */
	if (!err && !hive_err && n.kind == NODE_KEY &&
	    (to_set & (FUSE_SET_ATTR_MTIME | FUSE_SET_ATTR_MTIME_NOW))) {
		struct timespec now;

		err = refuse_change(fs);
		if (to_set & FUSE_SET_ATTR_MTIME_NOW)
			clock_gettime(CLOCK_REALTIME, &now);
		else
			now = attr->st_mtim;
		if (!err)
			hive_err = hive_key_set_time(fs->hive, n.cell,
						     filetime_of(&now));
		if (!err && !hive_err)
			hive_err = changed(fs);
	}
	if (!err && hive_err)
		err = ops_fail(fs, hive_err, "setattr", ino);
	if (!err) {
		inode_get(fs->inodes, ino, &n);
		err = ops_fail(fs, ops_node_attr(fs, &n, ino, &out), "setattr",
			       ino);
	}
	if (!err && (to_set & FUSE_SET_ATTR_SIZE) && !(fh && fh->writable)) {
		stale_add(&st, ino);
		stale_add(&st, ops_key_ino(fs, n.parent));
	}
	pthread_mutex_unlock(&fs->lock);
	talloc_free(tmp);
	stale_reply(fs, req, &st, err, &out);
}

/* ---- names ---- */

/* The key directory `ino` (under lock): 0, or the errno. */
static int live_dir(struct hivefs *fs, uint64_t ino, struct node_info *dir)
{
	if (!inode_get(fs->inodes, ino, dir) || (dir->flags & NODE_DEAD))
		return ENOENT;
	return dir->kind == NODE_KEY ? 0 : ENOTDIR;
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
		       uint16_t **units, size_t *len)
{
	int err = refuse_change(fs);

	if (!err)
		err = live_dir(fs, dir_ino, dir);
	if (!err && strlen(name) > HIVEFS_NAME_MAX)
		err = ENAMETOOLONG;
	if (!err && is_trash(dir_ino, name))
		err = EPERM;
	if (!err && dir_new_name(tmp, fs->hive, dir->cell, name, ns, units, len))
		err = EINVAL;
	return err;
}

/*
 * A new value, REG_SZ and empty until written; or, if it exists (a race
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
	int err = prepare_new(tmp, fs, dir_ino, &dir, name, NAME_VALUE, &units,
			      &len);

	if (err)
		return err;
	if (hive_value_lookup(fs->hive, dir.cell, units, len, &cell) == HIVE_OK) {
		if (!existing)
			return EEXIST;
		return ops_fail(fs, ops_entry(fs, NODE_VALUE, dir.cell, cell, 0, e),
				"create", dir_ino);
	}
	err = hive_value_set(fs->hive, dir.cell, units, len, HIVE_REG_SZ, "", 0,
			     &cell);
	if (!err)
		err = changed(fs);
	if (!err)
		err = ops_entry(fs, NODE_VALUE, dir.cell, cell, NODE_FRESH, e);
	return ops_fail(fs, err, "create", dir_ino);
}

void write_create(fuse_req_t req, fuse_ino_t parent, const char *name,
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
		  : ENOMEM;
	if (!err) {
		inode_get(fs->inodes, e.ino, &n);
		err = handle_new(fs, e.ino, &n, fi->flags, &fh);
		if (err)
			inode_forget(fs->inodes, e.ino, 1);
	}
	pthread_mutex_unlock(&fs->lock);
	talloc_free(tmp);
	if (err)
		fuse_reply_err(req, err);
	else
		reply_handle(req, fs, fh, fi, &e);
}

void write_mknod(fuse_req_t req, fuse_ino_t parent, const char *name,
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
		fuse_reply_err(req, EPERM);
		return;
	}
	pthread_mutex_lock(&fs->lock);
	err = tmp ? new_value(tmp, fs, parent, name, false, &e) : ENOMEM;
	pthread_mutex_unlock(&fs->lock);
	talloc_free(tmp);
	if (err)
		fuse_reply_err(req, err);
	else
		fuse_reply_entry(req, &e);
}

void write_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name,
		 mode_t mode)
{
	struct hivefs *fs = fs_of(req);
	void *tmp = talloc_new(NULL);
	struct fuse_entry_param e;
	struct node_info dir;
	uint16_t *units;
	size_t len;
	hive_key_t key;
	int err;

	pthread_mutex_lock(&fs->lock);
	err = tmp ? prepare_new(tmp, fs, parent, &dir, name, NAME_KEY, &units,
				&len)
		  : ENOMEM;
	if (!err) {
		int hive_err = hive_key_create(fs->hive, dir.cell, units, len,
					       &key);
		if (!hive_err)
			hive_err = changed(fs);
		if (!hive_err)
			hive_err = ops_entry(fs, NODE_KEY, dir.cell, key, 0, &e);
		/* Too deep (512 levels) or too many subkeys. */
		err = hive_err == HIVE_E_TOO_BIG ? EMLINK
						 : ops_fail(fs, hive_err, "mkdir", parent);
	}
	pthread_mutex_unlock(&fs->lock);
	talloc_free(tmp);
	if (err)
		fuse_reply_err(req, err);
	else
		fuse_reply_entry(req, &e);
}

/* Resolve `name` in directory `dir_ino` for a change (under lock). */
static int find_for_change(void *tmp, struct hivefs *fs, uint64_t dir_ino,
			   struct node_info *dir, const char *name,
			   struct dir_entry *found)
{
	int err = refuse_change(fs);

	if (!err)
		err = live_dir(fs, dir_ino, dir);
	if (!err)
		err = ops_fail(fs, ops_resolve(tmp, fs, dir_ino, dir, name, found),
			       "lookup", dir_ino);
	return err;
}

/* Delete a value (under lock); its node, if any, becomes dead. */
static int delete_value(void *tmp, struct hivefs *fs, uint32_t key,
			uint32_t cell)
{
	uint16_t *name;
	size_t len;
	int err = hive_value_name(tmp, fs->hive, cell, &name, &len);

	if (!err)
		err = hive_value_delete(fs->hive, key, name, len);
	if (err)
		return err;
	inode_unlink(fs->inodes, inode_peek(fs->inodes, NODE_VALUE, key, cell));
	recent_forget_cell(fs, cell);
	return HIVE_OK;
}

/* Delete an empty key (under lock): ENOTEMPTY with subkeys or values. */
static int delete_key(struct hivefs *fs, uint32_t parent, uint32_t key)
{
	struct hive_key_stat ks;
	int err = hive_key_stat(fs->hive, key, &ks);

	if (!err && (ks.subkey_count || ks.value_count))
		err = HIVE_E_NOT_EMPTY;
	if (!err)
		err = hive_key_delete(fs->hive, key);
	if (!err)
		inode_unlink(fs->inodes,
			     inode_peek(fs->inodes, NODE_KEY, parent, key));
	return err;
}

static void remove_entry(fuse_req_t req, fuse_ino_t parent, const char *name,
			 enum node_kind kind)
{
	struct hivefs *fs = fs_of(req);
	void *tmp = talloc_new(NULL);
	struct node_info dir;
	struct dir_entry found;
	int err;

	pthread_mutex_lock(&fs->lock);
	err = tmp ? find_for_change(tmp, fs, parent, &dir, name, &found) : ENOMEM;
	if (!err && kind == NODE_VALUE && found.kind != ENTRY_VALUE)
		err = EISDIR;
	if (!err && kind == NODE_KEY && found.kind != ENTRY_KEY)
		err = ENOTDIR;
	if (!err) {
		int hive_err = kind == NODE_VALUE
				       ? delete_value(tmp, fs, dir.cell, found.cell)
				       : delete_key(fs, dir.cell, found.cell);
		if (!hive_err)
			hive_err = changed(fs);
		err = ops_fail(fs, hive_err, kind == NODE_VALUE ? "unlink" : "rmdir",
			       parent);
	}
	pthread_mutex_unlock(&fs->lock);
	talloc_free(tmp);
	fuse_reply_err(req, err);
}

void write_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	remove_entry(req, parent, name, NODE_VALUE);
}

void write_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	remove_entry(req, parent, name, NODE_KEY);
}

void write_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent,
		const char *newname)
{
	fuse_reply_err(req, EPERM); /* a key or value has one name */
}

void write_symlink(fuse_req_t req, const char *link, fuse_ino_t parent,
		   const char *name)
{
	fuse_reply_err(req, EPERM);
}

/* ---- rename ---- */

/* mv of a value: set under the new name, delete the old (under lock). */
static int rename_value(void *tmp, struct hivefs *fs, const struct node_info *from,
			const struct dir_entry *src, const struct node_info *to,
			const char *newname, const struct dir_entry *dst)
{
	uint64_t src_ino = inode_peek(fs->inodes, NODE_VALUE, from->cell, src->cell);
	struct hive_value_stat vs;
	uint8_t *data;
	size_t data_len, len;
	uint16_t *units;
	hive_value_t cell;
	int err;

	struct node_info sn;

	if (dir_new_name(tmp, fs->hive, to->cell, newname, NAME_VALUE, &units,
			 &len))
		return HIVE_E_INVALID;
	if (dst && src_ino && inode_get(fs->inodes, src_ino, &sn) &&
	    (sn.flags & NODE_FRESH)) {
		/*
		 * A new file renamed over a value is a new version of it (sed
		 * -i, editors and rsync write a temporary file and rename
		 * it): its content is read under the target's type.
		 */
		struct node_info dn = {
			.kind = NODE_VALUE, .cell = dst->cell, .parent = to->cell,
		};
		struct recent_write *r = recent_find(fs, src_ino, &sn);
		uint32_t type;
		char *content;
		size_t clen;

		err = HIVE_OK;
		if (r) {
			clen = r->len;
			content = talloc_memdup(tmp, r->bytes, clen ? clen : 1);
			if (!content)
				err = HIVE_E_NOMEM;
		} else {
			err = ops_value_content(tmp, fs, src->cell,
						fs->raw || (sn.flags & NODE_VERBATIM),
						&type, &content, &clen);
		}
		if (!err)
			err = value_type(fs, dst->cell, &type);
		if (!err)
			err = store_content(tmp, fs, src_ino, &dn, type, content,
					    clen, STORE_WRITE);
		if (err)
			return err;
		cell = dn.cell;
		inode_clear_flags(fs->inodes, src_ino, NODE_FRESH);
	} else {
		err = hive_value_stat(fs->hive, src->cell, &vs);
		if (!err)
			err = hive_value_data(tmp, fs->hive, src->cell, &data,
					      &data_len);
		if (!err)
			err = hive_value_set(fs->hive, to->cell, units, len,
					     vs.type, data, data_len, &cell);
		if (err)
			return err;
	}
	/* The target's node (if the kernel has one) is replaced. */
	if (dst) {
		inode_unlink(fs->inodes,
			     inode_peek(fs->inodes, NODE_VALUE, to->cell, dst->cell));
		recent_forget_cell(fs, dst->cell);
	}
	err = delete_value(tmp, fs, from->cell, src->cell);
	if (err)
		return err;
	if (src_ino)
		inode_rekey(fs->inodes, src_ino, to->cell, cell);
	return HIVE_OK;
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
	int err;

	if (dir_new_name(tmp, fs->hive, to->cell, newname, NAME_KEY, &units, &len))
		return HIVE_E_INVALID;
	/* Refused before anything changes: into its own subtree. */
	for (uint32_t k = to->cell; k != fs->info.root;) {
		struct hive_key_stat ks;

		if (k == src->cell)
			return HIVE_E_INVALID;
		err = hive_key_stat(fs->hive, k, &ks);
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
	err = hive_key_rename(fs->hive, src->cell,
			      to->cell == from->cell ? HIVE_NO_CELL : to->cell,
			      units, len, &moved);
	if (err)
		return err;
	if (src_ino)
		inode_rekey(fs->inodes, src_ino, to->cell, moved);
	if (moved != src->cell)
		inode_reparent(fs->inodes, src->cell, moved);
	return HIVE_OK;
}

void write_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
		  fuse_ino_t newparent, const char *newname, unsigned int flags)
{
	struct hivefs *fs = fs_of(req);
	void *tmp = talloc_new(NULL);
	struct node_info from, to;
	struct dir_entry src, dst;
	bool target = false;
	int err = 0, hive_err = HIVE_OK;

	if (flags & ~(unsigned)RENAME_NOREPLACE) {
		talloc_free(tmp);
		fuse_reply_err(req, EINVAL); /* RENAME_EXCHANGE, WHITEOUT */
		return;
	}
	pthread_mutex_lock(&fs->lock);
	if (!tmp)
		err = ENOMEM;
	if (!err)
		err = find_for_change(tmp, fs, parent, &from, name, &src);
	if (!err)
		err = live_dir(fs, newparent, &to);
	if (!err && strlen(newname) > HIVEFS_NAME_MAX)
		err = ENAMETOOLONG;
	if (!err && is_trash(newparent, newname))
		err = EPERM;
	if (!err) {
		hive_err = ops_resolve(tmp, fs, newparent, &to, newname, &dst);
		target = hive_err == HIVE_OK;
		if (hive_err == HIVE_E_NOT_FOUND)
			hive_err = HIVE_OK;
		err = ops_fail(fs, hive_err, "rename", newparent);
	}
	if (!err && target) {
		if (dst.kind == src.kind && dst.cell == src.cell)
			goto done; /* onto itself: nothing to do */
		if (flags & RENAME_NOREPLACE)
			err = EEXIST;
		else if (src.kind == ENTRY_KEY && dst.kind != ENTRY_KEY)
			err = ENOTDIR;
		else if (src.kind == ENTRY_VALUE && dst.kind != ENTRY_VALUE)
			err = EISDIR;
	}
	if (!err) {
		hive_err = src.kind == ENTRY_KEY
				   ? rename_key(tmp, fs, &from, &src, &to, newname,
						target ? &dst : NULL)
				   : rename_value(tmp, fs, &from, &src, &to, newname,
						  target ? &dst : NULL);
		if (!hive_err)
			hive_err = changed(fs);
		err = ops_fail(fs, hive_err, "rename", parent);
	}
done:
	pthread_mutex_unlock(&fs->lock);
	talloc_free(tmp);
	fuse_reply_err(req, err);
}

/* ---- extended attributes ---- */

/* "REG_DWORD", "4", "0x00000004" (a trailing NUL or newline allowed). */
static int parse_type(const char *s, size_t len, uint32_t *type)
{
	char text[32];
	char *end;
	unsigned long long v;

	if (len && (s[len - 1] == '\0' || s[len - 1] == '\n'))
		len--;
	if (len == 0 || len >= sizeof(text) || memchr(s, '\0', len))
		return EINVAL;
	memcpy(text, s, len);
	text[len] = '\0';
	for (uint32_t t = 0; t <= HIVE_REG_QWORD; t++) {
		if (strcasecmp(text, hive_type_name(t)) == 0) {
			*type = t;
			return 0;
		}
	}
	if (text[0] < '0' || text[0] > '9')
		return EINVAL;
	errno = 0;
	v = strtoull(text, &end, 0);
	if (errno || *end || v > UINT32_MAX)
		return EINVAL;
	*type = (uint32_t)v;
	return 0;
}

/*
 * The content a re-interpretation starts from (see the top): on tmp, and
 * the descriptor it came from, if any, which the store makes clean.
 */
static int current_content(void *tmp, struct hivefs *fs, uint64_t ino,
			   const struct node_info *n, char **content,
			   size_t *len, struct wbuf **from)
{
	struct wbuf *w = dirty_wbuf(fs, ino);
	struct recent_write *r = w ? NULL : recent_find(fs, ino, n);
	uint32_t type;

	*from = w;
	if (w || r) {
		*len = w ? w->len : r->len;
		*content = talloc_size(tmp, *len ? *len : 1);
		if (!*content)
			return HIVE_E_NOMEM;
		memcpy(*content, w ? w->buf : r->bytes, *len);
		return HIVE_OK;
	}
	return ops_value_content(tmp, fs, n->cell,
				 fs->raw || (n->flags & NODE_VERBATIM), &type,
				 content, len);
}

/* user.winreg.type or user.winreg.raw on a value. */
static int set_value_attr(void *tmp, struct hivefs *fs, uint64_t ino,
			  struct node_info *n, const char *name,
			  const char *value, size_t size, int flags)
{
	struct wbuf *from;
	uint32_t type = 0;
	char *content;
	size_t len;
	bool raw_now;
	int err;

	if (strcmp(name, XATTR_TYPE) == 0) {
		if (flags & XATTR_CREATE)
			return EEXIST; /* every value has a type */
		err = parse_type(value, size, &type);
		if (err)
			return err;
	} else {
		if (size == 0 || (value[0] != '1' && value[0] != '0') ||
		    (size > 1 && !(size == 2 && (value[1] == '\n' || !value[1]))))
			return EINVAL;
		err = ops_fail(fs, value_type(fs, n->cell, &type), "setxattr", ino);
		if (err)
			return err;
		raw_now = fs->raw || (n->flags & NODE_VERBATIM);
		if (!raw_now) {
			uint8_t *data;
			size_t data_len;
			struct view v;

			err = hive_value_data(tmp, fs->hive, n->cell, &data,
					      &data_len);
			if (err)
				return ops_fail(fs, err, "setxattr", ino);
			view_measure(type, data, data_len, false, &v);
			raw_now = v.raw_flag;
		}
		if ((flags & XATTR_CREATE) && raw_now)
			return EEXIST;
		if ((flags & XATTR_REPLACE) && !raw_now)
			return ENODATA;
		if (value[0] == '0') {
			inode_clear_flags(fs->inodes, ino, NODE_VERBATIM);
			return 0;
		}
	}
	err = current_content(tmp, fs, ino, n, &content, &len, &from);
	if (!err && strcmp(name, XATTR_RAW) == 0) {
		inode_set_flags(fs->inodes, ino, NODE_VERBATIM);
		n->flags |= NODE_VERBATIM;
	}
	if (!err && (from || strcmp(name, XATTR_TYPE) == 0 ||
		     recent_find(fs, ino, n)))
		err = store_content(tmp, fs, ino, n, type, content, len,
				    STORE_RETYPE);
	if (!err)
		err = changed(fs);
	if (!err && from)
		from->dirty = false;
	if (!err && strcmp(name, XATTR_TYPE) == 0)
		inode_clear_flags(fs->inodes, ino, NODE_FRESH);
	return ops_fail(fs, err, "setxattr", ino);
}

/* user.winreg.class or user.winreg.security on a key. */
static int set_key_attr(void *tmp, struct hivefs *fs, uint64_t ino,
			const struct node_info *n, const char *name,
			const char *value, size_t size, int flags)
{
	uint8_t *old;
	size_t old_len;
	bool is_class = strcmp(name, XATTR_CLASS) == 0;
	int err = is_class ? hive_key_class(tmp, fs->hive, n->cell, &old, &old_len)
			   : hive_key_security(tmp, fs->hive, n->cell, &old,
					       &old_len);

	if (err)
		return ops_fail(fs, err, "setxattr", ino);
	if ((flags & XATTR_CREATE) && old_len)
		return EEXIST;
	if ((flags & XATTR_REPLACE) && !old_len)
		return ENODATA;
	if (!is_class && size == 0)
		return EINVAL; /* a key always has a security descriptor */
	err = is_class ? hive_key_set_class(fs->hive, n->cell, value, size)
		       : hive_key_set_security(fs->hive, n->cell, value, size);
	if (!err)
		err = changed(fs);
	return ops_fail(fs, err, "setxattr", ino);
}

/* user.winreg.name: the full name, which can only be what it is. */
static int check_full_name(void *tmp, struct hivefs *fs,
			   const struct node_info *n, const char *value,
			   size_t size)
{
	uint16_t *units;
	size_t len;
	char *full;
	int err = n->kind == NODE_KEY
			  ? hive_key_name(tmp, fs->hive, n->cell, &units, &len)
			  : hive_value_name(tmp, fs->hive, n->cell, &units, &len);

	if (err)
		return hive_error_to_errno(err);
	full = name_encode(tmp, units, len, n->kind == NODE_KEY ? NAME_KEY
								: NAME_VALUE);
	if (!full)
		return ENOMEM;
	return strlen(full) == size && memcmp(full, value, size) == 0 ? 0 : EPERM;
}

void write_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
		    const char *value, size_t size, int flags)
{
	struct hivefs *fs = fs_of(req);
	void *tmp = talloc_new(NULL);
	struct stale st = { .n = 0 };
	struct node_info n;
	int err;

	pthread_mutex_lock(&fs->lock);
	err = tmp ? node_for_change(fs, ino, &n) : ENOMEM;
	if (err)
		goto done;
	if (strcmp(name, XATTR_NAME) == 0)
		err = check_full_name(tmp, fs, &n, value, size);
	else if (n.kind == NODE_VALUE &&
		 (strcmp(name, XATTR_TYPE) == 0 || strcmp(name, XATTR_RAW) == 0))
		err = set_value_attr(tmp, fs, ino, &n, name, value, size, flags);
	else if (n.kind == NODE_KEY && (strcmp(name, XATTR_CLASS) == 0 ||
					strcmp(name, XATTR_SECURITY) == 0))
		err = set_key_attr(tmp, fs, ino, &n, name, value, size, flags);
	else
		err = ENOTSUP; /* nowhere to keep other attributes */
	if (!err) {
		stale_add(&st, ino);
		if (n.kind == NODE_VALUE)
			stale_add(&st, ops_key_ino(fs, n.parent));
	}
done:
	pthread_mutex_unlock(&fs->lock);
	talloc_free(tmp);
	stale_reply(fs, req, &st, err, NULL);
}

void write_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	struct hivefs *fs = fs_of(req);
	void *tmp = talloc_new(NULL);
	struct node_info n;
	uint8_t *old;
	size_t old_len;
	int err;

	pthread_mutex_lock(&fs->lock);
	err = tmp ? node_for_change(fs, ino, &n) : ENOMEM;
	if (err)
		goto done;
	if (n.kind == NODE_VALUE && strcmp(name, XATTR_RAW) == 0) {
		/* Data that is not canonical stays raw; the flag goes. */
		inode_clear_flags(fs->inodes, ino, NODE_VERBATIM);
	} else if (n.kind == NODE_KEY && strcmp(name, XATTR_CLASS) == 0) {
		err = hive_key_class(tmp, fs->hive, n.cell, &old, &old_len);
		if (!err && old_len == 0)
			err = HIVE_E_NOT_FOUND;
		if (!err)
			err = hive_key_set_class(fs->hive, n.cell, NULL, 0);
		if (!err)
			err = changed(fs);
		err = err == HIVE_E_NOT_FOUND ? ENODATA
					      : ops_fail(fs, err, "removexattr", ino);
	} else if (strcmp(name, XATTR_TYPE) == 0 ||
		   strcmp(name, XATTR_SECURITY) == 0 ||
		   strcmp(name, XATTR_NAME) == 0) {
		err = EPERM; /* every value has a type, every key an sk */
	} else {
		err = ENODATA;
	}
done:
	pthread_mutex_unlock(&fs->lock);
	talloc_free(tmp);
	fuse_reply_err(req, err);
}
