/*
 * fuzz_regparse.c — libFuzzer target over the .reg parser (tools/regparse.c)
 * alone: any bytes, every item's fields checked for consistency, so that
 * an item pointing outside what the parser holds shows up under ASan.
 * The parser is run twice over each input, as import runs it, and must
 * give the same items and the same verdict both times.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "regparse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct tally {
	uint64_t sum; /* a digest of everything the items carry */
	size_t items;
};

static int on_item(void *arg, const struct reg_item *it)
{
	struct tally *t = arg;

	if (it->line == 0 || it->column == 0)
		abort();
	t->items++;
	/* Touch every unit and byte the item points to. */
	for (size_t i = 0; i < it->key_len; i++)
		t->sum = t->sum * 31 + it->key[i];
	if (it->kind == REG_ITEM_VALUE || it->kind == REG_ITEM_VALUE_DELETE) {
		for (size_t i = 0; i < it->name_len; i++)
			t->sum = t->sum * 31 + it->name[i];
	}
	if (it->kind == REG_ITEM_VALUE) {
		if (it->data_len && !it->data)
			abort();
		for (size_t i = 0; i < it->data_len; i++)
			t->sum = t->sum * 31 + it->data[i];
		t->sum += it->type;
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tally a = { 0 }, b = { 0 };
	struct reg_error ea, eb;
	int ra = reg_parse(data, size, on_item, &a, NULL, &ea);
	int rb = reg_parse(data, size, on_item, &b, NULL, &eb);

	if (ra != rb || a.sum != b.sum || a.items != b.items)
		abort();
	if (ra == REG_SYNTAX &&
	    (ea.line != eb.line || ea.column != eb.column || ea.line == 0 ||
	     ea.column == 0 || strcmp(ea.text, eb.text) != 0))
		abort();
	return 0;
}
