/*
 * info.c — `hivectl info`: the base block, space use, and a full walk that
 * reads every key and value once, so that "errors: 0" means every cell the
 * tree refers to could be read.
 */
#include <inttypes.h>
#include <stdio.h>

#include <talloc.h>

#include "hivectl.h"

struct info_walk {
	struct walk_paths wp;
	const char *hive_path;
	uint64_t keys, values, errors;
	uint64_t too_large; /* values with more data than can be read */
};

static void info_error(struct info_walk *iw, size_t n, const char *what,
		       int err)
{
	void *tmp = talloc_new(NULL);
	char *text = err_text(tmp, err);
	char *path = keypath_display(tmp, &iw->wp.path, n);

	report("%s: key '%s': %s: %s", iw->hive_path, path ? path : "?", what,
	       text ? text : hive_strerror(err));
	iw->errors++;
	talloc_free(tmp);
}

/* Reads each value completely: stat, name and data. */
static void info_values(struct info_walk *iw, hive_key_t key)
{
	void *tmp = talloc_new(NULL);
	hive_value_t *vals;
	size_t count;
	int err = hive_key_values(tmp, iw->wp.h, key, &vals, &count);

	if (err) {
		info_error(iw, iw->wp.path.n, "value list", err);
		goto done;
	}
	for (size_t i = 0; i < count; i++) {
		/* Big data can be large: free each value's copy right away. */
		void *iter = talloc_new(tmp);
		struct hive_value_stat st;
		uint16_t *name;
		uint8_t *data;
		size_t len;
		char what[48];

		iw->values++;
		snprintf(what, sizeof(what), "value %zu of %zu", i + 1, count);
		err = hive_value_stat(iw->wp.h, vals[i], &st);
		if (!err)
			err = hive_value_name(iter, iw->wp.h, vals[i], &name,
					      &len);
		if (!err && st.data_len > HIVE_MAX_READ_DATA) {
			/* The format allows it (Windows writes up to 65535
			 * segments); the engine cannot hand it out. */
			char *path = keypath_display(iter, &iw->wp.path,
						     iw->wp.path.n);

			report("%s: key '%s': %s: %" PRIu32 " bytes of data, "
			       "more than hivectl and hivefs can read (%u bytes; "
			       "Windows allows up to 65535 segments, about 1 GiB)",
			       iw->hive_path, path ? path : "?", what,
			       st.data_len, HIVE_MAX_READ_DATA);
			iw->too_large++;
			iw->errors++;
			talloc_free(iter);
			continue;
		}
		if (!err)
			err = hive_value_data(iter, iw->wp.h, vals[i], &data,
					      &len);
		if (err)
			info_error(iw, iw->wp.path.n, what, err);
		talloc_free(iter);
	}
done:
	talloc_free(tmp);
}

static int info_on_key(void *arg, hive_key_t key, unsigned depth)
{
	struct info_walk *iw = arg;
	int err;

	iw->keys++;
	if (!walk_paths_enter(&iw->wp, key, depth, &err) && err)
		info_error(iw, iw->wp.path.n, "key name", err);
	info_values(iw, key);
	return 0;
}

static int info_on_error(void *arg, hive_key_t parent, unsigned depth,
			 hive_key_t child, int err)
{
	struct info_walk *iw = arg;
	const char *what;
	size_t n = walk_paths_error(&iw->wp, parent, depth, child, &what);

	info_error(iw, n, what, err);
	return 0;
}

static const char *file_type_text(uint32_t type)
{
	switch (type) {
	case 0:
		return "primary";
	case 1:
	case 2:
		return "transaction log (old format)";
	case 6:
		return "transaction log (new format)";
	default:
		return "unknown";
	}
}

static int run_info(struct cmd_args *a)
{
	void *tmp = a->mem;
	struct hive *h = a->h;
	struct hive_info info;
	struct hive_space space;
	struct info_walk iw = { .hive_path = a->hive_path };
	const struct hive_walk_ops ops = {
		.on_key = info_on_key,
		.on_error = info_on_error,
	};
	uint16_t *root_name;
	size_t root_len;
	int err, rc;

	hive_get_info(h, &info);
	printf("version:          %" PRIu32 ".%" PRIu32 "\n", info.major,
	       info.minor);
	printf("file type:        %" PRIu32 " (%s)\n", info.file_type,
	       file_type_text(info.file_type));
	printf("state:            %s (sequence numbers %" PRIu32 " / %" PRIu32
	       ")\n", info.dirty ? "dirty" : "clean", info.seq_primary,
	       info.seq_secondary);
	if (hive_recovery_note(h))
		printf("recovery:         %s%s\n", hive_recovery_note(h),
		       info.recovered ? " (in memory; `hivectl recover` writes it)"
				      : "");
	char *logs = NULL;
	if (hive_describe_logs(tmp, iw.hive_path, &logs) == HIVE_OK && *logs) {
		/* One log per line, aligned under the label. */
		printf("logs:             ");
		for (const char *p = logs; *p; p++) {
			putchar(*p);
			if (*p == '\n')
				printf("                  ");
		}
		printf("%s\n", info.recovered || info.dirty ? ""
			: " (stale: the hive is clean, Windows ignores them)");
	}
	printf("last written:     %s\n", filetime_iso(tmp, info.last_written));
	printf("file name:        %s\n",
	       display_name(tmp, info.file_name,
			    info.file_name_len <= 32 ? info.file_name_len : 32));
	err = hive_key_name(tmp, h, hive_root(h), &root_name, &root_len);
	if (err) {
		iw.errors++;
		report("%s: root key name: %s", iw.hive_path,
		       err_text(tmp, err));
		printf("root key:         ?\n");
	} else {
		printf("root key:         %s\n",
		       display_name(tmp, root_name, root_len));
	}
	printf("hive bins size:   %" PRIu32 " bytes\n", info.bins_size);
	printf("file size:        %" PRIu64 " bytes\n", info.file_size);
	printf("hive bins:        %" PRIu32 "\n", info.bin_count);
	if (info.damaged_bins) {
		iw.errors++;
		report("%s: %" PRIu32 " hive bin(s) with a damaged header",
		       iw.hive_path, info.damaged_bins);
	}
	if (info.truncated) {
		iw.errors++;
		report("%s: file truncated: the header declares %" PRIu32
		       " bytes of hive bins", iw.hive_path, info.bins_size);
	}
	err = hive_get_space(h, &space);
	if (err) {
		iw.errors++;
		report("%s: space: %s", iw.hive_path, err_text(tmp, err));
	} else {
		printf("allocated cells:  %" PRIu64 " (%" PRIu64 " bytes)\n",
		       space.allocated_cells, space.allocated_bytes);
		printf("free cells:       %" PRIu64 " (%" PRIu64 " bytes)\n",
		       space.free_cells, space.free_bytes);
	}

	walk_paths_init(&iw.wp, tmp, h, hive_root(h), NULL);
	err = hive_walk(h, hive_root(h), &ops, &iw);
	if (err) {
		iw.errors++;
		report("%s: walk: %s", iw.hive_path, err_text(tmp, err));
	}
	printf("keys:             %" PRIu64 "\n", iw.keys);
	printf("values:           %" PRIu64 "\n", iw.values);
	if (iw.too_large)
		printf("too large to read: %" PRIu64 " (over %u bytes of data "
		       "each, the most hivectl and hivefs read)\n",
		       iw.too_large, HIVE_MAX_READ_DATA);
	printf("errors:           %" PRIu64 "\n", iw.errors);
	rc = iw.errors ? EXIT_HIVE : 0;
	return finish_stdout(rc);
}

const struct cmd cmd_info = {
	.name = "info",
	.synopsis = "HIVE",
	.summary = "show the header, space use and key/value counts",
	.help =
	"Prints the base block (version, file type, dirty state with both\n"
	"sequence numbers, last-written time in UTC, file-name field), the\n"
	"root key name, hive-bins and file sizes, allocated and free cells,\n"
	"and the number of keys and values found by walking the whole tree.\n"
	"Every key and value is read once on the way; anything that cannot\n"
	"be read is reported on stderr and counted under \"errors\".  That\n"
	"includes values with more than 268435455 bytes of data (256 MiB):\n"
	"the format allows about 1 GiB, but hivectl and hivefs read at most\n"
	"that much; they are counted under \"too large to read\".\n"
	"\nOptions:\n"
	"  -h, --help   show this help\n"
	"\nExit status: 0 no errors, 1 the hive cannot be opened or errors\n"
	"were found, 2 usage error.\n",
	.operands = { 1, 1, "HIVE" },
	.open = CMD_OPEN_READ_ONLY,
	.run = run_info,
};
