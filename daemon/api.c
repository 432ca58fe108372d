/*
 * api.c — the api ROUTER socket (PROTOCOL.md section 5).
 *
 * A request is one frame after the envelope (REQ adds the empty delimiter;
 * DEALER clients send it themselves).  Replies to one client must come back
 * in the order of its requests, since a pipelining DEALER matches them by
 * order.  So while anything waits for a commit, every reply queues behind
 * it in the filling batch: acks after their commit, reads run after it (and
 * so see everything read before them), errors sent in turn.  With nothing
 * pending, reads are answered at once.
 *
 * Reads use one short LMDB read transaction per request, never held across
 * loop turns.  Sends never block: a reply for a vanished client, or one whose
 * queue is at its high water mark, is dropped and counted (ROUTER with
 * ZMQ_ROUTER_MANDATORY and ZMQ_DONTWAIT), never waited on.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <event2/event.h>
#include <zmq.h>

#include "daemon/log.h"
#include "daemon/wartad.h"
#include "daemon/xmalloc.h"
#include "handlers/handlers.h"
#include "schema/mp.h"

#define API_MAX_FRAMES		32
#define API_MAX_KEYS		16
#define API_REQ_DEPTH		64	/* the event inside is checked at 16 */
#define API_HISTORY_MAX		10000
#define API_LIST_DEFAULT	100
#define API_LIST_MAX		1000
#define API_REPLAY_DEFAULT	1000
#define API_REPLAY_MAX		10000
#define API_REJECTS_DEFAULT	100
#define API_REJECTS_MAX		1000

struct api_kv {
	const char	*key;
	uint32_t	 klen;
	struct mp_obj	 v;
	const uint8_t	*vstart;
	size_t		 vlen;
};

struct api_req {
	struct api_kv	 kv[API_MAX_KEYS];
	int		 nkv;
};

struct api_op {
	const char	*name;
	const char	*keys[6];	/* allowed keys besides op */
	void		(*run)(struct wartad *, struct api_req *,
			    msgpack_packer *);
	enum clients_role role;		/* needed under CURVE */
};

static void	api_ping(struct wartad *, struct api_req *, msgpack_packer *);
static void	api_get(struct wartad *, struct api_req *, msgpack_packer *);
static void	api_list(struct wartad *, struct api_req *, msgpack_packer *);
static void	api_replay(struct wartad *, struct api_req *, msgpack_packer *);
static void	api_stats(struct wartad *, struct api_req *, msgpack_packer *);
static void	api_rejects(struct wartad *, struct api_req *,
		    msgpack_packer *);

/* publish has no run function: it goes through the batch.  The role is
 * what a CURVE client's key needs (section 8); admin may do everything. */
static const struct api_op api_ops[] = {
	{ "ping",	{ NULL },			api_ping,
	  CLIENTS_SUBSCRIBER },
	{ "publish",	{ "topic", "event", NULL },	NULL,
	  CLIENTS_PUBLISHER },
	{ "get",	{ "type", "id", NULL },		api_get,
	  CLIENTS_SUBSCRIBER },
	{ "list",	{ "type", "country", "from", "to", "limit", NULL },
							api_list,
	  CLIENTS_SUBSCRIBER },
	{ "replay",	{ "from_seq", "prefix", "limit", NULL }, api_replay,
	  CLIENTS_SUBSCRIBER },
	{ "stats",	{ NULL },			api_stats,
	  CLIENTS_ADMIN },
	{ "rejects",	{ "from", "limit", NULL },	api_rejects,
	  CLIENTS_ADMIN },
};

/* Loop-thread buffers: the envelope being handled, and reply items. */
static msgpack_sbuffer api_env;
static msgpack_sbuffer api_items;

/* Pack a string. */
static void
api_pack_str(msgpack_packer *pk, const char *s)
{
	msgpack_pack_str_with_body(pk, s, strlen(s));
}

/* Start a failure reply: {ok: false, error, detail}. */
static void
api_fail(msgpack_packer *pk, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
api_fail(msgpack_packer *pk, const char *code, const char *fmt, ...)
{
	char detail[512], clean[3 * sizeof detail];
	size_t len;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof detail, fmt, ap);
	va_end(ap);
	/* A detail quotes the request, which may hold any bytes, and may be
	   cut inside a character: clients decode it as a string, and print
	   it as one line. */
	len = mp_utf8_clean((const uint8_t *)detail, strlen(detail), clean);
	for (size_t i = 0; i < len; i++)
		if ((uint8_t)clean[i] < 0x20 || clean[i] == 0x7f)
			clean[i] = '?';
	((msgpack_sbuffer *)pk->data)->size = 0;
	msgpack_pack_map(pk, 3);
	api_pack_str(pk, "ok");
	msgpack_pack_false(pk);
	api_pack_str(pk, "error");
	api_pack_str(pk, code);
	api_pack_str(pk, "detail");
	msgpack_pack_str_with_body(pk, clean, len);
}

/* Send the envelope in api_env-format (u32 length, bytes; repeated) and
 * one reply frame. */
static void
api_send(struct wartad *wd, const uint8_t *env, size_t env_len,
    const void *reply, size_t reply_len)
{
	size_t off = 0;

	while (off + 4 <= env_len) {
		uint32_t len;

		memcpy(&len, env + off, 4);
		off += 4;
		if (wartad_zsend(wd->api, env + off, len,
		    ZMQ_SNDMORE | ZMQ_DONTWAIT) == -1)
			goto dropped;
		off += len;
	}
	if (wartad_zsend(wd->api, reply, reply_len, ZMQ_DONTWAIT) == -1)
		goto dropped;
	return;
dropped:
	wd->st.api_dropped++;
	log_debug("api: reply dropped: %s", zmq_strerror(errno));
}

/* Find a request key. */
static const struct api_kv *
api_arg(const struct api_req *req, const char *key)
{
	for (int i = 0; i < req->nkv; i++)
		if (req->kv[i].klen == strlen(key) &&
		    memcmp(req->kv[i].key, key, req->kv[i].klen) == 0)
			return &req->kv[i];
	return NULL;
}

/* An optional integer argument; -1 after packing bad_request. */
static int
api_arg_int(const struct api_req *req, const char *key, int64_t def,
    int64_t min, int64_t *out, msgpack_packer *pk)
{
	const struct api_kv *kv = api_arg(req, key);

	*out = def;
	if (kv == NULL)
		return 0;
	if (kv->v.type == MP_UINT && kv->v.v.u <= INT64_MAX)
		*out = (int64_t)kv->v.v.u;
	else if (kv->v.type == MP_INT)
		*out = kv->v.v.i;
	else {
		api_fail(pk, "bad_request", "%s: %s is not an integer", key,
		    mp_type_name(kv->v.type));
		return -1;
	}
	if (*out < min) {
		api_fail(pk, "bad_request", "%s: %" PRId64 " is below the "
		    "minimum of %" PRId64, key, *out, min);
		return -1;
	}
	return 0;
}

/* An optional string argument; -1 after packing bad_request. */
static int
api_arg_str(const struct api_req *req, const char *key, bool required,
    const char **s, size_t *len, msgpack_packer *pk)
{
	const struct api_kv *kv = api_arg(req, key);

	*s = NULL;
	*len = 0;
	if (kv == NULL) {
		if (!required)
			return 0;
		api_fail(pk, "bad_request", "%s: missing", key);
		return -1;
	}
	if (kv->v.type != MP_STR) {
		api_fail(pk, "bad_request", "%s: %s is not a string", key,
		    mp_type_name(kv->v.type));
		return -1;
	}
	*s = kv->v.v.str.ptr;
	*len = kv->v.v.str.len;
	return 0;
}

/* The limit argument: default, < 1 refused, above max lowered. */
static int
api_arg_limit(const struct api_req *req, int64_t def, int64_t max,
    int64_t *out, msgpack_packer *pk)
{
	const struct api_kv *kv = api_arg(req, "limit");

	if (api_arg_int(req, "limit", def, INT64_MIN, out, pk) == -1)
		return -1;
	if (kv != NULL && *out < 1) {
		api_fail(pk, "bad_request", "limit: %" PRId64 " is below the "
		    "minimum of 1", *out);
		return -1;
	}
	if (*out > max)
		*out = max;
	return 0;
}

/* The type argument, which must name a known type. */
static const struct handler *
api_arg_type(const struct api_req *req, msgpack_packer *pk)
{
	const struct handler *h;
	const char *s;
	size_t len;

	if (api_arg_str(req, "type", true, &s, &len, pk) == -1)
		return NULL;
	if ((h = handlers_find(s, len)) == NULL)
		api_fail(pk, "bad_request", "type: '%.*s' is not one of "
		    "meeting, training, attache", (int)(len > 64 ? 64 : len), s);
	return h;
}

/* Begin a read, or pack unavailable. */
static int
api_rd_begin(struct wartad *wd, msgpack_packer *pk)
{
	char *cause = NULL;

	if (store_rd_begin(wd->store, &cause) == -1) {
		api_fail(pk, "unavailable", "%s", cause);
		free(cause);
		return -1;
	}
	return 0;
}

/* Pack the failure for a store read status. */
static void
api_rd_fail(msgpack_packer *pk, int status, const char *what)
{
	if (status == STORE_CORRUPT)
		api_fail(pk, "unavailable", "%s: a stored record fails its "
		    "checksum; the store is damaged (see the daemon's log)",
		    what);
	else
		api_fail(pk, "unavailable", "%s: the store cannot be read",
		    what);
}

/* ping: version, last_seq, uptime_s. */
static void
api_ping(struct wartad *wd, struct api_req *req, msgpack_packer *pk)
{
	msgpack_pack_map(pk, 4);
	api_pack_str(pk, "ok");
	msgpack_pack_true(pk);
	api_pack_str(pk, "version");
	api_pack_str(pk, WARTA_VERSION);
	api_pack_str(pk, "last_seq");
	msgpack_pack_uint64(pk, wd->last_seq);
	api_pack_str(pk, "uptime_s");
	msgpack_pack_int64(pk, (wartad_now_ms() - wd->started_ms) / 1000);
}

struct api_history {
	msgpack_packer	 pk;		/* into api_items */
	size_t		 n;
};

/* Collect history seqs into api_items. */
static int
api_history_cb(void *arg, uint64_t seq)
{
	struct api_history *hist = arg;

	msgpack_pack_uint64(&hist->pk, seq);
	hist->n++;
	return 0;
}

/* get: the latest event of (type, id) and its history. */
static void
api_get(struct wartad *wd, struct api_req *req, msgpack_packer *pk)
{
	const struct handler *h;
	const char *id;
	size_t id_len, blen, elen;
	const uint8_t *body, *ev;
	uint64_t seq;
	struct api_history hist = { .n = 0 };
	bool truncated;
	int rc;

	if ((h = api_arg_type(req, pk)) == NULL ||
	    api_arg_str(req, "id", true, &id, &id_len, pk) == -1 ||
	    api_rd_begin(wd, pk) == -1)
		return;
	rc = store_rd_latest(wd->store, h->type, id, id_len, &seq);
	if (rc == STORE_NOTFOUND) {
		api_fail(pk, "not_found", "%s '%.*s' not found", h->type,
		    (int)(id_len > 64 ? 64 : id_len), id);
		goto out;
	}
	if (rc == STORE_OK)
		rc = store_rd_event(wd->store, seq, &body, &blen);
	if (rc == STORE_OK && store_body_field(body, blen, "event", &ev,
	    &elen) == -1)
		rc = STORE_CORRUPT;
	if (rc != STORE_OK) {
		api_rd_fail(pk, rc, "get");
		goto out;
	}
	api_items.size = 0;
	msgpack_packer_init(&hist.pk, &api_items, msgpack_sbuffer_write);
	rc = store_rd_history(wd->store, h->type, id, id_len, API_HISTORY_MAX,
	    api_history_cb, &hist, &truncated);
	if (rc != STORE_OK && rc != STORE_NOTFOUND) {
		api_rd_fail(pk, rc, "get");
		goto out;
	}
	msgpack_pack_map(pk, truncated ? 5 : 4);
	api_pack_str(pk, "ok");
	msgpack_pack_true(pk);
	api_pack_str(pk, "seq");
	msgpack_pack_uint64(pk, seq);
	api_pack_str(pk, "event");
	msgpack_sbuffer_write(pk->data, (const char *)ev, elen);
	api_pack_str(pk, "history");
	msgpack_pack_array(pk, hist.n);
	msgpack_sbuffer_write(pk->data, api_items.data, api_items.size);
	if (truncated) {
		api_pack_str(pk, "history_truncated");
		msgpack_pack_true(pk);
	}
out:
	store_rd_end(wd->store);
}

struct api_collect {
	size_t		 n;
	size_t		 limit;
	uint64_t	 scanned;
	uint64_t	 max_scan;
	uint64_t	 last;		/* last key scanned */
	const char	*prefix;
	size_t		 prefix_len;
	bool		 truncated;	/* stopped by WARTA_REPLY_MAX */
};

/* Append a body to api_items, within the reply byte cap. */
static int
api_collect_body(struct api_collect *c, const uint8_t *body, size_t len)
{
	if (c->n > 0 && api_items.size + len > WARTA_REPLY_MAX) {
		c->truncated = true;
		return 1;
	}
	msgpack_sbuffer_write(&api_items, (const char *)body, len);
	c->n++;
	return 0;
}

/* list callback. */
static int
api_list_cb(void *arg, uint64_t seq, const uint8_t *body, size_t len)
{
	struct api_collect *c = arg;

	if (api_collect_body(c, body, len) != 0)
		return 1;
	return c->n >= c->limit;
}

/* list: the latest events of a type's entities, by time. */
static void
api_list(struct wartad *wd, struct api_req *req, msgpack_packer *pk)
{
	const struct handler *h;
	const char *cc;
	size_t cclen;
	int64_t from, to, limit;
	struct api_collect c = { 0 };
	char country[3];
	uint64_t lag;
	int rc;

	if ((h = api_arg_type(req, pk)) == NULL ||
	    api_arg_str(req, "country", false, &cc, &cclen, pk) == -1 ||
	    api_arg_int(req, "from", INT64_MIN, INT64_MIN, &from, pk) == -1 ||
	    api_arg_int(req, "to", INT64_MAX, INT64_MIN, &to, pk) == -1 ||
	    api_arg_limit(req, API_LIST_DEFAULT, API_LIST_MAX, &limit, pk) == -1)
		return;
	if (cc != NULL && !schema_country_valid(cc, cclen)) {
		api_fail(pk, "bad_request", "country: '%.*s' is not an "
		    "ISO 3166-1 alpha-2 code", (int)(cclen > 8 ? 8 : cclen), cc);
		return;
	}
	if (cc != NULL) {
		memcpy(country, cc, 2);
		country[2] = '\0';
	}
	if (api_rd_begin(wd, pk) == -1)
		return;
	if ((lag = store_rd_lag(wd->store)) > 0) {
		/* The indexes could not be written (store.c): the time
		   index cannot answer for the newest events. */
		api_fail(pk, "unavailable", "list: the time index is %" PRIu64
		    " events behind the log and cannot be brought up to date "
		    "(the store cannot take writes); get and replay still "
		    "answer", lag);
		store_rd_end(wd->store);
		return;
	}
	api_items.size = 0;
	c.limit = (size_t)limit;
	rc = from > to ? STORE_OK : store_rd_list(wd->store, h->type,
	    cc ? country : NULL, from, to, api_list_cb, &c);
	if (rc != STORE_OK)
		api_rd_fail(pk, rc, "list");
	else {
		msgpack_pack_map(pk, c.truncated ? 3 : 2);
		api_pack_str(pk, "ok");
		msgpack_pack_true(pk);
		api_pack_str(pk, "items");
		msgpack_pack_array(pk, c.n);
		msgpack_sbuffer_write(pk->data, api_items.data, api_items.size);
		if (c.truncated) {
			api_pack_str(pk, "truncated");
			msgpack_pack_true(pk);
		}
	}
	store_rd_end(wd->store);
}

/* Whether a body's topic starts with prefix (replay, SSE, webhooks). */
bool
api_topic_matches(const uint8_t *body, size_t len, const char *prefix,
    size_t plen)
{
	const char *topic;
	size_t tlen;

	if (plen == 0)
		return true;
	return store_body_str(body, len, "topic", &topic, &tlen) == 0 &&
	    tlen >= plen && memcmp(topic, prefix, plen) == 0;
}

/* replay callback: scan at most max_scan events, keep those matching. */
static int
api_replay_cb(void *arg, uint64_t seq, const uint8_t *body, size_t len)
{
	struct api_collect *c = arg;

	if (api_topic_matches(body, len, c->prefix, c->prefix_len) &&
	    api_collect_body(c, body, len) != 0)
		return 1;
	c->scanned++;
	c->last = seq;
	return c->n >= c->limit || c->scanned >= c->max_scan;
}

/* replay: pages of notification bodies by seq (section 10, Paging). */
static void
api_replay(struct wartad *wd, struct api_req *req, msgpack_packer *pk)
{
	int64_t from, limit;
	uint64_t first, last, count, start;
	struct api_collect c = { 0 };
	int rc;

	if (api_arg_int(req, "from_seq", 1, 0, &from, pk) == -1 ||
	    api_arg_str(req, "prefix", false, &c.prefix, &c.prefix_len,
	    pk) == -1 ||
	    api_arg_limit(req, API_REPLAY_DEFAULT, API_REPLAY_MAX, &limit,
	    pk) == -1 ||
	    api_rd_begin(wd, pk) == -1)
		return;
	store_rd_range(wd->store, &first, &last, &count);
	start = (uint64_t)from < first ? first : (uint64_t)from;
	api_items.size = 0;
	c.limit = (size_t)limit;
	c.max_scan = (uint64_t)limit * 100;
	rc = start > last ? STORE_OK :
	    store_rd_scan(wd->store, start, api_replay_cb, &c);
	if (rc != STORE_OK)
		api_rd_fail(pk, rc, "replay");
	else {
		/* The small keys first: a client paging through can read
		   next_seq and ask for the next page before it walks the
		   items of this one. */
		msgpack_pack_map(pk, c.truncated ? 6 : 5);
		api_pack_str(pk, "ok");
		msgpack_pack_true(pk);
		api_pack_str(pk, "next_seq");
		msgpack_pack_uint64(pk, c.scanned ? c.last + 1 : start);
		api_pack_str(pk, "last_seq");
		msgpack_pack_uint64(pk, last);
		api_pack_str(pk, "first_seq");
		msgpack_pack_uint64(pk, first);
		if (c.truncated) {
			api_pack_str(pk, "truncated");
			msgpack_pack_true(pk);
		}
		api_pack_str(pk, "items");
		msgpack_pack_array(pk, c.n);
		msgpack_sbuffer_write(pk->data, api_items.data, api_items.size);
	}
	store_rd_end(wd->store);
}

/* stats: the counters of section 10. */
static void
api_stats(struct wartad *wd, struct api_req *req, msgpack_packer *pk)
{
	uint64_t first, last, count, db_bytes, map_bytes;

	if (api_rd_begin(wd, pk) == -1)
		return;
	store_rd_range(wd->store, &first, &last, &count);
	store_rd_end(wd->store);
	store_sizes(wd->store, &db_bytes, &map_bytes);

	msgpack_pack_map(pk, 20);
	api_pack_str(pk, "ok");
	msgpack_pack_true(pk);
	api_pack_str(pk, "received");
	msgpack_pack_uint64(pk, wd->st.received);
	api_pack_str(pk, "stored");
	msgpack_pack_uint64(pk, count);
	api_pack_str(pk, "duplicates");
	msgpack_pack_uint64(pk, wd->st.duplicates);
	api_pack_str(pk, "rejected");
	msgpack_pack_map(pk, REASON_COUNT);
	for (int r = 0; r < REASON_COUNT; r++) {
		api_pack_str(pk, schema_reason_name(r));
		msgpack_pack_uint64(pk, wd->st.rejected[r]);
	}
	api_pack_str(pk, "last_seq");
	msgpack_pack_uint64(pk, wd->last_seq);
	api_pack_str(pk, "first_seq");
	msgpack_pack_uint64(pk, first);
	api_pack_str(pk, "indexed_seq");
	msgpack_pack_uint64(pk, wd->indexed_seq);
	api_pack_str(pk, "subscribers");
	msgpack_pack_int64(pk, wd->subscribers);
	api_pack_str(pk, "db_bytes");
	msgpack_pack_uint64(pk, db_bytes);
	api_pack_str(pk, "map_bytes");
	msgpack_pack_uint64(pk, map_bytes);
	api_pack_str(pk, "notified");
	msgpack_pack_uint64(pk, wd->st.notified);
	api_pack_str(pk, "notify_overflows");
	msgpack_pack_uint64(pk, wd->st.notify_overflows);
	api_pack_str(pk, "commits");
	msgpack_pack_uint64(pk, wd->st.commits);
	api_pack_str(pk, "corrupt");
	msgpack_pack_uint64(pk, store_corrupt_count(wd->store));
	api_pack_str(pk, "api_dropped");
	msgpack_pack_uint64(pk, wd->st.api_dropped);
	api_pack_str(pk, "auth_refused");
	msgpack_pack_uint64(pk, wd->st.auth_refused);
	api_pack_str(pk, "writable");
	if (store_full(wd->store))
		msgpack_pack_false(pk);
	else
		msgpack_pack_true(pk);
	api_pack_str(pk, "sse_cut_off");
	msgpack_pack_uint64(pk, wd->st.sse_cut_off);
	api_pack_str(pk, "webhooks");
	msgpack_pack_map(pk, webhook_count(wd));
	for (size_t i = 0; i < webhook_count(wd); i++) {
		struct webhook_info wi;

		webhook_get_info(wd, i, &wi);
		api_pack_str(pk, wi.name);
		msgpack_pack_map(pk, 4);
		api_pack_str(pk, "cursor");
		msgpack_pack_uint64(pk, wi.cursor);
		api_pack_str(pk, "lag");
		msgpack_pack_uint64(pk, wi.lag);
		api_pack_str(pk, "failures");
		msgpack_pack_uint64(pk, wi.failures);
		api_pack_str(pk, "delivered");
		msgpack_pack_uint64(pk, wi.delivered);
	}
}

/* rejects callback. */
static int
api_rejects_cb(void *arg, uint64_t n, const uint8_t *item, size_t len)
{
	struct api_collect *c = arg;

	if (api_collect_body(c, item, len) != 0)
		return 1;
	return c->n >= c->limit;
}

/* rejects: kept rejected ingest messages from n on. */
static void
api_rejects(struct wartad *wd, struct api_req *req, msgpack_packer *pk)
{
	int64_t from, limit;
	struct api_collect c = { 0 };
	int rc;

	if (api_arg_int(req, "from", 1, 0, &from, pk) == -1 ||
	    api_arg_limit(req, API_REJECTS_DEFAULT, API_REJECTS_MAX, &limit,
	    pk) == -1 ||
	    api_rd_begin(wd, pk) == -1)
		return;
	api_items.size = 0;
	c.limit = (size_t)limit;
	rc = store_rd_rejects(wd->store, (uint64_t)from, api_rejects_cb, &c);
	if (rc != STORE_OK)
		api_rd_fail(pk, rc, "rejects");
	else {
		msgpack_pack_map(pk, 2);
		api_pack_str(pk, "ok");
		msgpack_pack_true(pk);
		api_pack_str(pk, "items");
		msgpack_pack_array(pk, c.n);
		msgpack_sbuffer_write(pk->data, api_items.data, api_items.size);
	}
	store_rd_end(wd->store);
}

/*
 * Parse a request into its keys and find its op; NULL after packing
 * bad_request.
 */
static const struct api_op *
api_parse(const uint8_t *buf, size_t len, struct api_req *req,
    msgpack_packer *pk)
{
	const struct api_op *op = NULL;
	const struct api_kv *kv;
	struct mp_reader r;
	struct mp_obj o;
	enum mp_check_result res;

	if ((res = mp_check(buf, len, API_REQ_DEPTH)) != MP_OK) {
		api_fail(pk, "bad_request", "request: not MessagePack (%s)",
		    mp_check_str(res));
		return NULL;
	}
	mp_reader_init(&r, buf, len);
	mp_read(&r, &o);
	if (o.type != MP_MAP) {
		api_fail(pk, "bad_request", "request: %s is not a map",
		    mp_type_name(o.type));
		return NULL;
	}
	if (o.v.n > API_MAX_KEYS) {
		api_fail(pk, "bad_request", "request: %u keys, the limit is %d",
		    o.v.n, API_MAX_KEYS);
		return NULL;
	}
	req->nkv = 0;
	for (uint32_t i = 0; i < o.v.n; i++) {
		struct api_kv *k = &req->kv[req->nkv];
		struct mp_obj key;

		mp_read(&r, &key);
		if (key.type != MP_STR) {
			api_fail(pk, "bad_request", "request: a key is a %s, "
			    "keys are strings", mp_type_name(key.type));
			return NULL;
		}
		k->key = key.v.str.ptr;
		k->klen = key.v.str.len;
		k->vstart = r.p;
		mp_read(&r, &k->v);
		r.p = k->vstart;
		mp_skip(&r);
		k->vlen = (size_t)(r.p - k->vstart);
		for (int j = 0; j < req->nkv; j++)
			if (req->kv[j].klen == k->klen &&
			    memcmp(req->kv[j].key, k->key, k->klen) == 0) {
				api_fail(pk, "bad_request", "%.*s: given twice",
				    (int)(k->klen > 64 ? 64 : k->klen), k->key);
				return NULL;
			}
		req->nkv++;
	}
	if ((kv = api_arg(req, "op")) == NULL) {
		api_fail(pk, "bad_request", "op: missing");
		return NULL;
	}
	if (kv->v.type != MP_STR) {
		api_fail(pk, "bad_request", "op: %s is not a string",
		    mp_type_name(kv->v.type));
		return NULL;
	}
	for (size_t i = 0; i < sizeof api_ops / sizeof api_ops[0]; i++)
		if (mp_str_eq(&kv->v, api_ops[i].name))
			op = &api_ops[i];
	if (op == NULL) {
		api_fail(pk, "bad_request", "op: '%.*s' is not one of ping, "
		    "publish, get, list, replay, stats, rejects",
		    (int)(kv->v.v.str.len > 32 ? 32 : kv->v.v.str.len),
		    kv->v.v.str.ptr);
		return NULL;
	}
	for (int i = 0; i < req->nkv; i++) {
		bool known = req->kv[i].klen == 2 &&
		    memcmp(req->kv[i].key, "op", 2) == 0;

		for (int j = 0; !known && op->keys[j] != NULL; j++)
			known = req->kv[i].klen == strlen(op->keys[j]) &&
			    memcmp(req->kv[i].key, op->keys[j],
			    req->kv[i].klen) == 0;
		if (!known) {
			api_fail(pk, "bad_request", "%.*s: unknown key for "
			    "op %s", (int)(req->kv[i].klen > 64 ? 64 :
			    req->kv[i].klen), req->kv[i].key, op->name);
			return NULL;
		}
	}
	return op;
}

/* Parse a request as api_handle() does, without a socket or a store (the
 * fuzz target tests/fuzz/fuzz_api.c): the op's name, or NULL with the
 * bad_request reply packed into *out. */
const char *
api_parse_request(const uint8_t *buf, size_t len, msgpack_sbuffer *out)
{
	struct api_req req;
	const struct api_op *op;
	msgpack_packer pk;

	msgpack_packer_init(&pk, out, msgpack_sbuffer_write);
	op = api_parse(buf, len, &req, &pk);
	return op != NULL ? op->name : NULL;
}

/*
 * Validate an event (MessagePack) for topic and add it to the batch: 0
 * with *item its index, or -1 after packing the failure, counted under
 * its reason.  The api's publish and HTTP's POST /v1/events/{type} share
 * it; the caller counts the request as received.
 */
int
api_publish_event(struct wartad *wd, const char *topic, size_t tlen,
    const uint8_t *evbuf, size_t evlen, msgpack_packer *pk, long *item)
{
	const struct handler *h;
	struct schema_err err;
	struct event ev;
	int64_t now = wartad_now_ms();

	if ((h = handlers_find(topic, tlen)) == NULL) {
		wd->st.rejected[REASON_TOPIC]++;
		api_fail(pk, "invalid", "topic: '%.*s' is not one of meeting, "
		    "training, attache", (int)(tlen > 64 ? 64 : tlen), topic);
		return -1;
	}
	if (evlen > wd->cfg->max_event_bytes) {
		wd->st.rejected[REASON_TOO_LARGE]++;
		api_fail(pk, "too_large", "event: %zu bytes is over "
		    "max_event_bytes %" PRIu64, evlen,
		    wd->cfg->max_event_bytes);
		return -1;
	}
	if (schema_decode_event(h, evbuf, evlen, now, &ev, &err) == -1) {
		wd->st.rejected[err.reason]++;
		api_fail(pk, "invalid", "%s", err.detail);
		return -1;
	}
	batch_add_item(wd, &ev, now);
	*item = (long)wd->fill->nitems - 1;
	return 0;
}

/*
 * publish: validate the event; 0 when it joined the batch, -1 after
 * packing the failure.  Failures are counted under their reasons.
 */
static int
api_publish(struct wartad *wd, struct api_req *req, msgpack_packer *pk,
    long *item)
{
	const struct api_kv *ev_kv;
	const char *topic;
	size_t tlen;

	wd->st.received++;
	if (api_arg_str(req, "topic", true, &topic, &tlen, pk) == -1)
		return -1;
	if ((ev_kv = api_arg(req, "event")) == NULL) {
		api_fail(pk, "bad_request", "event: missing");
		return -1;
	}
	return api_publish_event(wd, topic, tlen, ev_kv->vstart, ev_kv->vlen,
	    pk, item);
}

/* Run a read op (a request map) and pack its reply into sb; the HTTP
 * queries run through here too, so both answer alike. */
void
api_exec(struct wartad *wd, const uint8_t *buf, size_t len,
    msgpack_sbuffer *sb)
{
	struct api_req req;
	const struct api_op *op;
	msgpack_packer pk;

	sb->size = 0;
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	if ((op = api_parse(buf, len, &req, &pk)) == NULL)
		return;
	if (op->run != NULL)
		op->run(wd, &req, &pk);
	else
		api_fail(&pk, "bad_request", "op: %s is not a read", op->name);
}

/* Run a read op now and send its reply. */
static void
api_run(struct wartad *wd, const uint8_t *env, size_t env_len,
    const uint8_t *buf, size_t len)
{
	api_exec(wd, buf, len, &wd->reply);
	api_send(wd, env, env_len, wd->reply.data, wd->reply.size);
}

/*
 * Handle one request from a key of role (CLIENTS_ADMIN without CURVE):
 * an op the role does not allow answers forbidden; publish joins the
 * batch; replies are sent now or queued behind pending work, keeping each
 * client's order.
 */
static void
api_handle(struct wartad *wd, const uint8_t *env, size_t env_len,
    const uint8_t *buf, size_t len, enum clients_role role)
{
	struct api_req req;
	const struct api_op *op = NULL;
	struct batch *b = wd->fill;
	struct pending *p;
	msgpack_packer pk;
	long item = -1;

	wd->st.api_requests++;
	wd->reply.size = 0;
	msgpack_packer_init(&pk, &wd->reply, msgpack_sbuffer_write);
	if (len > wd->cfg->max_event_bytes + 1024) {
		wd->st.rejected[REASON_TOO_LARGE]++;
		api_fail(&pk, "too_large", "request: %zu bytes is over the "
		    "limit of %" PRIu64 " (max_event_bytes + 1024)", len,
		    wd->cfg->max_event_bytes + 1024);
	} else if ((op = api_parse(buf, len, &req, &pk)) != NULL &&
	    !clients_role_allows(role, op->role)) {
		api_fail(&pk, "forbidden", "op %s needs the %s role; this "
		    "key's role is %s", op->name, clients_role_name(op->role),
		    clients_role_name(role));
		op = NULL;
	} else if (op != NULL &&
	    op->run == NULL && api_publish(wd, &req, &pk, &item) == 0) {
		p = batch_add_pending(wd);
		p->env = arena_dup(&b->arena, env, env_len);
		p->env_len = env_len;
		p->item = item;
		return;
	}

	if (op != NULL && op->run != NULL) {
		/* A read: now, or after the commit it must see. */
		if (!batch_pending(wd)) {
			api_run(wd, env, env_len, buf, len);
			return;
		}
		p = batch_add_pending(wd);
		p->env = arena_dup(&b->arena, env, env_len);
		p->env_len = env_len;
		p->req = arena_dup(&b->arena, buf, len);
		p->req_len = len;
		return;
	}
	/* An error, packed in wd->reply. */
	if (!batch_pending(wd)) {
		api_send(wd, env, env_len, wd->reply.data, wd->reply.size);
		return;
	}
	p = batch_add_pending(wd);
	p->env = arena_dup(&b->arena, env, env_len);
	p->env_len = env_len;
	p->reply = arena_dup(&b->arena, wd->reply.data, wd->reply.size);
	p->reply_len = wd->reply.size;
}

/* Send acks and waiting replies of a finished batch, in arrival order. */
void
api_complete(struct wartad *wd, struct batch *b)
{
	msgpack_packer pk;

	for (size_t i = 0; i < b->npend; i++) {
		const struct pending *p = &b->pend[i];

		if (p->http != NULL && p->req != NULL)
			http_read_done(wd, p->http, p->req, p->req_len);
		else if (p->http != NULL)
			http_publish_done(wd, p->http, b->status == 0 ?
			    &b->items[p->item] : NULL, b->cause);
		else if (p->item >= 0) {
			const struct store_item *it = &b->items[p->item];

			wd->reply.size = 0;
			msgpack_packer_init(&pk, &wd->reply,
			    msgpack_sbuffer_write);
			if (b->status != 0)
				api_fail(&pk, "unavailable", "%s", b->cause ?
				    b->cause : "the store cannot take writes");
			else {
				msgpack_pack_map(&pk, 3);
				api_pack_str(&pk, "ok");
				msgpack_pack_true(&pk);
				api_pack_str(&pk, "seq");
				msgpack_pack_uint64(&pk, it->seq);
				api_pack_str(&pk, "duplicate");
				if (it->duplicate)
					msgpack_pack_true(&pk);
				else
					msgpack_pack_false(&pk);
			}
			api_send(wd, p->env, p->env_len, wd->reply.data,
			    wd->reply.size);
		} else if (p->req != NULL)
			api_run(wd, p->env, p->env_len, p->req, p->req_len);
		else
			api_send(wd, p->env, p->env_len, p->reply,
			    p->reply_len);
	}
	wartad_kick(wd, wd->api, wd->ev_api);
}

/* Append one envelope frame to api_env. */
static void
api_env_add(const void *data, size_t len)
{
	uint32_t l = (uint32_t)len;

	msgpack_sbuffer_write(&api_env, (const char *)&l, 4);
	msgpack_sbuffer_write(&api_env, data, len);
}

/*
 * Read one message; 0 when the queue is empty.  Frames: routing ids, the
 * empty delimiter, one request.  A message without a delimiter (a DEALER
 * that left it out) is answered without one.
 */
static int
api_read_one(struct wartad *wd)
{
	zmq_msg_t f[API_MAX_FRAMES], extra;
	int n = 0, delim = -1, more;
	bool toomany = false;
	enum clients_role role;

	zmq_msg_init(&f[0]);
	if (zmq_msg_recv(&f[0], wd->api, ZMQ_DONTWAIT) == -1) {
		zmq_msg_close(&f[0]);
		return 0;
	}
	n = 1;
	/* The other parts of a message arrive with the first. */
	for (more = zmq_msg_more(&f[0]); more && n < API_MAX_FRAMES; n++) {
		zmq_msg_init(&f[n]);
		if (zmq_msg_recv(&f[n], wd->api, 0) == -1) {
			zmq_msg_close(&f[n]);
			break;
		}
		more = zmq_msg_more(&f[n]);
		if (delim == -1 && zmq_msg_size(&f[n]) == 0)
			delim = n;
	}
	zmq_msg_init(&extra);
	for (; more; more = zmq_msg_more(&extra)) {
		toomany = true;
		if (zmq_msg_recv(&extra, wd->api, 0) == -1)
			break;
	}
	zmq_msg_close(&extra);
	if (toomany) {
		log_debug("api: dropped a message of more than %d frames",
		    API_MAX_FRAMES);
		goto out;
	}
	if (n < 2)
		goto out;

	/* The role comes with every frame the peer sent (the ROUTER's
	   own routing id frame carries none). */
	role = auth_msg_role(wd, &f[n - 1]);
	api_env.size = 0;
	if (delim == -1) {
		api_env_add(zmq_msg_data(&f[0]), zmq_msg_size(&f[0]));
		if (n == 2)
			api_handle(wd, (uint8_t *)api_env.data, api_env.size,
			    zmq_msg_data(&f[1]), zmq_msg_size(&f[1]), role);
		goto out;
	}
	for (int i = 0; i <= delim; i++)
		api_env_add(zmq_msg_data(&f[i]), zmq_msg_size(&f[i]));
	if (n == delim + 2)
		api_handle(wd, (uint8_t *)api_env.data, api_env.size,
		    zmq_msg_data(&f[delim + 1]), zmq_msg_size(&f[delim + 1]),
		    role);
	else {
		msgpack_packer pk;

		wd->reply.size = 0;
		msgpack_packer_init(&pk, &wd->reply, msgpack_sbuffer_write);
		api_fail(&pk, "bad_request", "request: %d frames after the "
		    "envelope, exactly 1 is required", n - delim - 1);
		if (!batch_pending(wd))
			api_send(wd, (uint8_t *)api_env.data, api_env.size,
			    wd->reply.data, wd->reply.size);
		else {
			struct pending *p = batch_add_pending(wd);
			struct arena *a = &wd->fill->arena;

			p->env = arena_dup(a, api_env.data, api_env.size);
			p->env_len = api_env.size;
			p->reply = arena_dup(a, wd->reply.data, wd->reply.size);
			p->reply_len = wd->reply.size;
		}
	}
out:
	for (int i = 0; i < n; i++)
		zmq_msg_close(&f[i]);
	return 1;
}

/* Drain the api socket (edge-triggered), within a budget per turn. */
static void
api_readable(evutil_socket_t fd, short what, void *arg)
{
	struct wartad *wd = arg;

	batch_drain(wd, wd->ev_api, &wd->api_paused, api_read_one);
	wartad_kick(wd, wd->api, wd->ev_api);
}

/* Read again after a pause. */
void
api_resume(struct wartad *wd)
{
	batch_resume(wd, wd->ev_api, &wd->api_paused);
}

/* Bind the api socket. */
int
api_open(struct wartad *wd, char **cause)
{
	int fd, linger = 1000, one = 1;
	size_t fdlen = sizeof fd;
	int64_t maxsz = (int64_t)wd->cfg->max_event_bytes * 4 + (1 << 20);

	msgpack_sbuffer_init(&api_env);
	msgpack_sbuffer_init(&api_items);
	wd->api = zmq_socket(wd->zctx, ZMQ_ROUTER);
	if (wd->api == NULL)
		fatalx("zmq_socket: %s", zmq_strerror(errno));
	zmq_setsockopt(wd->api, ZMQ_LINGER, &linger, sizeof linger);
	/* Report, rather than silently drop, a reply to a vanished client or
	   one whose queue is full, so that stats can count it. */
	zmq_setsockopt(wd->api, ZMQ_ROUTER_MANDATORY, &one, sizeof one);
	zmq_setsockopt(wd->api, ZMQ_MAXMSGSIZE, &maxsz, sizeof maxsz);
	auth_socket(wd, wd->api, "api");
	if (zmq_bind(wd->api, wd->cfg->api_bind) == -1) {
		xasprintf(cause, "api: cannot bind %s: %s", wd->cfg->api_bind,
		    zmq_strerror(errno));
		return -1;
	}
	zmq_getsockopt(wd->api, ZMQ_FD, &fd, &fdlen);
	wd->ev_api = event_new(wd->base, fd, EV_READ | EV_PERSIST,
	    api_readable, wd);
	event_add(wd->ev_api, NULL);
	return 0;
}

/* Close the socket. */
void
api_close(struct wartad *wd)
{
	if (wd->ev_api) {
		event_free(wd->ev_api);
		wd->ev_api = NULL;
	}
	if (wd->api) {
		zmq_close(wd->api);
		wd->api = NULL;
	}
	msgpack_sbuffer_destroy(&api_env);
	msgpack_sbuffer_destroy(&api_items);
}
