/*
 * store.c — a file's content stored as a value.
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
 *     not text makes it REG_BINARY, so `cp picture.png NewValue` works;
 *     a value made by create with the type its -o typenames name gives
 *     (NODE_NAMED) is shown raw while empty, yet takes only text.
 *
 * Setting user.winreg.type re-interprets "the file's current content"
 * under the new type: the content of a descriptor still being written,
 * else the bytes last written to the value (struct recent_write: copying
 * tools set xattrs after the data, and the stored text may have been
 * normalised, "hello" -> "hello\n"), else what a read returns now.  If it
 * does not parse for the new type, the bytes are stored as they are (and
 * shown raw).
 *
 * Setting user.winreg.raw=1 shows the value raw for as long as the kernel
 * keeps its node, and changes no data, except in the one case copies
 * need: bytes written to the file and not stored as written (a
 * descriptor's unstored content, or the bytes last written when they were
 * stored as parsed text and no type was set since: `pending`) are stored
 * verbatim.  cp -a, rsync -aX and tar --xattrs set user.winreg.raw before
 * user.winreg.type (it is listed first), so a copy holds every byte and
 * type of the original.  (xattr.c sets them; the bytes last written are
 * kept here.)
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <talloc.h>

#include "store.h"

/* Bytes of one write kept for re-interpretation, at most. */
#define RECENT_MAX_BYTES ((size_t)16 << 20)

/* ---- recently written content ---- */

struct recent_write *recent_find(struct hivefs *fs, uint64_t ino,
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
		     const char *bytes, size_t len, bool pending)
{
	struct recent_write *r = recent_find(fs, ino, n);
	char *copy;

	if (!r) {
		r = &fs->recent[fs->recent_next];
		fs->recent_next = (fs->recent_next + 1) % RECENT_WRITES;
	}
	if (r->bytes == bytes) { /* re-storing what is remembered */
		r->pending = pending;
		return;
	}
	copy = len <= RECENT_MAX_BYTES ? malloc(len ? len : 1) : NULL;
	recent_clear(r);
	if (!copy)
		return; /* too large to keep: the stored view stands in */
	if (len)
		memcpy(copy, bytes, len);
	*r = (struct recent_write){
		.ino = ino, .parent = n->parent, .cell = n->cell,
		.bytes = copy, .len = len, .pending = pending,
	};
}

void recent_forget_cell(struct hivefs *fs, uint32_t cell)
{
	for (unsigned i = 0; i < RECENT_WRITES; i++)
		if (fs->recent[i].ino && fs->recent[i].cell == cell)
			recent_clear(&fs->recent[i]);
}


int store_content(void *tmp, struct hivefs *fs, uint64_t ino,
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
			return fs_errno(fs, err);
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
				return fs_errno(fs, err);
			view_measure(vs.type, old, old_len, false, &v);
			if (v.text || (n->flags & NODE_NAMED))
				return -EINVAL;
			data_len = len;
		}
	}
	if (how == STORE_CHECK)
		return 0;
	err = hive_value_name(tmp, fs->hive, n->cell, &name, &name_len);
	if (!err)
		err = hive_value_set(fs->hive, n->parent, name, name_len, type,
				     data, data_len, &cell);
	if (err)
		return fs_errno(fs, err);
	if (cell != n->cell) {
		recent_forget_cell(fs, n->cell);
		node_entry_moved(fs, n->parent, n->cell, cell);
		inode_rekey(fs->inodes, ino, n->parent, cell);
		n->cell = cell;
	}
	/* Bytes written and stored as something else (text parsed) are
	 * what user.winreg.raw=1 may still store as written; a type set
	 * since is the user's decision about them. */
	remember(fs, ino, n, content, len,
		 how == STORE_WRITE && data != (const void *)content);
	node_value_stored(fs, n->parent, n->cell);
	return 0;
}

char *store_value_path(void *mem, struct hivefs *fs, const struct node_info *n)
{
	/* Deeper than the registry allows keys to nest: a damaged chain. */
	enum { MAX_DEPTH = 600 };
	char *path = NULL, *part;
	uint16_t *name;
	size_t len;
	int err = hive_value_name(mem, fs->hive, n->cell, &name, &len);
	hive_key_t key = n->parent, root = hive_root(fs->hive);

	if (err)
		return talloc_asprintf(mem, "(a value of key cell 0x%x)",
				       n->parent);
	path = len ? hive_utf16_to_utf8(mem, name, len, NULL, NULL)
		   : talloc_strdup(mem, "(default)");
	for (int depth = 0; path && key != root && depth < MAX_DEPTH; depth++) {
		struct hive_key_stat st;

		if (hive_key_stat(fs->hive, key, &st) ||
		    hive_key_name(mem, fs->hive, key, &name, &len))
			return talloc_asprintf_append(path, " (in an unreadable "
						      "key)");
		part = hive_utf16_to_utf8(mem, name, len, NULL, NULL);
		path = part ? talloc_asprintf(mem, "%s\\%s", part, path) : NULL;
		key = st.parent;
	}
	return path;
}

int store_value_type(struct hivefs *fs, uint32_t cell, uint32_t *type)
{
	struct hive_value_stat vs;
	int err = fs_errno(fs, hive_value_stat(fs->hive, cell, &vs));

	if (!err)
		*type = vs.type;
	return err;
}

void recent_forget_all(struct hivefs *fs)
{
	for (unsigned i = 0; i < RECENT_WRITES; i++)
		recent_clear(&fs->recent[i]);
}

