/*
 * dir.h — the file names of a key's subkeys and values, and resolving a
 * file name back to one of them (dir.c).  Returns are in the engine's
 * vocabulary (HIVE_E_*), see hivefs.h; the caller holds struct hivefs.lock.
 */
#ifndef HIVEFS_DIR_H
#define HIVEFS_DIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hive.h"
#include "names.h"

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
 * Values made through a file name NAME%v while their key had no subkey
 * NAME (dir.c, "Marked values"): they list as NAME%v, and NAME stays free
 * for the subkey a copy makes next.  The table lives for the mount; NULL
 * is an empty one.  Under the caller's lock, like everything here.
 */
struct value_marks;

/* How a mount names values (struct hivefs.names). */
struct dir_names {
	bool typed;                /* -o typenames: NAME.TYPE (names.h) */
	bool raw_all;              /* -o raw: no value is marked ".raw" */
	struct value_marks *marks; /* NULL: none yet */
};

/* Mark value `cell` of `key` (a no-op when a subkey of its name exists);
 * the table is made on mem when needed.  0, or HIVE_E_NOMEM. */
int value_mark(void *mem, struct dir_names *dn, struct hive *h,
	       hive_key_t key, hive_value_t cell);
/* Value `cell` of `key` is being deleted: its mark goes. */
void value_unmark(struct dir_names *dn, hive_key_t key, hive_value_t cell);
/* Key `from` now has nk cell `to`: its values' marks follow it. */
void value_marks_key_moved(struct dir_names *dn, hive_key_t from,
			   hive_key_t to);
/* Forget the marks of `key`'s values that a subkey now names (they list
 * as NAME%v anyway) or that no longer are what was marked. */
void value_marks_prune(struct dir_names *dn, struct hive *h, hive_key_t key);

/*
 * The file names of the subkeys and values of `key`, on mem.  Damage is
 * listed, not fatal: an unreadable entry becomes an ENTRY_DAMAGED one.
 * Fails only when the key itself cannot be read (or on ENOMEM).
 */
int listing_build(void *mem, struct hive *h, const struct dir_names *dn,
		  hive_key_t key, struct listing **out);

/*
 * Resolve a file name below `key`: 0 and the entry (name NULL), or
 * HIVE_E_NOT_FOUND, or an engine error.  `l` is the key's listing, or NULL
 * when the key is known to have no renamed duplicates and `name` is not
 * synthetic: then the engine's case-insensitive lookups are used directly.
 */
int dir_resolve(struct hive *h, const struct dir_names *dn, hive_key_t key,
		const struct listing *l, const char *name,
		struct dir_entry *found);

/*
 * The file name a listing of `key` gives its subkey or value `cell`
 * (kind ENTRY_KEY or ENTRY_VALUE), on mem, when the key lists no renamed
 * duplicates; HIVE_E_NOT_FOUND when that name is a shortened "%~" form.
 */
int dir_file_name(void *mem, struct hive *h, const struct dir_names *dn,
		  hive_key_t key, enum entry_kind kind, uint32_t cell,
		  char **out);

/* Does the file name end in the value mark "%v" (any case)? */
bool dir_has_value_mark(const char *name);

/*
 * The stored name a new entry called `name` gets (on mem): the decoded
 * name, and for a value NAME%v, NAME, whether or not a subkey NAME
 * exists.  With -o typenames a value's NAME.TYPE is NAME, *typed true and
 * *type TYPE, and *raw for NAME.TYPE.raw; a value name without a type
 * suffix is taken whole, *typed false.  HIVE_E_INVALID for names no entry can be given ("%~" forms,
 * names name_decode() refuses, a key NAME%v).
 */
int dir_new_name(void *mem, const struct dir_names *dn, const char *name,
		 enum name_ns ns, uint16_t **units, size_t *len, bool *typed,
		 uint32_t *type, bool *raw);

#endif /* HIVEFS_DIR_H */
