/*
 * regwrite.h — the .reg writer shared by `hivectl export` and `hivectl
 * diff`: the output in regedit's format (5.00), line by line, and the
 * rules for what a .reg file can carry (see regwrite.c).
 */
#ifndef HIVECTL_REGWRITE_H
#define HIVECTL_REGWRITE_H

#include "hivectl.h"

struct reg_writer {
	void *mem;
	bool utf16;      /* UTF-16LE + CRLF (with a BOM), else UTF-8 + LF */
	bool failed;     /* out of memory while building a line */
	bool started;    /* the header is out */
	uint16_t *line;  /* the line being built */
	size_t len, cap;
	const char *hive_path;  /* for messages */
	const uint16_t *prefix; /* written before every key path */
	size_t prefix_len;
	unsigned errors; /* reported problems that left something out */
};

void regw_init(struct reg_writer *w, void *mem, bool utf16,
	       const char *hive_path, const uint16_t *prefix,
	       size_t prefix_len);
/* The byte-order mark (UTF-16) and the header, once, before any line. */
void regw_header(struct reg_writer *w);
/*
 * The line of the key whose path is the first n entries of `path`:
 * [PREFIX\A\B], or [-PREFIX\A\B] when `del`.  Its names are checked first
 * (from `first_checked` on; the others were checked before): a name the
 * file cannot carry is reported, and for a line break nothing is written
 * and false returned (the caller leaves the subtree out).
 */
bool regw_key(struct reg_writer *w, const struct keypath *path, size_t n,
	      size_t first_checked, bool del);
/* A value line ("name"=DATA), `index` from 0 for messages; problems are
 * reported against the key `path`. */
void regw_value(struct reg_writer *w, struct hive *h, hive_value_t val,
		size_t index, const struct keypath *path);
/* "name"=- (or @=-). */
void regw_value_delete(struct reg_writer *w, const uint16_t *name,
		       size_t len, const struct keypath *path);
/* The blank line that ends a key's block. */
void regw_end_key(struct reg_writer *w);
/*
 * Every key and value at and below `start`, whose own path is `base`, as
 * export writes them (parents first, values in list order).  Returns 0,
 * or the walk's error (reported).
 */
int regw_subtree(struct reg_writer *w, struct hive *h, hive_key_t start,
		 const struct keypath *base);
/* "[warning: ]HIVE: key 'PATH': WHAT: DETAIL" on stderr; counts errors. */
void regw_report(struct reg_writer *w, const struct keypath *path, size_t n,
		 bool warning, const char *what, const char *detail);
void regw_error(struct reg_writer *w, const struct keypath *path, size_t n,
		const char *what, int err);

/*
 * The options of a command that writes .reg (export, diff): --prefix and
 * --encoding.  A command's opts are this struct (or begin with it).
 */
struct regw_opts {
	const char *prefix;
	bool utf16;
	uint16_t *prefix16; /* the prefix as UTF-16, without a trailing '\\' */
	size_t prefix_len;
};

extern const struct regw_opts regw_defaults;
/* The --encoding handler (utf-16le or utf-8). */
int regw_option_encoding(struct cmd_args *a, const char *arg);
/* The prepare step: checks the prefix and makes its UTF-16 form; 0, or
 * EXIT_USAGE (printed) for a prefix a .reg file cannot hold. */
int regw_prepare(struct cmd_args *a);

#endif /* HIVECTL_REGWRITE_H */
