/*
 * view.h — values as file contents: text and raw views (view.c).
 * Returns are in the engine's vocabulary (HIVE_E_*), see hivefs.h.
 */
#ifndef HIVEFS_VIEW_H
#define HIVEFS_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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
 * table in hive/text.c): 0 and the data on mem, or HIVE_E_INVALID when the text
 * does not parse for the type (or the type has no text form).
 */
int view_parse(void *mem, uint32_t type, const char *text, size_t len,
	       uint8_t **data, size_t *data_len);

#endif /* HIVEFS_VIEW_H */
