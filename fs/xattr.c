/*
 * xattr.c — the extended attributes of keys and values: one table of
 * names (attributes[] below), each with how it is read, set and removed.
 *
 * All live in the user. namespace, so cp -a, rsync -aX and tar --xattrs
 * carry them:
 *
 *   values  user.winreg.type      REG_SZ, REG_DWORD, ... or 0x%08x; set
 *                                 in any spelling hive_type_parse() takes
 *           user.winreg.raw       "1", when the file shows the data raw
 *                                 although the type has a text view
 *   keys    user.winreg.class     the class name as UTF-8 text, when the
 *                                 key has one that is text (UTF-16LE)
 *           user.winreg.class.raw the class bytes as stored, when the key
 *                                 has one that is not text
 *           user.winreg.security  the security descriptor, self-relative
 *   both    user.winreg.name      the entry's full file name (the encoding
 *                                 of names.c, without %v), when the name
 *                                 shown is a shortened or NAME%~N form
 *
 * Values have no trailing NUL or newline.
 *
 * Setting user.winreg.type re-interprets the file's current content under
 * the new type; user.winreg.raw=1 switches the view and keeps the data,
 * except for bytes written and not yet stored as written, which it
 * stores verbatim (store.c says what "current content" is and why).  Every value has a type and every
 * key a security descriptor, so those cannot be removed; user.winreg.name
 * can only be set to what it is (cp -a and rsync -aX copy it back).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>

#include <talloc.h>

#include "change.h"
#include "stale.h"
#include "store.h"
#include "xattr.h"

#define KEYS (1u << NODE_KEY)
#define VALUES (1u << NODE_VALUE)

/* One attribute: where it applies and how it is read, set and removed.
 * get: -ENODATA when the entry has none; set NULL: never set (ENOTSUP),
 * remove NULL: never removed (EPERM).  All under lock. */
struct attribute {
	const char *name;
	unsigned applies; /* KEYS, VALUES */
	int (*get)(void *mem, struct hivefs *fs, uint64_t ino,
		   const struct node_info *n, char **value, size_t *len);
	int (*set)(void *tmp, struct hivefs *fs, uint64_t ino,
		   struct node_info *n, const char *value, size_t size,
		   int flags);
	int (*remove)(void *tmp, struct hivefs *fs, uint64_t ino,
		      const struct node_info *n);
};

/* ---- user.winreg.type and user.winreg.raw ---- */

/* How value n is shown now, and its type. */
static int value_view(void *mem, struct hivefs *fs, const struct node_info *n,
		      uint32_t *type, struct view *v)
{
	struct hive_value_stat st;
	uint8_t *data;
	size_t len;
	int err = hive_value_stat(fs->hive, n->cell, &st);

	if (!err)
		err = hive_value_data(mem, fs->hive, n->cell, &data, &len);
	if (err)
		return fs_errno(fs, err);
	*type = st.type;
	view_measure(st.type, data, len, node_shown_raw(fs, n->flags), v);
	talloc_free(data);
	return 0;
}

static int type_get(void *mem, struct hivefs *fs, uint64_t ino,
		    const struct node_info *n, char **value, size_t *len)
{
	uint32_t type;
	struct view v;
	const char *name;
	int err = value_view(mem, fs, n, &type, &v);

	if (err)
		return err;
	name = hive_type_name(type);
	*value = name ? talloc_strdup(mem, name)
		      : talloc_asprintf(mem, "0x%08" PRIx32, type);
	if (!*value)
		return -ENOMEM;
	*len = strlen(*value);
	return 0;
}

static int raw_get(void *mem, struct hivefs *fs, uint64_t ino,
		   const struct node_info *n, char **value, size_t *len)
{
	uint32_t type;
	struct view v;
	int err = value_view(mem, fs, n, &type, &v);

	if (err)
		return err;
	if (!v.raw_flag)
		return -ENODATA;
	*value = talloc_strdup(mem, "1");
	if (!*value)
		return -ENOMEM;
	*len = 1;
	return 0;
}

/*
 * A type in any spelling hive_type_parse() takes (dword, REG_DWORD, 4,
 * 0x4, ...), printable ASCII with a trailing NUL or newline allowed, as
 * tools add them.  Anything else of 1 to 4 bytes is the number itself,
 * little endian: `setfattr -v 0x04` sends the byte 4, not the text.
 */
static int parse_type(const char *s, size_t len, uint32_t *type)
{
	char text[48];
	size_t printable = 0;

	while (printable < len && s[printable] > ' ' && s[printable] < 0x7F)
		printable++;
	if (!(printable && (printable == len ||
			    (printable + 1 == len &&
			     (s[printable] == '\0' || s[printable] == '\n'))))) {
		if (len == 0 || len > 4)
			return -EINVAL;
		*type = 0;
		for (size_t i = 0; i < len; i++)
			*type |= (uint32_t)(uint8_t)s[i] << (8 * i);
		return 0;
	}
	len = printable;
	if (len >= sizeof(text))
		return -EINVAL;
	memcpy(text, s, len);
	text[len] = '\0';
	return hive_type_parse(text, type) ? 0 : -EINVAL;
}

/*
 * The content a re-interpretation starts from (see store.c): on tmp, and
 * the descriptor it came from, if any, which the store makes clean.
 */
static int current_content(void *tmp, struct hivefs *fs, uint64_t ino,
			   const struct node_info *n, char **content,
			   size_t *len, struct wbuf **from)
{
	struct wbuf *w = node_dirty_copy(fs, ino);
	struct recent_write *r = w ? NULL : recent_find(fs, ino, n);
	uint32_t type;

	*from = w;
	if (w || r) {
		*len = w ? w->len : r->len;
		*content = talloc_size(tmp, *len ? *len : 1);
		if (!*content)
			return -ENOMEM;
		memcpy(*content, w ? w->buf : r->bytes, *len);
		return 0;
	}
	return node_value_content(tmp, fs, n->cell,
				  node_shown_raw(fs, n->flags), &type, content,
				  len);
}

/*
 * Store value n's current content again as `type` (verbatim when it
 * does not parse) if `always`, or if it is bytes written and not stored
 * as written: a descriptor's unstored content, or the bytes last written
 * when they were stored converted (store.c's `pending`).
 */
static int retype(void *tmp, struct hivefs *fs, uint64_t ino,
		  struct node_info *n, uint32_t type, bool always)
{
	struct wbuf *from;
	struct recent_write *r;
	char *content;
	size_t len;
	int err = current_content(tmp, fs, ino, n, &content, &len, &from);

	r = recent_find(fs, ino, n);
	if (!err && (from || always || (r && r->pending)))
		err = store_content(tmp, fs, ino, n, type, content, len,
				    STORE_RETYPE);
	if (!err)
		err = change_done(fs);
	if (!err && from)
		from->dirty = false;
	return err;
}

static int type_set(void *tmp, struct hivefs *fs, uint64_t ino,
		    struct node_info *n, const char *value, size_t size,
		    int flags)
{
	uint32_t type = 0;
	int err;

	if (flags & XATTR_CREATE)
		return -EEXIST; /* every value has a type */
	err = parse_type(value, size, &type);
	if (!err)
		err = retype(tmp, fs, ino, n, type, true);
	if (!err)
		inode_clear_flags(fs->inodes, ino, NODE_FRESH | NODE_NAMED);
	return err;
}

static int raw_set(void *tmp, struct hivefs *fs, uint64_t ino,
		   struct node_info *n, const char *value, size_t size,
		   int flags)
{
	uint32_t type;
	bool raw_now;
	int err;

	if (size == 0 || (value[0] != '1' && value[0] != '0') ||
	    (size > 1 && !(size == 2 && (value[1] == '\n' || !value[1]))))
		return -EINVAL;
	err = store_value_type(fs, n->cell, &type);
	if (err)
		return err;
	raw_now = node_shown_raw(fs, n->flags);
	if (!raw_now) {
		uint8_t *data;
		size_t data_len;
		struct view v;

		err = fs_errno(fs, hive_value_data(tmp, fs->hive, n->cell, &data,
						   &data_len));
		if (err)
			return err;
		view_measure(type, data, data_len, false, &v);
		raw_now = v.raw_flag;
	}
	if ((flags & XATTR_CREATE) && raw_now)
		return -EEXIST;
	if ((flags & XATTR_REPLACE) && !raw_now)
		return -ENODATA;
	if (value[0] == '0') {
		inode_clear_flags(fs->inodes, ino, NODE_VERBATIM);
		return 0;
	}
	inode_set_flags(fs->inodes, ino, NODE_VERBATIM);
	n->flags |= NODE_VERBATIM;
	return retype(tmp, fs, ino, n, type, false);
}

/* Data that is not canonical stays raw; the flag goes. */
static int raw_remove(void *tmp, struct hivefs *fs, uint64_t ino,
		      const struct node_info *n)
{
	inode_clear_flags(fs->inodes, ino, NODE_VERBATIM);
	return 0;
}

/* ---- user.winreg.class and user.winreg.security ---- */

/* A key's class or security bytes (read by `get_bytes`), if it has any. */
static int key_bytes(void *mem, struct hivefs *fs, const struct node_info *n,
		     int (*get_bytes)(void *, struct hive *, hive_key_t,
				      uint8_t **, size_t *),
		     char **value, size_t *len)
{
	uint8_t *bytes;
	int err = fs_errno(fs, get_bytes(mem, fs->hive, n->cell, &bytes, len));

	if (!err && *len == 0)
		err = -ENODATA;
	if (!err)
		*value = (char *)bytes;
	return err;
}

/*
 * A class is text as REG_LINK data is (UTF-16LE, no NUL) and shown as
 * UTF-8 in user.winreg.class; a class that is not such text (an odd
 * length, a NUL, an unpaired surrogate) is shown as its bytes in
 * user.winreg.class.raw instead.  A key with a class has exactly one of
 * the two, so cp -a and rsync -aX copy it exactly.
 */
static int class_any_get(void *mem, struct hivefs *fs, uint64_t ino,
			 const struct node_info *n, char **value, size_t *len)
{
	return key_bytes(mem, fs, n, hive_key_class, value, len);
}

static int class_get(void *mem, struct hivefs *fs, uint64_t ino,
		     const struct node_info *n, char **value, size_t *len)
{
	char *bytes, *text;
	size_t n_bytes, n_text;
	int err = class_any_get(mem, fs, ino, n, &bytes, &n_bytes);

	if (err)
		return err;
	n_text = hive_text_render(HIVE_REG_LINK, (uint8_t *)bytes, n_bytes,
				  NULL);
	if (n_text == SIZE_MAX)
		return -ENODATA; /* see user.winreg.class.raw */
	text = talloc_size(mem, n_text ? n_text : 1);
	if (!text)
		return -ENOMEM;
	hive_text_render(HIVE_REG_LINK, (uint8_t *)bytes, n_bytes, text);
	*value = text;
	*len = n_text;
	return 0;
}

static int class_raw_get(void *mem, struct hivefs *fs, uint64_t ino,
			 const struct node_info *n, char **value, size_t *len)
{
	int err = class_any_get(mem, fs, ino, n, value, len);

	if (!err && hive_text_render(HIVE_REG_LINK, (uint8_t *)*value, *len,
				     NULL) != SIZE_MAX)
		return -ENODATA; /* text: see user.winreg.class */
	return err;
}

static int security_get(void *mem, struct hivefs *fs, uint64_t ino,
			const struct node_info *n, char **value, size_t *len)
{
	return key_bytes(mem, fs, n, hive_key_security, value, len);
}

/* XATTR_CREATE and XATTR_REPLACE against what the key has (get). */
static int check_set_flags(void *tmp, struct hivefs *fs, uint64_t ino,
			   const struct node_info *n, int flags,
			   int (*get)(void *, struct hivefs *, uint64_t,
			   const struct node_info *, char **,
			   size_t *))
{
	char *old;
	size_t old_len;
	int err = get(tmp, fs, ino, n, &old, &old_len);

	if (err && err != -ENODATA)
		return err;
	if ((flags & XATTR_CREATE) && !err)
		return -EEXIST;
	if ((flags & XATTR_REPLACE) && err)
		return -ENODATA;
	return 0;
}

/* UTF-8 text as the class (UTF-16LE); "" removes it. */
static int class_set(void *tmp, struct hivefs *fs, uint64_t ino,
		     struct node_info *n, const char *value, size_t size,
		     int flags)
{
	int err = check_set_flags(tmp, fs, ino, n, flags, class_any_get);
	uint8_t *bytes = NULL;
	size_t len = 0;

	if (!err)
		err = hive_text_parse(tmp, HIVE_REG_LINK, value, size, &bytes,
				      &len) == HIVE_OK
			      ? 0
			      : -EINVAL;
	if (!err)
		err = fs_errno(fs, hive_key_set_class(fs->hive, n->cell, bytes,
						      len));
	return err ? err : change_done(fs);
}

/* The class bytes as they are. */
static int class_raw_set(void *tmp, struct hivefs *fs, uint64_t ino,
			 struct node_info *n, const char *value, size_t size,
			 int flags)
{
	int err = check_set_flags(tmp, fs, ino, n, flags, class_any_get);

	if (!err)
		err = fs_errno(fs, hive_key_set_class(fs->hive, n->cell, value,
						      size));
	return err ? err : change_done(fs);
}

static int class_remove(void *tmp, struct hivefs *fs, uint64_t ino,
			const struct node_info *n)
{
	char *old;
	size_t old_len;
	int err = class_any_get(tmp, fs, ino, n, &old, &old_len);

	if (!err)
		err = fs_errno(fs, hive_key_set_class(fs->hive, n->cell, NULL, 0));
	return err ? err : change_done(fs);
}

static int security_set(void *tmp, struct hivefs *fs, uint64_t ino,
			struct node_info *n, const char *value, size_t size,
			int flags)
{
	int err = check_set_flags(tmp, fs, ino, n, flags, security_get);

	if (!err && size == 0)
		err = -EINVAL; /* a key always has a security descriptor */
	if (!err)
		err = fs_errno(fs, hive_key_set_security(fs->hive, n->cell,
							 value, size));
	return err ? err : change_done(fs);
}

/* ---- user.winreg.name ---- */

/* The full file name of a key or value. */
static int name_get(void *mem, struct hivefs *fs, uint64_t ino,
		    const struct node_info *n, char **value, size_t *len)
{
	uint16_t *u;
	size_t units;
	int err;

	if (!(n->flags & NODE_SYNTHETIC))
		return -ENODATA;
	err = n->kind == NODE_KEY
		      ? hive_key_name(mem, fs->hive, n->cell, &u, &units)
		      : hive_value_name(mem, fs->hive, n->cell, &u, &units);
	if (err)
		return fs_errno(fs, err);
	*value = name_encode(mem, u, units,
			     n->kind == NODE_KEY ? NAME_KEY : NAME_VALUE);
	talloc_free(u);
	if (!*value)
		return -ENOMEM;
	*len = strlen(*value);
	return 0;
}

/* It can only be what it is. */
static int name_set(void *tmp, struct hivefs *fs, uint64_t ino,
		    struct node_info *n, const char *value, size_t size,
		    int flags)
{
	struct node_info any = *n;
	char *full;
	size_t len;
	int err;

	any.flags |= NODE_SYNTHETIC;
	err = name_get(tmp, fs, ino, &any, &full, &len);
	if (err)
		return err;
	return len == size && memcmp(full, value, size) == 0 ? 0 : -EPERM;
}

static const struct attribute attributes[] = {
	/* raw before type: copying tools set them in this order, and raw=1
	 * keeps the bytes they wrote only until a type is set (store.c). */
	{ "user.winreg.raw", VALUES, raw_get, raw_set, raw_remove },
	{ "user.winreg.type", VALUES, type_get, type_set, NULL },
	{ "user.winreg.class", KEYS, class_get, class_set, class_remove },
	{ "user.winreg.class.raw", KEYS, class_raw_get, class_raw_set,
	  class_remove },
	{ "user.winreg.security", KEYS, security_get, security_set, NULL },
	{ "user.winreg.name", KEYS | VALUES, name_get, name_set, NULL },
};

static const struct attribute *attribute_named(const char *name)
{
	for (size_t i = 0; i < sizeof(attributes) / sizeof(attributes[0]); i++)
		if (strcmp(attributes[i].name, name) == 0)
			return &attributes[i];
	return NULL;
}

static bool applies(const struct attribute *a, const struct node_info *n)
{
	return a && (a->applies & (1u << n->kind));
}

/* ---- the operations ---- */

static void reply_sized(fuse_req_t req, const char *data, size_t len,
			size_t size)
{
	/* size 0 asks for the length; a short buffer is ERANGE. */
	if (size == 0)
		fuse_reply_xattr(req, len);
	else if (size < len)
		fs_reply_err(req, -ERANGE);
	else
		fuse_reply_buf(req, data, len);
}

/* The node of ino to read attributes of (under lock). */
static int live_node(struct hivefs *fs, uint64_t ino, struct node_info *n)
{
	if (!inode_get(fs->inodes, ino, n) || (n->flags & NODE_DEAD))
		return -ESTALE;
	return 0;
}

void xattr_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
		    size_t size)
{
	struct hivefs *fs = fs_of(req);
	const struct attribute *a = attribute_named(name);
	void *tmp = talloc_new(NULL);
	struct node_info n;
	char *value = NULL;
	size_t len = 0;
	int err;

	pthread_mutex_lock(&fs->lock);
	err = tmp ? live_node(fs, ino, &n) : -ENOMEM;
	if (!err)
		err = applies(a, &n) ? a->get(tmp, fs, ino, &n, &value, &len)
				     : -ENODATA;
	pthread_mutex_unlock(&fs->lock);
	if (err)
		fs_reply_err(req, err);
	else
		reply_sized(req, value, len, size);
	talloc_free(tmp);
}

void xattr_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	struct hivefs *fs = fs_of(req);
	void *tmp = talloc_new(NULL);
	char *names = NULL;
	size_t len = 0;
	struct node_info n;
	int err;

	pthread_mutex_lock(&fs->lock);
	err = tmp ? live_node(fs, ino, &n) : -ENOMEM;
	for (size_t i = 0;
	     !err && i < sizeof(attributes) / sizeof(attributes[0]); i++) {
		const struct attribute *a = &attributes[i];
		size_t k = strlen(a->name) + 1, vlen;
		char *value;

		if (!applies(a, &n))
			continue;
		err = a->get(tmp, fs, ino, &n, &value, &vlen);
		if (err == -ENODATA) {
			err = 0;
			continue;
		}
		if (!err)
			names = talloc_realloc(tmp, names, char, len + k);
		if (!err && !names)
			err = -ENOMEM;
		if (!err) {
			memcpy(names + len, a->name, k);
			len += k;
		}
	}
	pthread_mutex_unlock(&fs->lock);
	if (err)
		fs_reply_err(req, err);
	else
		reply_sized(req, names, len, size);
	talloc_free(tmp);
}

void xattr_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
		    const char *value, size_t size, int flags)
{
	struct hivefs *fs = fs_of(req);
	const struct attribute *a = attribute_named(name);
	void *tmp = talloc_new(NULL);
	struct stale st = { .n = 0 };
	struct node_info n;
	char *before = NULL;
	int err;

	pthread_mutex_lock(&fs->lock);
	err = tmp ? change_node(fs, ino, &n) : -ENOMEM;
	/* -o typenames: a new type or view is a new file name (Foo.sz
	 * becomes Foo.dword); the kernel must forget the old one. */
	if (!err)
		before = stale_typed_name(tmp, fs, &n);
	if (!err)
		/* Nowhere to keep other attributes. */
		err = applies(a, &n) && a->set
			      ? a->set(tmp, fs, ino, &n, value, size, flags)
			      : -ENOTSUP;
	if (!err) {
		stale_add(&st, ino);
		if (n.kind == NODE_VALUE)
			stale_add(&st, node_key_ino(fs, n.parent));
	}
	if (!err)
		stale_add_renamed(tmp, &st, fs, &n, before);
	pthread_mutex_unlock(&fs->lock);
	talloc_free(tmp);
	stale_reply(fs, req, &st, err, NULL);
}

void xattr_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	struct hivefs *fs = fs_of(req);
	const struct attribute *a = attribute_named(name);
	void *tmp = talloc_new(NULL);
	struct stale st = { .n = 0 };
	struct node_info n;
	int err;

	pthread_mutex_lock(&fs->lock);
	err = tmp ? change_node(fs, ino, &n) : -ENOMEM;
	if (!err) {
		if (a && !a->remove)
			err = -EPERM; /* what every entry of its kind has */
		else if (applies(a, &n))
			err = a->remove(tmp, fs, ino, &n);
		else
			err = -ENODATA;
	}
	/* Removing user.winreg.raw changes the view: size and pages. */
	if (!err) {
		stale_add(&st, ino);
		if (n.kind == NODE_VALUE)
			stale_add(&st, node_key_ino(fs, n.parent));
	}
	pthread_mutex_unlock(&fs->lock);
	talloc_free(tmp);
	stale_reply(fs, req, &st, err, NULL);
}
