/*
 * model_test.c — model-based randomized test of the engine's writes.
 *
 * How it works
 *  - A model holds what a hive should contain: a tree of keys (names
 *    unique under hive_name_compare, subkeys kept in that order), each with
 *    values in value-list order (name, type, exact bytes), a class, a
 *    security descriptor and, when it was set explicitly, a LastWriteTime.
 *  - A sequence starts from a fresh hive (hive_create, version 1.3 or 1.5)
 *    or from a copy of a real hive (--base; its content is read into the
 *    model through the read API).  Random operations are generated from
 *    the model's state and applied to both.  Each operation's return code
 *    must be the one the model predicts (HIVE_E_EXISTS, HIVE_E_INVALID,
 *    ...); a few cheap read-backs follow each change.
 *  - After the sequence: hive_check must find nothing, the hive is saved
 *    with hive_save_as, reopened read-only, checked again and compared in
 *    full with the model (exact name spellings, subkey order, every value's
 *    bytes and type, inline/big-data placement, classes, descriptors,
 *    times); the saved file is checked raw: base block, bins, cells, and
 *    for hives this run created, zeroed and coalesced free space and one sk
 *    cell per distinct security descriptor.
 *  - Operations are plain data (struct op) with a one-line text form, so a
 *    failing sequence is printed, shrunk by delta debugging to a minimal
 *    list that still fails the same way, and can be replayed (--replay).
 *  - With --out every saved hive is kept (DIR/seq-K/hive) with
 *    EXPECTED.dump (the model in `hivectl dump` format), WRITTEN (the values
 *    this run set), INFO (version, counts, which awkward names occur) and
 *    ops.txt (replayable), for tests/model/run to check other readers.
 *
 * Everything is deterministic given --seed: sequence K uses a seed derived
 * from (seed, K), so `--seed S --first K --sequences 1` re-runs one.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <talloc.h>

#include "hive.h"

#define SEGMENT 16344u           /* big-data segment; larger goes into a db */
#define LEAF_SPLIT 500u          /* subkeys above which a leaf becomes an ri */

static bool verbose;

static void *need(void *p)
{
	if (!p) {
		fputs("model_test: out of memory\n", stderr);
		exit(2);
	}
	return p;
}

/* ---- random numbers (splitmix64: tiny, good enough, reproducible) ---- */

struct rng {
	uint64_t s;
};

static uint64_t rnd(struct rng *r)
{
	uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static uint32_t below(struct rng *r, uint32_t n)
{
	return n ? (uint32_t)(rnd(r) % n) : 0;
}

/* Inclusive range. */
static uint32_t between(struct rng *r, uint32_t lo, uint32_t hi)
{
	return lo + below(r, hi - lo + 1);
}

static bool chance(struct rng *r, unsigned percent)
{
	return below(r, 1000) < percent * 10;
}

/* Per mille, for rare events. */
static bool rare(struct rng *r, unsigned per_mille)
{
	return below(r, 1000) < per_mille;
}

static struct rng rng_from(uint64_t a, uint64_t b)
{
	struct rng r = { a * 0xD6E8FEB86659FD93ull ^ (b + 0x632BE59BD9B4E019ull) };

	rnd(&r);
	return r;
}

/* ---- UTF-16 names ---- */

struct u16 {
	uint16_t *s;
	size_t n;
};

static struct u16 u16_dup(void *mem, const uint16_t *s, size_t n)
{
	struct u16 r = { need(talloc_array(mem, uint16_t, n ? n : 1)), n };

	if (n)
		memcpy(r.s, s, n * sizeof(*s));
	return r;
}

static bool u16_same(const uint16_t *a, size_t an, const uint16_t *b, size_t bn)
{
	return an == bn && (an == 0 || memcmp(a, b, an * sizeof(*a)) == 0);
}

static struct u16 u16_ascii(void *mem, const char *s)
{
	size_t n = strlen(s);
	struct u16 r = { need(talloc_array(mem, uint16_t, n ? n : 1)), n };

	for (size_t i = 0; i < n; i++)
		r.s[i] = (uint8_t)s[i];
	return r;
}

/* One unit as the canonical dump writes it. */
static void put_unit(FILE *f, uint16_t u)
{
	if (u >= 0x21 && u <= 0x7E && u != '%' && u != '\\')
		putc(u, f);
	else
		fprintf(f, "%%%04x", u);
}

static void put_escaped(FILE *f, const uint16_t *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		put_unit(f, s[i]);
}

/* An escaped name for messages, cut after `max` units. */
static char *show(void *mem, const uint16_t *s, size_t n)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return need(NULL);
	put_escaped(f, s, n > 60 ? 60 : n);
	if (n > 60)
		fprintf(f, "...(%zu units)", n);
	fclose(f);
	char *r = need(talloc_strdup(mem, buf ? buf : ""));
	free(buf);
	return r;
}

/* Parse the escaped form back; false on malformed text. */
static bool unescape(void *mem, const char *s, size_t len, struct u16 *out)
{
	uint16_t *u = need(talloc_array(mem, uint16_t, len ? len : 1));
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		if (s[i] == '%') {
			unsigned v;
			char hex[5];
			if (i + 4 >= len)
				return false;
			memcpy(hex, s + i + 1, 4);
			hex[4] = 0;
			if (sscanf(hex, "%4x", &v) != 1)
				return false;
			u[n++] = (uint16_t)v;
			i += 4;
		} else {
			u[n++] = (uint8_t)s[i];
		}
	}
	out->s = u;
	out->n = n;
	return true;
}

/*
 * Case variants: for every upper-case unit U, some unit c != U with
 * hive_upcase(c) == U (if one exists).  A variant of a name swaps units
 * among {c, upcase(c), lower_of[upcase(c)]}: the same name for Windows.
 */
static uint16_t lower_of[65536];
static bool has_lower[65536];

static void case_init(void)
{
	for (uint32_t c = 0; c < 65536; c++) {
		uint16_t u = hive_upcase((uint16_t)c);
		if (u != c && !has_lower[u]) {
			lower_of[u] = (uint16_t)c;
			has_lower[u] = true;
		}
	}
}

static struct u16 vary_case(void *mem, struct rng *r, const uint16_t *s, size_t n)
{
	struct u16 v = u16_dup(mem, s, n);

	for (size_t i = 0; i < n; i++) {
		uint16_t up = hive_upcase(v.s[i]);
		switch (below(r, 3)) {
		case 0:
			v.s[i] = up;
			break;
		case 1:
			if (has_lower[up])
				v.s[i] = lower_of[up];
			break;
		default:
			break;
		}
	}
	return v;
}

/* ---- the model ---- */

struct mval {
	uint16_t *name;
	size_t nlen;
	uint32_t type;
	uint8_t *data;
	size_t dlen;
	bool written;         /* set by this run: placement rules apply */
};

struct mkey {
	struct mkey *parent;
	uint16_t *name;
	size_t nlen;
	hive_key_t h;         /* the engine's handle in the live hive */
	size_t idx;           /* position in model.all */
	struct mkey **kids;   /* sorted by hive_name_compare */
	size_t nkids, kcap;
	struct mval *vals;    /* value-list order */
	size_t nvals, vcap;
	uint8_t *cls;
	size_t clen;
	uint8_t *sd;
	size_t sdlen;
	bool time_known;
	uint64_t time;
	bool was_big;         /* had more than LEAF_SPLIT subkeys in this run */
};

struct model {
	void *mem;
	struct mkey *root;
	struct mkey **all;    /* every key, any order */
	size_t nall, cap;
	struct mkey *hot;     /* the generator's favourite key (or NULL) */
};

static struct mkey *kid_search(const struct mkey *k, const uint16_t *name,
			       size_t n, size_t *pos)
{
	size_t lo = 0, hi = k->nkids;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct mkey *c = k->kids[mid];
		int cmp = hive_name_compare(c->name, c->nlen, name, n);
		if (cmp == 0) {
			if (pos)
				*pos = mid;
			return k->kids[mid];
		}
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (pos)
		*pos = lo;
	return NULL;
}

static void kid_insert(struct mkey *k, struct mkey *c)
{
	size_t pos;

	if (kid_search(k, c->name, c->nlen, &pos)) {
		fputs("model_test: model bug: duplicate subkey\n", stderr);
		abort();
	}
	if (k->nkids == k->kcap) {
		k->kcap = k->kcap ? 2 * k->kcap : 4;
		k->kids = need(talloc_realloc(k, k->kids, struct mkey *, k->kcap));
	}
	memmove(k->kids + pos + 1, k->kids + pos, (k->nkids - pos) * sizeof(*k->kids));
	k->kids[pos] = c;
	k->nkids++;
	c->parent = k;
}

static void kid_remove(struct mkey *k, struct mkey *c)
{
	size_t pos;

	if (kid_search(k, c->name, c->nlen, &pos) != c) {
		fputs("model_test: model bug: subkey not listed\n", stderr);
		abort();
	}
	memmove(k->kids + pos, k->kids + pos + 1, (k->nkids - pos - 1) * sizeof(*k->kids));
	k->nkids--;
}

static struct mkey *model_key(struct model *m, struct mkey *parent,
			      const uint16_t *name, size_t n, hive_key_t h)
{
	struct mkey *k = need(talloc_zero(m->mem, struct mkey));

	k->name = u16_dup(k, name, n).s;
	k->nlen = n;
	k->h = h;
	if (m->nall == m->cap) {
		m->cap = m->cap ? 2 * m->cap : 64;
		m->all = need(talloc_realloc(m->mem, m->all, struct mkey *, m->cap));
	}
	k->idx = m->nall;
	m->all[m->nall++] = k;
	if (parent)
		kid_insert(parent, k);
	return k;
}

static void model_drop(struct model *m, struct mkey *k)
{
	kid_remove(k->parent, k);
	m->all[k->idx] = m->all[m->nall - 1];
	m->all[k->idx]->idx = k->idx;
	m->nall--;
	if (m->hot == k)
		m->hot = NULL;
	talloc_free(k);
}

static struct mval *val_find(struct mkey *k, const uint16_t *name, size_t n)
{
	for (size_t i = 0; i < k->nvals; i++)
		if (hive_name_compare(k->vals[i].name, k->vals[i].nlen, name, n) == 0)
			return &k->vals[i];
	return NULL;
}

static struct mval *val_append(struct mkey *k, const uint16_t *name, size_t n)
{
	if (k->nvals == k->vcap) {
		k->vcap = k->vcap ? 2 * k->vcap : 4;
		k->vals = need(talloc_realloc(k, k->vals, struct mval, k->vcap));
	}
	struct mval *v = &k->vals[k->nvals++];
	memset(v, 0, sizeof(*v));
	v->name = u16_dup(k, name, n).s;
	v->nlen = n;
	return v;
}

static void val_remove(struct mkey *k, struct mval *v)
{
	size_t i = (size_t)(v - k->vals);

	talloc_free(v->name);
	talloc_free(v->data);
	memmove(k->vals + i, k->vals + i + 1, (k->nvals - i - 1) * sizeof(*v));
	k->nvals--;
}

static unsigned key_depth(const struct mkey *k)
{
	unsigned d = 0;

	for (; k->parent; k = k->parent)
		d++;
	return d;
}

static unsigned key_height(const struct mkey *k)
{
	unsigned h = 0;

	for (size_t i = 0; i < k->nkids; i++) {
		unsigned c = 1 + key_height(k->kids[i]);
		if (c > h)
			h = c;
	}
	return h;
}

static bool inside(const struct mkey *k, const struct mkey *ancestor)
{
	for (; k; k = k->parent)
		if (k == ancestor)
			return true;
	return false;
}

/* ---- loading a real hive into the model ---- */

static int load_key(struct model *m, struct hive *h, struct mkey *k,
		    unsigned depth, char *why, size_t whylen)
{
	void *tmp = talloc_new(NULL);
	hive_value_t *vals;
	hive_key_t *kids;
	size_t n;
	int ret;

	if (depth > HIVE_MAX_DEPTH) {
		snprintf(why, whylen, "keys nest deeper than %u", HIVE_MAX_DEPTH);
		ret = -1;
		goto done;
	}
	ret = hive_key_class(k, h, k->h, &k->cls, &k->clen);
	if (ret == HIVE_OK)
		ret = hive_key_security(k, h, k->h, &k->sd, &k->sdlen);
	if (ret == HIVE_OK)
		ret = hive_key_values(tmp, h, k->h, &vals, &n);
	for (size_t i = 0; ret == HIVE_OK && i < n; i++) {
		uint16_t *name;
		size_t nlen;
		struct hive_value_stat st;
		ret = hive_value_name(tmp, h, vals[i], &name, &nlen);
		if (ret == HIVE_OK)
			ret = hive_value_stat(h, vals[i], &st);
		if (ret != HIVE_OK)
			break;
		struct mval *v = val_append(k, name, nlen);
		v->type = st.type;
		ret = hive_value_data(k, h, vals[i], &v->data, &v->dlen);
	}
	if (ret == HIVE_OK)
		ret = hive_key_subkeys(tmp, h, k->h, &kids, &n);
	for (size_t i = 0; ret == HIVE_OK && i < n; i++) {
		uint16_t *name;
		size_t nlen;
		ret = hive_key_name(tmp, h, kids[i], &name, &nlen);
		if (ret != HIVE_OK)
			break;
		if (kid_search(k, name, nlen, NULL)) {
			snprintf(why, whylen, "duplicate subkey names");
			ret = -1;
			goto done;
		}
		struct mkey *c = model_key(m, k, name, nlen, kids[i]);
		ret = load_key(m, h, c, depth + 1, why, whylen);
		if (ret == -1)
			goto done;
	}
	if (ret != HIVE_OK) {
		snprintf(why, whylen, "%s (%s)", hive_strerror(ret), hive_error_detail());
		ret = -1;
	}
done:
	talloc_free(tmp);
	return ret;
}

static struct model *model_new(void *mem)
{
	struct model *m = need(talloc_zero(mem, struct model));

	m->mem = m;
	return m;
}

/* The model of what `h` holds now. */
static struct model *model_load(void *mem, struct hive *h, char *why, size_t whylen)
{
	struct model *m = model_new(mem);
	uint16_t *name;
	size_t n;
	int ret = hive_key_name(m, h, hive_root(h), &name, &n);

	if (ret != HIVE_OK) {
		snprintf(why, whylen, "root name: %s", hive_strerror(ret));
		return NULL;
	}
	m->root = model_key(m, NULL, name, n, hive_root(h));
	if (load_key(m, h, m->root, 0, why, whylen) != HIVE_OK)
		return NULL;
	return m;
}

/* ---- generated content ---- */

enum data_kind {
	DK_RANDOM,   /* random bytes */
	DK_TEXT,     /* printable ASCII as UTF-16LE, NUL-terminated */
	DK_UTEXT,    /* any UTF-16 (non-BMP pairs too), NUL-terminated */
	DK_MULTI,    /* REG_MULTI_SZ-like: ASCII strings, double NUL */
	DK_ZERO,
	DK_PATTERN,  /* a cheap byte pattern */
	DK__COUNT
};

/* Name alphabets (flags of a sequence). */
#define NF_RICH 0x1u      /* non-ASCII units and surrogate pairs */
#define NF_LONE 0x2u      /* unpaired surrogates */
#define NF_NUL 0x4u       /* NUL units */
#define NF_CTRL 0x8u      /* control characters (tab, newline, ...) */

static const uint16_t punct[] = {
	' ', '%', ',', '"', '/', '|', '(', ')', '{', '}', '#', '\'', '!', '~',
	'.', '-', '_', '+', '=', '[', ']', '&', '$', '@', '`', '^', ';', ':',
	'<', '>', '?', '*',
};

static const uint16_t specials[] = {
	0x00B5, 0x00DF, 0x00FF, 0x0131, 0x0130, 0x017F, 0x01C5, 0x03C2,
	0x1E9E, 0x2126, 0x212A, 0x212B, 0x2160, 0x24D0, 0xFB00, 0xFEFF,
	0xFFFD, 0xFFFF, 0x2028, 0x00A0, 0x0345, 0x1F88, 0x10D0, 0xA64A,
};

/* One unit of a name or string (never half of a pair unless NF_LONE). */
static uint16_t gen_unit(struct rng *r, unsigned flags, bool key)
{
	unsigned roll = below(r, 1000);

	if (!(flags & NF_RICH))
		roll = roll % 700;
	if (roll < 560) {
		static const char alnum[] =
			"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
		return (uint8_t)alnum[below(r, sizeof(alnum) - 1)];
	}
	if (roll < 680)
		return punct[below(r, sizeof(punct) / sizeof(punct[0]))];
	if (roll < 700)
		return key ? (uint16_t)'_' : (uint16_t)'\\';
	if (roll < 780)
		return (uint16_t)between(r, 0xA0, 0xFF);
	if (roll < 860)
		return (uint16_t)(below(r, 2) ? between(r, 0x391, 0x3CE)
					      : between(r, 0x400, 0x45F));
	if (roll < 900)
		return specials[below(r, sizeof(specials) / sizeof(specials[0]))];
	if (roll < 940) {
		switch (below(r, 4)) {
		case 0: return (uint16_t)between(r, 0xFF21, 0xFF5A);
		case 1: return (uint16_t)between(r, 0x4E00, 0x9FFF);
		case 2: return (uint16_t)between(r, 0x1E00, 0x1EFF);
		default: return (uint16_t)between(r, 0x0100, 0x024F);
		}
	}
	if (roll < 960 && (flags & NF_CTRL))
		return (uint16_t)between(r, 1, 0x1F);
	if (roll < 975 && (flags & NF_LONE))
		return (uint16_t)(below(r, 2) ? between(r, 0xD800, 0xDBFF)
					      : between(r, 0xDC00, 0xDFFF));
	if (roll < 990 && (flags & NF_NUL))
		return 0;
	uint16_t c = (uint16_t)between(r, 0x20, 0x7E);
	return key && c == '\\' ? (uint16_t)'x' : c;
}

/* `len` units; surrogate pairs with NF_RICH; no '\' in key names. */
static struct u16 gen_name(void *mem, struct rng *r, unsigned flags, bool key,
			   size_t len)
{
	struct u16 s = { need(talloc_array(mem, uint16_t, len ? len : 1)), len };

	for (size_t i = 0; i < len; i++) {
		if ((flags & NF_RICH) && i + 1 < len && chance(r, 4)) {
			uint32_t cp = below(r, 4) ? between(r, 0x10000, 0x10FFFF)
						  : between(r, 0x10400, 0x1044F);
			s.s[i++] = (uint16_t)(0xD800 + ((cp - 0x10000) >> 10));
			s.s[i] = (uint16_t)(0xDC00 + ((cp - 0x10000) & 0x3FF));
			continue;
		}
		s.s[i] = gen_unit(r, flags, key);
		if (key && s.s[i] == '\\')
			s.s[i] = '_';
		/* libregf takes a leading U+FEFF / U+FFFE for a byte-order mark
		 * (drops it, or gives up): only where it gives up anyway. */
		if (i == 0 && !(flags & NF_LONE) && (s.s[0] == 0xFEFF || s.s[0] == 0xFFFE))
			s.s[0] = 'Z';
	}
	return s;
}

static uint8_t *make_data(void *mem, unsigned kind, size_t len, uint32_t seed)
{
	uint8_t *d = need(talloc_zero_size(mem, len ? len : 1));
	struct rng r = rng_from(seed, len ^ ((uint64_t)kind << 40));
	size_t i = 0;

	switch (kind) {
	case DK_RANDOM:
		for (; i + 8 <= len; i += 8) {
			uint64_t x = rnd(&r);
			memcpy(d + i, &x, 8);
		}
		for (; i < len; i++)
			d[i] = (uint8_t)rnd(&r);
		break;
	case DK_TEXT:
	case DK_UTEXT:
		for (; i + 2 <= len; i += 2) {
			uint16_t u = kind == DK_TEXT ? (uint16_t)between(&r, 0x20, 0x7E)
						     : gen_unit(&r, NF_RICH, false);
			if (kind == DK_UTEXT && (u == 0 || (i == 0 && (u == 0xFEFF || u == 0xFFFE))))
				u = 'z';
			d[i] = (uint8_t)u;
			d[i + 1] = (uint8_t)(u >> 8);
		}
		if (len >= 2) {          /* NUL-terminated like Windows' strings */
			size_t end = (len & ~(size_t)1) - 2;
			d[end] = d[end + 1] = 0;
		}
		if (len & 1)
			d[len - 1] = (uint8_t)rnd(&r);
		break;
	case DK_MULTI:
		for (; i + 2 <= len; i += 2) {
			uint16_t u = chance(&r, 12) ? 0 : (uint16_t)between(&r, 0x20, 0x7E);
			d[i] = (uint8_t)u;
			d[i + 1] = (uint8_t)(u >> 8);
		}
		for (size_t k = 0; k < 4 && k < (len & ~(size_t)1); k++)
			d[(len & ~(size_t)1) - 1 - k] = 0;
		break;
	case DK_ZERO:
		break;
	default:
		for (; i < len; i++)
			d[i] = (uint8_t)(i * 7 + seed);
		break;
	}
	return d;
}

/*
 * A few well-formed self-relative security descriptors: owner, group and
 * a DACL whose ACEs differ, so keys can share or not share sk cells.
 */
#define SD_POOL 6
static uint8_t sd_pool[SD_POOL][160];
static size_t sd_len[SD_POOL];

static size_t put_sid(uint8_t *p, unsigned n_sub, const uint32_t *sub)
{
	p[0] = 1;
	p[1] = (uint8_t)n_sub;
	memset(p + 2, 0, 6);
	p[7] = 5;                       /* SECURITY_NT_AUTHORITY */
	for (unsigned i = 0; i < n_sub; i++)
		for (unsigned b = 0; b < 4; b++)
			p[8 + 4 * i + b] = (uint8_t)(sub[i] >> (8 * b));
	return 8 + 4 * n_sub;
}

static void put32(uint8_t *p, uint32_t v)
{
	for (unsigned b = 0; b < 4; b++)
		p[b] = (uint8_t)(v >> (8 * b));
}

static void sd_init(void)
{
	for (unsigned v = 0; v < SD_POOL; v++) {
		uint8_t *sd = sd_pool[v];
		const uint32_t system[] = { 18 }, admins[] = { 32, 544 },
			       users[] = { 32, 545 },
			       user[] = { 21, 1000 + v, 2000 + 7 * v, 3000 + 13 * v, 1001 };
		size_t off = 20, acl, n;

		memset(sd, 0, sizeof(sd_pool[v]));
		sd[0] = 1;                            /* revision */
		sd[2] = 0x04;                         /* SE_DACL_PRESENT */
		sd[3] = 0x80;                         /* SE_SELF_RELATIVE */
		put32(sd + 4, (uint32_t)off);         /* owner */
		off += v < 4 ? put_sid(sd + off, 2, admins) : put_sid(sd + off, 5, user);
		put32(sd + 8, (uint32_t)off);         /* group */
		off += put_sid(sd + off, 1, system);
		put32(sd + 16, (uint32_t)off);        /* DACL */
		acl = off;
		sd[acl] = 2;
		n = 8;
		for (unsigned a = 0; a < 1 + v % 3; a++) {
			uint8_t *ace = sd + acl + n;
			size_t sl;
			ace[0] = 0;                   /* ACCESS_ALLOWED */
			ace[1] = (uint8_t)(v & 1 ? 0x02 : 0x00);
			put32(ace + 4, a == 0 ? 0x000F003F : 0x00020019 + v);
			sl = put_sid(ace + 8, a == 2 ? 1 : 2, a == 2 ? system : a ? users : admins);
			ace[2] = (uint8_t)(8 + sl);
			n += 8 + sl;
		}
		sd[acl + 2] = (uint8_t)n;
		sd[acl + 4] = (uint8_t)(1 + v % 3);
		sd_len[v] = acl + n;
	}
}

/* ---- operations ---- */

enum op_kind {
	OP_SETV,    /* hive_value_set */
	OP_DELV,    /* hive_value_delete */
	OP_MKKEY,   /* hive_key_create */
	OP_RMKEY,   /* hive_key_delete */
	OP_MOVE,    /* hive_key_rename (same parent or another) */
	OP_CLASS,   /* hive_key_set_class */
	OP_SEC,     /* hive_key_set_security */
	OP_TIME,    /* hive_key_set_time */
	OP_GROW,    /* `count` hive_key_create under one key */
	OP_SHRINK,  /* `count` hive_key_delete of leaf subkeys of one key */
	OP__COUNT
};

static const char *const op_names[OP__COUNT] = {
	"setv", "delv", "mkkey", "rmkey", "move", "class", "sec", "time",
	"grow", "shrink",
};

struct path {
	size_t n;
	struct u16 *c;      /* names below the root */
};

struct op {
	enum op_kind kind;
	struct path key;    /* the key acted on (the parent, for mkkey) */
	bool has_dest;      /* OP_MOVE: to another parent */
	struct path dest;
	struct u16 name;    /* value name, new key name */
	uint32_t type;
	uint32_t len;       /* data / class / invalid descriptor length */
	uint32_t seed;      /* data content, grow names, shrink choice */
	uint32_t dkind;     /* enum data_kind */
	uint32_t sd;        /* OP_SEC: pool index; SD_POOL = `len` junk bytes */
	uint64_t time;
	uint32_t count;
};

static struct path key_path(void *mem, const struct mkey *k)
{
	struct path p = { key_depth(k), NULL };

	p.c = need(talloc_array(mem, struct u16, p.n ? p.n : 1));
	for (size_t i = p.n; i > 0; i--, k = k->parent)
		p.c[i - 1] = u16_dup(mem, k->name, k->nlen);
	return p;
}

static struct mkey *resolve(struct model *m, const struct path *p)
{
	struct mkey *k = m->root;

	for (size_t i = 0; k && i < p->n; i++)
		k = kid_search(k, p->c[i].s, p->c[i].n, NULL);
	return k;
}

static void put_path(FILE *f, const struct path *p)
{
	for (size_t i = 0; i < p->n; i++) {
		if (i)
			putc('\\', f);
		put_escaped(f, p->c[i].s, p->c[i].n);
	}
}

/* The one-line text form (see parse_op). */
static void print_op(FILE *f, const struct op *op)
{
	fprintf(f, "%s key=", op_names[op->kind]);
	put_path(f, &op->key);
	switch (op->kind) {
	case OP_SETV:
		fputs(" name=", f);
		put_escaped(f, op->name.s, op->name.n);
		fprintf(f, " type=%" PRIu32 " len=%" PRIu32 " data=%" PRIu32 ":%" PRIu32,
			op->type, op->len, op->dkind, op->seed);
		break;
	case OP_DELV:
	case OP_MKKEY:
		fputs(" name=", f);
		put_escaped(f, op->name.s, op->name.n);
		break;
	case OP_MOVE:
		if (op->has_dest) {
			fputs(" to=", f);
			put_path(f, &op->dest);
		}
		fputs(" name=", f);
		put_escaped(f, op->name.s, op->name.n);
		break;
	case OP_CLASS:
		fprintf(f, " len=%" PRIu32 " data=%" PRIu32 ":%" PRIu32, op->len,
			op->dkind, op->seed);
		break;
	case OP_SEC:
		fprintf(f, " sd=%" PRIu32 " len=%" PRIu32, op->sd, op->len);
		break;
	case OP_TIME:
		fprintf(f, " t=%" PRIu64, op->time);
		break;
	case OP_GROW:
	case OP_SHRINK:
		fprintf(f, " n=%" PRIu32 " seed=%" PRIu32, op->count, op->seed);
		break;
	default:
		break;
	}
	putc('\n', f);
}

static bool parse_path(void *mem, const char *s, struct path *p)
{
	size_t len = strlen(s), start = 0;

	p->n = 0;
	p->c = need(talloc_array(mem, struct u16, len + 1));
	if (len == 0)
		return true;
	for (size_t i = 0; i <= len; i++) {
		if (i == len || s[i] == '\\') {
			if (!unescape(mem, s + start, i - start, &p->c[p->n++]))
				return false;
			start = i + 1;
		}
	}
	return true;
}

/*
 * "KIND key=PATH [to=PATH] [name=NAME] [type=T] [len=N] [data=K:S] [sd=I]
 *  [t=FILETIME] [n=COUNT] [seed=S]": names escaped as in the dump, path
 * components joined by '\'; blank lines and '#' comments are skipped.
 */
static int parse_op(void *mem, char *line, struct op *op)
{
	char *save = NULL, *tok = strtok_r(line, " \t\r\n", &save);
	bool ok = true;

	memset(op, 0, sizeof(*op));
	if (!tok || tok[0] == '#')
		return 0;
	op->kind = OP__COUNT;
	for (int k = 0; k < OP__COUNT; k++)
		if (strcmp(tok, op_names[k]) == 0)
			op->kind = (enum op_kind)k;
	if (op->kind == OP__COUNT)
		return -1;
	op->name.s = need(talloc_array(mem, uint16_t, 1));
	while (ok && (tok = strtok_r(NULL, " \t\r\n", &save))) {
		char *eq = strchr(tok, '=');
		if (!eq)
			return -1;
		*eq++ = 0;
		if (strcmp(tok, "key") == 0)
			ok = parse_path(mem, eq, &op->key);
		else if (strcmp(tok, "to") == 0)
			ok = op->has_dest = parse_path(mem, eq, &op->dest);
		else if (strcmp(tok, "name") == 0)
			ok = unescape(mem, eq, strlen(eq), &op->name);
		else if (strcmp(tok, "type") == 0)
			op->type = (uint32_t)strtoul(eq, NULL, 0);
		else if (strcmp(tok, "len") == 0)
			op->len = (uint32_t)strtoul(eq, NULL, 0);
		else if (strcmp(tok, "data") == 0)
			ok = sscanf(eq, "%" SCNu32 ":%" SCNu32, &op->dkind, &op->seed) == 2;
		else if (strcmp(tok, "sd") == 0)
			op->sd = (uint32_t)strtoul(eq, NULL, 0);
		else if (strcmp(tok, "t") == 0)
			op->time = strtoull(eq, NULL, 0);
		else if (strcmp(tok, "n") == 0)
			op->count = (uint32_t)strtoul(eq, NULL, 0);
		else if (strcmp(tok, "seed") == 0)
			op->seed = (uint32_t)strtoul(eq, NULL, 0);
		else
			ok = false;
	}
	return ok ? 1 : -1;
}

/* ---- applying operations to the engine and the model ---- */

/* A growing list of operations (talloc'd on `mem`). */
struct oplog {
	void *mem;
	struct op *ops;
	size_t n, cap;
};

static void oplog_add(struct oplog *l, const struct op *op)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 64;
		l->ops = need(talloc_realloc(l->mem, l->ops, struct op, l->cap));
	}
	l->ops[l->n++] = *op;
}

struct stats {
	uint64_t ops[OP__COUNT];
	uint64_t rc[HIVE_E__COUNT];
	uint64_t keys_created, keys_deleted, values_set, values_replaced;
	uint64_t size_inline, size_cell, size_16343, size_16344, size_16345, size_big;
	uint64_t seq_v13, seq_v15, seq_base;
	uint64_t seq_split, seq_merge;  /* a key went past LEAF_SPLIT / back */
	size_t max_kids;
	uint64_t skipped;
};

struct run {
	void *mem;              /* everything of this run */
	struct hive *h;
	struct model *m;
	uint32_t minor;
	bool fresh;             /* created by hive_create (raw checks apply) */
	bool check_every;
	const char *cat;        /* category of the first failure, NULL if none */
	char why[4096];
	size_t fail_op;         /* the op that failed (SIZE_MAX: at the end) */
	struct rng vr;          /* case variants for look-ups */
	struct stats *st;       /* NULL while minimizing */
	bool went_big, came_back;
	struct oplog *expand;   /* if set: record the primitive ops applied */
};

__attribute__((format(printf, 3, 4)))
static int fail(struct run *u, const char *cat, const char *fmt, ...)
{
	va_list ap;

	if (u->cat)
		return -1;
	u->cat = cat;
	va_start(ap, fmt);
	vsnprintf(u->why, sizeof(u->why), fmt, ap);
	va_end(ap);
	return -1;
}

static const char *rc_name(int rc)
{
	static const char *const names[HIVE_E__COUNT] = {
		"HIVE_OK", "HIVE_E_NOMEM", "HIVE_E_IO", "HIVE_E_NOT_HIVE",
		"HIVE_E_VERSION", "HIVE_E_CHECKSUM", "HIVE_E_CORRUPT",
		"HIVE_E_BOUNDS", "HIVE_E_CYCLE", "HIVE_E_TOO_BIG",
		"HIVE_E_NOT_FOUND", "HIVE_E_EXISTS", "HIVE_E_READ_ONLY",
		"HIVE_E_INVALID", "HIVE_E_NOT_EMPTY", "HIVE_E_POISONED",
	};
	return rc >= 0 && rc < HIVE_E__COUNT ? names[rc] : "(unknown code)";
}

/* Compare an engine result with the model's expectation. */
static int expect_rc(struct run *u, const char *what, int want, int got)
{
	if (u->st && got >= 0 && got < HIVE_E__COUNT)
		u->st->rc[got]++;
	if (want == got)
		return 0;
	return fail(u, "result", "%s: expected %s, got %s (%s)", what,
		    rc_name(want), rc_name(got),
		    got ? hive_error_detail() : "no error");
}

static int key_name_rc(const uint16_t *name, size_t n)
{
	if (n == 0)
		return HIVE_E_INVALID;
	if (n > HIVE_MAX_KEY_NAME)
		return HIVE_E_TOO_BIG;
	for (size_t i = 0; i < n; i++)
		if (name[i] == '\\')
			return HIVE_E_INVALID;
	return HIVE_OK;
}

/* Note lists crossing the ri split (after a change to k's subkeys). */
static void note_kids(struct run *u, struct mkey *k)
{
	if (k->nkids > LEAF_SPLIT)
		u->went_big = k->was_big = true;
	else if (k->was_big)
		u->came_back = true;
	if (u->st && k->nkids > u->st->max_kids)
		u->st->max_kids = k->nkids;
}

static int do_mkkey(struct run *u, struct mkey *parent, const uint16_t *name,
		    size_t n)
{
	struct mkey *existing = kid_search(parent, name, n, NULL);
	hive_key_t out = HIVE_NO_CELL, again;
	int want = key_name_rc(name, n), rc;

	if (want == HIVE_OK && existing)
		want = HIVE_E_EXISTS;
	else if (want == HIVE_OK && key_depth(parent) + 1 > HIVE_MAX_DEPTH)
		want = HIVE_E_TOO_BIG;
	rc = hive_key_create(u->h, parent->h, name, n, &out);
	if (expect_rc(u, "mkkey", want, rc))
		return -1;
	if (rc == HIVE_E_EXISTS && out != existing->h)
		return fail(u, "result", "mkkey: HIVE_E_EXISTS gave key 0x%x, not 0x%x",
			    out, existing->h);
	if (rc != HIVE_OK)
		return 0;
	struct mkey *k = model_key(u->m, parent, name, n, out);
	k->sd = need(talloc_memdup(k, parent->sd, parent->sdlen ? parent->sdlen : 1));
	k->sdlen = parent->sdlen;
	parent->time_known = false;
	if (u->st)
		u->st->keys_created++;
	note_kids(u, parent);
	rc = hive_key_lookup(u->h, parent->h, name, n, &again);
	if (rc != HIVE_OK || again != out)
		return fail(u, "result", "mkkey: new key 0x%x not found again (%s, 0x%x)",
			    out, rc_name(rc), again);
	return 0;
}

static int do_rmkey(struct run *u, struct mkey *k)
{
	int want = !k->parent ? HIVE_E_INVALID : k->nkids ? HIVE_E_NOT_EMPTY : HIVE_OK;
	int rc = hive_key_delete(u->h, k->h);
	hive_key_t again;

	if (expect_rc(u, "rmkey", want, rc))
		return -1;
	if (rc != HIVE_OK)
		return 0;
	struct mkey *parent = k->parent;
	void *tmp = talloc_new(NULL);
	struct u16 name = u16_dup(tmp, k->name, k->nlen);
	parent->time_known = false;
	model_drop(u->m, k);
	if (u->st)
		u->st->keys_deleted++;
	note_kids(u, parent);
	rc = hive_key_lookup(u->h, parent->h, name.s, name.n, &again);
	talloc_free(tmp);
	if (rc != HIVE_E_NOT_FOUND)
		return fail(u, "result", "rmkey: deleted key still found (%s)", rc_name(rc));
	return 0;
}

static int do_move(struct run *u, struct mkey *k, struct mkey *dest,
		   const uint16_t *name, size_t n)
{
	struct mkey *np = dest ? dest : k->parent;
	int want = key_name_rc(name, n), rc;
	hive_key_t moved = HIVE_NO_CELL, again;

	if (want == HIVE_OK && !k->parent)
		want = HIVE_E_INVALID;
	if (want == HIVE_OK && np != k->parent) {
		if (inside(np, k))
			want = HIVE_E_INVALID;
		else if (key_depth(np) + 1 + key_height(k) > HIVE_MAX_DEPTH)
			want = HIVE_E_TOO_BIG;
	}
	if (want == HIVE_OK) {
		struct mkey *clash = kid_search(np, name, n, NULL);
		if (clash && clash != k)
			want = HIVE_E_EXISTS;
	}
	rc = hive_key_rename(u->h, k->h, dest ? dest->h : HIVE_NO_CELL, name, n, &moved);
	if (expect_rc(u, dest && np != k->parent ? "move" : "rename", want, rc))
		return -1;
	if (rc != HIVE_OK)
		return 0;
	struct mkey *old = k->parent;
	kid_remove(old, k);
	talloc_free(k->name);
	k->name = u16_dup(k, name, n).s;
	k->nlen = n;
	kid_insert(np, k);
	k->h = moved;
	k->time_known = old->time_known = np->time_known = false;
	note_kids(u, old);
	note_kids(u, np);
	rc = hive_key_lookup(u->h, np->h, name, n, &again);
	if (rc != HIVE_OK || again != moved)
		return fail(u, "result", "move: key 0x%x not found under its new parent "
			    "(%s, 0x%x)", moved, rc_name(rc), again);
	return 0;
}

static void count_size(struct stats *st, size_t len)
{
	if (len <= 4)
		st->size_inline++;
	else if (len == SEGMENT - 1)
		st->size_16343++;
	else if (len == SEGMENT)
		st->size_16344++;
	else if (len == SEGMENT + 1)
		st->size_16345++;
	else if (len > SEGMENT)
		st->size_big++;
	else
		st->size_cell++;
}

static int do_setv(struct run *u, struct mkey *k, const struct op *op)
{
	void *tmp = talloc_new(NULL);
	uint8_t *data = make_data(tmp, op->dkind, op->len, op->seed);
	int want = op->name.n > HIVE_MAX_VALUE_NAME ? HIVE_E_TOO_BIG : HIVE_OK;
	hive_value_t v = HIVE_NO_CELL, again;
	struct hive_value_stat st;
	uint16_t *stored;
	size_t slen;
	int rc = hive_value_set(u->h, k->h, op->name.s, op->name.n, op->type,
				data, op->len, &v);

	if (expect_rc(u, "setv", want, rc) || rc != HIVE_OK)
		goto done;
	struct mval *mv = val_find(k, op->name.s, op->name.n);
	if (mv) {
		talloc_free(mv->data);
		if (u->st)
			u->st->values_replaced++;
	} else {
		mv = val_append(k, op->name.s, op->name.n);
	}
	mv->type = op->type;
	mv->data = talloc_steal(k, data);
	mv->dlen = op->len;
	mv->written = true;
	k->time_known = false;
	if (u->st) {
		u->st->values_set++;
		count_size(u->st, op->len);
	}
	/* Read back at once: the look-up, the stored spelling, placement. */
	rc = hive_value_lookup(u->h, k->h, op->name.s, op->name.n, &again);
	if (rc != HIVE_OK || again != v) {
		fail(u, "result", "setv: value 0x%x not found again (%s)", v, rc_name(rc));
		goto done;
	}
	rc = hive_value_name(tmp, u->h, v, &stored, &slen);
	if (rc != HIVE_OK || !u16_same(stored, slen, mv->name, mv->nlen)) {
		fail(u, "result", "setv: stored name %s, expected %s (%s)",
		     rc ? "?" : show(tmp, stored, slen), show(tmp, mv->name, mv->nlen),
		     rc_name(rc));
		goto done;
	}
	rc = hive_value_stat(u->h, v, &st);
	if (rc != HIVE_OK || st.type != op->type || st.data_len != op->len ||
	    st.inline_data != (op->len <= 4) ||
	    st.big_data != (u->minor >= 4 && op->len > SEGMENT))
		fail(u, "result", "setv: stat says type %u, %u bytes, inline %d, big %d "
		     "(%s); expected type %u, %u bytes, inline %d, big %d",
		     st.type, st.data_len, st.inline_data, st.big_data, rc_name(rc),
		     op->type, op->len, op->len <= 4, u->minor >= 4 && op->len > SEGMENT);
done:
	talloc_free(tmp);
	return u->cat ? -1 : 0;
}

static int do_delv(struct run *u, struct mkey *k, const struct op *op)
{
	struct mval *mv = val_find(k, op->name.s, op->name.n);
	hive_value_t again;
	int rc = hive_value_delete(u->h, k->h, op->name.s, op->name.n);

	if (expect_rc(u, "delv", mv ? HIVE_OK : HIVE_E_NOT_FOUND, rc))
		return -1;
	if (rc != HIVE_OK)
		return 0;
	val_remove(k, mv);
	k->time_known = false;
	rc = hive_value_lookup(u->h, k->h, op->name.s, op->name.n, &again);
	if (rc != HIVE_E_NOT_FOUND)
		return fail(u, "result", "delv: deleted value still found (%s)", rc_name(rc));
	return 0;
}

static struct u16 grow_name(void *mem, struct rng *r, uint32_t i)
{
	char suffix[16];
	struct u16 base = gen_name(mem, r, NF_RICH, true, between(r, 1, 8));
	size_t sl = (size_t)snprintf(suffix, sizeof(suffix), "#%" PRIu32, i);
	struct u16 s = { need(talloc_array(mem, uint16_t, base.n + sl)), base.n + sl };

	memcpy(s.s, base.s, base.n * sizeof(uint16_t));
	for (size_t j = 0; j < sl; j++)
		s.s[base.n + j] = (uint8_t)suffix[j];
	return s;
}

/* Apply one operation: 0 done, -1 failed (u->cat set), 1 skipped. */
static int apply(struct run *u, const struct op *op)
{
	struct mkey *k = resolve(u->m, &op->key), *dest = NULL;
	void *tmp;
	int rc, ret = 0;

	if (!k || (op->has_dest && !(dest = resolve(u->m, &op->dest)))) {
		if (u->st)
			u->st->skipped++;
		return 1;
	}
	if (u->st)
		u->st->ops[op->kind]++;
	if (u->expand && op->kind != OP_GROW && op->kind != OP_SHRINK)
		oplog_add(u->expand, op);
	switch (op->kind) {
	case OP_SETV:
		return do_setv(u, k, op);
	case OP_DELV:
		return do_delv(u, k, op);
	case OP_MKKEY:
		return do_mkkey(u, k, op->name.s, op->name.n);
	case OP_RMKEY:
		return do_rmkey(u, k);
	case OP_MOVE:
		return do_move(u, k, dest, op->name.s, op->name.n);
	case OP_CLASS:
		tmp = talloc_new(NULL);
		uint8_t *cls = make_data(tmp, op->dkind, op->len, op->seed);
		rc = hive_key_set_class(u->h, k->h, cls, op->len);
		if (expect_rc(u, "class", op->len > 0xFFFF ? HIVE_E_TOO_BIG : HIVE_OK, rc))
			ret = -1;
		else if (rc == HIVE_OK) {
			talloc_free(k->cls);
			k->cls = op->len ? talloc_steal(k, cls) : NULL;
			k->clen = op->len;
			k->time_known = false;
		}
		talloc_free(tmp);
		return ret;
	case OP_SEC: {
		uint8_t junk[8] = { 1, 0, 4, 0x80 };
		const uint8_t *sd = op->sd < SD_POOL ? sd_pool[op->sd] : junk;
		size_t len = op->sd < SD_POOL ? sd_len[op->sd] : op->len;
		uint8_t *big = NULL;
		if (op->sd >= SD_POOL && len > sizeof(junk))
			sd = big = need(calloc(1, len));
		rc = hive_key_set_security(u->h, k->h, sd, len);
		if (expect_rc(u, "sec", len < 20 || len > 0xFFFF ? HIVE_E_INVALID : HIVE_OK, rc))
			ret = -1;
		else if (rc == HIVE_OK) {
			talloc_free(k->sd);
			k->sd = need(talloc_memdup(k, sd, len));
			k->sdlen = len;
			k->time_known = false;
		}
		free(big);
		return ret;
	}
	case OP_TIME:
		rc = hive_key_set_time(u->h, k->h, op->time);
		if (expect_rc(u, "time", HIVE_OK, rc))
			return -1;
		k->time = op->time;
		k->time_known = true;
		return 0;
	case OP_GROW: {
		struct rng r = rng_from(op->seed, 77);
		tmp = talloc_new(NULL);
		for (uint32_t i = 0; ret == 0 && i < op->count; i++) {
			struct u16 name = grow_name(tmp, &r, i);
			if (u->expand) {
				struct op one = { .kind = OP_MKKEY };
				one.key = key_path(u->expand->mem, k);
				one.name = u16_dup(u->expand->mem, name.s, name.n);
				oplog_add(u->expand, &one);
			}
			ret = do_mkkey(u, k, name.s, name.n);
		}
		talloc_free(tmp);
		return ret;
	}
	case OP_SHRINK: {
		struct rng r = rng_from(op->seed, 78);
		struct mkey **leaves = need(talloc_array(NULL, struct mkey *, k->nkids + 1));
		size_t n = 0;
		for (size_t i = 0; i < k->nkids; i++)
			if (k->kids[i]->nkids == 0)
				leaves[n++] = k->kids[i];
		for (size_t i = 0; i + 1 < n; i++) {   /* shuffle */
			size_t j = i + below(&r, (uint32_t)(n - i));
			struct mkey *t = leaves[i];
			leaves[i] = leaves[j];
			leaves[j] = t;
		}
		for (size_t i = 0; ret == 0 && i < n && i < op->count; i++) {
			if (u->expand) {
				struct op one = { .kind = OP_RMKEY };
				one.key = key_path(u->expand->mem, leaves[i]);
				one.name.s = need(talloc_array(u->expand->mem, uint16_t, 1));
				oplog_add(u->expand, &one);
			}
			ret = do_rmkey(u, leaves[i]);
		}
		talloc_free(leaves);
		return ret;
	}
	default:
		return fail(u, "result", "unknown operation");
	}
}

/* ---- generating operations from the model's state ---- */

struct gen {
	struct rng r;
	unsigned flags;         /* NF_* for names */
	bool bigkey;            /* this sequence grows a list past the ri split */
	uint32_t ops;           /* length of the sequence */
};

static struct mkey *pick_key(struct gen *g, struct model *m)
{
	unsigned roll = below(&g->r, 100);

	if (roll < 10)
		return m->root;
	if (m->hot && roll < (g->bigkey ? 40u : 25u))
		return m->hot;
	if (m->hot && m->hot->nkids && roll < (g->bigkey ? 55u : 32u))
		return m->hot->kids[below(&g->r, (uint32_t)m->hot->nkids)];
	return m->all[below(&g->r, (uint32_t)m->nall)];
}

static size_t key_name_len(struct gen *g)
{
	if (rare(&g->r, 15))
		return HIVE_MAX_KEY_NAME;
	if (chance(&g->r, 3))
		return between(&g->r, 40, HIVE_MAX_KEY_NAME);
	return between(&g->r, 1, 14);
}

static struct u16 new_key_name(void *mem, struct gen *g)
{
	if (rare(&g->r, 8))                     /* refused: empty */
		return u16_dup(mem, NULL, 0);
	if (rare(&g->r, 8))                     /* refused: too long */
		return gen_name(mem, &g->r, g->flags & NF_RICH, true,
				HIVE_MAX_KEY_NAME + 1);
	if (rare(&g->r, 8)) {                   /* refused: backslash */
		struct u16 s = gen_name(mem, &g->r, g->flags, true, between(&g->r, 1, 9));
		s.s[below(&g->r, (uint32_t)s.n)] = '\\';
		return s;
	}
	return gen_name(mem, &g->r, g->flags & ~(unsigned)(rare(&g->r, 300) ? 0 : NF_NUL),
			true, key_name_len(g));
}

static struct u16 value_name(void *mem, struct gen *g, struct mkey *k, bool existing)
{
	if (existing && k->nvals) {
		struct mval *v = &k->vals[below(&g->r, (uint32_t)k->nvals)];
		return vary_case(mem, &g->r, v->name, v->nlen);
	}
	if (chance(&g->r, 3))
		return u16_dup(mem, NULL, 0);           /* the default value */
	if (rare(&g->r, 10))
		return u16_ascii(mem, "(default)");
	if (rare(&g->r, 10)) {
		size_t len = chance(&g->r, 25) ? HIVE_MAX_VALUE_NAME + 1
		 : chance(&g->r, 30) ? HIVE_MAX_VALUE_NAME
				     : between(&g->r, 1000, HIVE_MAX_VALUE_NAME);
		return gen_name(mem, &g->r, g->flags, false, len);
	}
	return gen_name(mem, &g->r, g->flags, false,
			chance(&g->r, 3) ? between(&g->r, 40, 600) : between(&g->r, 1, 14));
}

static const uint32_t odd_types[] = {
	12, 13, 0x10, 0x20, 0xFF, 0x100, 0xFFFF, 0x10000, 0x20001,
	0x7FFFFFFF, 0x80000000, 0x80000001, 0xFFFF0001, 0xFFFFFFFE, 0xFFFFFFFF,
};

static void gen_value(struct gen *g, struct op *op)
{
	struct rng *r = &g->r;
	unsigned roll = below(r, 100);

	if (roll < 72)
		op->type = below(r, 12);
	else if (roll < 88)
		op->type = odd_types[below(r, sizeof(odd_types) / sizeof(odd_types[0]))];
	else
		op->type = (uint32_t)rnd(r);
	roll = below(r, 100);
	if (roll < 22)
		op->len = below(r, 5);
	else if (roll < 48)
		op->len = between(r, 5, 300);
	else if (roll < 60)
		op->len = between(r, 301, SEGMENT - 1);
	else if (roll < 65)
		op->len = SEGMENT;
	else if (roll < 70)
		op->len = SEGMENT + 1;
	else if (roll < 73)
		op->len = SEGMENT - 1;
	else if (roll < 77) {
		static const uint32_t edges[] = {
			2 * SEGMENT - 1, 2 * SEGMENT, 2 * SEGMENT + 1,
			3 * SEGMENT, 3 * SEGMENT + 1, 12 * SEGMENT + 1,
		};
		op->len = edges[below(r, 6)];
	} else if (roll < 86)
		op->len = between(r, SEGMENT + 2, 200000);
	else if (op->type == HIVE_REG_QWORD)
		op->len = chance(r, 80) ? 8 : below(r, 12);
	else
		op->len = chance(r, 70) ? 4 : below(r, 10);
	switch (op->type) {
	case HIVE_REG_SZ:
	case HIVE_REG_EXPAND_SZ:
	case HIVE_REG_LINK:
		roll = below(r, 100);
		op->dkind = roll < 65 ? DK_TEXT : roll < 88 ? DK_UTEXT : DK_RANDOM;
		break;
	case HIVE_REG_MULTI_SZ:
		op->dkind = chance(r, 75) ? DK_MULTI : chance(r, 50) ? DK_TEXT : DK_RANDOM;
		break;
	default:
		roll = below(r, 100);
		op->dkind = roll < 60 ? DK_RANDOM : roll < 70 ? DK_ZERO
			  : roll < 85 ? DK_PATTERN : DK_TEXT;
		break;
	}
	if (op->len > 4 * SEGMENT && op->dkind != DK_RANDOM && chance(r, 50))
		op->dkind = DK_PATTERN;
	op->seed = (uint32_t)rnd(r);
}

/* A leaf below `k` (k itself if it has no subkeys). */
static struct mkey *some_leaf(struct gen *g, struct mkey *k)
{
	while (k->nkids && chance(&g->r, 85))
		k = k->kids[below(&g->r, (uint32_t)k->nkids)];
	return k;
}

/* Fixed events of a big-list sequence: grow past the split, shrink back. */
static bool bigkey_event(struct gen *g, struct model *m, uint32_t i, void *mem,
			 struct op *op)
{
	uint32_t at[] = { g->ops / 6, g->ops / 2, 2 * g->ops / 3,
			  2 * g->ops / 3 + 1, 2 * g->ops / 3 + 2, 5 * g->ops / 6 };
	struct mkey *hot;
	size_t have;

	if (!g->bigkey)
		return false;
	if (i == at[0] || !m->hot) {
		if (i != at[0])
			return false;
		m->hot = some_leaf(g, m->all[below(&g->r, (uint32_t)m->nall)]);
	}
	hot = m->hot;
	have = hot->nkids;
	memset(op, 0, sizeof(*op));
	op->seed = (uint32_t)rnd(&g->r);
	if (i == at[0] && have < 900) {
		op->kind = OP_GROW;
		op->count = (uint32_t)(between(&g->r, 505, 900) - have);
	} else if (i == at[1] && have > 200) {
		op->kind = OP_SHRINK;
		op->count = (uint32_t)(have - between(&g->r, 200, LEAF_SPLIT - 1));
	} else if (i == at[2] && have < LEAF_SPLIT) {
		op->kind = OP_GROW;            /* to exactly the split size */
		op->count = (uint32_t)(LEAF_SPLIT - have);
	} else if (i == at[3] && have == LEAF_SPLIT) {
		op->kind = OP_GROW;            /* one past: becomes an ri */
		op->count = 1;
	} else if (i == at[4] && have == LEAF_SPLIT + 1) {
		op->kind = OP_SHRINK;          /* and back to one leaf */
		op->count = 1;
	} else if (i == at[5] && have > 10) {
		op->kind = OP_SHRINK;
		op->count = (uint32_t)(have - below(&g->r, 10));
	} else {
		return false;
	}
	op->key = key_path(mem, hot);
	return true;
}

static void gen_op(struct gen *g, struct model *m, uint32_t i, void *mem, struct op *op)
{
	struct rng *r = &g->r;
	struct mkey *k;
	unsigned roll;

	if (bigkey_event(g, m, i, mem, op))
		return;
	memset(op, 0, sizeof(*op));
	op->name.s = need(talloc_array(mem, uint16_t, 1));
	roll = below(r, 100);
	k = pick_key(g, m);
	if (roll < 30) {
		op->kind = OP_SETV;
		op->name = value_name(mem, g, k, chance(r, 45));
		gen_value(g, op);
	} else if (roll < 39) {
		op->kind = OP_DELV;
		op->name = value_name(mem, g, k, chance(r, 75));
	} else if (roll < 58) {
		op->kind = OP_MKKEY;
		if (k->nkids && chance(r, 12)) {
			struct mkey *c = k->kids[below(r, (uint32_t)k->nkids)];
			op->name = vary_case(mem, r, c->name, c->nlen);
		} else {
			op->name = new_key_name(mem, g);
		}
		if (!g->bigkey && chance(r, 25))
			m->hot = k;
	} else if (roll < 69) {
		op->kind = OP_RMKEY;
		if (!chance(r, 15))
			k = some_leaf(g, k);
	} else if (roll < 82) {
		op->kind = OP_MOVE;
		if (k == m->root && !rare(r, 100))
			k = m->all[below(r, (uint32_t)m->nall)];
		roll = below(r, 100);
		if (roll < 45) {               /* rename in place */
			if (k->parent && k->parent->nkids > 1 && chance(r, 12)) {
				struct mkey *s = k->parent->kids[below(r, (uint32_t)k->parent->nkids)];
				op->name = vary_case(mem, r, s->name, s->nlen);
			} else if (chance(r, 30)) {
				op->name = vary_case(mem, r, k->name, k->nlen);
			} else {
				op->name = new_key_name(mem, g);
			}
		} else {                       /* move elsewhere */
			struct mkey *d = chance(r, 10) ? k : pick_key(g, m);
			if (chance(r, 8) && k->nkids)
				d = some_leaf(g, k);   /* into its own subtree */
			op->has_dest = true;
			op->dest = key_path(mem, d);
			if (d->nkids && chance(r, 10)) {
				struct mkey *c = d->kids[below(r, (uint32_t)d->nkids)];
				op->name = vary_case(mem, r, c->name, c->nlen);
			} else if (chance(r, 60)) {
				op->name = u16_dup(mem, k->name, k->nlen);
			} else {
				op->name = new_key_name(mem, g);
			}
		}
	} else if (roll < 86) {
		op->kind = OP_CLASS;
		roll = below(r, 100);
		/* The longest class; an odd one only where libregf gives up
		 * anyway (it cannot show a class that is not UTF-16). */
		op->len = roll < 20 ? 0 : roll < 98 ? 2 * between(r, 1, 150)
			: chance(r, 50) ? ((g->flags & NF_LONE) ? 0xFFFF : 0xFFFE) : 0x10000;
		/* Random bytes only where names hold unpaired surrogates
		 * too: libregf refuses a hive whose class is not UTF-16. */
		op->dkind = (g->flags & NF_LONE) && chance(r, 40) ? DK_RANDOM : DK_UTEXT;
		op->seed = (uint32_t)rnd(r);
	} else if (roll < 91) {
		op->kind = OP_SEC;
		op->sd = rare(r, 60) ? SD_POOL : below(r, SD_POOL);
		op->len = op->sd == SD_POOL ? (chance(r, 70) ? below(r, 20) : 0x10000) : 0;
	} else if (roll < 94) {
		op->kind = OP_TIME;
		op->time = chance(r, 10) ? rnd(r) : 0x01D0000000000000ull + (rnd(r) >> 12);
	} else if (roll < 97) {
		op->kind = OP_GROW;
		op->count = between(r, 2, 40);
		op->seed = (uint32_t)rnd(r);
	} else {
		op->kind = OP_SHRINK;
		if (!k->nkids && k->parent)
			k = k->parent;
		op->count = between(r, 1, 20);
		op->seed = (uint32_t)rnd(r);
	}
	op->key = key_path(mem, k);
}

/* ---- checking the result ---- */

struct findings {
	char text[3072];
	size_t len;
};

static void collect(void *arg, const char *finding)
{
	struct findings *f = arg;

	if (f->len + 8 < sizeof(f->text))
		f->len += (size_t)snprintf(f->text + f->len, sizeof(f->text) - f->len,
					   "\n    - %s", finding);
}

static char *where(void *mem, const struct mkey *k)
{
	struct path p = key_path(mem, k);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return need(NULL);
	putc('\\', f);
	put_path(f, &p);
	fclose(f);
	char *r = need(talloc_strdup(mem, buf));
	free(buf);
	return r;
}

static int compare_values(struct run *u, struct hive *h, const struct mkey *k,
			  hive_key_t hk, void *tmp)
{
	hive_value_t *vals;
	size_t n;
	int rc = hive_key_values(tmp, h, hk, &vals, &n);

	if (rc != HIVE_OK)
		return fail(u, "compare", "key %s: values: %s (%s)", where(tmp, k),
			    rc_name(rc), hive_error_detail());
	if (n != k->nvals)
		return fail(u, "compare", "key %s: %zu values, expected %zu",
			    where(tmp, k), n, k->nvals);
	for (size_t i = 0; i < n; i++) {
		const struct mval *mv = &k->vals[i];
		struct hive_value_stat st;
		uint16_t *name;
		size_t nlen, dlen;
		uint8_t *data;
		hive_value_t again;
		struct u16 var;

		rc = hive_value_name(tmp, h, vals[i], &name, &nlen);
		if (rc != HIVE_OK || !u16_same(name, nlen, mv->name, mv->nlen))
			return fail(u, "compare", "key %s: value #%zu is %s, expected %s (%s)",
				    where(tmp, k), i, rc ? "?" : show(tmp, name, nlen),
				    show(tmp, mv->name, mv->nlen), rc_name(rc));
		rc = hive_value_stat(h, vals[i], &st);
		if (rc != HIVE_OK || st.type != mv->type || st.data_len != mv->dlen ||
		    st.name_len != mv->nlen)
			return fail(u, "compare", "key %s: value %s: type %u, %u bytes "
				    "(%s); expected type %u, %zu bytes", where(tmp, k),
				    show(tmp, mv->name, mv->nlen), st.type, st.data_len,
				    rc_name(rc), mv->type, mv->dlen);
		if (mv->written && (st.inline_data != (mv->dlen <= 4) ||
				    st.big_data != (u->minor >= 4 && mv->dlen > SEGMENT)))
			return fail(u, "compare", "key %s: value %s of %zu bytes: inline %d, "
				    "big data %d in a 1.%u hive", where(tmp, k),
				    show(tmp, mv->name, mv->nlen), mv->dlen,
				    st.inline_data, st.big_data, u->minor);
		rc = hive_value_data(tmp, h, vals[i], &data, &dlen);
		if (rc != HIVE_OK || dlen != mv->dlen ||
		    (dlen && memcmp(data, mv->data, dlen) != 0)) {
			size_t at = 0;
			while (rc == HIVE_OK && at < dlen && at < mv->dlen && data[at] == mv->data[at])
				at++;
			return fail(u, "compare", "key %s: value %s: data differs (%s, %zu "
				    "bytes, expected %zu; first difference at byte %zu)",
				    where(tmp, k), show(tmp, mv->name, mv->nlen),
				    rc_name(rc), dlen, mv->dlen, at);
		}
		var = vary_case(tmp, &u->vr, mv->name, mv->nlen);
		rc = hive_value_lookup(h, hk, var.s, var.n, &again);
		if (rc != HIVE_OK || again != vals[i])
			return fail(u, "compare", "key %s: value %s: looking up %s gives %s, "
				    "0x%x instead of 0x%x", where(tmp, k),
				    show(tmp, mv->name, mv->nlen), show(tmp, var.s, var.n),
				    rc_name(rc), again, vals[i]);
	}
	return 0;
}

static int compare_key(struct run *u, struct hive *h, const struct mkey *k,
		       hive_key_t hk, hive_key_t parent)
{
	void *tmp = talloc_new(NULL);
	struct hive_key_stat st;
	uint16_t *name;
	size_t n, len;
	uint8_t *bytes;
	hive_key_t *kids;
	int rc = hive_key_name(tmp, h, hk, &name, &n);

	if (rc != HIVE_OK || !u16_same(name, n, k->name, k->nlen)) {
		fail(u, "compare", "key %s: named %s (%s)", where(tmp, k),
		     rc ? "?" : show(tmp, name, n), rc_name(rc));
		goto done;
	}
	rc = hive_key_stat(h, hk, &st);
	if (rc != HIVE_OK || st.subkey_count != k->nkids || st.value_count != k->nvals ||
	    st.class_len != k->clen || (parent != HIVE_NO_CELL && st.parent != parent)) {
		fail(u, "compare", "key %s: stat (%s): %u subkeys, %u values, class of "
		     "%zu bytes, parent 0x%x; expected %zu, %zu, %zu, 0x%x", where(tmp, k),
		     rc_name(rc), st.subkey_count, st.value_count, st.class_len,
		     st.parent, k->nkids, k->nvals, k->clen, parent);
		goto done;
	}
	if (k->time_known && st.last_write != k->time) {
		fail(u, "compare", "key %s: LastWriteTime %" PRIu64 ", expected %" PRIu64
		     " (set explicitly, nothing changed the key since)", where(tmp, k),
		     st.last_write, k->time);
		goto done;
	}
	rc = hive_key_class(tmp, h, hk, &bytes, &len);
	if (rc != HIVE_OK || len != k->clen || (len && memcmp(bytes, k->cls, len))) {
		fail(u, "compare", "key %s: class differs (%s, %zu bytes, expected %zu)",
		     where(tmp, k), rc_name(rc), len, k->clen);
		goto done;
	}
	rc = hive_key_security(tmp, h, hk, &bytes, &len);
	if (rc != HIVE_OK || len != k->sdlen || (len && memcmp(bytes, k->sd, len))) {
		fail(u, "compare", "key %s: security descriptor differs (%s, %zu bytes, "
		     "expected %zu)", where(tmp, k), rc_name(rc), len, k->sdlen);
		goto done;
	}
	if (compare_values(u, h, k, hk, tmp))
		goto done;
	rc = hive_key_subkeys(tmp, h, hk, &kids, &n);
	if (rc != HIVE_OK || n != k->nkids) {
		fail(u, "compare", "key %s: %zu subkeys listed (%s), expected %zu",
		     where(tmp, k), n, rc_name(rc), k->nkids);
		goto done;
	}
	for (size_t i = 0; i < n; i++) {
		const struct mkey *c = k->kids[i];
		hive_key_t again;
		struct u16 var;
		rc = hive_key_name(tmp, h, kids[i], &name, &len);
		if (rc != HIVE_OK || !u16_same(name, len, c->name, c->nlen)) {
			fail(u, "compare", "key %s: subkey #%zu is %s, expected %s (%s)",
			     where(tmp, k), i, rc ? "?" : show(tmp, name, len),
			     show(tmp, c->name, c->nlen), rc_name(rc));
			goto done;
		}
		var = vary_case(tmp, &u->vr, c->name, c->nlen);
		rc = hive_key_lookup(h, hk, var.s, var.n, &again);
		if (rc != HIVE_OK || again != kids[i]) {
			fail(u, "compare", "key %s: looking up %s gives %s, 0x%x instead "
			     "of 0x%x", where(tmp, k), show(tmp, var.s, var.n),
			     rc_name(rc), again, kids[i]);
			goto done;
		}
	}
	for (size_t i = 0; i < n && !u->cat; i++)
		compare_key(u, h, k->kids[i], kids[i], hk);
done:
	talloc_free(tmp);
	return u->cat ? -1 : 0;
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/*
 * In a hive this run created, the sk list (from the root's sk, following
 * flink) holds one cell per distinct descriptor the keys use: shared
 * descriptors are deduplicated and unused ones freed.
 */
static int sk_list_check(struct run *u, const uint8_t *buf, uint32_t bins)
{
	const uint8_t *b = buf + 4096;
	uint32_t root = rd32(buf + 36), first, sk, n = 0, distinct = 0;
	const uint8_t *seen[64];
	uint32_t seen_len[64];

	if (root + 4 + 48 > bins)
		return fail(u, "raw", "root offset 0x%x", root);
	first = sk = rd32(b + root + 4 + 44);
	do {
		if (sk + 4 + 20 > bins || memcmp(b + sk + 4, "sk", 2) != 0)
			return fail(u, "raw", "sk list: 0x%x is not an sk cell", sk);
		uint32_t len = rd32(b + sk + 4 + 16);
		if (sk + 24 + len > bins)
			return fail(u, "raw", "sk 0x%x: descriptor of %u bytes", sk, len);
		for (uint32_t i = 0; i < n && i < 64; i++)
			if (seen_len[i] == len && memcmp(seen[i], b + sk + 24, len) == 0)
				return fail(u, "raw", "sk 0x%x holds the same descriptor as "
					    "another sk cell", sk);
		if (n < 64) {
			seen[n] = b + sk + 24;
			seen_len[n] = len;
		}
		n++;
		sk = rd32(b + sk + 4 + 4);
	} while (sk != first && n <= bins / 16);
	const struct mkey *uses[64];            /* one key per distinct descriptor */
	for (size_t i = 0; i < u->m->nall && distinct < 64; i++) {
		const struct mkey *k = u->m->all[i];
		uint32_t j = 0;
		while (j < distinct && !(uses[j]->sdlen == k->sdlen &&
					 memcmp(uses[j]->sd, k->sd, k->sdlen) == 0))
			j++;
		if (j == distinct)
			uses[distinct++] = k;
	}
	if (n != distinct)
		return fail(u, "raw", "%u sk cells in the sk list for %u distinct "
			    "descriptors in use", n, distinct);
	return 0;
}

/*
 * The saved file, read raw: base block (checksum, sequence numbers, bins
 * size = file size), bins (signature, offset, 4 KiB multiples) and cells
 * tiling each bin; in a hive this run created, free cells hold only zeros,
 * no two free cells are neighbours (freed space is coalesced), and the sk
 * list is as sk_list_check wants it.
 */
static int raw_check(struct run *u, const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long size;
	uint32_t sum = 0, bins, off = 0;
	int ret = 0;

	if (!f)
		return fail(u, "raw", "%s: %s", path, strerror(errno));
	if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 4096 &&
	    fseek(f, 0, SEEK_SET) == 0) {
		buf = need(malloc((size_t)size));
		if (fread(buf, 1, (size_t)size, f) != (size_t)size)
			size = -1;
	} else {
		size = -1;
	}
	fclose(f);
	if (size < 0) {
		free(buf);
		return fail(u, "raw", "%s: cannot read the saved file", path);
	}
	for (unsigned i = 0; i < 127; i++)
		sum ^= rd32(buf + 4 * i);
	sum = sum == 0 ? 1 : sum == 0xFFFFFFFFu ? 0xFFFFFFFEu : sum;
	bins = rd32(buf + 40);
	if (memcmp(buf, "regf", 4) != 0 || rd32(buf + 508) != sum) {
		ret = fail(u, "raw", "base block: signature or checksum (0x%08x, "
			   "computed 0x%08x)", rd32(buf + 508), sum);
	} else if (rd32(buf + 4) != rd32(buf + 8)) {
		ret = fail(u, "raw", "sequence numbers %u and %u", rd32(buf + 4),
			   rd32(buf + 8));
	} else if ((uint64_t)bins + 4096 != (uint64_t)size || bins % 4096) {
		ret = fail(u, "raw", "bins size %u in a file of %ld bytes", bins, size);
	}
	while (!ret && off < bins) {
		const uint8_t *hb = buf + 4096 + off;
		uint32_t bsize = rd32(hb + 8), c = 32;
		bool prev_free = false;
		if (memcmp(hb, "hbin", 4) != 0 || rd32(hb + 4) != off || bsize == 0 ||
		    bsize % 4096 || bsize > bins - off) {
			ret = fail(u, "raw", "bin at 0x%x: bad header (size %u)", off, bsize);
			break;
		}
		while (c < bsize) {
			int32_t cs = (int32_t)rd32(hb + c);
			uint32_t abs = cs < 0 ? (uint32_t)-(int64_t)cs : (uint32_t)cs;
			if (abs < 8 || abs % 8 || abs > bsize - c) {
				ret = fail(u, "raw", "cell at 0x%x: size %d", off + c, cs);
				break;
			}
			if (cs > 0 && u->fresh) {
				for (uint32_t b = 4; b < abs; b++)
					if (hb[c + b]) {
						ret = fail(u, "raw", "free cell at 0x%x (%u bytes) "
							   "holds data at byte %u", off + c, abs, b);
						break;
					}
				if (!ret && prev_free)
					ret = fail(u, "raw", "free cells at 0x%x and before it are "
						   "neighbours (not coalesced)", off + c);
				if (ret)
					break;
			}
			prev_free = cs > 0;
			c += abs;
		}
		off += bsize;
	}
	if (!ret && u->fresh)
		ret = sk_list_check(u, buf, bins);
	free(buf);
	return ret;
}

/* After the sequence: check, save, reopen, check, compare, raw checks. */
static void validate(struct run *u, const char *path)
{
	struct findings fs = { .len = 0 };
	struct hive *h2;
	unsigned n;
	int rc;

	n = hive_check(u->h, collect, &fs);
	if (n) {
		fail(u, "check", "hive_check: %u findings in the changed hive:%s", n, fs.text);
		return;
	}
	rc = hive_save_as(u->h, path);
	if (rc != HIVE_OK) {
		fail(u, "save", "hive_save_as: %s (%s)", rc_name(rc), hive_error_detail());
		return;
	}
	rc = hive_open(u->mem, path, HIVE_OPEN_READ_ONLY, &h2);
	if (rc != HIVE_OK) {
		fail(u, "reopen", "hive_open of the saved hive: %s (%s)", rc_name(rc),
		     hive_error_detail());
		return;
	}
	n = hive_check(h2, collect, &fs);
	if (n) {
		fail(u, "check", "hive_check: %u findings in the saved hive:%s", n, fs.text);
		return;
	}
	if (compare_key(u, h2, u->m->root, hive_root(h2), HIVE_NO_CELL) == 0)
		raw_check(u, path);
}

/* ---- the expected dump (`hivectl dump` format) and notes ---- */

static void dump_key(FILE *f, const struct mkey *k, char **path, size_t *plen,
		     size_t *pcap)
{
	static const char hex[] = "0123456789abcdef";

	fprintf(f, "K\t%.*s\n", (int)*plen, *path);
	for (size_t i = 0; i < k->nvals; i++) {
		const struct mval *v = &k->vals[i];
		fprintf(f, "V\t%.*s\t", (int)*plen, *path);
		put_escaped(f, v->name, v->nlen);
		fprintf(f, "\t%" PRIu32 "\t", v->type);
		for (size_t b = 0; b < v->dlen; b++) {
			putc(hex[v->data[b] >> 4], f);
			putc(hex[v->data[b] & 15], f);
		}
		putc('\n', f);
	}
	for (size_t i = 0; i < k->nkids; i++) {
		const struct mkey *c = k->kids[i];
		size_t keep = *plen, add = 1 + 5 * c->nlen;
		if (*plen + add + 1 > *pcap) {
			*pcap = 2 * (*plen + add + 1);
			*path = need(realloc(*path, *pcap));
		}
		char *p = *path + *plen;
		if (*plen)
			*p++ = '\\';
		for (size_t j = 0; j < c->nlen; j++) {
			uint16_t un = c->nlen ? c->name[j] : 0;
			if (un >= 0x21 && un <= 0x7E && un != '%' && un != '\\')
				*p++ = (char)un;
			else
				p += sprintf(p, "%%%04x", un);
		}
		*plen = (size_t)(p - *path);
		dump_key(f, c, path, plen, pcap);
		*plen = keep;
	}
}

/* "path<TAB>name" of every value this run set (escaped as in the dump). */
static void written_key(FILE *f, const struct mkey *k)
{
	for (size_t i = 0; i < k->nvals; i++) {
		if (!k->vals[i].written)
			continue;
		void *tmp = talloc_new(NULL);
		struct path p = key_path(tmp, k);
		put_path(f, &p);
		talloc_free(tmp);
		putc('\t', f);
		put_escaped(f, k->vals[i].name, k->vals[i].nlen);
		putc('\n', f);
	}
	for (size_t i = 0; i < k->nkids; i++)
		written_key(f, k->kids[i]);
}

static int write_dump(const struct model *m, const char *file)
{
	FILE *f = fopen(file, "w");
	size_t len = 0, cap = 256;
	char *path = need(malloc(cap));

	if (!f) {
		free(path);
		return -1;
	}
	dump_key(f, m->root, &path, &len, &cap);
	free(path);
	return fclose(f) == 0 ? 0 : -1;
}

struct features {
	bool lone, nul, ctrl, nonascii, default_literal, bad_class;
	size_t keys, values, max_kids;
};

static void scan_name(struct features *ft, const uint16_t *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint16_t c = s[i];
		if (c >= 0xD800 && c <= 0xDBFF && i + 1 < n && s[i + 1] >= 0xDC00 &&
		    s[i + 1] <= 0xDFFF) {
			i++;
			ft->nonascii = true;
		} else if (c >= 0xD800 && c <= 0xDFFF) {
			ft->lone = true;
		} else if (c == 0) {
			ft->nul = true;
		} else if (c < 0x20 || c == 0x7F) {
			ft->ctrl = true;
		} else if (c > 0x7F) {
			ft->nonascii = true;
		}
	}
}

static void scan_key(struct features *ft, const struct mkey *k)
{
	static const uint16_t dflt[] = { '(', 'd', 'e', 'f', 'a', 'u', 'l', 't', ')' };

	ft->keys++;
	if (k->parent)
		scan_name(ft, k->name, k->nlen);
	if (k->clen & 1) {
		ft->bad_class = true;
	} else if (k->clen) {                   /* unpaired surrogates? */
		struct features c = { .lone = false };
		uint16_t *u = need(talloc_array(NULL, uint16_t, k->clen / 2));
		for (size_t i = 0; i < k->clen / 2; i++)
			u[i] = (uint16_t)(k->cls[2 * i] | k->cls[2 * i + 1] << 8);
		scan_name(&c, u, k->clen / 2);
		talloc_free(u);
		ft->bad_class |= c.lone;
	}
	if (k->nkids > ft->max_kids)
		ft->max_kids = k->nkids;
	for (size_t i = 0; i < k->nvals; i++) {
		ft->values++;
		scan_name(ft, k->vals[i].name, k->vals[i].nlen);
		if (u16_same(k->vals[i].name, k->vals[i].nlen, dflt, 9))
			ft->default_literal = true;
	}
	for (size_t i = 0; i < k->nkids; i++)
		scan_key(ft, k->kids[i]);
}

/* ---- sequences ---- */

struct start {
	uint32_t minor;         /* fresh hives */
	struct u16 root;
	const uint8_t *base;    /* or a copy of this image */
	size_t base_len;
	const char *base_name;
};

struct ctx {
	uint64_t seed;
	uint32_t ops;
	uint32_t force_minor;   /* 0 = mixed */
	const char *out;
	const char *tmpdir;
	char *scratch;          /* tmpdir/hive */
	bool check_every;
	bool minimize;
	bool no_lone;           /* no unpaired surrogates (hivex, libregf) */
	struct stats st;
	unsigned max_replays;
	double minimize_seconds;
};

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int begin(struct run *u, const struct start *s)
{
	struct hive_info info;
	char why[512] = "";
	int rc;

	if (s->base) {
		rc = hive_open_memory(u->mem, s->base, s->base_len, 0, &u->h);
		if (rc != HIVE_OK)
			return fail(u, "setup", "opening the base hive: %s (%s)",
				    rc_name(rc), hive_error_detail());
		if (hive_read_only_reason(u->h))
			return fail(u, "setup", "base hive refuses writes: %s",
				    hive_read_only_reason(u->h));
		u->m = model_load(u->mem, u->h, why, sizeof(why));
		if (!u->m)
			return fail(u, "setup", "reading the base hive: %s", why);
	} else {
		rc = hive_create(u->mem, s->minor, s->root.s, s->root.n, &u->h);
		if (rc != HIVE_OK)
			return fail(u, "setup", "hive_create: %s (%s)", rc_name(rc),
				    hive_error_detail());
		u->m = model_new(u->mem);
		u->m->root = model_key(u->m, NULL, s->root.s, s->root.n, hive_root(u->h));
		rc = hive_key_security(u->m->root, u->h, u->m->root->h, &u->m->root->sd,
				       &u->m->root->sdlen);
		if (rc != HIVE_OK)
			return fail(u, "setup", "root descriptor: %s", rc_name(rc));
		u->fresh = true;
	}
	hive_get_info(u->h, &info);
	u->minor = info.minor;
	return 0;
}

static void check_now(struct run *u, size_t i)
{
	struct findings fs = { .len = 0 };
	unsigned n = hive_check(u->h, collect, &fs);

	if (n) {
		fail(u, "check", "hive_check: %u findings after op #%zu:%s", n, i, fs.text);
		u->fail_op = i;
	}
}

/* Replay `ops` on a new start; the failure category, or NULL. */
static const char *replay(struct ctx *c, const struct start *s, const struct op *ops,
			  size_t n, bool check_every, size_t *fail_op, char *why,
			  size_t whylen, struct oplog *expand)
{
	static char cat[32];
	struct run u = { .mem = talloc_new(NULL), .fail_op = SIZE_MAX,
			 .vr = rng_from(c->seed, 99), .expand = expand };

	if (begin(&u, s) == 0) {
		for (size_t i = 0; i < n && !u.cat; i++) {
			if (apply(&u, &ops[i]) < 0 && u.fail_op == SIZE_MAX)
				u.fail_op = i;
			else if (check_every)
				check_now(&u, i);
		}
		if (!u.cat)
			validate(&u, c->scratch);
	}
	if (fail_op)
		*fail_op = u.fail_op;
	if (why)
		snprintf(why, whylen, "%s", u.why);
	talloc_free(u.mem);
	if (!u.cat)
		return NULL;
	snprintf(cat, sizeof(cat), "%s", u.cat);
	return cat;
}

/* Delta debugging: the shortest list found that still fails as `cat`. */
static size_t minimize(struct ctx *c, const struct start *s, struct op *ops,
		       size_t n, const char *cat, unsigned *tries)
{
	char want[32];
	size_t chunks = 2;
	struct op *trial = need(malloc((n ? n : 1) * sizeof(*ops)));
	double deadline = now_seconds() + c->minimize_seconds;

	snprintf(want, sizeof(want), "%s", cat);
	*tries = 0;
	while (n >= 2 && *tries < c->max_replays && now_seconds() < deadline) {
		size_t size = (n + chunks - 1) / chunks;
		bool reduced = false;
		for (size_t start = 0; start < n && *tries < c->max_replays; start += size) {
			size_t end = start + size < n ? start + size : n, m = 0;
			for (size_t i = 0; i < n; i++)
				if (i < start || i >= end)
					trial[m++] = ops[i];
			const char *got = replay(c, s, trial, m, false, NULL, NULL, 0, NULL);
			++*tries;
			if (got && strcmp(got, want) == 0) {
				memcpy(ops, trial, m * sizeof(*ops));
				n = m;
				chunks = chunks > 2 ? chunks - 1 : 2;
				reduced = true;
				break;
			}
		}
		if (!reduced) {
			if (chunks >= n)
				break;
			chunks = chunks * 2 < n ? chunks * 2 : n;
		}
	}
	free(trial);
	return n;
}

/* "#! version=1.V root=NAME [base=PATH]": how the op list starts. */
static void print_header(FILE *f, const struct start *s)
{
	fprintf(f, "#! version=1.%u root=", s->minor);
	put_escaped(f, s->root.s, s->root.n);
	if (s->base_name)
		fprintf(f, " base=%s", s->base_name);
	putc('\n', f);
}

static void write_ops(const char *file, const struct start *s, const char *note,
		      const struct op *ops, size_t n)
{
	FILE *f = fopen(file, "w");

	if (!f) {
		fprintf(stderr, "model_test: %s: %s\n", file, strerror(errno));
		return;
	}
	print_header(f, s);
	if (note)
		fprintf(f, "# %s\n", note);
	for (size_t i = 0; i < n; i++)
		print_op(f, &ops[i]);
	fclose(f);
}

/*
 * A failed sequence: say where; then replay it once more recording the
 * primitive operations (grow/shrink become single mkkey/rmkey), shrink
 * that list by delta debugging and print what is left.
 */
static void report_failure(struct ctx *c, const struct start *s, struct op *ops,
			   size_t n, struct run *u, const char *label, const char *dir)
{
	void *mem = talloc_new(NULL);
	struct oplog prim = { .mem = mem };
	size_t first_bad = SIZE_MAX;
	unsigned tries = 0;
	char cat[32], why[4096];

	snprintf(cat, sizeof(cat), "%s", u->cat);
	printf("FAIL %s: %s: %s\n", label, u->cat, u->why);
	if (u->fail_op != SIZE_MAX) {
		printf("  at op #%zu: ", u->fail_op);
		print_op(stdout, &ops[u->fail_op]);
		n = u->fail_op + 1;
	} else if (strcmp(cat, "setup") != 0) {
		/* Which op first broke an invariant? */
		if (replay(c, s, ops, n, true, &first_bad, NULL, 0, NULL) &&
		    first_bad != SIZE_MAX) {
			printf("  hive_check first fails after op #%zu: ", first_bad);
			print_op(stdout, &ops[first_bad]);
		}
	}
	if (!c->minimize || strcmp(cat, "setup") == 0)
		goto done;
	const char *again = replay(c, s, ops, n, false, NULL, NULL, 0, &prim);
	if (!again || strcmp(again, cat) != 0) {
		printf("  (does not fail the same way when replayed: %s)\n",
		       again ? again : "passes");
		goto done;
	}
	again = replay(c, s, prim.ops, prim.n, false, NULL, NULL, 0, NULL);
	if (again && strcmp(again, cat) == 0) {
		ops = prim.ops;      /* the same failure from primitive ops */
		n = prim.n;
	}
	n = minimize(c, s, ops, n, cat, &tries);
	replay(c, s, ops, n, false, NULL, why, sizeof(why), NULL);
	printf("  minimal reproduction (%zu ops, found in %u replays; run it with "
	       "model_test --replay FILE):\n", n, tries);
	print_header(stdout, s);
	for (size_t i = 0; i < n; i++) {
		printf("    ");
		print_op(stdout, &ops[i]);
	}
	printf("  which fails with: %s: %s\n", cat, why);
	if (dir) {
		char file[4096];
		snprintf(file, sizeof(file), "%s/minimal.ops.txt", dir);
		write_ops(file, s, "minimal reproduction", ops, n);
		printf("  (saved in %s)\n", file);
	}
done:
	talloc_free(mem);
}

static void write_info(const char *dir, const struct run *u, const struct start *s,
		       uint64_t seed, uint64_t seq, size_t nops)
{
	char file[4096];
	struct features ft = { .lone = false };
	FILE *f;

	scan_key(&ft, u->m->root);
	snprintf(file, sizeof(file), "%s/INFO", dir);
	f = fopen(file, "w");
	if (!f)
		return;
	fprintf(f, "result=%s\nversion=1.%u\nbase=%s\nseed=%" PRIu64 "\nsequence=%"
		PRIu64 "\nops=%zu\nkeys=%zu\nvalues=%zu\nmax_subkeys=%zu\n"
		"lone_surrogates=%d\nnul_in_names=%d\ncontrol_chars=%d\n"
		"non_ascii=%d\ndefault_literal=%d\nclass_not_utf16=%d\n",
		u->cat ? "FAIL" : "ok", u->minor, s->base_name ? s->base_name : "-",
		seed, seq, nops, ft.keys, ft.values, ft.max_kids, ft.lone, ft.nul,
		ft.ctrl, ft.nonascii, ft.default_literal, ft.bad_class);
	fclose(f);
}

/* One generated sequence; true if it passed. */
static bool run_sequence(struct ctx *c, const struct start *base, uint64_t seq)
{
	void *mem = talloc_new(NULL);
	struct rng r = rng_from(c->seed, seq);
	struct start s = *base;
	struct gen g = { .r = rng_from(rnd(&r), 1), .ops = c->ops };
	struct run u = { .mem = talloc_new(mem), .fail_op = SIZE_MAX,
			 .vr = rng_from(c->seed, 99), .st = &c->st,
			 .check_every = c->check_every };
	struct op *ops = need(talloc_array(mem, struct op, c->ops ? c->ops : 1));
	char dir[4096] = "", path[4200];
	size_t n = 0;

	if (!s.base) {
		s.minor = c->force_minor ? c->force_minor : chance(&r, 35) ? 3 : 5;
		s.root = gen_name(mem, &r, chance(&r, 50) ? NF_RICH : 0, true,
				  between(&r, 1, 24));
	}
	g.flags = (chance(&r, 85) ? NF_RICH : 0) | (chance(&r, 20) ? NF_LONE : 0) |
		  (chance(&r, 30) ? NF_NUL : 0) | (chance(&r, 15) ? NF_CTRL : 0);
	if (c->no_lone)
		g.flags &= ~NF_LONE;
	g.bigkey = chance(&r, s.base ? 30 : 12);
	if (c->out) {
		snprintf(dir, sizeof(dir), "%s/seq-%06" PRIu64, c->out, seq);
		if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
			fprintf(stderr, "model_test: %s: %s\n", dir, strerror(errno));
			exit(2);
		}
		snprintf(path, sizeof(path), "%s/hive", dir);
	} else {
		snprintf(path, sizeof(path), "%s", c->scratch);
	}
	if (begin(&u, &s) == 0) {
		s.minor = u.minor;
		for (uint32_t i = 0; i < c->ops && !u.cat; i++) {
			gen_op(&g, u.m, i, mem, &ops[n]);
			if (apply(&u, &ops[n++]) < 0 && u.fail_op == SIZE_MAX)
				u.fail_op = n - 1;
			else if (u.check_every)
				check_now(&u, n - 1);
		}
		if (!u.cat)
			validate(&u, path);
	}
	if (s.base)
		c->st.seq_base++;
	else if (s.minor == 3)
		c->st.seq_v13++;
	else
		c->st.seq_v15++;
	c->st.seq_split += u.went_big;
	c->st.seq_merge += u.came_back;
	if (c->out && u.m) {
		char file[4200], note[200];
		snprintf(file, sizeof(file), "%s/EXPECTED.dump", dir);
		if (write_dump(u.m, file) != 0)
			fprintf(stderr, "model_test: cannot write %s\n", file);
		snprintf(file, sizeof(file), "%s/WRITTEN", dir);
		FILE *wf = fopen(file, "w");
		if (wf) {
			written_key(wf, u.m->root);
			fclose(wf);
		}
		snprintf(file, sizeof(file), "%s/ops.txt", dir);
		snprintf(note, sizeof(note), "model_test --seed %" PRIu64 " --first %"
			 PRIu64 " --sequences 1 --ops %u", c->seed, seq, c->ops);
		write_ops(file, &s, note, ops, n);
		write_info(dir, &u, &s, c->seed, seq, n);
	}
	if (verbose)
		printf("sequence %" PRIu64 ": 1.%u%s, %zu ops, %zu keys: %s\n", seq, s.minor,
		       s.base ? " (base)" : "", n, u.m ? u.m->nall : 0,
		       u.cat ? "FAIL" : "ok");
	bool ok = !u.cat;
	if (!ok) {
		char label[256];
		snprintf(label, sizeof(label), "sequence %" PRIu64 " (--seed %" PRIu64
			 " --first %" PRIu64 " --sequences 1 --ops %u%s%s)", seq, c->seed,
			 seq, c->ops, s.base ? " --base " : "", s.base ? s.base_name : "");
		report_failure(c, &s, ops, n, &u, label, c->out ? dir : NULL);
	}
	talloc_free(mem);
	fflush(stdout);
	return ok;
}

/* --replay FILE: run a saved op list once (and shrink it if it fails). */
static int replay_file(struct ctx *c, const struct start *base, const char *file)
{
	void *mem = talloc_new(NULL);
	FILE *f = fopen(file, "r");
	char *line = NULL;
	size_t cap = 0, n = 0, ncap = 16;
	struct op *ops = need(talloc_array(mem, struct op, ncap));
	struct start s = *base;
	unsigned lineno = 0;

	if (!f) {
		fprintf(stderr, "model_test: %s: %s\n", file, strerror(errno));
		return 2;
	}
	if (!s.base) {
		s.minor = c->force_minor ? c->force_minor : 5;
		s.root = u16_ascii(mem, "ROOT");
	}
	while (getline(&line, &cap, f) > 0) {
		lineno++;
		if (strncmp(line, "#!", 2) == 0) {
			char *v = strstr(line, "version=1."), *rt = strstr(line, "root=");
			if (v && !c->force_minor)
				s.minor = (uint32_t)atoi(v + 10);
			if (rt && !s.base) {
				size_t len = strcspn(rt + 5, " \t\r\n");
				if (!unescape(mem, rt + 5, len, &s.root))
					fprintf(stderr, "%s:%u: bad root name\n", file, lineno);
			}
			continue;
		}
		if (n == ncap)
			ops = need(talloc_realloc(mem, ops, struct op, ncap *= 2));
		int got = parse_op(mem, line, &ops[n]);
		if (got < 0) {
			fprintf(stderr, "%s:%u: cannot parse: %s", file, lineno, line);
			return 2;
		}
		n += (size_t)got;
	}
	free(line);
	fclose(f);
	struct run u = { .mem = talloc_new(mem), .fail_op = SIZE_MAX,
			 .vr = rng_from(c->seed, 99), .st = &c->st,
			 .check_every = c->check_every };
	if (begin(&u, &s) == 0) {
		for (size_t i = 0; i < n && !u.cat; i++) {
			if (verbose) {
				printf("op #%zu: ", i);
				print_op(stdout, &ops[i]);
			}
			if (apply(&u, &ops[i]) < 0 && u.fail_op == SIZE_MAX)
				u.fail_op = i;
			else if (u.check_every)
				check_now(&u, i);
		}
		if (!u.cat)
			validate(&u, c->scratch);
	}
	bool ok = !u.cat;
	printf("replay of %s: %zu ops: %s\n", file, n, ok ? "ok" : "FAILED");
	if (!ok)
		report_failure(c, &s, ops, n, &u, file, NULL);
	printf("%d passed, %d failed\n", ok, !ok);
	talloc_free(mem);
	return ok ? 0 : 1;
}

static void print_summary(const struct ctx *c, uint64_t done, uint64_t failed,
			  double secs)
{
	const struct stats *st = &c->st;
	uint64_t total = 0;

	for (int k = 0; k < OP__COUNT; k++)
		total += st->ops[k];
	printf("model_test: seed %" PRIu64 ", %" PRIu64 " sequences of %u ops "
	       "(1.3: %" PRIu64 ", 1.5: %" PRIu64 ", from a base hive: %" PRIu64
	       ") in %.1f s\n", c->seed, done, c->ops, st->seq_v13, st->seq_v15,
	       st->seq_base, secs);
	printf("  operations: %" PRIu64, total);
	for (int k = 0; k < OP__COUNT; k++)
		printf(", %s %" PRIu64, op_names[k], st->ops[k]);
	printf("\n  results:");
	for (int e = 0; e < HIVE_E__COUNT; e++)
		if (st->rc[e])
			printf(" %s %" PRIu64, rc_name(e), st->rc[e]);
	printf("\n  values set: %" PRIu64 " (%" PRIu64 " replacing): inline %" PRIu64
	       ", one cell %" PRIu64 ", 16343 bytes %" PRIu64 ", 16344 bytes %" PRIu64
	       ", 16345 bytes %" PRIu64 ", bigger %" PRIu64 "\n", st->values_set,
	       st->values_replaced, st->size_inline, st->size_cell, st->size_16343,
	       st->size_16344, st->size_16345, st->size_big);
	printf("  keys created %" PRIu64 ", deleted %" PRIu64 "; most subkeys in one "
	       "key %zu; sequences past the ri split (%u) %" PRIu64 ", back under it %"
	       PRIu64 "\n", st->keys_created, st->keys_deleted, st->max_kids,
	       LEAF_SPLIT, st->seq_split, st->seq_merge);
	if (st->skipped)
		printf("  skipped (key gone): %" PRIu64 "\n", st->skipped);
	printf("%" PRIu64 " passed, %" PRIu64 " failed\n", done - failed, failed);
}

static void usage(FILE *f)
{
	fputs("Usage: model_test [OPTIONS]\n"
	      "Random operation sequences applied to the hivefs engine and to a model;\n"
	      "after each: hive_check clean, save, reopen, compare with the model.\n\n"
	      "  --seed S          base seed (default 1)\n"
	      "  --sequences N     number of sequences (default 100)\n"
	      "  --first K         index of the first sequence (default 0)\n"
	      "  --ops M           operations per sequence (default 200)\n"
	      "  --version 3|5     only 1.3 or only 1.5 hives (default: both)\n"
	      "  --base HIVE       start each sequence from a copy of HIVE\n"
	      "  --out DIR         keep DIR/seq-K/{hive,EXPECTED.dump,ops.txt,INFO}\n"
	      "  --time-limit SEC  start no sequence after SEC seconds\n"
	      "  --replay FILE     run the op list in FILE (ops.txt format) once\n"
	      "  --check-every     run hive_check after every operation\n"
	      "  --no-lone-surrogates  no unpaired surrogates in names and classes\n"
	      "                    (hivex and libregf cannot read those)\n"
	      "  --no-minimize     do not shrink failing sequences\n"
	      "  -v, --verbose     one line per sequence\n"
	      "  -h, --help        this text\n\n"
	      "The last line is \"N passed, F failed\"; exit status 0 if F = 0, 1 if\n"
	      "not, 2 on a usage or setup error.\n", f);
}

static uint8_t *read_whole(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t cap = 0, n = 0, got;

	if (!f)
		return NULL;
	do {
		if (n == cap)
			buf = need(realloc(buf, cap = cap ? 2 * cap : 1 << 20));
		got = fread(buf + n, 1, cap - n, f);
		n += got;
	} while (got > 0);
	fclose(f);
	*len = n;
	return buf;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "seed", required_argument, NULL, 's' },
		{ "sequences", required_argument, NULL, 'n' },
		{ "first", required_argument, NULL, 'f' },
		{ "ops", required_argument, NULL, 'm' },
		{ "version", required_argument, NULL, 'V' },
		{ "base", required_argument, NULL, 'b' },
		{ "out", required_argument, NULL, 'o' },
		{ "time-limit", required_argument, NULL, 't' },
		{ "replay", required_argument, NULL, 'r' },
		{ "check-every", no_argument, NULL, 'c' },
		{ "no-minimize", no_argument, NULL, 'M' },
		{ "no-lone-surrogates", no_argument, NULL, 'L' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct ctx c = { .seed = 1, .ops = 200, .minimize = true, .max_replays = 3000,
			 .minimize_seconds = 120 };
	struct start base = { .minor = 5 };
	uint64_t sequences = 100, first = 0, done = 0, failed = 0;
	double limit = 0, t0 = now_seconds();
	const char *replay_path = NULL;
	char tmpl[4096];
	int opt;

	while ((opt = getopt_long(argc, argv, "vh", longopts, NULL)) != -1) {
		switch (opt) {
		case 's': c.seed = strtoull(optarg, NULL, 0); break;
		case 'n': sequences = strtoull(optarg, NULL, 0); break;
		case 'f': first = strtoull(optarg, NULL, 0); break;
		case 'm': c.ops = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'V':
			c.force_minor = (uint32_t)atoi(strncmp(optarg, "1.", 2) ? optarg : optarg + 2);
			if (c.force_minor != 3 && c.force_minor != 5) {
				fprintf(stderr, "model_test: --version is 3 or 5\n");
				return 2;
			}
			break;
		case 'b': base.base_name = optarg; break;
		case 'o': c.out = optarg; break;
		case 't': limit = atof(optarg); break;
		case 'r': replay_path = optarg; break;
		case 'c': c.check_every = true; break;
		case 'M': c.minimize = false; break;
		case 'L': c.no_lone = true; break;
		case 'v': verbose = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	case_init();
	sd_init();
	if (base.base_name) {
		base.base = read_whole(base.base_name, &base.base_len);
		if (!base.base) {
			fprintf(stderr, "model_test: %s: %s\n", base.base_name, strerror(errno));
			return 2;
		}
	}
	if (c.out && mkdir(c.out, 0755) != 0 && errno != EEXIST) {
		fprintf(stderr, "model_test: %s: %s\n", c.out, strerror(errno));
		return 2;
	}
	c.tmpdir = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	snprintf(tmpl, sizeof(tmpl), "%s/model_test.XXXXXX", c.tmpdir);
	if (!mkdtemp(tmpl)) {
		fprintf(stderr, "model_test: %s: %s\n", tmpl, strerror(errno));
		return 2;
	}
	c.scratch = need(talloc_asprintf(NULL, "%s/hive", tmpl));

	int status;
	if (replay_path) {
		status = replay_file(&c, &base, replay_path);
	} else {
		for (uint64_t s = first; s < first + sequences; s++) {
			if (limit > 0 && now_seconds() - t0 > limit) {
				printf("model_test: time limit reached after %" PRIu64
				       " of %" PRIu64 " sequences\n", done, sequences);
				break;
			}
			done++;
			if (!run_sequence(&c, &base, s))
				failed++;
		}
		print_summary(&c, done, failed, now_seconds() - t0);
		status = failed ? 1 : 0;
	}
	unlink(c.scratch);
	rmdir(tmpl);
	talloc_free(c.scratch);
	free((void *)base.base);
	return status;
}
