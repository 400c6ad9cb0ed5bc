/*
 * fuzz_text.c — libFuzzer target over the value codec (hive/text.c):
 * for every type with a text view, parse(render(x)) == x wherever render
 * says the text is exact, and render(parse(t)) parses back to the same
 * data; hive_text_may_begin agrees with the parser (every beginning of a
 * text that parses may begin one; a text refused from its beginning does
 * not parse); type names read back to their type.
 *
 * Input: byte 0 chooses the type (its low 3 bits: SZ, EXPAND_SZ,
 * MULTI_SZ, LINK, DWORD, DWORD_BIG_ENDIAN, QWORD, or a type without text)
 * and, with bit 3, whether the rest is data (render first) or text
 * (parse first); the rest is the payload.  Byte 0 with bit 4 set: the
 * payload is a type name for hive_type_parse.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <talloc.h>

#include "hive.h"

static const uint32_t types[8] = {
	HIVE_REG_SZ, HIVE_REG_EXPAND_SZ, HIVE_REG_MULTI_SZ, HIVE_REG_LINK,
	HIVE_REG_DWORD, HIVE_REG_DWORD_BIG_ENDIAN, HIVE_REG_QWORD,
	HIVE_REG_BINARY,
};

static void die(const char *what, uint32_t type)
{
	fprintf(stderr, "fuzz_text: type %u: %s\n", type, what);
	abort();
}

/* Every beginning of `text` (all of them for short texts, else a
 * sample) may begin a text. */
static void beginnings_may_begin(uint32_t type, const char *text, size_t len)
{
	size_t step = len <= 512 ? 1 : len / 256;

	for (size_t k = 0; k <= len; k += step)
		if (!hive_text_may_begin(type, text, k))
			die("a beginning of a text that parses is refused", type);
	if (!hive_text_may_begin(type, text, len))
		die("a text that parses is refused as a beginning", type);
}

/* data has exact text: it renders, the rendering parses back to data. */
static void round_trip(void *mem, uint32_t type, const uint8_t *data,
		       size_t len)
{
	size_t n = hive_text_render(type, data, len, NULL), back_len;
	char *text;
	uint8_t *back;

	if (n == SIZE_MAX)
		return;
	text = talloc_size(mem, n + 1);
	if (!text)
		abort();
	if (hive_text_render(type, data, len, text) != n)
		die("render wrote another length than it measured", type);
	if (hive_text_parse(mem, type, text, n, &back, &back_len) != HIVE_OK)
		die("exact text does not parse", type);
	if (back_len != len || memcmp(back, data, len) != 0)
		die("parse(render(x)) != x", type);
	beginnings_may_begin(type, text, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *in, size_t size)
{
	void *mem;
	uint32_t type;
	const uint8_t *payload = in + 1;
	size_t len = size ? size - 1 : 0;

	if (size == 0)
		return 0;
	type = types[in[0] & 7];
	mem = talloc_new(NULL);
	if (!mem)
		abort();
	if (in[0] & 0x10) {
		char *name = talloc_strndup(mem, (const char *)payload, len);
		uint32_t t, again;

		if (name && hive_type_parse(name, &t) && t <= HIVE_REG_QWORD) {
			if (!hive_type_parse(hive_type_short_name(t), &again) ||
			    again != t ||
			    !hive_type_parse(hive_type_name(t), &again) ||
			    again != t)
				die("a type's names do not read back", t);
		}
	} else if (in[0] & 8) {
		round_trip(mem, type, payload, len);
	} else {
		const char *text = (const char *)payload;
		uint8_t *data;
		size_t data_len;
		int err = hive_text_parse(mem, type, text, len, &data,
					  &data_len);

		if (err == HIVE_OK) {
			/* Data made from text has exact text. */
			if (hive_text_render(type, data, data_len, NULL) ==
			    SIZE_MAX)
				die("data parsed from text has no exact text",
				    type);
			round_trip(mem, type, data, data_len);
			beginnings_may_begin(type, text, len);
		} else if (err != HIVE_E_INVALID && err != HIVE_E_TOO_BIG) {
			die("parse failed other than HIVE_E_INVALID", type);
		}
	}
	talloc_free(mem);
	return 0;
}
