/*
 * hivefs.h — what the files of the FUSE driver share.
 *
 *   main.c   options, opening the hive, mounting, the session loop
 *   ops.c    the low-level FUSE operations (the one place engine errors
 *            become errno values)
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
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "hive.h"

/* Longest file name handed to the kernel (Linux NAME_MAX). */
#define HIVEFS_NAME_MAX 255

struct inode_table;
struct file_handle;

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
	double timeout;                /* entry and attribute cache, seconds */
	struct hive_info info;

	/* Cell usage for statfs, counted at the first statfs (under lock). */
	struct hive_space space;
	bool space_known;

	/* Read-only mounts: the value being read in pieces, rendered once
	 * (ops.c, read_without_handle; under lock). */
	struct file_handle *big_read;
	uint32_t big_read_cell, big_read_parent;
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
 * The inverse of name_encode(): 0 and the units (on mem), or -1 if `s` is
 * not a name that name_encode() produces (case of hex digits aside).
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

/* ---- xattr.c ---- */

enum node_kind { NODE_KEY, NODE_VALUE };

/*
 * The user.winreg.* attributes of a key or value.  xattr_list() puts the
 * NUL-separated names on mem; xattr_get() the value of one (HIVE_E_NOT_FOUND
 * if the entry has no such attribute).  `synthetic`: the entry's file name
 * is a "%~" form, so user.winreg.name is present.  Called under the lock.
 */
int xattr_list(void *mem, struct hivefs *fs, enum node_kind kind,
	       uint32_t cell, bool synthetic, char **names, size_t *len);
int xattr_get(void *mem, struct hivefs *fs, enum node_kind kind,
	      uint32_t cell, bool synthetic, const char *name, char **value,
	      size_t *len);

/* ---- inode.c: the inode table (see the comment at its top) ---- */

/* Per-node flags. */
#define NODE_LISTED    0x1u /* key: aliases below is known */
#define NODE_ALIASES   0x2u /* key: its listing renamed duplicates */
#define NODE_SYNTHETIC 0x4u /* reached through a "%~" name */

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
/* Live nodes (for statistics and tests). */
size_t inode_count(const struct inode_table *t);

/* ---- ops.c ---- */

struct fuse_lowlevel_ops;
extern const struct fuse_lowlevel_ops hivefs_ops;

#endif /* HIVEFS_H */
