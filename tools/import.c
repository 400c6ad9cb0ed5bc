/*
 * import.c — `hivectl import`: apply .reg files to hive files as regedit
 * applies them to a running registry.
 *
 * How an import runs (all or nothing)
 *   1. Every file is read and parsed once to check it: a syntax error
 *      stops everything with FILE:LINE:COLUMN, and every key is mapped
 *      onto a hive (a key no mapping covers stops everything too, unless
 *      --skip-unmapped).  Nothing has been opened for writing yet.
 *   2. Every hive some key maps to is opened for writing (locked) and
 *      checked: one that refuses changes stops everything.
 *   3. The files are parsed again and applied to the hives in memory, in
 *      file order.  An engine error stops everything: nothing is written,
 *      since the changes exist only in memory.
 *   4. Each changed hive is committed once, through its transaction logs
 *      (so each hive's share is one transaction).  A commit failing after
 *      another hive's commit succeeded is reported with which hives hold
 *      the import and which do not; no two files can change atomically.
 *
 * Mapping keys onto hives
 *   A key path's first component is a root (HKEY_LOCAL_MACHINE, or an
 *   abbreviation: HKLM, HKCU, HKU, HKCR, HKCC).  A mapping is a list of
 *   leading components (normalised, compared as Windows compares names)
 *   and a hive; the longest mapping that matches a key wins, and the rest
 *   of the path is the key inside that hive (behind an optional fixed
 *   path: HKCR is SOFTWARE's Classes).  --prefix P is the one mapping
 *   P=HIVE; --map adds mappings; --windows makes the mappings of an
 *   offline Windows installation.  Under HKLM\SYSTEM, CurrentControlSet
 *   is the control set that the hive's Select\Current names, as Windows
 *   links it at boot.
 *
 * Finding the hives of an offline Windows (--windows DIR)
 *   DIR is the user's choice; below it every folder and file is somebody
 *   else's (a mounted NTFS volume, a copied image): names are matched
 *   case-insensitively as NTFS matches them, each folder is opened with
 *   O_NOFOLLOW relative to its parent, and a hive must be a regular file
 *   that is not a symbolic link.  The hive is then opened through
 *   /proc/self/fd/DIRFD/NAME, the folder that was checked, rather than
 *   by walking the path's names again.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <talloc.h>

#include "hivectl.h"
#include "regparse.h"

struct comp {
	const uint16_t *name;
	size_t len;
};

/* A key resolved in a target, kept so that the next key line of a file
 * written parents-first resolves only what differs. */
struct cached {
	uint16_t *name;
	size_t len;
	hive_key_t key;
};

struct target {
	const char *path;      /* for messages */
	const char *open_path; /* what hive_open() gets */
	const char *missing;   /* why there is no such hive (--windows) */
	int dirfd;             /* the folder checked for it (--windows) */
	bool used;
	struct hive *h;
	int control_set;       /* Select\Current; 0 if the hive has none */
	struct cached *cache;
	size_t cache_n, cache_cap;
	unsigned keys_created, keys_deleted, values_set, values_deleted;
};

struct mapping {
	struct comp *root;  /* normalised leading components */
	size_t n;
	struct comp *inside; /* prepended inside the hive */
	size_t n_inside;
	bool control_sets;  /* the root is HKLM\SYSTEM */
	struct target *t;
};

struct import_opts {
	const char *prefix;
	const char *windows, *user;
	bool skip_unmapped, dry_run;
	const char **maps; /* ROOT=HIVE arguments */
	size_t n_maps;
	bool prefix_mode;  /* HIVE FILE...: one hive, one prefix */
};

/* One .reg file's bytes. */
struct reg_input {
	const char *name;
	uint8_t *buf;
	size_t len;
	bool mapped;     /* buf is a mapping of the file, else malloc'd */
	size_t released; /* bytes of the mapping given back in this pass */
};

/* How much parsed text a mapped file keeps before giving it back. */
#define RELEASE_STEP (1u << 20)

struct import {
	void *mem;
	struct import_opts *o;
	struct mapping *maps;
	size_t n_maps;
	struct target **targets;
	size_t n_targets;
	struct reg_input *files;
	size_t n_files;
	/* while parsing */
	struct reg_input *file;
	bool applying;
	struct target *cur;  /* the current key's hive; NULL: skipped */
	hive_key_t cur_key;
	char *cur_shown;     /* the current key inside its hive (dry run) */
	void *tmp;           /* freed after each item */
	unsigned skipped;
};

/* ---- names and paths ---- */

static const struct {
	const char *abbrev, *full;
} roots[] = {
	{ "HKLM", "HKEY_LOCAL_MACHINE" }, { "HKCU", "HKEY_CURRENT_USER" },
	{ "HKU", "HKEY_USERS" },          { "HKCR", "HKEY_CLASSES_ROOT" },
	{ "HKCC", "HKEY_CURRENT_CONFIG" },
};

static bool comp_is(const struct comp *c, const char *ascii)
{
	size_t n = strlen(ascii);

	if (c->len != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (hive_upcase(c->name[i]) !=
		    hive_upcase((unsigned char)ascii[i]))
			return false;
	return true;
}

static bool comp_eq(const struct comp *a, const struct comp *b)
{
	return hive_name_compare(a->name, a->len, b->name, b->len) == 0;
}

/* A static UTF-16 copy of an ASCII word (roots, fixed names). */
static struct comp ascii_comp(void *mem, const char *s)
{
	size_t n = strlen(s);
	uint16_t *u = talloc_array(mem, uint16_t, n ? n : 1);

	for (size_t i = 0; u && i < n; i++)
		u[i] = (unsigned char)s[i];
	return (struct comp){ u, u ? n : 0 };
}

/*
 * Splits a backslash-separated path into components (empty ones are
 * ignored, as everywhere in hivectl); the first, a root, is spelt out if
 * abbreviated and `root` is set.  Returns the count, or (size_t)-1 when
 * out of memory.
 */
static size_t split_path(void *mem, const uint16_t *s, size_t len, bool root,
			 struct comp **out)
{
	size_t n = 0, start = 0;
	struct comp *c = talloc_array(mem, struct comp, len / 2 + 2);

	if (!c)
		return (size_t)-1;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && s[i] != '\\')
			continue;
		if (i > start)
			c[n++] = (struct comp){ s + start, i - start };
		start = i + 1;
	}
	if (root && n > 0) {
		for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++)
			if (comp_is(&c[0], roots[i].abbrev))
				c[0] = ascii_comp(mem, roots[i].full);
	}
	*out = c;
	return n;
}

static size_t split_utf8(void *mem, const char *s, bool root,
			 struct comp **out)
{
	uint16_t *u;
	size_t len;

	if (hive_utf8_to_utf16(mem, s, strlen(s), &u, &len))
		return (size_t)-1;
	return split_path(mem, u, len, root, out);
}

static char *comps_shown(void *mem, const struct comp *c, size_t n)
{
	char *s = talloc_strdup(mem, n ? "" : "\\");

	for (size_t i = 0; s && i < n; i++)
		s = talloc_asprintf_append(s, "\\%s",
					   display_name(s, c[i].name,
							c[i].len));
	return s;
}

/* ---- reading the .reg files ---- */

/* The whole of a file ("-": standard input), with malloc (a .reg file may
 * be larger than one talloc block). */
static int read_input(struct reg_input *in)
{
	int fd = strcmp(in->name, "-") ? open(in->name, O_RDONLY | O_CLOEXEC)
				       : STDIN_FILENO;
	size_t cap = 0;
	struct stat st;

	if (fd < 0) {
		report("%s: %s", in->name, strerror(errno));
		return EXIT_HIVE;
	}
	if (fstat(fd, &st) != 0) {
		report("%s: %s", in->name, strerror(errno));
		goto fail;
	}
	if (S_ISDIR(st.st_mode)) {
		report("%s: is a directory", in->name);
		goto fail;
	}
	in->len = 0;
	/*
	 * A regular file is mapped, not read: the parser walks it from start
	 * to end twice, and what it has passed is given back to the page
	 * cache (release_parsed), so that a large import holds little more
	 * than the hive and its commit.  A file cut short under us would
	 * kill the process with SIGBUS before anything is written.
	 */
	if (S_ISREG(st.st_mode) && st.st_size > 0 &&
	    (uint64_t)st.st_size < SIZE_MAX / 2) {
		void *map = mmap(NULL, (size_t)st.st_size, PROT_READ,
				 MAP_PRIVATE, fd, 0);

		if (map != MAP_FAILED) {
			in->buf = map;
			in->len = (size_t)st.st_size;
			in->mapped = true;
			if (fd != STDIN_FILENO)
				close(fd);
			return 0;
		}
	}
	for (;;) {
		ssize_t got;

		if (in->len == cap) {
			uint8_t *b;

			cap = cap ? cap * 2 : 1 << 16;
			b = realloc(in->buf, cap);
			if (!b) {
				report("%s: out of memory", in->name);
				goto fail;
			}
			in->buf = b;
		}
		got = read(fd, in->buf + in->len, cap - in->len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			report("%s: %s", in->name, strerror(errno));
			goto fail;
		}
		if (got == 0)
			break;
		in->len += (size_t)got;
	}
	if (fd != STDIN_FILENO)
		close(fd);
	return 0;
fail:
	if (fd != STDIN_FILENO)
		close(fd);
	return EXIT_HIVE;
}

static void free_input(struct reg_input *in)
{
	if (in->mapped && in->buf)
		munmap(in->buf, in->len);
	else
		free(in->buf);
	in->buf = NULL;
}

static int free_inputs(struct reg_input *files)
{
	size_t n = talloc_array_length(files);

	for (size_t i = 0; i < n; i++)
		free_input(&files[i]);
	return 0;
}

/* Gives the pages of a mapped file that the parser has passed back. */
static void release_parsed(struct reg_input *in, size_t offset)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), end;

	if (!in->mapped || offset < in->released + RELEASE_STEP)
		return;
	end = offset / page * page;
	if (end > in->released)
		madvise(in->buf + in->released, end - in->released,
			MADV_DONTNEED);
	in->released = end;
}

/* ---- mapping ---- */

/* The mapping for a key path, or NULL; *rest is what follows its root. */
static const struct mapping *map_key(struct import *im, const struct comp *c,
				     size_t n, size_t *rest)
{
	const struct mapping *best = NULL;

	for (size_t i = 0; i < im->n_maps; i++) {
		const struct mapping *m = &im->maps[i];
		size_t k;

		if (m->n > n || (best && m->n <= best->n))
			continue;
		for (k = 0; k < m->n && comp_eq(&m->root[k], &c[k]); k++)
			;
		if (k == m->n)
			best = m;
	}
	if (best)
		*rest = best->n;
	return best;
}

static void item_error(struct import *im, const struct reg_item *it,
		       const char *fmt, ...) __attribute__((format(printf, 3,
								   4)));
static void item_error(struct import *im, const struct reg_item *it,
		       const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "hivectl: %s:%u:%u: ", im->file->name, it->line,
		it->column);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/*
 * The hive and the path inside it of a key item.  Returns 0, KEY_SKIPPED
 * (unmapped, with --skip-unmapped), or EXIT_HIVE (reported).
 */
#define KEY_SKIPPED (-1)
static int place_key(struct import *im, const struct reg_item *it,
		     struct target **t, struct comp **path, size_t *n)
{
	void *tmp = im->tmp;
	struct comp *c, *p;
	size_t count = split_path(tmp, it->key, it->key_len, true, &c), rest;
	const struct mapping *m;

	if (count == (size_t)-1) {
		item_error(im, it, "out of memory");
		return EXIT_HIVE;
	}
	m = map_key(im, c, count, &rest);
	if (!m || m->t->missing) {
		char *shown = display_name(tmp, it->key, it->key_len);

		if (m)
			item_error(im, it, "[%s]: %s", shown, m->t->missing);
		else if (im->o->skip_unmapped && !im->applying)
			printf("skipped (no hive for it): [%s]\n", shown);
		else if (!im->o->skip_unmapped)
			item_error(im, it, "[%s] is not in %s (use "
				   "--skip-unmapped to skip such keys)",
				   shown, im->o->prefix_mode ? "the hive's prefix"
				   : "any mapped hive");
		if (m || !im->o->skip_unmapped)
			return EXIT_HIVE;
		if (!im->applying)
			im->skipped++;
		return KEY_SKIPPED;
	}
	if (im->applying && !m->t->h) {
		/* Pass 1 saw no key for this hive: the file changed since. */
		item_error(im, it, "the file changed while it was imported");
		return EXIT_HIVE;
	}
	*t = m->t;
	p = talloc_array(tmp, struct comp, m->n_inside + count - rest + 1);
	if (!p) {
		item_error(im, it, "out of memory");
		return EXIT_HIVE;
	}
	*n = 0;
	for (size_t i = 0; i < m->n_inside; i++)
		p[(*n)++] = m->inside[i];
	for (size_t i = rest; i < count; i++)
		p[(*n)++] = c[i];
	if (m->control_sets && *n > 0 && comp_is(&p[0], "CurrentControlSet") &&
	    im->applying) {
		char set[32];

		if (!m->t->control_set) {
			item_error(im, it, "%s has no Select\\Current value: "
				   "CurrentControlSet names no control set",
				   m->t->path);
			return EXIT_HIVE;
		}
		snprintf(set, sizeof(set), "ControlSet%03d",
			 m->t->control_set);
		p[0] = ascii_comp(tmp, set);
	}
	*path = p;
	return 0;
}

/* ---- applying ---- */

/*
 * The key at `path` in t, through the cache of the last key resolved;
 * missing keys are created when `create` (and counted), else NOT_FOUND.
 */
static int resolve(struct import *im, struct target *t, const struct comp *p,
		   size_t n, bool create, hive_key_t *out)
{
	size_t common = 0;
	hive_key_t key;

	while (common < t->cache_n && common < n &&
	       hive_name_compare(t->cache[common].name, t->cache[common].len,
				 p[common].name, p[common].len) == 0)
		common++;
	while (t->cache_n > common)
		talloc_free(t->cache[--t->cache_n].name);
	key = common ? t->cache[common - 1].key : hive_root(t->h);
	for (size_t i = common; i < n; i++) {
		hive_key_t child;
		int err = create ? hive_key_create(t->h, key, p[i].name,
						   p[i].len, &child)
				 : hive_key_lookup(t->h, key, p[i].name,
						   p[i].len, &child);

		if (err == HIVE_E_EXISTS && create) {
			err = 0;
		} else if (!err && create) {
			t->keys_created++;
			if (im->o->dry_run)
				printf("%s: add key %s\n", t->path,
				       comps_shown(im->tmp, p, i + 1));
		}
		if (err)
			return err;
		if (t->cache_n == t->cache_cap) {
			size_t cap = t->cache_cap ? 2 * t->cache_cap : 16;
			struct cached *c = talloc_realloc(t, t->cache,
							  struct cached, cap);

			if (!c)
				return HIVE_E_NOMEM;
			t->cache = c;
			t->cache_cap = cap;
		}
		t->cache[t->cache_n].name = talloc_memdup(
			t, p[i].name, p[i].len * sizeof(uint16_t));
		if (!t->cache[t->cache_n].name)
			return HIVE_E_NOMEM;
		t->cache[t->cache_n].len = p[i].len;
		t->cache[t->cache_n].key = child;
		t->cache_n++;
		key = child;
	}
	*out = key;
	return 0;
}

static void engine_error(struct import *im, const struct reg_item *it,
			 struct target *t, const char *what, int err)
{
	char *text = err_text(im->tmp, err);

	item_error(im, it, "%s: %s: %s", t->path, what,
		   text ? text : hive_strerror(err));
}

static int apply_key(struct import *im, const struct reg_item *it)
{
	struct target *t;
	struct comp *p;
	size_t n;
	int rc = place_key(im, it, &t, &p, &n), err;
	hive_key_t key;
	unsigned deleted = 0;

	im->cur = NULL;
	if (rc)
		return rc == KEY_SKIPPED ? 0 : rc;
	if (it->kind == REG_ITEM_KEY) {
		err = resolve(im, t, p, n, true, &key);
		if (err) {
			engine_error(im, it, t, "creating the key", err);
			return EXIT_HIVE;
		}
		im->cur = t;
		im->cur_key = key;
		if (im->o->dry_run) {
			talloc_free(im->cur_shown);
			im->cur_shown = comps_shown(im->mem, p, n);
		}
		return 0;
	}
	/* [-KEY] of a key that is not there is nothing to do (regedit). */
	err = resolve(im, t, p, n, false, &key);
	if (err == HIVE_E_NOT_FOUND)
		return 0;
	if (!err && n == 0) {
		item_error(im, it, "%s: the root key of a hive cannot be "
			   "deleted", t->path);
		return EXIT_HIVE;
	}
	/* The cache holds the subtree's handles: forget them first. */
	while (t->cache_n > 0)
		talloc_free(t->cache[--t->cache_n].name);
	if (!err)
		err = delete_subtree(t->h, key, &deleted);
	if (err) {
		engine_error(im, it, t, "deleting the key", err);
		return EXIT_HIVE;
	}
	t->keys_deleted += deleted;
	if (im->o->dry_run)
		printf("%s: delete key %s (%u key%s)\n", t->path,
		       comps_shown(im->tmp, p, n), deleted,
		       deleted == 1 ? "" : "s");
	return 0;
}

/* Whether the key already has this value with this type and data. */
static bool value_is(struct import *im, const struct reg_item *it)
{
	struct hive_value_stat st;
	hive_value_t val;
	uint8_t *data;
	size_t len;
	bool same;

	if (hive_value_lookup(im->cur->h, im->cur_key, it->name, it->name_len,
			      &val) ||
	    hive_value_stat(im->cur->h, val, &st) || st.type != it->type ||
	    st.data_len != it->data_len ||
	    hive_value_data(im->tmp, im->cur->h, val, &data, &len))
		return false;
	same = len == it->data_len && !memcmp(data, it->data, len);
	talloc_free(data);
	return same;
}

static int apply_value(struct import *im, const struct reg_item *it)
{
	struct target *t = im->cur;
	const char *name;
	int err;

	if (!t)
		return 0; /* the key was skipped */
	name = it->name_len ? talloc_asprintf(im->tmp, "\"%s\"",
					      display_name(im->tmp, it->name,
							   it->name_len))
			    : "@";
	if (it->kind == REG_ITEM_VALUE_DELETE) {
		err = hive_value_delete(t->h, im->cur_key, it->name,
					it->name_len);
		if (err == HIVE_E_NOT_FOUND)
			return 0;
		if (err) {
			engine_error(im, it, t, "deleting the value", err);
			return EXIT_HIVE;
		}
		t->values_deleted++;
		if (im->o->dry_run)
			printf("%s: %s: delete value %s\n", t->path,
			       im->cur_shown, name);
		return 0;
	}
	if (value_is(im, it))
		return 0;
	err = hive_value_set(t->h, im->cur_key, it->name, it->name_len,
			     it->type, it->data, it->data_len, NULL);
	if (err) {
		engine_error(im, it, t, "setting the value", err);
		return EXIT_HIVE;
	}
	t->values_set++;
	if (im->o->dry_run)
		printf("%s: %s: set value %s (%s, %zu bytes)\n", t->path,
		       im->cur_shown, name, type_text(im->tmp, it->type),
		       it->data_len);
	return 0;
}

static int on_item(void *arg, const struct reg_item *it)
{
	struct import *im = arg;
	int rc;

	release_parsed(im->file, it->offset);
	im->tmp = talloc_new(im->mem);
	if (!im->tmp)
		return REG_NOMEM;
	if (!im->applying) {
		/* Pass 1: only where each key goes. */
		struct target *t;
		struct comp *p;
		size_t n;

		rc = 0;
		if (it->kind == REG_ITEM_KEY ||
		    it->kind == REG_ITEM_KEY_DELETE) {
			rc = place_key(im, it, &t, &p, &n);
			if (rc == 0)
				t->used = true;
		}
		rc = rc == KEY_SKIPPED ? 0 : rc;
	} else if (it->kind == REG_ITEM_KEY ||
		   it->kind == REG_ITEM_KEY_DELETE) {
		rc = apply_key(im, it);
	} else {
		rc = apply_value(im, it);
	}
	TALLOC_FREE(im->tmp);
	return rc;
}

/* Parses every file, checking (pass 1) or applying (pass 2). */
static int parse_all(struct import *im)
{
	for (size_t i = 0; i < im->n_files; i++) {
		struct reg_error err;
		int rc;

		im->file = &im->files[i];
		im->file->released = 0;
		im->cur = NULL;
		rc = reg_parse(im->file->buf, im->file->len, on_item, im,
			       NULL, &err);
		if (rc == REG_SYNTAX) {
			fflush(stdout);
			fprintf(stderr, "hivectl: %s:%u:%u: %s\n",
				im->file->name, err.line, err.column,
				err.text);
			return EXIT_HIVE;
		}
		if (rc == REG_NOMEM) {
			report("%s: out of memory", im->file->name);
			return EXIT_HIVE;
		}
		if (rc)
			return rc;
	}
	return 0;
}

/* ---- targets ---- */

static struct target *new_target(struct import *im, const char *path)
{
	struct target *t = talloc_zero(im->mem, struct target);
	struct target **ts;

	if (!t)
		return NULL;
	ts = talloc_realloc(im->mem, im->targets, struct target *,
			    im->n_targets + 1);
	if (!ts)
		return NULL;
	im->targets = ts;
	ts[im->n_targets++] = t;
	t->path = t->open_path = talloc_strdup(t, path);
	t->dirfd = -1;
	return t;
}

static int close_targets(struct import *im)
{
	for (size_t i = 0; i < im->n_targets; i++)
		if (im->targets[i]->dirfd >= 0)
			close(im->targets[i]->dirfd);
	return 0;
}

static struct mapping *add_mapping(struct import *im, const char *root,
				   const char *inside, struct target *t)
{
	struct mapping *maps = talloc_realloc(im->mem, im->maps,
					      struct mapping, im->n_maps + 1);
	struct mapping *m;

	if (!maps)
		return NULL;
	im->maps = maps;
	m = &maps[im->n_maps];
	*m = (struct mapping){ .t = t };
	m->n = split_utf8(im->mem, root, true, &m->root);
	m->n_inside = inside ? split_utf8(im->mem, inside, false, &m->inside)
			     : 0;
	if (m->n == (size_t)-1 || m->n_inside == (size_t)-1)
		return NULL;
	m->control_sets = m->n == 2 && comp_is(&m->root[0],
					       "HKEY_LOCAL_MACHINE") &&
			  comp_is(&m->root[1], "SYSTEM");
	im->n_maps++;
	return m;
}

/*
 * The entry of folder `dirfd` called `name` ignoring case, as NTFS
 * matches names: the exact spelling if present, else the one entry that
 * matches; NULL (and *why) if none or several do.
 */
static char *find_ci(void *mem, int dirfd, const char *name,
		     const char **why)
{
	int fd = dup(dirfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	char *found = NULL;
	bool several = false;
	struct dirent *e;

	*why = "not found";
	if (!d) {
		if (fd >= 0)
			close(fd);
		*why = strerror(errno);
		return NULL;
	}
	rewinddir(d);
	while ((e = readdir(d))) {
		if (strcasecmp(e->d_name, name))
			continue;
		if (!strcmp(e->d_name, name)) {
			talloc_free(found);
			found = talloc_strdup(mem, e->d_name);
			several = false;
			break;
		}
		if (found)
			several = true;
		else
			found = talloc_strdup(mem, e->d_name);
	}
	closedir(d);
	if (several) {
		*why = "several names match it ignoring case";
		talloc_free(found);
		return NULL;
	}
	return found;
}

/*
 * Opens the folder `rel` (slash-separated) below dirfd name by name,
 * ignoring case, never through a symbolic link.  *shown grows by the
 * names found.  -1 (and *why) on failure.
 */
static int open_dir_ci(void *mem, int dirfd, const char *rel, char **shown,
		       const char **why)
{
	char *copy = talloc_strdup(mem, rel), *save = NULL;
	int fd = dup(dirfd);

	for (char *c = strtok_r(copy, "/", &save); fd >= 0 && c;
	     c = strtok_r(NULL, "/", &save)) {
		char *name = strcmp(c, "..") ? find_ci(mem, fd, c, why) :
					       talloc_strdup(mem, "..");
		int next = name ? openat(fd, name, O_RDONLY | O_DIRECTORY |
					 O_NOFOLLOW | O_CLOEXEC |
					 O_NONBLOCK) : -1;

		struct stat st;

		/* O_DIRECTORY may say ENOTDIR for a link: ask what it is. */
		if (name && next < 0)
			*why = fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) ?
				       strerror(errno) :
			       S_ISLNK(st.st_mode) ? "is a symbolic link" :
			       !S_ISDIR(st.st_mode) ? "is not a folder" :
						      strerror(errno);
		if (name)
			*shown = talloc_asprintf_append(*shown, "/%s", name);
		else
			*shown = talloc_asprintf_append(*shown, "/%s", c);
		close(fd);
		fd = next;
	}
	return fd;
}

/* A --windows hive: folder `rel` below base, then file `file`. */
static struct target *windows_hive(struct import *im, int base,
				   const char *base_shown, const char *rel,
				   const char *file)
{
	void *tmp = talloc_new(im->mem);
	char *shown = talloc_strdup(tmp, base_shown);
	const char *why = NULL;
	int dirfd = open_dir_ci(tmp, base, rel, &shown, &why);
	char *name = dirfd >= 0 ? find_ci(tmp, dirfd, file, &why) : NULL;
	struct target *t;
	struct stat st;

	if (name && fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
		why = strerror(errno);
		name = NULL;
	} else if (name && S_ISLNK(st.st_mode)) {
		why = "is a symbolic link";
		name = NULL;
	} else if (name && !S_ISREG(st.st_mode)) {
		why = "is not a regular file";
		name = NULL;
	}
	shown = talloc_asprintf_append(shown, "/%s", name ? name : file);
	t = new_target(im, shown);
	if (t && name) {
		t->dirfd = dirfd;
		t->open_path = talloc_asprintf(t, "/proc/self/fd/%d/%s", dirfd,
					       name);
	} else if (t) {
		if (dirfd >= 0)
			close(dirfd);
		t->missing = talloc_asprintf(t, "%s: %s", shown, why);
	}
	talloc_free(tmp);
	return t;
}

static int windows_mappings(struct import *im)
{
	static const struct {
		const char *root, *file, *inside;
	} sys[] = {
		{ "HKLM\\SYSTEM", "SYSTEM", NULL },
		{ "HKLM\\SOFTWARE", "SOFTWARE", NULL },
		{ "HKLM\\SAM", "SAM", NULL },
		{ "HKLM\\SECURITY", "SECURITY", NULL },
		{ "HKU\\.DEFAULT", "DEFAULT", NULL },
	};
	const char *dir = im->o->windows, *why;
	void *tmp = talloc_new(im->mem);
	int base = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NONBLOCK);
	const char *windir = "", *users = "Users";
	struct target *software = NULL, *t;

	if (base < 0) {
		report("%s: %s", dir, strerror(errno));
		return EXIT_HIVE;
	}
	/* DIR may be the volume (DIR/Windows) or the Windows folder. */
	if (find_ci(tmp, base, "Windows", &why) &&
	    !find_ci(tmp, base, "System32", &why))
		windir = "Windows/";
	else
		users = "../Users";
	for (size_t i = 0; i < sizeof(sys) / sizeof(sys[0]); i++) {
		t = windows_hive(im, base, dir,
				 talloc_asprintf(tmp, "%sSystem32/config",
						 windir), sys[i].file);
		if (!t || !add_mapping(im, sys[i].root, NULL, t))
			goto nomem;
		if (!strcmp(sys[i].file, "SOFTWARE"))
			software = t;
	}
	/* HKCR is HKLM\SOFTWARE\Classes merged with the user's classes;
	 * regedit writes a new key under HKLM's, so does import. */
	if (!add_mapping(im, "HKCR", "Classes", software))
		goto nomem;
	if (im->o->user) {
		const char *u = talloc_asprintf(tmp, "%s/%s", users,
						im->o->user);

		t = windows_hive(im, base, dir, u, "NTUSER.DAT");
		if (!t || !add_mapping(im, "HKCU", NULL, t))
			goto nomem;
		t = windows_hive(im, base, dir,
				 talloc_asprintf(tmp, "%s/AppData/Local/"
						 "Microsoft/Windows", u),
				 "UsrClass.dat");
		if (!t || !add_mapping(im, "HKCU\\Software\\Classes", NULL, t))
			goto nomem;
	} else {
		t = new_target(im, "HKEY_CURRENT_USER");
		if (!t || !add_mapping(im, "HKCU", NULL, t))
			goto nomem;
		t->missing = "no --user NAME was given to say whose "
			     "NTUSER.DAT it is";
	}
	close(base);
	talloc_free(tmp);
	return 0;
nomem:
	close(base);
	report("out of memory");
	return EXIT_HIVE;
}

/*
 * Opens the hives that keys map to; a file mapped under two roots is
 * opened once (its lock would refuse the second open).
 */
static int open_targets(struct import *im)
{
	for (size_t i = 0; i < im->n_targets; i++) {
		struct target *t = im->targets[i];
		const char *why;
		struct stat st;
		hive_key_t sel;
		hive_value_t val;
		int err;

		if (!t->used)
			continue;
		for (size_t j = 0; j < i && stat(t->open_path, &st) == 0;
		     j++) {
			struct target *o = im->targets[j];
			struct stat ost;

			if (!o->h || stat(o->open_path, &ost) ||
			    ost.st_dev != st.st_dev || ost.st_ino != st.st_ino)
				continue;
			/* One hive under two roots: one handle (a second
			 * open would meet the first one's lock). */
			for (size_t m = 0; m < im->n_maps; m++)
				if (im->maps[m].t == t)
					im->maps[m].t = o;
			t->used = false;
			break;
		}
		if (!t->used)
			continue;
		err = hive_open(t, t->open_path, 0, &t->h);
		if (err) {
			char *text = err_text(im->mem, err);

			report("%s: %s", t->path, text ? text : "?");
			return EXIT_HIVE;
		}
		why = hive_read_only_reason(t->h);
		if (why) {
			report("%s: cannot change this hive: %s", t->path, why);
			return EXIT_HIVE;
		}
		if (!hive_key_lookup_path(t->h, hive_root(t->h), "Select",
					  &sel) &&
		    !hive_value_lookup(t->h, sel, (const uint16_t[]){
						   'C', 'u', 'r', 'r', 'e',
						   'n', 't' }, 7, &val)) {
			uint8_t *d;
			size_t len;

			if (!hive_value_data(t, t->h, val, &d, &len) &&
			    len == 4)
				t->control_set = (int)(d[0] | d[1] << 8);
		}
	}
	return 0;
}

/* Commits every changed hive; says which hold the import if one fails. */
static int commit_targets(struct import *im)
{
	size_t failed = (size_t)-1;
	int err = 0;

	for (size_t i = 0; i < im->n_targets; i++) {
		struct target *t = im->targets[i];

		if (!t->h || !hive_is_modified(t->h))
			continue;
		err = hive_save(t->h);
		if (err) {
			char *text = err_text(im->mem, err);

			report("%s: committing the import: %s", t->path,
			       text ? text : "?");
			failed = i;
			break;
		}
	}
	if (failed == (size_t)-1)
		return 0;
	for (size_t i = 0; i < im->n_targets; i++) {
		struct target *t = im->targets[i];

		if (!t->h || !hive_is_modified(t->h) || i == failed)
			continue;
		report("%s: %s", t->path, i < failed ? "the import is committed"
			      : "not changed (its commit was not tried)");
	}
	return EXIT_HIVE;
}

/* ---- the command ---- */

static int import_map(struct cmd_args *a, const char *arg)
{
	struct import_opts *o = a->opts;
	const char **maps = talloc_realloc(a->mem, o->maps, const char *,
					   o->n_maps + 1);

	if (!maps)
		return EXIT_HIVE;
	if (!strchr(arg, '=') || arg[0] == '=' || !strchr(arg, '=')[1])
		return usage_error(a->cmd, "--map takes ROOT=HIVE, not '%s'",
				   arg);
	maps[o->n_maps++] = arg;
	o->maps = maps;
	return 0;
}

static int import_prepare(struct cmd_args *a)
{
	struct import_opts *o = a->opts;
	bool mapped = o->n_maps || o->windows;

	if (o->prefix && mapped)
		return usage_error(a->cmd, "--prefix names one hive; with "
				   "--map or --windows every key is mapped");
	if (o->user && !o->windows)
		return usage_error(a->cmd, "--user needs --windows");
	if (!mapped && a->n_operands < 2)
		return usage_error(a->cmd, "missing FILE.reg (or - for "
				   "standard input)");
	return 0;
}

static int run_import(struct cmd_args *a)
{
	struct import_opts *o = a->opts;
	struct import im = { .mem = a->mem, .o = o };
	bool mapped = o->n_maps || o->windows;
	size_t first = mapped ? 0 : 1;
	int rc;

	im.n_files = (size_t)a->n_operands - first;
	im.files = talloc_zero_array(a->mem, struct reg_input, im.n_files);
	if (!im.files) {
		report("out of memory");
		return EXIT_HIVE;
	}
	talloc_set_destructor(im.files, free_inputs);
	for (size_t i = 0; i < im.n_files; i++) {
		im.files[i].name = a->operands[first + i];
		if (read_input(&im.files[i]))
			return EXIT_HIVE;
	}

	if (!mapped) {
		struct target *t = new_target(&im, a->operands[0]);

		o->prefix_mode = true;

		if (!t || !add_mapping(&im, o->prefix ? o->prefix :
				       REG_DEFAULT_PREFIX, NULL, t))
			goto nomem;
	}
	for (size_t i = 0; i < o->n_maps; i++) {
		char *root = talloc_strdup(a->mem, o->maps[i]);
		char *eq = root ? strchr(root, '=') : NULL;
		struct target *t;

		if (!eq)
			goto nomem;
		*eq = '\0';
		t = new_target(&im, eq + 1);
		if (!t || !add_mapping(&im, root, NULL, t))
			goto nomem;
	}
	if (o->windows) {
		rc = windows_mappings(&im);
		if (rc)
			return rc;
	}
	rc = parse_all(&im);
	if (!rc)
		rc = open_targets(&im);
	if (!rc) {
		im.applying = true;
		rc = parse_all(&im);
	}
	/* The files are applied: their memory is better used by the
	 * commit, which builds each hive's log entry in memory. */
	for (size_t i = 0; i < im.n_files; i++)
		free_input(&im.files[i]);
	if (!rc && !o->dry_run)
		rc = commit_targets(&im);
	if (!rc && o->dry_run) {
		for (size_t i = 0; i < im.n_targets; i++) {
			struct target *t = im.targets[i];

			if (!t->h)
				continue;
			printf("%s: %u key%s added, %u deleted; %u value%s "
			       "set, %u deleted (dry run: nothing written)\n",
			       t->path, t->keys_created,
			       t->keys_created == 1 ? "" : "s",
			       t->keys_deleted, t->values_set,
			       t->values_set == 1 ? "" : "s",
			       t->values_deleted);
		}
	}
	close_targets(&im);
	if (rc)
		return rc;
	return finish_stdout(0);
nomem:
	report("out of memory");
	return EXIT_HIVE;
}

static const struct cmd_opt import_options[] = {
	CMD_STRING('p', "prefix", struct import_opts, prefix),
	{ 'm', "map", true, 0, import_map },
	CMD_STRING('w', "windows", struct import_opts, windows),
	CMD_STRING('u', "user", struct import_opts, user),
	CMD_FLAG('s', "skip-unmapped", struct import_opts, skip_unmapped),
	CMD_FLAG('n', "dry-run", struct import_opts, dry_run),
	{ 0 },
};

const struct cmd cmd_import = {
	.name = "import",
	.synopsis = "[OPTIONS] [HIVE] FILE.reg...",
	.summary = "apply .reg files to hives, as regedit does",
	.help =
	"  hivectl import [-n] [--prefix P] HIVE FILE.reg...\n"
	"  hivectl import [-n] [-s] --map ROOT=HIVE... FILE.reg...\n"
	"  hivectl import [-n] [-s] --windows DIR [--user NAME] FILE.reg...\n"
	"\n"
	"Applies .reg files (- is standard input) in order, as regedit\n"
	"does: [KEY] creates the key and its parents, [-KEY] deletes it with\n"
	"its subtree, \"name\"=DATA and @=DATA set a value (@: the default\n"
	"value), \"name\"=- deletes one.  A key or value to delete that is not\n"
	"there is no error.  A value set to the type and data it has is left\n"
	"alone.  A value line belongs to the [KEY] line above it; before any,\n"
	"or after a [-KEY] line, it is an error.\n"
	"\n"
	"Files: \"Windows Registry Editor Version 5.00\" in UTF-16LE (with or\n"
	"without a byte-order mark) or UTF-8 (with or without), and\n"
	"\"REGEDIT4\" in Windows-1252 (its hex(2) and hex(7) data is ANSI text\n"
	"and becomes UTF-16LE); CRLF or LF; ';' comments; \"strings\" with \\\\\n"
	"and \\\" (another backslash stands for itself); dword: with up to 8\n"
	"significant hex digits; hex: (REG_BINARY) and hex(T): for any type\n"
	"T up to ffffffff, continued over lines ending in '\\'.\n"
	"\n"
	"Where keys go.  HIVE FILE.reg...: every key must begin with the\n"
	"prefix (default " REG_DEFAULT_PREFIX ", export's default), which is\n"
	"taken off; [PREFIX] itself is the hive's root.  --map ROOT=HIVE\n"
	"(repeatable) puts the keys below ROOT into HIVE; the longest ROOT\n"
	"that matches wins.  --windows DIR finds the hives of an offline\n"
	"Windows below DIR (the volume or its Windows folder), ignoring case\n"
	"as NTFS does: HKLM\\SYSTEM, SOFTWARE, SAM, SECURITY in\n"
	"System32/config, HKU\\.DEFAULT in DEFAULT, HKCR in SOFTWARE's\n"
	"Classes, and with --user NAME, HKCU in Users/NAME/NTUSER.DAT and\n"
	"HKCU\\Software\\Classes in its UsrClass.dat.  HKLM, HKCU, HKU, HKCR\n"
	"and HKCC abbreviate the roots everywhere.  Under HKLM\\SYSTEM,\n"
	"CurrentControlSet is the control set that Select\\Current names.\n"
	"A key no mapping covers is an error (--skip-unmapped: listed and\n"
	"skipped with its values).\n"
	"\n"
	"All or nothing: every file is parsed and every hive opened and\n"
	"checked before anything changes; an error (FILE:LINE:COLUMN and\n"
	"what was expected, for a syntax error) changes no hive.  Each\n"
	"hive's changes are one commit through its transaction logs.\n"
	"\n"
	"Options:\n"
	"  -p, --prefix P       what to take off every key (default "
	REG_DEFAULT_PREFIX ";\n"
	"                       '' for files exported with --prefix '')\n"
	"  -m, --map ROOT=HIVE  keys below ROOT go into HIVE\n"
	"  -w, --windows DIR    map the roots onto an offline Windows\n"
	"  -u, --user NAME      whose NTUSER.DAT and UsrClass.dat are HKCU\n"
	"  -s, --skip-unmapped  list and skip keys no mapping covers\n"
	"  -n, --dry-run        print what would change; write nothing\n"
	"  -h, --help           show this help\n"
	"\n"
	"Example: hivectl import --windows /mnt/win --user alice tweak.reg\n"
	"\n"
	"Exit status: 0 imported (or nothing to change), 1 a file or hive\n"
	"could not be read, parsed, changed or committed (no hive changed,\n"
	"unless a later hive's commit failed: then each hive is named with\n"
	"what it holds), 2 usage error.\n",
	.options = import_options,
	.opts_size = sizeof(struct import_opts),
	.operands = { 1, -1, "FILE.reg" },
	.open = CMD_OPEN_NONE,
	.prepare = import_prepare,
	.run = run_import,
};
