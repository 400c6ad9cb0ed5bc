/*
 * file.c — values open for writing: open, read, write, truncate,
 * flush, fsync and release of a writable descriptor.
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
 * Early errors.  A write after which the content, from offset 0 up to
 * the end of the bytes written (nothing left unwritten before them), can
 * never begin a text the close would take for the value's type (a letter
 * in a DWORD, an empty line in a REG_MULTI_SZ, bytes that are not UTF-8:
 * hive_text_may_begin) is refused with EINVAL, so `echo abc > Start`
 * fails in the shell, not only at a close it ignores.  The descriptor then
 * stores nothing, as after EFBIG below.  Content taken as bytes (a new
 * value, data shown raw, user.winreg.raw, -o raw) is never refused early.
 * The close still checks the whole content.
 *
 * Size.  A value holds at most HIVE_MAX_VALUE_DATA bytes of data, so a
 * write, or an ftruncate or truncate, after which the content could no
 * longer be stored is refused at once with EFBIG (content_fits), and the
 * copy is never grown past that: raw content up to that many bytes; text
 * as long as it could still parse to that little data (a string's text
 * may be half as long again, CJK in UTF-8).  A descriptor that had a
 * write refused stores nothing: its close fails with EFBIG (EINVAL) too,
 * and the value keeps what it had (a dd that stopped half-way is not a
 * value); until it is truncated to nothing, its reads, writes and other
 * truncations fail the same way.  Messages (with -f or -d) name the value
 * by its path in the hive.
 *
 * How the content becomes data is store.c's; when it is committed,
 * change.c's.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <talloc.h>

#include "change.h"
#include "file.h"
#include "stale.h"
#include "store.h"

/* The longest text of the largest value the engine stores: its data as
 * UTF-16 of 3-byte UTF-8 characters, and a newline (see content_fits). */
#define MAX_FILE_SIZE ((size_t)HIVE_MAX_VALUE_DATA / 2 * 3 + 4)

/* REG_DWORD, or the number of a type without a name, for messages. */
static const char *type_label(void *mem, uint32_t type)
{
	const char *name = hive_type_name(type);

	return name ? name : talloc_asprintf(mem, "type 0x%08x", type);
}

/* Store what the descriptors of a value wrote, if anything (under lock). */
static int store_wbuf(void *tmp, struct hivefs *fs, struct wbuf *w,
		      struct stale *st)
{
	struct node_info n;
	uint32_t type;
	char *before = NULL;
	int err;

	if (!w->dirty)
		return 0;
	w->dirty = false; /* a failure is reported once, by this close */
	/* A deleted value's descriptor writes into nothing, as on any
	 * file system. */
	if (!inode_get(fs->inodes, w->ino, &n) || (n.flags & NODE_DEAD))
		return -w->spoiled;
	/* Nothing stored (refused or failed below): the kernel's size and
	 * pages, which followed the writes, must be the value's again. */
	stale_add(st, w->ino);
	if (w->spoiled)
		return -w->spoiled; /* see spoil() */
	err = change_refused(fs);
	/* -o typenames: data shown raw before or after lists as
	 * NAME.TYPE.raw, so a store may give the value another name. */
	if (!err)
		before = stale_typed_name(tmp, fs, &n);
	if (!err)
		err = store_value_type(fs, n.cell, &type);
	if (!err)
		err = store_content(tmp, fs, w->ino, &n, type, w->buf, w->len,
				    STORE_WRITE);
	if (!err)
		stale_add_renamed(tmp, st, fs, &n, before);
	if (err == -EINVAL && fs->verbose)
		fuse_log(FUSE_LOG_ERR, "hivefs: close of %s: the content is "
			 "not a text of %s: refused (EINVAL); the value keeps "
			 "its data\n", store_value_path(tmp, fs, &n),
			 type_label(tmp, type));
	if (!err)
		err = change_done(fs);
	if (!err)
		stale_add(st, node_key_ino(fs, n.parent));
	return err;
}

/* ---- open files ---- */

/* Orders the changes to descriptors' copies (under lock). */
static uint64_t write_clock;

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
		return -EFBIG;
	/* Deleted (stored nowhere) or unreadable: as raw content. */
	if (!inode_get(fs->inodes, w->ino, &n) || (n.flags & NODE_DEAD) ||
	    store_value_type(fs, n.cell, &type) != 0 || fs->raw ||
	    (n.flags & NODE_VERBATIM) || !view_type_has_text(type))
		return len <= max ? 0 : -EFBIG;
	text_fits = is_string_type(type) ? weight <= max && len <= weight / 2 * 3 + 4
					 : len <= max;
	if (text_fits)
		return 0;
	if (len > max)
		return -EFBIG;
	if (n.flags & NODE_FRESH)
		return 0;
	if (w->raw_fallback < 0)
		w->raw_fallback = !(n.flags & NODE_NAMED) &&
				  stored_shown_raw(fs, n.cell, type);
	return w->raw_fallback ? 0 : -EFBIG;
}

/* A refused write (err: EFBIG, EINVAL): the copy is dropped, and its
 * close stores nothing. */
static void spoil(struct wbuf *w, int err)
{
	free(w->buf);
	w->buf = NULL;
	w->len = w->cap = 0;
	w->text_ok = 0;
	w->spoiled = err;
	w->dirty = true; /* so the close reports it */
}

/* The path in the hive of the value w writes, for messages. */
static const char *written_path(void *mem, struct hivefs *fs,
				const struct wbuf *w)
{
	struct node_info n;
	const char *path = NULL;

	if (inode_get(fs->inodes, w->ino, &n))
		path = store_value_path(mem, fs, &n);
	return path ? path : "a deleted value";
}

/*
 * After a write ending at `end` with nothing unwritten before it: can
 * w's content [0, end) no longer begin a text its close would take (see
 * "Early errors")?  Under lock.  Only what was not checked before is
 * scanned again, from a character (for REG_MULTI_SZ, a line's) start.
 */
static bool never_text(struct hivefs *fs, struct wbuf *w, size_t end,
		       uint32_t *type_out)
{
	struct node_info n;
	uint32_t type;
	size_t from, b;
	bool string;

	if (!inode_get(fs->inodes, w->ino, &n) || (n.flags & NODE_DEAD) ||
	    store_value_type(fs, n.cell, &type) != 0 || fs->raw ||
	    (n.flags & (NODE_VERBATIM | NODE_FRESH)) || !view_type_has_text(type))
		return false;
	*type_out = type;
	string = is_string_type(type);
	from = string && w->text_ok <= end ? w->text_ok : 0;
	if (!hive_text_may_begin(type, w->buf + from, end - from)) {
		if (w->raw_fallback < 0)
			w->raw_fallback = !(n.flags & NODE_NAMED) &&
					  stored_shown_raw(fs, n.cell, type);
		return !w->raw_fallback;
	}
	if (!string)
		return false;
	/* A character start a few bytes back: all before it is whole. */
	b = end > 4 ? end - 4 : 0;
	while (b > from && ((uint8_t)w->buf[b] & 0xC0) == 0x80)
		b--;
	/* Not at a line feed: a slice starting there reads as an empty
	 * line; after it, a line starts. */
	if (b < end && w->buf[b] == '\n')
		b++;
	w->text_ok = b;
	return false;
}

static int reserve(struct wbuf *w, size_t need)
{
	size_t cap;
	char *buf;

	if (need > MAX_FILE_SIZE)
		return -EFBIG;
	if (need <= w->cap)
		return 0;
	cap = w->cap < 4096 ? 4096 : w->cap;
	while (cap < need)
		cap = cap > MAX_FILE_SIZE / 2 ? MAX_FILE_SIZE : cap * 2;
	buf = realloc(w->buf, cap);
	if (!buf)
		return -ENOMEM;
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
		w->spoiled = 0;
		w->text_weight = 0;
	}
	if (w->text_ok > len)
		w->text_ok = 0;
	weight = len > w->len ? w->text_weight + 2 * (len - w->len)
			      : w->text_weight - text_weight(w->buf + len, w->len - len);
	err = w->spoiled ? -w->spoiled : content_fits(fs, w, len, weight);
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
void file_handle_free(struct hivefs *fs, struct open_file *fh)
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
int file_handle_new(struct hivefs *fs, uint64_t ino, const struct node_info *n,
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
		err = -ENOMEM;
	if (!err && !(flags & O_TRUNC))
		err = node_value_content(tmp, fs, n->cell,
					 node_shown_raw(fs, n->flags), &type,
					 &content, &len);
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
	/* Its writes go through the kernel's pages (inode.h). */
	inode_set_flags(fs->inodes, ino, NODE_STORED);
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
void file_reply_handle(fuse_req_t req, struct hivefs *fs,
		       struct open_file *fh, struct fuse_file_info *fi,
		       const struct fuse_entry_param *e)
{
	int ret;

	fi->fh = (uintptr_t)fh;
	fi->keep_cache = 0;
	ret = e ? fuse_reply_create(req, e, fi) : fuse_reply_open(req, fi);
	if (ret == -ENOENT) {
		pthread_mutex_lock(&fs->lock);
		file_handle_free(fs, fh);
		pthread_mutex_unlock(&fs->lock);
	}
}

void file_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct hivefs *fs = fs_of(req);
	struct open_file *fh = NULL;
	struct node_info n;
	int err;

	pthread_mutex_lock(&fs->lock);
	err = change_node(fs, ino, &n);
	if (!err && n.kind != NODE_VALUE)
		err = -EISDIR;
	if (!err)
		err = file_handle_new(fs, ino, &n, fi->flags, &fh);
	pthread_mutex_unlock(&fs->lock);
	if (err)
		fs_reply_err(req, err);
	else
		file_reply_handle(req, fs, fh, fi, NULL);
}

void file_read(fuse_req_t req, struct open_file *fh, size_t size, off_t off)
{
	struct hivefs *fs = fs_of(req);
	char *copy = NULL;
	int err = 0;

	struct wbuf *w = fh->w;

	pthread_mutex_lock(&fs->lock);
	if (!fh->readable)
		err = -EBADF;
	else if (w->spoiled)
		err = -w->spoiled; /* its content is gone; see spoil() */
	else if (off < 0 || (size_t)off >= w->len)
		size = 0;
	else if (size > w->len - (size_t)off)
		size = w->len - (size_t)off;
	if (!err && size) {
		copy = malloc(size);
		if (copy)
			memcpy(copy, w->buf + off, size);
		else
			err = -ENOMEM;
	}
	pthread_mutex_unlock(&fs->lock);
	if (err)
		fs_reply_err(req, err);
	else
		fuse_reply_buf(req, copy, size);
	free(copy);
}

void file_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size,
		off_t off, struct fuse_file_info *fi)
{
	struct hivefs *fs = fs_of(req);
	struct open_file *fh = (struct open_file *)(uintptr_t)fi->fh;
	size_t weight = 0;
	struct wbuf *w;
	void *tmp = NULL;
	uint32_t type = 0;
	bool gapless;
	int err = 0;

	if (!fh || !fh->writable) {
		fs_reply_err(req, -EBADF);
		return;
	}
	pthread_mutex_lock(&fs->lock);
	w = fh->w;
	if (w->spoiled) {
		err = -w->spoiled;
	} else if (off < 0 || size > MAX_FILE_SIZE ||
		   (size_t)off > MAX_FILE_SIZE - size) {
		err = -EFBIG;
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
	if (err == -EFBIG && !w->spoiled) {
		spoil(w, EFBIG);
		if (fs->verbose) {
			tmp = talloc_new(NULL);
			fuse_log(FUSE_LOG_ERR,
				 "hivefs: write to %s: the value would hold "
				 "more than %u bytes, the most a value can: "
				 "refused (EFBIG); this descriptor stores "
				 "nothing\n", written_path(tmp, fs, w),
				 HIVE_MAX_VALUE_DATA);
		}
	}
	if (!err)
		err = reserve(w, (size_t)off + size);
	if (!err) {
		gapless = (size_t)off <= w->len;
		if (!gapless)
			memset(w->buf + w->len, 0, (size_t)off - w->len);
		if ((size_t)off < w->text_ok)
			w->text_ok = 0; /* checked bytes overwritten */
		memcpy(w->buf + off, buf, size);
		if ((size_t)off + size > w->len)
			w->len = (size_t)off + size;
		w->text_weight = weight;
		w->dirty = true;
		w->trunc_only = false;
		w->stamp = ++write_clock;
		if (gapless && never_text(fs, w, (size_t)off + size, &type)) {
			if (fs->verbose) {
				tmp = talloc_new(NULL);
				fuse_log(FUSE_LOG_ERR,
					 "hivefs: write to %s: the bytes "
					 "written can never be a text of %s: "
					 "refused (EINVAL); this descriptor "
					 "stores nothing\n",
					 written_path(tmp, fs, w),
					 type_label(tmp, type));
			}
			spoil(w, EINVAL);
			err = -EINVAL;
		}
	}
	pthread_mutex_unlock(&fs->lock);
	talloc_free(tmp);
	if (err)
		fs_reply_err(req, err);
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
	int err = change_refused(fs);

	if (err)
		return err;
	if (!inode_get(fs->inodes, w->ino, &n) || (n.flags & NODE_DEAD))
		return 0;
	err = store_value_type(fs, n.cell, &type);
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
		err = -ENOMEM;
	if (!err && fh && fh->writable && !commit && fh->w->dirty &&
	    fh->w->trunc_only)
		err = check_truncation(tmp, fs, fh->w);
	else if (!err && fh && fh->writable)
		err = store_wbuf(tmp, fs, fh->w, &st);
	if (!err && commit)
		err = change_commit(fs);
	pthread_mutex_unlock(&fs->lock);
	stale_reply(fs, req, &st, err, NULL);
	talloc_free(tmp);
}

void file_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	/*
	 * Files a read-only mount lets the kernel open itself have nothing
	 * to store; ENOSYS stops the kernel asking at every close, which
	 * would otherwise cost a walk one round trip per file.
	 */
	if (!fs_of(req)->writable) {
		fs_reply_err(req, -ENOSYS);
		return;
	}
	store_and_reply(req, ino, (struct open_file *)(uintptr_t)fi->fh, false);
}

void file_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
		struct fuse_file_info *fi)
{
	store_and_reply(req, ino, (struct open_file *)(uintptr_t)fi->fh, true);
}

void file_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync,
		   struct fuse_file_info *fi)
{
	store_and_reply(req, ino, NULL, true);
}

void file_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct hivefs *fs = fs_of(req);
	struct open_file *fh = (struct open_file *)(uintptr_t)fi->fh;
	void *tmp = talloc_new(NULL);
	struct stale st = { .n = 0 };

	pthread_mutex_lock(&fs->lock);
	/* Written through mmap, or never flushed: store it now; there is
	 * no one left to tell of a failure but the log. */
	if (tmp && fh->w->dirty)
		(void)store_wbuf(tmp, fs, fh->w, &st);
	file_handle_free(fs, fh);
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
	int err = node_value_content(tmp, fs, n->cell,
				     node_shown_raw(fs, n->flags), &type,
				     &content, &len);

	if (err)
		return err;
	cut = talloc_zero_size(tmp, size ? size : 1);
	if (!cut)
		return -ENOMEM;
	memcpy(cut, content, len < size ? len : size);
	err = store_content(tmp, fs, ino, n, type, cut, size, STORE_WRITE);
	return err ? err : change_done(fs);
}

void file_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr,
		  int to_set, struct fuse_file_info *fi)
{
	struct hivefs *fs = fs_of(req);
	struct open_file *fh = fi ? (struct open_file *)(uintptr_t)fi->fh : NULL;
	void *tmp = talloc_new(NULL);
	struct stale st = { .n = 0 };
	struct node_info n;
	struct stat out;
	int err = 0;

	pthread_mutex_lock(&fs->lock);
	if (!tmp)
		err = -ENOMEM;
	else if (!inode_get(fs->inodes, ino, &n))
		err = -ENOENT;
	if (!err && (to_set & FUSE_SET_ATTR_SIZE)) {
		err = change_refused(fs);
		if (!err && n.kind == NODE_KEY)
			err = -EISDIR;
		if (!err && (attr->st_size < 0 ||
			     (uint64_t)attr->st_size > MAX_FILE_SIZE))
			err = -EFBIG;
		if (!err && fh && fh->writable)
			err = resize(fs, fh->w, (size_t)attr->st_size);
		/* The zeros a truncate adds are never text: they fit only
		 * as raw data. */
		else if (!err && (uint64_t)attr->st_size > HIVE_MAX_VALUE_DATA)
			err = -EFBIG;
		else if (!err && !(n.flags & NODE_DEAD))
			err = truncate_value(tmp, fs, ino, &n,
					     (size_t)attr->st_size);
	}
	/* touch on a key sets its LastWriteTime; values have none. */
	if (!err && n.kind == NODE_KEY &&
	    (to_set & (FUSE_SET_ATTR_MTIME | FUSE_SET_ATTR_MTIME_NOW))) {
		struct timespec now;

		err = change_refused(fs);
		if (to_set & FUSE_SET_ATTR_MTIME_NOW)
			clock_gettime(CLOCK_REALTIME, &now);
		else
			now = attr->st_mtim;
		if (!err)
			err = fs_errno(fs, hive_key_set_time(fs->hive, n.cell,
							     filetime_of(&now)));
		if (!err)
			err = change_done(fs);
	}
	if (!err) {
		inode_get(fs->inodes, ino, &n);
		err = node_attr(fs, &n, ino, &out);
	}
	if (!err && (to_set & FUSE_SET_ATTR_SIZE) && !(fh && fh->writable)) {
		stale_add(&st, ino);
		stale_add(&st, node_key_ino(fs, n.parent));
	}
	pthread_mutex_unlock(&fs->lock);
	talloc_free(tmp);
	stale_reply(fs, req, &st, err, &out);
}


void file_store_all(struct hivefs *fs)
{
	void *tmp = talloc_new(NULL);
	struct stale st = { .n = 0 };

	pthread_mutex_lock(&fs->lock);
	/* Descriptors the kernel never closed (a lazy unmount, a crash of
	 * the process using them): what they wrote is kept. */
	for (struct wbuf *w = fs->writers; w && tmp; w = w->next)
		store_wbuf(tmp, fs, w, &st);
	pthread_mutex_unlock(&fs->lock);
	talloc_free(tmp);
}
