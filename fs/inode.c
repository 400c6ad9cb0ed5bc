/*
 * inode.c — the inode table: which FUSE node id stands for which key or
 * value.
 *
 * Identity.  A node is a key or a value *as reached from a key*: the triple
 * (kind, parent, cell), where cell is the nk or vk offset and parent the
 * nk offset of the key whose list holds it (HIVE_NO_CELL for the root).
 * Cells are never handed to the kernel.  The parent is part of the
 * identity because damaged hives list one nk under two keys: as two
 * directories the kernel sees no aliased directory, and a key listed below
 * itself meets an ancestor's node, which the kernel refuses with ELOOP.
 * When writes move cells, the table is where the new offset is recorded:
 * a renamed key whose nk moved is re-keyed and the nodes below it follow
 * (inode_reparent, a scan of the table: renames are rare next to
 * lookups); a value renamed by set-and-delete takes the target's vk.
 * A deleted key or value is "dead": out of the hash, so a new entry that
 * reuses its cell gets a new node, but alive for the kernel (and an open
 * file's handle) until forgotten.
 *
 * Numbers.  The node id (and st_ino) is the node's slot in one array;
 * slot 1 is the root (FUSE_ROOT_ID) and lives as long as the mount.  Ids
 * are handed out by lookup, and readdirplus, which count one kernel lookup
 * each; forget subtracts, and a node whose count reaches zero is freed.
 * Its slot goes on a free list and may be given to another node later,
 * with the slot's generation incremented: the kernel compares it with any
 * inode it still holds under that id and so never mistakes the new node
 * for the old.  An id therefore stays the same for as long as the kernel
 * knows the node: while it is open, cached, or has cached entries below
 * it.  A key forgotten and looked up again may get another id; tools that
 * compare st_ino (find, du, tar) do so while the kernel still holds it.
 *
 * Finding a node by identity goes through a chained hash table whose
 * chains run through the slots, so a node costs 20 bytes plus 1 in the
 * bucket array: after a walk of a large hive (100 000 keys and values) the
 * kernel holds every node, and memory use stays within a few MB.
 *
 * Locking: none here; the caller holds struct hivefs.lock.
 */
#include <stdlib.h>
#include <string.h>

#include <talloc.h>

#include "inode.h"

#define NO_SLOT 0u          /* slot 0 is never used: end of chains */
#define MAX_SLOTS 0x7FFFFFFFu

/* 20 bytes: the lookup count has 40 bits, the generation 16. */
struct slot {
	uint32_t cell;
	uint32_t parent;
	uint32_t next;             /* hash chain, or the free list */
	uint32_t nlookup_lo;       /* kernel lookups not yet forgotten, */
	uint32_t nlookup_hi : 7;   /* 0 = a free slot (39 bits: more
				      lookups than a mount sees) */
	uint32_t kind : 1;         /* enum node_kind */
	uint32_t flags : 8;        /* NODE_* */
	uint32_t generation : 16;
};

static uint64_t nlookup_of(const struct slot *s)
{
	return (uint64_t)s->nlookup_hi << 32 | s->nlookup_lo;
}

static void set_nlookup(struct slot *s, uint64_t n)
{
	s->nlookup_lo = (uint32_t)n;
	s->nlookup_hi = (uint32_t)(n >> 32) & 0x7F;
}

struct inode_table {
	struct slot *slots;     /* [0] unused, [1] the root */
	uint32_t used;          /* slots handed out at least once */
	uint32_t cap;
	uint32_t live;
	uint32_t free_head;     /* freed slots, most recent first */
	uint32_t *buckets;
	uint32_t nbuckets;      /* a power of two */
};

static uint32_t identity_hash(enum node_kind kind, uint32_t parent,
			      uint32_t cell)
{
	uint64_t x = ((uint64_t)parent << 32 | cell) ^ ((uint64_t)kind << 63);

	/* A 64-bit finaliser (murmur3): cells are multiples of 8. */
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return (uint32_t)x;
}

static uint32_t *bucket_of(struct inode_table *t, enum node_kind kind,
			   uint32_t parent, uint32_t cell)
{
	return &t->buckets[identity_hash(kind, parent, cell) &
			   (t->nbuckets - 1)];
}

static void link_slot(struct inode_table *t, uint32_t i)
{
	struct slot *s = &t->slots[i];
	uint32_t *b = bucket_of(t, s->kind, s->parent, s->cell);

	s->next = *b;
	*b = i;
}

/* Keep the chains short: a bucket for every four live nodes. */
static int grow_buckets(struct inode_table *t)
{
	uint32_t n = t->nbuckets * 2;
	uint32_t *b = talloc_zero_array(t, uint32_t, n);

	if (!b)
		return HIVE_E_NOMEM;
	talloc_free(t->buckets);
	t->buckets = b;
	t->nbuckets = n;
	for (uint32_t i = 1; i < t->used; i++)
		if (nlookup_of(&t->slots[i]) &&
		    !(t->slots[i].flags & NODE_DEAD))
			link_slot(t, i);
	return HIVE_OK;
}

static uint32_t find_slot(struct inode_table *t, enum node_kind kind,
			  uint32_t parent, uint32_t cell)
{
	for (uint32_t i = *bucket_of(t, kind, parent, cell); i != NO_SLOT;
	     i = t->slots[i].next) {
		const struct slot *s = &t->slots[i];
		if (s->cell == cell && s->parent == parent && s->kind == kind)
			return i;
	}
	return NO_SLOT;
}

static int take_slot(struct inode_table *t, uint32_t *out)
{
	if (t->free_head != NO_SLOT) {
		*out = t->free_head;
		t->free_head = t->slots[*out].next;
		t->slots[*out].generation++;
		return HIVE_OK;
	}
	if (t->used == t->cap) {
		uint32_t cap;
		struct slot *s;

		if (t->cap >= MAX_SLOTS)
			return HIVE_E_TOO_BIG;
		cap = t->cap > MAX_SLOTS / 2 ? MAX_SLOTS : t->cap * 2;
		s = talloc_realloc(t, t->slots, struct slot, cap);
		if (!s)
			return HIVE_E_NOMEM;
		t->slots = s;
		t->cap = cap;
	}
	*out = t->used++;
	t->slots[*out].generation = 0;
	return HIVE_OK;
}

int inode_table_new(void *mem, hive_key_t root, struct inode_table **out)
{
	struct inode_table *t = talloc_zero(mem, struct inode_table);

	if (!t)
		return HIVE_E_NOMEM;
	t->cap = 1024;
	t->nbuckets = 1024;
	t->slots = talloc_zero_array(t, struct slot, t->cap);
	t->buckets = talloc_zero_array(t, uint32_t, t->nbuckets);
	if (!t->slots || !t->buckets) {
		talloc_free(t);
		return HIVE_E_NOMEM;
	}
	/* The root: never forgotten, so its count never reaches zero. */
	t->used = INODE_ROOT + 1;
	t->slots[INODE_ROOT] = (struct slot){
		.nlookup_lo = 1, .kind = NODE_KEY, .cell = root,
		.parent = HIVE_NO_CELL,
	};
	link_slot(t, INODE_ROOT);
	t->live = 1;
	*out = t;
	return HIVE_OK;
}

int inode_lookup(struct inode_table *t, enum node_kind kind, uint32_t parent,
		 uint32_t cell, uint64_t *ino, uint64_t *generation)
{
	uint32_t i = find_slot(t, kind, parent, cell);
	int err;

	if (i == NO_SLOT) {
		if (t->live >= 4 * t->nbuckets) {
			err = grow_buckets(t);
			if (err)
				return err;
		}
		err = take_slot(t, &i);
		if (err)
			return err;
		set_nlookup(&t->slots[i], 0);
		t->slots[i].kind = kind;
		t->slots[i].flags = 0;
		t->slots[i].cell = cell;
		t->slots[i].parent = parent;
		link_slot(t, i);
		t->live++;
	}
	set_nlookup(&t->slots[i], nlookup_of(&t->slots[i]) + 1);
	*ino = i;
	*generation = t->slots[i].generation;
	return HIVE_OK;
}

uint64_t inode_peek(struct inode_table *t, enum node_kind kind,
		    uint32_t parent, uint32_t cell)
{
	return find_slot(t, kind, parent, cell);
}

static bool live_slot(const struct inode_table *t, uint64_t ino)
{
	return ino != NO_SLOT && ino < t->used && nlookup_of(&t->slots[ino]);
}

/* Take a node out of its hash chain (a dead node is in none). */
static void unchain(struct inode_table *t, uint32_t i)
{
	struct slot *s = &t->slots[i];
	uint32_t *link;

	if (s->flags & NODE_DEAD)
		return;
	for (link = bucket_of(t, s->kind, s->parent, s->cell); *link != i;
	     link = &t->slots[*link].next)
		;
	*link = s->next;
}

void inode_forget(struct inode_table *t, uint64_t ino, uint64_t n)
{
	struct slot *s;

	if (!live_slot(t, ino) || ino == INODE_ROOT)
		return;
	s = &t->slots[ino];
	if (nlookup_of(s) > n) {
		set_nlookup(s, nlookup_of(s) - n);
		return;
	}
	unchain(t, (uint32_t)ino);
	set_nlookup(s, 0);
	s->next = t->free_head;
	t->free_head = (uint32_t)ino;
	t->live--;
}

bool inode_get(struct inode_table *t, uint64_t ino, struct node_info *out)
{
	const struct slot *s;

	if (!live_slot(t, ino))
		return false;
	s = &t->slots[ino];
	out->kind = s->kind;
	out->cell = s->cell;
	out->parent = s->parent;
	out->flags = s->flags;
	return true;
}

void inode_set_flags(struct inode_table *t, uint64_t ino, unsigned flags)
{
	if (live_slot(t, ino))
		t->slots[ino].flags |= flags;
}

void inode_clear_flags(struct inode_table *t, uint64_t ino, unsigned flags)
{
	if (live_slot(t, ino))
		t->slots[ino].flags &= ~flags;
}

void inode_unlink(struct inode_table *t, uint64_t ino)
{
	if (!live_slot(t, ino) || ino == INODE_ROOT)
		return;
	unchain(t, (uint32_t)ino);
	t->slots[ino].flags |= NODE_DEAD;
}

void inode_rekey(struct inode_table *t, uint64_t ino, uint32_t parent,
		 uint32_t cell)
{
	struct slot *s;

	if (!live_slot(t, ino))
		return;
	s = &t->slots[ino];
	unchain(t, (uint32_t)ino);
	s->flags &= ~NODE_DEAD;
	s->parent = parent;
	s->cell = cell;
	link_slot(t, (uint32_t)ino);
}

void inode_reparent(struct inode_table *t, uint32_t old_parent,
		    uint32_t new_parent)
{
	for (uint32_t i = 1; i < t->used; i++) {
		struct slot *s = &t->slots[i];

		if (!nlookup_of(s) || (s->flags & NODE_DEAD) ||
		    s->parent != old_parent)
			continue;
		unchain(t, i);
		s->parent = new_parent;
		link_slot(t, i);
	}
}

size_t inode_count(const struct inode_table *t)
{
	return t->live;
}
