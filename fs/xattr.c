/*
 * xattr.c — the extended attributes of keys and values.
 *
 * All live in the user. namespace, so cp -a, rsync -aX and tar --xattrs
 * carry them:
 *
 *   values  user.winreg.type      REG_SZ, REG_DWORD, ... or 0x%08x
 *           user.winreg.raw       "1", when the file shows the data raw
 *                                 although the type has a text view
 *   keys    user.winreg.class     the class name bytes as stored (UTF-16LE),
 *                                 when the key has one
 *           user.winreg.security  the security descriptor, self-relative
 *   both    user.winreg.name      the entry's full file name (the encoding
 *                                 of names.c, without %v), when the name
 *                                 shown is a shortened or NAME%~N form
 *
 * Values have no trailing NUL or newline.
 */
#include <inttypes.h>
#include <string.h>

#include <talloc.h>

#include "hivefs.h"

#define XATTR_TYPE "user.winreg.type"
#define XATTR_RAW "user.winreg.raw"
#define XATTR_CLASS "user.winreg.class"
#define XATTR_SECURITY "user.winreg.security"
#define XATTR_NAME "user.winreg.name"

static int value_view(void *mem, struct hivefs *fs, uint32_t cell,
		      unsigned node_flags, uint32_t *type, struct view *v)
{
	struct hive_value_stat st;
	uint8_t *data;
	size_t len;
	int err = hive_value_stat(fs->hive, cell, &st);

	if (!err)
		err = hive_value_data(mem, fs->hive, cell, &data, &len);
	if (err)
		return err;
	*type = st.type;
	view_measure(st.type, data, len,
		     fs->raw || (node_flags & NODE_VERBATIM), v);
	talloc_free(data);
	return HIVE_OK;
}

static char *type_text(void *mem, uint32_t type)
{
	const char *name = hive_type_name(type);

	return name ? talloc_strdup(mem, name)
		    : talloc_asprintf(mem, "0x%08" PRIx32, type);
}

/* user.winreg.name: the full file name of a key or value. */
static int full_name(void *mem, struct hivefs *fs, enum node_kind kind,
		     uint32_t cell, char **out)
{
	uint16_t *u;
	size_t len;
	int err = kind == NODE_KEY ? hive_key_name(mem, fs->hive, cell, &u, &len)
				   : hive_value_name(mem, fs->hive, cell, &u, &len);

	if (err)
		return err;
	*out = name_encode(mem, u, len, kind == NODE_KEY ? NAME_KEY : NAME_VALUE);
	talloc_free(u);
	return *out ? HIVE_OK : HIVE_E_NOMEM;
}

int xattr_list(void *mem, struct hivefs *fs, enum node_kind kind,
	       uint32_t cell, unsigned node_flags, char **names, size_t *len)
{
	void *tmp = talloc_new(NULL);
	const char *present[3];
	size_t n = 0, total = 0;
	char *list;
	int err;

	if (!tmp)
		return HIVE_E_NOMEM;
	if (kind == NODE_KEY) {
		struct hive_key_stat st;
		uint8_t *sd;
		size_t sd_len;

		err = hive_key_stat(fs->hive, cell, &st);
		if (!err)
			err = hive_key_security(tmp, fs->hive, cell, &sd, &sd_len);
		if (!err && st.class_len)
			present[n++] = XATTR_CLASS;
		if (!err && sd_len)
			present[n++] = XATTR_SECURITY;
	} else {
		uint32_t type;
		struct view v;

		err = value_view(tmp, fs, cell, node_flags, &type, &v);
		if (!err)
			present[n++] = XATTR_TYPE;
		if (!err && v.raw_flag)
			present[n++] = XATTR_RAW;
	}
	if (!err && (node_flags & NODE_SYNTHETIC))
		present[n++] = XATTR_NAME;
	for (size_t i = 0; i < n; i++)
		total += strlen(present[i]) + 1;
	list = err ? NULL : talloc_array(mem, char, total + 1);
	if (!err && !list)
		err = HIVE_E_NOMEM;
	if (!err) {
		*len = 0;
		for (size_t i = 0; i < n; i++) {
			size_t k = strlen(present[i]) + 1;
			memcpy(list + *len, present[i], k);
			*len += k;
		}
		*names = list;
	}
	talloc_free(tmp);
	return err;
}

static int key_attr(void *mem, struct hivefs *fs, uint32_t cell,
		    const char *name, char **value, size_t *len)
{
	uint8_t *bytes;
	int err;

	if (strcmp(name, XATTR_CLASS) == 0)
		err = hive_key_class(mem, fs->hive, cell, &bytes, len);
	else if (strcmp(name, XATTR_SECURITY) == 0)
		err = hive_key_security(mem, fs->hive, cell, &bytes, len);
	else
		return HIVE_E_NOT_FOUND;
	if (err)
		return err;
	if (*len == 0) {
		talloc_free(bytes);
		return HIVE_E_NOT_FOUND;
	}
	*value = (char *)bytes;
	return HIVE_OK;
}

static int value_attr(void *mem, struct hivefs *fs, uint32_t cell,
		      unsigned node_flags, const char *name, char **value,
		      size_t *len)
{
	uint32_t type;
	struct view v;
	int err;

	if (strcmp(name, XATTR_TYPE) != 0 && strcmp(name, XATTR_RAW) != 0)
		return HIVE_E_NOT_FOUND;
	err = value_view(mem, fs, cell, node_flags, &type, &v);
	if (err)
		return err;
	if (strcmp(name, XATTR_RAW) == 0) {
		if (!v.raw_flag)
			return HIVE_E_NOT_FOUND;
		*value = talloc_strdup(mem, "1");
	} else {
		*value = type_text(mem, type);
	}
	if (!*value)
		return HIVE_E_NOMEM;
	*len = strlen(*value);
	return HIVE_OK;
}

int xattr_get(void *mem, struct hivefs *fs, enum node_kind kind,
	      uint32_t cell, unsigned node_flags, const char *name, char **value,
	      size_t *len)
{
	int err;

	if (strcmp(name, XATTR_NAME) == 0) {
		if (!(node_flags & NODE_SYNTHETIC))
			return HIVE_E_NOT_FOUND;
		err = full_name(mem, fs, kind, cell, value);
		if (!err)
			*len = strlen(*value);
		return err;
	}
	return kind == NODE_KEY ? key_attr(mem, fs, cell, name, value, len)
				: value_attr(mem, fs, cell, node_flags, name, value,
					     len);
}
