/*
 * util.c — what the hivectl commands use in their logic: messages, names
 * for display, key paths and the walk bookkeeping.  Running a command
 * (options, operands, opening and committing) is command.c's.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <talloc.h>

#include "hivectl.h"

void report(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout); /* keep our output and the message in order on a tty */
	fputs("hivectl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

char *err_text(void *mem, int err)
{
	const char *detail = hive_error_detail();

	if (detail && *detail)
		return talloc_asprintf(mem, "%s: %s", hive_strerror(err),
				       detail);
	return talloc_strdup(mem, hive_strerror(err));
}

/* ---- names ---- */

static bool is_high_surrogate(uint16_t c)
{
	return c >= 0xD800 && c <= 0xDBFF;
}

static bool is_low_surrogate(uint16_t c)
{
	return c >= 0xDC00 && c <= 0xDFFF;
}

char *display_name(void *mem, const uint16_t *s, size_t len)
{
	void *tmp = talloc_new(NULL);
	char *out = talloc_strdup(tmp, "");
	size_t i = 0, run = 0;

	/*
	 * Runs of ordinary units are converted in one go; only the units that
	 * would break a line-oriented listing are spelled out.
	 */
	while (out && i < len) {
		uint16_t c = s[i];
		bool pair = is_high_surrogate(c) && i + 1 < len &&
			    is_low_surrogate(s[i + 1]);

		if (pair) {
			i += 2;
			continue;
		}
		if (c >= 0x20 && c != 0x7F && !is_high_surrogate(c) &&
		    !is_low_surrogate(c)) {
			i++;
			continue;
		}
		if (i > run) {
			char *u8 = hive_utf16_to_utf8(tmp, s + run, i - run,
						      NULL, NULL);
			out = u8 ? talloc_strdup_append(out, u8) : NULL;
		}
		if (out && c < 0x80)
			out = talloc_asprintf_append(out, "%%%02X", c);
		else if (out)
			out = talloc_asprintf_append(out, "%%u%04X", c);
		run = ++i;
	}
	if (out && len > run) {
		char *u8 = hive_utf16_to_utf8(tmp, s + run, len - run, NULL,
					      NULL);
		out = u8 ? talloc_strdup_append(out, u8) : NULL;
	}
	out = out ? talloc_steal(mem, out) : NULL;
	talloc_free(tmp);
	return out;
}

/* ---- key paths ---- */

void keypath_init(struct keypath *p, void *mem)
{
	p->mem = mem;
	p->ent = NULL;
	p->n = p->cap = 0;
}

void keypath_truncate(struct keypath *p, size_t n)
{
	while (p->n > n) {
		p->n--;
		talloc_free(p->ent[p->n].name);
		p->ent[p->n].name = NULL;
	}
}

static int keypath_push_name(struct keypath *p, hive_key_t key,
			     uint16_t *name, size_t len)
{
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 16;
		struct keypath_ent *ent = talloc_realloc(p->mem, p->ent,
							 struct keypath_ent,
							 cap);
		if (!ent)
			return HIVE_E_NOMEM;
		p->ent = ent;
		p->cap = cap;
	}
	p->ent[p->n].key = key;
	p->ent[p->n].name = talloc_steal(p->mem, name);
	p->ent[p->n].len = len;
	p->n++;
	return HIVE_OK;
}

int keypath_push(struct keypath *p, struct hive *h, hive_key_t key)
{
	uint16_t *name;
	size_t len;
	int err = hive_key_name(p->mem, h, key, &name, &len);

	if (err)
		return err;
	err = keypath_push_name(p, key, name, len);
	if (err)
		talloc_free(name);
	return err;
}

char *keypath_display(void *mem, const struct keypath *p, size_t n)
{
	/* A leading separator keeps the root (a lone \) visible in messages. */
	char *out = talloc_strdup(mem, n && p->n ? "" : "\\");

	for (size_t i = 0; out && i < n && i < p->n; i++) {
		char *part = display_name(out, p->ent[i].name, p->ent[i].len);

		if (!part)
			return NULL;
		out = talloc_asprintf_append(out, "\\%s", part);
	}
	return out;
}

int resolve_key(struct hive *h, const char *hive_path, const char *key_arg,
		struct keypath *path, hive_key_t *out)
{
	void *tmp = talloc_new(NULL);
	hive_key_t key = hive_root(h);
	char *copy = talloc_strdup(tmp, key_arg);
	char *save = NULL;
	int err = copy ? HIVE_OK : HIVE_E_NOMEM;

	/* Empty components are ignored, as hive_key_lookup_path() does. */
	for (char *comp = copy ? strtok_r(copy, "\\", &save) : NULL;
	     !err && comp; comp = strtok_r(NULL, "\\", &save)) {
		err = hive_key_lookup_path(h, key, comp, &key);
		if (!err)
			err = keypath_push(path, h, key);
	}
	if (err) {
		char *text = err_text(tmp, err);

		if (err == HIVE_E_NOT_FOUND)
			report("%s: %s: no such key", hive_path, key_arg);
		else
			report("%s: %s: %s", hive_path, key_arg,
			       text ? text : hive_strerror(err));
	} else {
		*out = key;
	}
	talloc_free(tmp);
	return err;
}

int resolve_key_create(struct hive *h, const char *hive_path,
		       const char *key_arg, bool create, hive_key_t *out,
		       unsigned *created)
{
	void *tmp = talloc_new(NULL);
	hive_key_t key = hive_root(h);
	char *copy = talloc_strdup(tmp, key_arg);
	char *save = NULL, *comp;
	int err = copy ? HIVE_OK : HIVE_E_NOMEM;

	if (created)
		*created = 0;
	for (comp = copy ? strtok_r(copy, "\\", &save) : NULL;
	     !err && comp; comp = strtok_r(NULL, "\\", &save)) {
		hive_key_t child = HIVE_NO_CELL;
		uint16_t *name;
		size_t len;

		err = hive_utf8_to_utf16(tmp, comp, strlen(comp), &name, &len);
		if (!err)
			err = hive_key_lookup(h, key, name, len, &child);
		if (err == HIVE_E_NOT_FOUND && create) {
			err = hive_key_create(h, key, name, len, &child);
			if (!err && created)
				(*created)++;
		}
		if (err)
			break;
		key = child;
	}
	if (err) {
		char *text = err_text(tmp, err);
		/* Name the failed component when it is not the last one. */
		const char *at = comp && save &&
				 save[strspn(save, "\\")] ? comp : NULL;

		if (err == HIVE_E_NOT_FOUND)
			report("%s: %s: no such key%s%s%s", hive_path, key_arg,
			       at ? " ('" : "", at ? at : "",
			       at ? "' is missing)" : "");
		else
			report("%s: %s: %s%s%s%s", hive_path, key_arg,
			       at ? "at '" : "", at ? at : "", at ? "': " : "",
			       text ? text : hive_strerror(err));
	} else {
		*out = key;
	}
	talloc_free(tmp);
	return err;
}

bool split_key_arg(void *mem, const char *key_arg, char **parent,
		   char **leaf)
{
	size_t end = strlen(key_arg), start;

	while (end > 0 && key_arg[end - 1] == '\\')
		end--;
	if (end == 0)
		return false;
	for (start = end; start > 0 && key_arg[start - 1] != '\\'; start--)
		;
	*parent = talloc_strndup(mem, key_arg, start);
	*leaf = talloc_strndup(mem, key_arg + start, end - start);
	return *parent && *leaf;
}

int value_name_arg(void *mem, const char *arg, bool literal, uint16_t **name,
		   size_t *len)
{
	if (!literal && strcmp(arg, "@") == 0)
		arg = "";
	return hive_utf8_to_utf16(mem, arg, strlen(arg), name, len);
}

const char *key_display(const char *arg)
{
	return arg[strspn(arg, "\\")] ? arg : "\\";
}

const char *value_display(size_t len, const char *arg)
{
	return len ? arg : "(default)";
}

void walk_paths_init(struct walk_paths *w, void *mem, struct hive *h,
		     hive_key_t start, const struct keypath *base)
{
	w->h = h;
	w->start = start;
	keypath_init(&w->path, mem);
	w->base = 0;
	w->skipping = false;
	w->skip_below = 0;
	for (size_t i = 0; base && i < base->n; i++) {
		size_t len = base->ent[i].len;
		uint16_t *name = talloc_array(mem, uint16_t, len ? len : 1);

		if (name)
			memcpy(name, base->ent[i].name, len * 2);
		if (name && keypath_push_name(&w->path, base->ent[i].key, name,
					      base->ent[i].len) == HIVE_OK)
			w->base++;
	}
}

bool walk_paths_enter(struct walk_paths *w, hive_key_t key, unsigned depth,
		      int *err)
{
	*err = HIVE_OK;
	if (w->skipping && depth > w->skip_below)
		return false;
	w->skipping = false;
	if (depth == 0) {
		keypath_truncate(&w->path, w->base);
		return true;
	}
	keypath_truncate(&w->path, w->base + depth - 1);
	if (w->path.n != w->base + depth - 1) {
		/* An ancestor was never entered; nothing sensible to name. */
		*err = HIVE_E_CORRUPT;
		return false;
	}
	*err = keypath_push(&w->path, w->h, key);
	if (*err) {
		walk_paths_skip(w, depth);
		return false;
	}
	return true;
}

void walk_paths_skip(struct walk_paths *w, unsigned depth)
{
	w->skipping = true;
	w->skip_below = depth;
}

size_t walk_paths_error(struct walk_paths *w, hive_key_t parent,
			unsigned depth, hive_key_t child, const char **what)
{
	size_t at = w->base + depth; /* path entries up to `parent` */

	if (depth > 0 && (w->path.n < at || w->path.ent[at - 1].key != parent))
		at = w->path.n < at ? w->path.n : at; /* parent never entered */
	keypath_truncate(&w->path, at);
	/*
	 * Name the child that could not be entered (a cycle, too deep, a
	 * damaged record) when its name can still be read; otherwise the
	 * parent's path is the best we can give.
	 */
	if (child == HIVE_NO_CELL)
		*what = "subkey list";
	else if (keypath_push(&w->path, w->h, child) == HIVE_OK)
		*what = "key";
	else
		*what = "subkey";
	return w->path.n;
}

/* ---- deleting ---- */

struct rm_frame {
	hive_key_t key;
	hive_key_t *kids; /* not yet deleted: kids[0 .. n-1] */
	size_t n;
};

/*
 * Children before parents, with an explicit stack bounded by the depth
 * limit (a damaged hive could hold a cycle; it is refused before anything
 * on it is deleted, since a cycle has no key without subkeys to start
 * from).  Subkeys are taken from the end
 * of each list, which is the cheapest end to remove from.
 */
int delete_subtree(struct hive *h, hive_key_t top, unsigned *deleted)
{
	void *tmp = talloc_new(NULL);
	struct rm_frame *st = talloc_array(tmp, struct rm_frame,
					   HIVE_MAX_DEPTH + 2);
	size_t depth = 0;
	int err = st ? HIVE_OK : HIVE_E_NOMEM;

	if (!err) {
		st[0].key = top;
		err = hive_key_subkeys(tmp, h, top, &st[0].kids, &st[0].n);
	}
	while (!err) {
		struct rm_frame *f = &st[depth];

		if (f->n > 0) {
			hive_key_t child = f->kids[--f->n];

			if (depth + 1 > HIVE_MAX_DEPTH) {
				err = HIVE_E_TOO_BIG;
				report("subtree deeper than %u keys (or a "
				       "key cycle): nothing deleted",
				       HIVE_MAX_DEPTH);
				break;
			}
			depth++;
			st[depth].key = child;
			err = hive_key_subkeys(tmp, h, child, &st[depth].kids,
					       &st[depth].n);
			continue;
		}
		err = hive_key_delete(h, f->key);
		if (err)
			break;
		(*deleted)++;
		talloc_free(f->kids);
		if (depth == 0)
			break;
		depth--;
	}
	talloc_free(tmp);
	return err;
}

/* ---- misc ---- */

char *filetime_iso(void *mem, uint64_t ft)
{
	/* FILETIME counts 100 ns ticks from 1601-01-01; Unix time from 1970. */
	const int64_t epoch_diff = 11644473600LL;
	int64_t secs = (int64_t)(ft / 10000000u) - epoch_diff;
	unsigned frac = (unsigned)(ft % 10000000u);
	time_t t = (time_t)secs;
	struct tm tm;

	if (!gmtime_r(&t, &tm))
		return talloc_asprintf(mem, "(FILETIME 0x%016llx)",
				       (unsigned long long)ft);
	return talloc_asprintf(mem, "%04d-%02d-%02dT%02d:%02d:%02d.%07uZ",
			       tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
			       tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
}

char *type_text(void *mem, uint32_t type)
{
	const char *name = hive_type_name(type);

	if (name)
		return talloc_strdup(mem, name);
	return talloc_asprintf(mem, "0x%08x", type);
}
