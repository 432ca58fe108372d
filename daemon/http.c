/*
 * http.c — the HTTP listener ([http] listen): /healthz, /metrics, the live
 * page at /, and the JSON endpoints of /v1/ (README "HTTP").  SSE streams
 * are sse.c's, webhooks webhook.c's.
 *
 * libevent's evhttp on the daemon's own loop, no thread of its own: a
 * request is answered by the loop thread, so any answer at all proves the
 * loop alive, and the counters it reads need no locking.  Reads of the
 * store are one short LMDB read transaction per request, like the api's.
 *
 * Paths are a table of routes.  An unknown path answers 404, a known one
 * asked with a method it does not take 405 with an Allow header.
 *
 * The /v1/ queries do not have logic of their own: each builds the api
 * request (op and keys, the query's integers as integers) and runs it
 * through api_exec(), then maps the reply to JSON, so the paging rules,
 * limits, reply keys and error codes are the api's.  A POST publishes
 * through api_publish_event() and the same group commit, and is answered
 * only after the commit (http_publish_done, from api_complete).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>

#include "clients/mpjson.h"

#include "daemon/log.h"
#include "daemon/wartad.h"
#include "daemon/xmalloc.h"
#include "handlers/handlers.h"
#include "schema/mp.h"

#define HTTP_TIMEOUT_S		10	/* idle or slow connections */
#define HTTP_MAX_HEADERS	8192	/* bytes of request line and headers */
#define HTTP_MAX_BODY		(4u << 20)	/* evhttp's own 413 above */
#define HTTP_HOST_MAX		256
/* A commit with the writer for longer than this makes /healthz fail: the
   store is not taking writes (a stuck disk, a held LMDB write lock). */
#define HTTP_STUCK_US		(10 * 1000000LL)

/* Methods a route answers; anything else on its path is 405. */
#define HTTP_GET_HEAD		(EVHTTP_REQ_GET | EVHTTP_REQ_HEAD)

struct http_route {
	const char	*path;
	bool		 prefix;	/* path is a prefix, as "/v1/" */
	int		 methods;	/* EVHTTP_REQ_* */
	const char	*allow;		/* the Allow header for 405 */
	void		(*fn)(struct wartad *, struct evhttp_request *,
			    struct evbuffer *);
};

static void	http_healthz(struct wartad *, struct evhttp_request *,
		    struct evbuffer *);
static void	http_metrics(struct wartad *, struct evhttp_request *,
		    struct evbuffer *);
static void	http_page(struct wartad *, struct evhttp_request *,
		    struct evbuffer *);
static void	http_stream(struct wartad *, struct evhttp_request *,
		    struct evbuffer *);
static void	http_events(struct wartad *, struct evhttp_request *,
		    struct evbuffer *);
static void	http_post(struct wartad *, struct evhttp_request *,
		    struct evbuffer *);
static void	http_entities(struct wartad *, struct evhttp_request *,
		    struct evbuffer *);
static void	http_stats(struct wartad *, struct evhttp_request *,
		    struct evbuffer *);

static const struct http_route http_routes[] = {
	{ "/healthz",	false,	HTTP_GET_HEAD,	"GET, HEAD",	http_healthz },
	{ "/metrics",	false,	HTTP_GET_HEAD,	"GET, HEAD",	http_metrics },
	{ "/",		false,	HTTP_GET_HEAD,	"GET, HEAD",	http_page },
	{ "/v1/stream",	false,	EVHTTP_REQ_GET,	"GET",		http_stream },
	{ "/v1/events",	false,	HTTP_GET_HEAD,	"GET, HEAD",	http_events },
	{ "/v1/events/", true, EVHTTP_REQ_POST, "POST",	http_post },
	{ "/v1/entities/", true, HTTP_GET_HEAD,	"GET, HEAD",	http_entities },
	{ "/v1/stats",	false,	HTTP_GET_HEAD,	"GET, HEAD",	http_stats },
};

/* A query key a /v1/ route takes, and whether it is an integer. */
struct http_arg {
	const char	*key;
	bool		 integer;
};

static const struct http_arg http_replay_args[] = {
	{ "from_seq", true }, { "prefix", false }, { "limit", true },
	{ NULL, false }
};
static const struct http_arg http_no_args[] = { { NULL, false } };
static const struct http_arg http_list_args[] = {
	{ "country", false }, { "from", true }, { "to", true },
	{ "limit", true }, { NULL, false }
};

/* The api's error codes as HTTP statuses. */
static const struct {
	const char	*code;
	int		 status;
	const char	*reason;
} http_codes[] = {
	{ "bad_request",	400,	"Bad Request" },
	{ "forbidden",		403,	"Forbidden" },
	{ "not_found",		404,	"Not Found" },
	{ "too_large",		413,	"Payload Too Large" },
	{ "invalid",		422,	"Unprocessable Content" },
	{ "unavailable",	503,	"Service Unavailable" },
};

/* Loop-thread buffers for /v1/ requests and their api replies. */
static msgpack_sbuffer http_req_buf;
static msgpack_sbuffer http_reply_buf;
#define HTTP_NROUTES	(sizeof http_routes / sizeof http_routes[0])

/* Send code with body as it stands; HEAD gets the headers only. */
static void
http_send(struct evhttp_request *req, int code, const char *reason,
    const char *type, struct evbuffer *body)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	char len[32];

	evhttp_add_header(h, "Content-Type", type);
	evhttp_add_header(h, "Cache-Control", "no-store");
	if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD) {
		/* The length GET would have, without the body. */
		snprintf(len, sizeof len, "%zu", evbuffer_get_length(body));
		evhttp_add_header(h, "Content-Length", len);
		evbuffer_drain(body, evbuffer_get_length(body));
	}
	evhttp_send_reply(req, code, reason, body);
}

/* Answer a short plain-text error. */
static void
http_error(struct evhttp_request *req, struct evbuffer *body, int code,
    const char *reason, const char *text)
{
	evbuffer_drain(body, evbuffer_get_length(body));
	evbuffer_add_printf(body, "%s\n", text);
	http_send(req, code, reason, "text/plain; charset=utf-8", body);
}

/* The status and reason for an api error code. */
static int
http_code_status(const char *code, size_t len, const char **reason)
{
	for (size_t i = 0; i < sizeof http_codes / sizeof http_codes[0]; i++)
		if (strlen(http_codes[i].code) == len &&
		    memcmp(http_codes[i].code, code, len) == 0) {
			*reason = http_codes[i].reason;
			return http_codes[i].status;
		}
	*reason = "Internal Server Error";
	return 500;
}

/* Answer code with a JSON document (one line, a newline added). */
static void
http_json_reply(struct evhttp_request *req, int code, const char *json)
{
	struct evbuffer *b = evbuffer_new();
	const char *reason = "OK";

	if (b == NULL)
		fatalx("http: out of memory");
	if (code == 201)
		reason = "Created";
	else if (code >= 400) {
		reason = "Internal Server Error";
		for (size_t i = 0; i < sizeof http_codes / sizeof http_codes[0];
		    i++)
			if (http_codes[i].status == code)
				reason = http_codes[i].reason;
	}
	evbuffer_add_printf(b, "%s\n", json);
	http_send(req, code, reason, "application/json", b);
	evbuffer_free(b);
}

/* Answer an error as JSON {error, detail}, the api's codes. */
void
http_json_error(struct evhttp_request *req, const char *code,
    const char *fmt, ...)
{
	char detail[512], *s;
	const char *reason;
	json_t *j;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof detail, fmt, ap);
	va_end(ap);
	j = json_pack("{s:s,s:s?}", "error", code, "detail",
	    mp_utf8_valid(detail, strlen(detail)) ? detail : NULL);
	if (j == NULL || (s = json_dumps(j, JSON_COMPACT)) == NULL)
		fatalx("http: out of memory");
	http_json_reply(req, http_code_status(code, strlen(code), &reason), s);
	free(s);
	json_decref(j);
}

/* Answer an api reply (MessagePack in sb) as JSON, with the status of its
 * error code when it is one. */
static void
http_api_reply(struct evhttp_request *req, int ok_status,
    const msgpack_sbuffer *sb)
{
	const uint8_t *v, *mp = (const uint8_t *)sb->data;
	size_t vlen;
	struct mp_reader r;
	struct mp_obj o;
	const char *reason;
	int status = ok_status;
	char *json;

	if (store_body_field(mp, sb->size, "error", &v, &vlen) == 0) {
		mp_reader_init(&r, v, vlen);
		if (mp_read(&r, &o) == 0 && o.type == MP_STR)
			status = http_code_status(o.v.str.ptr, o.v.str.len,
			    &reason);
		else
			status = 500;
	}
	if ((json = jsonmap_dumps(mp, sb->size)) == NULL)
		fatalx("http: an api reply is not MessagePack");
	http_json_reply(req, status, json);
	free(json);
}

/* Whether s is a whole decimal integer in int64; *v holds it. */
static bool
http_parse_int(const char *s, int64_t *v)
{
	char *end;
	long long n;

	if (*s == '\0' || strchr(" \t\n+", *s) != NULL)
		return false;
	errno = 0;
	n = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return false;
	*v = n;
	return true;
}

/*
 * Build the api request {op, fixed pairs, query keys} in http_req_buf, the
 * query's keys checked against args; 0, or -1 after answering 400.
 */
static int
http_build(struct evhttp_request *req, const char *op,
    const char *const *fixed, size_t nfixed, const struct http_arg *args)
{
	const char *q = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(
	    req));
	struct evkeyvalq kv;
	struct evkeyval *e, *e2;
	msgpack_packer pk;
	size_t n = 0;
	int rc = -1;

	TAILQ_INIT(&kv);
	if (q != NULL && evhttp_parse_query_str(q, &kv) == -1) {
		http_json_error(req, "bad_request", "query: malformed");
		goto out;
	}
	TAILQ_FOREACH(e, &kv, next) {
		const struct http_arg *a;
		int64_t iv;

		for (a = args; a->key != NULL; a++)
			if (strcmp(a->key, e->key) == 0)
				break;
		if (a->key == NULL) {
			http_json_error(req, "bad_request", "%.64s: unknown "
			    "query key for %s", e->key, op);
			goto out;
		}
		for (e2 = TAILQ_FIRST(&kv); e2 != e; e2 = TAILQ_NEXT(e2, next))
			if (strcmp(e2->key, e->key) == 0) {
				http_json_error(req, "bad_request",
				    "%s: given twice", e->key);
				goto out;
			}
		if (a->integer && !http_parse_int(e->value, &iv)) {
			http_json_error(req, "bad_request", "%s: '%.32s' is "
			    "not an integer", e->key, e->value);
			goto out;
		}
		n++;
	}
	http_req_buf.size = 0;
	msgpack_packer_init(&pk, &http_req_buf, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 1 + nfixed + n);
	msgpack_pack_str_with_body(&pk, "op", 2);
	msgpack_pack_str_with_body(&pk, op, strlen(op));
	for (size_t i = 0; i < nfixed; i++) {
		msgpack_pack_str_with_body(&pk, fixed[2 * i],
		    strlen(fixed[2 * i]));
		msgpack_pack_str_with_body(&pk, fixed[2 * i + 1],
		    strlen(fixed[2 * i + 1]));
	}
	TAILQ_FOREACH(e, &kv, next) {
		const struct http_arg *a;
		int64_t iv;

		for (a = args; strcmp(a->key, e->key) != 0; a++)
			;
		msgpack_pack_str_with_body(&pk, e->key, strlen(e->key));
		if (a->integer) {
			http_parse_int(e->value, &iv);
			msgpack_pack_int64(&pk, iv);
		} else
			msgpack_pack_str_with_body(&pk, e->value,
			    strlen(e->value));
	}
	rc = 0;
out:
	evhttp_clear_headers(&kv);
	return rc;
}

/* Run the api request in http_req_buf and answer with its reply. */
static void
http_run(struct wartad *wd, struct evhttp_request *req)
{
	api_exec(wd, (const uint8_t *)http_req_buf.data, http_req_buf.size,
	    &http_reply_buf);
	http_api_reply(req, 200, &http_reply_buf);
}

/*
 * The same for a read of the indexes (get, list): while a commit is with
 * the writer its events may be acknowledged (a POST answered) before the
 * indexes have them, so the read waits for the commit, as the api's do.
 */
static void
http_run_indexed(struct wartad *wd, struct evhttp_request *req)
{
	struct pending *p;

	if (!batch_pending(wd)) {
		http_run(wd, req);
		return;
	}
	p = batch_add_pending(wd);
	p->http = req;
	p->req = arena_dup(&wd->fill->arena, http_req_buf.data,
	    http_req_buf.size);
	p->req_len = http_req_buf.size;
}

/* A read that waited for a commit: run it now. */
void
http_read_done(struct wartad *wd, struct evhttp_request *req,
    const uint8_t *buf, size_t len)
{
	api_exec(wd, buf, len, &http_reply_buf);
	http_api_reply(req, 200, &http_reply_buf);
}

/* GET /v1/events?from_seq=&prefix=&limit=: the api's replay. */
static void
http_events(struct wartad *wd, struct evhttp_request *req,
    struct evbuffer *body)
{
	if (http_build(req, "replay", NULL, 0, http_replay_args) == 0)
		http_run(wd, req);
}

/* GET /v1/stats: the api's stats. */
static void
http_stats(struct wartad *wd, struct evhttp_request *req,
    struct evbuffer *body)
{
	if (http_build(req, "stats", NULL, 0, http_no_args) == 0)
		http_run(wd, req);
}

/* A path segment, percent-decoded; NULL after answering 400 (it holds a
 * NUL byte).  The caller frees it. */
static char *
http_segment(struct evhttp_request *req, const char *seg, size_t len)
{
	char *raw = xstrndup(seg, len), *dec;
	size_t dlen;

	dec = evhttp_uridecode(raw, 0, &dlen);
	free(raw);
	if (dec == NULL)
		fatalx("http: out of memory");
	if (dlen != strlen(dec)) {
		free(dec);
		http_json_error(req, "bad_request", "path: a segment holds a "
		    "NUL byte");
		return NULL;
	}
	return dec;
}

/*
 * GET /v1/entities/{type}/{id}: the api's get; GET /v1/entities/{type}
 * ?country=&from=&to=&limit=: its list.
 */
static void
http_entities(struct wartad *wd, struct evhttp_request *req,
    struct evbuffer *body)
{
	const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(
	    req)) + strlen("/v1/entities/");
	const char *slash = strchr(path, '/');
	const char *fixed[4];
	char *type, *id = NULL;

	if ((type = http_segment(req, path, slash ? (size_t)(slash - path) :
	    strlen(path))) == NULL)
		return;
	fixed[0] = "type";
	fixed[1] = type;
	if (slash == NULL) {
		if (http_build(req, "list", fixed, 1, http_list_args) == 0)
			http_run_indexed(wd, req);
	} else if ((id = http_segment(req, slash + 1, strlen(slash + 1))) !=
	    NULL) {
		fixed[2] = "id";
		fixed[3] = id;
		if (http_build(req, "get", fixed, 2, http_no_args) == 0)
			http_run_indexed(wd, req);
	}
	free(type);
	free(id);
}

/*
 * POST /v1/events/{type}: a JSON event, mapped to MessagePack by the
 * client's mapping and published like the api's publish: answered after
 * its commit by http_publish_done().
 */
static void
http_post(struct wartad *wd, struct evhttp_request *req,
    struct evbuffer *body)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in);
	size_t max = wd->cfg->max_event_bytes * 4 + 1024;
	const char *type;
	json_error_t jerr;
	json_t *j;
	msgpack_sbuffer ev;
	msgpack_packer pk;
	struct pending *p;
	char *cause = NULL;
	long item;
	int rc;

	type = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req)) +
	    strlen("/v1/events/");
	wd->st.received++;
	if (wd->stopping) {
		http_json_error(req, "unavailable", "the daemon is stopping");
		return;
	}
	if (batch_full(wd)) {
		/* The batch is at its cap while the writer commits the last:
		   the api stops reading then; HTTP asks the client to retry. */
		batch_flush(wd);
		if (batch_full(wd)) {
			evhttp_add_header(evhttp_request_get_output_headers(
			    req), "Retry-After", "1");
			http_json_error(req, "unavailable", "busy: the batch "
			    "is at its cap while a commit runs; retry");
			return;
		}
	}
	if (len > max) {
		wd->st.rejected[REASON_TOO_LARGE]++;
		http_json_error(req, "too_large", "body: %zu bytes is over the "
		    "limit of %zu (4 x max_event_bytes + 1024)", len, max);
		return;
	}
	j = json_loadb((const char *)evbuffer_pullup(in, -1), len,
	    JSON_REJECT_DUPLICATES, &jerr);
	if (j == NULL) {
		http_json_error(req, "bad_request", "body: not JSON: %s (line "
		    "%d, column %d)", jerr.text, jerr.line, jerr.column);
		return;
	}
	rc = mpjson_pack_buffer(&ev, j, &cause);
	json_decref(j);
	if (rc == -1) {
		wd->st.rejected[REASON_MSGPACK]++;
		http_json_error(req, "invalid", "event: %s", cause ? cause :
		    "cannot be mapped");
		free(cause);
		msgpack_sbuffer_destroy(&ev);
		return;
	}
	http_reply_buf.size = 0;
	msgpack_packer_init(&pk, &http_reply_buf, msgpack_sbuffer_write);
	rc = api_publish_event(wd, type, strlen(type),
	    (const uint8_t *)ev.data, ev.size, &pk, &item);
	msgpack_sbuffer_destroy(&ev);
	if (rc == -1) {
		http_api_reply(req, 200, &http_reply_buf);
		return;
	}
	p = batch_add_pending(wd);
	p->item = item;
	p->http = req;
	batch_flush(wd);
}

/* The commit of a POSTed event is done (it NULL: nothing was stored):
 * 201 {seq, duplicate: false}, or 200 {seq, duplicate: true} for a msg_id
 * already stored (nothing was created), or 503. */
void
http_publish_done(struct wartad *wd, struct evhttp_request *req,
    const struct store_item *it, const char *cause)
{
	char buf[96];

	if (it == NULL) {
		http_json_error(req, "unavailable", "%s", cause ? cause :
		    "the store cannot take writes");
		return;
	}
	snprintf(buf, sizeof buf, "{\"seq\":%" PRIu64 ",\"duplicate\":%s}",
	    it->seq, it->duplicate ? "true" : "false");
	http_json_reply(req, it->duplicate ? 200 : 201, buf);
}

/* GET /: the live page (www/index.html, embedded at build time). */
static void
http_page(struct wartad *wd, struct evhttp_request *req, struct evbuffer *b)
{
	evbuffer_add(b, www_index_html, www_index_html_len);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Security-Policy", "default-src 'self'; "
	    "script-src 'self' 'unsafe-inline'; style-src 'self' "
	    "'unsafe-inline'");
	http_send(req, HTTP_OK, "OK", "text/html; charset=utf-8", b);
}

/* GET /v1/stream: an SSE stream, sse.c's. */
static void
http_stream(struct wartad *wd, struct evhttp_request *req,
    struct evbuffer *b)
{
	sse_request(wd, req);
}

/*
 * GET /healthz: 200 when the loop answers (this runs on it) and the store
 * takes writes: not full, and no commit stuck with the writer, nor a read
 * waiting for the indexer, for more than HTTP_STUCK_US.  503 otherwise,
 * with the reason in "status".
 */
static void
http_healthz(struct wartad *wd, struct evhttp_request *req,
    struct evbuffer *body)
{
	int64_t now = wartad_mono_us();
	int64_t busy_us = wd->busy ? now - wd->busy_since_us : 0;
	int64_t wait_us = wd->wait_head ? now - wd->wait_head->wait_since_us :
	    0;
	bool full = store_full(wd->store);
	bool stuck = busy_us > HTTP_STUCK_US || wait_us > HTTP_STUCK_US;
	bool ok = !full && !stuck;

	evbuffer_add_printf(body, "{\"status\":\"%s\",\"writable\":%s,"
	    "\"last_seq\":%" PRIu64 "}\n",
	    full ? "unwritable" : stuck ? "stuck" : "ok", ok ? "true" : "false",
	    wd->last_seq);
	http_send(req, ok ? HTTP_OK : HTTP_SERVUNAVAIL,
	    ok ? "OK" : "Service Unavailable", "application/json", body);
}

/* The # HELP and # TYPE lines of a metric. */
static void
http_metric_head(struct evbuffer *b, const char *name, const char *type,
    const char *help)
{
	evbuffer_add_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help,
	    name, type);
}

/* A metric with one unlabelled integer sample. */
static void
http_metric_u64(struct evbuffer *b, const char *name, const char *type,
    const char *help, uint64_t v)
{
	http_metric_head(b, name, type, help);
	evbuffer_add_printf(b, "%s %" PRIu64 "\n", name, v);
}

/* The commit latency histogram: cumulative buckets in seconds. */
static void
http_metric_commits(struct evbuffer *b, const struct stats *st)
{
	const char *name = "warta_commit_duration_seconds";
	uint64_t cum = 0;
	int i;

	http_metric_head(b, name, "histogram",
	    "Time one group commit (LMDB write transaction) took.");
	for (i = 0; i < STATS_COMMIT_BUCKETS - 1; i++) {
		cum += st->commit_hist[i];
		evbuffer_add_printf(b, "%s_bucket{le=\"%" PRId64 ".%06" PRId64
		    "\"} %" PRIu64 "\n", name, stats_commit_bounds[i] / 1000000,
		    stats_commit_bounds[i] % 1000000, cum);
	}
	cum += st->commit_hist[i];
	evbuffer_add_printf(b, "%s_bucket{le=\"+Inf\"} %" PRIu64 "\n", name,
	    cum);
	evbuffer_add_printf(b, "%s_sum %" PRIu64 ".%06" PRIu64 "\n", name,
	    st->commit_sum_us / 1000000, st->commit_sum_us % 1000000);
	evbuffer_add_printf(b, "%s_count %" PRIu64 "\n", name, cum);
}

/* Each webhook's cursor, lag and counters, labelled by name. */
static void
http_metric_webhooks(struct wartad *wd, struct evbuffer *b)
{
	static const struct {
		const char	*name, *type, *help;
	} m[] = {
		{ "warta_webhook_cursor", "gauge",
		  "The last seq a webhook has had answered 2xx (or passed)." },
		{ "warta_webhook_lag", "gauge",
		  "last_seq minus the webhook's cursor." },
		{ "warta_webhook_failures_total", "counter",
		  "Failed webhook deliveries (retried) since start." },
		{ "warta_webhook_delivered_total", "counter",
		  "Webhook deliveries answered 2xx since start." },
	};
	struct webhook_info wi;

	if (webhook_count(wd) == 0)
		return;
	for (size_t k = 0; k < sizeof m / sizeof m[0]; k++) {
		http_metric_head(b, m[k].name, m[k].type, m[k].help);
		for (size_t i = 0; i < webhook_count(wd); i++) {
			uint64_t v;

			webhook_get_info(wd, i, &wi);
			v = k == 0 ? wi.cursor : k == 1 ? wi.lag : k == 2 ?
			    wi.failures : wi.delivered;
			evbuffer_add_printf(b, "%s{name=\"%s\"} %" PRIu64
			    "\n", m[k].name, wi.name, v);
		}
	}
}

/*
 * GET /metrics: Prometheus text exposition format 0.0.4.  The same
 * numbers as the api's stats op, read at the same point of the loop, so
 * the two agree.
 */
static void
http_metrics(struct wartad *wd, struct evhttp_request *req,
    struct evbuffer *b)
{
	const struct stats *st = &wd->st;
	uint64_t first, last, count, db_bytes, map_bytes;
	int64_t up_ms;
	char *cause = NULL;
	int i;

	if (store_rd_begin(wd->store, &cause) == -1) {
		http_error(req, b, HTTP_SERVUNAVAIL, "Service Unavailable",
		    cause);
		free(cause);
		return;
	}
	store_rd_range(wd->store, &first, &last, &count);
	store_rd_end(wd->store);
	store_sizes(wd->store, &db_bytes, &map_bytes);

	http_metric_u64(b, "warta_up", "gauge",
	    "1 while the daemon's event loop answers.", 1);
	http_metric_u64(b, "warta_received_total", "counter",
	    "Messages read on ingest and api publishes since start.",
	    st->received);
	http_metric_u64(b, "warta_stored_events", "gauge",
	    "Events in the store.", count);

	http_metric_head(b, "warta_stored_total", "counter",
	    "Events stored since start, by type.");
	for (i = 0; handlers[i] != NULL && i < STATS_MAX_TYPES; i++)
		evbuffer_add_printf(b, "warta_stored_total{type=\"%s\"} %"
		    PRIu64 "\n", handlers[i]->type, st->stored_by_type[i]);

	http_metric_u64(b, "warta_duplicates_total", "counter",
	    "Events dropped as duplicates of a stored msg_id since start.",
	    st->duplicates);

	http_metric_head(b, "warta_rejected_total", "counter",
	    "Messages rejected since start, by reason.");
	for (i = 0; i < REASON_COUNT; i++)
		evbuffer_add_printf(b, "warta_rejected_total{reason=\"%s\"} %"
		    PRIu64 "\n", schema_reason_name(i), st->rejected[i]);

	http_metric_u64(b, "warta_notified_total", "counter",
	    "Notifications published on the notify socket since start.",
	    st->notified);
	http_metric_u64(b, "warta_commits_total", "counter",
	    "Group commits (LMDB write transactions) since start.",
	    st->commits);
	http_metric_commits(b, st);
	http_metric_head(b, "warta_subscribers", "gauge",
	    "Live subscriptions seen on the notify socket.");
	evbuffer_add_printf(b, "warta_subscribers %" PRId64 "\n",
	    wd->subscribers);
	http_metric_u64(b, "warta_db_bytes", "gauge",
	    "Bytes used by the store's data file.", db_bytes);
	http_metric_u64(b, "warta_map_bytes", "gauge",
	    "Bytes of the store's memory map (its size limit).", map_bytes);
	http_metric_u64(b, "warta_last_seq", "gauge",
	    "The last committed seq (0 for an empty store).", wd->last_seq);
	http_metric_u64(b, "warta_indexed_seq", "gauge",
	    "The seq the indexes for get and list are committed to (behind "
	    "last_seq while the indexer works, and after a failed index "
	    "write).", wd->indexed_seq);
	http_metric_u64(b, "warta_first_seq", "gauge",
	    "The oldest stored seq (last_seq + 1 when the store is empty).",
	    first);
	http_metric_u64(b, "warta_api_dropped_total", "counter",
	    "Api replies dropped because the client was gone or full.",
	    st->api_dropped);
	http_metric_u64(b, "warta_notify_overflows_total", "counter",
	    "Times a subscriber's queue was full (its notifications were "
	    "dropped from there until it read again).", st->notify_overflows);
	http_metric_u64(b, "warta_auth_refused_total", "counter",
	    "CURVE handshakes refused by the ZAP handler since start.",
	    st->auth_refused);
	http_metric_u64(b, "warta_corrupt_records_total", "counter",
	    "Stored records found failing their checksum since start.",
	    store_corrupt_count(wd->store));

	http_metric_head(b, "warta_sse_streams", "gauge",
	    "Open SSE streams (GET /v1/stream).");
	evbuffer_add_printf(b, "warta_sse_streams %zu\n", sse_clients(wd));
	http_metric_u64(b, "warta_sse_cut_off_total", "counter",
	    "SSE streams cut off for reading too slowly since start.",
	    st->sse_cut_off);
	http_metric_webhooks(wd, b);

	up_ms = wartad_now_ms() - wd->started_ms;
	if (up_ms < 0)
		up_ms = 0;
	http_metric_head(b, "warta_uptime_seconds", "gauge",
	    "Seconds since the daemon started.");
	evbuffer_add_printf(b, "warta_uptime_seconds %" PRId64 ".%03" PRId64
	    "\n", up_ms / 1000, up_ms % 1000);

	http_send(req, HTTP_OK, "OK", "text/plain; version=0.0.4; "
	    "charset=utf-8", b);
}

/* Whether route r serves path. */
static bool
http_route_match(const struct http_route *r, const char *path)
{
	if (r->prefix)
		return strncmp(path, r->path, strlen(r->path)) == 0;
	return strcmp(path, r->path) == 0;
}

/* Every request: find the route, check the method, run it. */
static void
http_dispatch(struct evhttp_request *req, void *arg)
{
	struct wartad *wd = arg;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
	const struct http_route *r = NULL;
	struct evbuffer *body;
	size_t i;

	if ((body = evbuffer_new()) == NULL)
		fatalx("http: out of memory");
	if (path == NULL || *path == '\0')
		path = "/";
	for (i = 0; i < HTTP_NROUTES; i++) {
		if (http_route_match(&http_routes[i], path)) {
			r = &http_routes[i];
			break;
		}
	}
	if (r == NULL && strncmp(path, "/v1/", 4) == 0)
		http_json_error(req, "not_found", "%.64s: no such endpoint",
		    path);
	else if (r == NULL)
		http_error(req, body, HTTP_NOTFOUND, "Not Found", "not found");
	else if ((evhttp_request_get_command(req) & r->methods) == 0) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Allow", r->allow);
		http_error(req, body, 405, "Method Not Allowed",
		    "method not allowed");
	} else
		r->fn(wd, req, body);
	evbuffer_free(body);
}

/* Split "HOST:PORT" or "[V6]:PORT" into host and port; 0 or -1. */
static int
http_split(const char *ep, char *host, size_t hostsz, uint16_t *port)
{
	const char *colon = strrchr(ep, ':'), *h = ep;
	size_t hlen;
	char *end;
	unsigned long n;

	if (colon == NULL)
		return -1;
	hlen = (size_t)(colon - ep);
	if (*h == '[' && hlen >= 2 && colon[-1] == ']') {
		h++;
		hlen -= 2;
	}
	if (hlen == 0 || hlen >= hostsz)
		return -1;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	errno = 0;
	n = strtoul(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || errno != 0 || n > 65535)
		return -1;
	*port = (uint16_t)n;
	return 0;
}

/* Start listening on [http] listen; "" leaves HTTP off. */
int
http_open(struct wartad *wd, char **cause)
{
	const char *ep = wd->cfg->http_listen;
	char host[HTTP_HOST_MAX];
	uint16_t port;

	if (ep == NULL || *ep == '\0')
		return 0;
	if (http_split(ep, host, sizeof host, &port) == -1) {
		xasprintf(cause, "http: cannot listen on %s: not HOST:PORT",
		    ep);
		return -1;
	}
	if ((wd->http = evhttp_new(wd->base)) == NULL)
		fatalx("http: evhttp_new failed");
	evhttp_set_timeout(wd->http, HTTP_TIMEOUT_S);
	evhttp_set_max_headers_size(wd->http, HTTP_MAX_HEADERS);
	evhttp_set_max_body_size(wd->http, HTTP_MAX_BODY);
	/* Let every method through to the routes, which answer 405 (evhttp
	   itself would answer 501 for one it was not told of). */
	evhttp_set_allowed_methods(wd->http, EVHTTP_REQ_GET |
	    EVHTTP_REQ_POST | EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT |
	    EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE |
	    EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH);
	evhttp_set_gencb(wd->http, http_dispatch, wd);
	errno = 0;
	if (evhttp_bind_socket_with_handle(wd->http, host, port) == NULL) {
		xasprintf(cause, "http: cannot listen on %s: %s", ep,
		    errno ? strerror(errno) : "cannot resolve or bind");
		evhttp_free(wd->http);
		wd->http = NULL;
		return -1;
	}
	/* After the bind: http_close() undoes these only with wd->http set,
	   and no request is read before the loop runs. */
	msgpack_sbuffer_init(&http_req_buf);
	msgpack_sbuffer_init(&http_reply_buf);
	sse_open(wd);
	return 0;
}

/* Stop listening and drop open connections; before event_base_free. */
void
http_close(struct wartad *wd)
{
	if (wd->http) {
		sse_close(wd);
		evhttp_free(wd->http);
		wd->http = NULL;
		msgpack_sbuffer_destroy(&http_req_buf);
		msgpack_sbuffer_destroy(&http_reply_buf);
	}
}
