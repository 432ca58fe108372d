/*
 * sse.c — GET /v1/stream: notifications as Server-Sent Events.
 *
 * Each event is
 *
 *	id: <seq>
 *	event: <notify topic>		(left out with ?typed=0)
 *	data: <the notification body {seq, received_at, topic, event} as
 *	       one line of JSON>
 *
 * A stream starts live (at last_seq + 1), or, when the client names the
 * last seq it has (the Last-Event-ID header, which browsers send when they
 * reconnect, or ?last_event_id= for tools; the header wins), with
 * everything after it read from the store, then live.
 *
 * None missing, none twice: a stream has `next`, the lowest seq it has not
 * yet been given or passed over.  While it catches up, it reads the store
 * from `next` up to wd->last_seq, a bounded chunk per loop turn; live
 * notifications are ignored for it, since everything notified is at most
 * last_seq and committed, so the store holds it and the catch-up reaches
 * it.  Once `next` passes last_seq the stream is live: each committed
 * batch (sse_publish_batch, called where notify.c publishes it) gives it
 * the events from `next` on.  All of it runs on the loop thread, so there
 * is no moment between the two.
 *
 * Bounds: a catching-up stream reads more only when what it was sent has
 * drained below SSE_LOW_BYTES, and all of them read at most SSE_TURN_MAX
 * events per loop turn; a live stream whose unsent output passes
 * SSE_MAX_BYTES (a reader too slow for the event rate) is cut off and
 * counted (stats `sse_cut_off`), never buffered without end.  At most
 * SSE_MAX_CLIENTS streams; more are answered 503.  A comment line ": hb"
 * every SSE_HEARTBEAT_MS keeps proxies from closing quiet streams.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "daemon/log.h"
#include "daemon/wartad.h"
#include "daemon/xmalloc.h"

#define SSE_HEARTBEAT_MS	3000
#define SSE_MAX_CLIENTS		1024
#define SSE_MAX_BYTES		(4u << 20)	/* unsent output: cut off */
#define SSE_LOW_BYTES		(256u << 10)	/* catch-up refills below */
#define SSE_SCAN_MAX		2048	/* events read per stream per turn */
#define SSE_TURN_MAX		8192	/* events read per turn, all streams */
#define SSE_PREFIX_MAX		256
#define SSE_RETRY_MS		2000	/* the client's reconnect delay */

struct sse_client {
	TAILQ_ENTRY(sse_client)	 entry;
	struct sse		*sse;
	struct evhttp_request	*req;
	struct evhttp_connection *conn;
	char			 prefix[SSE_PREFIX_MAX + 1];
	size_t			 prefix_len;
	bool			 typed;		/* event: lines */
	uint64_t		 next;		/* lowest seq not yet handled */
	bool			 catching_up;
	bool			 waiting;	/* for its output to drain */
	bool			 dead;		/* cut off, closing */
};

struct sse {
	struct wartad		*wd;
	TAILQ_HEAD(, sse_client) clients;
	size_t			 n;
	struct event		*ev_hb;
	struct event		*ev_work;	/* a catch-up turn */
	struct evbuffer		*out;		/* being built for one stream */
};

/* Unsent bytes of a stream's connection. */
static size_t
sse_pending_bytes(const struct sse_client *c)
{
	struct bufferevent *bev;

	if (c->conn == NULL ||
	    (bev = evhttp_connection_get_bufferevent(c->conn)) == NULL)
		return 0;
	return evbuffer_get_length(bufferevent_get_output(bev));
}

/* A catching-up stream's output drained: read on. */
static void
sse_drained(struct evhttp_connection *conn, void *arg)
{
	struct sse_client *c = arg;

	if (c->waiting && !c->dead) {
		c->waiting = false;
		event_active(c->sse->ev_work, EV_TIMEOUT, 0);
	}
}

/* Send what is in sse->out to a stream. */
static void
sse_flush(struct sse_client *c)
{
	struct sse *sse = c->sse;

	if (evbuffer_get_length(sse->out) == 0 || c->dead)
		return;
	evhttp_send_reply_chunk_with_cb(c->req, sse->out, sse_drained, c);
	evbuffer_drain(sse->out, evbuffer_get_length(sse->out));
}

/* Cut a stream off (slow: a reader too slow, counted); its close
 * callback then frees it. */
static void
sse_cut_off(struct sse_client *c, bool slow, const char *why)
{
	struct bufferevent *bev;

	if (c->dead)
		return;
	c->dead = true;
	if (slow)
		c->sse->wd->st.sse_cut_off++;
	log_info("sse: stream cut off at seq %" PRIu64 ": %s", c->next, why);
	if (c->conn == NULL ||
	    (bev = evhttp_connection_get_bufferevent(c->conn)) == NULL)
		return;
	/* Fail the connection from its own (deferred) callback, so that
	   evhttp tears it down as it does for a vanished client. */
	shutdown(bufferevent_getfd(bev), SHUT_RDWR);
	bufferevent_trigger_event(bev, BEV_EVENT_EOF | BEV_EVENT_READING,
	    BEV_TRIG_DEFER_CALLBACKS);
}

/* Free a stream's state; the request is evhttp's or already freed. */
static void
sse_free(struct sse_client *c)
{
	struct sse *sse = c->sse;

	TAILQ_REMOVE(&sse->clients, c, entry);
	sse->n--;
	free(c);
}

/*
 * The connection closed (the client went, or was cut off).  A request
 * evhttp detached from its connection is ours to free, which
 * evhttp_send_reply_end() does; one still attached goes with it.
 */
static void
sse_closed(struct evhttp_connection *conn, void *arg)
{
	struct sse_client *c = arg;

	if (evhttp_request_get_connection(c->req) == NULL)
		evhttp_send_reply_end(c->req);
	log_debug("sse: stream closed at seq %" PRIu64, c->next);
	sse_free(c);
}

/* Append one event to sse->out. */
static void
sse_add_event(struct sse_client *c, uint64_t seq, const char *topic,
    size_t tlen, const char *json)
{
	evbuffer_add_printf(c->sse->out, "id: %" PRIu64 "\n", seq);
	if (c->typed)
		evbuffer_add_printf(c->sse->out, "event: %.*s\n", (int)tlen,
		    topic);
	evbuffer_add_printf(c->sse->out, "data: %s\n\n", json);
}

/* Whether a topic is in a stream's prefix. */
static bool
sse_matches(const struct sse_client *c, const char *topic, size_t tlen)
{
	return tlen >= c->prefix_len &&
	    memcmp(topic, c->prefix, c->prefix_len) == 0;
}

struct sse_scan {
	struct sse_client	*c;
	uint64_t		 last;		/* wd->last_seq */
	size_t			 scanned;
	size_t			 max;		/* this step's budget */
	bool			 stopped;
};

/* Catch-up: one stored event. */
static int
sse_scan_cb(void *arg, uint64_t seq, const uint8_t *body, size_t len)
{
	struct sse_scan *sc = arg;
	struct sse_client *c = sc->c;
	const char *topic;
	size_t tlen;
	char *json;

	/* Committed but not yet notified: the live path will give it. */
	if (seq > sc->last || sc->scanned >= sc->max ||
	    evbuffer_get_length(c->sse->out) >= SSE_LOW_BYTES) {
		sc->stopped = seq <= sc->last;
		return 1;
	}
	sc->scanned++;
	c->next = seq + 1;
	if (store_body_str(body, len, "topic", &topic, &tlen) == -1 ||
	    !sse_matches(c, topic, tlen) ||
	    (json = jsonmap_dumps(body, len)) == NULL)
		return 0;
	sse_add_event(c, seq, topic, tlen, json);
	free(json);
	return 0;
}

/* One catch-up step of a stream: a chunk of at most max events from the
 * store; returns the number read. */
static size_t
sse_catch_up(struct sse_client *c, size_t max)
{
	struct wartad *wd = c->sse->wd;
	struct sse_scan sc = { .c = c, .last = wd->last_seq, .max = max };
	char *cause = NULL;
	int rc;

	if (store_rd_begin(wd->store, &cause) == -1) {
		log_warnx("sse: %s", cause);
		free(cause);
		sse_cut_off(c, false, "the store cannot be read");
		return 0;
	}
	rc = store_rd_scan(wd->store, c->next, sse_scan_cb, &sc);
	store_rd_end(wd->store);
	if (rc != STORE_OK) {
		sse_cut_off(c, false, "the store cannot be read");
		return sc.scanned;
	}
	if (!sc.stopped)
		c->next = wd->last_seq + 1;	/* read to the end */
	c->catching_up = c->next <= wd->last_seq;
	sse_flush(c);
	if (c->catching_up && sse_pending_bytes(c) >= SSE_LOW_BYTES)
		c->waiting = true;
	return sc.scanned;
}

/*
 * A loop turn of catch-up for the streams that are behind, within one
 * budget for all of them; each stream served goes to the back of the
 * list, so that the next turn starts with the others.
 */
static void
sse_work(evutil_socket_t fd, short what, void *arg)
{
	struct sse *sse = arg;
	struct sse_client *c;
	size_t budget = SSE_TURN_MAX, n = sse->n;
	bool more = false;

	for (; n > 0 && budget > 0; n--) {
		c = TAILQ_FIRST(&sse->clients);
		TAILQ_REMOVE(&sse->clients, c, entry);
		TAILQ_INSERT_TAIL(&sse->clients, c, entry);
		if (!c->catching_up || c->waiting || c->dead)
			continue;
		budget -= sse_catch_up(c, budget < SSE_SCAN_MAX ? budget :
		    SSE_SCAN_MAX);
	}
	TAILQ_FOREACH(c, &sse->clients, entry)
		if (c->catching_up && !c->waiting && !c->dead)
			more = true;
	if (more)
		event_active(sse->ev_work, EV_TIMEOUT, 0);
}

/* Every SSE_HEARTBEAT_MS: a comment line on every stream. */
static void
sse_heartbeat(evutil_socket_t fd, short what, void *arg)
{
	struct sse *sse = arg;
	struct sse_client *c;

	TAILQ_FOREACH(c, &sse->clients, entry) {
		if (c->dead)
			continue;
		evbuffer_add(sse->out, ": hb\n\n", 6);
		sse_flush(c);
	}
}

/* Live: give every live stream the events of a committed batch. */
void
sse_publish_batch(struct wartad *wd, const struct batch *b)
{
	struct sse *sse = wd->sse;
	struct sse_client *c;
	char **json;

	if (sse == NULL || sse->n == 0 || b->nitems == 0)
		return;
	/* Each event's JSON is made once, for the first stream that takes
	   it. */
	json = xcalloc(b->nitems, sizeof *json);
	TAILQ_FOREACH(c, &sse->clients, entry) {
		if (c->catching_up || c->dead)
			continue;
		for (size_t i = 0; i < b->nitems; i++) {
			const struct store_item *it = &b->items[i];

			if (it->duplicate || it->seq < c->next)
				continue;
			c->next = it->seq + 1;
			if (!sse_matches(c, it->topic, it->topic_len))
				continue;
			if (json[i] == NULL && (json[i] = jsonmap_dumps(
			    (const uint8_t *)b->out.data + it->body_off,
			    it->body_len)) == NULL)
				continue;
			sse_add_event(c, it->seq, it->topic, it->topic_len,
			    json[i]);
			/* Checked per event: one batch may be large. */
			if (evbuffer_get_length(sse->out) +
			    sse_pending_bytes(c) > SSE_MAX_BYTES)
				break;
		}
		if (evbuffer_get_length(sse->out) + sse_pending_bytes(c) >
		    SSE_MAX_BYTES) {
			evbuffer_drain(sse->out, evbuffer_get_length(sse->out));
			sse_cut_off(c, true, "the client reads too slowly "
			    "(over 4 MiB unsent)");
			continue;
		}
		if (c->next <= wd->last_seq)
			c->next = wd->last_seq + 1;
		sse_flush(c);
	}
	for (size_t i = 0; i < b->nitems; i++)
		free(json[i]);
	free(json);
}

/* Parse a whole decimal seq; 0 or -1. */
static int
sse_parse_seq(const char *s, uint64_t *v)
{
	char *end;
	unsigned long long n;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	n = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*v = n;
	return 0;
}

/* Read the stream's options from its query and headers; 0 or -1 after
 * answering 400. */
static int
sse_options(struct evhttp_request *req, struct sse_client *c, bool *has_id,
    uint64_t *id)
{
	const char *q = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(
	    req));
	const char *h = evhttp_find_header(evhttp_request_get_input_headers(
	    req), "Last-Event-ID");
	struct evkeyvalq kv;
	struct evkeyval *e;
	int rc = -1;

	TAILQ_INIT(&kv);
	c->typed = true;
	*has_id = false;
	if (q != NULL && evhttp_parse_query_str(q, &kv) == -1) {
		http_json_error(req, "bad_request", "query: malformed");
		goto out;
	}
	TAILQ_FOREACH(e, &kv, next) {
		if (strcmp(e->key, "prefix") == 0) {
			if (strlen(e->value) > SSE_PREFIX_MAX) {
				http_json_error(req, "bad_request", "prefix: "
				    "longer than %d bytes", SSE_PREFIX_MAX);
				goto out;
			}
			c->prefix_len = strlen(e->value);
			memcpy(c->prefix, e->value, c->prefix_len + 1);
		} else if (strcmp(e->key, "last_event_id") == 0) {
			if (sse_parse_seq(e->value, id) == -1) {
				http_json_error(req, "bad_request",
				    "last_event_id: not a seq");
				goto out;
			}
			*has_id = true;
		} else if (strcmp(e->key, "typed") == 0 &&
		    (strcmp(e->value, "0") == 0 || strcmp(e->value, "1") == 0))
			c->typed = e->value[0] == '1';
		else {
			http_json_error(req, "bad_request", "query: only "
			    "prefix, last_event_id and typed=0|1 are known");
			goto out;
		}
	}
	/* The header is what a reconnecting browser sends: it wins. */
	if (h != NULL && *h != '\0') {
		if (sse_parse_seq(h, id) == -1) {
			http_json_error(req, "bad_request", "Last-Event-ID: "
			    "not a seq");
			goto out;
		}
		*has_id = true;
	}
	rc = 0;
out:
	evhttp_clear_headers(&kv);
	return rc;
}

/* GET /v1/stream: start a stream. */
void
sse_request(struct wartad *wd, struct evhttp_request *req)
{
	struct sse *sse = wd->sse;
	struct sse_client *c;
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	bool has_id;
	uint64_t id = 0;

	if (sse->n >= SSE_MAX_CLIENTS) {
		http_json_error(req, "unavailable", "too many streams (%d)",
		    SSE_MAX_CLIENTS);
		return;
	}
	c = xcalloc(1, sizeof *c);
	c->sse = sse;
	c->req = req;
	if (sse_options(req, c, &has_id, &id) == -1 || wd->stopping) {
		if (wd->stopping)
			http_json_error(req, "unavailable", "stopping");
		free(c);
		return;
	}
	c->next = has_id ? (id == UINT64_MAX ? id : id + 1) :
	    wd->last_seq + 1;
	c->catching_up = c->next <= wd->last_seq;
	TAILQ_INSERT_TAIL(&sse->clients, c, entry);
	sse->n++;

	evhttp_add_header(h, "Content-Type", "text/event-stream");
	evhttp_add_header(h, "Cache-Control", "no-store");
	evhttp_add_header(h, "X-Accel-Buffering", "no");
	evhttp_send_reply_start(req, HTTP_OK, "OK");
	c->conn = evhttp_request_get_connection(req);
	evhttp_connection_set_closecb(c->conn, sse_closed, c);
	evbuffer_add_printf(sse->out, "retry: %d\n: warta stream from seq %"
	    PRIu64 "\n\n", SSE_RETRY_MS, c->next);
	sse_flush(c);
	if (c->catching_up)
		event_active(sse->ev_work, EV_TIMEOUT, 0);
}

/* The number of open streams. */
size_t
sse_clients(const struct wartad *wd)
{
	return wd->sse ? wd->sse->n : 0;
}

/* Set up streaming (with the HTTP listener). */
void
sse_open(struct wartad *wd)
{
	struct sse *sse = xcalloc(1, sizeof *sse);
	struct timeval tv = { SSE_HEARTBEAT_MS / 1000,
	    (SSE_HEARTBEAT_MS % 1000) * 1000 };

	sse->wd = wd;
	TAILQ_INIT(&sse->clients);
	if ((sse->out = evbuffer_new()) == NULL)
		fatalx("sse: out of memory");
	sse->ev_hb = event_new(wd->base, -1, EV_PERSIST, sse_heartbeat, sse);
	sse->ev_work = event_new(wd->base, -1, 0, sse_work, sse);
	event_add(sse->ev_hb, &tv);
	wd->sse = sse;
}

/* End every stream, before evhttp_free() closes their connections. */
void
sse_close(struct wartad *wd)
{
	struct sse *sse = wd->sse;
	struct sse_client *c;

	if (sse == NULL)
		return;
	while ((c = TAILQ_FIRST(&sse->clients)) != NULL) {
		if (evhttp_request_get_connection(c->req) != NULL)
			evhttp_connection_set_closecb(c->conn, NULL, NULL);
		evhttp_send_reply_end(c->req);
		sse_free(c);
	}
	event_free(sse->ev_hb);
	event_free(sse->ev_work);
	evbuffer_free(sse->out);
	free(sse);
	wd->sse = NULL;
}
