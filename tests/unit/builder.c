#include <stdlib.h>
#include <string.h>

#include "builder.h"
#include "layout.h"

void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

void image_init(struct image *im, uint32_t minor, uint32_t bin_size)
{
	im->len = REGF_BLOCK_SIZE + bin_size;
	im->buf = calloc(1, im->len);
	im->bin_size = bin_size;
	memcpy(im->buf, "regf", 4);
	put32(im->buf + REGF_SEQ1, 7);
	put32(im->buf + REGF_SEQ2, 7);
	put32(im->buf + REGF_MAJOR, 1);
	put32(im->buf + REGF_MINOR, minor);
	put32(im->buf + REGF_FORMAT, 1);
	put32(im->buf + REGF_BINS_SIZE, bin_size);
	put32(im->buf + REGF_CLUSTERING, 1);
	memcpy(im->buf + REGF_BLOCK_SIZE, "hbin", 4);
	put32(im->buf + REGF_BLOCK_SIZE + HBIN_SIZE, bin_size);
	im->next = HBIN_HEADER_SIZE;
}

void image_free(struct image *im)
{
	free(im->buf);
}

uint8_t *image_at(struct image *im, uint32_t rel)
{
	return im->buf + REGF_BLOCK_SIZE + rel;
}

uint32_t image_cell(struct image *im, const void *data, uint32_t len)
{
	uint32_t off = im->next;
	uint32_t size = (len + 4 + 7) & ~7u;

	put32(image_at(im, off), (uint32_t)-(int32_t)size);
	if (data)
		memcpy(image_at(im, off) + 4, data, len);
	im->next += size;
	return off;
}

void image_checksum(struct image *im)
{
	put32(im->buf + REGF_CHECKSUM, hv_header_checksum(im->buf));
}

void image_finish(struct image *im, uint32_t root)
{
	if (im->next < im->bin_size)
		put32(image_at(im, im->next), im->bin_size - im->next);
	put32(im->buf + REGF_ROOT, root);
	image_checksum(im);
}

uint32_t image_nk(struct image *im, const char *name, uint32_t parent,
		  uint32_t nsub, uint32_t list, uint32_t nval, uint32_t vlist)
{
	uint8_t nk[NK_FIXED_SIZE + 256] = { 0 };
	size_t n = strlen(name);

	memcpy(nk, "nk", 2);
	put16(nk + NK_FLAGS, HIVE_KEY_COMP_NAME);
	put32(nk + NK_PARENT, parent);
	put32(nk + NK_SUBKEY_COUNT, nsub);
	put32(nk + NK_SUBKEY_LIST, list);
	put32(nk + NK_VOLATILE_SUBKEY_LIST, HIVE_NO_CELL);
	put32(nk + NK_VALUE_COUNT, nval);
	put32(nk + NK_VALUE_LIST, vlist);
	put32(nk + NK_SECURITY, HIVE_NO_CELL);
	put32(nk + NK_CLASS, HIVE_NO_CELL);
	put16(nk + NK_NAME_LEN, (uint16_t)n);
	memcpy(nk + NK_NAME, name, n);
	return image_cell(im, nk, NK_FIXED_SIZE + (uint32_t)n);
}

void image_set_subkeys(struct image *im, uint32_t key, uint32_t n, uint32_t list)
{
	put32(image_at(im, key) + 4 + NK_SUBKEY_COUNT, n);
	put32(image_at(im, key) + 4 + NK_SUBKEY_LIST, list);
}

uint32_t image_vk(struct image *im, const char *name, uint32_t type,
		  uint32_t size_field, uint32_t data_field)
{
	uint8_t vk[VK_FIXED_SIZE + 256] = { 0 };
	size_t n = strlen(name);

	memcpy(vk, "vk", 2);
	put16(vk + VK_NAME_LEN, (uint16_t)n);
	put32(vk + VK_DATA_SIZE, size_field);
	put32(vk + VK_DATA, data_field);
	put32(vk + VK_TYPE, type);
	put16(vk + VK_FLAGS, VK_COMP_NAME);
	memcpy(vk + VK_NAME, name, n);
	return image_cell(im, vk, VK_FIXED_SIZE + (uint32_t)n);
}

uint32_t image_list(struct image *im, const char kind[2], const uint32_t *offs,
		    unsigned n, const char *const *names)
{
	unsigned stride = kind[1] == 'f' || kind[1] == 'h' ? 8 : 4;
	uint8_t *p = calloc(1, 4 + stride * n);
	uint32_t off;

	memcpy(p, kind, 2);
	put16(p + 2, (uint16_t)n);
	for (unsigned i = 0; i < n; i++) {
		put32(p + 4 + stride * i, offs[i]);
		if (stride == 8 && kind[1] == 'h') {
			uint16_t u[256];
			size_t len = strlen(names[i]);
			for (size_t k = 0; k < len; k++)
				u[k] = (uint8_t)names[i][k];
			put32(p + 8 + stride * i, hive_name_hash(u, len));
		} else if (stride == 8) {
			memcpy(p + 8 + stride * i, names[i],
			       strlen(names[i]) < 4 ? strlen(names[i]) : 4);
		}
	}
	off = image_cell(im, p, 4 + stride * n);
	free(p);
	return off;
}

uint32_t image_offsets(struct image *im, const uint32_t *offs, unsigned n)
{
	uint8_t *p = calloc(1, 4 * n + 4);
	uint32_t off;

	for (unsigned i = 0; i < n; i++)
		put32(p + 4 * i, offs[i]);
	off = image_cell(im, p, 4 * n);
	free(p);
	return off;
}
