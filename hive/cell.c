/*
 * cell.c — bounds-checked access to cells.
 *
 * Every reference read from the hive is untrusted: before a record is used
 * its cell must start inside a readable bin, after the bin header, on an
 * 8-byte boundary, be allocated (negative size) and end inside the same bin.
 * Callers then check their record's fields against the returned length.
 * Once a handle has mapped its cells for writing (alloc.c), the offset must
 * also be where a cell of the bin's tiling starts, not a spot inside one.
 */
#include "layout.h"

int hv_cell(const struct hive *h, uint32_t off, const uint8_t **data,
	    uint32_t *len)
{
	const struct hv_page *page;
	int32_t raw;
	uint32_t size;

	if (off == HIVE_NO_CELL)
		return HIVE_FAIL(HIVE_E_BOUNDS, "reference to no cell");
	if (off >= h->bins_len)
		return HIVE_FAIL(HIVE_E_BOUNDS,
				 "cell 0x%x beyond the hive bins (0x%x bytes)%s",
				 off, h->bins_len,
				 h->truncated ? "; the file is truncated" : "");
	if (off % CELL_ALIGN != 0)
		return HIVE_FAIL(HIVE_E_BOUNDS, "cell 0x%x is not 8-byte aligned",
				 off);
	page = &h->pages[off / REGF_BLOCK_SIZE];
	if (page->bin_start == PAGE_UNREADABLE)
		return HIVE_FAIL(HIVE_E_CORRUPT,
				 "cell 0x%x lies in a damaged hive bin", off);
	if (off < page->bin_start + HBIN_HEADER_SIZE ||
	    page->bin_end - off < CELL_HEADER_SIZE)
		return HIVE_FAIL(HIVE_E_BOUNDS,
				 "cell 0x%x overlaps a hive bin header or end", off);
	if (h->cell_starts &&
	    !(h->cell_starts[off / CELL_ALIGN / 8] & (1u << (off / CELL_ALIGN % 8))))
		return HIVE_FAIL(HIVE_E_CORRUPT,
				 "0x%x is not the start of a cell (it lies inside "
				 "another one)", off);
	raw = (int32_t)le32(h->bins + off);
	if (raw >= 0)
		return HIVE_FAIL(HIVE_E_CORRUPT, "cell 0x%x is free (size %d)",
				 off, raw);
	size = (uint32_t)(-(int64_t)raw);
	if (size < CELL_HEADER_SIZE + 4 || size > page->bin_end - off)
		return HIVE_FAIL(HIVE_E_BOUNDS,
				 "cell 0x%x of size %u crosses its hive bin", off,
				 size);
	*data = h->bins + off + CELL_HEADER_SIZE;
	*len = size - CELL_HEADER_SIZE;
	return HIVE_OK;
}

uint64_t hv_cell_bytes(const struct hive *h, uint32_t off)
{
	const uint8_t *data;
	uint32_t len;

	if (off == HIVE_NO_CELL || hv_cell(h, off, &data, &len) != HIVE_OK)
		return 0;
	return (uint64_t)len + CELL_HEADER_SIZE;
}

int hv_record(const struct hive *h, uint32_t off, const char sig[2],
	      uint32_t min_len, const uint8_t **data, uint32_t *len)
{
	int ret = hv_cell(h, off, data, len);

	if (ret != HIVE_OK)
		return ret;
	if (*len < min_len || *len < 2 || memcmp(*data, sig, 2) != 0)
		return HIVE_FAIL(HIVE_E_CORRUPT,
				 "cell 0x%x is not a valid '%.2s' record", off, sig);
	return HIVE_OK;
}

uint32_t hv_cell_capacity(const struct hive *h, uint32_t off)
{
	return (uint32_t)(-(int32_t)le32(h->bins + off)) - CELL_HEADER_SIZE;
}
