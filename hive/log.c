/*
 * log.c — replaying Windows transaction logs into a dirty hive.
 *
 * A hive is dirty when its base block's checksum is wrong or its two
 * sequence numbers differ: Windows was interrupted between writing a log
 * and finishing the primary.  Its logs sit beside it as HIVE.LOG (old
 * single log), HIVE.LOG1 and HIVE.LOG2 (any case).  Two formats exist:
 *
 *  - Old (up to Windows 8): sector 0 is a base-block copy (file type 1 or
 *    2); at 512 comes "DIRT" and a bitmap with one bit per 512-byte sector
 *    of the hive bins; the dirty sectors follow, 512-aligned, in bitmap
 *    order.  The log's base block replaces the primary's.
 *  - New (Windows 8.1 on): sector 0 is a base-block copy (file type 6);
 *    from 512 on come entries ("HvLE"), each 512-aligned, carrying a
 *    sequence number, the bins size, a list of dirty pages and the pages,
 *    protected by two Marvin32 hashes.
 *
 * Replay applies new-format entries whose sequence numbers continue the
 * primary's secondary sequence number, in order across both logs (whichever
 * holds the earlier entries first), and stops at a gap, a bad hash or a bad
 * size — exactly as far as Windows would trust them.  Logs that do not
 * apply (a clean hive, or sequence numbers that do not continue) are
 * ignored.  Everything happens on the in-memory image; nothing is written.
 *
 * How far a log may grow the hive.  A header's bins size alone proves
 * nothing (5 KB of log claiming 4 GiB would cost 4 GiB of memory and of
 * output), so growth must be carried: the bins may grow past what the image
 * already holds — the bytes of the primary file, then whatever earlier
 * entries carried — only as far as the entry's own pages cover every byte
 * of the growth without a hole.  When Windows grows a hive it logs each new
 * bin whole, so its logs always pass; an entry that does not is invalid
 * and replay stops before it, as at a bad hash.  An old-format log is one
 * whole: its bins size may exceed what the primary holds only if every
 * sector of the difference is in its dirty bitmap, else the log is not
 * used.  So the image never exceeds the primary file plus the bytes the
 * logs really carry, and the work is linear in the logs' sizes (entries
 * are sorted once, not searched per sequence number).
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/stat.h>
#include <talloc.h>
#include <unistd.h>

#include "layout.h"

#define LOG_SECTOR 512u
#define HVLE_HEADER 40u
#define MARVIN_SEED 0x82EF4D887A4E55C5ull

static uint32_t rotl32(uint32_t x, unsigned n)
{
	return x << n | x >> (32 - n);
}

static void marvin_block(uint32_t *p0, uint32_t *p1)
{
	*p1 ^= *p0;
	*p0 = rotl32(*p0, 20);
	*p0 += *p1;
	*p1 = rotl32(*p1, 9);
	*p1 ^= *p0;
	*p0 = rotl32(*p0, 27);
	*p0 += *p1;
	*p1 = rotl32(*p1, 19);
}

void hv_marvin32_init(struct hv_marvin32 *m)
{
	m->p0 = (uint32_t)MARVIN_SEED;
	m->p1 = (uint32_t)(MARVIN_SEED >> 32);
}

void hv_marvin32_words(struct hv_marvin32 *m, const uint8_t *data, size_t len)
{
	for (size_t i = 0; i + 4 <= len; i += 4) {
		m->p0 += le32(data + i);
		marvin_block(&m->p0, &m->p1);
	}
}

uint64_t hv_marvin32_final(struct hv_marvin32 *m, const uint8_t *tail,
			   size_t len)
{
	uint32_t final = 0x80;

	for (size_t k = len; k-- > 0;)
		final = final << 8 | tail[k];
	m->p0 += final;
	marvin_block(&m->p0, &m->p1);
	marvin_block(&m->p0, &m->p1);
	return (uint64_t)m->p1 << 32 | m->p0;
}

uint64_t hv_marvin32(const uint8_t *data, size_t len)
{
	struct hv_marvin32 m;
	size_t words = len / 4 * 4;

	hv_marvin32_init(&m);
	hv_marvin32_words(&m, data, words);
	return hv_marvin32_final(&m, data + words, len - words);
}

struct log_file {
	char *name;
	char *refused;      /* why it was not read (then len is 0), or NULL */
	uint8_t *data;
	size_t len;
	bool base_ok;       /* signature, checksum and a log file type */
	uint32_t type;
	uint32_t seq1, seq2;
};

struct log_entry {
	const struct log_file *log;
	const uint8_t *entry;
	uint32_t seq;
	uint32_t bins_size;
	uint32_t pages;
};

static bool base_block_valid(const uint8_t *b, size_t len)
{
	return len >= LOG_SECTOR && memcmp(b, REGF_SIGNATURE, 4) == 0 &&
	       le32(b + REGF_CHECKSUM) == hv_header_checksum(b);
}

/*
 * Read one log whole, through the engine's door (file.c): a log that is a
 * symbolic link, not a regular file, or someone else's is never read; it
 * is kept with the reason in log->refused and counts as unusable, so the
 * recovery note can say why.  Only a failure to allocate is an error.
 */
static int read_log(void *mem, const struct hive_io *io,
		    const struct hv_file_id *owner, const char *path,
		    struct log_file *log)
{
	struct stat st;
	int fd, ret;

	ret = hv_file_open(io, path, HV_FILE_LOG_READ, owner, &fd, NULL);
	if (ret == HIVE_OK && (fstat(fd, &st) < 0 || st.st_size > (off_t)0x7FFFFFFF))
		ret = HIVE_FAIL(HIVE_E_IO, "%s: not a usable log file", path);
	if (ret == HIVE_OK) {
		log->data = hv_big_alloc(mem, (size_t)st.st_size + 1);
		if (!log->data) {
			hv_file_close(io, fd);
			return HIVE_FAIL(HIVE_E_NOMEM, "log %s", path);
		}
		ret = hv_file_read(io, fd, path, log->data, (size_t)st.st_size,
				   &log->len);
	}
	hv_file_close(io, fd);
	if (ret != HIVE_OK) {
		log->len = 0;
		log->base_ok = false;
		log->refused = talloc_strdup(mem, hive_error_detail());
		return log->refused ? HIVE_OK : HIVE_FAIL(HIVE_E_NOMEM, "log %s", path);
	}
	log->base_ok = base_block_valid(log->data, log->len);
	if (log->base_ok) {
		log->type = le32(log->data + REGF_TYPE);
		log->seq1 = le32(log->data + REGF_SEQ1);
		log->seq2 = le32(log->data + REGF_SEQ2);
		if (log->type != 1 && log->type != 2 && log->type != 6)
			log->base_ok = false;
	}
	return HIVE_OK;
}

int hv_find_log_names(void *mem, const char *path, char *found[3])
{
	char *copy1 = talloc_strdup(mem, path), *copy2 = talloc_strdup(mem, path);
	static const char *const suffixes[] = { ".LOG", ".LOG1", ".LOG2" };
	const char *base;
	char *dir;
	size_t blen;
	int fd;
	DIR *d;
	struct dirent *e;

	found[0] = found[1] = found[2] = NULL;
	if (!copy1 || !copy2)
		return HIVE_FAIL(HIVE_E_NOMEM, "path");
	/* The folder as resolved once (the hive's path already is): the log
	 * names found are then opened with no link followed. */
	dir = realpath(dirname(copy1), NULL);
	base = basename(copy2);
	blen = strlen(base);
	if (!dir || hv_file_open(NULL, dir, HV_FILE_DIR, NULL, &fd, NULL) != HIVE_OK) {
		free(dir);
		return HIVE_OK; /* no folder to list: no logs */
	}
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		free(dir);
		return HIVE_OK;
	}
	while ((e = readdir(d)) != NULL) {
		/* Windows names logs in any case: NTUSER.DAT, ntuser.dat.LOG1. */
		if (strncasecmp(e->d_name, base, blen) != 0)
			continue;
		for (unsigned s = 0; s < 3; s++)
			if (!found[s] && strcasecmp(e->d_name + blen, suffixes[s]) == 0)
				found[s] = talloc_asprintf(mem, "%s/%s",
							   strcmp(dir, "/") ? dir : "",
							   e->d_name);
	}
	closedir(d);
	free(dir);
	return HIVE_OK;
}

/* Logs beside `path`: BASE.LOG, BASE.LOG1, BASE.LOG2 in any case. */
static int find_logs(void *mem, const struct hive_io *io,
		     const struct hv_file_id *owner, const char *path,
		     struct log_file *logs, unsigned *count)
{
	char *names[3];
	int ret = hv_find_log_names(mem, path, names);

	*count = 0;
	for (unsigned s = 0; ret == HIVE_OK && s < 3; s++) {
		if (!names[s] || read_log(mem, io, owner, names[s], &logs[s]) != HIVE_OK)
			continue;
		logs[s].name = names[s];
		(*count)++;
	}
	return ret;
}

/* Make the image hold `bins_size` bytes of bins, zero-filling new space. */
static int ensure_bins(struct hive *h, uint32_t bins_size)
{
	size_t need = (size_t)REGF_BLOCK_SIZE + bins_size;

	return need > h->image_len ? hv_image_resize(h, need) : HIVE_OK;
}

/* Bytes of bins the image holds now, whole sectors only. */
static uint64_t bins_held(const struct hive *h)
{
	uint64_t held = h->image_len > REGF_BLOCK_SIZE ? h->image_len - REGF_BLOCK_SIZE : 0;

	return held - held % LOG_SECTOR;
}

struct span {
	uint64_t start, end;
};

static int span_order(const void *a, const void *b)
{
	const struct span *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/*
 * Do the entry's pages cover every byte from `held` up to its bins size?
 * (See the header: growth must be carried.)  Entries were parsed, so every
 * page lies below the bins size.
 */
static bool growth_carried(const uint8_t *entry, uint32_t pages,
			   uint32_t bins_size, uint64_t held)
{
	struct span *spans;
	uint32_t n = 0;
	uint64_t reach = held;

	if (bins_size <= held)
		return true;
	spans = talloc_array(NULL, struct span, pages ? pages : 1);
	if (!spans)
		return false;
	for (uint32_t i = 0; i < pages; i++) {
		uint32_t off = le32(entry + HVLE_HEADER + 8 * i);
		uint32_t size = le32(entry + HVLE_HEADER + 8 * i + 4);
		if ((uint64_t)off + size > held)
			spans[n++] = (struct span){ off, (uint64_t)off + size };
	}
	qsort(spans, n, sizeof(*spans), span_order);
	for (uint32_t i = 0; i < n && spans[i].start <= reach; i++)
		if (spans[i].end > reach)
			reach = spans[i].end;
	talloc_free(spans);
	return reach >= bins_size;
}

/* The valid entries of one new-format log, in file order. */
static unsigned parse_entries(const struct log_file *log, struct log_entry *out,
			      unsigned max)
{
	unsigned n = 0;

	for (size_t off = LOG_SECTOR; off + HVLE_HEADER <= log->len && n < max;) {
		const uint8_t *e = log->data + off;
		uint32_t size = le32(e + 4), pages = le32(e + 20), bins = le32(e + 16);
		uint64_t data = 0;

		if (memcmp(e, "HvLE", 4) != 0 || size < HVLE_HEADER ||
		    size % LOG_SECTOR != 0 || size > log->len - off ||
		    bins % REGF_BLOCK_SIZE != 0 || bins == 0 ||
		    (uint64_t)pages * 8 > size - HVLE_HEADER)
			break;
		for (uint32_t i = 0; i < pages; i++) {
			uint32_t poff = le32(e + HVLE_HEADER + 8 * i);
			uint32_t psize = le32(e + HVLE_HEADER + 8 * i + 4);
			if (poff % LOG_SECTOR || psize % LOG_SECTOR ||
			    (uint64_t)poff + psize > bins) {
				data = UINT64_MAX;
				break;
			}
			data += psize;
		}
		if (data > size - HVLE_HEADER - 8ull * pages)
			break;
		if (le64(e + 32) != hv_marvin32(e, 32) ||
		    le64(e + 24) != hv_marvin32(e + HVLE_HEADER, size - HVLE_HEADER))
			break;
		out[n].log = log;
		out[n].entry = e;
		out[n].seq = le32(e + 12);
		out[n].bins_size = bins;
		out[n].pages = pages;
		n++;
		off += size;
	}
	return n;
}

static int apply_entry(struct hive *h, const struct log_entry *le)
{
	const uint8_t *refs = le->entry + HVLE_HEADER;
	const uint8_t *page = refs + 8 * (size_t)le->pages;
	int ret = ensure_bins(h, le->bins_size);

	if (ret != HIVE_OK)
		return ret;
	for (uint32_t i = 0; i < le->pages; i++) {
		uint32_t off = le32(refs + 8 * i), size = le32(refs + 8 * i + 4);
		memcpy(h->image + REGF_BLOCK_SIZE + off, page, size);
		page += size;
	}
	if (le->bins_size > le32(h->image + REGF_BINS_SIZE))
		put_le32(h->image + REGF_BINS_SIZE, le->bins_size);
	return HIVE_OK;
}

/* By sequence number; among equal ones the entry of the log whose base
 * block is newer first (it was written later). */
static int entry_order(const void *a, const void *b)
{
	const struct log_entry *x = a, *y = b;

	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	if (x->log->seq1 != y->log->seq1)
		return x->log->seq1 > y->log->seq1 ? -1 : 1;
	if (x->log != y->log)   /* then .LOG, .LOG1, .LOG2 order, then file order */
		return x->log < y->log ? -1 : 1;
	return x->entry < y->entry ? -1 : x->entry > y->entry;
}

static int replay_new_format(struct hive *h, struct log_file *logs,
			     uint32_t threshold, char **note)
{
	struct log_entry *entries;
	unsigned n = 0, applied = 0, i = 0;
	uint32_t first = UINT32_MAX, expected;
	const struct log_entry *uncarried = NULL;
	uint64_t held = 0;
	int ret = HIVE_OK;

	entries = talloc_array(NULL, struct log_entry, 4096);
	if (!entries)
		return HIVE_FAIL(HIVE_E_NOMEM, "log entries");
	for (unsigned s = 0; s < 3; s++)
		if (logs[s].name && logs[s].base_ok && logs[s].type == 6)
			n += parse_entries(&logs[s], entries + n, 4096 - n);
	/*
	 * Entries older than the primary's second sequence number are already
	 * in it.  Windows 8.1+ may leave the primary far behind its logs
	 * (lazy reconciliation), so replay starts at the oldest entry from
	 * there on and follows the numbers while they are consecutive.
	 */
	qsort(entries, n, sizeof(*entries), entry_order);
	while (i < n && entries[i].seq < threshold)
		i++;
	if (i < n)
		first = entries[i].seq;
	expected = first;
	/* Follow the sequence across both logs until it breaks. */
	while (i < n && entries[i].seq == expected) {
		const struct log_entry *next = &entries[i];
		held = bins_held(h);
		if (!growth_carried(next->entry, next->pages, next->bins_size, held)) {
			uncarried = next;
			break;
		}
		ret = apply_entry(h, next);
		if (ret != HIVE_OK)
			break;
		applied++;
		while (i < n && entries[i].seq == expected)
			i++;
		if (expected == UINT32_MAX)
			break;
		expected++;
	}
	if (ret == HIVE_OK && applied == 0 && uncarried)
		ret = HIVE_FAIL(HIVE_E_CORRUPT,
				"log entry %u sets the hive bins to %u bytes but "
				"does not carry all of the growth past %llu",
				uncarried->seq, uncarried->bins_size,
				(unsigned long long)held);
	else if (ret == HIVE_OK && applied == 0)
		ret = HIVE_FAIL(HIVE_E_CORRUPT,
				"no valid log entry from sequence number %u on",
				threshold);
	if (ret == HIVE_OK) {
		*note = talloc_asprintf(h, "replayed %u log entr%s (sequence %u-%u)",
					applied, applied == 1 ? "y" : "ies", first,
					first + applied - 1);
		if (*note && uncarried)
			*note = talloc_asprintf_append(*note, "; entry %u not applied: "
						       "it sets the bins to %u bytes "
						       "without carrying the growth",
						       uncarried->seq,
						       uncarried->bins_size);
		put_le32(h->image + REGF_SEQ1, first + applied);
		put_le32(h->image + REGF_SEQ2, first + applied);
	}
	talloc_free(entries);
	return ret;
}

static int replay_old_format(struct hive *h, const struct log_file *log,
			     char **note)
{
	uint32_t bins = le32(log->data + REGF_BINS_SIZE);
	size_t bitmap = bins / LOG_SECTOR / 8, off, sectors = 0;
	int ret;

	if (bins == 0 || bins % REGF_BLOCK_SIZE != 0)
		return HIVE_FAIL(HIVE_E_CORRUPT, "%s: bins size %u", log->name, bins);
	if (log->len < LOG_SECTOR + 4 + bitmap ||
	    memcmp(log->data + LOG_SECTOR, "DIRT", 4) != 0)
		return HIVE_FAIL(HIVE_E_CORRUPT, "%s: no dirty-sector bitmap",
				 log->name);
	const uint8_t *bits = log->data + LOG_SECTOR + 4;
	off = (LOG_SECTOR + 4 + bitmap + LOG_SECTOR - 1) / LOG_SECTOR * LOG_SECTOR;
	for (size_t i = 0; i < bins / LOG_SECTOR; i++)
		if (bits[i / 8] & (1u << (i % 8)))
			sectors++;
	if (off + sectors * LOG_SECTOR > log->len)
		return HIVE_FAIL(HIVE_E_CORRUPT, "%s: %zu dirty sectors, log too short",
				 log->name, sectors);
	/* Growth past what the primary holds must be carried, sector by sector. */
	for (uint64_t i = bins_held(h) / LOG_SECTOR; i < bins / LOG_SECTOR; i++)
		if (!(bits[i / 8] & (1u << (i % 8))))
			return HIVE_FAIL(HIVE_E_CORRUPT,
					 "%s: bins size %u, but the hive holds %llu "
					 "bytes and the log does not carry sector "
					 "0x%llx of the growth", log->name, bins,
					 (unsigned long long)bins_held(h),
					 (unsigned long long)i * LOG_SECTOR);
	ret = ensure_bins(h, bins);
	if (ret != HIVE_OK)
		return ret;
	for (size_t i = 0; i < bins / LOG_SECTOR; i++) {
		if (!(bits[i / 8] & (1u << (i % 8))))
			continue;
		memcpy(h->image + REGF_BLOCK_SIZE + i * LOG_SECTOR, log->data + off,
		       LOG_SECTOR);
		off += LOG_SECTOR;
	}
	/* The log's base block is the one the primary should have had. */
	memcpy(h->image, log->data, LOG_SECTOR);
	put_le32(h->image + REGF_TYPE, 0);
	put_le32(h->image + REGF_SEQ2, le32(h->image + REGF_SEQ1));
	*note = talloc_asprintf(h, "replayed %zu dirty sectors from %s", sectors,
				log->name);
	return HIVE_OK;
}

/* Whether the image is a hive that needs its logs (dirty or damaged base). */
static bool replay_needed(const struct hive *h)
{
	const uint8_t *b = h->image;

	if (h->image_len < REGF_BLOCK_SIZE || memcmp(b, REGF_SIGNATURE, 4) != 0)
		return false; /* not a hive at all: open will say so */
	/* A clean hive ignores stale logs. */
	return !base_block_valid(b, h->image_len) ||
	       le32(b + REGF_SEQ1) != le32(b + REGF_SEQ2);
}

/*
 * Replay the logs found (file or memory alike): pick the format, apply,
 * and on failure leave the primary as it was found, base block included.
 * `ret` is the outcome of finding them.
 */
static int replay_found(struct hive *h, struct log_file logs[3], unsigned count,
			int ret)
{
	uint8_t *b = h->image;
	bool base_ok = base_block_valid(b, h->image_len);
	char *note = NULL;
	uint8_t saved_base[REGF_BLOCK_SIZE];

	memcpy(saved_base, b, REGF_BLOCK_SIZE);
	if (ret == HIVE_OK && count == 0)
		ret = HIVE_FAIL(HIVE_E_CORRUPT, "no transaction log found beside it");
	if (ret == HIVE_OK) {
		const struct log_file *old = NULL, *fresh = NULL;
		for (unsigned s = 0; s < 3; s++) {
			if (!logs[s].name || !logs[s].base_ok)
				continue;
			if (logs[s].type == 6)
				fresh = &logs[s];
			else if (!old && logs[s].seq1 == logs[s].seq2)
				old = &logs[s];
		}
		/* A damaged primary base block is replaced by the log's. */
		const struct log_file *donor = fresh ? fresh : old;
		if (!base_ok && donor) {
			memcpy(b, donor->data, LOG_SECTOR);
			memset(b + LOG_SECTOR, 0, REGF_BLOCK_SIZE - LOG_SECTOR);
			put_le32(b + REGF_TYPE, 0);
		}
		if (fresh) {
			uint32_t threshold = le32(b + REGF_SEQ2);
			if (!base_ok)
				for (unsigned s = 0; s < 3; s++)
					if (logs[s].name && logs[s].base_ok &&
					    logs[s].type == 6 && logs[s].seq2 < threshold)
						threshold = logs[s].seq2;
			ret = replay_new_format(h, logs, threshold, &note);
		} else if (old) {
			ret = replay_old_format(h, old, &note);
		} else {
			ret = HIVE_FAIL(HIVE_E_CORRUPT,
					"no usable transaction log (bad base block "
					"or unknown file type)");
		}
	}
	if (ret == HIVE_OK) {
		put_le32(h->image + REGF_CHECKSUM, hv_header_checksum(h->image));
		h->recovery_note = note;
		h->recovered = true;
	} else {
		memcpy(h->image, saved_base, REGF_BLOCK_SIZE);
		h->recovery_note = talloc_asprintf(h, "log replay failed: %s",
						   hive_error_detail());
	}
	return ret;
}

int hv_replay(struct hive *h, const char *path)
{
	void *tmp;
	struct log_file logs[3];
	unsigned count;
	int ret;

	if (!replay_needed(h))
		return HIVE_OK;
	tmp = talloc_new(NULL);
	memset(logs, 0, sizeof(logs));
	ret = find_logs(tmp, &h->io, &h->file, path, logs, &count);
	ret = replay_found(h, logs, count, ret);
	/* Logs refused as unsafe were left unread: say which and why. */
	for (unsigned s = 0; s < 3 && h->recovery_note; s++)
		if (logs[s].refused)
			h->recovery_note = talloc_asprintf_append(h->recovery_note,
				"; not read: %s", logs[s].refused);
	talloc_free(tmp);
	return ret;
}

int hv_replay_buffers(struct hive *h, const uint8_t *const data[3],
		      const size_t len[3])
{
	static const char *const names[3] = { "(.LOG)", "(.LOG1)", "(.LOG2)" };
	struct log_file logs[3];
	unsigned count = 0;

	if (!replay_needed(h))
		return HIVE_OK;
	memset(logs, 0, sizeof(logs));
	for (unsigned s = 0; s < 3; s++) {
		struct log_file *log = &logs[s];
		if (!data[s])
			continue;
		/* Replay only reads a log: the cast keeps one struct for both. */
		log->name = (char *)names[s];
		log->data = (uint8_t *)data[s];
		log->len = len[s];
		log->base_ok = base_block_valid(log->data, log->len);
		if (log->base_ok) {
			log->type = le32(log->data + REGF_TYPE);
			log->seq1 = le32(log->data + REGF_SEQ1);
			log->seq2 = le32(log->data + REGF_SEQ2);
			log->base_ok = log->type == 1 || log->type == 2 || log->type == 6;
		}
		count++;
	}
	return replay_found(h, logs, count, HIVE_OK);
}

const char *hive_recovery_note(const struct hive *h)
{
	return h->recovery_note;
}

int hive_describe_logs(void *mem, const char *path, char **text)
{
	void *tmp = talloc_new(NULL);
	struct log_file logs[3];
	struct log_entry *entries = talloc_array(tmp, struct log_entry, 4096);
	unsigned count;
	char *out = talloc_strdup(tmp, "");
	int ret;

	memset(logs, 0, sizeof(logs));
	struct hv_file_id hive_file = { .known = false };
	struct stat st;
	/* The same owner rule as replay: a log must be the hive's owner's. */
	if (stat(path, &st) == 0)
		hive_file = (struct hv_file_id){ .uid = (uint32_t)st.st_uid,
						   .known = true };
	/* Bytes of bins the primary file holds, for the growth bound. */
	uint64_t held = hive_file.known && st.st_size > (off_t)REGF_BLOCK_SIZE
				? (uint64_t)st.st_size - REGF_BLOCK_SIZE : 0;
	held -= held % LOG_SECTOR;
	ret = entries && out ? find_logs(tmp, NULL, &hive_file, path, logs, &count)
			     : HIVE_FAIL(HIVE_E_NOMEM, "log description");
	for (unsigned s = 0; ret == HIVE_OK && s < 3; s++) {
		const struct log_file *log = &logs[s];
		if (!log->name)
			continue;
		out = talloc_asprintf_append(out, "%s%s: ", *out ? "\n" : "", log->name);
		if (log->refused) {
			out = talloc_asprintf_append(out, "not read (unusable): %s",
						     log->refused);
		} else if (!log->base_ok) {
			out = talloc_asprintf_append(out, "%zu bytes, no valid base block "
						     "(unusable)", log->len);
		} else if (log->type == 6) {
			unsigned n = parse_entries(log, entries, 4096);
			out = talloc_asprintf_append(out, "new format, base block sequence "
						     "%u/%u, %u valid entr%s", log->seq1,
						     log->seq2, n, n == 1 ? "y" : "ies");
			if (n)
				out = talloc_asprintf_append(out, " (sequence %u-%u)",
							     entries[0].seq,
							     entries[n - 1].seq);
			/* The growth bound of replay, over this log alone, in
			 * file order from what the primary file holds. */
			for (unsigned i = 0; i < n && out; i++) {
				const struct log_entry *e = &entries[i];
				if (!growth_carried(e->entry, e->pages, e->bins_size, held)) {
					out = talloc_asprintf_append(out, "; entry %u sets the "
								     "bins to %u bytes without "
								     "carrying the growth (replay "
								     "stops there)", e->seq,
								     e->bins_size);
					break;
				}
				if (e->bins_size > held)
					held = e->bins_size;
			}
		} else {
			bool dirt = log->len >= LOG_SECTOR + 4 &&
				    memcmp(log->data + LOG_SECTOR, "DIRT", 4) == 0;
			out = talloc_asprintf_append(out, "old format, base block sequence "
						     "%u/%u, %s", log->seq1, log->seq2,
						     dirt ? "dirty-sector bitmap present"
							  : "no dirty-sector bitmap (unusable)");
		}
	}
	if (ret == HIVE_OK && out) {
		*text = talloc_steal(mem, out);
		ret = HIVE_OK;
	} else if (ret == HIVE_OK) {
		ret = HIVE_FAIL(HIVE_E_NOMEM, "log description");
	}
	talloc_free(tmp);
	return ret;
}
