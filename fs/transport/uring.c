/*
 * uring.c — serving requests over FUSE's io_uring transport (Linux 6.14+,
 * when /sys/module/fuse/parameters/enable_uring is Y), hivefs's own: built
 * only against libfuse < 3.18 (libfuse 3.18 brings its own, which
 * transport.c asks for instead), and attached only when the kernel offers
 * the transport (transport.c), so that otherwise nothing stands between
 * libfuse and /dev/fuse.
 *
 * Why: each request read from /dev/fuse wakes the daemon wherever the
 * scheduler left it, and its answer wakes the caller back: on a virtual
 * machine two inter-processor interrupts, each an exit to the hypervisor
 * when the other vCPU has halted.  A walk is a chain of such round trips
 * (loop.c polls to shorten them).  Over io_uring the kernel puts a request
 * on the queue of the CPU its caller runs on, and hivefs keeps one thread
 * per queue waiting on it (queue_wait says when the thread polls instead).
 *
 * The threads are not pinned to their queue's CPU.  Pinned, every request
 * the caller does not wait for (the RELEASE of each closed file) woke a
 * thread that could only run on the caller's own CPU, which it then took
 * from the caller while the other CPU idled.  Measured on Linux 6.18,
 * 2-vCPU VM, regipy SYSTEM, alternating runs: a read-write cold find +
 * tar took 7.59-7.76 s pinned, 6.37-6.77 s free (6.03-6.36 s over
 * /dev/fuse; 5 runs each); after a warm-up find (2-4 runs each), grep -rl
 * on a read-write mount 3.7-5.3 s -> 3.0-3.8 s, ls -lR read-only 6.1 s ->
 * 5.1-5.2 s, getfattr -R -d read-only 9.7-10.1 s -> 8.5-8.6 s.  Only the
 * read-only walk lost, within its spread: 4.60-4.77 s pinned, 4.79-5.04 s
 * free (4 runs each).
 *
 * How it fits libfuse 3.13-3.17, which know nothing of it: hivefs gives the
 * session its own read/writev (fuse_session_custom_io).  The read side
 * notes the kernel's INIT request; the INIT answer (in however many pieces
 * libfuse writes it) is sent with FUSE_OVER_IO_URING added, but only once
 * every queue thread has its ring, because from then on the kernel holds
 * every request until each queue has an entry registered.  Each thread then registers QUEUE_DEPTH
 * entries (a header block and a payload buffer each; more while answers
 * are pending in other threads, see QUEUE_DEPTH).  A request arrives
 * split in three (fuse_in_header, the operation's fixed part, the
 * payload); it is put back together in front of the payload buffer and
 * given to fuse_session_process_buf() as if read from /dev/fuse.  The
 * answer comes back through writev, is copied into the same entry and
 * committed with COMMIT_AND_FETCH, which also waits for the next request.
 * Answers sent later from another thread (stale.c) are handed to the
 * entry's thread, the only one that touches its ring.  FORGET, INTERRUPT
 * and notifications still travel over /dev/fuse, served by the usual loop.
 *
 * If any step fails before the INIT answer, or the answer is not one this
 * file understands, the mount simply uses /dev/fuse (the latter with a
 * message); if registering fails after it, the kernel falls back itself.
 */
#include <errno.h>
#include <linux/fuse.h>
#include <linux/io_uring.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <fuse_lowlevel.h>

#include "impl.h"

/*
 * The kernel's ABI for the transport: <linux/fuse.h> has it from Linux
 * 6.14 (FUSE protocol 7.42) on.  Older headers (Debian 12's linux-libc-dev
 * is 6.1, protocol 7.38) lack it: these copies of the parts used here
 * stand in for it, as 7.42 defines them, and are left out where the
 * installed header has them; all else comes from that header.
 */
#ifndef FUSE_OVER_IO_URING
#define FUSE_OVER_IO_URING (1ULL << 41)
#endif
#ifndef FUSE_URING_IN_OUT_HEADER_SZ
#define FUSE_URING_IN_OUT_HEADER_SZ 128
#define FUSE_URING_OP_IN_OUT_SZ 128
struct fuse_uring_ent_in_out {
	uint64_t flags;
	uint64_t commit_id;
	uint32_t payload_sz;
	uint32_t padding;
	uint64_t reserved;
};
struct fuse_uring_req_header {
	char in_out[FUSE_URING_IN_OUT_HEADER_SZ];
	char op_in[FUSE_URING_OP_IN_OUT_SZ];
	struct fuse_uring_ent_in_out ring_ent_in_out;
};
struct fuse_uring_cmd_req {
	uint64_t flags;
	uint64_t commit_id;
	uint16_t qid;
	uint8_t padding[6];
};
enum {
	FUSE_IO_URING_CMD_REGISTER = 1,
	FUSE_IO_URING_CMD_COMMIT_AND_FETCH = 2,
};
#endif

/*
 * Entries per queue kept free for new requests.  One thread serves a
 * queue, and committing an answer fetches the next request in the same
 * call, so one is enough; a second only cost memory (the pages of its
 * payload buffer that answers touched: 1.45x -> 1.49x the hive's size in
 * a walk of regipy SYSTEM, where the target is 1.5x).  An entry whose answer another thread sends
 * later (stale.c, after dropping pages a READ in flight holds) stays taken
 * until then, and that READ may be waiting for an entry of this very
 * queue: so for every such entry the queue registers one more, up to
 * QUEUE_ENTRIES_MAX.
 */
#define QUEUE_DEPTH 1
#define QUEUE_ENTRIES_MAX 64
#define RING_SIZE 64
#define SQE_SIZE 128
/* In front of each payload buffer: room for the request's headers. */
#define HEAD_ROOM 256
#define TAG_WAKE UINT64_MAX
/* The kernel's limits when the INIT answer does not set max_pages. */
#define KERNEL_DEFAULT_MAX_PAGES 32
#define KERNEL_MIN_READ_BUFFER 8192

struct entry {
	struct queue *q;
	unsigned index;
	struct fuse_uring_req_header *head;
	char *buf;                     /* HEAD_ROOM + payload_size */
	struct iovec iov[2];           /* what REGISTER gave the kernel */
	/* Under q->lock: */
	uint64_t unique;               /* request being served, or 0 */
	bool serving;                  /* inside fuse_session_process_buf */
	bool answered;                 /* answer copied in, not committed */
	struct entry *next_ready;
};

struct queue {
	struct uring *u;
	unsigned qid;
	pthread_t thread;
	bool started;
	int ring_fd, wake_fd;
	uint64_t wake_count;
	/* The mapped rings. */
	void *rings;
	size_t rings_len;
	char *sqes;
	size_t sqes_len;
	unsigned *sq_head, *sq_tail, *sq_mask, *sq_array, sq_entries;
	unsigned *cq_head, *cq_tail, *cq_mask;
	struct io_uring_cqe *cqes;
	unsigned to_submit;
	/* Set up by the thread: 1 ring ready, -1 failed. */
	int setup;
	uint64_t served;               /* the thread's own */
	bool last_listing;             /* the thread's own: the last request
					  served was READDIR(PLUS) */
	unsigned deferred;             /* the thread's own: entries waiting
					  for an answer from another thread */
	unsigned nr_ents;              /* written under lock by the thread */
	struct entry ents[QUEUE_ENTRIES_MAX];
	pthread_mutex_t lock;          /* entries' answer state, ready */
	struct entry *ready;           /* answered from other threads */
	bool stopping;                 /* under lock */
};

enum phase { PHASE_WAIT, PHASE_GO, PHASE_QUIT };

struct uring {
	struct fuse_session *se;
	int fuse_fd;
	bool verbose;
	uint64_t spin_ns;              /* -o spin, see queue_wait */
	/* Seen on /dev/fuse; only the loop reading it touches these before
	 * the INIT answer, which libfuse sends from that same thread. */
	bool init_seen, init_answered, offered;
	uint64_t init_unique;
	size_t payload_size;
	unsigned nr_queues;
	struct queue *queues;
	pthread_mutex_t lock;          /* phase, queues' setup */
	pthread_cond_t changed;
	enum phase phase;
	atomic_bool serving;
};

/* The entry this thread is serving, for the answer's fast path. */
static _Thread_local struct entry *current_entry;

/*
 * The session's transport.  libfuse hands the I/O hooks the session's
 * user data, which is the file system's, not this file's; a process
 * serves one session.
 */
static struct uring *attached;

/*
 * Copy len bytes starting at offset `from` of what iov[] holds to dst.
 * False if iov[] holds fewer.  libfuse decides how it cuts a message into
 * pieces; this file does not depend on it.
 */
static bool iov_copy_out(const struct iovec *iov, int count, size_t from,
			 void *dst, size_t len)
{
	char *to = dst;

	for (int i = 0; i < count && len > 0; i++) {
		size_t n = iov[i].iov_len;

		if (from >= n) {
			from -= n;
			continue;
		}
		n -= from;
		if (n > len)
			n = len;
		memcpy(to, (const char *)iov[i].iov_base + from, n);
		to += n;
		len -= n;
		from = 0;
	}
	return len == 0;
}

static size_t iov_total(const struct iovec *iov, int count)
{
	size_t len = 0;

	for (int i = 0; i < count; i++)
		len += iov[i].iov_len;
	return len;
}

static int sys_uring_setup(unsigned entries, struct io_uring_params *p)
{
	return (int)syscall(__NR_io_uring_setup, entries, p);
}

static int sys_uring_enter(int fd, unsigned submit, unsigned wait,
			   unsigned flags)
{
	return (int)syscall(__NR_io_uring_enter, fd, submit, wait, flags,
			    NULL, 0);
}

/* The number of CPU ids the kernel may run a task on (its queue count). */
static unsigned possible_cpus(void)
{
	FILE *f = fopen("/sys/devices/system/cpu/possible", "r");
	unsigned first = 0, last = 0;
	int n;

	if (!f)
		return 0;
	n = fscanf(f, "%u-%u", &first, &last);
	fclose(f);
	if (n == 1)
		last = first;
	if (n < 1 || first != 0 || last >= 4096)
		return 0; /* a sparse or odd set: leave it to /dev/fuse */
	return last + 1;
}

static int ring_map(struct queue *q)
{
	struct io_uring_params p;
	size_t sq_len, cq_len;
	char *r;

	memset(&p, 0, sizeof(p));
	p.flags = IORING_SETUP_SQE128 | IORING_SETUP_SINGLE_ISSUER |
		  IORING_SETUP_DEFER_TASKRUN;
	q->ring_fd = sys_uring_setup(RING_SIZE, &p);
	if (q->ring_fd < 0)
		return -errno;
	if (!(p.features & IORING_FEAT_SINGLE_MMAP))
		return -EOPNOTSUPP;
	sq_len = p.sq_off.array + p.sq_entries * sizeof(unsigned);
	cq_len = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
	q->rings_len = sq_len > cq_len ? sq_len : cq_len;
	q->rings = mmap(NULL, q->rings_len, PROT_READ | PROT_WRITE,
			MAP_SHARED | MAP_POPULATE, q->ring_fd, IORING_OFF_SQ_RING);
	if (q->rings == MAP_FAILED) {
		q->rings = NULL;
		return -errno;
	}
	q->sqes_len = p.sq_entries * SQE_SIZE;
	q->sqes = mmap(NULL, q->sqes_len, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_POPULATE, q->ring_fd, IORING_OFF_SQES);
	if (q->sqes == MAP_FAILED) {
		q->sqes = NULL;
		return -errno;
	}
	r = q->rings;
	q->sq_head = (unsigned *)(r + p.sq_off.head);
	q->sq_tail = (unsigned *)(r + p.sq_off.tail);
	q->sq_mask = (unsigned *)(r + p.sq_off.ring_mask);
	q->sq_array = (unsigned *)(r + p.sq_off.array);
	q->sq_entries = p.sq_entries;
	q->cq_head = (unsigned *)(r + p.cq_off.head);
	q->cq_tail = (unsigned *)(r + p.cq_off.tail);
	q->cq_mask = (unsigned *)(r + p.cq_off.ring_mask);
	q->cqes = (struct io_uring_cqe *)(r + p.cq_off.cqes);
	return 0;
}

static void ring_unmap(struct queue *q)
{
	if (q->sqes)
		munmap(q->sqes, q->sqes_len);
	if (q->rings)
		munmap(q->rings, q->rings_len);
	if (q->ring_fd >= 0)
		close(q->ring_fd);
	q->sqes = NULL;
	q->rings = NULL;
	q->ring_fd = -1;
}

static int ring_submit(struct queue *q, unsigned wait)
{
	unsigned flags = wait ? IORING_ENTER_GETEVENTS : 0;
	int n;

	do {
		n = sys_uring_enter(q->ring_fd, q->to_submit, wait, flags);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	q->to_submit -= (unsigned)n < q->to_submit ? (unsigned)n : q->to_submit;
	return 0;
}

/* The next free submission entry, zeroed; NULL when the ring is full. */
static struct io_uring_sqe *ring_sqe(struct queue *q)
{
	unsigned tail = *q->sq_tail;
	unsigned head = __atomic_load_n(q->sq_head, __ATOMIC_ACQUIRE);
	struct io_uring_sqe *sqe;

	if (tail - head >= q->sq_entries) {
		if (ring_submit(q, 0) != 0)
			return NULL;
		head = __atomic_load_n(q->sq_head, __ATOMIC_ACQUIRE);
		if (tail - head >= q->sq_entries)
			return NULL;
	}
	sqe = (struct io_uring_sqe *)(q->sqes + (size_t)(tail & *q->sq_mask) *
						      SQE_SIZE);
	memset(sqe, 0, SQE_SIZE);
	q->sq_array[tail & *q->sq_mask] = tail & *q->sq_mask;
	return sqe;
}

static void ring_push(struct queue *q)
{
	__atomic_store_n(q->sq_tail, *q->sq_tail + 1, __ATOMIC_RELEASE);
	q->to_submit++;
}

static int queue_fuse_cmd(struct queue *q, struct entry *e, uint32_t op,
			  uint64_t commit_id, const struct iovec *iov)
{
	struct io_uring_sqe *sqe = ring_sqe(q);
	struct fuse_uring_cmd_req *cmd;

	if (!sqe)
		return -EBUSY;
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = q->u->fuse_fd;
	sqe->cmd_op = op;
	sqe->user_data = e->index;
	if (iov) {
		sqe->addr = (uint64_t)(uintptr_t)iov;
		sqe->len = 2;
	}
	cmd = (struct fuse_uring_cmd_req *)sqe->cmd;
	cmd->commit_id = commit_id;
	cmd->qid = (uint16_t)q->qid;
	ring_push(q);
	return 0;
}

static int queue_wake_read(struct queue *q)
{
	struct io_uring_sqe *sqe = ring_sqe(q);

	if (!sqe)
		return -EBUSY;
	sqe->opcode = IORING_OP_READ;
	sqe->fd = q->wake_fd;
	sqe->addr = (uint64_t)(uintptr_t)&q->wake_count;
	sqe->len = sizeof(q->wake_count);
	sqe->user_data = TAG_WAKE;
	ring_push(q);
	return 0;
}

/* Hand back an answered entry and ask for the next request (q->lock). */
static void entry_commit(struct entry *e)
{
	uint64_t unique = e->unique;

	e->unique = 0;
	e->answered = false;
	if (queue_fuse_cmd(e->q, e, FUSE_IO_URING_CMD_COMMIT_AND_FETCH, unique,
			   NULL) != 0)
		fuse_log(FUSE_LOG_ERR, "hivefs: io_uring queue %u full\n",
			 e->q->qid);
}

/*
 * Put the request in entry e back together and serve it.  True if its
 * answer is left to another thread.
 */
static bool entry_serve(struct entry *e)
{
	struct queue *q = e->q;
	struct fuse_in_header in;
	uint32_t payload = e->head->ring_ent_in_out.payload_sz;
	char *data = e->buf + HEAD_ROOM, *start;
	size_t op_size;
	struct fuse_buf fb = { .mem = NULL };
	bool deferred;

	memcpy(&in, e->head->in_out, sizeof(in));
	q->last_listing = in.opcode == FUSE_READDIRPLUS ||
			  in.opcode == FUSE_READDIR;
	if (in.len < sizeof(in) + (size_t)payload ||
	    in.len - sizeof(in) - payload > FUSE_URING_OP_IN_OUT_SZ ||
	    payload > q->u->payload_size) {
		/* Not a request this code understands: answer EIO. */
		struct fuse_out_header *out = (void *)e->head->in_out;

		fuse_log(FUSE_LOG_ERR, "hivefs: malformed io_uring request "
				       "(opcode %u)\n", in.opcode);
		pthread_mutex_lock(&q->lock);
		e->unique = in.unique;
		out->len = sizeof(*out);
		out->error = -EIO;
		out->unique = in.unique;
		e->head->ring_ent_in_out.payload_sz = 0;
		entry_commit(e);
		pthread_mutex_unlock(&q->lock);
		return false;
	}
	op_size = in.len - sizeof(in) - payload;
	start = data - op_size - sizeof(in);
	memcpy(start, &in, sizeof(in));
	memcpy(start + sizeof(in), e->head->op_in, op_size);
	fb.mem = start;
	fb.size = in.len;

	if (!atomic_load(&q->u->serving) && !atomic_exchange(&q->u->serving, true) &&
	    q->u->verbose)
		fprintf(stderr, "hivefs: serving requests over io_uring, %u "
				"queues\n", q->u->nr_queues);
	pthread_mutex_lock(&q->lock);
	e->unique = in.unique;
	e->serving = true;
	e->answered = false;
	pthread_mutex_unlock(&q->lock);
	current_entry = e;
	fuse_session_process_buf(q->u->se, &fb);
	current_entry = NULL;
	pthread_mutex_lock(&q->lock);
	e->serving = false;
	deferred = !e->answered;
	if (!deferred)
		entry_commit(e);
	/* else answered later from another thread (entry_answer) */
	pthread_mutex_unlock(&q->lock);
	return deferred;
}

static void queue_take_ready(struct queue *q)
{
	struct entry *e;

	pthread_mutex_lock(&q->lock);
	while ((e = q->ready) != NULL) {
		q->ready = e->next_ready;
		e->next_ready = NULL;
		entry_commit(e);
		q->deferred--;
	}
	pthread_mutex_unlock(&q->lock);
}

/* Make one more entry and register it with the kernel. */
static bool entry_add(struct queue *q)
{
	size_t payload = q->u->payload_size;
	struct entry *e;

	if (q->nr_ents == QUEUE_ENTRIES_MAX)
		return false;
	e = &q->ents[q->nr_ents];
	e->q = q;
	e->index = q->nr_ents;
	if (posix_memalign((void **)&e->head, 64, sizeof(*e->head)) != 0)
		return false;
	if (posix_memalign((void **)&e->buf, 4096, HEAD_ROOM + payload) != 0) {
		free(e->head);
		e->head = NULL;
		return false;
	}
	memset(e->head, 0, sizeof(*e->head));
	e->iov[0] = (struct iovec){ e->head, sizeof(*e->head) };
	e->iov[1] = (struct iovec){ e->buf + HEAD_ROOM, payload };
	if (queue_fuse_cmd(q, e, FUSE_IO_URING_CMD_REGISTER, 0, e->iov) != 0)
		return false;
	pthread_mutex_lock(&q->lock);
	q->nr_ents++;
	pthread_mutex_unlock(&q->lock);
	return true;
}

/*
 * Register the queue's first entries.  Should that fail, a REGISTER the
 * kernel must refuse makes it give up io_uring for the mount (it holds all
 * requests until every queue has an entry, and a refusal ends that).
 */
static bool queue_register(struct queue *q)
{
	for (unsigned i = 0; i < QUEUE_DEPTH; i++) {
		if (!entry_add(q)) {
			struct entry refused = { .q = q };

			if (q->nr_ents == 0)
				(void)queue_fuse_cmd(q, &refused,
						     FUSE_IO_URING_CMD_REGISTER,
						     0, NULL);
			return false;
		}
	}
	return queue_wake_read(q) == 0;
}

static bool cq_empty(struct queue *q)
{
	return __atomic_load_n(q->cq_tail, __ATOMIC_ACQUIRE) == *q->cq_head;
}

/*
 * Submit what is pending and wait for completions.  After a small answer
 * the caller's next request usually follows within microseconds (ls -l
 * and getfattr ask several things per file, a shell loop writes file after
 * file), so the queue first polls for spin_ns, as loop.c does: sleeping
 * would make the next request wake it, and its answer then finds this CPU
 * busy and wakes the caller on another one.  After a listing the caller
 * has the entries to go through first, and polling would keep this CPU
 * busy just when the caller's wake-up should come back to it: a walk of
 * regipy SYSTEM (find) took 2.0 s sleeping at once, 2.3 s polling.
 */
static int queue_wait(struct queue *q)
{
	uint64_t start = spin_now_ns();
	int err;

	if (q->u->spin_ns > 0 && !q->last_listing) {
		err = ring_submit(q, 0);
		if (err != 0)
			return err;
		while (cq_empty(q) && spin_now_ns() - start < q->u->spin_ns) {
			if (sys_uring_enter(q->ring_fd, 0, 0,
					    IORING_ENTER_GETEVENTS) < 0 &&
			    errno != EINTR)
				return -errno;
		}
		if (!cq_empty(q))
			return 0;
	}
	return ring_submit(q, 1);
}

static void queue_report(struct queue *q, int setup)
{
	struct uring *u = q->u;

	pthread_mutex_lock(&u->lock);
	q->setup = setup;
	pthread_cond_broadcast(&u->changed);
	pthread_mutex_unlock(&u->lock);
}

static void *queue_run(void *arg)
{
	struct queue *q = arg;
	struct uring *u = q->u;
	enum phase phase;

	if (ring_map(q) != 0) {
		queue_report(q, -1);
		return NULL;
	}
	queue_report(q, 1);
	pthread_mutex_lock(&u->lock);
	while (u->phase == PHASE_WAIT)
		pthread_cond_wait(&u->changed, &u->lock);
	phase = u->phase;
	pthread_mutex_unlock(&u->lock);
	if (phase != PHASE_GO)
		return NULL;
	if (!queue_register(q)) {
		fuse_log(FUSE_LOG_ERR, "hivefs: io_uring queue %u: out of "
				       "memory; serving over /dev/fuse\n", q->qid);
		(void)ring_submit(q, 0);
		return NULL;
	}
	for (;;) {
		unsigned head, tail;
		bool stopping;
		int err;

		pthread_mutex_lock(&q->lock);
		stopping = q->stopping;
		pthread_mutex_unlock(&q->lock);
		if (stopping)
			break;
		err = queue_wait(q);
		if (err != 0) {
			fuse_log(FUSE_LOG_ERR, "hivefs: io_uring queue %u: %s\n",
				 q->qid, strerror(-err));
			break;
		}
		head = *q->cq_head;
		tail = __atomic_load_n(q->cq_tail, __ATOMIC_ACQUIRE);
		for (; head != tail; head++) {
			struct io_uring_cqe *c = &q->cqes[head & *q->cq_mask];
			uint64_t tag = c->user_data;
			int res = c->res;

			__atomic_store_n(q->cq_head, head + 1, __ATOMIC_RELEASE);
			if (tag == TAG_WAKE) {
				queue_take_ready(q);
				if (queue_wake_read(q) != 0)
					fuse_log(FUSE_LOG_ERR, "hivefs: io_uring "
						 "queue %u full\n", q->qid);
			} else if (tag < q->nr_ents && res == 0) {
				q->served++;
				if (!entry_serve(&q->ents[tag]))
					continue;
				/* Answered later: keep QUEUE_DEPTH free. */
				q->deferred++;
				if (q->nr_ents - q->deferred < QUEUE_DEPTH &&
				    !entry_add(q))
					fuse_log(FUSE_LOG_ERR, "hivefs: io_uring "
						 "queue %u: no entry to add\n",
						 q->qid);
			} else if (tag < q->nr_ents && res != -ENOTCONN &&
				   res != -ECANCELED) {
				/* -ENOTCONN: unmounted.  Else the kernel gave
				 * up this entry. */
				fuse_log(FUSE_LOG_ERR, "hivefs: io_uring queue "
					 "%u: %s\n", q->qid, strerror(-res));
			}
		}
	}
	return NULL;
}

/*
 * The answer to a request an entry holds: copy it in (q->lock), the
 * fuse_out_header to the header block, the rest to the payload buffer.
 */
static ssize_t entry_answer(struct entry *e, const struct iovec *iov,
			    int count)
{
	struct queue *q = e->q;
	const size_t head = sizeof(struct fuse_out_header);
	size_t total = iov_total(iov, count), len;

	if (total < head)
		return -EINVAL;
	len = total - head;
	if (len > q->u->payload_size)
		return -E2BIG;
	(void)iov_copy_out(iov, count, 0, e->head->in_out, head);
	(void)iov_copy_out(iov, count, head, e->buf + HEAD_ROOM, len);
	e->head->ring_ent_in_out.payload_sz = (uint32_t)len;
	e->answered = true;
	if (!e->serving) {
		uint64_t one = 1;

		e->next_ready = q->ready;
		q->ready = e;
		if (write(q->wake_fd, &one, sizeof(one)) < 0)
			return -errno;
	}
	return (ssize_t)total;
}

/* The ring entry holding request `unique`, locked; NULL if none. */
static struct entry *entry_find(struct uring *u, uint64_t unique)
{
	for (unsigned i = 0; i < u->nr_queues; i++) {
		struct queue *q = &u->queues[i];

		pthread_mutex_lock(&q->lock);
		for (unsigned j = 0; j < q->nr_ents && !q->stopping; j++)
			if (q->ents[j].unique == unique)
				return &q->ents[j];
		pthread_mutex_unlock(&q->lock);
	}
	return NULL;
}

/* Threads still waiting for the INIT answer give up. */
static void uring_quit_waiting(struct uring *u)
{
	pthread_mutex_lock(&u->lock);
	if (u->phase == PHASE_WAIT)
		u->phase = PHASE_QUIT;
	pthread_cond_broadcast(&u->changed);
	pthread_mutex_unlock(&u->lock);
}

/* Start a thread per queue and wait until each has its ring or failed. */
static bool queues_start(struct uring *u)
{
	bool ok = true;

	unsigned n = possible_cpus();

	u->queues = n ? calloc(n, sizeof(*u->queues)) : NULL;
	if (!u->queues)
		return false;
	u->nr_queues = n;
	for (unsigned i = 0; i < u->nr_queues; i++) {
		struct queue *q = &u->queues[i];

		q->u = u;
		q->qid = i;
		q->ring_fd = -1;
		pthread_mutex_init(&q->lock, NULL);
		q->wake_fd = eventfd(0, EFD_CLOEXEC);
		if (q->wake_fd < 0 ||
		    pthread_create(&q->thread, NULL, queue_run, q) != 0) {
			q->setup = -1;
			ok = false;
			continue;
		}
		q->started = true;
	}
	pthread_mutex_lock(&u->lock);
	for (unsigned i = 0; i < u->nr_queues; i++) {
		while (u->queues[i].setup == 0)
			pthread_cond_wait(&u->changed, &u->lock);
		if (u->queues[i].setup < 0)
			ok = false;
	}
	pthread_mutex_unlock(&u->lock);
	return ok;
}

/*
 * The INIT answer, whole: libfuse 3.14 writes it in two pieces (header,
 * fuse_init_out), but nothing promises that, so it is gathered here.  Room
 * for twice the fuse_init_out this file knows: a longer answer is not one
 * it understands.
 */
union init_answer {
	struct fuse_out_header oh;
	uint64_t align;
	char bytes[sizeof(struct fuse_out_header) +
		   2 * sizeof(struct fuse_init_out)];
};

/* The INIT answer as libfuse wrote it, with a note why it is left so. */
static ssize_t answer_init_as_is(int fd, struct iovec *iov, int count,
				 const char *why)
{
	if (why)
		fprintf(stderr, "hivefs: not asking for FUSE over io_uring: %s; "
				"serving over /dev/fuse\n", why);
	return writev(fd, iov, count);
}

/*
 * The INIT answer: ask for io_uring if the kernel offered it and the
 * queues are ready, and let them register once the kernel has the answer.
 */
static ssize_t answer_init(struct uring *u, int fd, struct iovec *iov,
			   int count)
{
	const size_t head = sizeof(struct fuse_out_header);
	const size_t flags2_at = head + offsetof(struct fuse_init_out, flags2);
	union init_answer msg;
	struct fuse_init_out init;
	size_t len = iov_total(iov, count), arg_len;
	long page = sysconf(_SC_PAGESIZE);
	size_t pages;
	uint32_t flags2;
	struct iovec whole;
	ssize_t n;

	if (!u->offered)
		return answer_init_as_is(fd, iov, count, NULL);
	if (len > sizeof(msg.bytes) || len < flags2_at + sizeof(flags2) ||
	    !iov_copy_out(iov, count, 0, msg.bytes, len))
		return answer_init_as_is(fd, iov, count,
					 "the INIT answer is not one hivefs "
					 "understands (its length)");
	if (msg.oh.error != 0)
		return answer_init_as_is(fd, iov, count, NULL);
	if (msg.oh.len != len)
		return answer_init_as_is(fd, iov, count,
					 "the INIT answer is not one hivefs "
					 "understands (its header)");
	arg_len = len - head;
	memset(&init, 0, sizeof(init));
	memcpy(&init, msg.bytes + head,
	       arg_len < sizeof(init) ? arg_len : sizeof(init));
	if (!(init.flags & FUSE_INIT_EXT))
		return answer_init_as_is(fd, iov, count, NULL);
	pages = (init.flags & FUSE_MAX_PAGES) ? init.max_pages : 0;
	if (pages < KERNEL_DEFAULT_MAX_PAGES)
		pages = KERNEL_DEFAULT_MAX_PAGES;
	u->payload_size = pages * (size_t)(page > 0 ? page : 4096);
	if (u->payload_size < init.max_write)
		u->payload_size = init.max_write;
	if (u->payload_size < KERNEL_MIN_READ_BUFFER)
		u->payload_size = KERNEL_MIN_READ_BUFFER;
	if (!queues_start(u)) {
		uring_quit_waiting(u);
		return answer_init_as_is(fd, iov, count, NULL);
	}
	flags2 = init.flags2 | (uint32_t)(FUSE_OVER_IO_URING >> 32);
	memcpy(msg.bytes + flags2_at, &flags2, sizeof(flags2));
	whole = (struct iovec){ msg.bytes, len };
	n = writev(fd, &whole, 1);
	if (n < 0) {
		uring_quit_waiting(u);
		return n;
	}
	pthread_mutex_lock(&u->lock);
	u->phase = PHASE_GO;
	pthread_cond_broadcast(&u->changed);
	pthread_mutex_unlock(&u->lock);
	return n;
}

static ssize_t io_writev(int fd, struct iovec *iov, int count, void *data)
{
	struct uring *u = attached;
	struct fuse_out_header oh;
	struct entry *e = current_entry;
	ssize_t n;

	if (!iov_copy_out(iov, count, 0, &oh, sizeof(oh)))
		return writev(fd, iov, count);
	if (u->init_seen && !u->init_answered && oh.unique == u->init_unique) {
		u->init_answered = true;
		return answer_init(u, fd, iov, count);
	}
	if (oh.unique == 0 || !atomic_load(&u->serving))
		return writev(fd, iov, count);
	if (e && e->unique == oh.unique)
		pthread_mutex_lock(&e->q->lock);
	else
		e = entry_find(u, oh.unique);
	if (!e)
		return writev(fd, iov, count); /* came over /dev/fuse */
	n = entry_answer(e, iov, count);
	pthread_mutex_unlock(&e->q->lock);
	if (n < 0) {
		errno = (int)-n;
		return -1;
	}
	return n;
}

static ssize_t io_read(int fd, void *buf, size_t len, void *data)
{
	struct uring *u = attached;
	ssize_t n = read(fd, buf, len);
	const struct fuse_in_header *in = buf;

	if (!u->init_seen && n >= (ssize_t)sizeof(*in) &&
	    in->opcode == FUSE_INIT) {
		const struct fuse_init_in *init = (const void *)(in + 1);

		u->init_seen = true;
		u->init_unique = in->unique;
		/* The kernel read enable_uring when it sent INIT: the flag,
		 * not the parameter transport.c saw, is what counts. */
		u->offered = (size_t)n >= sizeof(*in) + sizeof(*init) &&
			     (init->flags & FUSE_INIT_EXT) &&
			     (init->flags2 & (uint32_t)(FUSE_OVER_IO_URING >> 32));
	}
	return n;
}

struct uring *uring_attach(struct fuse_session *se, unsigned spin_us,
			   bool verbose)
{
	static const struct fuse_custom_io io = {
		.read = io_read,
		.writev = io_writev,
	};
	struct uring *u;

	if (attached)
		return NULL; /* one session per process */
	u = calloc(1, sizeof(*u));
	if (!u)
		return NULL;
	u->se = se;
	u->fuse_fd = fuse_session_fd(se);
	u->verbose = verbose;
	u->spin_ns = (uint64_t)spin_us * 1000u;
	pthread_mutex_init(&u->lock, NULL);
	pthread_cond_init(&u->changed, NULL);
	attached = u;
	if (fuse_session_custom_io(se, &io, u->fuse_fd) != 0) {
		uring_free(u);
		return NULL;
	}
	return u;
}

bool uring_serving(const void *u)
{
	return u && atomic_load(&((const struct uring *)u)->serving);
}

void uring_stop(struct uring *u)
{
	uint64_t served = 0;

	if (!u)
		return;
	atomic_store(&u->serving, false);
	uring_quit_waiting(u);
	for (unsigned i = 0; i < u->nr_queues; i++) {
		struct queue *q = &u->queues[i];
		uint64_t one = 1;

		if (!q->started)
			continue;
		pthread_mutex_lock(&q->lock);
		q->stopping = true;
		pthread_mutex_unlock(&q->lock);
		if (write(q->wake_fd, &one, sizeof(one)) < 0)
			fuse_log(FUSE_LOG_ERR, "hivefs: io_uring queue %u: "
					       "%s\n", q->qid, strerror(errno));
		pthread_join(q->thread, NULL);
		q->started = false;
		served += q->served;
	}
	if (u->verbose && served > 0)
		fprintf(stderr, "hivefs: %llu requests served over io_uring\n",
			(unsigned long long)served);
}

void uring_free(struct uring *u)
{
	if (!u)
		return;
	uring_stop(u);
	for (unsigned i = 0; i < u->nr_queues; i++) {
		struct queue *q = &u->queues[i];

		ring_unmap(q);
		if (q->wake_fd >= 0)
			close(q->wake_fd);
		for (unsigned j = 0; j < q->nr_ents; j++) {
			free(q->ents[j].head);
			free(q->ents[j].buf);
		}
		pthread_mutex_destroy(&q->lock);
	}
	free(u->queues);
	pthread_cond_destroy(&u->changed);
	pthread_mutex_destroy(&u->lock);
	if (attached == u)
		attached = NULL;
	free(u);
}
