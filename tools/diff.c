/*
 * diff.c — `hivectl diff`: what turns hive A into hive B, as a .reg file.
 *
 * How it works
 *   Both trees are walked side by side from the start key down.  At each
 *   pair of keys the values of both are sorted by name (compared as
 *   Windows compares them, so case never makes a difference) and merged:
 *   a value only in B, or in both with another type or data, is written
 *   as B has it; one only in A is written as "name"=-.  The subkeys are
 *   sorted and merged the same way: a key only in A is one [-KEY] line
 *   (regedit deletes the subtree), a key only in B is written whole as
 *   export writes it, and a key in both is descended into.  Nothing is
 *   built as text beyond the line being written, and a key's block is
 *   written only when something in it differs; the header comes with the
 *   first difference, so equal hives give empty output (as diff(1)).
 *   Key names in the output are B's spelling.
 *
 *   A damaged hive can list a key below itself: each side keeps the keys
 *   on the current path and refuses to enter one again, and the depth is
 *   bounded by HIVE_MAX_DEPTH, so the walk always ends.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <talloc.h>

#include "regwrite.h"

/* diff(1)'s exit statuses. */
#define DIFF_SAME 0
#define DIFF_DIFFERENT 1
#define DIFF_TROUBLE 2

struct named {
	uint16_t *name;
	size_t len;
	uint32_t cell; /* hive_key_t or hive_value_t */
};

struct diff {
	struct hive *a, *b;
	const char *path_a, *path_b;
	struct reg_writer w;
	struct keypath path; /* B's names down to the current pair */
	hive_key_t on_path_a[HIVE_MAX_DEPTH + 1];
	hive_key_t on_path_b[HIVE_MAX_DEPTH + 1];
	unsigned errors;
};

static int by_name(const void *x, const void *y)
{
	const struct named *a = x, *b = y;

	return hive_name_compare(a->name, a->len, b->name, b->len);
}

static void diff_error(struct diff *d, const char *hive_path,
		       const char *what, int err)
{
	char *where = keypath_display(NULL, &d->path, d->path.n);
	char *text = err_text(NULL, err);

	report("%s: key '%s': %s: %s", hive_path, where ? where : "?", what,
	       text ? text : hive_strerror(err));
	talloc_free(where);
	talloc_free(text);
	d->errors++;
}

/* The values (values) or subkeys of `key`, named and sorted. */
static int list_named(void *mem, struct hive *h, hive_key_t key, bool values,
		      struct named **out, size_t *count)
{
	uint32_t *cells;
	struct named *n;
	int err = values ? hive_key_values(mem, h, key, &cells, count)
			 : hive_key_subkeys(mem, h, key, &cells, count);

	if (err)
		return err;
	n = talloc_array(mem, struct named, *count ? *count : 1);
	if (!n)
		return HIVE_E_NOMEM;
	for (size_t i = 0; i < *count; i++) {
		n[i].cell = cells[i];
		err = values ? hive_value_name(n, h, cells[i], &n[i].name,
					       &n[i].len)
			     : hive_key_name(n, h, cells[i], &n[i].name,
					     &n[i].len);
		if (err)
			return err;
	}
	qsort(n, *count, sizeof(*n), by_name);
	*out = n;
	return 0;
}

/* Whether two values have the same type and data. */
static int same_value(struct diff *d, hive_value_t va, hive_value_t vb,
		      bool *same)
{
	struct hive_value_stat sa, sb;
	void *tmp;
	uint8_t *da, *db;
	size_t la, lb;
	int err = hive_value_stat(d->a, va, &sa);

	if (!err)
		err = hive_value_stat(d->b, vb, &sb);
	if (err)
		return err;
	*same = sa.type == sb.type && sa.data_len == sb.data_len;
	if (!*same)
		return 0;
	tmp = talloc_new(NULL);
	err = hive_value_data(tmp, d->a, va, &da, &la);
	if (!err)
		err = hive_value_data(tmp, d->b, vb, &db, &lb);
	if (!err)
		*same = la == lb && !memcmp(da, db, la);
	talloc_free(tmp);
	return err;
}

/* The value lines of a pair of keys, after their [KEY] line if any. */
static void diff_values(struct diff *d, hive_key_t ka, hive_key_t kb)
{
	void *tmp = talloc_new(NULL);
	struct named *va, *vb;
	size_t na, nb, i = 0, j = 0;
	bool opened = false, ok = true;
	int err;

	err = list_named(tmp, d->a, ka, true, &va, &na);
	if (err) {
		diff_error(d, d->path_a, "value list", err);
		goto done;
	}
	err = list_named(tmp, d->b, kb, true, &vb, &nb);
	if (err) {
		diff_error(d, d->path_b, "value list", err);
		goto done;
	}
	while (ok && (i < na || j < nb)) {
		int c = i == na ? 1 : j == nb ? -1 : by_name(&va[i], &vb[j]);
		bool same = false;

		if (c == 0) {
			err = same_value(d, va[i].cell, vb[j].cell, &same);
			if (err) {
				diff_error(d, d->path_b, "value", err);
				same = true;
			}
		}
		if (!same && !opened) {
			ok = regw_key(&d->w, &d->path, d->path.n, 0, false);
			opened = true;
		}
		if (ok && c < 0)
			regw_value_delete(&d->w, va[i].name, va[i].len,
					  &d->path);
		else if (ok && !same)
			regw_value(&d->w, d->b, vb[j].cell, j, &d->path);
		i += c <= 0;
		j += c >= 0;
	}
	if (opened && ok)
		regw_end_key(&d->w);
done:
	talloc_free(tmp);
}

/* Whether `key` is on the current path of one side (a cycle). */
static bool on_path(const hive_key_t *keys, size_t n, hive_key_t key)
{
	for (size_t i = 0; i < n; i++)
		if (keys[i] == key)
			return true;
	return false;
}

static int push_name(struct diff *d, const struct named *n, hive_key_t key)
{
	uint16_t *copy = talloc_memdup(d->path.mem, n->name,
				       n->len * sizeof(uint16_t));
	struct keypath_ent *ent;

	if (!copy)
		return HIVE_E_NOMEM;
	if (d->path.n == d->path.cap) {
		size_t cap = d->path.cap ? d->path.cap * 2 : 16;

		ent = talloc_realloc(d->path.mem, d->path.ent,
				     struct keypath_ent, cap);
		if (!ent)
			return HIVE_E_NOMEM;
		d->path.ent = ent;
		d->path.cap = cap;
	}
	d->path.ent[d->path.n++] = (struct keypath_ent){ key, copy, n->len };
	return 0;
}

static void diff_key(struct diff *d, hive_key_t ka, hive_key_t kb,
		     size_t depth)
{
	void *tmp;
	struct named *sa, *sb;
	size_t na, nb, i = 0, j = 0;
	int err;

	d->on_path_a[depth] = ka;
	d->on_path_b[depth] = kb;
	diff_values(d, ka, kb);

	tmp = talloc_new(NULL);
	err = list_named(tmp, d->a, ka, false, &sa, &na);
	if (err) {
		diff_error(d, d->path_a, "subkey list", err);
		goto done;
	}
	err = list_named(tmp, d->b, kb, false, &sb, &nb);
	if (err) {
		diff_error(d, d->path_b, "subkey list", err);
		goto done;
	}
	while (i < na || j < nb) {
		int c = i == na ? 1 : j == nb ? -1 : by_name(&sa[i], &sb[j]);
		const struct named *n = c < 0 ? &sa[i] : &sb[j];

		err = push_name(d, n, n->cell);
		if (err) {
			diff_error(d, d->path_b, "subkey", err);
			break;
		}
		if (c < 0) {
			if (regw_key(&d->w, &d->path, d->path.n, 0, true))
				regw_end_key(&d->w);
		} else if (c > 0) {
			regw_subtree(&d->w, d->b, sb[j].cell, &d->path);
		} else if (depth + 1 > HIVE_MAX_DEPTH ||
			   on_path(d->on_path_a, depth + 1, sa[i].cell) ||
			   on_path(d->on_path_b, depth + 1, sb[j].cell)) {
			diff_error(d, depth + 1 > HIVE_MAX_DEPTH ?
				   d->path_b : d->path_a, "subkey",
				   depth + 1 > HIVE_MAX_DEPTH ?
				   HIVE_E_TOO_BIG : HIVE_E_CYCLE);
		} else {
			diff_key(d, sa[i].cell, sb[j].cell, depth + 1);
		}
		keypath_truncate(&d->path, d->path.n - 1);
		i += c <= 0;
		j += c >= 0;
	}
done:
	talloc_free(tmp);
}

static int open_ro(struct cmd_args *a, const char *path, struct hive **h)
{
	int err = hive_open(a->mem, path, HIVE_OPEN_READ_ONLY, h);

	if (err) {
		char *text = err_text(a->mem, err);

		report("%s: %s", path, text ? text : hive_strerror(err));
		return DIFF_TROUBLE;
	}
	return 0;
}

static int run_diff(struct cmd_args *a)
{
	struct regw_opts *o = a->opts;
	const char *key_arg = a->n_operands == 3 ? a->operands[2] : "";
	struct diff *d = talloc_zero(a->mem, struct diff);
	struct keypath pa;
	hive_key_t ka, kb;
	bool in_a, in_b;

	if (!d) {
		report("out of memory");
		return DIFF_TROUBLE;
	}
	d->path_a = a->operands[0];
	d->path_b = a->operands[1];
	if (open_ro(a, d->path_a, &d->a) || open_ro(a, d->path_b, &d->b))
		return DIFF_TROUBLE;
	regw_init(&d->w, a->mem, o->utf16, d->path_b, o->prefix16,
		  o->prefix_len);
	keypath_init(&d->path, a->mem);
	keypath_init(&pa, a->mem);

	/* KEY may be missing on one side: then it is added or deleted. */
	in_a = hive_key_lookup_path(d->a, hive_root(d->a), key_arg, &ka) == 0;
	in_b = hive_key_lookup_path(d->b, hive_root(d->b), key_arg, &kb) == 0;
	if (!in_a && !in_b) {
		/* Let resolve_key say why for each. */
		resolve_key(d->a, d->path_a, key_arg, &pa, &ka);
		resolve_key(d->b, d->path_b, key_arg, &d->path, &kb);
		return DIFF_TROUBLE;
	}
	if (in_b && resolve_key(d->b, d->path_b, key_arg, &d->path, &kb))
		return DIFF_TROUBLE;
	if (!in_b && resolve_key(d->a, d->path_a, key_arg, &d->path, &ka))
		return DIFF_TROUBLE;
	if (in_a && in_b)
		diff_key(d, ka, kb, 0);
	else if (in_b)
		regw_subtree(&d->w, d->b, kb, &d->path);
	else if (d->path.n == 0 ||
		 regw_key(&d->w, &d->path, d->path.n, 0, true))
		regw_end_key(&d->w);
	if (d->w.failed)
		report("out of memory");
	if (finish_stdout(0) || d->errors || d->w.errors || d->w.failed)
		return DIFF_TROUBLE;
	return d->w.started ? DIFF_DIFFERENT : DIFF_SAME;
}

static const struct cmd_opt diff_options[] = {
	CMD_STRING('p', "prefix", struct regw_opts, prefix),
	{ 'e', "encoding", true, 0, regw_option_encoding },
	{ 0 },
};

const struct cmd cmd_diff = {
	.name = "diff",
	.synopsis = "[--prefix P] [--encoding E] A B [KEY]",
	.summary = "the .reg file that turns hive A into hive B",
	.help =
	"Compares KEY (default: the root key) and its subtree in hives A and\n"
	"B and writes to standard output a .reg file (version 5.00) that,\n"
	"imported into A with `hivectl import`, makes it equal to B: keys only\n"
	"in B in full, [-KEY] once for each subtree only in A, values only in\n"
	"B or changed (other type or data) as B has them, \"name\"=- for values\n"
	"only in A.  Keys and values are matched by name ignoring case, as\n"
	"Windows matches them; the order of values does not matter.  Key\n"
	"names are written as B spells them.  Equal hives give no output.\n"
	"Values are written as export writes them (see hivectl export\n"
	"--help), with the same limits on names.\n"
	"\n"
	"Options:\n"
	"  -p, --prefix P     prepended to every key path (default "
	REG_DEFAULT_PREFIX ")\n"
	"  -e, --encoding E   utf-16le (default, with a byte-order mark and\n"
	"                     CRLF, as regedit writes) or utf-8 (LF)\n"
	"  -h, --help         show this help\n"
	"\n"
	"Example: hivectl diff SOFTWARE.before SOFTWARE > changes.reg\n"
	"\n"
	"Exit status (as diff(1)): 0 the hives are equal, 1 they differ,\n"
	"2 trouble: a hive could not be opened or read, something could not\n"
	"be written, or the command line is wrong.\n",
	.options = diff_options,
	.opts_size = sizeof(struct regw_opts),
	.opts_default = &regw_defaults,
	.operands = { 2, 3, "A and B" },
	.open = CMD_OPEN_NONE,
	.prepare = regw_prepare,
	.run = run_diff,
};
