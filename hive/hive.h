/*
 * hive.h — the public interface of the hivefs engine.
 *
 * The engine reads and writes Windows registry hive files in the "regf"
 * format.  It knows nothing of FUSE, file-name escaping or text views:
 * front ends use only this header, and the build gives them nothing else
 * of hive/.  Which file of hive/ does what: the README's architecture map.
 *
 * Conventions
 *  - Every function that can fail returns 0 (HIVE_OK) or one positive code
 *    of enum hive_error.  hive_error_detail() gives the reason recorded at
 *    the point of failure (thread-local, valid until the next failure in the
 *    same thread).
 *  - Results that need memory hang on the talloc context passed as the
 *    first argument (`mem`); nothing is allocated on failure.
 *  - Keys and values are handed out as cell offsets (hive_key_t,
 *    hive_value_t), never as pointers into the hive, so handles survive any
 *    reallocation of the in-memory image.
 *  - Names are arrays of UTF-16 code units exactly as Windows stores them
 *    (names stored as Latin-1 are widened); they may hold NUL and unpaired
 *    surrogates.
 *  - A struct hive is not thread-safe: callers serialise access.
 */
#ifndef HIVE_HIVE_H
#define HIVE_HIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The one error vocabulary of the engine. */
enum hive_error {
	HIVE_OK = 0,
	HIVE_E_NOMEM,     /* out of memory */
	HIVE_E_IO,        /* the operating system refused a read or write */
	HIVE_E_NOT_HIVE,  /* not a regf file (signature, file type, format) */
	HIVE_E_VERSION,   /* a regf version the engine does not support */
	HIVE_E_CHECKSUM,  /* base block checksum mismatch */
	HIVE_E_CORRUPT,   /* a structure is inconsistent (bad signature, ...) */
	HIVE_E_BOUNDS,    /* an offset or length points outside file or cell */
	HIVE_E_CYCLE,     /* a key is its own ancestor */
	HIVE_E_TOO_BIG,   /* a count, size or depth exceeds a limit */
	HIVE_E_NOT_FOUND, /* no key or value of that name */
	HIVE_E_EXISTS,    /* a key or value of that name already exists */
	HIVE_E_READ_ONLY, /* the hive was opened read-only */
	HIVE_E_INVALID,   /* an argument is not acceptable */
	HIVE_E_NOT_EMPTY, /* the key still has subkeys */
	HIVE_E_POISONED,  /* an earlier failed write left the handle unusable */
	HIVE_E_NOSPC,     /* no space left on the file system (or quota) */
	HIVE_E__COUNT
};

/* Short human-readable text of an error code ("corrupt hive structure"). */
const char *hive_strerror(int err);
/* The errno that best represents an engine error (EIO, ENOENT, ...). */
int hive_error_to_errno(int err);
/* Why the last failure in this thread happened, or "" if none recorded. */
const char *hive_error_detail(void);

typedef uint32_t hive_key_t;   /* cell offset of a key (nk) */
typedef uint32_t hive_value_t; /* cell offset of a value (vk) */
#define HIVE_NO_CELL 0xFFFFFFFFu

/* Registry value types (any other uint32_t is legal too). */
enum hive_value_type {
	HIVE_REG_NONE = 0,
	HIVE_REG_SZ = 1,
	HIVE_REG_EXPAND_SZ = 2,
	HIVE_REG_BINARY = 3,
	HIVE_REG_DWORD = 4,
	HIVE_REG_DWORD_BIG_ENDIAN = 5,
	HIVE_REG_LINK = 6,
	HIVE_REG_MULTI_SZ = 7,
	HIVE_REG_RESOURCE_LIST = 8,
	HIVE_REG_FULL_RESOURCE_DESCRIPTOR = 9,
	HIVE_REG_RESOURCE_REQUIREMENTS_LIST = 10,
	HIVE_REG_QWORD = 11,
};
/* "REG_SZ" ... for types 0-11, NULL for others. */
const char *hive_type_name(uint32_t type);
/*
 * The lowercase short name of types 0-11 ("none", "sz", "expand_sz",
 * "binary", "dword", "dword_be", "link", "multi_sz", "resource_list",
 * "full_resource_descriptor", "resource_requirements_list", "qword"),
 * NULL for others (text.c).
 */
const char *hive_type_short_name(uint32_t type);
/*
 * A type from its name in any spelling (text.c): REG_DWORD, dword, any
 * case; the short names above; REG_DWORD_LITTLE_ENDIAN and
 * REG_QWORD_LITTLE_ENDIAN; a .reg file's hex(N) (N in hex); or a number
 * up to 0xFFFFFFFF, decimal or 0x hex, never octal (010 is ten).  The
 * whole text must be the name.  False, *type untouched, otherwise.
 */
bool hive_type_parse(const char *text, uint32_t *type);
/*
 * A number: decimal or 0x/0X hex (never octal: leading zeros are
 * decimal), all of text[0, len), no sign or space, at most `max`.
 * HIVE_OK and *out, or HIVE_E_INVALID.
 */
int hive_number_parse(const char *text, size_t len, uint64_t max,
		      uint64_t *out);

/*
 * ---- value data as text (text.c) ----
 *
 * The one codec of value data as text that every front end uses; its
 * table of text forms is at the top of the second half of text.c:
 *   SZ, EXPAND_SZ     the string and a newline; "" is one NUL unit
 *   MULTI_SZ          one string per line, none empty
 *   LINK              the string, no newline
 *   DWORD, DWORD_BIG_ENDIAN, QWORD
 *                     decimal and a newline; read back decimal or 0x hex
 * Text is UTF-8 without NUL or surrogates; data is shown as text only
 * where the text parses back to exactly the same bytes.
 */

/* Does the type have a text form at all (SZ, DWORD, ...)? */
bool hive_type_has_text(uint32_t type);
/*
 * The text of `data`, written to out (if not NULL): its length in bytes,
 * or SIZE_MAX when the data has no exact text (the type has none, or
 * hive_text_parse would not give these bytes back).  Call it with out
 * NULL to measure, then with that much room.
 */
size_t hive_text_render(uint32_t type, const uint8_t *data, size_t len,
			char *out);
/*
 * Text back to data of `type`: HIVE_OK and the data on mem,
 * HIVE_E_INVALID when the text is not a text of the type (or the type
 * has none), HIVE_E_TOO_BIG or HIVE_E_NOMEM.
 */
int hive_text_parse(void *mem, uint32_t type, const char *text, size_t len,
		    uint8_t **data, size_t *data_len);
/*
 * Could text[0, len) be the beginning of a text hive_text_parse takes
 * for `type`?  False when no bytes after it can make it one (a letter in
 * a number, an empty line in a MULTI_SZ, bytes that are no UTF-8, a NUL):
 * so a writer can be told at its first bad write.  True for types
 * without text.
 */
bool hive_text_may_begin(uint32_t type, const char *text, size_t len);

/* Windows limits. */
#define HIVE_MAX_KEY_NAME 255      /* UTF-16 units */
#define HIVE_MAX_VALUE_NAME 16383  /* UTF-16 units */
#define HIVE_MAX_DEPTH 512         /* key nesting below the root */

struct hive;
struct hive_io;

/* Flags of hive_open(). */
#define HIVE_OPEN_READ_ONLY 0x1u
/* Show a dirty hive as stored, without replaying its transaction logs. */
#define HIVE_OPEN_NO_REPLAY 0x2u
/* Accept changes to a dirty hive whose logs cannot be replayed: the
 * pending log entries are given up (the user said so). */
#define HIVE_OPEN_FORCE 0x4u
/* With HIVE_OPEN_READ_ONLY: hold a shared lock on the file while the
 * handle lives, so that no writer (which locks it exclusively) changes the
 * file under a reader that keeps showing it (a caller that serves the
 * hive read-only for as long as it runs).  A
 * writer holding it already makes the open fail with HIVE_E_READ_ONLY. */
#define HIVE_OPEN_SHARED_LOCK 0x8u

/*
 * Open the hive file at `path`: reads it into memory once and validates the
 * base block and the hive bins.  Nothing else is parsed until asked for.
 * A dirty hive (bad checksum or sequence numbers that differ) first gets
 * its transaction logs (PATH.LOG, .LOG1, .LOG2, any case) replayed in
 * memory, as Windows does; nothing is written.  If that is impossible it
 * still opens when its base block is sound, read-only and reported dirty.
 * hive_recovery_note() tells what happened.
 */
int hive_open(void *mem, const char *path, unsigned flags, struct hive **out);
/*
 * The same with the file operations `io` (see struct hive_io; NULL or NULL
 * members are the system calls) used from the first open on: reading the
 * hive and its logs, replay, and every later commit and save.
 *
 * Files beside a hive are untrusted (the folder may be someone else's):
 * `path` is resolved once to a canonical absolute path (the user chose
 * it; hive_open follows a symbolic link given as the hive), and from then
 * on no symbolic link is followed, only regular files are read or written,
 * a file to be written must have exactly one link (a hive with more opens
 * read-only, saying so), and a log must belong to the hive's owner or
 * root.  A log refused for reading counts as absent and the recovery note
 * says why; one refused for writing makes the hive read-only at open, and
 * fails a commit (nothing written) if it appears later.
 */
int hive_open_io(void *mem, const char *path, unsigned flags,
		 const struct hive_io *io, struct hive **out);
/*
 * Open `path` read-only exactly as the engine opens a hive file: no
 * symbolic link followed at the last component, nothing but a regular
 * file (a FIFO cannot block, a device is not even opened), close-on-exec.
 * For a front end that keeps a descriptor of its own (a reader's lock,
 * the file's identity); the same refusals and messages as hive_open.
 * *fd, or HIVE_E_NOT_HIVE / HIVE_E_IO with the reason in
 * hive_error_detail().
 */
int hive_open_file(const char *path, int *fd);
/* The same on a copy of an in-memory image (fuzzing, tests). */
int hive_open_memory(void *mem, const void *image, size_t len, unsigned flags,
		     struct hive **out);

struct hive_info {
	uint32_t major, minor;     /* format version, 1.3 .. 1.6 */
	uint32_t file_type;        /* 0 = primary file */
	uint32_t seq_primary, seq_secondary;
	bool dirty;                /* sequence numbers differ (after any replay) */
	bool recovered;            /* transaction logs were replayed at open */
	uint64_t last_written;     /* FILETIME of the base block */
	uint32_t bins_size;        /* hive bins data size from the base block */
	uint64_t file_size;        /* bytes in the file as read */
	uint32_t bin_count;        /* hive bins found */
	uint32_t damaged_bins;     /* bins with a bad header (read with care) */
	bool truncated;            /* file shorter than the bins size says */
	uint32_t checksum;         /* as stored */
	hive_key_t root;
	uint16_t file_name[32];    /* informational name field, UTF-16 */
	size_t file_name_len;      /* units up to the first NUL */
};
void hive_get_info(const struct hive *h, struct hive_info *out);
/* What log replay did at open ("replayed 5 log entries (sequence 3-7)",
 * "log replay failed: ..."), or NULL for a clean hive. */
const char *hive_recovery_note(const struct hive *h);
/* One line per transaction log found beside `path` (any case): format,
 * sequence numbers, valid entries; "" when there is none. */
int hive_describe_logs(void *mem, const char *path, char **text);
hive_key_t hive_root(const struct hive *h);

/* Cell usage totals from one scan of the bins (for a summary of the hive). */
struct hive_space {
	uint64_t allocated_cells, allocated_bytes;
	uint64_t free_cells, free_bytes;
};
int hive_get_space(const struct hive *h, struct hive_space *out);

/* ---- keys ---- */

#define HIVE_KEY_VOLATILE 0x0001u
#define HIVE_KEY_HIVE_EXIT 0x0002u
#define HIVE_KEY_HIVE_ENTRY 0x0004u /* the root */
#define HIVE_KEY_NO_DELETE 0x0008u
#define HIVE_KEY_SYM_LINK 0x0010u
#define HIVE_KEY_COMP_NAME 0x0020u

struct hive_key_stat {
	uint64_t last_write;      /* FILETIME */
	uint16_t flags;           /* HIVE_KEY_* */
	uint32_t access_bits;
	hive_key_t parent;
	uint32_t subkey_count;    /* as stored in the key */
	uint32_t value_count;     /* as stored in the key */
	size_t name_len;          /* UTF-16 units */
	size_t class_len;         /* bytes */
	uint32_t max_subkey_name; /* bookkeeping fields as stored */
	uint32_t max_subkey_class;
	uint32_t max_value_name;
	uint32_t max_value_data;
	/* Bytes of the cells the key itself uses (nk, class, value list,
	 * top subkey list; not the shared security descriptor), headers
	 * and padding included. */
	uint64_t cell_bytes;
};
int hive_key_stat(struct hive *h, hive_key_t key, struct hive_key_stat *st);
int hive_key_name(void *mem, struct hive *h, hive_key_t key,
		  uint16_t **name, size_t *len);
/* Class name bytes (UTF-16LE as stored; *len = 0 if none). */
int hive_key_class(void *mem, struct hive *h, hive_key_t key,
		   uint8_t **data, size_t *len);
/* Self-relative security descriptor bytes (*len = 0 if none). */
int hive_key_security(void *mem, struct hive *h, hive_key_t key,
		      uint8_t **sd, size_t *len);
/* All subkeys in list order (the sorted order in a sound hive). */
int hive_key_subkeys(void *mem, struct hive *h, hive_key_t key,
		     hive_key_t **keys, size_t *count);
/* All values in value-list order. */
int hive_key_values(void *mem, struct hive *h, hive_key_t key,
		    hive_value_t **values, size_t *count);
/* Case-insensitive lookup of one subkey (Windows upcase rules). */
int hive_key_lookup(struct hive *h, hive_key_t parent,
		    const uint16_t *name, size_t len, hive_key_t *child);
/*
 * Look up a path of UTF-8 components separated by backslashes, relative to
 * `start` (leading, trailing and doubled separators are ignored).
 */
int hive_key_lookup_path(struct hive *h, hive_key_t start, const char *path,
			 hive_key_t *out);

/* ---- values ---- */

struct hive_value_stat {
	uint32_t type;
	uint32_t data_len;    /* exact data length, never the cell's padding */
	size_t name_len;      /* UTF-16 units; 0 = the default value */
	bool inline_data;     /* data stored in the vk itself (<= 4 bytes) */
	bool big_data;        /* data stored in a db record */
	/* Bytes of the cells the value uses (vk, data; for big data the db
	 * record, its segment list and segments), headers included. */
	uint64_t cell_bytes;
};
int hive_value_stat(struct hive *h, hive_value_t val, struct hive_value_stat *st);
int hive_value_name(void *mem, struct hive *h, hive_value_t val,
		    uint16_t **name, size_t *len);
int hive_value_data(void *mem, struct hive *h, hive_value_t val,
		    uint8_t **data, size_t *len);
/* Case-insensitive lookup; an empty name finds the default value. */
int hive_value_lookup(struct hive *h, hive_key_t key,
		      const uint16_t *name, size_t len, hive_value_t *val);

/* ---- walking ---- */

/*
 * Depth-first walk of the tree under `start` (parents before children).
 * Each key is reported with its depth (start = 0).  Damage is reported to
 * on_error and skipped, so one bad list or key never hides the rest:
 * `parent` (at `depth`) is the key being listed, `child` the subkey that
 * cannot be entered, or HIVE_NO_CELL when parent's subkey list itself is
 * unreadable; err is HIVE_E_CYCLE for a key that is its own ancestor and
 * HIVE_E_TOO_BIG below HIVE_MAX_DEPTH.  A callback returning non-zero stops
 * the walk and hive_walk returns that value; otherwise it returns 0 (the
 * caller counts the errors it was told about).
 */
struct hive_walk_ops {
	int (*on_key)(void *arg, hive_key_t key, unsigned depth);
	int (*on_key_done)(void *arg, hive_key_t key, unsigned depth); /* may be NULL */
	int (*on_error)(void *arg, hive_key_t parent, unsigned depth,
			hive_key_t child, int err); /* may be NULL */
};
int hive_walk(struct hive *h, hive_key_t start, const struct hive_walk_ops *ops,
	      void *arg);

/* ---- writing ----
 *
 * Changes are made to the in-memory image; hive_save() makes them durable.
 * A hive opened with HIVE_OPEN_READ_ONLY, or one that is dirty (pending
 * transaction-log entries), truncated or has damaged bins, refuses every
 * change with HIVE_E_READ_ONLY: writing it would lose or spread damage.
 *
 * What a hive must pass to be written.  Opening for writing adds one pass
 * over the cell headers (no tree walk; 10-30 ms for a 68 MB hive of a
 * million cells, a fraction of reading the file, and the allocator's free
 * index that the first change needed anyway comes out of it): the
 * cells must tile every bin exactly — sizes multiples of 8, the last cell
 * ending at its bin's end.  A hive that fails opens read-only, its
 * hive_read_only_reason() saying where.  From then on a reference is a
 * cell only where a cell of that tiling starts, and every write is proven
 * to stay inside the bins and inside one allocated cell before it is made,
 * so damage the open did not look for (a reference into the middle of a
 * cell, a parent field naming no key, a list that is not one) makes that
 * change fail (HIVE_E_CORRUPT or HIVE_E_BOUNDS) and never reaches outside
 * the cells the change owns.  hive_check() is the full verification.
 * Every change updates the bookkeeping Windows keeps (counts, maximum
 * lengths, LastWriteTime, sorted lists and hashes, sk reference counts).
 */

/* Create an empty hive in memory: version 1.`minor` (3..6; 5 is usual)
 * whose root key is named `root_name`.  Save it with hive_save_as(). */
int hive_create(void *mem, uint32_t minor, const uint16_t *root_name,
		size_t len, struct hive **out);
/* Whether the image differs from the file it came from. */
bool hive_is_modified(const struct hive *h);
/* Why the hive refuses changes (NULL if it accepts them). */
const char *hive_read_only_reason(const struct hive *h);
/*
 * Commit the changes to the hive's own file the way Windows does: one
 * transaction-log entry (HvLE) holding the dirty pages goes to PATH.LOG1 or
 * PATH.LOG2 (alternating) and is flushed; then the primary's first sequence
 * number is advanced and flushed, the pages are written and flushed, and
 * the second sequence number is set equal and flushed.  A crash at any
 * point leaves a hive that log replay at the next open completes or rolls
 * back to the previous commit.  A failed write or flush poisons the handle:
 * every later change or commit fails with HIVE_E_POISONED.
 * Cost follows the dirty pages, not the size of the hive.
 */
int hive_commit(struct hive *h);
/* hive_commit() for a hive opened from a file; HIVE_E_INVALID otherwise. */
int hive_save(struct hive *h);
/*
 * Write the whole image as a new, clean hive file at `path` (a temporary
 * file beside it, flushed and renamed over it, then the directory flushed):
 * for new hives, recovered copies and exports.  From a read-only handle
 * this may write anywhere but over the handle's own file.
 */
int hive_save_as(struct hive *h, const char *path);
/* The same for a name nothing has yet: HIVE_E_EXISTS (and nothing
 * written) if anything — a file, a link, a FIFO — has it by the time the
 * new file would take it. */
int hive_save_new(struct hive *h, const char *path);

/*
 * The file operations of the engine — opening the hive, its logs, a save's
 * temporary file and folder, reading them, every write, flush, cut and
 * close, and the names a save gives and takes away — replaceable so tests
 * can fail or tear any of them: open at hive_open_io(), replay, commits,
 * hive_save_as() and hive_save_new().  Each returns 0 or -errno (open: a
 * descriptor; pread/pwrite: bytes moved).  `flags` of open are open(2)'s.
 * rename gives `from` the name `to`: over whatever has it when `replace`,
 * otherwise only if nothing has it, atomically (-EEXIST if something
 * does).  A NULL member means the system call.  A commit or save that runs
 * out of space (ENOSPC, EDQUOT) fails with HIVE_E_NOSPC.
 */
struct hive_io {
	long (*pwrite)(void *ctx, int fd, const void *buf, size_t len, int64_t off);
	int (*fsync)(void *ctx, int fd);
	int (*ftruncate)(void *ctx, int fd, int64_t len);
	void *ctx;
	int (*open)(void *ctx, const char *path, int flags, unsigned mode);
	long (*pread)(void *ctx, int fd, void *buf, size_t len, int64_t off);
	int (*close)(void *ctx, int fd);
	int (*rename)(void *ctx, const char *from, const char *to, bool replace);
	int (*unlink)(void *ctx, const char *path);
};
void hive_set_io(struct hive *h, const struct hive_io *io);
bool hive_is_poisoned(const struct hive *h);
/*
 * Does the path the hive was opened from still name the file this handle
 * writes, as its only link?  HIVE_OK if so, and for a handle that writes
 * no file of its own (read-only, in memory: nothing to check); otherwise
 * HIVE_E_IO, hive_error_detail() saying whether the file was deleted or
 * replaced ("PATH was deleted or replaced while open; ...") or gained hard
 * links.  It only looks (two stat calls, no lock taken, nothing written);
 * every commit makes the same check before writing anything, so a front
 * end calls it to notice earlier, e.g. before accepting a change.
 */
int hive_path_check(const struct hive *h);

/*
 * ZwSetValueKey: replace the value whose name matches case-insensitively
 * (keeping its vk and stored spelling) or create it.  Any type; data up to
 * HIVE_MAX_VALUE_DATA bytes.  *out (may be NULL) receives the value.
 */
/* The format allows 65535 segments of 16344 bytes; values are handed out
 * as talloc buffers, whose limit is 256 MiB, so 16000 segments it is. */
#define HIVE_MAX_VALUE_DATA (16000u * 16344u)
/* The most data hive_value_data() hands out (talloc's ceiling: 256 MiB
 * less one byte); larger data, which the format allows up to 65535
 * segments (about 1 GiB), fails with HIVE_E_NOMEM. */
#define HIVE_MAX_READ_DATA 0x0FFFFFFFu
int hive_value_set(struct hive *h, hive_key_t key, const uint16_t *name,
		   size_t len, uint32_t type, const void *data, size_t data_len,
		   hive_value_t *out);
int hive_value_delete(struct hive *h, hive_key_t key, const uint16_t *name,
		      size_t len);
/*
 * Create a subkey (it inherits the parent's security descriptor).  If one
 * of that name exists: HIVE_E_EXISTS with *out set to it.
 */
int hive_key_create(struct hive *h, hive_key_t parent, const uint16_t *name,
		    size_t len, hive_key_t *out);
/* Delete a key without subkeys, with its values (HIVE_E_NOT_EMPTY). */
int hive_key_delete(struct hive *h, hive_key_t key);
/*
 * Rename a key and/or move it (with its subtree) under `new_parent`
 * (HIVE_NO_CELL = same parent).  Moving a key into its own subtree is
 * HIVE_E_INVALID; a sibling of the new name is HIVE_E_EXISTS unless it is
 * the key itself (a change of case).  The key's handle may change: *moved
 * receives the new one.
 */
int hive_key_rename(struct hive *h, hive_key_t key, hive_key_t new_parent,
		    const uint16_t *name, size_t len, hive_key_t *moved);
/* Class name bytes (UTF-16LE by convention); len 0 removes it. */
int hive_key_set_class(struct hive *h, hive_key_t key, const void *data,
		       size_t len);
int hive_key_set_time(struct hive *h, hive_key_t key, uint64_t filetime);
/* Self-relative security descriptor; shared sk cells are reused. */
int hive_key_set_security(struct hive *h, hive_key_t key, const void *sd,
			  size_t len);

/* ---- checking ---- */

/*
 * Verify every structural invariant: cells tile the bins with no overlap,
 * every allocated cell is reachable exactly once (sk cells once per list
 * entry), counts and maximum-length fields, sort order and hashes of
 * subkey lists, ri structure, the sk list and reference counts, big-data
 * layout, the checksum and the bins.  Each finding is passed to `report`;
 * returns the number of findings (0 = clean).
 */
unsigned hive_check(struct hive *h,
		    void (*report)(void *arg, const char *finding), void *arg);
/*
 * The same, tolerating what Windows itself leaves in sound hives (seen in
 * hives it wrote: cells of renamed or self-healed keys that nothing
 * references any more, sk reference counts above the number of keys using
 * them, maximum subkey name or class lengths below the longest subkey's):
 * those go to `note` (may be NULL) and are not counted.  The engine's own
 * writes leave none of them where it changes a key's subkeys.
 */
unsigned hive_check_tolerant(struct hive *h,
			     void (*report)(void *arg, const char *finding),
			     void (*note)(void *arg, const char *text), void *arg);

/* ---- names ---- */

/* Windows' RtlUpcaseUnicodeChar: one code unit to upper case. */
uint16_t hive_upcase(uint16_t c);
/* Order of names in subkey lists: upcased, compared by code unit. */
int hive_name_compare(const uint16_t *a, size_t alen,
		      const uint16_t *b, size_t blen);
/* The hash stored in lh lists. */
uint32_t hive_name_hash(const uint16_t *name, size_t len);
/*
 * UTF-16 to UTF-8.  An unpaired surrogate becomes its 3-byte generalised
 * UTF-8 form (WTF-8) and *lossy, if given, is set; the result is
 * NUL-terminated (embedded NULs stay) and *out_len excludes the terminator.
 */
char *hive_utf16_to_utf8(void *mem, const uint16_t *s, size_t len,
			 size_t *out_len, bool *lossy);
/* UTF-8 (WTF-8 accepted) to UTF-16; HIVE_E_INVALID on malformed input. */
int hive_utf8_to_utf16(void *mem, const char *s, size_t len,
		       uint16_t **out, size_t *out_len);

#ifdef __cplusplus
}
#endif

#endif /* HIVE_HIVE_H */
