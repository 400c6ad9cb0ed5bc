/*
 * error.c — the engine's error vocabulary and the record of why a call
 * failed.  The reason is kept per thread so callers on several threads
 * at once never read each other's messages.  With the
 * environment variable HIVE_DEBUG set, every failure is also logged to
 * stderr with its function, file and line.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layout.h"

static __thread char last_detail[512];

static const char *const messages[HIVE_E__COUNT] = {
	[HIVE_OK] = "success",
	[HIVE_E_NOMEM] = "out of memory",
	[HIVE_E_IO] = "input/output error",
	[HIVE_E_NOT_HIVE] = "not a registry hive",
	[HIVE_E_VERSION] = "unsupported hive version",
	[HIVE_E_CHECKSUM] = "base block checksum mismatch",
	[HIVE_E_CORRUPT] = "corrupt hive structure",
	[HIVE_E_BOUNDS] = "offset or length out of bounds",
	[HIVE_E_CYCLE] = "key cycle",
	[HIVE_E_TOO_BIG] = "limit exceeded",
	[HIVE_E_NOT_FOUND] = "no such key or value",
	[HIVE_E_EXISTS] = "already exists",
	[HIVE_E_READ_ONLY] = "hive is read-only",
	[HIVE_E_INVALID] = "invalid argument",
	[HIVE_E_NOT_EMPTY] = "key has subkeys",
	[HIVE_E_POISONED] = "hive handle unusable after a failed write",
	[HIVE_E_NOSPC] = "no space left on the file system",
};

const char *hive_strerror(int err)
{
	if (err < 0 || err >= HIVE_E__COUNT)
		return "unknown error";
	return messages[err];
}

int hive_error_to_errno(int err)
{
	switch (err) {
	case HIVE_OK: return 0;
	case HIVE_E_NOMEM: return ENOMEM;
	case HIVE_E_NOT_FOUND: return ENOENT;
	case HIVE_E_EXISTS: return EEXIST;
	case HIVE_E_READ_ONLY: return EROFS;
	case HIVE_E_INVALID: return EINVAL;
	case HIVE_E_NOT_EMPTY: return ENOTEMPTY;
	case HIVE_E_TOO_BIG: return EFBIG;
	case HIVE_E_CYCLE: return ELOOP;
	case HIVE_E_NOSPC: return ENOSPC;
	/* Damage in the hive, or a failed I/O: the caller can do nothing. */
	default: return EIO;
	}
}

const char *hive_error_detail(void)
{
	return last_detail;
}

int hv_fail_at(const char *func, const char *file, int line, int err,
	       const char *fmt, ...)
{
	char detail[sizeof(last_detail)];
	va_list ap;

	/* Format aside: callers may wrap the previous detail in the new one. */
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	memcpy(last_detail, detail, sizeof(detail));
	if (getenv("HIVE_DEBUG"))
		fprintf(stderr, "hive: %s (%s:%d): %s: %s\n", func, file, line,
			hive_strerror(err), last_detail);
	return err;
}
