/*
 * batch.c — group commit: the loop fills a batch while the writer thread
 * commits the previous one.
 *
 * Batches take turns.  The loop appends every valid event, reject and
 * waiting api reply to `fill`.  When the writer is idle, `fill` is handed
 * over (it becomes `busy`) at the end of the loop turn that filled it, so
 * a lone event waits for no more than one commit.  While the writer syncs,
 * the loop goes on receiving into the next batch: a durable commit takes
 * milliseconds, and an upstream PUB whose queue fills drops silently.  Only
 * when `fill` reaches its cap (batch_max items or WARTA_BATCH_BYTES) does
 * the loop stop reading, leaving messages in the sockets' queues (high
 * water marks) until the commit ends.
 *
 * Why a thread: the commit's fsync blocks, and the loop must not.  The
 * writer owns nothing but the batch it was given and LMDB's write
 * transaction; it signals completion through an eventfd.  A third
 * thread, the indexer, writes the indexes (store_index_work()) from a
 * copy the writer queues after each commit, so the batch comes back to
 * the loop, and the next goes to the writer, at the log's commit.  Acks
 * go then; a batch with a read waiting (get, list...) goes on a wait
 * queue until the indexer has handled every event committed before it,
 * and the batches after it wait behind it, so replies keep their order.
 */
#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <event2/event.h>

#include "daemon/log.h"
#include "daemon/wartad.h"
#include "daemon/xmalloc.h"
#include "handlers/handlers.h"

const int64_t stats_commit_bounds[STATS_COMMIT_BUCKETS - 1] = {
	250, 500, 1000, 2000, 4000, 8000, 16000, 32000, 64000, 128000, 512000
};

struct writer {
	pthread_t	 thread;
	pthread_mutex_t	 mtx;
	pthread_cond_t	 cv;
	struct batch	*job;		/* submitted, not yet taken */
	bool		 stop;
	int		 efd;		/* writer -> loop: a batch is done */
	pthread_t	 ithread;	/* the indexer */
	int		 iefd;		/* indexer -> loop: it moved */
	struct store	*store;
	struct wartad	*wd;
};

/*
 * What a batch keeps for reuse: a burst of large batches must not leave
 * the daemon holding their buffers once the rate drops (the arena frees
 * its extra chunks itself).
 */
#define BATCH_KEEP_ITEMS	8192
#define BATCH_KEEP_OUT		(4u << 20)

/* A large batch was freed since the last trim (loop thread only). */
static bool batch_trim_due;

/* Clear a batch for reuse, keeping its memory up to the limits above. */
static void
batch_reset(struct batch *b)
{
	if (b->items_cap > BATCH_KEEP_ITEMS) {
		free(b->items);
		b->items = NULL;
		b->items_cap = 0;
		batch_trim_due = true;
	}
	if (b->rejects_cap > BATCH_KEEP_ITEMS) {
		free(b->rejects);
		b->rejects = NULL;
		b->rejects_cap = 0;
		batch_trim_due = true;
	}
	if (b->pend_cap > BATCH_KEEP_ITEMS) {
		free(b->pend);
		b->pend = NULL;
		b->pend_cap = 0;
		batch_trim_due = true;
	}
	if (b->out.alloc > BATCH_KEEP_OUT) {
		msgpack_sbuffer_destroy(&b->out);
		msgpack_sbuffer_init(&b->out);
		batch_trim_due = true;
	}
	b->nitems = b->nrejects = b->npend = b->ncursors = 0;
	b->retain = false;
	b->done = false;
	b->wnext = NULL;
	b->wait_seq = 0;
	b->status = 0;
	free(b->cause);
	b->cause = NULL;
	memset(&b->res, 0, sizeof b->res);
	b->out.size = 0;
	arena_reset(&b->arena);
}

/* A new empty batch. */
static struct batch *
batch_new(void)
{
	struct batch *b = xcalloc(1, sizeof *b);

	msgpack_sbuffer_init(&b->out);
	return b;
}

/* Free a batch. */
static void
batch_free(struct batch **bp)
{
	struct batch *b = *bp;

	if (b == NULL)
		return;
	free(b->items);
	free(b->rejects);
	free(b->pend);
	free(b->cursors);
	free(b->cause);
	msgpack_sbuffer_destroy(&b->out);
	arena_free(&b->arena);
	free(b);
	*bp = NULL;
}

/* The writer thread: commit each batch it is given. */
static void *
writer_main(void *arg)
{
	struct writer *w = arg;
	uint64_t one = 1;

	for (;;) {
		struct batch *b;
		int64_t t0;

		pthread_mutex_lock(&w->mtx);
		while (w->job == NULL && !w->stop)
			pthread_cond_wait(&w->cv, &w->mtx);
		b = w->job;
		w->job = NULL;
		pthread_mutex_unlock(&w->mtx);
		if (b == NULL)
			break;

		t0 = wartad_mono_us();
		b->status = store_write(w->store, b->items, b->nitems,
		    b->rejects, b->nrejects, b->cursors, b->ncursors,
		    wartad_now_ms(), &b->out, &b->res, &b->cause);
		b->commit_us = wartad_mono_us() - t0;

		/* The log has committed and the index job is queued: the
		   batch is the loop's again. */
		__atomic_store_n(&b->done, true, __ATOMIC_RELEASE);
		while (write(w->efd, &one, sizeof one) == -1 && errno == EINTR)
			;
	}
	return NULL;
}

/* The indexer thread: index what the writer committed, and tell the
 * loop each time the indexer has handled more. */
static void *
indexer_main(void *arg)
{
	struct writer *w = arg;
	uint64_t one = 1;

	while (store_index_work(w->store, true) >= 0)
		while (write(w->iefd, &one, sizeof one) == -1 &&
		    errno == EINTR)
			;
	return NULL;
}

/* Commit latency and events stored per type, for /metrics. */
static void
batch_count_commit(struct wartad *wd, const struct batch *b)
{
	int i;

	for (i = 0; i < STATS_COMMIT_BUCKETS - 1; i++)
		if (b->commit_us <= stats_commit_bounds[i])
			break;
	wd->st.commit_hist[i]++;
	wd->st.commit_sum_us += (uint64_t)b->commit_us;
	if (b->status != 0)
		return;
	for (size_t n = 0; n < b->nitems; n++) {
		if (b->items[n].duplicate)
			continue;
		for (i = 0; handlers[i] != NULL && i < STATS_MAX_TYPES; i++)
			if (handlers[i]->type == b->items[n].type) {
				wd->st.stored_by_type[i]++;
				break;
			}
	}
}

/* Whether every reply waiting on b is an ack of a publish: then they
 * can go once the log has committed, before the indexes are written. */
static bool
batch_acks_only(const struct batch *b)
{
	for (size_t i = 0; i < b->npend; i++)
		if (b->pend[i].item < 0)
			return false;
	return true;
}

/*
 * The loop side of the log's commit.  The order is the durability
 * promise: the transaction has committed, then notifications are
 * published, then acks are sent.  Nothing is notified or acknowledged
 * before its commit.
 */
static void
batch_logged(struct wartad *wd, struct batch *b)
{
	wd->st.commits++;
	log_debug("commit: %zu events, %zu rejects, %zu replies in %" PRId64
	    " us", b->nitems, b->nrejects, b->npend, b->commit_us);
	batch_count_commit(wd, b);
	if (b->status == 0) {
		fault_point("after_commit");	/* tests only: see fault.c */
		if (b->res.last_seq > wd->last_seq)
			wd->last_seq = b->res.last_seq;
		wd->retain_more = b->res.more_retention;
		if (b->res.removed)
			log_debug("retention removed %" PRIu64 " events",
			    b->res.removed);
		/* 1. notify */
		notify_publish_batch(wd, b);
	} else {
		/* Nothing of it was stored: ingest events are lost to the
		   store, so count and log them; api clients hear it below. */
		size_t from_api = 0;

		for (size_t i = 0; i < b->npend; i++)
			if (b->pend[i].item >= 0)
				from_api++;
		wd->st.rejected[REASON_UNAVAILABLE] += b->nitems - from_api;
		if (b->nitems > from_api)
			ingest_log_reject(wd, REASON_UNAVAILABLE, b->cause,
			    "(store)");
	}
	for (size_t i = 0; i < b->nitems; i++)
		if (b->status == 0 && b->items[i].duplicate)
			wd->st.duplicates++;
}

/* A batch is done with: keep it as the spare, or free it. */
static void
batch_release(struct wartad *wd, struct batch *b)
{
	if (wd->spare != NULL) {
		batch_free(&b);
		return;
	}
	batch_reset(b);
	wd->spare = b;
}

/* An empty batch to fill: the spare, or a new one. */
static struct batch *
batch_take_spare(struct wartad *wd)
{
	struct batch *b = wd->spare;

	wd->spare = NULL;
	return b != NULL ? b : batch_new();
}

/* The loop's copy of the indexer's progress. */
static void
batch_index_progress(struct wartad *wd)
{
	wd->indexed_seq = store_indexed_seq(wd->store);
	wd->index_done = store_index_done(wd->store);
}

/* Answer the waiting batches whose turn has come, in order. */
static void
batch_wait_drain(struct wartad *wd)
{
	struct batch *b;

	while ((b = wd->wait_head) != NULL &&
	    (batch_acks_only(b) || wd->index_done >= b->wait_seq)) {
		wd->wait_head = b->wnext;
		if (wd->wait_head == NULL)
			wd->wait_tailp = &wd->wait_head;
		api_complete(wd, b);
		batch_release(wd, b);
	}
}

/*
 * 2. replies: acks at once; a read (get, list, stats...) once the indexer
 * has handled every event committed before it, so that it sees what was
 * acknowledged before it.  Replies keep their order: a batch waits
 * behind one that waits.
 */
static void
batch_reply(struct wartad *wd, struct batch *b)
{
	b->wait_seq = wd->last_seq;
	b->wait_since_us = wartad_mono_us();
	b->wnext = NULL;
	*wd->wait_tailp = b;
	wd->wait_tailp = &b->wnext;
	/* The indexer may be done before its eventfd is read. */
	batch_index_progress(wd);
	batch_wait_drain(wd);
}

/* Stopping: end the loop once nothing is left for the threads. */
static void
batch_check_stop(struct wartad *wd)
{
	if (wd->stopping && wd->busy == NULL && !batch_pending(wd))
		event_base_loopbreak(wd->base);
}

/* The writer's eventfd: the busy batch has committed (or failed). */
static void
batch_done(evutil_socket_t fd, short what, void *arg)
{
	struct writer *w = arg;
	struct wartad *wd = w->wd;
	struct batch *b = wd->busy;
	uint64_t n;

	if (read(fd, &n, sizeof n) == -1 || b == NULL ||
	    !__atomic_load_n(&b->done, __ATOMIC_ACQUIRE))
		return;
	wd->busy = NULL;
	batch_logged(wd, b);
	batch_reply(wd, b);

	if (!wd->stopping && wd->retain_more)
		wd->fill->retain = true;
	batch_flush(wd);
	if (!wd->stopping) {
		ingest_resume(wd);
		api_resume(wd);
	}
	batch_check_stop(wd);
}

/* The indexer's eventfd: it has handled more; waiting reads may go. */
static void
batch_indexed(evutil_socket_t fd, short what, void *arg)
{
	struct writer *w = arg;
	struct wartad *wd = w->wd;
	uint64_t n;

	if (read(fd, &n, sizeof n) == -1)
		return;
	batch_index_progress(wd);
	batch_wait_drain(wd);
	batch_flush(wd);
	batch_check_stop(wd);
}

/* Start a thread with the loop's signals blocked in it. */
static void
batch_thread(pthread_t *t, void *(*fn)(void *), void *arg)
{
	sigset_t all, old;
	int rc;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = pthread_create(t, NULL, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		errno = rc;
		fatal("pthread_create");
	}
}

/* Start the writer and indexer threads. */
struct writer *
writer_start(struct store *store, struct wartad *wd)
{
	struct writer *w = xcalloc(1, sizeof *w);

	w->store = store;
	w->wd = wd;
	pthread_mutex_init(&w->mtx, NULL);
	pthread_cond_init(&w->cv, NULL);
	if ((w->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1 ||
	    (w->iefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1)
		fatal("eventfd");
	wd->ev_writer = event_new(wd->base, w->efd, EV_READ | EV_PERSIST,
	    batch_done, w);
	event_add(wd->ev_writer, NULL);
	wd->ev_indexer = event_new(wd->base, w->iefd, EV_READ | EV_PERSIST,
	    batch_indexed, w);
	event_add(wd->ev_indexer, NULL);
	batch_index_progress(wd);
	batch_thread(&w->thread, writer_main, w);
	batch_thread(&w->ithread, indexer_main, w);
	return w;
}

/* Stop and join the writer, then the indexer once it has indexed what
 * the writer gave it; the loop has drained every batch. */
void
writer_stop(struct writer **wp)
{
	struct writer *w = *wp;

	if (w == NULL)
		return;
	pthread_mutex_lock(&w->mtx);
	w->stop = true;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mtx);
	pthread_join(w->thread, NULL);
	store_index_stop(w->store);
	pthread_join(w->ithread, NULL);
	event_free(w->wd->ev_writer);
	event_free(w->wd->ev_indexer);
	w->wd->ev_writer = w->wd->ev_indexer = NULL;
	close(w->efd);
	close(w->iefd);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mtx);
	free(w);
	*wp = NULL;
}

/*
 * Once a second: after a burst, when nothing is waiting for the writer,
 * give the heap's free pages back to the system.  The burst's messages
 * and batches were freed, but between live allocations glibc keeps them
 * resident; malloc_trim() releases them.
 */
void
batch_tick(struct wartad *wd)
{
	if (batch_pending(wd))
		return;
	if (arena_trim(&wd->fill->arena))
		batch_trim_due = true;
	if (wd->spare != NULL && arena_trim(&wd->spare->arena))
		batch_trim_due = true;
	if (!batch_trim_due)
		return;
	batch_trim_due = false;
	malloc_trim(0);
}

/* Set up the batches. */
void
batch_init(struct wartad *wd)
{
	wd->fill = batch_new();
	wd->spare = batch_new();
	wd->busy = NULL;
	wd->wait_head = NULL;
	wd->wait_tailp = &wd->wait_head;
}

/* Free the batches at exit. */
void
batch_free_all(struct wartad *wd)
{
	batch_free(&wd->fill);
	batch_free(&wd->spare);
	batch_free(&wd->busy);
	while (wd->wait_head != NULL) {
		struct batch *b = wd->wait_head;

		wd->wait_head = b->wnext;
		batch_free(&b);
	}
	wd->wait_tailp = &wd->wait_head;
}

/* Whether a batch has anything for the store. */
bool
batch_has_writes(const struct batch *b)
{
	return b->nitems > 0 || b->nrejects > 0 || b->ncursors > 0 ||
	    b->retain;
}

/* Whether work is waiting for a commit or the indexer: replies must
 * queue behind it. */
bool
batch_pending(const struct wartad *wd)
{
	return wd->busy != NULL || wd->fill->nitems > 0 ||
	    wd->fill->nrejects > 0 || wd->fill->npend > 0 ||
	    wd->wait_head != NULL || wd->index_done < wd->last_seq;
}

/* Whether the filling batch is at its cap. */
bool
batch_full(const struct wartad *wd)
{
	const struct batch *b = wd->fill;

	return b->nitems + b->nrejects + b->npend >= wd->cfg->batch_max ||
	    b->arena.used >= WARTA_BATCH_BYTES;
}

/* Make room for one more element of a growable array. */
static void *
batch_grow(void *arr, size_t n, size_t *cap, size_t size)
{
	if (n < *cap)
		return arr;
	*cap = *cap ? *cap * 2 : 256;
	return xreallocarray(arr, *cap, size);
}

/* A fixed buffer for msgpack_packer, sized beforehand. */
struct batch_buf {
	uint8_t		*p;
	size_t		 len, cap;
};

/* Room for the defaults schema_encode_event() adds: "occurred_at" and an
 * int64, "priority" and a string header (its name's length on top). */
#define BATCH_DEFAULTS_MAX	(1 + 11 + 9 + 1 + 8 + 5)

/* msgpack write callback into a batch_buf; overflowing it is a bug. */
static int
batch_buf_write(void *data, const char *buf, size_t len)
{
	struct batch_buf *bb = data;

	if (len > bb->cap - bb->len)
		fatalx("%s: %zu bytes over a buffer of %zu", __func__,
		    bb->len + len, bb->cap);
	memcpy(bb->p + bb->len, buf, len);
	bb->len += len;
	return 0;
}

/* Add a valid event; its bytes are copied into the batch. */
struct store_item *
batch_add_item(struct wartad *wd, const struct event *ev, int64_t received_at)
{
	struct batch *b = wd->fill;
	struct store_item *it;
	msgpack_packer pk;
	const char *type = ev->h->type;
	char *topic;
	size_t tl = strlen(type);

	b->items = batch_grow(b->items, b->nitems, &b->items_cap,
	    sizeof *b->items);
	it = &b->items[b->nitems++];
	memset(it, 0, sizeof *it);
	it->type = type;
	it->id = arena_dup(&b->arena, ev->id, ev->id_len);
	it->id_len = ev->id_len;
	if (ev->msg_id != NULL) {
		it->msg_id = arena_dup(&b->arena, ev->msg_id, ev->msg_id_len);
		it->msg_id_len = ev->msg_id_len;
	}
	memcpy(it->country, ev->country, 2);
	it->sort_time = ev->sort_time;
	it->received_at = received_at;

	/* <type>.<country>.<action> */
	it->topic_len = tl + 4 + ev->action_len;
	topic = arena_alloc(&b->arena, it->topic_len);
	memcpy(topic, type, tl);
	topic[tl] = '.';
	memcpy(topic + tl + 1, ev->country, 2);
	topic[tl + 3] = '.';
	memcpy(topic + tl + 4, ev->action, ev->action_len);
	it->topic = topic;

	/* Encoded straight into the arena: the event as received, a map
	   header of at most 5 bytes, and the defaults filled in. */
	{
		struct batch_buf bb;

		bb.cap = ev->map_len + 5 + BATCH_DEFAULTS_MAX +
		    (ev->add_priority ? strlen(ev->h->default_priority) : 0);
		bb.p = arena_alloc(&b->arena, bb.cap);
		bb.len = 0;
		msgpack_packer_init(&pk, &bb, batch_buf_write);
		schema_encode_event(ev, &pk);
		it->event = bb.p;
		it->event_len = bb.len;
	}
	return it;
}

/* Keep a rejected ingest message (section 10: the topic as UTF-8 with
 * invalid bytes replaced, the first 4096 bytes of the body). */
void
batch_add_reject(struct wartad *wd, int64_t received_at, enum reason reason,
    const char *detail, const void *topic, size_t topic_len,
    const void *body, size_t body_len, uint64_t size)
{
	struct batch *b = wd->fill;
	struct store_reject *rj;

	if (wd->cfg->max_rejects == 0)
		return;
	b->rejects = batch_grow(b->rejects, b->nrejects, &b->rejects_cap,
	    sizeof *b->rejects);
	rj = &b->rejects[b->nrejects++];
	rj->received_at = received_at;
	rj->reason = reason;
	rj->topic = arena_dup(&b->arena, topic, topic_len);
	rj->topic_len = topic_len;
	rj->detail = arena_dup(&b->arena, detail, strlen(detail) + 1);
	rj->size = size;
	if (body_len > 4096)
		body_len = 4096;
	rj->body = arena_dup(&b->arena, body, body_len);
	rj->body_len = body_len;
}

/* Queue a reply behind the filling batch. */
struct pending *
batch_add_pending(struct wartad *wd)
{
	struct batch *b = wd->fill;
	struct pending *p;

	b->pend = batch_grow(b->pend, b->npend, &b->pend_cap, sizeof *b->pend);
	p = &b->pend[b->npend++];
	memset(p, 0, sizeof *p);
	p->item = -1;
	return p;
}

/* Save a webhook's cursor with the next commit; the newest wins. */
void
batch_set_cursor(struct wartad *wd, const char *name, uint64_t seq)
{
	struct batch *b = wd->fill;

	for (size_t i = 0; i < b->ncursors; i++)
		if (b->cursors[i].name == name) {
			b->cursors[i].seq = seq;
			return;
		}
	b->cursors = batch_grow(b->cursors, b->ncursors, &b->cursors_cap,
	    sizeof *b->cursors);
	b->cursors[b->ncursors].name = name;
	b->cursors[b->ncursors++].seq = seq;
}

/*
 * Hand the filling batch to the writer if it is idle and there is
 * something to store.  A batch of replies only (reads queued behind a
 * commit that has now happened) is answered at once.
 */
void
batch_flush(struct wartad *wd)
{
	struct writer *w = wd->writer;
	struct batch *b = wd->fill;

	if (wd->busy != NULL)
		return;
	if (!batch_has_writes(b)) {
		if (b->npend > 0) {
			wd->fill = batch_take_spare(wd);
			batch_reply(wd, b);
		}
		return;
	}
	wd->busy = b;
	wd->busy_since_us = wartad_mono_us();
	wd->fill = batch_take_spare(wd);
	pthread_mutex_lock(&w->mtx);
	w->job = b;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mtx);
}

/*
 * Run a socket's reader until its queue is empty (ZMQ_FD is edge-triggered:
 * a partial drain could wait forever for the next edge), or until this
 * turn's budget is spent (then again next turn, so the other sockets and
 * the writer's completions are served in between), or until the batch is
 * full while the writer is busy: then the event is removed, since
 * level-triggered libevent would call us again and again, and
 * batch_resume() puts it back when the commit is done.
 */
void
batch_drain(struct wartad *wd, struct event *ev, bool *paused,
    int (*read_one)(struct wartad *))
{
	int n;

	if (wd->stopping)
		return;
	for (n = 0; n < WARTA_READ_BUDGET; n++) {
		if (batch_full(wd)) {
			batch_flush(wd);
			if (batch_full(wd)) {
				event_del(ev);
				*paused = true;
				return;
			}
		}
		if (!read_one(wd))
			break;
	}
	if (n == WARTA_READ_BUDGET)
		event_active(ev, EV_READ, 0);
	batch_flush(wd);
}

/* Listen and read again after a pause: the edge may have passed. */
void
batch_resume(struct wartad *wd, struct event *ev, bool *paused)
{
	if (ev == NULL || wd->stopping)
		return;
	if (*paused) {
		event_add(ev, NULL);
		*paused = false;
	}
	event_active(ev, EV_READ, 0);
}
