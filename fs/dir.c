/*
 * dir.c — directory listings and name resolution.
 *
 * A key's directory holds its subkeys (in subkey-list order) and then its
 * values (in value-list order), each under its encoded name (names.c).  A
 * sound hive needs nothing more.  For the rest, the listing decides:
 *
 *  - A value whose name equals a subkey's name under Windows' case rules
 *    is NAME%v (the default value "@" clashes with a subkey named "@").
 *  - Entries of one kind whose names are equal under those rules (damaged
 *    lists: a subkey listed twice, two values "a" and "A") would be one
 *    name for two entries; the first in list order keeps the name, the
 *    N-th becomes NAME%~N.
 *  - Names too long for the kernel, or empty, get their shortened form.
 *  - An entry that cannot be read at all (its nk or vk record is damaged)
 *    is listed as %~damaged-subkey-I or %~damaged-value-I (I = its
 *    1-based position in the list), and a whole list that cannot be read as
 *    %~damaged-subkeys or %~damaged-values.  Those names give EIO, so the
 *    damage is visible and confined while the rest of the directory lists.
 *  - A key or value a damaged list names more than once (the same cell
 *    again) is one entry: it is listed once, at its first place.  A
 *    directory cannot hold one file twice, and listing it again under
 *    another name would make `find` walk the same subtree once per repeat
 *    (the engine already skips an ri index's repeated leaves, see
 *    hive/key.c), so a list costs its size, never its repeats.
 *    `hivectl check` reports the repeats; `hivectl ls` prints the list as
 *    stored.
 *
 * Marked values.  The file name NAME%v always stands for value NAME, so
 * that a copy of a key holding both a subkey and a value NAME gives the
 * same hive in whichever order the copying tool makes the two (cp -a goes
 * by inode numbers).  Made before the subkey, value NAME would be listed,
 * and found, as NAME -- and `mkdir NAME` would then fail with EEXIST in
 * the kernel, which sees NAME taken.  So a value made through NAME%v
 * while no subkey NAME exists is marked: for the life of the mount (and
 * until a subkey NAME makes the mark moot, value_marks_prune) it lists as
 * NAME%v and NAME does not reach it.  A mark holds the key and vk cells
 * and the name, and counts only while the key's value of that name is
 * still that cell, so a stale mark cannot mislabel another value; at
 * most VALUE_MARKS_MAX are kept (a copy needs each for an instant).
 *
 * -o typenames (struct dir_names.typed).  A value's file name carries its
 * type: NAME.TYPE, and NAME.TYPE.raw where the file shows the data bytes
 * (names.h).  The listing reads each value's type, and the data of those
 * whose type has a text form; NAME.TYPE%v is for a subkey named
 * NAME.TYPE.  A lookup of NAME.TYPE (or NAME.TYPE.raw) finds value NAME
 * only while it has TYPE; a name without a type suffix finds the value of
 * that whole name whatever its type (it is not its listed name, so the
 * kernel does not keep it), which is how the temporary files of editors,
 * sed -i and rsync, made under such names, can be renamed over a value.
 *
 * Resolution agrees with the listing: a name resolves to the entry listed
 * under exactly that name, or else to the first entry whose listed name is
 * equal under Windows' upcase (subkeys before values); the "%~" forms only
 * exactly; NAME%v only values (listed as NAME%v, or else as NAME).  When a key has no renamed duplicates this is what the engine's
 * lookups do, so dir_resolve() uses them and needs no listing.  Otherwise a
 * listing answers from hash indexes (exact names at once, names equal
 * under upcase when first asked), so looking up every entry of a large
 * directory costs its size, not its square.
 */
#define _GNU_SOURCE /* qsort_r */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <talloc.h>

#include "dir.h"

/* ---- marked values ---- */

#define VALUE_MARKS_MAX 4096

struct value_mark {
	uint32_t key, cell;
	uint16_t *name;
	size_t len;
};

struct value_marks {
	struct value_mark *v;
	size_t n;
};

/*
 * The name a value's file name can clash on, on mem: "@" for the default
 * value, and with -o typenames the type suffix after it; none (false)
 * for a value named "@", listed as "%40", which no key's name can be.
 */
static bool value_clash_name(void *mem, bool typed, const uint16_t *u,
			     size_t len, uint32_t type, uint16_t **name,
			     size_t *name_len)
{
	char suffix[NAME_TYPE_SUFFIX_MAX];
	size_t n = 0, slen = 0;
	uint16_t *out;

	if (len == 1 && u[0] == '@')
		return false;
	if (typed) {
		/* (Without ".raw": a subkey named NAME.TYPE.raw beside a
		 * value NAME shown raw wins that name; NAME.TYPE still
		 * reaches the value.) */
		name_type_suffix(type, false, suffix);
		slen = strlen(suffix);
	}
	out = talloc_array(mem, uint16_t, (len ? len : 1) + slen + 1);
	if (!out)
		return false;
	if (len) {
		memcpy(out, u, len * sizeof(*u));
		n = len;
	} else {
		out[n++] = '@';
	}
	for (size_t i = 0; i < slen; i++)
		out[n++] = (uint8_t)suffix[i];
	*name = out;
	*name_len = n;
	return true;
}

/* Is value `u` (of `type`) of `key` listed with %v for a subkey's name? */
static bool subkey_named(const struct dir_names *dn, struct hive *h,
			 hive_key_t key, const uint16_t *u, size_t len,
			 uint32_t type)
{
	void *tmp = talloc_new(NULL);
	uint16_t *clash;
	size_t clash_len;
	hive_key_t child;
	bool named = tmp &&
		     value_clash_name(tmp, dn && dn->typed, u, len, type, &clash,
				      &clash_len) &&
		     hive_key_lookup(h, key, clash, clash_len, &child) == HIVE_OK;

	talloc_free(tmp);
	return named;
}

static uint32_t value_type(struct hive *h, hive_value_t cell)
{
	struct hive_value_stat vs;

	return hive_value_stat(h, cell, &vs) == HIVE_OK ? vs.type : 0;
}

/* -o typenames: is value `cell` of `type` shown raw although the type has
 * a text form (its name then ends in ".raw")?  As view.c decides. */
static bool value_shown_raw(const struct dir_names *dn, struct hive *h,
			    hive_value_t cell, uint32_t type)
{
	void *tmp;
	uint8_t *data;
	size_t len;
	bool raw = false;

	if (dn->raw_all || !hive_type_has_text(type))
		return false;
	tmp = talloc_new(NULL);
	if (tmp && hive_value_data(tmp, h, cell, &data, &len) == HIVE_OK)
		raw = hive_text_render(type, data, len, NULL) == SIZE_MAX;
	talloc_free(tmp);
	return raw;
}

/* Is mark m still what it marked: the key's value of its name, and no
 * subkey of that name? */
static bool mark_holds(const struct dir_names *dn, struct hive *h,
		       const struct value_mark *m)
{
	hive_value_t now;

	return hive_value_lookup(h, m->key, m->name, m->len, &now) == HIVE_OK &&
	       now == m->cell &&
	       !subkey_named(dn, h, m->key, m->name, m->len,
			     value_type(h, m->cell));
}

static void drop_mark(struct value_marks *marks, size_t i)
{
	talloc_free(marks->v[i].name);
	marks->v[i] = marks->v[--marks->n];
}

int value_mark(void *mem, struct dir_names *dn, struct hive *h,
	       hive_key_t key, hive_value_t cell)
{
	struct value_marks *m = dn->marks;
	struct value_mark *x;
	uint16_t *name;
	size_t len;
	int err;

	if (!m) {
		m = talloc_zero(mem, struct value_marks);
		if (!m)
			return HIVE_E_NOMEM;
		m->v = talloc_array(m, struct value_mark, VALUE_MARKS_MAX);
		if (!m->v) {
			talloc_free(m);
			return HIVE_E_NOMEM;
		}
		dn->marks = m;
	}
	err = hive_value_name(m, h, cell, &name, &len);
	if (err)
		return err;
	if (subkey_named(dn, h, key, name, len, value_type(h, cell))) {
		talloc_free(name);
		return HIVE_OK;
	}
	value_unmark(dn, key, cell);
	/* Full: one goes (the first; the order is not kept). */
	if (m->n == VALUE_MARKS_MAX)
		drop_mark(m, 0);
	x = &m->v[m->n++];
	x->key = key;
	x->cell = cell;
	x->name = name;
	x->len = len;
	return HIVE_OK;
}

void value_unmark(struct dir_names *dn, hive_key_t key, hive_value_t cell)
{
	struct value_marks *marks = dn->marks;

	for (size_t i = 0; marks && i < marks->n; i++)
		if (marks->v[i].key == key && marks->v[i].cell == cell)
			drop_mark(marks, i--);
}

void value_marks_key_moved(struct dir_names *dn, hive_key_t from,
			   hive_key_t to)
{
	struct value_marks *marks = dn->marks;

	for (size_t i = 0; marks && i < marks->n; i++)
		if (marks->v[i].key == from)
			marks->v[i].key = to;
}

void value_marks_prune(struct dir_names *dn, struct hive *h, hive_key_t key)
{
	struct value_marks *marks = dn->marks;

	for (size_t i = 0; marks && i < marks->n; i++)
		if (marks->v[i].key == key && !mark_holds(dn, h, &marks->v[i]))
			drop_mark(marks, i--);
}

static bool is_marked(const struct dir_names *dn, struct hive *h,
		      hive_key_t key, hive_value_t cell)
{
	const struct value_marks *marks = dn ? dn->marks : NULL;

	for (size_t i = 0; marks && i < marks->n; i++)
		if (marks->v[i].key == key && marks->v[i].cell == cell)
			return mark_holds(dn, h, &marks->v[i]);
	return false;
}

/*
 * The names of one list, read once: the units of all names sit in one
 * array, so a listing of thousands of entries is a few allocations.
 */
struct item {
	uint32_t cell;
	uint32_t pos;       /* 1-based place in the stored list */
	uint32_t off, len;  /* the name: units[off .. off + len) */
	uint32_t ordinal;   /* 1 for the first of equal names, 2, 3 ... */
	uint32_t type;      /* a value's, with -o typenames */
	bool raw;           /* ... shown raw: NAME.TYPE.raw */
	bool readable;
	bool clash;         /* a value named like a subkey */
};

struct items {
	struct item *v;
	size_t n;
	uint16_t *units;
	size_t nunits, cap;
	int list_err;       /* the list itself could not be read */
};

static const uint16_t *name_of(const struct items *it, const struct item *x)
{
	return it->units + x->off;
}

static int compare_items(const void *a, const void *b, void *arg)
{
	const struct items *it = arg;
	const struct item *x = &it->v[*(const size_t *)a];
	const struct item *y = &it->v[*(const size_t *)b];
	int cmp = hive_name_compare(name_of(it, x), x->len, name_of(it, y),
				    y->len);

	if (cmp)
		return cmp;
	/* Equal names keep list order, so the first listed stays first. */
	return *(const size_t *)a < *(const size_t *)b ? -1 : 1;
}

static int same_names(const struct items *it, size_t i, size_t j)
{
	return hive_name_compare(name_of(it, &it->v[i]), it->v[i].len,
				 name_of(it, &it->v[j]), it->v[j].len);
}

/*
 * The readable items in name order (on mem), with the ordinals of equal
 * names set.  Subkey lists are sorted already in a sound hive, so they
 * skip the sort.
 */
static size_t *order_items(void *mem, struct items *it, size_t *count)
{
	size_t *idx = talloc_array(mem, size_t, it->n + 1);
	size_t m = 0;
	bool sorted = true;

	if (!idx)
		return NULL;
	for (size_t i = 0; i < it->n; i++) {
		if (!it->v[i].readable)
			continue;
		if (m && same_names(it, idx[m - 1], i) >= 0)
			sorted = false;
		idx[m++] = i;
	}
	if (!sorted)
		qsort_r(idx, m, sizeof(*idx), compare_items, it);
	for (size_t k = 0; k < m; k++)
		it->v[idx[k]].ordinal =
			k && same_names(it, idx[k - 1], idx[k]) == 0
				? it->v[idx[k - 1]].ordinal + 1
				: 1;
	*count = m;
	return idx;
}

/* Is there a subkey named `name` among the ordered keys? */
static bool has_key_named(const struct items *keys, const size_t *order,
			  size_t n, const uint16_t *name, size_t len)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct item *k = &keys->v[order[mid]];
		int cmp = hive_name_compare(name, len, name_of(keys, k), k->len);

		if (cmp == 0)
			return true;
		if (cmp < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return false;
}

/* The name a listed value's file name can clash on (value_clash_name). */
static bool clash_name(void *mem, const struct dir_names *dn,
		       const struct items *vals, const struct item *v,
		       uint16_t **name, size_t *len)
{
	return value_clash_name(mem, dn && dn->typed, name_of(vals, v), v->len,
				v->type, name, len);
}

static int append_units(void *mem, struct items *it, const uint16_t *u,
			size_t len)
{
	if (len == 0)
		return HIVE_OK;
	if (it->nunits + len > it->cap) {
		size_t cap = (it->nunits + len) * 2;
		uint16_t *grown = talloc_realloc(mem, it->units, uint16_t, cap);

		if (!grown)
			return HIVE_E_NOMEM;
		it->units = grown;
		it->cap = cap;
	}
	memcpy(it->units + it->nunits, u, len * sizeof(*u));
	it->nunits += len;
	return HIVE_OK;
}

/* Slots for `n` keys in an open-addressing table: a power of two, at
 * least twice n. */
static size_t table_size(size_t n)
{
	size_t size = 16;

	while (size < 2 * n)
		size *= 2;
	return size;
}

static size_t mix32(uint32_t x)
{
	return (size_t)(x * 0x9E3779B1u) ^ (x >> 16);
}

/*
 * Leave out the cells a damaged list names again (see the top): cells[]
 * keeps the first of each, in list order, and pos[] their places.  One
 * pass with a table of the cells seen.  Returns the count kept, or
 * SIZE_MAX when out of memory.
 */
static size_t drop_repeats(void *mem, uint32_t *cells, uint32_t *pos, size_t n)
{
	size_t mask = table_size(n) - 1, kept = 0;
	uint64_t *seen = talloc_zero_array(mem, uint64_t, mask + 1);

	if (!seen)
		return SIZE_MAX;
	for (size_t i = 0; i < n; i++) {
		size_t s = mix32(cells[i]) & mask;
		bool repeat = false;

		/* Slots hold cell + 1; 0 is empty. */
		for (; seen[s]; s = (s + 1) & mask) {
			if (seen[s] == (uint64_t)cells[i] + 1) {
				repeat = true;
				break;
			}
		}
		if (repeat)
			continue;
		seen[s] = (uint64_t)cells[i] + 1;
		pos[kept] = (uint32_t)(i + 1);
		cells[kept++] = cells[i];
	}
	talloc_free(seen);
	return kept;
}

/* The subkeys or values of a key with their names.  A damaged list is
 * it->list_err; a damaged entry is an unreadable item. */
static int read_items(void *mem, struct hive *h, hive_key_t key,
		      enum name_ns ns, const struct dir_names *typed,
		      struct items *it)
{
	uint32_t *cells, *pos;
	int err;

	memset(it, 0, sizeof(*it));
	err = ns == NAME_KEY ? hive_key_subkeys(mem, h, key, &cells, &it->n)
			     : hive_key_values(mem, h, key, &cells, &it->n);
	if (err) {
		it->n = 0;
		it->list_err = err;
		return err == HIVE_E_NOMEM ? err : HIVE_OK;
	}
	pos = talloc_array(mem, uint32_t, it->n + 1);
	if (!pos)
		return HIVE_E_NOMEM;
	it->n = drop_repeats(mem, cells, pos, it->n);
	if (it->n == SIZE_MAX)
		return HIVE_E_NOMEM;
	it->v = talloc_zero_array(mem, struct item, it->n + 1);
	if (!it->v)
		return HIVE_E_NOMEM;
	for (size_t i = 0; i < it->n; i++) {
		struct item *x = &it->v[i];
		uint16_t *name;
		size_t len;

		x->cell = cells[i];
		x->pos = pos[i];
		err = ns == NAME_KEY ? hive_key_name(mem, h, x->cell, &name, &len)
				     : hive_value_name(mem, h, x->cell, &name, &len);
		if (!err && typed) {
			struct hive_value_stat vs;

			err = hive_value_stat(h, x->cell, &vs);
			if (err) {
				talloc_free(name);
			} else {
				x->type = vs.type;
				x->raw = value_shown_raw(typed, h, x->cell,
							 vs.type);
			}
		}
		if (err == HIVE_E_NOMEM)
			return err;
		if (err)
			continue;
		x->readable = true;
		x->off = (uint32_t)it->nunits;
		x->len = (uint32_t)len;
		err = append_units(mem, it, name, len);
		talloc_free(name);
		if (err)
			return err;
	}
	talloc_free(cells);
	talloc_free(pos);
	return HIVE_OK;
}

/* The file names of a listing, in one growing string buffer. */
struct name_buf {
	char *s;
	size_t len, cap;
};

static int put_name(void *mem, struct name_buf *b, struct dir_entry *e,
		    const char *name)
{
	size_t n = strlen(name) + 1;

	if (b->len + n > b->cap) {
		size_t cap = (b->len + n) * 2;
		char *grown = talloc_realloc(mem, b->s, char, cap);

		if (!grown)
			return HIVE_E_NOMEM;
		b->s = grown;
		b->cap = cap;
	}
	memcpy(b->s + b->len, name, n);
	e->name = (const char *)(uintptr_t)b->len; /* an offset until done */
	b->len += n;
	return HIVE_OK;
}

/* The file name of a readable item: encoding, suffixes, shortening. */
static char *item_file_name(void *mem, const struct items *it,
			    const struct item *x, enum name_ns ns, bool typed,
			    bool *synthetic)
{
	char *name = name_encode(mem, name_of(it, x), x->len, ns);
	char suffix[NAME_TYPE_SUFFIX_MAX];
	char *shortened;

	if (name && typed && ns == NAME_VALUE) {
		name_type_suffix(x->type, x->raw, suffix);
		name = talloc_strdup_append(name, suffix);
	}
	if (name && x->clash)
		name = talloc_strdup_append(name, "%v");
	if (name && x->ordinal > 1)
		name = talloc_asprintf_append(name, "%%~%u", x->ordinal);
	if (!name)
		return NULL;
	*synthetic = x->ordinal > 1;
	shortened = name_shorten(mem, name, strlen(name));
	if (shortened) {
		*synthetic = true;
		return shortened;
	}
	return name;
}

static int add_entries(void *tmp, struct listing *l, struct name_buf *b,
		       const struct items *it, enum name_ns ns, bool typed)
{
	const char *what = ns == NAME_KEY ? "subkey" : "value";
	char damaged[64];
	int err = HIVE_OK;

	if (it->list_err) {
		struct dir_entry *e = &l->ent[l->count++];

		e->kind = ENTRY_DAMAGED;
		e->cell = HIVE_NO_CELL;
		e->synthetic = true;
		snprintf(damaged, sizeof(damaged), "%%~damaged-%ss", what);
		return put_name(l, b, e, damaged);
	}
	for (size_t i = 0; i < it->n && !err; i++) {
		const struct item *x = &it->v[i];
		struct dir_entry *e = &l->ent[l->count++];
		char *name;

		e->cell = x->cell;
		if (!x->readable) {
			e->kind = ENTRY_DAMAGED;
			e->synthetic = true;
			snprintf(damaged, sizeof(damaged), "%%~damaged-%s-%u",
				 what, x->pos);
			err = put_name(l, b, e, damaged);
			continue;
		}
		e->kind = ns == NAME_KEY ? ENTRY_KEY : ENTRY_VALUE;
		if (x->ordinal > 1)
			l->aliases = true;
		name = item_file_name(tmp, it, x, ns, typed, &e->synthetic);
		err = name ? put_name(l, b, e, name) : HIVE_E_NOMEM;
		talloc_free(name);
	}
	return err;
}

/*
 * A listing with its lookup indexes.  The public part comes first, so a
 * struct listing * is the talloc pointer of the whole.  Slots hold an
 * entry's index + 1 (0 is empty).
 */
struct indexed_listing {
	struct listing pub;
	size_t mask;
	uint32_t *exact;   /* by file name; the first entry of each name */
	uint32_t *folded;  /* non-synthetic entries by hive_name_hash(name);
			      made at the first lookup that needs it */
	uint32_t *fold_hash; /* per entry */
};

/* FNV-1a of a file name. */
static size_t name_hash_bytes(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return mix32(h);
}

static int index_exact(struct indexed_listing *il)
{
	const struct listing *l = &il->pub;

	il->mask = table_size(l->count) - 1;
	il->exact = talloc_zero_array(il, uint32_t, il->mask + 1);
	if (!il->exact)
		return HIVE_E_NOMEM;
	for (size_t i = 0; i < l->count; i++) {
		size_t s = name_hash_bytes(l->ent[i].name) & il->mask;
		bool taken = false;

		for (; il->exact[s]; s = (s + 1) & il->mask) {
			if (strcmp(l->ent[il->exact[s] - 1].name,
				   l->ent[i].name) == 0) {
				taken = true;
				break;
			}
		}
		if (!taken)
			il->exact[s] = (uint32_t)(i + 1);
	}
	return HIVE_OK;
}

static int index_folded(void *tmp, struct indexed_listing *il)
{
	const struct listing *l = &il->pub;
	uint32_t *folded = talloc_zero_array(il, uint32_t, il->mask + 1);
	uint32_t *hashes = talloc_array(il, uint32_t, l->count + 1);

	if (!folded || !hashes) {
		talloc_free(folded);
		talloc_free(hashes);
		return HIVE_E_NOMEM;
	}
	for (size_t i = 0; i < l->count; i++) {
		const char *name = l->ent[i].name;
		uint16_t *u;
		size_t ulen, s;

		if (l->ent[i].synthetic ||
		    hive_utf8_to_utf16(tmp, name, strlen(name), &u, &ulen))
			continue;
		hashes[i] = hive_name_hash(u, ulen);
		talloc_free(u);
		for (s = mix32(hashes[i]) & il->mask; folded[s];
		     s = (s + 1) & il->mask)
			;
		folded[s] = (uint32_t)(i + 1);
	}
	il->folded = folded;
	il->fold_hash = hashes;
	return HIVE_OK;
}

int listing_build(void *mem, struct hive *h, const struct dir_names *dn,
		  hive_key_t key, struct listing **out)
{
	struct indexed_listing *il = NULL;
	void *tmp = talloc_new(NULL);
	struct hive_key_stat st;
	struct items keys, vals;
	struct name_buf names = { NULL, 0, 0 };
	size_t nkey_order = 0, nval_order = 0;
	size_t *key_order, *val_order;
	struct listing *l = NULL;
	int err;

	if (!tmp)
		return HIVE_E_NOMEM;
	err = hive_key_stat(h, key, &st);
	if (!err)
		err = read_items(tmp, h, key, NAME_KEY, NULL, &keys);
	if (!err)
		err = read_items(tmp, h, key, NAME_VALUE,
				 dn && dn->typed ? dn : NULL, &vals);
	if (err)
		goto done;
	key_order = order_items(tmp, &keys, &nkey_order);
	val_order = order_items(tmp, &vals, &nval_order);
	il = talloc_zero(tmp, struct indexed_listing);
	l = il ? &il->pub : NULL;
	if (l)
		l->ent = talloc_zero_array(il, struct dir_entry,
					   keys.n + vals.n + 2);
	if (!key_order || !val_order || !l || !l->ent) {
		err = HIVE_E_NOMEM;
		goto done;
	}
	for (size_t i = 0; i < vals.n; i++) {
		uint16_t *name;
		size_t len;

		if (vals.v[i].readable &&
		    clash_name(tmp, dn, &vals, &vals.v[i], &name, &len)) {
			vals.v[i].clash = has_key_named(&keys, key_order,
							nkey_order, name, len) ||
					  is_marked(dn, h, key, vals.v[i].cell);
			talloc_free(name);
		}
	}
	err = add_entries(tmp, l, &names, &keys, NAME_KEY, false);
	if (!err)
		err = add_entries(tmp, l, &names, &vals, NAME_VALUE,
				  dn && dn->typed);
	if (err)
		goto done;
	/* The buffer has stopped moving: offsets become pointers. */
	for (size_t i = 0; i < l->count; i++)
		l->ent[i].name = names.s + (uintptr_t)l->ent[i].name;
	err = index_exact(il);
	if (err)
		goto done;
	*out = talloc_steal(mem, l);
done:
	talloc_free(tmp);
	return err;
}

/* ---- resolution ---- */

bool dir_has_value_mark(const char *name)
{
	size_t len = strlen(name);

	return len > 2 && name[len - 2] == '%' &&
	       (name[len - 1] == 'v' || name[len - 1] == 'V');
}

/* A value's file name taken apart: NAME[.TYPE][%v]. */
struct value_file_name {
	size_t stem_len; /* bytes of NAME */
	bool marked;     /* ends in %v */
	bool typed;      /* .TYPE given (-o typenames) */
	bool raw;        /* .TYPE.raw */
	uint32_t type;
};

static void split_value_name(const struct dir_names *dn, const char *name,
			     struct value_file_name *vf)
{
	size_t len = strlen(name), suffix = 0;

	vf->marked = dir_has_value_mark(name);
	if (vf->marked)
		len -= 2;
	if (dn && dn->typed)
		suffix = name_type_suffix_len(name, len, &vf->type, &vf->raw);
	if (!suffix)
		vf->raw = false;
	vf->typed = suffix > 0;
	vf->stem_len = len - suffix;
}

/* The engine's lookups, for a key without renamed duplicates. */
static int resolve_direct(void *tmp, struct hive *h,
			  const struct dir_names *dn, hive_key_t key,
			  const char *name, struct dir_entry *found)
{
	size_t len = strlen(name), ulen;
	struct value_file_name vf;
	uint16_t *u;
	hive_key_t child;
	int err;

	split_value_name(dn, name, &vf);
	/* NAME%v is value NAME, listed so or not (see the top); a key is
	 * named without it, and without a type. */
	if (!vf.marked && name_decode(tmp, name, len, NAME_KEY, &u, &ulen) == 0) {
		err = hive_key_lookup(h, key, u, ulen, &child);
		if (err == HIVE_OK) {
			found->kind = ENTRY_KEY;
			found->cell = child;
			return HIVE_OK;
		}
		if (err != HIVE_E_NOT_FOUND)
			return err;
	}
	if (name_decode(tmp, name, vf.stem_len, NAME_VALUE, &u, &ulen))
		return HIVE_E_NOT_FOUND;
	err = hive_value_lookup(h, key, u, ulen, &found->cell);
	/* NAME.TYPE is value NAME only while it has that type. */
	if (err == HIVE_OK && vf.typed && value_type(h, found->cell) != vf.type)
		err = HIVE_E_NOT_FOUND;
	if (err == HIVE_OK && !vf.marked && is_marked(dn, h, key, found->cell))
		err = HIVE_E_NOT_FOUND; /* listed, and reached, as NAME%v */
	if (err == HIVE_OK)
		found->kind = ENTRY_VALUE;
	return err;
}

/* Equal under Windows' upcase, compared as UTF-16 of the file names. */
static bool same_name_nocase(void *tmp, const uint16_t *u, size_t ulen,
			     const char *listed)
{
	uint16_t *v;
	size_t vlen;
	bool same;

	if (hive_utf8_to_utf16(tmp, listed, strlen(listed), &v, &vlen))
		return false;
	same = hive_name_compare(u, ulen, v, vlen) == 0;
	talloc_free(v);
	return same;
}

static int resolve_in_listing(void *tmp, const struct listing *l,
			      const char *name, bool values_only,
			      struct dir_entry *found)
{
	/* Every listing comes from listing_build(), with its indexes. */
	struct indexed_listing *il = (struct indexed_listing *)l;
	size_t best = SIZE_MAX, s;
	uint32_t hash;
	uint16_t *u;
	size_t ulen;
	int err;

	for (s = name_hash_bytes(name) & il->mask; il->exact[s];
	     s = (s + 1) & il->mask) {
		if (strcmp(l->ent[il->exact[s] - 1].name, name) == 0) {
			if (values_only &&
			    l->ent[il->exact[s] - 1].kind != ENTRY_VALUE)
				break;
			*found = l->ent[il->exact[s] - 1];
			return HIVE_OK;
		}
	}
	/* The forms made by the listing must be given exactly. */
	if (name_is_synthetic(name, strlen(name)) ||
	    hive_utf8_to_utf16(tmp, name, strlen(name), &u, &ulen))
		return HIVE_E_NOT_FOUND;
	if (!il->folded && (err = index_folded(tmp, il)) != HIVE_OK)
		return err;
	/* The first in list order of the names equal under upcase. */
	hash = hive_name_hash(u, ulen);
	for (s = mix32(hash) & il->mask; il->folded[s]; s = (s + 1) & il->mask) {
		size_t i = il->folded[s] - 1;

		if (values_only && l->ent[i].kind != ENTRY_VALUE)
			continue;
		if (i < best && il->fold_hash[i] == hash &&
		    same_name_nocase(tmp, u, ulen, l->ent[i].name))
			best = i;
	}
	if (best == SIZE_MAX)
		return HIVE_E_NOT_FOUND;
	*found = l->ent[best];
	return HIVE_OK;
}

int dir_resolve(struct hive *h, const struct dir_names *dn, hive_key_t key,
		const struct listing *l, const char *name,
		struct dir_entry *found)
{
	void *tmp = talloc_new(NULL);
	int err;

	if (!tmp)
		return HIVE_E_NOMEM;
	memset(found, 0, sizeof(*found));
	if (!l) {
		err = resolve_direct(tmp, h, dn, key, name, found);
	} else if (dir_has_value_mark(name) &&
		   !name_is_synthetic(name, strlen(name))) {
		/* A value listed as NAME%v, or else as NAME. */
		err = resolve_in_listing(tmp, l, name, true, found);
		if (err == HIVE_E_NOT_FOUND)
			err = resolve_in_listing(
				tmp, l, talloc_strndup(tmp, name, strlen(name) - 2),
				true, found);
	} else {
		err = resolve_in_listing(tmp, l, name, false, found);
	}
	found->name = NULL;
	talloc_free(tmp);
	return err;
}

int dir_file_name(void *mem, struct hive *h, const struct dir_names *dn,
		  hive_key_t key, enum entry_kind kind, uint32_t cell,
		  char **out)
{
	enum name_ns ns = kind == ENTRY_KEY ? NAME_KEY : NAME_VALUE;
	char suffix[NAME_TYPE_SUFFIX_MAX];
	void *tmp = talloc_new(NULL);
	uint16_t *u;
	size_t ulen;
	char *name;
	int err;

	if (!tmp)
		return HIVE_E_NOMEM;
	err = kind == ENTRY_KEY ? hive_key_name(tmp, h, cell, &u, &ulen)
				: hive_value_name(tmp, h, cell, &u, &ulen);
	if (err)
		goto done;
	name = name_encode(tmp, u, ulen, ns);
	if (name && kind == ENTRY_VALUE && dn && dn->typed) {
		uint32_t type = value_type(h, cell);

		name_type_suffix(type, value_shown_raw(dn, h, cell, type),
				 suffix);
		name = talloc_strdup_append(name, suffix);
	}
	if (!name) {
		err = HIVE_E_NOMEM;
		goto done;
	}
	/* The listing's rule (clash_name): a value named like a subkey, or
	 * marked, carries %v; "@" (listed "%40") never clashes. */
	if (kind == ENTRY_VALUE &&
	    (subkey_named(dn, h, key, u, ulen, value_type(h, cell)) ||
	     is_marked(dn, h, key, cell)))
		name = talloc_strdup_append(name, "%v");
	if (!name) {
		err = HIVE_E_NOMEM;
		goto done;
	}
	if (strlen(name) > HIVEFS_NAME_MAX || !*name) {
		err = HIVE_E_NOT_FOUND; /* shortened: a "%~" form */
		goto done;
	}
	*out = talloc_steal(mem, name);
done:
	talloc_free(tmp);
	return err;
}

int dir_new_name(void *mem, const struct dir_names *dn, const char *name,
		 enum name_ns ns, uint16_t **units, size_t *len, bool *typed,
		 uint32_t *type, bool *raw)
{
	size_t n = strlen(name);
	struct value_file_name vf;

	/* "%~" forms stand for names the listing had to invent. */
	if (name_is_synthetic(name, n))
		return HIVE_E_INVALID;
	*typed = false;
	*raw = false;
	if (ns == NAME_VALUE) {
		/* NAME%v is value NAME, whichever of it and subkey NAME
		 * comes first; NAME.TYPE (-o typenames) value NAME of TYPE. */
		split_value_name(dn, name, &vf);
		n = vf.stem_len;
		*typed = vf.typed;
		*type = vf.type;
		*raw = vf.raw;
	} else if (dir_has_value_mark(name)) {
		return HIVE_E_INVALID; /* a key's name never carries it */
	}
	return name_decode(mem, name, n, ns, units, len) ? HIVE_E_INVALID
							 : HIVE_OK;
}
