/*
 * open.c — reading a hive into memory and validating its frame.
 *
 * Opening reads the file once into one buffer and checks only the base
 * block and the hive-bin headers (one per 4 KiB or more), so it costs about
 * one read of the file.  Everything else is validated when it is used.
 *
 * Damage is tolerated where a reader can still be useful: a file shorter
 * than its header says keeps the bins it has; a bin with a bad header keeps
 * its cells readable when its size is plausible and is otherwise fenced off,
 * so only the cells inside it fail.  hive_get_info() reports both.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <talloc.h>
#include <unistd.h>

#include "layout.h"

uint32_t hv_header_checksum(const uint8_t *base_block)
{
	uint32_t sum = 0;

	for (unsigned off = 0; off < REGF_CHECKSUM; off += 4)
		sum ^= le32(base_block + off);
	/* 0 and ~0 are reserved by Windows to mean "no checksum". */
	if (sum == 0)
		sum = 1;
	else if (sum == 0xFFFFFFFFu)
		sum = 0xFFFFFFFEu;
	return sum;
}

/*
 * Read the file into the image: through the writer's locked descriptor
 * when there is one (what is read is then what is locked), otherwise
 * through a descriptor of its own, kept with the handle when it carries a
 * reader's shared lock.
 */
static int read_whole_file(struct hive *h)
{
	struct stat st;
	int ret = HIVE_OK;
	int fd = h->lock_fd;
	bool own_fd = fd < 0;

	if (own_fd) {
		ret = hv_file_open(&h->io, h->path, HV_FILE_HIVE_READ, NULL, &fd,
				   &h->file);
		if (ret != HIVE_OK)
			return ret;
		if ((h->flags & HIVE_OPEN_SHARED_LOCK) &&
		    flock(fd, LOCK_SH | LOCK_NB) < 0) {
			int err = errno;
			hv_file_close(&h->io, fd);
			return err == EWOULDBLOCK
				       ? HIVE_FAIL(HIVE_E_READ_ONLY, "%s is open for "
						   "writing elsewhere (another writer "
						   "holds its lock)", h->path)
				       : HIVE_FAIL(HIVE_E_IO, "%s: lock: %s", h->path,
						   strerror(err));
		}
	}
	if (fstat(fd, &st) < 0) {
		ret = HIVE_FAIL(HIVE_E_IO, "%s: stat: %s", h->path, strerror(errno));
		goto done;
	}
	/* Offsets in a hive are 32-bit; nothing past 4 GiB can be addressed. */
	if ((uint64_t)st.st_size > (uint64_t)REGF_BLOCK_SIZE + 0xFFFFFFFFu) {
		ret = HIVE_FAIL(HIVE_E_TOO_BIG, "file of %lld bytes",
				(long long)st.st_size);
		goto done;
	}
	ret = hv_image_resize(h, (size_t)st.st_size);
	if (ret == HIVE_OK)
		ret = hv_file_read(&h->io, fd, h->path, h->image,
				   (size_t)st.st_size, &h->image_len);
done:
	if (own_fd && ret == HIVE_OK && (h->flags & HIVE_OPEN_SHARED_LOCK))
		ret = hv_file_hold(h, &h->io, fd);
	else if (own_fd)
		hv_file_close(&h->io, fd);
	return ret;
}

static int check_base_block(struct hive *h)
{
	const uint8_t *b = h->image;
	uint32_t stored, computed, major, minor, type, format;

	if (h->image_len < REGF_BLOCK_SIZE ||
	    memcmp(b, REGF_SIGNATURE, 4) != 0)
		return HIVE_FAIL(HIVE_E_NOT_HIVE,
				 h->image_len < REGF_BLOCK_SIZE
					 ? "file shorter than a base block"
					 : "no regf signature");
	stored = le32(b + REGF_CHECKSUM);
	computed = hv_header_checksum(b);
	if (stored != computed)
		return HIVE_FAIL(HIVE_E_CHECKSUM,
				 "stored 0x%08x, computed 0x%08x; the base block "
				 "is damaged (a transaction log may repair it)",
				 stored, computed);
	major = le32(b + REGF_MAJOR);
	minor = le32(b + REGF_MINOR);
	if (major != 1 || minor < 3 || minor > 6)
		return HIVE_FAIL(HIVE_E_VERSION,
				 "version %u.%u; supported are 1.3 to 1.6%s",
				 major, minor,
				 major == 1 && minor < 3
					 ? " (1.1 and 1.2 are Windows NT 3.x formats)"
					 : "");
	type = le32(b + REGF_TYPE);
	if (type != 0)
		return HIVE_FAIL(HIVE_E_NOT_HIVE,
				 "file type %u: a transaction log, not a primary hive",
				 type);
	format = le32(b + REGF_FORMAT);
	if (format != 1)
		return HIVE_FAIL(HIVE_E_NOT_HIVE, "file format %u (expected 1)",
				 format);
	h->minor = minor;
	h->root = le32(b + REGF_ROOT);
	return HIVE_OK;
}

static void mark_bin(struct hive *h, uint32_t start, uint32_t end,
		     uint32_t pages_end)
{
	for (uint32_t p = start / REGF_BLOCK_SIZE;
	     p < pages_end / REGF_BLOCK_SIZE; p++) {
		h->pages[p].bin_start = start;
		h->pages[p].bin_end = end;
	}
}

static int scan_bins(struct hive *h)
{
	uint32_t declared = le32(h->image + REGF_BINS_SIZE);
	uint64_t present = h->image_len - REGF_BLOCK_SIZE;
	uint32_t len, off = 0;

	if (declared == 0 || declared % REGF_BLOCK_SIZE != 0)
		return HIVE_FAIL(HIVE_E_CORRUPT,
				 "hive bins size %u is not a positive multiple of 4096",
				 declared);
	len = declared;
	if (present < len) {
		h->truncated = true;
		len = (uint32_t)(present - present % REGF_BLOCK_SIZE);
		if (len == 0)
			return HIVE_FAIL(HIVE_E_CORRUPT,
					 "file truncated: no hive bins present "
					 "(%u bytes declared)", declared);
	}
	h->bins = h->image + REGF_BLOCK_SIZE;
	h->bins_len = len;
	h->pages = talloc_array(h, struct hv_page, len / REGF_BLOCK_SIZE);
	if (!h->pages)
		return HIVE_FAIL(HIVE_E_NOMEM, "page map");

	while (off < len) {
		const uint8_t *bin = h->bins + off;
		uint32_t own = le32(bin + HBIN_OFFSET);
		uint32_t size = le32(bin + HBIN_SIZE);
		bool sig_ok = memcmp(bin, HBIN_SIGNATURE, 4) == 0;
		bool size_ok = own == off && size >= REGF_BLOCK_SIZE &&
			       size % REGF_BLOCK_SIZE == 0;

		if (!sig_ok || !size_ok)
			h->damaged_bins++;
		if (size_ok) {
			uint32_t end = size > len - off ? len : off + size;
			if (size > len - off)
				h->truncated = true;
			mark_bin(h, off, end, end);
			h->bin_count++;
			off = end;
		} else {
			/* Nothing tells where this bin ends: fence off one page. */
			h->pages[off / REGF_BLOCK_SIZE].bin_start = PAGE_UNREADABLE;
			h->pages[off / REGF_BLOCK_SIZE].bin_end = PAGE_UNREADABLE;
			off += REGF_BLOCK_SIZE;
		}
	}
	if (h->bin_count == 0)
		return HIVE_FAIL(HIVE_E_CORRUPT, "no valid hive bin");
	return HIVE_OK;
}

static int release_handle(struct hive *h)
{
	if (h->lock_fd >= 0)
		hv_file_close(&h->io, h->lock_fd);
	free(h->image);
	return 0;
}

int hv_image_resize(struct hive *h, size_t len)
{
	uint8_t *image = realloc(h->image, len ? len : 1);

	if (!image)
		return HIVE_FAIL(HIVE_E_NOMEM, "image of %zu bytes", len);
	if (len > h->image_len)
		memset(image + h->image_len, 0, len - h->image_len);
	h->image = image;
	h->bins = image + REGF_BLOCK_SIZE;
	h->image_len = len;
	return HIVE_OK;
}

struct big_block {
	void *p;
};

static int free_big_block(struct big_block *b)
{
	free(b->p);
	return 0;
}

void *hv_big_alloc(void *mem, size_t len)
{
	struct big_block *b = talloc(mem, struct big_block);

	if (!b)
		return NULL;
	b->p = calloc(1, len ? len : 1);
	if (!b->p) {
		talloc_free(b);
		return NULL;
	}
	talloc_set_destructor(b, free_big_block);
	return b->p;
}

static struct hive *new_handle(void *mem, unsigned flags)
{
	struct hive *h = talloc_zero(mem, struct hive);

	if (!h)
		return NULL;
	h->flags = flags;
	h->lock_fd = -1;
	hv_io_default(&h->io);
	talloc_set_destructor(h, release_handle);
	return h;
}

/* Changes would lose pending log entries or build on damage: refuse them. */
static const char *why_read_only(const struct hive *h)
{
	if (h->flags & HIVE_OPEN_READ_ONLY)
		return "the hive was opened read-only";
	if (h->read_only_reason)
		return h->read_only_reason;
	if (le32(h->image + REGF_SEQ1) != le32(h->image + REGF_SEQ2) &&
	    !(h->flags & HIVE_OPEN_FORCE))
		return "the hive is dirty: its transaction logs must be "
		       "replayed before it can be changed";
	if (h->truncated)
		return "the file is truncated";
	if (h->damaged_bins)
		return "hive bins are damaged";
	return NULL;
}

static int finish_open(struct hive *h)
{
	const uint8_t *nk;
	uint32_t nk_len;
	int ret;

	ret = check_base_block(h);
	if (ret == HIVE_OK)
		ret = scan_bins(h);
	if (ret == HIVE_OK) {
		ret = hv_key_record(h, h->root, &nk, &nk_len);
		if (ret != HIVE_OK)
			ret = HIVE_FAIL(ret, "root key at 0x%x: %s", h->root,
					hive_error_detail());
	}
	if (ret == HIVE_OK)
		h->read_only_reason = why_read_only(h);
	/*
	 * A handle that may write proves now, in one pass over the cell
	 * headers (no tree walk), that cells tile every bin: the allocator and
	 * every write rely on it (alloc.c).  A hive that fails stays readable.
	 */
	if (ret == HIVE_OK && !h->read_only_reason &&
	    hv_free_index_build(h) != HIVE_OK) {
		h->read_only_reason = talloc_asprintf(h, "the cells of its hive bins "
						      "are damaged (%s)",
						      hive_error_detail());
		if (!h->read_only_reason)
			h->read_only_reason = "the cells of its hive bins are damaged";
	}
	return ret;
}

/*
 * The hive's path, resolved once: the user chose it, links and all; from
 * here on every file beside it is opened with no link followed.
 */
static int resolve_path(struct hive *h, const char *path)
{
	struct stat st;
	char *real = realpath(path, NULL);

	if (!real) {
		int err = errno;
		if (err == ENOENT && lstat(path, &st) == 0 && S_ISLNK(st.st_mode))
			return HIVE_FAIL(HIVE_E_IO, "%s is a symbolic link to a "
					 "file that does not exist", path);
		return HIVE_FAIL(HIVE_E_IO, "%s: %s", path, strerror(err));
	}
	h->path = talloc_strdup(h, real);
	free(real);
	return h->path ? HIVE_OK : HIVE_FAIL(HIVE_E_NOMEM, "path");
}

/*
 * A writer looks at the logs it will write before accepting changes: one
 * it would have to refuse at the commit makes the hive read-only now,
 * naming every such log and why.
 */
static int check_logs_writable(struct hive *h)
{
	char *why = NULL;

	for (unsigned i = 0; i < 2; i++) {
		int fd;
		if (!h->log_names[i])
			continue;
		int ret = hv_file_open(&h->io, h->log_names[i], HV_FILE_LOG_EMPTY,
				       &h->file, &fd, NULL);
		hv_file_close(&h->io, fd);
		if (ret == HIVE_E_NOMEM)
			return ret;
		if (ret != HIVE_OK)
			why = talloc_asprintf(h, "%s%s%s", why ? why : "",
					      why ? "; " : "", hive_error_detail());
	}
	if (why && !h->read_only_reason)
		h->read_only_reason = talloc_asprintf(h, "a transaction log cannot "
						      "be written safely: %s", why);
	return HIVE_OK;
}

int hive_open(void *mem, const char *path, unsigned flags, struct hive **out)
{
	return hive_open_io(mem, path, flags, NULL, out);
}

int hive_open_io(void *mem, const char *path, unsigned flags,
		 const struct hive_io *io, struct hive **out)
{
	struct hive *h = new_handle(mem, flags);
	int ret;

	if (!h)
		return HIVE_FAIL(HIVE_E_NOMEM, "hive handle");
	hv_io_fill(&h->io, io);
	ret = resolve_path(h, path);
	/* A writer locks before reading, so what it reads is what it owns. */
	if (ret == HIVE_OK && !(flags & HIVE_OPEN_READ_ONLY))
		ret = hv_lock(h, h->path);
	if (ret == HIVE_OK)
		ret = read_whole_file(h);
	if (ret == HIVE_OK && !(flags & HIVE_OPEN_NO_REPLAY))
		hv_replay(h, h->path); /* failure is recorded in the note */
	if (ret == HIVE_OK) {
		ret = finish_open(h);
		if (ret != HIVE_OK && h->recovery_note)
			ret = HIVE_FAIL(ret, "%s (%s)", hive_error_detail(),
					h->recovery_note);
	}
	if (ret == HIVE_OK && h->lock_fd >= 0) {
		char *names[3];
		ret = hv_find_log_names(h, h->path, names);
		h->log_names[0] = names[1];
		h->log_names[1] = names[2];
		if (ret == HIVE_OK)
			ret = check_logs_writable(h);
		/* A writer makes a replayed hive whole on disk before anything else. */
		if (ret == HIVE_OK && h->recovered && !h->read_only_reason)
			ret = hv_write_recovered(h);
	}
	if (ret != HIVE_OK) {
		talloc_free(h);
		return ret;
	}
	*out = h;
	return HIVE_OK;
}

int hv_open_memory_logs(void *mem, const void *image, size_t len,
			const uint8_t *const logs[3], const size_t log_lens[3],
			unsigned flags, struct hive **out)
{
	struct hive *h = new_handle(mem, flags);
	int ret;

	if (!h)
		return HIVE_FAIL(HIVE_E_NOMEM, "hive handle");
	if (len > (size_t)REGF_BLOCK_SIZE + 0xFFFFFFFFu) {
		talloc_free(h);
		return HIVE_FAIL(HIVE_E_TOO_BIG, "image of %zu bytes", len);
	}
	ret = hv_image_resize(h, len);
	if (ret == HIVE_OK) {
		memcpy(h->image, image, len);
		if (logs && !(flags & HIVE_OPEN_NO_REPLAY))
			hv_replay_buffers(h, logs, log_lens); /* noted, as hive_open */
		ret = finish_open(h);
		if (ret != HIVE_OK && h->recovery_note)
			ret = HIVE_FAIL(ret, "%s (%s)", hive_error_detail(),
					h->recovery_note);
	}
	if (ret != HIVE_OK) {
		talloc_free(h);
		return ret;
	}
	*out = h;
	return HIVE_OK;
}

int hive_open_memory(void *mem, const void *image, size_t len, unsigned flags,
		     struct hive **out)
{
	return hv_open_memory_logs(mem, image, len, NULL, NULL, flags, out);
}

bool hive_is_modified(const struct hive *h)
{
	return h->modified;
}

const char *hive_read_only_reason(const struct hive *h)
{
	return h->read_only_reason;
}

void hive_get_info(const struct hive *h, struct hive_info *out)
{
	const uint8_t *b = h->image;

	memset(out, 0, sizeof(*out));
	out->major = le32(b + REGF_MAJOR);
	out->minor = le32(b + REGF_MINOR);
	out->file_type = le32(b + REGF_TYPE);
	out->seq_primary = le32(b + REGF_SEQ1);
	out->seq_secondary = le32(b + REGF_SEQ2);
	out->dirty = out->seq_primary != out->seq_secondary;
	out->recovered = h->recovered;
	out->last_written = le64(b + REGF_TIMESTAMP);
	out->bins_size = le32(b + REGF_BINS_SIZE);
	out->file_size = h->image_len;
	out->bin_count = h->bin_count;
	out->damaged_bins = h->damaged_bins;
	out->truncated = h->truncated;
	out->checksum = le32(b + REGF_CHECKSUM);
	out->root = h->root;
	for (size_t i = 0; i < REGF_FILE_NAME_SIZE / 2; i++) {
		out->file_name[i] = le16(b + REGF_FILE_NAME + 2 * i);
		if (out->file_name[i] == 0)
			break;
		out->file_name_len = i + 1;
	}
}

hive_key_t hive_root(const struct hive *h)
{
	return h->root;
}

int hive_get_space(const struct hive *h, struct hive_space *out)
{
	memset(out, 0, sizeof(*out));
	for (uint32_t off = 0; off < h->bins_len;) {
		const struct hv_page *page = &h->pages[off / REGF_BLOCK_SIZE];
		uint32_t end = page->bin_end;

		if (page->bin_start == PAGE_UNREADABLE) {
			off += REGF_BLOCK_SIZE;
			continue;
		}
		for (uint32_t c = page->bin_start + HBIN_HEADER_SIZE; c + 4 <= end;) {
			int32_t size = (int32_t)le32(h->bins + c);
			uint32_t abs = size < 0 ? (uint32_t)(-(int64_t)size)
						: (uint32_t)size;
			if (abs < CELL_ALIGN || abs > end - c)
				return HIVE_FAIL(HIVE_E_CORRUPT,
						 "cell at 0x%x has size %d", c, size);
			if (size < 0) {
				out->allocated_cells++;
				out->allocated_bytes += abs;
			} else {
				out->free_cells++;
				out->free_bytes += abs;
			}
			c += abs;
		}
		off = end;
	}
	return HIVE_OK;
}
