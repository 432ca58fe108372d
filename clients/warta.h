/*
 * warta.h — a small C client library for wartad, speaking only PROTOCOL.md.
 *
 * One struct warta is one client: an api DEALER (REQ semantics, with a
 * window of pipelined publishes), a notify SUB for warta_subscribe() and an
 * ingest publisher for warta_send().  Sockets are made on first use.
 *
 * Ownership:
 *  - struct warta owns its sockets and, unless the options lend one, its
 *    ZeroMQ context.  warta_destroy() closes them and sets the pointer NULL.
 *  - Strings in struct warta_options are copied by warta_new(); the caller
 *    keeps its own.
 *  - Buffers passed in (requests, events) are only read during the call.
 *  - A struct warta_reply is the caller's: every msgpack_object in it, and
 *    every string it points to, lives until warta_reply_free().
 *  - The notice and ack structures passed to callbacks, and everything they
 *    point to, live only until the callback returns: copy what you keep.
 *  - warta_error() returns a string owned by the handle, valid until the
 *    next call on it.
 *
 * A handle is not thread-safe: use it from one thread at a time.  Out of
 * memory aborts the process.
 *
 * Link with: pkg-config --libs libzmq msgpack.
 */
#ifndef WARTA_H
#define WARTA_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

#define WARTA_DEFAULT_INGEST	"tcp://127.0.0.1:7401"
#define WARTA_DEFAULT_NOTIFY	"tcp://127.0.0.1:7402"
#define WARTA_DEFAULT_API	"tcp://127.0.0.1:7403"
#define WARTA_DEFAULT_TIMEOUT_MS	5000
#define WARTA_DEFAULT_WINDOW	256

/* Return values.  Every function that can fail returns one of these and
   leaves a message for warta_error(). */
enum warta_status {
	WARTA_OK = 0,
	WARTA_E_DAEMON = -1,	/* the daemon answered ok: false */
	WARTA_E_TIMEOUT = -2,	/* no answer within the timeout */
	WARTA_E_PROTO = -3,	/* an answer that breaks PROTOCOL.md */
	WARTA_E_USAGE = -4,	/* bad arguments, refused before sending */
	WARTA_E_SYS = -5,	/* a ZeroMQ or system call failed */
	WARTA_E_STOPPED = -6	/* a stop flag or a callback ended the call */
};

struct warta_options {
	/* Endpoints; NULL: $WARTA_API, $WARTA_NOTIFY, $WARTA_INGEST, then the
	   defaults above. */
	const char	*api;
	const char	*notify;
	const char	*ingest;
	int		 timeout_ms;	/* wait for one reply; 0: 5000 */
	int		 window;	/* publishes in flight; 0: 256 */
	/* CURVE (PROTOCOL.md section 8): all three Z85 keys, or none. */
	const char	*server_key;
	const char	*public_key;
	const char	*secret_key;
	void		*zmq_ctx;	/* borrowed; NULL: make one */
};

struct warta;

/* A reply from the api.  root is the reply map; ok, error and detail are
   read from it (error and detail are "" when absent). */
struct warta_reply {
	msgpack_object	 root;
	bool		 ok;
	const char	*error;
	const char	*detail;
	void		*priv;		/* the received frame and zone */
};

/* Fill *o with zeros, that is every default. */
void	 warta_options_init(struct warta_options *o);

/* A new client; NULL with *cause (the caller frees it) on bad options. */
struct warta *warta_new(const struct warta_options *o, char **cause);

/* Close everything and set *w to NULL.  Pipelined publishes still in flight
   are abandoned: call warta_flush() first. */
void	 warta_destroy(struct warta **w);

/* The last failure's message, e.g. "invalid: counterparts: required". */
const char *warta_error(const struct warta *w);

/* The daemon's error code after WARTA_E_DAEMON ("invalid", "not_found",
   …), "" otherwise. */
const char *warta_error_code(const struct warta *w);

/* The endpoints in use. */
const char *warta_api_endpoint(const struct warta *w);
const char *warta_notify_endpoint(const struct warta *w);
const char *warta_ingest_endpoint(const struct warta *w);

/*
 * Send one request (a packed MessagePack map with "op") and wait for its
 * reply.  Pipelined publishes are flushed first.  *reply is set whenever the
 * daemon answered, ok or not (WARTA_OK or WARTA_E_DAEMON); the caller frees
 * it with warta_reply_free().  After a timeout the api socket is made anew,
 * so a late reply cannot be taken for the next one.
 */
int	 warta_request(struct warta *w, const void *req, size_t len,
	    struct warta_reply **reply);

/* Free a reply and set *r to NULL. */
void	 warta_reply_free(struct warta_reply **r);

/* The value of key in map m, or NULL. */
const msgpack_object *warta_map_get(const msgpack_object *m, const char *key);

/* An unsigned integer at key in m: 0, or -1 when absent or not one. */
int	 warta_map_uint(const msgpack_object *m, const char *key,
	    uint64_t *out);

/* A string at key in m as a new NUL-terminated copy, or NULL. */
char	*warta_map_strdup(const msgpack_object *m, const char *key);

/* A string object compared with s. */
bool	 warta_str_eq(const msgpack_object *o, const char *s);

/* Acked publish of one event (a packed map) of type (= ingest topic):
   waits for the durable commit and fills *seq and *duplicate. */
int	 warta_publish(struct warta *w, const char *type, const void *event,
	    size_t len, uint64_t *seq, bool *duplicate);

/* The outcome of one pipelined publish. */
struct warta_ack {
	int		 status;	/* WARTA_OK or WARTA_E_DAEMON */
	uint64_t	 seq;
	bool		 duplicate;
	const char	*error;		/* daemon's code, "" when ok */
	const char	*detail;
};

typedef void	 warta_ack_fn(void *arg, void *tag,
		    const struct warta_ack *ack);

/*
 * Pipelined acked publish, for bulk loads: send now, and call fn(arg, tag,
 * ack) when its reply arrives.  When the window is full this first waits
 * for the oldest reply.  The daemon answers a DEALER's requests in order
 * (PROTOCOL.md section 10, Envelopes), which is how replies are matched.
 * A timeout (WARTA_E_TIMEOUT) abandons every publish in flight: their fate
 * is unknown, so give events a msg_id to make a retry safe.
 */
int	 warta_publish_async(struct warta *w, const char *type,
	    const void *event, size_t len, warta_ack_fn *fn, void *arg,
	    void *tag);

/* Wait for every pipelined publish in flight. */
int	 warta_flush(struct warta *w);

/* Publishes in flight. */
size_t	 warta_in_flight(const struct warta *w);

/*
 * Unacknowledged publish on the ingest socket (PROTOCOL.md section 2).  The
 * first call waits (up to the timeout) until the daemon's subscriptions have
 * reached us, since a publisher drops whatever it sends before then.  No
 * seq comes back; the daemon counts bad events in its rejects.
 */
int	 warta_send(struct warta *w, const char *type, const void *event,
	    size_t len);

/* One notification (PROTOCOL.md section 3), live or replayed. */
struct warta_notice {
	uint64_t		 seq;
	int64_t			 received_at;
	const char		*topic;		/* NUL-terminated */
	const msgpack_object	*body;		/* the whole notification */
	const msgpack_object	*event;
	bool			 replayed;	/* came from replay */
};

/* What a subscription tells its user about the connection. */
enum warta_sub_state {
	WARTA_SUB_LIVE,		/* receiving (again) */
	WARTA_SUB_SILENT,	/* no message, not even a heartbeat */
	WARTA_SUB_RETRY,	/* the api did not answer; retrying */
	WARTA_SUB_GAP		/* events were lost to retention */
};

typedef int	 warta_notice_fn(void *arg, const struct warta_notice *n);
typedef int	 warta_cursor_fn(void *arg, uint64_t cursor);
typedef void	 warta_state_fn(void *arg, enum warta_sub_state state,
		    const char *msg);

struct warta_sub {
	/* Notify-topic prefixes; none means everything.  Heartbeats are
	   subscribed to as well and never passed on. */
	const char *const *prefixes;
	size_t		 nprefixes;
	/* Further filter; return false to skip a notice.  NULL: all. */
	bool		(*filter)(void *arg, const char *topic);

	/*
	 * With catch_up, every matching event after cursor is delivered
	 * exactly once and in seq order: subscribe first, replay from
	 * cursor + 1 until next_seq > last_seq, then live, dropping seqs
	 * already delivered; a live seq or a heartbeat's last_seq beyond
	 * the cursor replays what was missed.  Without it, live only.
	 */
	bool		 catch_up;
	uint64_t	 cursor;

	int		 silence_ms;	/* report silence; 0: the timeout */
	int		 first_ms;	/* no first message: WARTA_E_TIMEOUT
					   (live only); 0: the timeout */

	/* on_notice must not be NULL; a non-zero return ends the call
	   with WARTA_E_STOPPED.  on_cursor (optional) is told the new cursor
	   after each notice or replay page: every matching event up to it
	   has been delivered.  on_state (optional) hears of reconnects. */
	warta_notice_fn	*on_notice;
	warta_cursor_fn	*on_cursor;
	warta_state_fn	*on_state;
	void		*arg;

	/* Set non-zero (from a signal handler, say) to end the call with
	   WARTA_E_STOPPED. */
	volatile sig_atomic_t *stop;
};

/*
 * Subscribe and deliver notices until stopped.  With catch_up, the api
 * must answer the first replay within the timeout (else WARTA_E_TIMEOUT);
 * later outages are waited out with backoff, reported through on_state.
 * Live only, the first message (a heartbeat at least) must arrive within
 * first_ms.  s->cursor is kept up to date.
 */
int	 warta_subscribe(struct warta *w, struct warta_sub *s);

#endif
