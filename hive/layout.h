/*
 * layout.h — the on-disk regf layout and the engine's internal state.
 *
 * Internal to hive/: the build gives front ends hive.h alone (see
 * hive/meson.build); the engine's own tests include this too.
 * What it declares carries the hv_ prefix (HV_ for constants), so that
 * hive_ always means the public interface of hive.h.
 *
 * All multi-byte fields are little-endian; the accessors below read them
 * byte by byte so unaligned or truncated images cannot fault.  Record field
 * offsets are relative to the start of the record, i.e. the cell's data
 * (cell offset + 4).  Every pointer into `image` is valid only while the
 * caller holds the hive (no write can run concurrently).
 */
#ifndef HIVE_LAYOUT_H
#define HIVE_LAYOUT_H

#include <stdarg.h>
#include <stdint.h>
#include <string.h>

#include "hive.h"

static inline uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static inline uint64_t le64(const uint8_t *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

static inline void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void put_le32(uint8_t *p, uint32_t v)
{
	put_le16(p, (uint16_t)v);
	put_le16(p + 2, (uint16_t)(v >> 16));
}

static inline void put_le64(uint8_t *p, uint64_t v)
{
	put_le32(p, (uint32_t)v);
	put_le32(p + 4, (uint32_t)(v >> 32));
}

/* ---- base block (file offset 0, 4096 bytes) ---- */
#define REGF_BLOCK_SIZE 4096u
#define REGF_SIGNATURE "regf"
#define REGF_SEQ1 4             /* u32 primary sequence number */
#define REGF_SEQ2 8             /* u32 secondary sequence number */
#define REGF_TIMESTAMP 12       /* u64 FILETIME */
#define REGF_MAJOR 20           /* u32 = 1 */
#define REGF_MINOR 24           /* u32 3..6 */
#define REGF_TYPE 28            /* u32 0 primary, 1/2 old log, 6 new log */
#define REGF_FORMAT 32          /* u32 = 1 (memory dump) */
#define REGF_ROOT 36            /* u32 root cell offset */
#define REGF_BINS_SIZE 40       /* u32 hive bins data size */
#define REGF_CLUSTERING 44      /* u32 = 1 */
#define REGF_FILE_NAME 48       /* 64 bytes UTF-16LE */
#define REGF_FILE_NAME_SIZE 64
#define REGF_CHECKSUM 508       /* u32 XOR of the dwords at 0..507 */

/* ---- hive bin header (32 bytes) ---- */
#define HBIN_SIGNATURE "hbin"
#define HBIN_HEADER_SIZE 32u
#define HBIN_OFFSET 4           /* u32 own offset relative to the bins start */
#define HBIN_SIZE 8             /* u32 multiple of 4096 */
#define HBIN_TIMESTAMP 20       /* u64 */

/* ---- cells ---- */
#define CELL_HEADER_SIZE 4u     /* i32 size, negative = allocated */
#define CELL_ALIGN 8u

/* nk: key node */
#define NK_SIG 0                /* "nk" */
#define NK_FLAGS 2              /* u16 */
#define NK_LAST_WRITE 4         /* u64 FILETIME */
#define NK_ACCESS_BITS 12       /* u32 */
#define NK_PARENT 16            /* u32 */
#define NK_SUBKEY_COUNT 20      /* u32 */
#define NK_VOLATILE_SUBKEY_COUNT 24
#define NK_SUBKEY_LIST 28       /* u32 */
#define NK_VOLATILE_SUBKEY_LIST 32
#define NK_VALUE_COUNT 36       /* u32 */
#define NK_VALUE_LIST 40        /* u32 */
#define NK_SECURITY 44          /* u32 sk offset */
#define NK_CLASS 48             /* u32 class-name cell */
#define NK_MAX_SUBKEY_NAME 52   /* u32, low 16 bits; high bits user flags */
#define NK_MAX_SUBKEY_CLASS 56
#define NK_MAX_VALUE_NAME 60
#define NK_MAX_VALUE_DATA 64
#define NK_WORK_VAR 68
#define NK_NAME_LEN 72          /* u16 bytes */
#define NK_CLASS_LEN 74         /* u16 bytes */
#define NK_NAME 76
#define NK_FIXED_SIZE 76u

/* vk: value */
#define VK_SIG 0                /* "vk" */
#define VK_NAME_LEN 2           /* u16 bytes, 0 = default value */
#define VK_DATA_SIZE 4          /* u32, bit 31 = data inline */
#define VK_DATA 8               /* u32 offset, or the inline bytes */
#define VK_TYPE 12              /* u32 */
#define VK_FLAGS 16             /* u16, 0x1 = name is Latin-1 */
#define VK_NAME 20
#define VK_FIXED_SIZE 20u
#define VK_COMP_NAME 0x0001u
#define VK_DATA_INLINE 0x80000000u

/* li / lf / lh / ri: subkey lists */
#define LIST_SIG 0              /* "li" "lf" "lh" "ri" */
#define LIST_COUNT 2            /* u16 */
#define LIST_ENTRIES 4

/* db: big data (version >= 1.4, data > BIG_DATA_SEGMENT) */
#define DB_SIG 0                /* "db" */
#define DB_SEGMENT_COUNT 2      /* u16 */
#define DB_SEGMENT_LIST 4       /* u32 */
#define BIG_DATA_SEGMENT 16344u

/* sk: security descriptor */
#define SK_SIG 0                /* "sk" */
#define SK_FLINK 4
#define SK_BLINK 8
#define SK_REFCOUNT 12
#define SK_DESCRIPTOR_SIZE 16
#define SK_DESCRIPTOR 20
#define SK_FIXED_SIZE 20u

/* Hard caps for untrusted counts (far above anything Windows writes). */
#define MAX_SUBKEYS_PER_KEY (1u << 24)
#define MAX_VALUES_PER_KEY (1u << 24)
#define MAX_VALUE_DATA (1u << 30)

/* ---- engine state ---- */

#define ORDER_CACHE_SIZE 1024u

/* Which bin a 4 KiB page of the bins belongs to (one entry per page). */
struct hv_page {
	uint32_t bin_start;     /* relative offset of the bin, or PAGE_UNREADABLE */
	uint32_t bin_end;       /* relative offset just past the bin's usable part */
};
#define PAGE_UNREADABLE 0xFFFFFFFFu

/*
 * Free cells, indexed two ways: by size class (doubly linked lists of pool
 * nodes, for allocation) and by offset (an open-addressing hash, so that a
 * neighbour found free in the image can be unlinked when coalescing).
 */
#define FREE_CLASSES 160
#define FREE_NONE 0xFFFFFFFFu
struct free_node {
	uint32_t off, size;
	uint32_t prev, next;    /* pool indices within the size class */
};
struct free_index {
	struct free_node *nodes;
	uint32_t count, cap;
	uint32_t recycled;      /* chain (through .next) of unused nodes */
	uint32_t heads[FREE_CLASSES];
	uint32_t *slots;        /* node index + 1; 0 empty; ~0 deleted */
	uint32_t slot_mask, slots_used;
};

/* file.c: who a file is, as fstat() saw it when it was opened. */
struct hv_file_id {
	uint64_t dev, ino, nlink;
	uint32_t uid, gid, mode;
	bool known;
};

struct hive {
	char *path;             /* canonical absolute path; NULL for memory images */
	unsigned flags;         /* HIVE_OPEN_* */
	uint8_t *image;         /* the whole file as read */
	size_t image_len;
	uint8_t *bins;          /* image + 4096 */
	uint32_t bins_len;      /* bytes of hive bins present and valid */
	struct hv_page *pages; /* bins_len / 4096 entries */
	uint32_t bin_count;
	uint32_t damaged_bins;  /* bins whose header is wrong */
	bool truncated;         /* file shorter than the bins size says */
	uint32_t minor;
	hive_key_t root;

	/* Writing (see alloc.c and valueedit.c). */
	const char *read_only_reason; /* NULL when changes are accepted */
	bool modified;
	bool free_index_ready;
	struct free_index free;
	uint8_t *dirty;         /* one flag per 4 KiB page of the bins */
	/* Writers (alloc.c): one bit per 8 bytes of bins, set where a cell of
	 * the tiling starts; hv_cell() accepts no other offset once built. */
	uint8_t *cell_starts;
	bool base_dirty;
	int lock_fd;            /* the writer's file: locked, read-write; or -1 */
	struct hive_io io;
	struct hv_file_id file; /* the hive file as opened (owner of its logs) */
	bool poisoned;
	char *log_names[2];     /* LOG1, LOG2 as found beside the hive */
	unsigned active_log;    /* 0 or 1: where the next entry goes */
	bool logs_reset;        /* the other log was emptied this session */

	/* Subkey lists found sorted or not (sublist.c), direct-mapped. */
	struct { uint32_t list; uint8_t state; } order_cache[ORDER_CACHE_SIZE];

	/* The value-name index of one key (value.c). */
	struct value_index *vindex;

	/* Log replay at open (log.c). */
	bool recovered;
	char *recovery_note;
};

/* error.c: record a failure's reason; returns err.  Use HIVE_FAIL(). */
int hv_fail_at(const char *func, const char *file, int line, int err,
	       const char *fmt, ...) __attribute__((format(printf, 5, 6)));
#define HIVE_FAIL(err, ...) \
	hv_fail_at(__func__, __FILE__, __LINE__, (err), __VA_ARGS__)

/* open.c */
uint32_t hv_header_checksum(const uint8_t *base_block);
/*
 * The image and other buffers that can exceed talloc's 256 MiB limit live
 * in malloc memory: hv_image_resize() grows the image (new bytes zeroed)
 * and the handle's destructor frees it; hv_big_alloc() returns zeroed
 * malloc memory released when `mem` is freed.
 */
int hv_image_resize(struct hive *h, size_t len);
void *hv_big_alloc(void *mem, size_t len);

/*
 * cell.c: bounds-checked access to an allocated cell.  *data points at the
 * cell's data and *len is the usable length (cell size minus header).
 */
int hv_cell(const struct hive *h, uint32_t off, const uint8_t **data,
	    uint32_t *len);
/* The size of the allocated cell at off, header included; 0 for
 * HIVE_NO_CELL or anything that is not one (for statistics only). */
uint64_t hv_cell_bytes(const struct hive *h, uint32_t off);
/* The same, also checking a 2-byte signature and a minimum length. */
int hv_record(const struct hive *h, uint32_t off, const char sig[2],
	      uint32_t min_len, const uint8_t **data, uint32_t *len);

/* upcase.c (generated): runs of code units sharing one upper-case delta. */
struct upcase_run {
	uint16_t first, last;
	uint8_t stride;         /* 1, or 2 for alternating upper/lower pairs */
	int32_t delta;
};
extern const struct upcase_run hv_upcase_runs[];
extern const unsigned hv_upcase_run_count;

/* name.c: a stored name (Latin-1 bytes or UTF-16LE) as given on disk. */
struct stored_name {
	const uint8_t *bytes;
	size_t len;             /* bytes */
	bool latin1;
};
size_t hv_stored_name_units(const struct stored_name *n);
uint16_t hv_stored_name_unit(const struct stored_name *n, size_t i);
int hv_stored_name_compare(const struct stored_name *n, const uint16_t *name,
			   size_t len);
uint32_t hv_stored_name_hash(const struct stored_name *n);
int hv_stored_name_copy(void *mem, const struct stored_name *n,
			uint16_t **out, size_t *len);

/* alloc.c: cells for writing.  Offsets are relative to the bins. */
int hv_alloc(struct hive *h, uint32_t data_len, uint32_t *off);
void hv_free(struct hive *h, uint32_t off);
/* Make room for `data_len` bytes in the cell at `off`, moving it if it
 * must grow; contents are kept. */
int hv_realloc(struct hive *h, uint32_t *off, uint32_t data_len);
/*
 * Writable data of a cell the caller has validated (hv_cell() and the
 * record's own length checks); marks its pages dirty.  It proves the cell
 * again — a cell of the tiling, allocated, inside one bin — and stops the
 * process on an engine bug rather than write outside it; hv_nk_w() also
 * proves it is an nk record of at least its fixed size.
 */
uint8_t *hv_cell_w(struct hive *h, uint32_t off);
void hv_mark_dirty(struct hive *h, uint32_t off, uint32_t len);
/* After changing a base-block field: checksum and dirty state. */
void hv_base_block_changed(struct hive *h);
/* One pass over every cell header: cells must tile every bin exactly
 * (sizes multiples of 8, none crossing its bin's end).  Builds the free
 * index and the cell-start map; HIVE_E_CORRUPT says where it breaks. */
int hv_free_index_build(struct hive *h);
uint64_t hv_now_filetime(void);

/* cell.c: data bytes a valid allocated cell can hold. */
uint32_t hv_cell_capacity(const struct hive *h, uint32_t off);

/* alloc.c: the start of every change, and nk fields to write. */
int hv_begin_change(struct hive *h);
uint8_t *hv_nk_w(struct hive *h, hive_key_t key);

/* name.c: names as written into nk and vk records. */
bool hv_name_is_latin1(const uint16_t *name, size_t len);
void hv_store_name(uint8_t *dst, const uint16_t *name, size_t len, bool latin1);

/* sublist.c: insert (`add` != HIVE_NO_CELL) and/or remove (`remove` !=
 * HIVE_NO_CELL) a subkey of `parent`, keeping the list sorted. */
int hv_subkeys_edit(struct hive *h, hive_key_t parent, hive_key_t remove,
		    hive_key_t add);
/* Free a subkey list's cells (an ri's leaves too). */
void hv_subkey_list_free(struct hive *h, uint32_t list);
/* A key's maximum subkey name and class lengths from its subkeys `kids`:
 * exact, or (after an addition) never shrinking. */
void hv_subkey_maxima_update(struct hive *h, hive_key_t key,
			     const hive_key_t *kids, size_t n, bool exact);

/* security.c: one more, or one fewer, key using the sk cell `sk`; the
 * last release unlinks and frees it. */
int hv_sk_retain(struct hive *h, uint32_t sk);
void hv_sk_release(struct hive *h, uint32_t sk);

/* keyedit.c: set a key's LastWriteTime to now. */
void hv_touch_key(struct hive *h, hive_key_t key);

/* valueedit.c: delete every value of a key (the key is going). */
void hv_delete_all_values(struct hive *h, hive_key_t key);

/* log.c */
/* Names of the logs beside `path` (any case), or NULL where there is none:
 * found[0] = .LOG, found[1] = .LOG1, found[2] = .LOG2. */
int hv_find_log_names(void *mem, const char *path, char *found[3]);
uint64_t hv_marvin32(const uint8_t *data, size_t len);
/* The same hash over data that comes in pieces (a log entry written as it
 * is built): every piece but the last a multiple of 4 bytes long, the
 * last (under 4 bytes) given to _final. */
struct hv_marvin32 {
	uint32_t p0, p1;
};
void hv_marvin32_init(struct hv_marvin32 *m);
void hv_marvin32_words(struct hv_marvin32 *m, const uint8_t *data, size_t len);
uint64_t hv_marvin32_final(struct hv_marvin32 *m, const uint8_t *tail,
			   size_t len);
/* Replay the logs beside `path` into a dirty image (a no-op when clean). */
int hv_replay(struct hive *h, const char *path);
/* The same with logs given in memory: data[0..2] = .LOG, .LOG1, .LOG2
 * (NULL where there is none); the same code path as from files. */
int hv_replay_buffers(struct hive *h, const uint8_t *const data[3],
		      const size_t len[3]);

/* open.c: hive_open_memory() that first replays logs given in memory
 * (as hv_replay_buffers(); logs may be NULL) — for fuzzing and tests. */
int hv_open_memory_logs(void *mem, const void *image, size_t len,
			const uint8_t *const logs[3], const size_t log_lens[3],
			unsigned flags, struct hive **out);

/* save.c: open the hive file for writing and lock it against a second
 * writer (read-only, with the reason, where it cannot be written). */
int hv_lock(struct hive *h, const char *path);
/* commit.c */
int hv_write_recovered(struct hive *h);

/*
 * file.c: the only way the engine opens a file beside a hive (see the
 * comment there for what it refuses and why).  `owner` is the hive file's
 * identity: a log must belong to its owner or root, and a new log gets its
 * mode and owner.  HV_FILE_LOG_EMPTY gives *fd = -1 for a missing log;
 * HV_FILE_NEW creates `path` exclusively (HIVE_E_EXISTS if taken).
 * *id (may be NULL) receives what fstat() saw.
 */
enum hv_file_use {
	HV_FILE_HIVE_READ,    /* the hive, to read */
	HV_FILE_HIVE_WRITE,   /* the hive, to lock and write */
	HV_FILE_LOG_READ,     /* a log, to replay or describe */
	HV_FILE_LOG_WRITE,    /* a log, to write (created if missing) */
	HV_FILE_LOG_EMPTY,    /* a log, to empty (never created) */
	HV_FILE_NEW,          /* a save's temporary file */
	HV_FILE_DIR,          /* the hive's folder, to flush */
};
int hv_file_open(const struct hive_io *io, const char *path,
		 enum hv_file_use use, const struct hv_file_id *owner,
		 int *fd, struct hv_file_id *id);
void hv_file_close(const struct hive_io *io, int fd);
/* Read up to len bytes from offset 0 (fewer if the file is shorter). */
int hv_file_read(const struct hive_io *io, int fd, const char *path,
		 uint8_t *buf, size_t len, size_t *got);
/* Keep fd open until `mem` is freed (a reader's shared lock); closed
 * through `io`. */
int hv_file_hold(void *mem, const struct hive_io *io, int fd);
/* HIVE_OK if h->path still names the open, singly linked file. */
int hv_file_still_named(const struct hive *h);
void hv_io_default(struct hive_io *io);
/* *io = the defaults with given's non-NULL members (given may be NULL). */
void hv_io_fill(struct hive_io *io, const struct hive_io *given);
/* HIVE_E_NOSPC for ENOSPC and EDQUOT, HIVE_E_IO for any other errno. */
int hv_io_error(int err);

/* key.c */
int hv_key_record(const struct hive *h, hive_key_t key,
		  const uint8_t **nk, uint32_t *len);
int hv_key_stored_name(const struct hive *h, hive_key_t key,
		       struct stored_name *name);

/* value.c: a key's value list, validated (no list when count is 0). */
int hv_value_list(const struct hive *h, hive_key_t key,
		  const uint8_t **list, uint32_t *count);
/* Keeping the value-name index right: a value was appended to or removed
 * from a key's list that had old_count entries at old_list; a key went. */
void hv_vindex_added(struct hive *h, hive_key_t key, uint32_t old_count,
		     uint32_t old_list, hive_value_t val);
void hv_vindex_removed(struct hive *h, hive_key_t key, uint32_t old_count,
		       uint32_t old_list, hive_value_t val);
void hv_vindex_forget(struct hive *h, hive_key_t key);

#endif /* HIVE_LAYOUT_H */
