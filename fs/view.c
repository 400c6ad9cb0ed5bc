/*
 * view.c — a value's data as the content of its file.
 *
 * The text itself is the engine's codec (hive_text_render and
 * hive_text_parse, hive/text.c, with the table of text forms), the same
 * hivectl uses.  What is decided here is only which view a file gets:
 * text where the codec has exact text for the data, else the data itself
 * ("raw"), flagged with user.winreg.raw when the type has a text form, so
 * a file never hides or invents a byte.  With -o raw every value is raw,
 * and those whose type has a text view carry user.winreg.raw.
 */
#include <string.h>

#include "hive.h"
#include "view.h"

bool view_type_has_text(uint32_t type)
{
	return hive_type_has_text(type);
}

void view_measure(uint32_t type, const uint8_t *data, size_t len,
		  bool raw_mode, struct view *v)
{
	size_t n = raw_mode ? SIZE_MAX : hive_text_render(type, data, len, NULL);

	v->text = n != SIZE_MAX;
	v->size = v->text ? n : len;
	v->raw_flag = !v->text && hive_type_has_text(type);
}

void view_render(const struct view *v, uint32_t type, const uint8_t *data,
		 size_t len, char *out)
{
	if (v->text)
		hive_text_render(type, data, len, out);
	else
		memcpy(out, data, len);
}

int view_parse(void *mem, uint32_t type, const char *text, size_t len,
	       uint8_t **data, size_t *data_len)
{
	return hive_text_parse(mem, type, text, len, data, data_len);
}
