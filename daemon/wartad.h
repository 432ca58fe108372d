/*
 * wartad.h — the daemon's shared state and its modules' entry points, one
 * section per file (tmux.h style).
 *
 * The event path:  ingest.c -> schema/ -> handlers/ -> batch.c (group
 * commit on the writer thread) -> store.c (LMDB) -> notify.c (XPUB);
 * api.c (ROUTER) publishes through batch.c and reads back through store.c.
 * auth.c answers libzmq's ZAP requests for the CURVE sockets from the
 * clients file (clients.c); the api checks each op against the role.
 *
 * Everything here belongs to the loop thread, except what batch.c hands
 * to the writer thread: a submitted batch, which the loop does not touch
 * until the writer signals it done.
 */
#ifndef WARTA_WARTAD_H
#define WARTA_WARTAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

#include "daemon/arena.h"
#include "daemon/clients.h"
#include "daemon/config.h"
#include "daemon/fault.h"
#include "daemon/log.h"
#include "daemon/store.h"
#include "schema/schema.h"

#define WARTA_READ_BUDGET	1024	/* messages per socket per loop turn */
#define WARTA_REPLY_MAX		(16u << 20)	/* bytes of items in a reply */
#define WARTA_BATCH_BYTES	(64u << 20)	/* bytes copied into a batch */

struct event_base;
struct event;
struct evhttp;
struct evhttp_request;
struct evdns_base;
struct sse;
struct webhooks;
struct auth;
struct zmq_msg_t;

/* A reply that must wait for a batch's commit, in arrival order. */
struct pending {
	const uint8_t	*env;		/* envelope frames, see api.c */
	size_t		 env_len;
	long		 item;		/* publish: index in items, else -1 */
	const uint8_t	*req;		/* read op: request to run after commit */
	size_t		 req_len;
	const uint8_t	*reply;		/* error: the reply, ready */
	size_t		 reply_len;
	struct evhttp_request *http;	/* an HTTP publish (http.c), or NULL */
};

/* One group commit's worth of work. */
struct batch {
	struct store_item	*items;
	size_t			 nitems, items_cap;
	struct store_reject	*rejects;
	size_t			 nrejects, rejects_cap;
	struct pending		*pend;
	size_t			 npend, pend_cap;
	bool			 retain;	/* run a retention step */
	struct store_cursor	*cursors;	/* webhook cursors to save */
	size_t			 ncursors, cursors_cap;
	struct arena		 arena;		/* copies of inputs */
	msgpack_sbuffer		 out;		/* bodies, by the writer */
	/* Set by the writer. */
	int			 status;	/* 0, or -1: nothing stored */
	char			*cause;
	struct store_result	 res;
	int64_t			 commit_us;	/* time the commit took */
	bool			 done;		/* committed (atomic: the
						   writer sets it) */
	/* Loop thread, after the commit. */
	struct batch		*wnext;		/* in the wait queue */
	uint64_t		 wait_seq;	/* its reads need the indexes
						   to here */
	int64_t			 wait_since_us;	/* when it began to wait */
};

/* Upper bounds (us) of the commit latency histogram's buckets; the last
 * bucket is +Inf. */
#define STATS_COMMIT_BUCKETS	12
extern const int64_t stats_commit_bounds[STATS_COMMIT_BUCKETS - 1];
#define STATS_MAX_TYPES		8

struct stats {
	uint64_t	received;
	uint64_t	stored_by_type[STATS_MAX_TYPES];	/* handlers[] order */
	uint64_t	commit_hist[STATS_COMMIT_BUCKETS];
	uint64_t	commit_sum_us;
	uint64_t	duplicates;
	uint64_t	rejected[REASON_COUNT];
	uint64_t	notified;
	uint64_t	notify_overflows;	/* a subscriber queue hit hwm */
	uint64_t	commits;
	uint64_t	api_requests;
	uint64_t	api_dropped;	/* replies libzmq would not queue */
	uint64_t	sse_cut_off;	/* streams closed as too slow */
	uint64_t	auth_refused;	/* CURVE handshakes the ZAP handler refused */
};

struct wartad {
	struct config		*cfg;
	struct event_base	*base;
	void			*zctx;
	void			*ingest, *notify, *api;
	struct event		*ev_ingest, *ev_notify, *ev_api;
	struct event		*ev_writer, *ev_indexer;
	struct event		*ev_heartbeat, *ev_tick;
	struct event		*ev_watchdog;	/* when systemd asks for one */
	struct event		*ev_sig[3];
	struct store		*store;
	struct writer		*writer;
	struct evhttp		*http;		/* NULL: [http] listen is off */
	struct sse		*sse;		/* SSE streams (sse.c) */
	struct webhooks		*hooks;		/* [webhook] deliveries */
	struct evdns_base	*dns;		/* for webhook hosts */
	struct auth		*auth;		/* NULL: CURVE is off */

	struct batch		*fill;		/* being filled by the loop */
	struct batch		*busy;		/* with the writer, or NULL */
	int64_t			 busy_since_us;	/* when busy went to it */
	struct batch		*spare;
	/* Committed batches whose replies wait for the indexer, in order:
	   a read must see what was acknowledged before it. */
	struct batch		*wait_head, **wait_tailp;
	uint64_t		 index_done;	/* the indexer handled to here */

	struct stats		 st;
	struct rlog		 rlog[REASON_COUNT];	/* reject lines */
	uint64_t		 last_seq;	/* last committed, notified */
	uint64_t		 indexed_seq;	/* get and list see to here */
	uint64_t		 status_seq;	/* last_seq at the last STATUS= */
	int64_t			 subscribers;
	int64_t			 started_ms;
	bool			 stopping;
	bool			 retain_more;
	bool			 ingest_paused;	/* batch full, writer busy */
	bool			 api_paused;

	msgpack_sbuffer		 scratch;	/* encoding, loop thread */
	msgpack_sbuffer		 reply;
};

/* wartad.c */
int64_t		 wartad_now_ms(void);
int64_t		 wartad_mono_us(void);
int		 wartad_zsend(void *, const void *, size_t, int);
/* Socket readable again after a send: re-arm its edge. */
void		 wartad_kick(struct wartad *, void *sock, struct event *ev);

/* batch.c */
struct writer	*writer_start(struct store *, struct wartad *);
void		 writer_stop(struct writer **);
void		 batch_init(struct wartad *);
void		 batch_free_all(struct wartad *);
bool		 batch_has_writes(const struct batch *);
bool		 batch_pending(const struct wartad *);
bool		 batch_full(const struct wartad *);
struct store_item *batch_add_item(struct wartad *, const struct event *,
		     int64_t received_at);
void		 batch_add_reject(struct wartad *, int64_t received_at,
		     enum reason, const char *detail, const void *topic,
		     size_t topic_len, const void *body, size_t body_len,
		     uint64_t size);
struct pending	*batch_add_pending(struct wartad *);
void		 batch_set_cursor(struct wartad *, const char *name,
		     uint64_t seq);
void		 batch_flush(struct wartad *);
void		 batch_drain(struct wartad *, struct event *, bool *paused,
		     int (*read_one)(struct wartad *));
void		 batch_resume(struct wartad *, struct event *, bool *paused);
void		 batch_tick(struct wartad *);

/* ingest.c */
int		 ingest_open(struct wartad *, char **cause);
void		 ingest_close(struct wartad *);
void		 ingest_resume(struct wartad *);
void		 ingest_log_reject(struct wartad *, enum reason,
		     const char *detail, const char *topic);
void		 ingest_log_flush(struct wartad *, int64_t now_ms);

/* notify.c */
int		 notify_open(struct wartad *, char **cause);
void		 notify_close(struct wartad *);
void		 notify_publish_batch(struct wartad *, const struct batch *);
void		 notify_heartbeat(struct wartad *);

/* api.c */
int		 api_open(struct wartad *, char **cause);
void		 api_close(struct wartad *);
void		 api_resume(struct wartad *);
void		 api_complete(struct wartad *, struct batch *);
int		 api_publish_event(struct wartad *, const char *topic,
		     size_t tlen, const uint8_t *ev, size_t evlen,
		     msgpack_packer *, long *item);
bool		 api_topic_matches(const uint8_t *body, size_t len,
		     const char *prefix, size_t plen);
void		 api_exec(struct wartad *, const uint8_t *req, size_t len,
		     msgpack_sbuffer *reply);
const char	*api_parse_request(const uint8_t *, size_t, msgpack_sbuffer *);

/* auth.c */
int		 auth_load(const struct config *, struct auth **, char **cause);
void		 auth_free(struct auth **);
int		 auth_open(struct wartad *, char **cause);
void		 auth_close(struct wartad *);
void		 auth_socket(struct wartad *, void *sock, const char *domain);
void		 auth_log_state(const struct wartad *);
void		 auth_log_flush(struct wartad *, int64_t now_ms);
void		 auth_reload(struct wartad *, const char *path);
enum clients_role auth_msg_role(const struct wartad *, struct zmq_msg_t *);
int		 auth_check_plaintext(const struct config *, char **cause);
bool		 auth_endpoint_local(const char *ep);
bool		 auth_listen_local(const char *hostport);
int		 auth_read_key(const char *path, bool secret,
		     char z85[CLIENTS_KEY_Z85 + 1], char **cause);

/* fault.c: test-only crash points, inert unless WARTA_FAULT is set */

/* http.c */
int		 http_open(struct wartad *, char **cause);
void		 http_close(struct wartad *);
void		 http_read_done(struct wartad *, struct evhttp_request *,
		    const uint8_t *, size_t);
void		 http_publish_done(struct wartad *, struct evhttp_request *,
		     const struct store_item *, const char *cause);
void		 http_json_error(struct evhttp_request *, const char *code,
		     const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* jsonmap.c: notification bodies and api replies as JSON, through the
   client's mapping (clients/mpjson.c); the caller frees the string. */
char		*jsonmap_dumps(const uint8_t *mp, size_t len);

/* sse.c */
void		 sse_open(struct wartad *);
void		 sse_close(struct wartad *);
void		 sse_request(struct wartad *, struct evhttp_request *);
void		 sse_publish_batch(struct wartad *, const struct batch *);
size_t		 sse_clients(const struct wartad *);

/* webhook.c */
struct webhook_info {
	const char	*name;
	uint64_t	 cursor;	/* last seq delivered (or skipped) */
	uint64_t	 lag;		/* last_seq - cursor */
	uint64_t	 failures;
	uint64_t	 delivered;
};
int		 webhook_open(struct wartad *, char **cause);
void		 webhook_close(struct wartad *);
void		 webhook_committed(struct wartad *, const struct batch *);
size_t		 webhook_count(const struct wartad *);
void		 webhook_get_info(const struct wartad *, size_t i,
		     struct webhook_info *);
int		 webhook_parse_url(const char *url, char **host, int *port,
		     char **path, bool *tls, char **cause);
int		 webhook_sign(const char *secret, const void *body,
		     size_t len, char *out, size_t outsz);

/* www.c, generated from www/index.html by tools/embed.sh */
extern const unsigned char www_index_html[];
extern const size_t www_index_html_len;

#endif
