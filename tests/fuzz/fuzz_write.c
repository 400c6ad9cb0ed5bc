/*
 * fuzz_write.c — libFuzzer target over the write path: random operation
 * sequences (set/delete values, create/delete/rename/move keys, classes,
 * descriptors, times) on small hives built in code or on hive images from
 * the input; afterwards a hive that was sound must still be: hive_check
 * finds nothing and every read call succeeds on every key and value.
 *
 * Input
 *  - starting with "regf" and at least 8 KiB: a hive image.  The image is
 *    the first 4096 + (bins size) bytes; its checksum is recomputed and the
 *    secondary sequence number set to the primary so that it opens for
 *    writing.  The bytes after the image are the operation stream (corpus
 *    hives are valid inputs as they are: no operations).
 *  - anything else: byte 0 chooses one of the seed hives built in code (1.5
 *    and 1.3, small, and with a list past the ri split); the rest is the
 *    operation stream.
 * Each operation is an opcode byte followed by its arguments; keys are
 * chosen by index into the keys known so far, names from a small alphabet
 * rich in case pairs, surrogates, NUL and '\' so that clashes happen.
 * hive_check is only required to be clean afterwards if it was before:
 * arbitrary images may be damaged in ways the engine does not refuse.
 * FUZZ_WRITE_TRACE=1 in the environment prints each operation and result
 * (for replaying a finding: ./fuzz_write FILE).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <talloc.h>

#include "hive.h"

#define MAX_OPS 64
#define MAX_KEYS 4096

/* ---- seed hives, built once ---- */

struct image {
	uint8_t *data;
	size_t len;
};

static struct image seeds[4];
static const unsigned n_seeds = 4;

static const uint16_t alphabet[] = {
	'a', 'A', 'b', 'B', 'z', 'Z', '0', '_', ' ', '%', 0xE9, 0xC9, 0xFF, 0x178,
	0x3C3, 0x3A3, 0x3C2, 0x131, 0x49, 0x69, 0x130, 0xDF, 0x1E9E, 0xFF41,
	0xFF21, 0x4E00, 0xD801, 0xDC00, 0xD83D, 0xDE00, 0, '\\', 0xFEFF, 0xFFFF,
};
#define ALPHABET (sizeof(alphabet) / sizeof(alphabet[0]))

static int must(int rc, const char *what)
{
	if (rc != HIVE_OK) {
		fprintf(stderr, "fuzz_write: building seeds: %s: %s (%s)\n", what,
			hive_strerror(rc), hive_error_detail());
		abort();
	}
	return rc;
}

static hive_key_t add_key(struct hive *h, hive_key_t parent, const char *name)
{
	uint16_t u[64];
	size_t n = strlen(name);
	hive_key_t k;

	for (size_t i = 0; i < n; i++)
		u[i] = (uint8_t)name[i];
	must(hive_key_create(h, parent, u, n, &k), name);
	return k;
}

static void add_value(struct hive *h, hive_key_t key, const char *name,
		      uint32_t type, size_t len)
{
	uint16_t u[64];
	size_t n = strlen(name);
	uint8_t *data = malloc(len ? len : 1);

	for (size_t i = 0; i < n; i++)
		u[i] = (uint8_t)name[i];
	for (size_t i = 0; i < len; i++)
		data[i] = (uint8_t)(i * 13 + n);
	must(hive_value_set(h, key, u, n, type, data, len, NULL), name);
	free(data);
}

/* Save to a temporary file and keep its bytes. */
static void keep_image(struct hive *h, struct image *out)
{
	char path[] = "/tmp/fuzz_write.XXXXXX";
	int fd = mkstemp(path);
	FILE *f;

	if (fd < 0)
		abort();
	close(fd);
	must(hive_save_as(h, path), "save");
	f = fopen(path, "rb");
	if (!f || fseek(f, 0, SEEK_END) != 0)
		abort();
	out->len = (size_t)ftell(f);
	out->data = malloc(out->len);
	rewind(f);
	if (!out->data || fread(out->data, 1, out->len, f) != out->len)
		abort();
	fclose(f);
	unlink(path);
}

static void build_seeds(void)
{
	static const uint8_t sd[] = {
		1, 0, 4, 0x80, 20, 0, 0, 0, 32, 0, 0, 0, 0, 0, 0, 0, 44, 0, 0, 0,
		1, 1, 0, 0, 0, 0, 0, 5, 18, 0, 0, 0,        /* owner S-1-5-18 */
		1, 1, 0, 0, 0, 0, 0, 5, 18, 0, 0, 0,        /* group */
		2, 0, 28, 0, 1, 0, 0, 0,                    /* DACL, one ACE */
		0, 2, 20, 0, 0x3F, 0, 0x0F, 0,
		1, 1, 0, 0, 0, 0, 0, 5, 18, 0, 0, 0,
	};
	const uint16_t root[] = { 'R', 'O', 'O', 'T' };

	for (unsigned s = 0; s < n_seeds; s++) {
		void *mem = talloc_new(NULL);
		struct hive *h;
		uint32_t minor = s % 2 ? 3 : 5;
		must(hive_create(mem, minor, root, 4, &h), "create");
		hive_key_t r = hive_root(h);
		hive_key_t a = add_key(h, r, "Alpha"), b = add_key(h, r, "beta");
		hive_key_t c = add_key(h, a, "Gamma");
		add_key(h, c, "delta");
		add_value(h, r, "", 1, 12);
		add_value(h, a, "small", 4, 4);
		add_value(h, a, "three", 3, 3);
		add_value(h, a, "cell", 3, 300);
		add_value(h, b, "edge", 3, 16344);
		add_value(h, b, "big", 3, 16345 + 7 * s);
		must(hive_key_set_class(h, c, "c\0l\0s\0", 6), "class");
		must(hive_key_set_security(h, b, sd, sizeof(sd)), "security");
		if (s >= 2) {                   /* a list past the ri split */
			char name[32];
			hive_key_t many = add_key(h, r, "many");
			for (unsigned i = 0; i < 505; i++) {
				snprintf(name, sizeof(name), "k%u", i * 7919 % 1000);
				add_key(h, many, name);
			}
		}
		keep_image(h, &seeds[s]);
		talloc_free(mem);
	}
}

/* ---- reading the input ---- */

struct input {
	const uint8_t *p;
	size_t n;
	bool out;               /* ran past the end */
};

static uint8_t byte(struct input *in)
{
	if (in->n == 0) {
		in->out = true;
		return 0;
	}
	in->n--;
	return *in->p++;
}

static size_t name_from(struct input *in, uint16_t *name, size_t max)
{
	size_t len = byte(in) % 14, i;

	if (len == 13)
		len = 256 + byte(in) % 2;       /* 256: too long for a key */
	if (len > max)
		len = max;
	for (i = 0; i < len; i++)
		name[i] = alphabet[byte(in) % ALPHABET];
	return len;
}

static size_t size_from(struct input *in)
{
	static const size_t sizes[] = {
		0, 1, 2, 3, 4, 5, 8, 100, 1000, 16343, 16344, 16345, 16349, 32689, 40000,
	};
	uint8_t b = byte(in);

	if (b < 128)
		return b % 64;
	return sizes[b % (sizeof(sizes) / sizeof(sizes[0]))];
}

/* ---- the target ---- */

static bool trace;

struct state {
	void *mem;
	struct hive *h;
	hive_key_t keys[MAX_KEYS];
	size_t nkeys;
	bool seeded;            /* a seed built in code (stronger checks) */
};

static void note_finding(void *arg, const char *finding)
{
	(void)arg;
	fprintf(stderr, "fuzz_write: hive_check: %s\n", finding);
}

static void silent(void *arg, const char *finding)
{
	(void)arg;
	(void)finding;
}

static int collect(void *arg, hive_key_t key, unsigned depth)
{
	struct state *s = arg;

	(void)depth;
	if (s->nkeys < MAX_KEYS)
		s->keys[s->nkeys++] = key;
	return 0;
}

static hive_key_t pick(struct state *s, struct input *in, size_t *idx)
{
	size_t i = s->nkeys ? byte(in) % s->nkeys : 0;

	if (idx)
		*idx = i;
	return s->nkeys ? s->keys[i] : hive_root(s->h);
}

static void forget(struct state *s, size_t i)
{
	s->keys[i] = s->keys[--s->nkeys];
}

static void replace(struct state *s, hive_key_t old, hive_key_t now)
{
	for (size_t i = 0; i < s->nkeys; i++)
		if (s->keys[i] == old)
			s->keys[i] = now;
}

/* A case variant of the name of value `which` of key k (or a fresh name). */
static size_t value_name(struct state *s, struct input *in, hive_key_t k,
			 uint16_t *name, size_t max)
{
	hive_value_t *vals;
	size_t n, len = 0;
	uint8_t b = byte(in);

	if (b < 128 && hive_key_values(s->mem, s->h, k, &vals, &n) == HIVE_OK && n) {
		uint16_t *vn;
		if (hive_value_name(s->mem, s->h, vals[b % n], &vn, &len) == HIVE_OK &&
		    len <= max) {
			for (size_t i = 0; i < len; i++)
				name[i] = b & 1 ? hive_upcase(vn[i]) : vn[i];
			return len;
		}
	}
	return name_from(in, name, max);
}

static void run_op(struct state *s, struct input *in)
{
	uint16_t name[300];
	size_t len = 0, idx;
	hive_key_t k = HIVE_NO_CELL, other = HIVE_NO_CELL;
	uint8_t op = byte(in);
	int rc = -1;

	switch (op % 10) {
	case 0: {                               /* set value */
		static const uint32_t types[] = { 0, 1, 2, 3, 4, 5, 7, 11, 0x7FFFFFFF,
						  0xFFFFFFFF, 0x20001 };
		k = pick(s, in, NULL);
		len = value_name(s, in, k, name, sizeof(name) / 2);
		uint32_t type = types[byte(in) % (sizeof(types) / sizeof(types[0]))];
		size_t dlen = size_from(in);
		uint8_t fill = byte(in), *data = malloc(dlen ? dlen : 1);
		for (size_t i = 0; i < dlen; i++)
			data[i] = (uint8_t)(fill + i * 31);
		rc = hive_value_set(s->h, k, name, len, type, data, dlen, NULL);
		free(data);
		break;
	}
	case 1:                                 /* delete value */
		k = pick(s, in, NULL);
		len = value_name(s, in, k, name, sizeof(name) / 2);
		rc = hive_value_delete(s->h, k, name, len);
		break;
	case 2:                                 /* create key */
	case 9:
		k = pick(s, in, NULL);
		len = name_from(in, name, sizeof(name) / 2);
		rc = hive_key_create(s->h, k, name, len, &other);
		if (rc == HIVE_OK && s->nkeys < MAX_KEYS)
			s->keys[s->nkeys++] = other;
		break;
	case 3:                                 /* delete key */
		k = pick(s, in, &idx);
		rc = hive_key_delete(s->h, k);
		if (rc == HIVE_OK && s->nkeys)
			forget(s, idx);
		break;
	case 4:                                 /* rename */
	case 5:                                 /* move */
		k = pick(s, in, NULL);
		other = op % 10 == 5 ? pick(s, in, NULL) : HIVE_NO_CELL;
		if (byte(in) & 1) {
			uint16_t *own;
			if (hive_key_name(s->mem, s->h, k, &own, &len) != HIVE_OK ||
			    len > sizeof(name) / 2)
				break;
			for (size_t i = 0; i < len; i++)
				name[i] = hive_upcase(own[i]);
		} else {
			len = name_from(in, name, sizeof(name) / 2);
		}
		rc = hive_key_rename(s->h, k, other, name, len, &other);
		if (rc == HIVE_OK)
			replace(s, k, other);
		break;
	case 6: {                               /* class */
		size_t clen = size_from(in) & ~(size_t)1;
		uint8_t *cls = calloc(1, clen ? clen : 1);
		k = pick(s, in, NULL);
		for (size_t i = 0; i + 1 < clen; i += 2)
			cls[i] = (uint8_t)('a' + i % 26);
		rc = hive_key_set_class(s->h, k, cls, clen > 0xFFFF ? 0xFFFE : clen);
		free(cls);
		break;
	}
	case 7: {                               /* security descriptor */
		uint8_t sd[64] = { 1, 0, 4, 0x80 };
		size_t sdlen = 20 + byte(in) % 3 * 8;
		k = pick(s, in, NULL);
		sd[19] = byte(in) % 4;          /* a few distinct descriptors */
		rc = hive_key_set_security(s->h, k, sd, byte(in) % 16 ? sdlen : 8);
		break;
	}
	default: {                              /* LastWriteTime */
		uint64_t t = 0;
		k = pick(s, in, NULL);
		for (int i = 0; i < 8; i++)
			t = t << 8 | byte(in);
		rc = hive_key_set_time(s->h, k, t);
		break;
	}
	}
	if (trace)
		fprintf(stderr, "fuzz_write: op %u on key 0x%x (name of %zu units): %s\n",
			op % 10, k, len, rc < 0 ? "-" : hive_strerror(rc));
}

/* Every read call must succeed on every key and value of a sound hive. */
static int read_all(void *arg, hive_key_t key, unsigned depth)
{
	struct state *s = arg;
	void *tmp = talloc_new(s->mem);
	struct hive_key_stat st;
	uint16_t *name;
	uint8_t *bytes;
	size_t len, n, nvals;
	hive_key_t *kids, again;
	hive_value_t *vals, v;

	(void)depth;
	if (hive_key_stat(s->h, key, &st) || hive_key_name(tmp, s->h, key, &name, &len) ||
	    hive_key_class(tmp, s->h, key, &bytes, &len) ||
	    hive_key_security(tmp, s->h, key, &bytes, &len) ||
	    hive_key_subkeys(tmp, s->h, key, &kids, &n) ||
	    hive_key_values(tmp, s->h, key, &vals, &nvals)) {
		fprintf(stderr, "fuzz_write: key 0x%x: %s\n", key, hive_error_detail());
		abort();
	}
	for (size_t i = 0; i < n; i++) {
		uint16_t *kn;
		size_t kl;
		if (hive_key_name(tmp, s->h, kids[i], &kn, &kl) ||
		    hive_key_lookup(s->h, key, kn, kl, &again) ||
		    (s->seeded && again != kids[i])) {
			fprintf(stderr, "fuzz_write: subkey 0x%x of 0x%x: lookup fails\n",
				kids[i], key);
			abort();
		}
	}
	for (size_t i = 0; i < nvals; i++) {
		struct hive_value_stat vst;
		uint16_t *vn;
		size_t vl, dl;
		uint8_t *data;
		if (hive_value_stat(s->h, vals[i], &vst) ||
		    hive_value_name(tmp, s->h, vals[i], &vn, &vl) ||
		    hive_value_data(tmp, s->h, vals[i], &data, &dl) || dl != vst.data_len ||
		    hive_value_lookup(s->h, key, vn, vl, &v) ||
		    (s->seeded && v != vals[i])) {
			fprintf(stderr, "fuzz_write: value 0x%x of key 0x%x: %s\n", vals[i],
				key, hive_error_detail());
			abort();
		}
	}
	talloc_free(tmp);
	return 0;
}

static int walk_error(void *arg, hive_key_t parent, unsigned depth, hive_key_t child,
		      int err)
{
	(void)arg;
	fprintf(stderr, "fuzz_write: walk: key 0x%x (depth %u), child 0x%x: %s\n",
		parent, depth, child, hive_strerror(err));
	abort();
}

static uint32_t le32_at(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool built;
	struct state s = { .mem = talloc_new(NULL) };
	struct input in;
	uint8_t *image = NULL;
	size_t image_len;
	bool clean;

	if (!built) {
		build_seeds();
		trace = getenv("FUZZ_WRITE_TRACE") != NULL;
		built = true;
	}
	if (size >= 8192 && memcmp(data, "regf", 4) == 0) {
		uint32_t bins = le32_at(data + 40), sum = 0;
		image_len = bins <= size - 4096 ? 4096 + (size_t)bins : size;
		image = malloc(image_len);
		memcpy(image, data, image_len);
		memcpy(image + 8, image + 4, 4);        /* not dirty */
		for (unsigned i = 0; i < 127; i++)
			sum ^= le32_at(image + 4 * i);
		sum = sum == 0 ? 1 : sum == 0xFFFFFFFFu ? 0xFFFFFFFEu : sum;
		for (unsigned b = 0; b < 4; b++)
			image[508 + b] = (uint8_t)(sum >> (8 * b));
		in = (struct input){ data + image_len, size - image_len, false };
	} else {
		const struct image *seed = &seeds[size ? data[0] % n_seeds : 0];
		image = malloc(seed->len);
		memcpy(image, seed->data, seed->len);
		image_len = seed->len;
		in = (struct input){ size ? data + 1 : data, size ? size - 1 : 0, false };
		s.seeded = true;
	}
	if (hive_open_memory(s.mem, image, image_len, 0, &s.h) != HIVE_OK)
		goto done;
	clean = !hive_read_only_reason(s.h) && hive_check(s.h, silent, NULL) == 0;
	if (trace)
		fprintf(stderr, "fuzz_write: %s of %zu bytes, %s, %zu bytes of operations\n",
			s.seeded ? "seed hive" : "image", image_len,
			clean ? "clean" : hive_read_only_reason(s.h) ? "read-only" : "not clean",
			in.n);
	if (s.seeded && !clean) {
		fprintf(stderr, "fuzz_write: a seed hive is not clean\n");
		abort();
	}
	const struct hive_walk_ops collect_ops = { .on_key = collect };
	hive_walk(s.h, hive_root(s.h), &collect_ops, &s);
	for (unsigned i = 0; i < MAX_OPS && !in.out && in.n; i++)
		run_op(&s, &in);
	if (clean) {
		const struct hive_walk_ops read_ops = { .on_key = read_all,
							.on_error = walk_error };
		unsigned n = hive_check(s.h, note_finding, NULL);
		if (n) {
			fprintf(stderr, "fuzz_write: %u findings after the operations\n", n);
			abort();
		}
		hive_walk(s.h, hive_root(s.h), &read_ops, &s);
	}
done:
	free(image);
	talloc_free(s.mem);
	return 0;
}
