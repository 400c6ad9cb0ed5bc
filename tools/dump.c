/*
 * dump.c — `hivectl dump`: the canonical listing the oracle tests compare
 * against other readers.  The format is fixed (see the help text); change
 * it only together with the tests.  It is plain ASCII: names are escaped
 * per UTF-16 code unit, so NULs, surrogates and control characters in
 * names survive, and data is lowercase hex, so nothing is interpreted.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <talloc.h>

#include "hivectl.h"

struct dump_walk {
	struct walk_paths wp;
	unsigned errors;
};

static void put_name(const uint16_t *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] >= 0x21 && s[i] <= 0x7E && s[i] != '%' &&
		    s[i] != '\\')
			putchar(s[i]);
		else
			printf("%%%04x", s[i]);
	}
}

static void put_path(const struct keypath *p, size_t n)
{
	for (size_t i = 0; i < n && i < p->n; i++) {
		if (i)
			putchar('\\');
		put_name(p->ent[i].name, p->ent[i].len);
	}
}

static void put_hex(const uint8_t *data, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	char buf[4096];
	size_t used = 0;

	for (size_t i = 0; i < len; i++) {
		buf[used++] = digits[data[i] >> 4];
		buf[used++] = digits[data[i] & 15];
		if (used == sizeof(buf)) {
			fwrite(buf, 1, used, stdout);
			used = 0;
		}
	}
	fwrite(buf, 1, used, stdout);
}

/* An E line; the message is kept on one line and free of tabs. */
static void put_error(struct dump_walk *dw, size_t n, const char *what,
		      int err)
{
	char *text = err_text(NULL, err);

	fputs("E\t", stdout);
	put_path(&dw->wp.path, n);
	printf("\t%s: ", what);
	for (const char *c = text ? text : hive_strerror(err); *c; c++)
		putchar(*c == '\t' || *c == '\n' || *c == '\r' ? ' ' : *c);
	putchar('\n');
	talloc_free(text);
	dw->errors++;
}

static void dump_values(struct dump_walk *dw, hive_key_t key)
{
	void *tmp = talloc_new(NULL);
	struct hive *h = dw->wp.h;
	size_t n = dw->wp.path.n;
	hive_value_t *vals;
	size_t count;
	int err = hive_key_values(tmp, h, key, &vals, &count);

	if (err) {
		put_error(dw, n, "value list", err);
		goto done;
	}
	for (size_t i = 0; i < count; i++) {
		void *iter = talloc_new(tmp);
		struct hive_value_stat st;
		uint16_t *name = NULL;
		uint8_t *data;
		size_t name_len = 0, len;
		char what[64];

		snprintf(what, sizeof(what), "value %zu", i + 1);
		err = hive_value_stat(h, vals[i], &st);
		if (!err)
			err = hive_value_name(iter, h, vals[i], &name,
					      &name_len);
		if (!err)
			err = hive_value_data(iter, h, vals[i], &data, &len);
		if (err) {
			put_error(dw, n, what, err);
		} else {
			fputs("V\t", stdout);
			put_path(&dw->wp.path, n);
			putchar('\t');
			put_name(name, name_len);
			printf("\t%u\t", (unsigned)st.type);
			put_hex(data, len);
			putchar('\n');
		}
		talloc_free(iter);
	}
done:
	talloc_free(tmp);
}

static int dump_on_key(void *arg, hive_key_t key, unsigned depth)
{
	struct dump_walk *dw = arg;
	int err;

	if (!walk_paths_enter(&dw->wp, key, depth, &err)) {
		/* Unnamed keys are reported once; their subtree is skipped. */
		if (err)
			put_error(dw, dw->wp.path.n, "subkey name", err);
		return 0;
	}
	fputs("K\t", stdout);
	put_path(&dw->wp.path, dw->wp.path.n);
	putchar('\n');
	dump_values(dw, key);
	return 0;
}

static int dump_on_error(void *arg, hive_key_t parent, unsigned depth,
			 hive_key_t child, int err)
{
	struct dump_walk *dw = arg;
	const char *what;
	size_t n = walk_paths_error(&dw->wp, parent, depth, child, &what);

	put_error(dw, n, what, err);
	return 0;
}

static int run_dump(struct cmd_args *a)
{
	const struct hive_walk_ops ops = {
		.on_key = dump_on_key,
		.on_error = dump_on_error,
	};
	struct dump_walk dw = { .errors = 0 };
	struct hive *h = a->h;
	struct hive_info info;
	int err;

	hive_get_info(h, &info);
	/* Frame damage: the walk may still succeed, but the hive is not sound. */
	if (info.damaged_bins) {
		printf("E\t\t%" PRIu32 " hive bin(s) with a damaged header\n",
		       info.damaged_bins);
		dw.errors++;
	}
	if (info.truncated) {
		printf("E\t\tfile truncated: %" PRIu64 " bytes, the header "
		       "declares %" PRIu32 " bytes of hive bins\n",
		       info.file_size, info.bins_size);
		dw.errors++;
	}
	walk_paths_init(&dw.wp, a->mem, h, hive_root(h), NULL);
	err = hive_walk(h, hive_root(h), &ops, &dw);
	if (err) {
		keypath_truncate(&dw.wp.path, 0);
		put_error(&dw, 0, "walk", err);
	}
	/* The E lines are data; stderr still gets to say the dump is partial. */
	if (dw.errors)
		report("%s: %u item%s could not be read (see the E lines)",
		       a->hive_path, dw.errors, dw.errors == 1 ? "" : "s");
	return finish_stdout(dw.errors ? EXIT_HIVE : 0);
}

const struct cmd cmd_dump = {
	.name = "dump",
	.synopsis = "HIVE",
	.summary = "canonical listing of all keys and values (for tests)",
	.help =
	"Writes every key and value in a fixed, line-oriented format used by\n"
	"the oracle tests to compare hivefs with other hive readers.  One\n"
	"line per item, fields separated by tabs, LF line ends, in walk\n"
	"order (parents before children, subkeys in list order, each key's\n"
	"values right after its K line in value-list order):\n"
	"\n"
	"  K <path>\n"
	"  V <path> <name> <type> <data>\n"
	"  E <path> <message>\n"
	"\n"
	"<path> is the escaped names of the keys below the root joined by\n"
	"'\\' (the root key itself is the empty path).  A name is escaped per\n"
	"UTF-16 code unit: 0x21-0x7E except '%' and '\\' stand for\n"
	"themselves, every other unit is '%' and 4 lowercase hex digits\n"
	"(a space is %0020).  The default value's name is empty.  <type> is\n"
	"decimal; <data> is the exact data as lowercase hex (empty if none).\n"
	"An E line reports a key, value or list that cannot be read; the\n"
	"dump goes on, and at the end a message on stderr counts them and\n"
	"the exit status is 1.\n"
	"\nOptions:\n"
	"  -h, --help   show this help\n",
	.operands = { 1, 1, "HIVE" },
	.open = CMD_OPEN_READ_ONLY,
	.run = run_dump,
};
