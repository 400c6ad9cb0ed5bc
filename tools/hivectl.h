/*
 * hivectl.h — what the hivectl command files share.
 *
 * Each command lives in its own file and is described by one struct cmd;
 * hivectl.c dispatches to it.  util.c holds the pieces every command needs:
 * option parsing with uniform --help and usage errors, opening a hive with
 * the one-line error message, name rendering, and the path bookkeeping that
 * turns hive_walk()'s (key, depth) callbacks into full key paths.
 */
#ifndef HIVECTL_H
#define HIVECTL_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hive.h"

/* Exit status of every command. */
#define EXIT_HIVE 1  /* the hive (or the system) failed us */
#define EXIT_USAGE 2 /* the command line is wrong */

struct cmd {
	const char *name;
	const char *synopsis; /* arguments, after "hivectl NAME " */
	const char *summary;  /* one line for the command list */
	const char *help;     /* the body of --help */
	int (*run)(const struct cmd *cmd, int argc, char **argv);
};

extern const struct cmd cmd_info, cmd_ls, cmd_get, cmd_export, cmd_dump;
extern const struct cmd cmd_create, cmd_set, cmd_rm, cmd_mkdir, cmd_mv,
	cmd_check, cmd_recover;

/* ---- messages and options ---- */

/* "hivectl: " + message + newline, on stderr. */
void report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints the usage error and a hint; returns EXIT_USAGE. */
int usage_error(const struct cmd *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void print_cmd_help(const struct cmd *cmd);
/*
 * Whether `count` operands lie in min..max (max < 0: no limit); if not,
 * prints the usage error ("missing WHAT" or "too many arguments").
 */
bool positional_ok(const struct cmd *cmd, int count, int min, int max,
		   const char *what);

/*
 * getopt_long() for a command (argv[0] is the command name).  The tables
 * must contain 'h' / "help".  Returns the option, -1 at the end, OPT_HELP
 * after printing --help, or OPT_BAD after printing a usage error.
 */
#define OPT_HELP (-2)
#define OPT_BAD (-3)
int cmd_getopt(const struct cmd *cmd, int argc, char **argv,
	       const char *shortopts, const struct option *longopts);

/* "hive_strerror(err): detail", or without the detail if none. */
char *err_text(void *mem, int err);

/* Opens read-only; on failure prints "hivectl: PATH: error: detail". */
int open_hive(void *mem, const char *path, struct hive **out);
/* The same with hive_open() flags of the caller's choice. */
int open_hive_flags(void *mem, const char *path, unsigned flags,
		    struct hive **out);

/*
 * Opens for writing (and locks the file); on failure, or when the engine
 * would refuse changes (a dirty, truncated or damaged hive), prints
 * "hivectl: PATH: ..." with the reason and returns non-zero.
 */
int open_hive_rw(void *mem, const char *path, struct hive **out);

/*
 * Commits the changes of a hive to its file (hive_save: transaction log,
 * then the hive); an unchanged hive is left alone.  Prints the error;
 * returns 0 or EXIT_HIVE.
 */
int save_hive(struct hive *h, const char *path);

/* Flushes stdout; a failed write is reported and turns rc into EXIT_HIVE. */
int finish_stdout(int rc);

/* ---- names ---- */

/*
 * A name for a terminal or a message: UTF-8, with C0 controls and DEL shown
 * as %XX and unpaired surrogates as %uXXXX so a listing stays one line per
 * entry.  Display only: it is not reversible (a literal "%41" stays as is).
 */
char *display_name(void *mem, const uint16_t *s, size_t len);

/* ---- key paths ---- */

/*
 * The names of the keys from just below the root down to some key, as
 * stored.  The root itself has no component, so its path is empty.
 */
struct keypath_ent {
	hive_key_t key;
	uint16_t *name;
	size_t len;
};
struct keypath {
	void *mem; /* owns ent and the names */
	struct keypath_ent *ent;
	size_t n, cap;
};
void keypath_init(struct keypath *p, void *mem);
void keypath_truncate(struct keypath *p, size_t n);
int keypath_push(struct keypath *p, struct hive *h, hive_key_t key);
/* The path as \A\B (the root as \), for messages. */
char *keypath_display(void *mem, const struct keypath *p, size_t n);

/*
 * Resolve a user's backslash-separated KEY below the root, one component
 * at a time so that `path` receives the names as stored (not as typed).
 * Failures are reported as "hivectl: HIVE: KEY: error".
 */
int resolve_key(struct hive *h, const char *hive_path, const char *key_arg,
		struct keypath *path, hive_key_t *out);

/*
 * Keeps a keypath in step with hive_walk() started at a key whose own
 * components are the first `base` entries of the path.  Depth d > 0 maps
 * to path entry base + d - 1.
 */
struct walk_paths {
	struct hive *h;
	hive_key_t start;
	struct keypath path;
	size_t base;
	unsigned skip_below; /* inside a skipped subtree below this depth */
	bool skipping;
};
void walk_paths_init(struct walk_paths *w, void *mem, struct hive *h,
		     hive_key_t start, const struct keypath *base);
/*
 * Called from on_key.  Returns true when the key is to be processed (its
 * name is now the last path component).  Returns false for keys inside a
 * subtree that is being skipped, and for a key whose name cannot be read:
 * then *err is set, the path is left at the parent, and the key's subtree
 * is skipped, because its descendants would have no usable path.
 */
bool walk_paths_enter(struct walk_paths *w, hive_key_t key, unsigned depth,
		      int *err);
/* From on_key: leave out the subtree below the key at `depth`. */
void walk_paths_skip(struct walk_paths *w, unsigned depth);
/*
 * Called from on_error: positions the path on the key the error is about,
 * `child` below `parent` (at `depth`), or `parent` itself when child is
 * HIVE_NO_CELL (its subkey list is unreadable) or has no readable name.
 * Returns the number of components to use; *what names the failed item
 * ("subkey list", "key" or "subkey") for the message.
 */
size_t walk_paths_error(struct walk_paths *w, hive_key_t parent,
			unsigned depth, hive_key_t child, const char **what);

/*
 * Resolve KEY like resolve_key(), creating the keys that are missing when
 * `create` is set (*created counts them).  Failures are reported as
 * "hivectl: HIVE: KEY: error".
 */
int resolve_key_create(struct hive *h, const char *hive_path,
		       const char *key_arg, bool create, hive_key_t *out,
		       unsigned *created);

/*
 * Split a KEY argument into the path of its parent and its last component
 * (separators at either end and doubled ones are ignored, as everywhere).
 * Returns false when KEY names the root (no component).
 */
bool split_key_arg(void *mem, const char *key_arg, char **parent,
		   char **leaf);

/*
 * A VALUE argument as a UTF-16 name: "" and "@" are the unnamed default
 * value unless `literal` is set.  HIVE_E_INVALID when it is not UTF-8.
 */
int value_name_arg(void *mem, const char *arg, bool literal, uint16_t **name,
		   size_t *len);
/* A KEY argument for messages: the root ("") is shown as "\\". */
const char *key_display(const char *arg);
/* The name for messages: "(default)" for the default value. */
const char *value_display(size_t len, const char *arg);

/* ---- misc ---- */

/* FILETIME as ISO-8601 UTC with the full 100 ns precision. */
char *filetime_iso(void *mem, uint64_t ft);
/* "REG_SZ" ..., or "0x%08x" for a type without a name. */
char *type_text(void *mem, uint32_t type);

#endif /* HIVECTL_H */
