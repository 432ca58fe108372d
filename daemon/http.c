/*
 * http.c — the HTTP listener ([http] listen): /healthz and /metrics.
 *
 * libevent's evhttp on the daemon's own loop, no thread of its own: a
 * request is answered by the loop thread, so any answer at all proves the
 * loop alive, and the counters it reads need no locking.  Reads of the
 * store are one short LMDB read transaction per request, like the api's.
 *
 * Paths are a table of routes; the /v1/ endpoints will be more rows.  An
 * unknown path answers 404, a known one asked with a method it does not
 * take 405 with an Allow header.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "daemon/log.h"
#include "daemon/wartad.h"
#include "daemon/xmalloc.h"
#include "handlers/handlers.h"

#define HTTP_TIMEOUT_S		10	/* idle or slow connections */
#define HTTP_MAX_HEADERS	8192	/* bytes of request line and headers */
#define HTTP_MAX_BODY		65536	/* bytes of a request body */
#define HTTP_HOST_MAX		256

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

static const struct http_route http_routes[] = {
	{ "/healthz",	false,	HTTP_GET_HEAD,	"GET, HEAD",	http_healthz },
	{ "/metrics",	false,	HTTP_GET_HEAD,	"GET, HEAD",	http_metrics },
};
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

/* GET /healthz: 200 when the loop answers and the store takes writes. */
static void
http_healthz(struct wartad *wd, struct evhttp_request *req,
    struct evbuffer *body)
{
	bool writable = !store_full(wd->store);

	evbuffer_add_printf(body, "{\"status\":\"%s\",\"writable\":%s,"
	    "\"last_seq\":%" PRIu64 "}\n", writable ? "ok" : "unwritable",
	    writable ? "true" : "false", wd->last_seq);
	http_send(req, writable ? HTTP_OK : HTTP_SERVUNAVAIL,
	    writable ? "OK" : "Service Unavailable", "application/json", body);
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
	http_metric_u64(b, "warta_first_seq", "gauge",
	    "The oldest stored seq (last_seq + 1 when the store is empty).",
	    first);
	http_metric_u64(b, "warta_api_dropped_total", "counter",
	    "Api replies dropped because the client was gone or full.",
	    st->api_dropped);
	http_metric_u64(b, "warta_auth_refused_total", "counter",
	    "CURVE handshakes refused by the ZAP handler since start.",
	    st->auth_refused);
	http_metric_u64(b, "warta_corrupt_records_total", "counter",
	    "Stored records found failing their checksum since start.",
	    store_corrupt_count(wd->store));

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
	if (r == NULL)
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
	return 0;
}

/* Stop listening and drop open connections; before event_base_free. */
void
http_close(struct wartad *wd)
{
	if (wd->http) {
		evhttp_free(wd->http);
		wd->http = NULL;
	}
}
