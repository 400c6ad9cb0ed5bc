/*
 * commit.c — making changes durable with Windows' own protocol.
 *
 * How it works
 *  A commit with sequence number S (the primary's second sequence number,
 *  equal to the first in a clean hive):
 *   1. builds one HvLE entry: S, the bins size, the runs of dirty 4 KiB
 *      pages and their bytes, and the two Marvin32 hashes;
 *   2. writes it into the active log (LOG1 or LOG2, alternating) after a
 *      base-block copy of type 6, cuts the log after it — so no older entry
 *      can follow it and be replayed — and flushes the log;
 *   3. writes the primary's base block with sequence numbers S+1 / S and
 *      flushes: from here on the hive is dirty and replay would redo the
 *      entry;
 *   4. writes the dirty pages into the primary and flushes;
 *   5. writes the base block with S+1 / S+1 and flushes: clean again.
 *  A crash before step 3 leaves the previous, clean hive (its logs are
 *  ignored); from step 3 to 5 the log entry completes the hive on replay.
 *  The primary only grows; nothing is truncated.
 *
 *  Any failure poisons the handle: the state on disk is unknown, so
 *  nothing more is written on top of it until the hive is reopened (which
 *  replays the log if needed).
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <talloc.h>
#include <unistd.h>

#include "layout.h"

#define LOG_SECTOR 512u
#define HVLE_HEADER 40u

bool hive_is_poisoned(const struct hive *h)
{
	return h->poisoned;
}

static int write_fully(struct hive *h, int fd, const uint8_t *buf, size_t len,
		       uint64_t off, const char *what)
{
	while (len) {
		long n = h->io.pwrite(h->io.ctx, fd, buf, len, (int64_t)off);
		if (n <= 0)
			return HIVE_FAIL(n < 0 ? hv_io_error((int)-n) : HIVE_E_IO,
					 "writing %s: %s", what,
					 n < 0 ? strerror((int)-n) : "no progress");
		buf += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return HIVE_OK;
}

static int flush(struct hive *h, int fd, const char *what)
{
	int err = h->io.fsync(h->io.ctx, fd);

	return err ? HIVE_FAIL(hv_io_error(-err), "flushing %s: %s", what,
			       strerror(-err))
		   : HIVE_OK;
}

/* Runs of consecutive dirty pages, as (offset, size) pairs. */
static uint32_t dirty_runs(const struct hive *h, uint32_t *runs, uint64_t *bytes)
{
	uint32_t n = 0, pages = h->bins_len / REGF_BLOCK_SIZE;

	*bytes = 0;
	for (uint32_t p = 0; p < pages; p++) {
		if (!h->dirty[p])
			continue;
		uint32_t start = p;
		while (p + 1 < pages && h->dirty[p + 1])
			p++;
		runs[2 * n] = start * REGF_BLOCK_SIZE;
		runs[2 * n + 1] = (p - start + 1) * REGF_BLOCK_SIZE;
		*bytes += runs[2 * n + 1];
		n++;
	}
	return n;
}

/* The base block as a 512-byte log header: type 6, both numbers = seq. */
static void log_base_block(const struct hive *h, uint8_t *out, uint32_t seq)
{
	memcpy(out, h->image, LOG_SECTOR);
	put_le32(out + REGF_SEQ1, seq);
	put_le32(out + REGF_SEQ2, seq);
	put_le32(out + REGF_TYPE, 6);
	put_le32(out + REGF_CHECKSUM, hv_header_checksum(out));
}

/* The folder of the hive, for flushing a log's new name. */
static int flush_folder(struct hive *h)
{
	char *dir = talloc_strdup(NULL, h->path), *slash;
	int fd, err, ret;

	if (!dir)
		return HIVE_FAIL(HIVE_E_NOMEM, "path");
	slash = strrchr(dir, '/');
	if (slash)
		slash[slash == dir ? 1 : 0] = '\0';
	ret = hv_file_open(&h->io, dir, HV_FILE_DIR, NULL, &fd, NULL);
	if (ret == HIVE_OK) {
		err = h->io.fsync(h->io.ctx, fd);
		hv_file_close(&h->io, fd);
		if (err)
			ret = HIVE_FAIL(hv_io_error(-err), "flushing the folder %s: %s",
					dir, strerror(-err));
	}
	talloc_free(dir);
	return ret;
}

/*
 * The active log, through the engine's door (file.c): never a link, a
 * FIFO, a device, a hard-linked or someone else's file; a missing one is
 * created with the hive's mode and owner, and its name made durable
 * before the hive can come to depend on it.
 */
static int open_log(struct hive *h, unsigned which, int *fd)
{
	bool existed = h->log_names[which] != NULL;
	int ret;

	if (!existed) {
		h->log_names[which] = talloc_asprintf(h, "%s.LOG%u", h->path,
						      which + 1);
		if (!h->log_names[which])
			return HIVE_FAIL(HIVE_E_NOMEM, "log name");
	}
	ret = hv_file_open(&h->io, h->log_names[which], HV_FILE_LOG_WRITE,
			   &h->file, fd, NULL);
	if (ret == HIVE_OK && !existed)
		ret = flush_folder(h);
	if (ret != HIVE_OK && *fd >= 0) {
		hv_file_close(&h->io, *fd);
		*fd = -1;
	}
	return ret;
}

/* How much of a log entry is gathered in memory before it is written. */
#define LOG_STAGE (1u << 20)

/*
 * A log entry on its way to the log.  The entry holds a copy of every
 * dirty page, as large as the hive itself after a big change (an import,
 * a restore), so it is never built whole: it goes out through a buffer of
 * LOG_STAGE bytes, hashed as it goes, and the 40-byte header that holds
 * the hash is written last.  The order of these writes does not matter:
 * nothing in the log counts until the log is flushed and the primary's
 * base block says dirty.
 */
struct log_stream {
	struct hive *h;
	int fd;
	uint8_t *buf;
	size_t used;
	uint64_t off; /* where buf goes in the log */
	struct hv_marvin32 hash;
};

static int stream_flush(struct log_stream *s)
{
	int ret = write_fully(s->h, s->fd, s->buf, s->used, s->off, "the log");

	s->off += s->used;
	s->used = 0;
	return ret;
}

/* Appends len bytes (a multiple of 4, as every part of an entry is). */
static int stream_put(struct log_stream *s, const uint8_t *data, size_t len)
{
	hv_marvin32_words(&s->hash, data, len);
	while (len) {
		size_t n = LOG_STAGE - s->used < len ? LOG_STAGE - s->used : len;

		memcpy(s->buf + s->used, data, n);
		s->used += n;
		data += n;
		len -= n;
		if (s->used == LOG_STAGE) {
			int ret = stream_flush(s);
			if (ret != HIVE_OK)
				return ret;
		}
	}
	return HIVE_OK;
}

/* Empties the log that is not active, on a session's first commit. */
static int reset_other_log(struct hive *h)
{
	const char *name = h->log_names[h->active_log ^ 1];
	int other, ret;

	if (h->logs_reset || !name)
		return HIVE_OK;
	ret = hv_file_open(&h->io, name, HV_FILE_LOG_EMPTY, &h->file, &other,
			   NULL);
	if (ret != HIVE_OK || other < 0)
		return ret;
	int err = h->io.ftruncate(h->io.ctx, other, 0);
	if (!err)
		err = h->io.fsync(h->io.ctx, other);
	hv_file_close(&h->io, other);
	return err ? HIVE_FAIL(hv_io_error(-err), "emptying %s: %s", name,
			       strerror(-err))
		   : HIVE_OK;
}

static int write_log_entry(struct hive *h, uint32_t seq)
{
	static const uint8_t zeros[LOG_SECTOR];
	uint32_t pages = h->bins_len / REGF_BLOCK_SIZE;
	uint32_t *runs = talloc_array(NULL, uint32_t, 2 * (size_t)pages + 2);
	uint8_t head[LOG_SECTOR + HVLE_HEADER] = { 0 }, *e = head + LOG_SECTOR;
	struct log_stream s = { .h = h, .fd = -1,
				.off = LOG_SECTOR + HVLE_HEADER };
	uint64_t bytes;
	int ret;

	if (!runs)
		return HIVE_FAIL(HIVE_E_NOMEM, "dirty runs");
	uint32_t n = dirty_runs(h, runs, &bytes);
	uint64_t used = HVLE_HEADER + 8ull * n + bytes;
	uint64_t size = (used + LOG_SECTOR - 1) / LOG_SECTOR * LOG_SECTOR;
	if (size > 0x7FFFFE00u) {
		talloc_free(runs);
		return HIVE_FAIL(HIVE_E_TOO_BIG, "log entry of %llu bytes",
				 (unsigned long long)size);
	}
	s.buf = talloc_size(runs, LOG_STAGE);
	if (!s.buf) {
		talloc_free(runs);
		return HIVE_FAIL(HIVE_E_NOMEM, "log buffer");
	}

	/*
	 * The first commit of a session empties the other log: whatever it
	 * holds came from an earlier life of this file and must never be
	 * taken as continuing the sequence started here.
	 */
	ret = reset_other_log(h);
	if (ret != HIVE_OK) {
		talloc_free(runs);
		return ret;
	}
	h->logs_reset = true;
	ret = open_log(h, h->active_log, &s.fd);
	if (ret != HIVE_OK) {
		talloc_free(runs);
		return ret;
	}

	/* After the header: the runs, their pages, zeros to the sector. */
	hv_marvin32_init(&s.hash);
	for (uint32_t i = 0; ret == HIVE_OK && i < n; i++) {
		uint8_t run[8];

		put_le32(run, runs[2 * i]);
		put_le32(run + 4, runs[2 * i + 1]);
		ret = stream_put(&s, run, sizeof(run));
	}
	for (uint32_t i = 0; ret == HIVE_OK && i < n; i++)
		ret = stream_put(&s, h->bins + runs[2 * i], runs[2 * i + 1]);
	if (ret == HIVE_OK)
		ret = stream_put(&s, zeros, (size_t)(size - used));
	if (ret == HIVE_OK)
		ret = stream_flush(&s);

	log_base_block(h, head, seq);
	memcpy(e, "HvLE", 4);
	put_le32(e + 4, (uint32_t)size);
	put_le32(e + 12, seq);
	put_le32(e + 16, h->bins_len);
	put_le32(e + 20, n);
	put_le64(e + 24, hv_marvin32_final(&s.hash, NULL, 0));
	put_le64(e + 32, hv_marvin32(e, 32));
	if (ret == HIVE_OK)
		ret = write_fully(h, s.fd, head, sizeof(head), 0, "the log");
	if (ret == HIVE_OK) {
		int err = h->io.ftruncate(h->io.ctx, s.fd,
					  (int64_t)(LOG_SECTOR + size));
		if (err)
			ret = HIVE_FAIL(hv_io_error(-err), "cutting the log: %s",
					strerror(-err));
	}
	if (ret == HIVE_OK)
		ret = flush(h, s.fd, "the log");
	hv_file_close(&h->io, s.fd);
	talloc_free(runs);
	return ret;
}

static int write_base_block(struct hive *h, uint32_t seq1, uint32_t seq2)
{
	uint8_t *b = h->image;

	put_le32(b + REGF_SEQ1, seq1);
	put_le32(b + REGF_SEQ2, seq2);
	put_le64(b + REGF_TIMESTAMP, hv_now_filetime());
	put_le32(b + REGF_BINS_SIZE, h->bins_len);
	put_le32(b + REGF_CHECKSUM, hv_header_checksum(b));
	int ret = write_fully(h, h->lock_fd, b, REGF_BLOCK_SIZE, 0, "the base block");
	return ret == HIVE_OK ? flush(h, h->lock_fd, "the hive") : ret;
}

int hive_commit(struct hive *h)
{
	uint32_t seq, pages = h->bins_len / REGF_BLOCK_SIZE;
	int ret;

	if (h->poisoned)
		return HIVE_FAIL(HIVE_E_POISONED, "an earlier commit failed; "
				 "reopen the hive (its log repairs it)");
	if (h->lock_fd < 0 || (h->flags & HIVE_OPEN_READ_ONLY))
		return HIVE_FAIL(HIVE_E_READ_ONLY, "the hive is not open for writing");
	if (!h->modified)
		return HIVE_OK;
	seq = le32(h->image + REGF_SEQ2);
	/* Nothing at all is written for a file that is no longer the hive. */
	ret = hv_file_still_named(h);
	if (ret == HIVE_OK)
		ret = write_log_entry(h, seq);
	if (ret == HIVE_OK)
		ret = write_base_block(h, seq + 1, seq);
	for (uint32_t p = 0; ret == HIVE_OK && p < pages; p++) {
		if (!h->dirty[p])
			continue;
		uint32_t start = p;
		while (p + 1 < pages && h->dirty[p + 1])
			p++;
		ret = write_fully(h, h->lock_fd, h->bins + (size_t)start * REGF_BLOCK_SIZE,
				  (size_t)(p - start + 1) * REGF_BLOCK_SIZE,
				  REGF_BLOCK_SIZE + (uint64_t)start * REGF_BLOCK_SIZE,
				  "hive pages");
	}
	if (ret == HIVE_OK)
		ret = flush(h, h->lock_fd, "the hive");
	if (ret == HIVE_OK)
		ret = write_base_block(h, seq + 1, seq + 1);
	if (ret != HIVE_OK) {
		h->poisoned = true;
		return ret;
	}
	memset(h->dirty, 0, pages);
	h->modified = false;
	h->base_dirty = false;
	h->active_log ^= 1;
	return HIVE_OK;
}

int hive_save(struct hive *h)
{
	if (h->lock_fd < 0)
		return HIVE_FAIL(HIVE_E_INVALID, "the hive has no file of its own yet");
	return hive_commit(h);
}

/*
 * Write a replayed hive back to its own file, at open, before any change
 * is accepted.  The pages go into the primary while its base block still
 * says dirty with the old sequence numbers, so a crash in between replays
 * the same logs again onto the same pages: the result is identical.  Only
 * then does a clean base block end the recovery; the logs become stale.
 */
int hv_write_recovered(struct hive *h)
{
	uint32_t seq = le32(h->image + REGF_SEQ1);
	int ret = hv_file_still_named(h);

	if (ret == HIVE_OK)
		ret = write_fully(h, h->lock_fd, h->bins, h->bins_len,
				  REGF_BLOCK_SIZE, "recovered pages");

	if (ret == HIVE_OK)
		ret = flush(h, h->lock_fd, "the hive");
	if (ret == HIVE_OK)
		ret = write_base_block(h, seq, seq);
	if (ret != HIVE_OK)
		h->poisoned = true;
	return ret;
}
