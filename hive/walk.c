/*
 * walk.c — depth-first traversal with an explicit stack.
 *
 * A hive is untrusted: a subkey list may point back at an ancestor, which
 * would make a naive recursive walk loop forever or exhaust the C stack.
 * The walk keeps the current path on its own stack (at most HIVE_MAX_DEPTH
 * deep), refuses to enter a key that is already on it, and reports what it
 * skips instead of failing the whole traversal.
 *
 * Lists may also name one key many times.  Within one list a repeat is
 * damage and never a second key: a few KB of leaves naming their one child
 * 200 times, five levels deep, would otherwise be 200^5 keys to visit.  So
 * a key named again by the list that already named it is reported
 * (HIVE_E_CORRUPT) and skipped.  A key named by two different keys is
 * walked under both, as other readers show it; but shapes built of such
 * keys can still multiply, so re-entering a key already walked is allowed
 * only while the walk has done less work than any sound hive of this size
 * could need (one step per list entry and per key the bins could hold);
 * past that, such a key is reported (HIVE_E_TOO_BIG) and skipped.  The walk
 * thus costs what the hive holds, never what its lists multiply.
 */
#include <talloc.h>

#include "layout.h"

struct walk_frame {
	hive_key_t key;
	uint32_t stamp;   /* names this entry of the key's list (struct seen) */
	hive_key_t *children;
	size_t count, next;
};

/*
 * For every key met so far, the stamp of the list that last named it
 * (each entered key's list gets a new stamp): an open-addressing map.
 */
struct seen {
	uint32_t *key;   /* HIVE_NO_CELL = empty slot */
	uint32_t *stamp;
	size_t cap, count;
};

static size_t slot_of(const struct seen *v, hive_key_t key)
{
	size_t i = (key * 2654435761u) & (v->cap - 1);

	while (v->key[i] != HIVE_NO_CELL && v->key[i] != key)
		i = (i + 1) & (v->cap - 1);
	return i;
}

static int grow(void *mem, struct seen *v)
{
	size_t cap = v->cap ? 2 * v->cap : 1024;
	struct seen g = { talloc_array(mem, uint32_t, cap),
			  talloc_array(mem, uint32_t, cap), cap, v->count };

	if (!g.key || !g.stamp) {
		talloc_free(g.key);
		talloc_free(g.stamp);
		return HIVE_FAIL(HIVE_E_NOMEM, "keys met by the walk");
	}
	memset(g.key, 0xFF, cap * sizeof(uint32_t));
	for (size_t i = 0; i < v->cap; i++) {
		if (v->key[i] == HIVE_NO_CELL)
			continue;
		size_t j = slot_of(&g, v->key[i]);
		g.key[j] = v->key[i];
		g.stamp[j] = v->stamp[i];
	}
	talloc_free(v->key);
	talloc_free(v->stamp);
	*v = g;
	return HIVE_OK;
}

enum meeting { FIRST_TIME, SAME_LIST, OTHER_LIST };

/* Records that the list stamped `stamp` names `key`, and what that is. */
static int meet(void *mem, struct seen *v, hive_key_t key, uint32_t stamp,
		enum meeting *how)
{
	if (2 * (v->count + 1) > v->cap) {
		int ret = grow(mem, v);
		if (ret != HIVE_OK)
			return ret;
	}
	size_t i = slot_of(v, key);
	if (v->key[i] == HIVE_NO_CELL) {
		v->key[i] = key;
		v->count++;
		*how = FIRST_TIME;
	} else {
		*how = v->stamp[i] == stamp ? SAME_LIST : OTHER_LIST;
	}
	v->stamp[i] = stamp;
	return HIVE_OK;
}

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
	struct seen seen = { NULL, NULL, 0, 0 };
	/* Steps any sound hive of this size stays within: see the header. */
	uint64_t budget = (uint64_t)h->bins_len / 4 + h->bins_len / 80 + 64, spent = 0;
	uint32_t stamps = 0;
	enum meeting how;
	const uint8_t *nk;
	uint32_t nk_len;
	unsigned top = 0;
	int ret;

	if (!stack) {
		talloc_free(tmp);
		return HIVE_FAIL(HIVE_E_NOMEM, "walk stack");
	}
	ret = hv_key_record(h, start, &nk, &nk_len);
	if (ret != HIVE_OK) {
		talloc_free(tmp);
		return ret;
	}
	ret = meet(tmp, &seen, start, stamps++, &how);
	if (ret == HIVE_OK) {
		ret = enter(h, &stack[0], tmp, start, 0, ops, arg);
		stack[0].stamp = stamps++;
	}
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
		spent++;
		if (on_path(stack, top, child)) {
			ret = report(ops, arg, f->key, top, child,
				     HIVE_FAIL(HIVE_E_CYCLE,
					       "key 0x%x is its own ancestor", child));
		} else if (top + 1 > HIVE_MAX_DEPTH) {
			ret = report(ops, arg, f->key, top, child,
				     HIVE_FAIL(HIVE_E_TOO_BIG,
					       "keys nested deeper than %u",
					       HIVE_MAX_DEPTH));
		} else if ((ret = hv_key_record(h, child, &nk, &nk_len)) != HIVE_OK) {
			ret = report(ops, arg, f->key, top, child, ret);
		} else if ((ret = meet(tmp, &seen, child, f->stamp, &how)) != HIVE_OK) {
			break;
		} else if (how == SAME_LIST) {
			ret = report(ops, arg, f->key, top, child,
				     HIVE_FAIL(HIVE_E_CORRUPT,
					       "key 0x%x is listed more than once",
					       child));
		} else if (how == OTHER_LIST && spent > budget) {
			ret = report(ops, arg, f->key, top, child,
				     HIVE_FAIL(HIVE_E_TOO_BIG,
					       "key 0x%x is listed by several keys, "
					       "more often than a hive of this size "
					       "can hold", child));
		} else {
			top++;
			spent++;
			ret = enter(h, &stack[top], tmp, child, top, ops, arg);
			stack[top].stamp = stamps++;
		}
	}
	talloc_free(tmp);
	return ret;
}
