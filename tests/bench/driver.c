/*
 * driver.c — bench-driver: the engine side of the write benchmarks
 * (tests/bench/setvalue runs it next to hivex_driver.py, which does the
 * same through python3-hivex).
 *
 *   bench-driver setvalue HIVE OPS
 *       Opens HIVE for writing, lists its keys in preorder (subkey-list
 *       order, the root first), applies every line of OPS
 *           KEYINDEX <TAB> NAME <TAB> TYPE <TAB> HEXDATA
 *       as a set-value (replace or create) on key number KEYINDEX, then
 *       saves.  Prints "keys N", then "load S", "ops S", "save S" and
 *       "total S" (seconds).
 *
 *   bench-driver churn HIVE ROUNDS NVALUES [NKEYS [SEED]]
 *       Each round sets NVALUES values spread over NKEYS keys of the hive
 *       (evenly spaced in preorder; default 100) and saves, then deletes
 *       them all and saves.  Data sizes come from churn_size() (the same
 *       function as in hivex_driver.py).  Prints "round R SIZE LOGS" with
 *       the sizes of the hive and of its two logs together after each
 *       round, then "time S".
 *
 *   bench-driver commit HIVE N
 *       Opens HIVE for writing and N times sets one small value on a key
 *       deep in the tree and commits (log entry + primary, all flushed).
 *       Prints "open S", the median and the mean commit time in seconds
 *       and the dirty data per commit: the cost of durability should
 *       follow the pages a change touches, not the size of the hive.
 *
 * Exit status 0, or 1 with a message on stderr.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <talloc.h>

#include "hive.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int fail(const char *what, int err)
{
	fprintf(stderr, "bench-driver: %s: %s: %s\n", what, hive_strerror(err),
		hive_error_detail());
	return 1;
}

/* ---- the keys in preorder ---- */

struct keys {
	hive_key_t *k;
	size_t n, cap;
};

static int collect(void *arg, hive_key_t key, unsigned depth)
{
	struct keys *ks = arg;

	(void)depth;
	if (ks->n == ks->cap) {
		ks->cap = ks->cap ? 2 * ks->cap : 4096;
		ks->k = realloc(ks->k, ks->cap * sizeof(*ks->k));
		if (!ks->k)
			return 1;
	}
	ks->k[ks->n++] = key;
	return 0;
}

static int list_keys(struct hive *h, struct keys *ks)
{
	const struct hive_walk_ops ops = { .on_key = collect };

	memset(ks, 0, sizeof(*ks));
	if (hive_walk(h, hive_root(h), &ops, ks) || !ks->k) {
		fprintf(stderr, "bench-driver: cannot list the keys\n");
		return 1;
	}
	return 0;
}

/* ---- setvalue ---- */

struct op {
	uint32_t key, type;
	uint16_t name[64];
	size_t name_len, len;
	uint8_t *data;
};

static int hexval(int c)
{
	return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

static int parse_ops(void *mem, const char *path, struct op **out, size_t *n)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0, count = 0, alloc = 0;
	struct op *ops = NULL;

	if (!f) {
		perror(path);
		return 1;
	}
	while (getline(&line, &cap, f) > 0) {
		char *name, *type, *hex;
		struct op *o;

		if (count == alloc) {
			alloc = alloc ? 2 * alloc : 4096;
			ops = talloc_realloc(mem, ops, struct op, alloc);
			if (!ops)
				return 1;
		}
		o = &ops[count];
		o->key = (uint32_t)strtoul(line, &name, 10);
		name++;
		type = strchr(name, '\t');
		hex = type ? strchr(type + 1, '\t') : NULL;
		if (!hex) {
			fprintf(stderr, "bench-driver: bad line %zu\n",
				count + 1);
			return 1;
		}
		*type++ = 0;
		*hex++ = 0;
		o->name_len = 0;
		for (char *c = name; *c && o->name_len < 64; c++)
			o->name[o->name_len++] = (uint8_t)*c; /* ASCII names */
		o->type = (uint32_t)strtoul(type, NULL, 10);
		o->len = strcspn(hex, "\n") / 2;
		o->data = talloc_array(ops, uint8_t, o->len ? o->len : 1);
		for (size_t i = 0; i < o->len; i++)
			o->data[i] = (uint8_t)(hexval(hex[2 * i]) << 4 |
					       hexval(hex[2 * i + 1]));
		count++;
	}
	free(line);
	fclose(f);
	*out = ops;
	*n = count;
	return 0;
}

static int run_setvalue(const char *path, const char *ops_path)
{
	void *mem = talloc_new(NULL);
	struct hive *h;
	struct keys ks;
	struct op *ops;
	size_t nops;
	double t0, t1, t2, t3;
	int err;

	if (parse_ops(mem, ops_path, &ops, &nops))
		return 1;
	t0 = now();
	err = hive_open(mem, path, 0, &h);
	if (err)
		return fail(path, err);
	if (list_keys(h, &ks))
		return 1;
	t1 = now();
	for (size_t i = 0; i < nops; i++) {
		if (ops[i].key >= ks.n) {
			fprintf(stderr, "bench-driver: key %u of %zu\n",
				ops[i].key, ks.n);
			return 1;
		}
		err = hive_value_set(h, ks.k[ops[i].key], ops[i].name,
				     ops[i].name_len, ops[i].type, ops[i].data,
				     ops[i].len, NULL);
		if (err)
			return fail("set value", err);
	}
	t2 = now();
	err = hive_save(h);
	if (err)
		return fail("save", err);
	t3 = now();
	printf("keys %zu\nload %.3f\nops %.3f\nsave %.3f\ntotal %.3f\n", ks.n,
	       t1 - t0, t2 - t1, t3 - t2, t3 - t0);
	free(ks.k);
	talloc_free(mem);
	return 0;
}

/* ---- churn ---- */

static uint64_t splitmix(uint64_t x)
{
	x += 0x9E3779B97F4A7C15ull;
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
	x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
	return x ^ (x >> 31);
}

/*
 * Size of value i in round r: 40 % inline (0-4 bytes), 40 % 5-200,
 * 15 % 201-4000, 4.5 % 4001-16344, 0.5 % big data (16345-40000).
 */
static uint32_t churn_size(uint64_t seed, uint32_t round, uint32_t i)
{
	uint64_t x = splitmix(seed ^ ((uint64_t)round << 32 | i));
	uint32_t pick = (uint32_t)(x % 1000), r = (uint32_t)(x >> 32);

	if (pick < 400)
		return r % 5;
	if (pick < 800)
		return 5 + r % 196;
	if (pick < 950)
		return 201 + r % 3800;
	if (pick < 995)
		return 4001 + r % 12344;
	return 16345 + r % 23656;
}

static long file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (long)st.st_size : 0;
}

/* Bytes in PATH.LOG1 and PATH.LOG2 (what commits leave beside the hive). */
static long log_size(const char *path)
{
	char name[4096];
	long total = 0;

	for (int i = 1; i <= 2; i++) {
		snprintf(name, sizeof(name), "%s.LOG%d", path, i);
		total += file_size(name);
	}
	return total;
}

static int run_churn(const char *path, uint32_t rounds, uint32_t nvalues,
		     uint32_t nkeys, uint64_t seed)
{
	void *mem = talloc_new(NULL);
	struct hive *h;
	struct keys ks;
	hive_key_t *targets;
	uint8_t *data = talloc_array(mem, uint8_t, 40000);
	double t0 = now();
	int err = hive_open(mem, path, 0, &h);

	if (err)
		return fail(path, err);
	if (list_keys(h, &ks))
		return 1;
	if (nkeys > ks.n)
		nkeys = (uint32_t)ks.n;
	targets = talloc_array(mem, hive_key_t, nkeys);
	for (uint32_t k = 0; k < nkeys; k++)
		targets[k] = ks.k[(size_t)k * ks.n / nkeys];
	for (size_t i = 0; i < 40000; i++)
		data[i] = (uint8_t)(i * 7 + 1);

	for (uint32_t r = 1; r <= rounds; r++) {
		for (uint32_t i = 0; i < nvalues; i++) {
			uint16_t name[16];
			char ascii[16];
			size_t len = (size_t)snprintf(ascii, sizeof(ascii),
						      "churn%05u", i);
			for (size_t c = 0; c < len; c++)
				name[c] = (uint8_t)ascii[c];
			err = hive_value_set(h, targets[i % nkeys], name, len,
					     HIVE_REG_BINARY, data,
					     churn_size(seed, r, i), NULL);
			if (err)
				return fail("set value", err);
		}
		err = hive_save(h);
		if (err)
			return fail("save", err);
		for (uint32_t i = 0; i < nvalues; i++) {
			uint16_t name[16];
			char ascii[16];
			size_t len = (size_t)snprintf(ascii, sizeof(ascii),
						      "churn%05u", i);
			for (size_t c = 0; c < len; c++)
				name[c] = (uint8_t)ascii[c];
			err = hive_value_delete(h, targets[i % nkeys], name,
						len);
			if (err)
				return fail("delete value", err);
		}
		err = hive_save(h);
		if (err)
			return fail("save", err);
		printf("round %u %ld %ld\n", r, file_size(path),
		       log_size(path));
		fflush(stdout);
	}
	printf("time %.3f\n", now() - t0);
	free(ks.k);
	talloc_free(mem);
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The last key of a preorder walk: some key deep in the tree. */
static int last_key(void *arg, hive_key_t key, unsigned depth)
{
	(void)depth;
	*(hive_key_t *)arg = key;
	return 0;
}

static int run_commit(const char *path, unsigned n)
{
	void *mem = talloc_new(NULL);
	struct hive *h;
	hive_key_t key;
	const struct hive_walk_ops ops = { .on_key = last_key };
	double t0 = now(), *times = talloc_array(mem, double, n ? n : 1), sum = 0;
	uint16_t name[] = { 'b', 'e', 'n', 'c', 'h' };
	int err = hive_open(mem, path, 0, &h);

	if (err) {
		fprintf(stderr, "bench-driver: %s: %s: %s\n", path,
			hive_strerror(err), hive_error_detail());
		talloc_free(mem);
		return 1;
	}
	printf("open %.4f\n", now() - t0);
	key = hive_root(h);
	hive_walk(h, hive_root(h), &ops, &key);
	for (unsigned i = 0; i < n; i++) {
		uint32_t v = i;
		double t = now();
		err = hive_value_set(h, key, name, 5, HIVE_REG_DWORD, &v, 4, NULL);
		if (!err)
			err = hive_commit(h);
		if (err) {
			fprintf(stderr, "bench-driver: commit: %s: %s\n",
				hive_strerror(err), hive_error_detail());
			talloc_free(mem);
			return 1;
		}
		times[i] = now() - t;
		sum += times[i];
	}
	qsort(times, n, sizeof(*times), cmp_double);
	printf("commits %u median %.6f mean %.6f\n", n, n ? times[n / 2] : 0,
	       n ? sum / n : 0);
	talloc_free(mem);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "commit"))
		return run_commit(argv[2], (unsigned)strtoul(argv[3], NULL, 10));
	if (argc == 4 && !strcmp(argv[1], "setvalue"))
		return run_setvalue(argv[2], argv[3]);
	if (argc >= 5 && argc <= 7 && !strcmp(argv[1], "churn")) {
		uint32_t keys = argc > 5 ? (uint32_t)strtoul(argv[5], NULL, 10)
					 : 100;
		uint64_t seed = argc > 6 ? strtoull(argv[6], NULL, 0) : 1;

		return run_churn(argv[2], (uint32_t)strtoul(argv[3], NULL, 10),
				 (uint32_t)strtoul(argv[4], NULL, 10), keys,
				 seed);
	}
	fputs("Usage: bench-driver setvalue HIVE OPS\n"
	      "       bench-driver commit HIVE N\n"
	      "       bench-driver churn HIVE ROUNDS NVALUES [NKEYS [SEED]]\n",
	      stderr);
	return 2;
}
