/*
 * fuzz_replay.c — libFuzzer target over transaction-log replay: a hive
 * image and up to three logs, replayed in memory by the same code as logs
 * read from files (hv_open_memory_logs), then the result read whole and
 * checked.  Beyond memory errors, a finding is an image that grew past what
 * the input carries (log.c's bound: the primary plus the logs' bytes).
 *
 * Input framing
 *   bytes 0-11   three little-endian u32: the lengths of the hive, of
 *                .LOG1 and of .LOG2 (each cut to what remains; bit 31 of
 *                the .LOG1 length is a flag, below)
 *   then         the hive, .LOG1, .LOG2; whatever remains is .LOG
 *   An input shorter than 12 bytes is a hive alone.
 * With the flag set, the target first makes every checksum and hash right
 * (the primary's and each log's base block, each HvLE entry's two Marvin32
 * hashes, entries walked by their size fields), so that mutations reach the
 * code behind those checks instead of stopping at them.
 * tests/hostile/craft_logs.py --fuzz-seeds writes inputs in this framing.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <talloc.h>

#include "layout.h"

#define FIX_FLAG 0x80000000u

static int on_key(void *arg, hive_key_t key, unsigned depth)
{
	struct hive *h = arg;
	void *tmp = talloc_new(NULL);
	struct hive_key_stat st;
	hive_value_t *vals;
	uint16_t *name;
	uint8_t *bytes;
	size_t len, n;

	(void)depth;
	hive_key_stat(h, key, &st);
	hive_key_name(tmp, h, key, &name, &len);
	hive_key_class(tmp, h, key, &bytes, &len);
	hive_key_security(tmp, h, key, &bytes, &len);
	if (hive_key_values(tmp, h, key, &vals, &n) == HIVE_OK) {
		for (size_t i = 0; i < n; i++) {
			struct hive_value_stat vst;
			hive_value_stat(h, vals[i], &vst);
			hive_value_name(tmp, h, vals[i], &name, &len);
			if (hive_value_data(tmp, h, vals[i], &bytes, &len) == HIVE_OK)
				talloc_free(bytes);
		}
	}
	talloc_free(tmp);
	return 0;
}

static void silent(void *arg, const char *text)
{
	(void)arg;
	(void)text;
}

static void fix_base(uint8_t *b, size_t len)
{
	if (len >= 512)
		put_le32(b + REGF_CHECKSUM, hv_header_checksum(b));
}

/* Make a new-format log's entries carry right hashes, walking their sizes. */
static void fix_entries(uint8_t *log, size_t len)
{
	for (size_t off = 512; off + 40 <= len;) {
		uint8_t *e = log + off;
		uint32_t size = le32(e + 4);
		if (memcmp(e, "HvLE", 4) != 0 || size < 40 || size % 512 ||
		    size > len - off)
			break;
		put_le64(e + 24, hv_marvin32(e + 40, size - 40));
		put_le64(e + 32, hv_marvin32(e, 32));
		off += size;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	void *mem = talloc_new(NULL);
	uint8_t *copy = malloc(size ? size : 1);
	const uint8_t *logs[3] = { NULL, NULL, NULL };
	size_t lens[3] = { 0, 0, 0 }, hive_len = size, rest, total = 0;
	uint8_t *hive = copy, *p;
	bool fix = false;
	struct hive *h;

	if (!copy)
		abort();
	memcpy(copy, data, size);
	if (size >= 12) {
		uint32_t want[3] = { le32(copy), le32(copy + 4), le32(copy + 8) };
		fix = (want[1] & FIX_FLAG) != 0;
		want[1] &= ~FIX_FLAG;
		p = copy + 12;
		rest = size - 12;
		hive = p;
		hive_len = want[0] < rest ? want[0] : rest;
		p += hive_len;
		rest -= hive_len;
		for (unsigned s = 1; s <= 2; s++) {
			lens[s] = want[s] < rest ? want[s] : rest;
			logs[s] = lens[s] ? p : NULL;
			p += lens[s];
			rest -= lens[s];
		}
		lens[0] = rest;
		logs[0] = rest ? p : NULL;
	}
	if (fix) {
		fix_base(hive, hive_len);
		for (unsigned s = 0; s < 3; s++) {
			if (!logs[s])
				continue;
			fix_base((uint8_t *)logs[s], lens[s]);
			fix_entries((uint8_t *)logs[s], lens[s]);
		}
	}
	for (unsigned s = 0; s < 3; s++)
		total += lens[s];
	if (hv_open_memory_logs(mem, hive, hive_len, logs, lens, 0, &h) == HIVE_OK) {
		const struct hive_walk_ops ops = { .on_key = on_key };
		struct hive_space space;
		/* The bound of log.c: nothing beyond the primary and what the
		 * logs carry (a 4 KiB page of rounding at most). */
		if (h->image_len > hive_len + total + REGF_BLOCK_SIZE) {
			fprintf(stderr, "fuzz_replay: image of %zu bytes from a hive of "
				"%zu and logs of %zu\n", h->image_len, hive_len, total);
			abort();
		}
		hive_get_space(h, &space);
		hive_walk(h, hive_root(h), &ops, h);
		hive_check(h, silent, NULL);
		/* A replayed hive that takes changes must take one. */
		if (!hive_read_only_reason(h)) {
			static const uint16_t name[] = { 'f', 'u', 'z', 'z' };
			hive_value_set(h, hive_root(h), name, 4, HIVE_REG_DWORD, "\1\0\0\0",
				       4, NULL);
		}
	}
	free(copy);
	talloc_free(mem);
	return 0;
}
