/*
 * webhook.c — [webhook NAME] deliveries: each notification whose topic
 * starts with the webhook's prefix is POSTed to its url as JSON (the
 * notification body, as on SSE), one at a time, in seq order.
 *
 * Headers: Content-Type: application/json, X-Warta-Webhook: NAME,
 * X-Warta-Seq: the seq, X-Warta-Topic: the notify topic, and with a
 * secret X-Warta-Signature: sha256=<hex HMAC-SHA256 of the body, keyed
 * with the secret> (libsodium), which the receiver recomputes over the
 * raw body and compares in constant time.
 *
 * Durability: each webhook has a cursor, the last seq it answered 2xx for
 * (or that did not match its prefix), saved in the store's "cursors"
 * database with the next group commit (batch_set_cursor: the writer
 * thread owns LMDB writes).  Deliveries are read from the store, never
 * from memory, so after a restart they resume after the saved cursor:
 * at least once, in order.  A failure (no connection, a timeout, a
 * non-2xx answer) is retried after a backoff that doubles from
 * WEBHOOK_BACKOFF_MIN_MS to WEBHOOK_BACKOFF_MAX_MS; later events wait,
 * since order is the promise.  A webhook without a saved cursor starts
 * at the last seq when the daemon starts: it is sent what comes after.
 *
 * https:// goes through libevent's OpenSSL bufferevents: TLS 1.2 or
 * later, the peer's certificate verified against the system's trust store
 * (OpenSSL's default paths; SSL_CERT_FILE and SSL_CERT_DIR override them)
 * and matched to the URL's host name or IP address, with SNI.  A failed
 * connection is never reused: the next attempt makes a fresh one (a TLS
 * session's state is not worth saving across a failure).  Host names are
 * resolved with evdns on the loop, which never blocks.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sodium.h>

#include "daemon/log.h"
#include "daemon/wartad.h"
#include "daemon/xmalloc.h"

#define WEBHOOK_BACKOFF_MIN_MS	100
#define WEBHOOK_BACKOFF_MAX_MS	60000
#define WEBHOOK_TIMEOUT_S	10
#define WEBHOOK_SCAN_MAX	4096	/* events passed over per step */

struct webhook {
	struct webhooks		*hooks;
	const struct webhook_cfg *cfg;
	char			*host;
	int			 port;
	char			*path;		/* path and query */
	char			*host_hdr;	/* host[:port] */
	bool			 tls;		/* https:// */
	bool			 reconnect;	/* after a failure */
	struct evhttp_connection *conn;
	struct event		*ev;		/* the next step or retry */
	uint64_t		 cursor;	/* last seq done */
	uint64_t		 inflight;	/* seq being posted, or 0 */
	uint64_t		 failures, delivered;
	int64_t			 backoff_ms;	/* 0: not failing */
	/* The event being delivered, kept across retries. */
	char			*body;
	char			*topic;
};

struct webhooks {
	struct wartad		*wd;
	SSL_CTX			*ssl;		/* when any url is https:// */
	struct webhook		*v;
	size_t			 n;
};

/*
 * Split an http:// or https:// URL into host, port (80 or 443 by default)
 * and path with its query ("/" when empty); *tls says https.  Returns 0,
 * or -1 with *cause set; the caller frees host, path and cause.
 */
int
webhook_parse_url(const char *url, char **host, int *port, char **path,
    bool *tls, char **cause)
{
	struct evhttp_uri *u;
	const char *h, *p, *q, *scheme;

	*host = *path = NULL;
	if ((u = evhttp_uri_parse(url)) == NULL) {
		xasprintf(cause, "'%s' is not a URL", url);
		return -1;
	}
	scheme = evhttp_uri_get_scheme(u);
	h = evhttp_uri_get_host(u);
	if (scheme == NULL || (strcmp(scheme, "http") != 0 &&
	    strcmp(scheme, "https") != 0)) {
		xasprintf(cause, "'%s': only http:// and https:// URLs are "
		    "supported", url);
		goto fail;
	}
	*tls = strcmp(scheme, "https") == 0;
	if (h == NULL || *h == '\0') {
		xasprintf(cause, "'%s' has no host", url);
		goto fail;
	}
	if (evhttp_uri_get_userinfo(u) != NULL) {
		xasprintf(cause, "'%s': user:password@ is not supported "
		    "(sign with a secret instead)", url);
		goto fail;
	}
	*port = evhttp_uri_get_port(u);
	if (*port == -1)
		*port = *tls ? 443 : 80;
	if (*port <= 0 || *port > 65535) {
		xasprintf(cause, "'%s': port %d is out of range", url, *port);
		goto fail;
	}
	p = evhttp_uri_get_path(u);
	q = evhttp_uri_get_query(u);
	*host = xstrdup(h);
	xasprintf(path, "%s%s%s", p && *p ? p : "/", q ? "?" : "",
	    q ? q : "");
	evhttp_uri_free(u);
	return 0;
fail:
	evhttp_uri_free(u);
	return -1;
}

/*
 * The signature header's value: "sha256=" and the lower-case hex
 * HMAC-SHA256 of body keyed with secret.  0, or -1 when out is shorter
 * than 72 bytes.
 */
int
webhook_sign(const char *secret, const void *body, size_t len, char *out,
    size_t outsz)
{
	crypto_auth_hmacsha256_state st;
	unsigned char mac[crypto_auth_hmacsha256_BYTES];

	if (outsz < 7 + 2 * sizeof mac + 1)
		return -1;
	if (sodium_init() < 0)
		fatalx("webhook: libsodium cannot start");
	crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret,
	    strlen(secret));
	crypto_auth_hmacsha256_update(&st, body, len);
	crypto_auth_hmacsha256_final(&st, mac);
	memcpy(out, "sha256=", 7);
	sodium_bin2hex(out + 7, outsz - 7, mac, sizeof mac);
	sodium_memzero(&st, sizeof st);
	return 0;
}

/* Run the webhook's next step from the loop, after delay_ms. */
static void
webhook_schedule(struct webhook *h, int64_t delay_ms)
{
	struct timeval tv = { (time_t)(delay_ms / 1000),
	    (suseconds_t)(delay_ms % 1000) * 1000 };

	if (!evtimer_pending(h->ev, NULL))
		evtimer_add(h->ev, &tv);
}

/* Mark seq done: in memory now, in the store with the next commit. */
static void
webhook_advance(struct webhook *h, uint64_t seq)
{
	struct wartad *wd = h->hooks->wd;

	h->cursor = seq;
	batch_set_cursor(wd, h->cfg->name, seq);
}

static void	webhook_post(struct webhook *);

/* After a failed https:// request: log why TLS failed, if it did. */
static void
webhook_log_tls(struct webhook *h)
{
	struct bufferevent *bev = evhttp_connection_get_bufferevent(h->conn);
	SSL *ssl;
	unsigned long e;
	long v;
	char buf[256];

	if (!h->tls || bev == NULL)
		return;
	if ((ssl = bufferevent_openssl_get_ssl(bev)) != NULL &&
	    (v = SSL_get_verify_result(ssl)) != X509_V_OK)
		log_warnx("webhook %s: the certificate of %s is not trusted: "
		    "%s", h->cfg->name, h->host_hdr,
		    X509_verify_cert_error_string(v));
	else if ((e = bufferevent_get_openssl_error(bev)) != 0) {
		ERR_error_string_n(e, buf, sizeof buf);
		log_warnx("webhook %s: TLS with %s failed: %s", h->cfg->name,
		    h->host_hdr, buf);
	}
}

/* A new connection to the webhook's host, over TLS for https://. */
static struct evhttp_connection *
webhook_connect(struct webhook *h)
{
	struct wartad *wd = h->hooks->wd;
	struct evhttp_connection *conn;
	struct bufferevent *bev;
	struct in6_addr a6;
	struct in_addr a4;
	SSL *ssl;
	bool ip;

	if (!h->tls)
		conn = evhttp_connection_base_new(wd->base, wd->dns, h->host,
		    (unsigned short)h->port);
	else {
		if ((ssl = SSL_new(h->hooks->ssl)) == NULL)
			fatalx("webhook: SSL_new failed");
		ip = inet_pton(AF_INET, h->host, &a4) == 1 ||
		    inet_pton(AF_INET6, h->host, &a6) == 1;
		if (ip)
			X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl),
			    h->host);
		else {
			SSL_set_tlsext_host_name(ssl, h->host);
			SSL_set1_host(ssl, h->host);
		}
		bev = bufferevent_openssl_socket_new(wd->base, -1, ssl,
		    BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE |
		    BEV_OPT_DEFER_CALLBACKS);
		if (bev == NULL)
			fatalx("webhook: cannot make a TLS bufferevent");
		/* Many servers close without a TLS close_notify. */
		bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
		conn = evhttp_connection_base_bufferevent_new(wd->base, wd->dns,
		    bev, h->host, (unsigned short)h->port);
	}
	if (conn == NULL)
		fatalx("webhook: out of memory");
	evhttp_connection_set_timeout(conn, WEBHOOK_TIMEOUT_S);
	return conn;
}

/* The receiver answered, or the request failed (req NULL or code 0). */
static void
webhook_done(struct evhttp_request *req, void *arg)
{
	struct webhook *h = arg;
	struct wartad *wd = h->hooks->wd;
	int code = req ? evhttp_request_get_response_code(req) : 0;

	if (h->inflight == 0)
		return;
	if (code >= 200 && code <= 299) {
		webhook_advance(h, h->inflight);
		h->delivered++;
		h->inflight = 0;
		h->backoff_ms = 0;
		free(h->body);
		free(h->topic);
		h->body = h->topic = NULL;
		batch_flush(wd);
		webhook_schedule(h, 0);
		return;
	}
	h->failures++;
	h->reconnect = true;
	h->backoff_ms = h->backoff_ms == 0 ? WEBHOOK_BACKOFF_MIN_MS :
	    h->backoff_ms * 2;
	if (h->backoff_ms > WEBHOOK_BACKOFF_MAX_MS)
		h->backoff_ms = WEBHOOK_BACKOFF_MAX_MS;
	/* Loud at the first failure of a run and once at the cap. */
	if (h->backoff_ms == WEBHOOK_BACKOFF_MIN_MS ||
	    h->backoff_ms == WEBHOOK_BACKOFF_MAX_MS) {
		if (code == 0 && h->conn != NULL)
			webhook_log_tls(h);
		log_warnx("webhook %s: seq %" PRIu64 ": %s; retrying in %"
		    PRId64 " ms", h->cfg->name, h->inflight, code == 0 ?
		    "no answer (cannot connect, TLS failed, or timed out)" :
		    "the receiver did not answer 2xx", h->backoff_ms);
	} else
		log_debug("webhook %s: seq %" PRIu64 ": failed (%d); retrying "
		    "in %" PRId64 " ms", h->cfg->name, h->inflight, code,
		    h->backoff_ms);
	webhook_schedule(h, h->backoff_ms);
}

/* POST the event kept in h->body. */
static void
webhook_post(struct webhook *h)
{
	struct evhttp_request *req;
	struct evkeyvalq *hd;
	char seq[24], sig[80];
	size_t len = strlen(h->body);

	if (h->conn != NULL && h->reconnect) {
		evhttp_connection_free(h->conn);
		h->conn = NULL;
	}
	h->reconnect = false;
	if (h->conn == NULL)
		h->conn = webhook_connect(h);
	if ((req = evhttp_request_new(webhook_done, h)) == NULL)
		fatalx("webhook: out of memory");
	hd = evhttp_request_get_output_headers(req);
	snprintf(seq, sizeof seq, "%" PRIu64, h->inflight);
	evhttp_add_header(hd, "Host", h->host_hdr);
	evhttp_add_header(hd, "Content-Type", "application/json");
	evhttp_add_header(hd, "User-Agent", "wartad/" WARTA_VERSION);
	evhttp_add_header(hd, "X-Warta-Webhook", h->cfg->name);
	evhttp_add_header(hd, "X-Warta-Seq", seq);
	evhttp_add_header(hd, "X-Warta-Topic", h->topic);
	if (h->cfg->secret != NULL) {
		webhook_sign(h->cfg->secret, h->body, len, sig, sizeof sig);
		evhttp_add_header(hd, "X-Warta-Signature", sig);
	}
	evbuffer_add(evhttp_request_get_output_buffer(req), h->body, len);
	if (evhttp_make_request(h->conn, req, EVHTTP_REQ_POST, h->path) == -1)
		/* evhttp has freed req and called nothing. */
		webhook_done(NULL, h);
}

struct webhook_scan {
	struct webhook	*h;
	uint64_t	 last;		/* wd->last_seq */
	size_t		 scanned;
	bool		 stopped;
};

/* Find the next matching event; pass over the others. */
static int
webhook_scan_cb(void *arg, uint64_t seq, const uint8_t *body, size_t len)
{
	struct webhook_scan *sc = arg;
	struct webhook *h = sc->h;
	const char *prefix = h->cfg->prefix ? h->cfg->prefix : "";
	size_t plen = strlen(prefix), tlen;
	const char *topic;

	if (seq > sc->last || sc->scanned >= WEBHOOK_SCAN_MAX) {
		sc->stopped = true;
		return 1;
	}
	sc->scanned++;
	if (store_body_str(body, len, "topic", &topic, &tlen) == -1 ||
	    tlen < plen || memcmp(topic, prefix, plen) != 0 ||
	    (h->body = jsonmap_dumps(body, len)) == NULL) {
		webhook_advance(h, seq);
		return 0;
	}
	h->topic = xstrndup(topic, tlen);
	h->inflight = seq;
	sc->stopped = true;
	return 1;
}

/* The webhook's next step: post the next matching event, if any. */
static void
webhook_step(evutil_socket_t fd, short what, void *arg)
{
	struct webhook *h = arg;
	struct wartad *wd = h->hooks->wd;
	struct webhook_scan sc = { .h = h, .last = wd->last_seq };
	char *cause = NULL;
	int rc;

	if (wd->stopping)
		return;
	if (h->inflight != 0) {
		/* A retry, or a request still out. */
		if (h->body != NULL && h->backoff_ms != 0)
			webhook_post(h);
		return;
	}
	if (h->cursor >= wd->last_seq)
		return;
	if (store_rd_begin(wd->store, &cause) == -1) {
		log_warnx("webhook %s: %s", h->cfg->name, cause);
		free(cause);
		webhook_schedule(h, WEBHOOK_BACKOFF_MAX_MS / 60);
		return;
	}
	rc = store_rd_scan(wd->store, h->cursor + 1, webhook_scan_cb, &sc);
	store_rd_end(wd->store);
	if (rc != STORE_OK) {
		log_warnx("webhook %s: the store cannot be read after seq %"
		    PRIu64, h->cfg->name, h->cursor);
		webhook_schedule(h, WEBHOOK_BACKOFF_MAX_MS);
		return;
	}
	if (!sc.stopped && h->cursor < wd->last_seq)
		webhook_advance(h, wd->last_seq);	/* removed by retention */
	/* A cursor moved past events of other topics rides along with the
	   next commit: losing it costs a rescan, not a delivery. */
	if (h->inflight != 0)
		webhook_post(h);
	else if (h->cursor < wd->last_seq)
		webhook_schedule(h, 0);
}

/* New events were committed: wake the idle webhooks. */
static void
webhook_wake(struct wartad *wd)
{
	struct webhooks *hooks = wd->hooks;

	if (hooks == NULL || wd->stopping)
		return;
	for (size_t i = 0; i < hooks->n; i++)
		if (hooks->v[i].inflight == 0 &&
		    hooks->v[i].cursor < wd->last_seq)
			webhook_schedule(&hooks->v[i], 0);
}

/* A batch committed: wake the webhooks for its events. */
void
webhook_committed(struct wartad *wd, const struct batch *b)
{
	if (b->nitems > 0)
		webhook_wake(wd);
}

/* The TLS client context: verify peers against the default trust store. */
static int
webhook_ssl_init(struct webhooks *hooks, char **cause)
{
	SSL_CTX *ctx;

	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		xasprintf(cause, "webhook: cannot set up TLS");
		return -1;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
		SSL_CTX_free(ctx);
		xasprintf(cause, "webhook: cannot load the system's trusted "
		    "certificates");
		return -1;
	}
	hooks->ssl = ctx;
	return 0;
}

/* Set up every [webhook NAME], reading its saved cursor. */
int
webhook_open(struct wartad *wd, char **cause)
{
	const struct config *cfg = wd->cfg;
	struct webhooks *hooks;
	char *why = NULL;

	if (cfg->nwebhooks == 0)
		return 0;
	if (sodium_init() < 0)
		fatalx("webhook: libsodium cannot start");
	if ((wd->dns = evdns_base_new(wd->base,
	    EVDNS_BASE_INITIALIZE_NAMESERVERS)) == NULL &&
	    (wd->dns = evdns_base_new(wd->base, 0)) == NULL)
		fatalx("webhook: cannot set up DNS");
	hooks = xcalloc(1, sizeof *hooks);
	hooks->wd = wd;
	hooks->v = xcalloc(cfg->nwebhooks, sizeof *hooks->v);
	wd->hooks = hooks;
	if (store_rd_begin(wd->store, cause) == -1)
		return -1;
	for (size_t i = 0; i < cfg->nwebhooks; i++) {
		struct webhook *h = &hooks->v[i];
		int rc;

		h->hooks = hooks;
		h->cfg = &cfg->webhooks[i];
		hooks->n++;
		if (webhook_parse_url(h->cfg->url, &h->host, &h->port,
		    &h->path, &h->tls, &why) == -1) {
			xasprintf(cause, "webhook %s: url %s", h->cfg->name,
			    why);
			free(why);
			store_rd_end(wd->store);
			return -1;
		}
		if (h->tls && hooks->ssl == NULL &&
		    webhook_ssl_init(hooks, cause) == -1) {
			store_rd_end(wd->store);
			return -1;
		}
		if (h->port == (h->tls ? 443 : 80))
			h->host_hdr = xstrdup(h->host);
		else
			xasprintf(&h->host_hdr, "%s:%d", h->host, h->port);
		h->ev = evtimer_new(wd->base, webhook_step, h);
		rc = store_rd_cursor(wd->store, h->cfg->name, &h->cursor);
		if (rc == STORE_NOTFOUND) {
			h->cursor = wd->last_seq;
			batch_set_cursor(wd, h->cfg->name, h->cursor);
		} else if (rc != STORE_OK) {
			xasprintf(cause, "webhook %s: its saved cursor cannot "
			    "be read", h->cfg->name);
			store_rd_end(wd->store);
			return -1;
		}
		log_info("webhook %s: %s, prefix '%s', from seq %" PRIu64 "%s",
		    h->cfg->name, h->cfg->url, h->cfg->prefix ?
		    h->cfg->prefix : "", h->cursor + 1, h->cfg->secret ?
		    ", signed" : ", unsigned");
	}
	store_rd_end(wd->store);
	batch_flush(wd);
	webhook_wake(wd);
	return 0;
}

/* Stop delivering; an answer still out is not waited for (its event is
 * sent again after a restart). */
void
webhook_close(struct wartad *wd)
{
	struct webhooks *hooks = wd->hooks;

	if (hooks != NULL) {
		for (size_t i = 0; i < hooks->n; i++) {
			struct webhook *h = &hooks->v[i];

			if (h->conn)
				evhttp_connection_free(h->conn);
			if (h->ev)
				event_free(h->ev);
			free(h->host);
			free(h->path);
			free(h->host_hdr);
			free(h->body);
			free(h->topic);
		}
		free(hooks->v);
		if (hooks->ssl)
			SSL_CTX_free(hooks->ssl);
		free(hooks);
		wd->hooks = NULL;
	}
	if (wd->dns != NULL) {
		evdns_base_free(wd->dns, 0);
		wd->dns = NULL;
	}
}

/* The number of webhooks. */
size_t
webhook_count(const struct wartad *wd)
{
	return wd->hooks ? wd->hooks->n : 0;
}

/* Webhook i's cursor and counters, for stats and /metrics. */
void
webhook_get_info(const struct wartad *wd, size_t i, struct webhook_info *wi)
{
	const struct webhook *h = &wd->hooks->v[i];

	wi->name = h->cfg->name;
	wi->cursor = h->cursor;
	wi->lag = wd->last_seq > h->cursor ? wd->last_seq - h->cursor : 0;
	wi->failures = h->failures;
	wi->delivered = h->delivered;
}
