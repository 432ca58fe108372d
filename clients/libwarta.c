/*
 * libwarta.c — the client library declared in warta.h: api requests over a
 * DEALER with REQ semantics, pipelined acked publishes, unacknowledged
 * publishes on ingest, and subscriptions that catch up by replay.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <msgpack.h>
#include <zmq.h>

#include "clients/warta.h"

#define WARTA_HEARTBEAT_TOPIC	"_sys.heartbeat"
#define WARTA_REPLAY_PAGE	1000
#define WARTA_BACKOFF_MIN_MS	100
#define WARTA_BACKOFF_MAX_MS	5000
#define WARTA_MAX_WINDOW	1000

/* One pipelined publish waiting for its reply. */
struct warta_pending {
	warta_ack_fn	*fn;
	void		*arg;
	void		*tag;
};

struct warta {
	void			*ctx;
	bool			 own_ctx;
	char			*api_ep;
	char			*notify_ep;
	char			*ingest_ep;
	int			 timeout_ms;
	int			 window;
	char			*server_key;
	char			*public_key;
	char			*secret_key;

	void			*api;		/* DEALER, made on first use */
	void			*ingest;	/* XPUB, made on first send */
	bool			 ingest_ready;

	struct warta_pending	*q;		/* ring of window entries */
	size_t			 qhead;
	size_t			 qlen;

	char			 err[1024];
	char			 code[64];
};

/* What a struct warta_reply keeps alive. */
struct warta_reply_priv {
	zmq_msg_t		 msg;
	msgpack_unpacked	 up;
	char			*error;
	char			*detail;
};

static void	 warta_seterr(struct warta *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

/* Allocate or die. */
static void *
warta_xcalloc(size_t n, size_t size)
{
	void	*p;

	if ((p = calloc(n == 0 ? 1 : n, size == 0 ? 1 : size)) == NULL) {
		fprintf(stderr, "warta: out of memory\n");
		abort();
	}
	return p;
}

/* Copy a string or die; NULL stays NULL. */
static char *
warta_xstrdup(const char *s)
{
	char	*p;

	if (s == NULL)
		return NULL;
	if ((p = strdup(s)) == NULL) {
		fprintf(stderr, "warta: out of memory\n");
		abort();
	}
	return p;
}

/* Copy len bytes as a NUL-terminated string, or die. */
static char *
warta_xstrndup(const char *s, size_t len)
{
	char	*p;

	p = warta_xcalloc(1, len + 1);
	memcpy(p, s, len);
	return p;
}

/* Remember a failure for warta_error(). */
static void
warta_seterr(struct warta *w, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(w->err, sizeof w->err, fmt, ap);
	va_end(ap);
	w->code[0] = '\0';
}

/* Milliseconds on the monotonic clock. */
static int64_t
warta_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A timeout in ms as a short human string ("5s", "1.5s"). */
static const char *
warta_secs(int ms, char *buf, size_t len)
{
	if (ms % 1000 == 0)
		snprintf(buf, len, "%ds", ms / 1000);
	else
		snprintf(buf, len, "%.1fs", ms / 1000.0);
	return buf;
}

/* The option, else the environment variable, else the default. */
static char *
warta_pick(const char *opt, const char *env, const char *def)
{
	const char	*e;

	if (opt != NULL && *opt != '\0')
		return warta_xstrdup(opt);
	if ((e = getenv(env)) != NULL && *e != '\0')
		return warta_xstrdup(e);
	return warta_xstrdup(def);
}

/* Whether s is a 40-character Z85 key. */
static bool
warta_key_ok(const char *s)
{
	uint8_t	bin[32];

	return s != NULL && strlen(s) == 40 && zmq_z85_decode(bin, s) != NULL;
}

/* Every option at its default. */
void
warta_options_init(struct warta_options *o)
{
	memset(o, 0, sizeof *o);
}

/* A new client; sockets are made on first use. */
struct warta *
warta_new(const struct warta_options *o, char **cause)
{
	struct warta		*w;
	struct warta_options	 none;
	int			 nkeys;

	if (o == NULL) {
		warta_options_init(&none);
		o = &none;
	}
	*cause = NULL;
	nkeys = (o->server_key != NULL) + (o->public_key != NULL) +
	    (o->secret_key != NULL);
	if (nkeys != 0 && nkeys != 3) {
		*cause = warta_xstrdup("CURVE needs the server's public key "
		    "and our public and secret keys, all three");
		return NULL;
	}
	if (nkeys == 3 && (!warta_key_ok(o->server_key) ||
	    !warta_key_ok(o->public_key) || !warta_key_ok(o->secret_key))) {
		*cause = warta_xstrdup("a CURVE key is not 40 characters of "
		    "Z85");
		return NULL;
	}
	if (o->timeout_ms < 0 || o->window < 0) {
		*cause = warta_xstrdup("timeout and window must not be "
		    "negative");
		return NULL;
	}

	w = warta_xcalloc(1, sizeof *w);
	w->api_ep = warta_pick(o->api, "WARTA_API", WARTA_DEFAULT_API);
	w->notify_ep = warta_pick(o->notify, "WARTA_NOTIFY",
	    WARTA_DEFAULT_NOTIFY);
	w->ingest_ep = warta_pick(o->ingest, "WARTA_INGEST",
	    WARTA_DEFAULT_INGEST);
	w->timeout_ms = o->timeout_ms ? o->timeout_ms :
	    WARTA_DEFAULT_TIMEOUT_MS;
	w->window = o->window ? o->window : WARTA_DEFAULT_WINDOW;
	if (w->window > WARTA_MAX_WINDOW)
		w->window = WARTA_MAX_WINDOW;
	w->server_key = warta_xstrdup(o->server_key);
	w->public_key = warta_xstrdup(o->public_key);
	w->secret_key = warta_xstrdup(o->secret_key);
	w->q = warta_xcalloc(w->window, sizeof *w->q);

	if (o->zmq_ctx != NULL)
		w->ctx = o->zmq_ctx;
	else if ((w->ctx = zmq_ctx_new()) != NULL)
		w->own_ctx = true;
	else {
		if (asprintf(cause, "zmq_ctx_new: %s", zmq_strerror(errno))
		    == -1)
			*cause = NULL;
		warta_destroy(&w);
		return NULL;
	}
	return w;
}

/* Close the sockets (ingest lingers to deliver), free the handle. */
void
warta_destroy(struct warta **wp)
{
	struct warta	*w = *wp;

	if (w == NULL)
		return;
	if (w->api != NULL)
		zmq_close(w->api);
	if (w->ingest != NULL)
		zmq_close(w->ingest);	/* lingers to deliver what it holds */
	if (w->own_ctx && w->ctx != NULL)
		zmq_ctx_term(w->ctx);
	free(w->api_ep);
	free(w->notify_ep);
	free(w->ingest_ep);
	free(w->server_key);
	free(w->public_key);
	free(w->secret_key);
	free(w->q);
	free(w);
	*wp = NULL;
}

/* The last failure's message. */
const char *
warta_error(const struct warta *w)
{
	return w->err;
}

/* The daemon's error code of the last WARTA_E_DAEMON. */
const char *
warta_error_code(const struct warta *w)
{
	return w->code;
}

/* The api endpoint in use. */
const char *
warta_api_endpoint(const struct warta *w)
{
	return w->api_ep;
}

/* The notify endpoint in use. */
const char *
warta_notify_endpoint(const struct warta *w)
{
	return w->notify_ep;
}

/* The ingest endpoint in use. */
const char *
warta_ingest_endpoint(const struct warta *w)
{
	return w->ingest_ep;
}

/* A socket of type connected to ep, with CURVE when configured. */
static void *
warta_socket(struct warta *w, int type, const char *ep, int linger)
{
	void	*s;
	int	 one = 1, ivl_max = WARTA_BACKOFF_MAX_MS;

	if ((s = zmq_socket(w->ctx, type)) == NULL) {
		warta_seterr(w, "zmq_socket: %s", zmq_strerror(errno));
		return NULL;
	}
	zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
	/* Reconnect with backoff, from 100 ms up to the maximum. */
	zmq_setsockopt(s, ZMQ_RECONNECT_IVL_MAX, &ivl_max, sizeof ivl_max);
	if (w->server_key != NULL) {
		if (zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, w->server_key, 40)
		    == -1 ||
		    zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, w->public_key, 40)
		    == -1 ||
		    zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, w->secret_key, 40)
		    == -1) {
			warta_seterr(w, "CURVE keys: %s", zmq_strerror(errno));
			zmq_close(s);
			return NULL;
		}
	}
	if (type == ZMQ_XPUB)
		zmq_setsockopt(s, ZMQ_XPUB_NODROP, &one, sizeof one);
	if (zmq_connect(s, ep) == -1) {
		warta_seterr(w, "%s: %s", ep, zmq_strerror(errno));
		zmq_close(s);
		return NULL;
	}
	return s;
}

/* The api socket, made on first use. */
static int
warta_api_open(struct warta *w)
{
	if (w->api != NULL)
		return WARTA_OK;
	if ((w->api = warta_socket(w, ZMQ_DEALER, w->api_ep, 0)) == NULL)
		return WARTA_E_SYS;
	zmq_setsockopt(w->api, ZMQ_SNDTIMEO, &w->timeout_ms,
	    sizeof w->timeout_ms);
	return WARTA_OK;
}

/* Forget the api socket, and with it any reply still on its way, and every
   pipelined publish in flight. */
static void
warta_api_reset(struct warta *w)
{
	if (w->api != NULL)
		zmq_close(w->api);
	w->api = NULL;
	w->qhead = w->qlen = 0;
}

/* Send one request as REQ would: an empty delimiter, then the body. */
static int
warta_api_send(struct warta *w, const void *req, size_t len)
{
	char	 t[32];
	int	 rc;

	if ((rc = warta_api_open(w)) != WARTA_OK)
		return rc;
	if (zmq_send(w->api, "", 0, ZMQ_SNDMORE) == -1 ||
	    zmq_send(w->api, req, len, 0) == -1) {
		if (errno == EAGAIN) {
			warta_seterr(w, "cannot send to %s within %s",
			    w->api_ep, warta_secs(w->timeout_ms, t, sizeof t));
			warta_api_reset(w);
			return WARTA_E_TIMEOUT;
		}
		warta_seterr(w, "%s: send: %s", w->api_ep,
		    zmq_strerror(errno));
		warta_api_reset(w);
		return WARTA_E_SYS;
	}
	return WARTA_OK;
}

/* Wait up to ms for socket s to be readable: 1 ready, 0 timed out or
   stopped (*stopped set), -1 error. */
static int
warta_wait(void *s, int ms, volatile sig_atomic_t *stop, bool *stopped)
{
	zmq_pollitem_t	 it = { s, 0, ZMQ_POLLIN, 0 };
	int64_t		 deadline = warta_now_ms() + ms, left;
	int		 n;

	*stopped = false;
	for (;;) {
		if (stop != NULL && *stop) {
			*stopped = true;
			return 0;
		}
		left = deadline - warta_now_ms();
		if (left < 0)
			left = 0;
		n = zmq_poll(&it, 1, (long)left);
		if (n > 0)
			return 1;
		if (n == 0)
			return 0;
		if (errno != EINTR)
			return -1;
	}
}

/* Receive one reply's body from the api into msg (initialised here). */
static int
warta_api_recv(struct warta *w, zmq_msg_t *msg, volatile sig_atomic_t *stop)
{
	zmq_msg_t	 delim;
	char		 t[32];
	bool		 stopped;
	int		 n, more;

	n = warta_wait(w->api, w->timeout_ms, stop, &stopped);
	if (n == 0 && stopped) {
		warta_seterr(w, "stopped");
		warta_api_reset(w);
		return WARTA_E_STOPPED;
	}
	if (n == 0) {
		warta_seterr(w, "no reply from %s within %s (is wartad "
		    "running?)", w->api_ep,
		    warta_secs(w->timeout_ms, t, sizeof t));
		warta_api_reset(w);
		return WARTA_E_TIMEOUT;
	}
	if (n == -1) {
		warta_seterr(w, "%s: poll: %s", w->api_ep,
		    zmq_strerror(errno));
		warta_api_reset(w);
		return WARTA_E_SYS;
	}

	zmq_msg_init(&delim);
	if (zmq_msg_recv(&delim, w->api, 0) == -1) {
		warta_seterr(w, "%s: recv: %s", w->api_ep,
		    zmq_strerror(errno));
		zmq_msg_close(&delim);
		warta_api_reset(w);
		return WARTA_E_SYS;
	}
	more = zmq_msg_more(&delim);
	n = (int)zmq_msg_size(&delim);
	zmq_msg_close(&delim);
	if (n != 0 || !more) {
		warta_seterr(w, "%s: reply without the empty delimiter frame",
		    w->api_ep);
		warta_api_reset(w);
		return WARTA_E_PROTO;
	}
	zmq_msg_init(msg);
	if (zmq_msg_recv(msg, w->api, 0) == -1) {
		warta_seterr(w, "%s: recv: %s", w->api_ep,
		    zmq_strerror(errno));
		zmq_msg_close(msg);
		warta_api_reset(w);
		return WARTA_E_SYS;
	}
	if (zmq_msg_more(msg)) {
		warta_seterr(w, "%s: reply of more than one frame after the "
		    "delimiter", w->api_ep);
		zmq_msg_close(msg);
		warta_api_reset(w);
		return WARTA_E_PROTO;
	}
	return WARTA_OK;
}

/* Unpack a reply body: one map with a boolean "ok". */
static int
warta_reply_decode(struct warta *w, zmq_msg_t *msg, struct warta_reply **rp)
{
	struct warta_reply	*r;
	struct warta_reply_priv	*p;
	const msgpack_object	*o;
	size_t			 off = 0;

	r = warta_xcalloc(1, sizeof *r);
	p = warta_xcalloc(1, sizeof *p);
	r->priv = p;
	zmq_msg_init(&p->msg);
	zmq_msg_move(&p->msg, msg);
	msgpack_unpacked_init(&p->up);
	if (msgpack_unpack_next(&p->up, zmq_msg_data(&p->msg),
	    zmq_msg_size(&p->msg), &off) != MSGPACK_UNPACK_SUCCESS ||
	    off != zmq_msg_size(&p->msg) ||
	    p->up.data.type != MSGPACK_OBJECT_MAP) {
		warta_seterr(w, "%s: a reply that is not one MessagePack map",
		    w->api_ep);
		warta_reply_free(&r);
		return WARTA_E_PROTO;
	}
	r->root = p->up.data;
	o = warta_map_get(&r->root, "ok");
	if (o == NULL || o->type != MSGPACK_OBJECT_BOOLEAN) {
		warta_seterr(w, "%s: a reply without a boolean \"ok\"",
		    w->api_ep);
		warta_reply_free(&r);
		return WARTA_E_PROTO;
	}
	r->ok = o->via.boolean;
	if ((p->error = warta_map_strdup(&r->root, "error")) == NULL)
		p->error = warta_xstrdup("");
	if ((p->detail = warta_map_strdup(&r->root, "detail")) == NULL)
		p->detail = warta_xstrdup("");
	r->error = p->error;
	r->detail = p->detail;
	*rp = r;
	if (!r->ok) {
		if (*r->detail != '\0')
			warta_seterr(w, "%s: %s", *r->error ? r->error :
			    "error", r->detail);
		else
			warta_seterr(w, "%s", *r->error ? r->error : "error");
		snprintf(w->code, sizeof w->code, "%s", r->error);
		return WARTA_E_DAEMON;
	}
	return WARTA_OK;
}

/* Free a reply and everything it points to. */
void
warta_reply_free(struct warta_reply **rp)
{
	struct warta_reply	*r = *rp;
	struct warta_reply_priv	*p;

	if (r == NULL)
		return;
	p = r->priv;
	msgpack_unpacked_destroy(&p->up);
	zmq_msg_close(&p->msg);
	free(p->error);
	free(p->detail);
	free(p);
	free(r);
	*rp = NULL;
}

/* warta_request() that can be stopped by a flag. */
static int
warta_request_stop(struct warta *w, const void *req, size_t len,
    struct warta_reply **reply, volatile sig_atomic_t *stop)
{
	zmq_msg_t	msg;
	int		rc;

	*reply = NULL;
	if ((rc = warta_flush(w)) != WARTA_OK)
		return rc;
	if ((rc = warta_api_send(w, req, len)) != WARTA_OK)
		return rc;
	if ((rc = warta_api_recv(w, &msg, stop)) != WARTA_OK)
		return rc;
	return warta_reply_decode(w, &msg, reply);
}

/* One request, one reply, bounded by the timeout. */
int
warta_request(struct warta *w, const void *req, size_t len,
    struct warta_reply **reply)
{
	return warta_request_stop(w, req, len, reply, NULL);
}

/* Look a string key up in a map. */
const msgpack_object *
warta_map_get(const msgpack_object *m, const char *key)
{
	size_t		i, len = strlen(key);
	msgpack_object	*k;

	if (m == NULL || m->type != MSGPACK_OBJECT_MAP)
		return NULL;
	for (i = 0; i < m->via.map.size; i++) {
		k = &m->via.map.ptr[i].key;
		if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == len &&
		    memcmp(k->via.str.ptr, key, len) == 0)
			return &m->via.map.ptr[i].val;
	}
	return NULL;
}

/* An unsigned integer at key. */
int
warta_map_uint(const msgpack_object *m, const char *key, uint64_t *out)
{
	const msgpack_object	*o;

	if ((o = warta_map_get(m, key)) == NULL ||
	    o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
		return -1;
	*out = o->via.u64;
	return 0;
}

/* A string at key, copied and NUL-terminated. */
char *
warta_map_strdup(const msgpack_object *m, const char *key)
{
	const msgpack_object	*o;

	if ((o = warta_map_get(m, key)) == NULL ||
	    o->type != MSGPACK_OBJECT_STR)
		return NULL;
	return warta_xstrndup(o->via.str.ptr, o->via.str.size);
}

/* Whether o is the string s. */
bool
warta_str_eq(const msgpack_object *o, const char *s)
{
	size_t	len = strlen(s);

	return o != NULL && o->type == MSGPACK_OBJECT_STR &&
	    o->via.str.size == len && memcmp(o->via.str.ptr, s, len) == 0;
}

/* Pack {op: "publish", topic: type, event: <event bytes as given>}. */
static void
warta_pack_publish(msgpack_sbuffer *sb, const char *type, const void *event,
    size_t len)
{
	msgpack_packer	pk;

	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 3);
	msgpack_pack_str_with_body(&pk, "op", 2);
	msgpack_pack_str_with_body(&pk, "publish", 7);
	msgpack_pack_str_with_body(&pk, "topic", 5);
	msgpack_pack_str_with_body(&pk, type, strlen(type));
	msgpack_pack_str_with_body(&pk, "event", 5);
	msgpack_sbuffer_write(sb, event, len);
}

/* Read seq and duplicate from an ok publish reply. */
static int
warta_publish_result(struct warta *w, const struct warta_reply *r,
    uint64_t *seq, bool *duplicate)
{
	const msgpack_object	*d;

	if (warta_map_uint(&r->root, "seq", seq) == -1) {
		warta_seterr(w, "%s: a publish reply without \"seq\"",
		    w->api_ep);
		return WARTA_E_PROTO;
	}
	d = warta_map_get(&r->root, "duplicate");
	*duplicate = d != NULL && d->type == MSGPACK_OBJECT_BOOLEAN &&
	    d->via.boolean;
	return WARTA_OK;
}

/* Acked publish of one event. */
int
warta_publish(struct warta *w, const char *type, const void *event,
    size_t len, uint64_t *seq, bool *duplicate)
{
	msgpack_sbuffer		 sb;
	struct warta_reply	*r;
	int			 rc;

	msgpack_sbuffer_init(&sb);
	warta_pack_publish(&sb, type, event, len);
	rc = warta_request(w, sb.data, sb.size, &r);
	msgpack_sbuffer_destroy(&sb);
	if (rc == WARTA_OK)
		rc = warta_publish_result(w, r, seq, duplicate);
	warta_reply_free(&r);
	return rc;
}

/* Receive the reply to the oldest pipelined publish and call its fn. */
static int
warta_ack_one(struct warta *w)
{
	struct warta_pending	 p;
	struct warta_reply	*r = NULL;
	struct warta_ack	 ack;
	zmq_msg_t		 msg;
	size_t			 n = w->qlen;
	char			 t[32];
	int			 rc;

	if ((rc = warta_api_recv(w, &msg, NULL)) != WARTA_OK) {
		if (rc == WARTA_E_TIMEOUT)
			warta_seterr(w, "no reply from %s within %s; %zu "
			    "publish%s unacknowledged (is wartad running?)",
			    w->api_ep, warta_secs(w->timeout_ms, t, sizeof t),
			    n, n == 1 ? "" : "es");
		return rc;
	}
	p = w->q[w->qhead];
	w->qhead = (w->qhead + 1) % (size_t)w->window;
	w->qlen--;

	memset(&ack, 0, sizeof ack);
	rc = warta_reply_decode(w, &msg, &r);
	if (rc == WARTA_OK)
		rc = warta_publish_result(w, r, &ack.seq, &ack.duplicate);
	if (rc == WARTA_E_PROTO) {
		warta_reply_free(&r);
		warta_api_reset(w);
		return rc;
	}
	ack.status = rc;
	ack.error = r->error;
	ack.detail = r->detail;
	if (p.fn != NULL)
		p.fn(p.arg, p.tag, &ack);
	warta_reply_free(&r);
	return WARTA_OK;
}

/* Pipelined acked publish: send now, fn on its reply. */
int
warta_publish_async(struct warta *w, const char *type, const void *event,
    size_t len, warta_ack_fn *fn, void *arg, void *tag)
{
	msgpack_sbuffer		 sb;
	struct warta_pending	*p;
	int			 rc;

	while (w->qlen >= (size_t)w->window)
		if ((rc = warta_ack_one(w)) != WARTA_OK)
			return rc;
	msgpack_sbuffer_init(&sb);
	warta_pack_publish(&sb, type, event, len);
	rc = warta_api_send(w, sb.data, sb.size);
	msgpack_sbuffer_destroy(&sb);
	if (rc != WARTA_OK)
		return rc;
	p = &w->q[(w->qhead + w->qlen) % (size_t)w->window];
	p->fn = fn;
	p->arg = arg;
	p->tag = tag;
	w->qlen++;
	return WARTA_OK;
}

/* Wait for every pipelined publish in flight. */
int
warta_flush(struct warta *w)
{
	int	rc;

	while (w->qlen > 0)
		if ((rc = warta_ack_one(w)) != WARTA_OK)
			return rc;
	return WARTA_OK;
}

/* How many pipelined publishes wait for replies. */
size_t
warta_in_flight(const struct warta *w)
{
	return w->qlen;
}

/* Open the ingest publisher and wait for the daemon's subscription to
   type: a publisher drops what it sends before that arrives. */
static int
warta_ingest_open(struct warta *w, const char *type)
{
	zmq_msg_t	 m;
	const char	*d;
	char		 t[32];
	size_t		 n, tlen = strlen(type);
	int64_t		 deadline;
	bool		 stopped, any = false;
	int		 r;

	if (w->ingest == NULL) {
		if ((w->ingest = warta_socket(w, ZMQ_XPUB, w->ingest_ep,
		    w->timeout_ms)) == NULL)
			return WARTA_E_SYS;
		zmq_setsockopt(w->ingest, ZMQ_SNDTIMEO, &w->timeout_ms,
		    sizeof w->timeout_ms);
	}
	if (w->ingest_ready)
		return WARTA_OK;

	deadline = warta_now_ms() + w->timeout_ms;
	for (;;) {
		r = warta_wait(w->ingest, (int)(deadline - warta_now_ms()),
		    NULL, &stopped);
		if (r <= 0)
			break;
		zmq_msg_init(&m);
		if (zmq_msg_recv(&m, w->ingest, 0) == -1) {
			zmq_msg_close(&m);
			break;
		}
		d = zmq_msg_data(&m);
		n = zmq_msg_size(&m);
		if (n >= 1 && d[0] == 1) {
			any = true;
			if (n - 1 <= tlen && memcmp(d + 1, type, n - 1) == 0)
				w->ingest_ready = true;
		}
		zmq_msg_close(&m);
		if (w->ingest_ready)
			return WARTA_OK;
		if (deadline <= warta_now_ms())
			break;
	}
	if (any) {
		warta_seterr(w, "%s does not subscribe to topic \"%s\"",
		    w->ingest_ep, type);
		return WARTA_E_USAGE;
	}
	warta_seterr(w, "no subscription from %s within %s (is wartad "
	    "running?)", w->ingest_ep, warta_secs(w->timeout_ms, t, sizeof t));
	return WARTA_E_TIMEOUT;
}

/* Unacknowledged publish on ingest. */
int
warta_send(struct warta *w, const char *type, const void *event, size_t len)
{
	char	t[32];
	int	rc;

	if ((rc = warta_ingest_open(w, type)) != WARTA_OK)
		return rc;
	if (zmq_send(w->ingest, type, strlen(type), ZMQ_SNDMORE) == -1 ||
	    zmq_send(w->ingest, event, len, 0) == -1) {
		if (errno == EAGAIN) {
			warta_seterr(w, "%s did not take the event within %s",
			    w->ingest_ep,
			    warta_secs(w->timeout_ms, t, sizeof t));
			return WARTA_E_TIMEOUT;
		}
		warta_seterr(w, "%s: send: %s", w->ingest_ep,
		    zmq_strerror(errno));
		return WARTA_E_SYS;
	}
	return WARTA_OK;
}

/* A subscription's running state. */
struct warta_subrun {
	struct warta		*w;
	struct warta_sub	*s;
	void			*sock;
	const char		*replay_prefix;	/* NULL: all */
	bool			 behind_said;
};

/* Whether topic passes the subscription's prefixes and filter. */
static bool
warta_sub_match(struct warta_subrun *run, const char *topic)
{
	struct warta_sub	*s = run->s;
	size_t			 i;
	bool			 ok = s->nprefixes == 0;

	for (i = 0; i < s->nprefixes && !ok; i++)
		ok = strncmp(topic, s->prefixes[i],
		    strlen(s->prefixes[i])) == 0;
	if (ok && s->filter != NULL)
		ok = s->filter(s->arg, topic);
	return ok;
}

/* Tell the user about the connection. */
static void
warta_sub_state(struct warta_subrun *run, enum warta_sub_state st,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Tell the user about the connection, printf-style. */
static void
warta_sub_state(struct warta_subrun *run, enum warta_sub_state st,
    const char *fmt, ...)
{
	char	msg[512];
	va_list	ap;

	if (run->s->on_state == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	run->s->on_state(run->s->arg, st, msg);
}

/* Tell the user the new cursor. */
static int
warta_sub_cursor(struct warta_subrun *run)
{
	struct warta_sub	*s = run->s;

	if (s->on_cursor != NULL && s->on_cursor(s->arg, s->cursor) != 0) {
		warta_seterr(run->w, "stopped by the cursor callback");
		return WARTA_E_STOPPED;
	}
	return WARTA_OK;
}

/* Pass one notification body to the user if it matches.  *seq is set. */
static int
warta_sub_deliver(struct warta_subrun *run, const msgpack_object *body,
    bool replayed, uint64_t *seq)
{
	struct warta_sub	*s = run->s;
	struct warta_notice	 n;
	const msgpack_object	*o;
	char			*topic;
	int			 rc = WARTA_OK;

	memset(&n, 0, sizeof n);
	if (warta_map_uint(body, "seq", &n.seq) == -1 ||
	    (topic = warta_map_strdup(body, "topic")) == NULL) {
		warta_seterr(run->w, "a notification without seq or topic");
		return WARTA_E_PROTO;
	}
	*seq = n.seq;
	if ((o = warta_map_get(body, "received_at")) != NULL) {
		if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
			n.received_at = (int64_t)o->via.u64;
		else if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
			n.received_at = o->via.i64;
	}
	n.topic = topic;
	n.body = body;
	n.event = warta_map_get(body, "event");
	n.replayed = replayed;
	if (warta_sub_match(run, topic) && s->on_notice(s->arg, &n) != 0) {
		warta_seterr(run->w, "stopped by the notice callback");
		rc = WARTA_E_STOPPED;
	}
	free(topic);
	return rc;
}

/* Sleep ms, or less when the stop flag is set. */
static void
warta_sub_sleep(struct warta_subrun *run, int ms)
{
	struct timespec	ts;
	int64_t		end = warta_now_ms() + ms;

	while (warta_now_ms() < end) {
		if (run->s->stop != NULL && *run->s->stop)
			return;
		ts.tv_sec = 0;
		ts.tv_nsec = 50 * 1000000L;
		nanosleep(&ts, NULL);
	}
}

/* One replay request from cursor + 1. */
static int
warta_sub_replay_page(struct warta_subrun *run, struct warta_reply **r)
{
	msgpack_sbuffer	sb;
	msgpack_packer	pk;
	int		rc;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, run->replay_prefix != NULL ? 4 : 3);
	msgpack_pack_str_with_body(&pk, "op", 2);
	msgpack_pack_str_with_body(&pk, "replay", 6);
	msgpack_pack_str_with_body(&pk, "from_seq", 8);
	msgpack_pack_uint64(&pk, run->s->cursor + 1);
	msgpack_pack_str_with_body(&pk, "limit", 5);
	msgpack_pack_uint32(&pk, WARTA_REPLAY_PAGE);
	if (run->replay_prefix != NULL) {
		msgpack_pack_str_with_body(&pk, "prefix", 6);
		msgpack_pack_str_with_body(&pk, run->replay_prefix,
		    strlen(run->replay_prefix));
	}
	rc = warta_request_stop(run->w, sb.data, sb.size, r, run->s->stop);
	msgpack_sbuffer_destroy(&sb);
	return rc;
}

/*
 * Catch up: replay from cursor + 1 until next_seq > last_seq, delivering
 * what matches.  When the api does not answer, retry with backoff, except
 * on the first sync, where the caller gives up.
 */
static int
warta_sub_sync(struct warta_subrun *run, bool first)
{
	struct warta		*w = run->w;
	struct warta_sub	*s = run->s;
	struct warta_reply	*r;
	const msgpack_object	*items;
	uint64_t		 next, last, firstseq, seq, from;
	int			 rc, backoff = WARTA_BACKOFF_MIN_MS;
	uint32_t		 i;

	for (;;) {
		from = s->cursor + 1;
		rc = warta_sub_replay_page(run, &r);
		if (rc == WARTA_E_TIMEOUT || rc == WARTA_E_SYS) {
			if (first)
				return rc;
			warta_sub_state(run, WARTA_SUB_RETRY, "%s; retrying "
			    "in %.1fs", warta_error(w), backoff / 1000.0);
			warta_sub_sleep(run, backoff);
			if (s->stop != NULL && *s->stop)
				return WARTA_E_STOPPED;
			backoff *= 2;
			if (backoff > WARTA_BACKOFF_MAX_MS)
				backoff = WARTA_BACKOFF_MAX_MS;
			continue;
		}
		if (rc != WARTA_OK) {
			warta_reply_free(&r);
			return rc;
		}
		if (backoff != WARTA_BACKOFF_MIN_MS)
			warta_sub_state(run, WARTA_SUB_LIVE, "%s answers "
			    "again", w->api_ep);
		backoff = WARTA_BACKOFF_MIN_MS;

		items = warta_map_get(&r->root, "items");
		if (items == NULL || items->type != MSGPACK_OBJECT_ARRAY ||
		    warta_map_uint(&r->root, "next_seq", &next) == -1 ||
		    warta_map_uint(&r->root, "last_seq", &last) == -1) {
			warta_seterr(w, "%s: a replay reply without items, "
			    "next_seq or last_seq", w->api_ep);
			warta_reply_free(&r);
			return WARTA_E_PROTO;
		}
		if (warta_map_uint(&r->root, "first_seq", &firstseq) == 0 &&
		    firstseq > from && firstseq <= last + 1)
			warta_sub_state(run, WARTA_SUB_GAP, "events %" PRIu64
			    "..%" PRIu64 " were removed by retention before "
			    "they could be delivered", from, firstseq - 1);
		if (last + 1 < from && !run->behind_said) {
			warta_sub_state(run, WARTA_SUB_GAP, "the daemon's "
			    "last seq %" PRIu64 " is behind the cursor %"
			    PRIu64 ": was its store replaced?", last,
			    s->cursor);
			run->behind_said = true;
		}
		for (i = 0; i < items->via.array.size; i++) {
			if (warta_map_uint(&items->via.array.ptr[i], "seq",
			    &seq) == 0 && seq <= s->cursor)
				continue;	/* already delivered */
			rc = warta_sub_deliver(run, &items->via.array.ptr[i],
			    true, &seq);
			if (rc != WARTA_OK) {
				warta_reply_free(&r);
				warta_sub_cursor(run);
				return rc;
			}
			s->cursor = seq;
			if (s->stop != NULL && *s->stop) {
				warta_reply_free(&r);
				warta_sub_cursor(run);
				return WARTA_E_STOPPED;
			}
		}
		warta_reply_free(&r);
		if (next > s->cursor + 1)
			s->cursor = next - 1;
		if ((rc = warta_sub_cursor(run)) != WARTA_OK)
			return rc;
		if (next > last)
			return WARTA_OK;
		if (next <= from) {
			warta_seterr(w, "%s: replay from %" PRIu64 " made no "
			    "progress (next_seq %" PRIu64 ", last_seq %"
			    PRIu64 ")", w->api_ep, from, next, last);
			return WARTA_E_PROTO;
		}
	}
}

/* Decode a received notify body; the caller destroys up. */
static int
warta_sub_unpack(msgpack_unpacked *up, zmq_msg_t *m)
{
	size_t	off = 0;

	msgpack_unpacked_init(up);
	if (msgpack_unpack_next(up, zmq_msg_data(m), zmq_msg_size(m), &off)
	    != MSGPACK_UNPACK_SUCCESS || off != zmq_msg_size(m) ||
	    up->data.type != MSGPACK_OBJECT_MAP)
		return -1;
	return 0;
}

/* Handle one live message [topic, body]. */
static int
warta_sub_message(struct warta_subrun *run, zmq_msg_t *topic, zmq_msg_t *body)
{
	struct warta_sub	*s = run->s;
	msgpack_unpacked	 up;
	uint64_t		 seq, last;
	size_t			 hlen = strlen(WARTA_HEARTBEAT_TOPIC);
	int			 rc = WARTA_OK;

	if (warta_sub_unpack(&up, body) == -1) {
		msgpack_unpacked_destroy(&up);
		return WARTA_OK;	/* not ours to judge; ignore */
	}
	if (zmq_msg_size(topic) == hlen &&
	    memcmp(zmq_msg_data(topic), WARTA_HEARTBEAT_TOPIC, hlen) == 0) {
		if (s->catch_up &&
		    warta_map_uint(&up.data, "last_seq", &last) == 0) {
			if (last > s->cursor)
				rc = warta_sub_sync(run, false);
			else if (last < s->cursor && !run->behind_said) {
				warta_sub_state(run, WARTA_SUB_GAP, "the "
				    "daemon's last seq %" PRIu64 " is behind "
				    "the cursor %" PRIu64 ": was its store "
				    "replaced?", last, s->cursor);
				run->behind_said = true;
			}
		}
		msgpack_unpacked_destroy(&up);
		return rc;
	}
	if (warta_map_uint(&up.data, "seq", &seq) == -1) {
		msgpack_unpacked_destroy(&up);
		return WARTA_OK;
	}
	if (!s->catch_up)
		rc = warta_sub_deliver(run, &up.data, false, &seq);
	else if (seq <= s->cursor)
		;	/* a duplicate of what replay delivered */
	else if (seq == s->cursor + 1) {
		rc = warta_sub_deliver(run, &up.data, false, &seq);
		if (rc == WARTA_OK) {
			s->cursor = seq;
			rc = warta_sub_cursor(run);
		}
	} else {
		/* Something between may be missing: replay covers it, and
		   this one too since it is stored before it is sent. */
		rc = warta_sub_sync(run, false);
		if (rc == WARTA_OK && seq > s->cursor) {
			rc = warta_sub_deliver(run, &up.data, false, &seq);
			if (rc == WARTA_OK) {
				s->cursor = seq;
				rc = warta_sub_cursor(run);
			}
		}
	}
	msgpack_unpacked_destroy(&up);
	return rc;
}

/* Receive all frames of one message; handle it when it has two. */
static int
warta_sub_recv(struct warta_subrun *run)
{
	zmq_msg_t	f[2], extra;
	int		n = 0, more = 1, rc = WARTA_OK;

	while (more) {
		if (n < 2) {
			zmq_msg_init(&f[n]);
			if (zmq_msg_recv(&f[n], run->sock, 0) == -1) {
				zmq_msg_close(&f[n]);
				break;
			}
			more = zmq_msg_more(&f[n]);
			n++;
		} else {
			zmq_msg_init(&extra);
			if (zmq_msg_recv(&extra, run->sock, 0) == -1)
				more = 0;
			else
				more = zmq_msg_more(&extra);
			zmq_msg_close(&extra);
			n++;
		}
	}
	if (n == 2)
		rc = warta_sub_message(run, &f[0], &f[1]);
	if (n >= 1)
		zmq_msg_close(&f[0]);
	if (n >= 2)
		zmq_msg_close(&f[1]);
	return rc;
}

/* Subscribe the SUB socket to the prefixes and the heartbeat. */
static int
warta_sub_open(struct warta_subrun *run)
{
	struct warta_sub	*s = run->s;
	size_t			 i;
	int			 hwm = 100000;
	bool			 all = s->nprefixes == 0;

	if ((run->sock = warta_socket(run->w, ZMQ_SUB, run->w->notify_ep, 0))
	    == NULL)
		return WARTA_E_SYS;
	zmq_setsockopt(run->sock, ZMQ_RCVHWM, &hwm, sizeof hwm);
	for (i = 0; i < s->nprefixes; i++) {
		zmq_setsockopt(run->sock, ZMQ_SUBSCRIBE, s->prefixes[i],
		    strlen(s->prefixes[i]));
		if (*s->prefixes[i] == '\0')
			all = true;
	}
	if (all)
		zmq_setsockopt(run->sock, ZMQ_SUBSCRIBE, "", 0);
	else
		zmq_setsockopt(run->sock, ZMQ_SUBSCRIBE,
		    WARTA_HEARTBEAT_TOPIC, strlen(WARTA_HEARTBEAT_TOPIC));
	if (s->nprefixes == 1 && *s->prefixes[0] != '\0')
		run->replay_prefix = s->prefixes[0];
	return WARTA_OK;
}

/* Deliver notices, catching up by replay when asked, until stopped. */
int
warta_subscribe(struct warta *w, struct warta_sub *s)
{
	struct warta_subrun	 run;
	int64_t			 last_msg, first_deadline;
	int			 silence, first_ms, rc = WARTA_OK, n;
	bool			 silent = false, got = false, stopped;
	char			 t[32];

	if (s->on_notice == NULL) {
		warta_seterr(w, "warta_subscribe: on_notice is NULL");
		return WARTA_E_USAGE;
	}
	memset(&run, 0, sizeof run);
	run.w = w;
	run.s = s;
	silence = s->silence_ms > 0 ? s->silence_ms : w->timeout_ms;
	first_ms = s->first_ms > 0 ? s->first_ms : w->timeout_ms;
	if ((rc = warta_sub_open(&run)) != WARTA_OK)
		return rc;

	/* Subscribe first, then replay: whatever is published meanwhile
	   is either in the replay or arrives live afterwards. */
	if (s->catch_up && (rc = warta_sub_sync(&run, true)) != WARTA_OK)
		goto out;

	last_msg = warta_now_ms();
	first_deadline = last_msg + first_ms;
	for (;;) {
		n = warta_wait(run.sock, silent ? 1000 : 250, s->stop,
		    &stopped);
		if (stopped) {
			rc = WARTA_E_STOPPED;
			warta_seterr(w, "stopped");
			break;
		}
		if (n == -1) {
			warta_seterr(w, "%s: poll: %s", w->notify_ep,
			    zmq_strerror(errno));
			rc = WARTA_E_SYS;
			break;
		}
		if (n == 1) {
			if (silent)
				warta_sub_state(&run, WARTA_SUB_LIVE,
				    "%s: receiving again", w->notify_ep);
			silent = false;
			got = true;
			last_msg = warta_now_ms();
			if ((rc = warta_sub_recv(&run)) != WARTA_OK)
				break;
			continue;
		}
		if (!got && !s->catch_up && warta_now_ms() > first_deadline) {
			warta_seterr(w, "no heartbeat from %s within %s (is "
			    "wartad running?)", w->notify_ep,
			    warta_secs(first_ms, t, sizeof t));
			rc = WARTA_E_TIMEOUT;
			break;
		}
		if (!silent && warta_now_ms() - last_msg > silence) {
			silent = true;
			warta_sub_state(&run, WARTA_SUB_SILENT, "no message "
			    "from %s for %s, not even a heartbeat; waiting "
			    "for it to come back", w->notify_ep,
			    warta_secs(silence, t, sizeof t));
		}
	}
out:
	zmq_close(run.sock);
	return rc;
}
