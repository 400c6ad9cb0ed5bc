/*
 * The inode table (fs/inode.c): node ids for (kind, parent, cell), lookup
 * counting, forgetting, generations on reuse, and the renames and deletes
 * described at the top of inode.c.  A random sequence of operations is
 * checked against a plain model of the table.
 */
#include <string.h>

#include "common.h"
#include "random.h"
/* The fs/ file under test. */
#include "inode.h"

#define ROOT_CELL 0x20u

static struct inode_table *new_table(void *mem)
{
	struct inode_table *t = NULL;

	assert_int_equal(inode_table_new(mem, ROOT_CELL, &t), HIVE_OK);
	assert_non_null(t);
	return t;
}

static uint64_t lookup(struct inode_table *t, enum node_kind kind,
		       uint32_t parent, uint32_t cell, uint64_t *gen)
{
	uint64_t ino = 0, g = 0xDEAD;

	assert_int_equal(inode_lookup(t, kind, parent, cell, &ino, &g), HIVE_OK);
	assert_true(ino > INODE_ROOT || (ino == INODE_ROOT && kind == NODE_KEY &&
					 parent == HIVE_NO_CELL &&
					 cell == ROOT_CELL));
	if (gen)
		*gen = g;
	return ino;
}

static void assert_node(struct inode_table *t, uint64_t ino,
			enum node_kind kind, uint32_t parent, uint32_t cell,
			unsigned flags)
{
	struct node_info ni;

	memset(&ni, 0xA5, sizeof(ni));
	if (!inode_get(t, ino, &ni))
		fail_msg("node %llu is not live", (unsigned long long)ino);
	assert_int_equal(ni.kind, kind);
	assert_int_equal(ni.parent, parent);
	assert_int_equal(ni.cell, cell);
	assert_int_equal(ni.flags, flags);
}

static void assert_gone(struct inode_table *t, uint64_t ino)
{
	struct node_info ni;

	if (inode_get(t, ino, &ni))
		fail_msg("node %llu is still live", (unsigned long long)ino);
}

static void new_table_has_root(void **state)
{
	struct inode_table *t = new_table(*state);
	uint64_t gen;

	assert_int_equal(inode_count(t), 1);
	assert_node(t, INODE_ROOT, NODE_KEY, HIVE_NO_CELL, ROOT_CELL, 0);
	assert_int_equal(inode_peek(t, NODE_KEY, HIVE_NO_CELL, ROOT_CELL),
			 INODE_ROOT);
	/* Looking the root up finds it, and counts nothing new. */
	assert_int_equal(lookup(t, NODE_KEY, HIVE_NO_CELL, ROOT_CELL, &gen),
			 INODE_ROOT);
	assert_int_equal(gen, 0);
	assert_int_equal(inode_count(t), 1);
	/* Ids that were never handed out. */
	assert_gone(t, 0);
	assert_gone(t, 2);
	assert_gone(t, 1023);
	assert_gone(t, 1u << 20);
	assert_gone(t, UINT64_MAX);
	assert_int_equal(inode_peek(t, NODE_VALUE, HIVE_NO_CELL, ROOT_CELL), 0);
	talloc_free(t);
}

static void lookup_creates_once(void **state)
{
	struct inode_table *t = new_table(*state);
	uint64_t gen, a, b, c, d;

	a = lookup(t, NODE_VALUE, ROOT_CELL, 0x100, &gen);
	assert_int_equal(gen, 0);
	assert_int_equal(inode_count(t), 2);
	assert_node(t, a, NODE_VALUE, ROOT_CELL, 0x100, 0);
	assert_int_equal(lookup(t, NODE_VALUE, ROOT_CELL, 0x100, &gen), a);
	assert_int_equal(gen, 0);
	assert_int_equal(inode_count(t), 2);
	assert_int_equal(inode_peek(t, NODE_VALUE, ROOT_CELL, 0x100), a);
	/* Kind, parent and cell each make another identity. */
	b = lookup(t, NODE_KEY, ROOT_CELL, 0x100, NULL);
	c = lookup(t, NODE_VALUE, 0x200, 0x100, NULL);
	d = lookup(t, NODE_VALUE, ROOT_CELL, 0x108, NULL);
	assert_true(a != b && a != c && a != d && b != c && b != d && c != d);
	assert_int_equal(inode_count(t), 5);
	assert_int_equal(inode_peek(t, NODE_KEY, ROOT_CELL, 0x100), b);
	assert_int_equal(inode_peek(t, NODE_VALUE, 0x200, 0x100), c);
	assert_int_equal(inode_peek(t, NODE_VALUE, ROOT_CELL, 0x108), d);
	assert_int_equal(inode_peek(t, NODE_KEY, 0x200, 0x100), 0);
	assert_node(t, b, NODE_KEY, ROOT_CELL, 0x100, 0);
	assert_node(t, c, NODE_VALUE, 0x200, 0x100, 0);
	talloc_free(t);
}

static void forget_counts(void **state)
{
	struct inode_table *t = new_table(*state);
	uint64_t a, b;

	/* Three lookups: forgetting two keeps it, the third frees it. */
	for (int i = 0; i < 3; i++)
		a = lookup(t, NODE_KEY, ROOT_CELL, 0x100, NULL);
	inode_forget(t, a, 2);
	assert_node(t, a, NODE_KEY, ROOT_CELL, 0x100, 0);
	assert_int_equal(inode_count(t), 2);
	inode_forget(t, a, 1);
	assert_gone(t, a);
	assert_int_equal(inode_count(t), 1);
	assert_int_equal(inode_peek(t, NODE_KEY, ROOT_CELL, 0x100), 0);
	/* Forgetting a freed id again changes nothing. */
	inode_forget(t, a, 1);
	assert_int_equal(inode_count(t), 1);
	/* Forgetting more than was looked up frees it too. */
	b = lookup(t, NODE_VALUE, ROOT_CELL, 0x200, NULL);
	inode_forget(t, b, 1000);
	assert_gone(t, b);
	assert_int_equal(inode_count(t), 1);
	/* Peek counts nothing: one lookup, many peeks, one forget frees. */
	a = lookup(t, NODE_VALUE, ROOT_CELL, 0x300, NULL);
	for (int i = 0; i < 5; i++)
		assert_int_equal(inode_peek(t, NODE_VALUE, ROOT_CELL, 0x300), a);
	inode_forget(t, a, 1);
	assert_gone(t, a);
	assert_int_equal(inode_peek(t, NODE_VALUE, ROOT_CELL, 0x300), 0);
	/* Large counts (readdirplus on a busy mount). */
	a = lookup(t, NODE_VALUE, ROOT_CELL, 0x400, NULL);
	for (int i = 0; i < 70000; i++)
		lookup(t, NODE_VALUE, ROOT_CELL, 0x400, NULL);
	inode_forget(t, a, 70000);
	assert_node(t, a, NODE_VALUE, ROOT_CELL, 0x400, 0);
	inode_forget(t, a, 1);
	assert_gone(t, a);
	/* Ids never handed out, and 0, are ignored. */
	inode_forget(t, 0, 1);
	inode_forget(t, 5000, 1);
	assert_int_equal(inode_count(t), 1);
	talloc_free(t);
}

static void root_stays(void **state)
{
	struct inode_table *t = new_table(*state);

	inode_forget(t, INODE_ROOT, 1);
	inode_forget(t, INODE_ROOT, UINT64_MAX);
	assert_node(t, INODE_ROOT, NODE_KEY, HIVE_NO_CELL, ROOT_CELL, 0);
	inode_unlink(t, INODE_ROOT);
	assert_node(t, INODE_ROOT, NODE_KEY, HIVE_NO_CELL, ROOT_CELL, 0);
	assert_int_equal(inode_peek(t, NODE_KEY, HIVE_NO_CELL, ROOT_CELL),
			 INODE_ROOT);
	assert_int_equal(inode_count(t), 1);
	talloc_free(t);
}

static void generation_on_reuse(void **state)
{
	struct inode_table *t = new_table(*state);
	uint64_t a, b, gen;

	a = lookup(t, NODE_VALUE, ROOT_CELL, 0x100, &gen);
	assert_int_equal(gen, 0);
	inode_forget(t, a, 1);
	/* A freed id given to another node: a new generation. */
	b = lookup(t, NODE_KEY, ROOT_CELL, 0x800, &gen);
	assert_int_equal(b, a);
	assert_int_equal(gen, 1);
	assert_node(t, b, NODE_KEY, ROOT_CELL, 0x800, 0);
	inode_forget(t, b, 1);
	/* The same identity back on the same id: still a new generation. */
	b = lookup(t, NODE_VALUE, ROOT_CELL, 0x100, &gen);
	assert_int_equal(b, a);
	assert_int_equal(gen, 2);
	/* A fresh id starts at 0. */
	lookup(t, NODE_VALUE, ROOT_CELL, 0x108, &gen);
	assert_int_equal(gen, 0);
	talloc_free(t);
}

static void unlink_makes_dead(void **state)
{
	struct inode_table *t = new_table(*state);
	uint64_t a, b, c, gen_a, gen;

	a = lookup(t, NODE_VALUE, ROOT_CELL, 0x100, &gen_a);
	lookup(t, NODE_VALUE, ROOT_CELL, 0x100, NULL); /* count 2 */
	inode_set_flags(t, a, NODE_VERBATIM);
	inode_unlink(t, a);
	/* Dead: alive for the kernel, not found by identity. */
	assert_node(t, a, NODE_VALUE, ROOT_CELL, 0x100,
		    NODE_VERBATIM | NODE_DEAD);
	assert_int_equal(inode_peek(t, NODE_VALUE, ROOT_CELL, 0x100), 0);
	assert_int_equal(inode_count(t), 2);
	inode_unlink(t, a); /* again: no change */
	assert_int_equal(inode_count(t), 2);
	/* A new entry reusing the cell gets a new node. */
	b = lookup(t, NODE_VALUE, ROOT_CELL, 0x100, &gen);
	assert_true(b != a);
	assert_int_equal(inode_count(t), 3);
	assert_node(t, b, NODE_VALUE, ROOT_CELL, 0x100, 0);
	assert_int_equal(inode_peek(t, NODE_VALUE, ROOT_CELL, 0x100), b);
	/* The dead node goes when forgotten, the new one stays. */
	inode_forget(t, a, 1);
	assert_node(t, a, NODE_VALUE, ROOT_CELL, 0x100,
		    NODE_VERBATIM | NODE_DEAD);
	inode_forget(t, a, 1);
	assert_gone(t, a);
	assert_int_equal(inode_count(t), 2);
	assert_int_equal(inode_peek(t, NODE_VALUE, ROOT_CELL, 0x100), b);
	/* Its id comes back with another generation and no old flags. */
	c = lookup(t, NODE_KEY, 0x300, 0x100, &gen);
	assert_int_equal(c, a);
	assert_int_equal(gen, gen_a + 1);
	assert_node(t, c, NODE_KEY, 0x300, 0x100, 0);
	/* Unlinking the new node and looking the cell up again. */
	inode_unlink(t, b);
	c = lookup(t, NODE_VALUE, ROOT_CELL, 0x100, NULL);
	assert_true(c != b && c != a);
	talloc_free(t);
}

static void rekey_moves_identity(void **state)
{
	struct inode_table *t = new_table(*state);
	uint64_t a, b;

	a = lookup(t, NODE_KEY, ROOT_CELL, 0x100, NULL);
	inode_set_flags(t, a, NODE_LISTED | NODE_ALIASES);
	/* A renamed key whose nk moved, under another parent. */
	inode_rekey(t, a, 0x500, 0x900);
	assert_node(t, a, NODE_KEY, 0x500, 0x900, NODE_LISTED | NODE_ALIASES);
	assert_int_equal(inode_peek(t, NODE_KEY, ROOT_CELL, 0x100), 0);
	assert_int_equal(inode_peek(t, NODE_KEY, 0x500, 0x900), a);
	assert_int_equal(lookup(t, NODE_KEY, 0x500, 0x900, NULL), a);
	assert_int_equal(inode_count(t), 2);
	/* The old identity is free for a new node. */
	b = lookup(t, NODE_KEY, ROOT_CELL, 0x100, NULL);
	assert_true(b != a);
	/* A value renamed by set-and-delete takes the target's vk; a dead
	 * node re-keyed is alive by identity again. */
	b = lookup(t, NODE_VALUE, ROOT_CELL, 0x200, NULL);
	inode_unlink(t, b);
	inode_rekey(t, b, ROOT_CELL, 0x208);
	assert_node(t, b, NODE_VALUE, ROOT_CELL, 0x208, 0);
	assert_int_equal(inode_peek(t, NODE_VALUE, ROOT_CELL, 0x208), b);
	assert_int_equal(inode_peek(t, NODE_VALUE, ROOT_CELL, 0x200), 0);
	/* Counts are kept: two lookups of a, two forgets free it. */
	inode_forget(t, a, 1);
	assert_node(t, a, NODE_KEY, 0x500, 0x900, NODE_LISTED | NODE_ALIASES);
	inode_forget(t, a, 1);
	assert_gone(t, a);
	assert_int_equal(inode_peek(t, NODE_KEY, 0x500, 0x900), 0);
	/* A freed id is not re-keyed into life. */
	inode_rekey(t, a, 0x500, 0x900);
	assert_gone(t, a);
	assert_int_equal(inode_peek(t, NODE_KEY, 0x500, 0x900), 0);
	talloc_free(t);
}

static void reparent_moves_children(void **state)
{
	struct inode_table *t = new_table(*state);
	uint64_t k, v1, v2, sub, dead, other;
	const uint32_t old_nk = 0x100, new_nk = 0x1100;

	k = lookup(t, NODE_KEY, ROOT_CELL, old_nk, NULL);
	v1 = lookup(t, NODE_VALUE, old_nk, 0x200, NULL);
	v2 = lookup(t, NODE_VALUE, old_nk, 0x208, NULL);
	sub = lookup(t, NODE_KEY, old_nk, 0x300, NULL);
	dead = lookup(t, NODE_VALUE, old_nk, 0x210, NULL);
	other = lookup(t, NODE_VALUE, 0x600, 0x200, NULL);
	inode_set_flags(t, v2, NODE_FRESH);
	inode_unlink(t, dead);
	/* The key's nk moved (inode_rekey) and its children follow. */
	inode_rekey(t, k, ROOT_CELL, new_nk);
	inode_reparent(t, old_nk, new_nk);
	assert_int_equal(inode_count(t), 7);
	assert_node(t, k, NODE_KEY, ROOT_CELL, new_nk, 0);
	assert_node(t, v1, NODE_VALUE, new_nk, 0x200, 0);
	assert_node(t, v2, NODE_VALUE, new_nk, 0x208, NODE_FRESH);
	assert_node(t, sub, NODE_KEY, new_nk, 0x300, 0);
	assert_int_equal(inode_peek(t, NODE_VALUE, new_nk, 0x200), v1);
	assert_int_equal(inode_peek(t, NODE_VALUE, new_nk, 0x208), v2);
	assert_int_equal(inode_peek(t, NODE_KEY, new_nk, 0x300), sub);
	assert_int_equal(inode_peek(t, NODE_VALUE, old_nk, 0x200), 0);
	assert_int_equal(inode_peek(t, NODE_KEY, old_nk, 0x300), 0);
	/* Dead nodes and other keys' children stay as they were. */
	assert_node(t, dead, NODE_VALUE, old_nk, 0x210, NODE_DEAD);
	assert_int_equal(inode_peek(t, NODE_VALUE, new_nk, 0x210), 0);
	assert_node(t, other, NODE_VALUE, 0x600, 0x200, 0);
	assert_int_equal(inode_peek(t, NODE_VALUE, 0x600, 0x200), other);
	/* Grandchildren are below sub's nk, which did not move. */
	uint64_t grand = lookup(t, NODE_VALUE, 0x300, 0x400, NULL);
	inode_reparent(t, old_nk, 0x2100);
	assert_node(t, grand, NODE_VALUE, 0x300, 0x400, 0);
	assert_node(t, v1, NODE_VALUE, new_nk, 0x200, 0);
	/* Moved nodes are still freed by forget (found in their chain). */
	inode_forget(t, v1, 1);
	assert_gone(t, v1);
	assert_int_equal(inode_peek(t, NODE_VALUE, new_nk, 0x200), 0);
	talloc_free(t);
}

static void flags(void **state)
{
	struct inode_table *t = new_table(*state);
	uint64_t a;

	a = lookup(t, NODE_VALUE, ROOT_CELL, 0x100, NULL);
	inode_set_flags(t, a, NODE_SYNTHETIC | NODE_FRESH);
	assert_node(t, a, NODE_VALUE, ROOT_CELL, 0x100,
		    NODE_SYNTHETIC | NODE_FRESH);
	inode_set_flags(t, a, NODE_VERBATIM);
	inode_clear_flags(t, a, NODE_FRESH);
	assert_node(t, a, NODE_VALUE, ROOT_CELL, 0x100,
		    NODE_SYNTHETIC | NODE_VERBATIM);
	/* Another lookup keeps them. */
	lookup(t, NODE_VALUE, ROOT_CELL, 0x100, NULL);
	assert_node(t, a, NODE_VALUE, ROOT_CELL, 0x100,
		    NODE_SYNTHETIC | NODE_VERBATIM);
	/* Every flag fits. */
	inode_set_flags(t, a, NODE_LISTED | NODE_ALIASES | NODE_SYNTHETIC |
			      NODE_VERBATIM | NODE_FRESH);
	assert_node(t, a, NODE_VALUE, ROOT_CELL, 0x100,
		    NODE_LISTED | NODE_ALIASES | NODE_SYNTHETIC |
			    NODE_VERBATIM | NODE_FRESH);
	inode_clear_flags(t, a, ~0u);
	assert_node(t, a, NODE_VALUE, ROOT_CELL, 0x100, 0);
	/* Flags on the root, and on freed ids (no effect, no revival). */
	inode_set_flags(t, INODE_ROOT, NODE_LISTED);
	assert_node(t, INODE_ROOT, NODE_KEY, HIVE_NO_CELL, ROOT_CELL,
		    NODE_LISTED);
	inode_forget(t, a, 2);
	inode_set_flags(t, a, NODE_LISTED);
	assert_gone(t, a);
	inode_set_flags(t, 4000, NODE_LISTED);
	assert_gone(t, 4000);
	assert_int_equal(inode_count(t), 1);
	talloc_free(t);
}

/* Past the first allocation and many times the first bucket array. */
static void many_nodes(void **state)
{
	struct inode_table *t = new_table(*state);
	const uint32_t n = 100000;
	uint8_t *seen = talloc_zero_array(*state, uint8_t, n + 2);
	uint64_t *ids = talloc_array(*state, uint64_t, n);

	assert_non_null(seen);
	assert_non_null(ids);
	for (uint32_t i = 0; i < n; i++) {
		ids[i] = lookup(t, i % 3 ? NODE_VALUE : NODE_KEY, ROOT_CELL + i / 7,
				0x1000 + 8 * i, NULL);
		assert_true(ids[i] <= n + 1);
		assert_int_equal(seen[ids[i]], 0);
		seen[ids[i]] = 1;
	}
	assert_int_equal(inode_count(t), n + 1);
	for (uint32_t i = 0; i < n; i++) {
		assert_int_equal(inode_peek(t, i % 3 ? NODE_VALUE : NODE_KEY,
					    ROOT_CELL + i / 7, 0x1000 + 8 * i),
				 ids[i]);
		assert_node(t, ids[i], i % 3 ? NODE_VALUE : NODE_KEY,
			    ROOT_CELL + i / 7, 0x1000 + 8 * i, 0);
	}
	/* Free the even ones; new nodes take only freed ids. */
	for (uint32_t i = 0; i < n; i += 2)
		inode_forget(t, ids[i], 1);
	assert_int_equal(inode_count(t), n / 2 + 1);
	for (uint32_t i = 0; i < n; i += 2) {
		uint64_t gen, id = lookup(t, NODE_VALUE, 0x77, 0x1000 + 8 * i,
					  &gen);
		assert_true(id <= n + 1);
		assert_int_equal(seen[id], 1);
		assert_int_equal(gen, 1);
		seen[id] = 2;
	}
	for (uint32_t i = 1; i < n; i += 2)
		assert_int_equal(seen[ids[i]], 1); /* odd ones kept theirs */
	assert_int_equal(inode_count(t), n + 1);
	for (uint32_t i = 1; i < n; i += 2)
		assert_int_equal(inode_peek(t, i % 3 ? NODE_VALUE : NODE_KEY,
					    ROOT_CELL + i / 7, 0x1000 + 8 * i),
				 ids[i]);
	for (uint64_t id = 2; id <= n + 1; id++)
		inode_forget(t, id, 1);
	assert_int_equal(inode_count(t), 1);
	talloc_free(seen);
	talloc_free(ids);
	talloc_free(t);
}

/* ---- a random sequence against a model ---- */

struct model_node {
	bool live, dead;
	enum node_kind kind;
	uint32_t parent, cell;
	unsigned flags;
	uint64_t count;
	bool used;        /* handed out before */
	uint64_t gen;     /* generation when last handed out */
};

#define MODEL_IDS 8192
#define MODEL_OPS 200000
#define MODEL_PARENTS 8
#define MODEL_CELLS 64
#define MODEL_IDENTITIES (2 * MODEL_PARENTS * MODEL_CELLS)

static const uint32_t model_parents[MODEL_PARENTS] = {
	ROOT_CELL, 0x100, 0x200, 0x300, 0x400, 0x500, 0x600, 0x700,
};
static struct model_node model[MODEL_IDS];
static uint64_t model_top; /* ids below this were handed out */
/* The live, undeleted node of each identity, or 0. */
static uint64_t model_by_identity[MODEL_IDENTITIES];

static uint64_t *identity_slot(enum node_kind kind, uint32_t parent,
			       uint32_t cell)
{
	size_t p = 0;

	while (model_parents[p] != parent)
		p++;
	return &model_by_identity[(kind * MODEL_PARENTS + p) * MODEL_CELLS +
				  (cell - 0x1000) / 8];
}

static uint64_t *identity_of(uint64_t id)
{
	return identity_slot(model[id].kind, model[id].parent, model[id].cell);
}

static uint64_t model_live(void)
{
	uint64_t n = 0;

	for (uint64_t i = 1; i < model_top; i++)
		n += model[i].live;
	return n;
}

/* A live id other than the root, or 0. */
static uint64_t random_live(void)
{
	if (model_top <= 2)
		return 0;
	for (int tries = 0; tries < 64; tries++) {
		uint64_t i = 2 + rng_below((uint32_t)model_top - 2);
		if (model[i].live)
			return i;
	}
	return 0;
}

static void random_identity(enum node_kind *kind, uint32_t *parent,
			    uint32_t *cell)
{
	*kind = rng_below(2) ? NODE_VALUE : NODE_KEY;
	*parent = model_parents[rng_below(MODEL_PARENTS)];
	*cell = 0x1000 + 8 * rng_below(MODEL_CELLS);
}

static void check_model(struct inode_table *t)
{
	assert_int_equal(inode_count(t), model_live());
	for (uint64_t i = 1; i < MODEL_IDS; i++) {
		const struct model_node *m = &model[i];

		if (!m->live) {
			assert_gone(t, i);
			continue;
		}
		assert_node(t, i, m->kind, m->parent, m->cell,
			    m->flags | (m->dead ? NODE_DEAD : 0));
	}
	for (size_t k = 0; k < MODEL_IDENTITIES; k++) {
		enum node_kind kind = k / (MODEL_PARENTS * MODEL_CELLS) ?
					      NODE_VALUE : NODE_KEY;
		uint32_t parent = model_parents[k / MODEL_CELLS % MODEL_PARENTS];
		uint32_t cell = 0x1000 + 8 * (uint32_t)(k % MODEL_CELLS);

		assert_int_equal(inode_peek(t, kind, parent, cell),
				 model_by_identity[k]);
	}
}

static void random_against_model(void **state)
{
	struct inode_table *t = new_table(*state);
	size_t created = 0, reused = 0, unlinked = 0, rekeyed = 0;
	size_t reparented = 0, moved = 0, freed = 0;

	memset(model, 0, sizeof(model));
	memset(model_by_identity, 0, sizeof(model_by_identity));
	model[INODE_ROOT] = (struct model_node){
		.live = true, .kind = NODE_KEY, .parent = HIVE_NO_CELL,
		.cell = ROOT_CELL, .count = 1, .used = true,
	};
	model_top = INODE_ROOT + 1;
	rng_state = 0x13;
	for (int op = 0; op < MODEL_OPS; op++) {
		enum node_kind kind;
		uint32_t parent, cell;
		uint64_t id, gen, want;

		random_identity(&kind, &parent, &cell);
		switch (rng_below(10)) {
		case 0:
		case 1:
		case 2: /* lookup */
			want = *identity_slot(kind, parent, cell);
			id = lookup(t, kind, parent, cell, &gen);
			assert_true(id < MODEL_IDS);
			if (want) {
				assert_int_equal(id, want);
				assert_int_equal(gen, model[id].gen);
				model[id].count++;
				break;
			}
			/* A new node never takes a live node's id. */
			assert_false(model[id].live);
			if (model[id].used) {
				assert_int_equal(gen, (model[id].gen + 1) & 0xFFFF);
				reused++;
			} else {
				assert_int_equal(gen, 0);
			}
			model[id] = (struct model_node){
				.live = true, .kind = kind, .parent = parent,
				.cell = cell, .count = 1, .used = true,
				.gen = gen,
			};
			*identity_slot(kind, parent, cell) = id;
			if (id >= model_top)
				model_top = id + 1;
			created++;
			break;
		case 3: /* peek */
			assert_int_equal(inode_peek(t, kind, parent, cell),
					 *identity_slot(kind, parent, cell));
			break;
		case 4:
		case 5: { /* forget */
			uint64_t n = 1 + rng_below(3);
			id = random_live();
			if (!id)
				break;
			inode_forget(t, id, n);
			if (model[id].count > n) {
				model[id].count -= n;
				break;
			}
			if (!model[id].dead)
				*identity_of(id) = 0;
			model[id].live = false;
			model[id].dead = false;
			model[id].flags = 0;
			freed++;
			break;
		}
		case 6: /* unlink */
			id = random_live();
			if (!id || model[id].dead)
				break;
			inode_unlink(t, id);
			*identity_of(id) = 0;
			model[id].dead = true;
			unlinked++;
			break;
		case 7: /* rekey to an identity no live node has */
			id = random_live();
			if (!id || *identity_slot(model[id].kind, parent, cell))
				break;
			inode_rekey(t, id, parent, cell);
			if (!model[id].dead)
				*identity_of(id) = 0;
			model[id].parent = parent;
			model[id].cell = cell;
			model[id].dead = false;
			*identity_of(id) = id;
			rekeyed++;
			break;
		case 8: { /* reparent, where no identity would collide */
			uint32_t from = parent, to;
			bool clash = false;

			random_identity(&kind, &to, &cell);
			if (from == to)
				break;
			for (uint64_t i = 2; i < model_top && !clash; i++)
				if (model[i].live && !model[i].dead &&
				    model[i].parent == from &&
				    *identity_slot(model[i].kind, to, model[i].cell))
					clash = true;
			if (clash)
				break;
			inode_reparent(t, from, to);
			for (uint64_t i = 2; i < model_top; i++) {
				if (!model[i].live || model[i].dead ||
				    model[i].parent != from)
					continue;
				*identity_of(i) = 0;
				model[i].parent = to;
				*identity_of(i) = i;
				moved++;
			}
			reparented++;
			break;
		}
		default: { /* flags */
			unsigned f = 1u << rng_below(6);
			if (f == NODE_DEAD)
				break;
			id = random_live();
			if (!id)
				break;
			if (rng_below(2)) {
				inode_set_flags(t, id, f);
				model[id].flags |= f;
			} else {
				inode_clear_flags(t, id, f);
				model[id].flags &= ~f;
			}
		}
		}
		if (op % 997 == 0)
			check_model(t);
	}
	check_model(t);
	print_message("model: %zu created (%zu on reused ids), %zu freed, "
		      "%zu unlinked, %zu rekeyed, %zu reparented (%zu nodes moved), top id %llu\n",
		      created, reused, freed, unlinked, rekeyed, reparented, moved,
		      (unsigned long long)model_top);
	/* Every operation was exercised. */
	assert_true(reused > 1000);
	assert_true(unlinked > 1000);
	assert_true(rekeyed > 1000);
	assert_true(reparented > 100);
	assert_true(moved > 500);
	talloc_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		TEST(new_table_has_root),
		TEST(lookup_creates_once),
		TEST(forget_counts),
		TEST(root_stays),
		TEST(generation_on_reuse),
		TEST(unlink_makes_dead),
		TEST(rekey_moves_identity),
		TEST(reparent_moves_children),
		TEST(flags),
		TEST(many_nodes),
		TEST(random_against_model),
	};
	return cmocka_run_group_tests_name("fs inode", tests, NULL, NULL);
}
