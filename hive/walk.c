/*
 * walk.c — depth-first traversal with an explicit stack.
 *
 * A hive is untrusted: a subkey list may point back at an ancestor, which
 * would make a naive recursive walk loop forever or exhaust the C stack.
 * The walk keeps the current path on its own stack (at most HIVE_MAX_DEPTH
 * deep), refuses to enter a key that is already on it, and reports what it
 * skips instead of failing the whole traversal.
 */
#include <talloc.h>

#include "layout.h"

struct walk_frame {
	hive_key_t key;
	hive_key_t *children;
	size_t count, next;
};

static bool on_path(const struct walk_frame *stack, unsigned top, hive_key_t key)
{
	for (unsigned i = 0; i <= top; i++)
		if (stack[i].key == key)
			return true;
	return false;
}

static int report(const struct hive_walk_ops *ops, void *arg, hive_key_t parent,
		  unsigned depth, hive_key_t child, int err)
{
	return ops->on_error ? ops->on_error(arg, parent, depth, child, err) : 0;
}

/* Enter `key` at `depth`: report it and list its children into the frame. */
static int enter(struct hive *h, struct walk_frame *frame, void *mem,
		 hive_key_t key, unsigned depth,
		 const struct hive_walk_ops *ops, void *arg)
{
	int ret = ops->on_key(arg, key, depth);

	frame->key = key;
	frame->children = NULL;
	frame->count = frame->next = 0;
	if (ret != 0)
		return ret;
	ret = hive_key_subkeys(mem, h, key, &frame->children, &frame->count);
	if (ret != HIVE_OK)
		return report(ops, arg, key, depth, HIVE_NO_CELL, ret);
	return 0;
}

int hive_walk(struct hive *h, hive_key_t start, const struct hive_walk_ops *ops,
	      void *arg)
{
	void *tmp = talloc_new(NULL);
	struct walk_frame *stack = talloc_array(tmp, struct walk_frame,
						HIVE_MAX_DEPTH + 1);
	const uint8_t *nk;
	uint32_t nk_len;
	unsigned top = 0;
	int ret;

	if (!stack) {
		talloc_free(tmp);
		return HIVE_FAIL(HIVE_E_NOMEM, "walk stack");
	}
	ret = hive_key_record(h, start, &nk, &nk_len);
	if (ret != HIVE_OK) {
		talloc_free(tmp);
		return ret;
	}
	ret = enter(h, &stack[0], tmp, start, 0, ops, arg);
	while (ret == 0) {
		struct walk_frame *f = &stack[top];
		hive_key_t child;

		if (f->next == f->count) {
			if (ops->on_key_done)
				ret = ops->on_key_done(arg, f->key, top);
			talloc_free(f->children);
			if (ret != 0 || top == 0)
				break;
			top--;
			continue;
		}
		child = f->children[f->next++];
		if (on_path(stack, top, child)) {
			ret = report(ops, arg, f->key, top, child,
				     HIVE_FAIL(HIVE_E_CYCLE,
					       "key 0x%x is its own ancestor", child));
		} else if (top + 1 > HIVE_MAX_DEPTH) {
			ret = report(ops, arg, f->key, top, child,
				     HIVE_FAIL(HIVE_E_TOO_BIG,
					       "keys nested deeper than %u",
					       HIVE_MAX_DEPTH));
		} else if ((ret = hive_key_record(h, child, &nk, &nk_len)) != HIVE_OK) {
			ret = report(ops, arg, f->key, top, child, ret);
		} else {
			top++;
			ret = enter(h, &stack[top], tmp, child, top, ops, arg);
		}
	}
	talloc_free(tmp);
	return ret;
}
