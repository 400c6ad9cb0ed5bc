/*
 * hivefs.h — what the files of the FUSE driver share.
 *
 *   main.c   options, opening the hive, mounting, the session loop
 *   ops.c    the low-level FUSE operations that read (the one place
 *            engine errors become errno values)
 *   write.c  the operations that change the hive, open files being
 *            written, commits (ops.h is what the two share)
 *   inode.c  the inode table: FUSE node ids <-> keys and values
 *   dir.c    directory listings: the file names of a key's subkeys and
 *            values, and resolving a file name back to one of them
 *   names.c  the reversible file-name encoding (DESIGN.md §1 "Names")
 *   view.c   values as file contents: text and raw views
 *   xattr.c  the user.winreg.* extended attributes
 *
 * The engine (hive.h) is not thread-safe and the inode table is shared, so
 * one mutex, struct hivefs.lock, is held around every use of either.
 */
#ifndef HIVEFS_H
#define HIVEFS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "hive.h"

/* Longest file name handed to the kernel (Linux NAME_MAX). */
#define HIVEFS_NAME_MAX 255

struct inode_table;
struct open_file;
struct wbuf;
struct dir_cache;
struct fuse_session;

/*
 * The last content written to a value through a file, kept a while so
 * that setting user.winreg.type or user.winreg.raw afterwards (cp -a,
 * rsync -aX, tar --xattrs set them after the data) re-interprets exactly
 * the bytes the program wrote, not their normalised text (write.c).
 */
#define RECENT_WRITES 16
struct recent_write {
	uint64_t ino;      /* 0 = unused */
	uint32_t parent, cell;
	char *bytes;       /* malloc'd */
	size_t len;
};

/* The state of one mount. */
struct hivefs {
	pthread_mutex_t lock;          /* guards hive and inodes */
	struct hive *hive;             /* under lock */
	struct inode_table *inodes;    /* under lock */

	/* Set before the first operation (handles: by init); constant
	 * afterwards. */
	const char *hive_path;         /* absolute */
	bool raw;                      /* -o raw: every value shown raw */
	bool handles;                  /* open/opendir make handles (else
					  the kernel opens, see init) */
	bool verbose;                  /* -d or -f: report damage on stderr */
	uid_t uid;
	gid_t gid;
	mode_t umask;
	/* The modes keys and values show (main.c, derived from the hive
	 * file's mode, the umask and whether changes are accepted). */
	mode_t key_mode, value_mode;
	/* The hive file as opened at mount time (main.c): a descriptor
	 * kept for the life of the mount, so its inode cannot be reused,
	 * and its identity, to tell when the path names another file. */
	int hive_fd;
	dev_t hive_dev;
	ino_t hive_ino;
	double timeout;                /* entry and attribute cache, seconds */
	struct hive_info info;

	/* Cell usage for statfs, counted at the first statfs (under lock). */
	struct hive_space space;
	bool space_known;

	/* Read-only mounts: the value being read in pieces, rendered once
	 * (ops.c, read_without_handle; under lock). */
	struct open_file *big_read;
	uint32_t big_read_cell, big_read_parent;
	/* The listings of the keys listed or looked up last (ops.c; under
	 * lock), each valid while `changes` stays what it was. */
	struct dir_cache *dir_cache;
	/* Read-only mounts: the value prefetcher (prefetch.c), unless
	 * -o noprefetch. */
	bool prefetch_values;
	struct prefetch *prefetch;

	/* Read-write mounts (write.c).  Constant once mounted: */
	bool writable;
	bool sync;                     /* -o sync: commit every change */
	unsigned commit_interval;      /* -o commit=SECONDS; 0: none */
	struct fuse_session *se;       /* for cache invalidation */
	struct stale_worker *stale_worker; /* stale.c */
	atomic_uint readers;           /* descriptors open for reading
					  (read-write mounts; stale.c) */
	/* Under lock: */
	struct wbuf *writers;          /* values open for writing */
	struct recent_write recent[RECENT_WRITES];
	unsigned recent_next;
	uint64_t changes;              /* entries created, deleted, renamed */
	int commit_error;              /* first failed commit, or 0 */
	/* The hive's path no longer names the mounted file (deleted or
	 * replaced): nothing more is written, every change is EIO. */
	bool hive_lost;
	char commit_detail[512];       /* why commit_error (for the exit) */
	/* The periodic committer (write.c). */
	pthread_t committer;
	pthread_cond_t wake;
	bool committer_running, stopping;
};

/* ---- names.c: the file-name encoding ---- */

/*
 * Which namespace a name belongs to: value names have two extra rules
 * (the default value is "@", a value named "@" is "%40").
 */
enum name_ns { NAME_KEY, NAME_VALUE };

/*
 * The encoded file name of a stored name (NUL-terminated, on mem), before
 * the suffixes a listing may add (%v, %~N) and before shortening.
 */
char *name_encode(void *mem, const uint16_t *units, size_t len,
		  enum name_ns ns);
/*
 * The inverse of name_encode(): 0 and the units (on mem).  A '%' that
 * starts no escape name_encode() makes stands for itself, so names other
 * programs derive from listed ones (rsync's ".NAME%v.XXXXXX") can be
 * created and found; they list in their encoded form.  -1 for a name no
 * entry can have: empty, "." or "..", controls or '/' unescaped,
 * malformed UTF-8, an escaped surrogate that would pair up.
 */
int name_decode(void *mem, const char *s, size_t len, enum name_ns ns,
		uint16_t **units, size_t *out_len);
/*
 * If `name` cannot be a file name (empty, or longer than HIVEFS_NAME_MAX
 * bytes), its shortened form PREFIX%~HASH (see names.c); otherwise NULL.
 */
char *name_shorten(void *mem, const char *name, size_t len);
/* Does the file name carry a listing-made "%~" part? */
bool name_is_synthetic(const char *s, size_t len);

/* ---- dir.c: listings and name resolution ---- */

enum entry_kind {
	ENTRY_KEY,
	ENTRY_VALUE,
	ENTRY_DAMAGED, /* a record or list that cannot be read: EIO */
};

struct dir_entry {
	const char *name;   /* file name, NUL-terminated */
	uint32_t cell;      /* the nk or vk offset */
	uint8_t kind;       /* enum entry_kind */
	bool synthetic;     /* name has a "%~" form: user.winreg.name applies */
};

struct listing {
	struct dir_entry *ent; /* subkeys in list order, then values */
	size_t count;
	bool aliases;          /* duplicate names were renamed NAME%~N */
};

/*
 * The file names of the subkeys and values of `key`, on mem.  Damage is
 * listed, not fatal: an unreadable entry becomes an ENTRY_DAMAGED one.
 * Fails only when the key itself cannot be read (or on ENOMEM).
 */
int listing_build(void *mem, struct hive *h, hive_key_t key,
		  struct listing **out);

/*
 * Resolve a file name below `key`: 0 and the entry (name NULL), or
 * HIVE_E_NOT_FOUND, or an engine error.  `l` is the key's listing, or NULL
 * when the key is known to have no renamed duplicates and `name` is not
 * synthetic: then the engine's case-insensitive lookups are used directly.
 */
int dir_resolve(struct hive *h, hive_key_t key, const struct listing *l,
		const char *name, struct dir_entry *found);

/*
 * The stored name a new entry called `name` gets below `key` (on mem):
 * the decoded name, or for a value NAME%v where a subkey NAME exists,
 * NAME.  HIVE_E_INVALID for names no entry can be given ("%~" forms,
 * names name_decode() refuses).
 */
int dir_new_name(void *mem, struct hive *h, hive_key_t key, const char *name,
		 enum name_ns ns, uint16_t **units, size_t *len);

/* ---- view.c: values as file contents ---- */

struct view {
	size_t size;   /* bytes of the file */
	bool text;     /* rendered as text (else the data itself) */
	bool raw_flag; /* raw although the type has a text form */
};

/* Does the type have a text form at all (SZ, DWORD, ...)? */
bool view_type_has_text(uint32_t type);
/* Decide how a value is shown and measure it. */
void view_measure(uint32_t type, const uint8_t *data, size_t len,
		  bool raw_mode, struct view *v);
/* Write the view measured by view_measure() to out (v->size bytes). */
void view_render(const struct view *v, uint32_t type, const uint8_t *data,
		 size_t len, char *out);
/*
 * Text written to a file back to data of `type` (the right column of the
 * table in view.c): 0 and the data on mem, or HIVE_E_INVALID when the text
 * does not parse for the type (or the type has no text form).
 */
int view_parse(void *mem, uint32_t type, const char *text, size_t len,
	       uint8_t **data, size_t *data_len);

/* ---- xattr.c ---- */

enum node_kind { NODE_KEY, NODE_VALUE };

/*
 * The user.winreg.* attributes of a key or value.  xattr_list() puts the
 * NUL-separated names on mem; xattr_get() the value of one (HIVE_E_NOT_FOUND
 * if the entry has no such attribute).  node_flags: NODE_SYNTHETIC (the
 * file name is a "%~" form, so user.winreg.name is present) and
 * NODE_VERBATIM (shown raw, so user.winreg.raw is).  Called under the lock.
 */
int xattr_list(void *mem, struct hivefs *fs, enum node_kind kind,
	       uint32_t cell, unsigned node_flags, char **names, size_t *len);
int xattr_get(void *mem, struct hivefs *fs, enum node_kind kind,
	      uint32_t cell, unsigned node_flags, const char *name, char **value,
	      size_t *len);

/* ---- inode.c: the inode table (see the comment at its top) ---- */

/* Per-node flags. */
#define NODE_LISTED    0x1u  /* key: aliases below is known */
#define NODE_ALIASES   0x2u  /* key: its listing renamed duplicates */
#define NODE_SYNTHETIC 0x4u  /* reached through a "%~" name */
#define NODE_DEAD      0x8u  /* deleted: known to the kernel only */
#define NODE_VERBATIM  0x10u /* value: user.winreg.raw set; shown and
				written raw */
#define NODE_FRESH     0x20u /* value: made by create, type never set:
				content that is not text makes it
				REG_BINARY */

struct node_info {
	enum node_kind kind;
	uint32_t cell;       /* nk or vk offset */
	uint32_t parent;     /* the key holding it; HIVE_NO_CELL for the root */
	unsigned flags;      /* NODE_* */
};

#define INODE_ROOT 1 /* FUSE_ROOT_ID */

int inode_table_new(void *mem, hive_key_t root, struct inode_table **out);
/*
 * The node of (kind, parent, cell), created if needed; counts one kernel
 * lookup.  Returns 0, or HIVE_E_NOMEM / HIVE_E_TOO_BIG.
 */
int inode_lookup(struct inode_table *t, enum node_kind kind, uint32_t parent,
		 uint32_t cell, uint64_t *ino, uint64_t *generation);
/* The id of an existing node of (kind, parent, cell), or 0; no counting. */
uint64_t inode_peek(struct inode_table *t, enum node_kind kind,
		    uint32_t parent, uint32_t cell);
/* The kernel forgets `n` lookups; the node goes away at zero. */
void inode_forget(struct inode_table *t, uint64_t ino, uint64_t n);
/* A live node, or false. */
bool inode_get(struct inode_table *t, uint64_t ino, struct node_info *out);
void inode_set_flags(struct inode_table *t, uint64_t ino, unsigned flags);
void inode_clear_flags(struct inode_table *t, uint64_t ino, unsigned flags);
/* The entry was deleted: a new entry reusing its cell gets a new node. */
void inode_unlink(struct inode_table *t, uint64_t ino);
/* The node now stands for (its kind, parent, cell); no live node may
 * have that identity. */
void inode_rekey(struct inode_table *t, uint64_t ino, uint32_t parent,
		 uint32_t cell);
/* Every live node below key `old_parent` is now below `new_parent`. */
void inode_reparent(struct inode_table *t, uint32_t old_parent,
		    uint32_t new_parent);
/* Live nodes (for statistics and tests). */
size_t inode_count(const struct inode_table *t);

/* ---- ops.c ---- */

struct fuse_lowlevel_ops;
extern const struct fuse_lowlevel_ops hivefs_ops;

#endif /* HIVEFS_H */
