/*
 * builder.h — hand-assembled hive images for the unit tests.
 *
 * The tests need precise, sometimes deliberately broken, structures; the
 * builder lays cells out one after another in a single hive bin and leaves
 * every field to the caller.  Offsets are relative to the bins, as in the
 * format.
 */
#ifndef TESTS_BUILDER_H
#define TESTS_BUILDER_H

#include <stddef.h>
#include <stdint.h>

struct image {
	uint8_t *buf;
	size_t len;             /* 4096 + bins */
	uint32_t next;          /* next free relative offset */
	uint32_t bin_size;
};

void image_init(struct image *im, uint32_t minor, uint32_t bin_size);
void image_free(struct image *im);
/* Append an allocated cell holding `len` bytes of `data` (NULL = zeros). */
uint32_t image_cell(struct image *im, const void *data, uint32_t len);
uint8_t *image_at(struct image *im, uint32_t rel);
/* Close the bin with a free cell, set the root and the checksum. */
void image_finish(struct image *im, uint32_t root);
void image_checksum(struct image *im);

void put16(uint8_t *p, uint16_t v);
void put32(uint8_t *p, uint32_t v);

/* A key named `name` (ASCII, stored as Latin-1). */
uint32_t image_nk(struct image *im, const char *name, uint32_t parent,
		  uint32_t nsub, uint32_t list, uint32_t nval, uint32_t vlist);
/* A value named `name` (ASCII, Latin-1) with raw size field and data field. */
uint32_t image_vk(struct image *im, const char *name, uint32_t type,
		  uint32_t size_field, uint32_t data_field);
/* A subkey list of kind "li", "lf", "lh" or "ri" over `n` offsets. */
uint32_t image_list(struct image *im, const char kind[2], const uint32_t *offs,
		    unsigned n, const char *const *names);
uint32_t image_offsets(struct image *im, const uint32_t *offs, unsigned n);
/* Point a key at its subkey list after the fact. */
void image_set_subkeys(struct image *im, uint32_t key, uint32_t n, uint32_t list);

#endif
