/*
 * hivectl.h — what the hivectl command files share.
 *
 * Every command is one struct cmd, defined at the bottom of its own file
 * beside its logic; hivectl.c lists them.  command.c runs an entry: it
 * parses the options (with a uniform --help and usage errors), checks the
 * operand count, lets the command check its operands, opens the hive as
 * the entry says, calls run() and, for a changing command, commits.  So a
 * command file holds only what that command does.  util.c holds the
 * pieces commands use in their logic: messages, name rendering, and the
 * path bookkeeping that turns hive_walk()'s (key, depth) callbacks into
 * full key paths.
 */
#ifndef HIVECTL_H
#define HIVECTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hive.h"

/* Exit status of every command. */
#define EXIT_HIVE 1  /* the hive (or the system) failed us */
#define EXIT_USAGE 2 /* the command line is wrong */

/* The root that .reg key paths begin with, for export, diff and import. */
#define REG_DEFAULT_PREFIX "HKEY_LOCAL_MACHINE"

/* How command.c opens the hive named by the first operand. */
enum cmd_open {
	/* Not at all: run() makes or reads its files itself. */
	CMD_OPEN_NONE,
	/*
	 * hive_open() with args->open_flags, which start as
	 * HIVE_OPEN_READ_ONLY; an option or prepare() may change them.
	 */
	CMD_OPEN_READ_ONLY,
	/*
	 * For changes (the file is locked); a hive the engine would refuse
	 * changes to (dirty, truncated, damaged) is refused up front, with
	 * the reason.  When run() returns 0 the change is committed through
	 * the transaction logs and standard output flushed.
	 */
	CMD_OPEN_READ_WRITE,
};

struct cmd;

/* What command.c hands to a command's functions. */
struct cmd_args {
	const struct cmd *cmd;
	void *mem;          /* talloc context, freed when the command ends */
	void *opts;         /* the command's own options (see struct cmd) */
	char **operands;    /* what follows the options */
	int n_operands;
	const char *hive_path; /* operands[0]: every command names a hive */
	unsigned open_flags;   /* hive_open() flags for CMD_OPEN_READ_ONLY */
	struct hive *h;        /* the open hive; NULL for CMD_OPEN_NONE */
};

/*
 * One option of a command; -h/--help is every command's and not listed.
 * Without parse(), a flag sets the bool at `field` in the command's opts
 * and an option's argument is stored in the const char * there (use
 * CMD_FLAG and CMD_STRING); parse() takes an argument that must be read
 * or an option with another effect, and returns 0 or usage_error().
 */
struct cmd_opt {
	int letter;       /* the short option; 0 ends the list */
	const char *name; /* the long option; NULL: none */
	bool has_arg;
	size_t field;     /* offsetof() in the command's opts */
	int (*parse)(struct cmd_args *args, const char *arg);
};

/* offsetof(type, member), refused by the compiler unless it is a `want`. */
#define CMD_FIELD(type, member, want)                                        \
	(offsetof(type, member) +                                            \
	 0 * sizeof(char[__builtin_types_compatible_p(                        \
		 __typeof__(((type *)0)->member), want) ? 1 : -1]))
#define CMD_FLAG(letter, name, type, member)                                 \
	{ letter, name, false, CMD_FIELD(type, member, bool), NULL }
#define CMD_STRING(letter, name, type, member)                               \
	{ letter, name, true, CMD_FIELD(type, member, const char *), NULL }

/*
 * One command: its text, its options, its operands, how its hive is
 * opened, and its logic.  The options are stored in the command's own
 * struct at args->opts (opts_size bytes, a copy of *opts_default or
 * zeroed), where prepare() may keep what it makes of the operands too.
 * Functions return 0 to go on, or the exit status, after printing why
 * (usage_error() for a wrong command line).
 */
struct cmd {
	const char *name;
	const char *synopsis; /* arguments, after "hivectl NAME " */
	const char *summary;  /* one line for the command list */
	const char *help;     /* the body of --help */

	const struct cmd_opt *options; /* NULL: only --help */
	size_t opts_size;
	const void *opts_default;      /* NULL: all zero */

	struct {
		int min, max;        /* max < 0: no limit */
		const char *missing; /* "missing WHAT" when there are too few */
	} operands;

	enum cmd_open open;
	/* Checks made before the hive is opened (optional). */
	int (*prepare)(struct cmd_args *args);
	/* The command itself; returns its exit status or CMD_UNCHANGED. */
	int (*run)(struct cmd_args *args);
};

/*
 * What run() of a CMD_OPEN_READ_WRITE command returns for "success, and
 * do not commit": a change the engine began and refused (rm -f of a value
 * that is not there) must not write the hive and its logs.
 */
#define CMD_UNCHANGED (-1)

extern const struct cmd cmd_info, cmd_ls, cmd_get, cmd_export, cmd_dump;
extern const struct cmd cmd_create, cmd_set, cmd_rm, cmd_mkdir, cmd_mv,
	cmd_check, cmd_recover, cmd_import, cmd_diff;

/* ---- running a command (command.c) ---- */

/* Runs cmd with its arguments (argv[0] is the command name). */
int run_command(const struct cmd *cmd, int argc, char **argv);
/* Prints the usage error and a hint; returns EXIT_USAGE. */
int usage_error(const struct cmd *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void print_cmd_help(const struct cmd *cmd);
/* Flushes stdout; a failed write is reported and turns rc into EXIT_HIVE. */
int finish_stdout(int rc);

/* ---- messages ---- */

/* "hivectl: " + message + newline, on stderr. */
void report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "hive_strerror(err): detail", or without the detail if none. */
char *err_text(void *mem, int err);

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

/* ---- deleting ---- */

/*
 * Delete `top` and everything below it (*deleted counts the keys).  A
 * subtree deeper than HIVE_MAX_DEPTH (a cycle) is refused, reported,
 * before any key of it is deleted.
 */
int delete_subtree(struct hive *h, hive_key_t top, unsigned *deleted);

/* ---- misc ---- */

/* FILETIME as ISO-8601 UTC with the full 100 ns precision. */
char *filetime_iso(void *mem, uint64_t ft);
/* "REG_SZ" ..., or "0x%08x" for a type without a name. */
char *type_text(void *mem, uint32_t type);

#endif /* HIVECTL_H */
