/*
 * ingest.c — the ingest SUB socket: receive, check, validate, batch.
 *
 * Checks run in section 10's order and the first failure names the
 * reason: frames, topic, too_large, then schema_decode_event()'s msgpack,
 * not_map and schema.  A rejected message is counted, kept in the rejects
 * store and logged at a limited rate; the loop goes on.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <event2/event.h>
#include <zmq.h>

#include "daemon/log.h"
#include "daemon/wartad.h"
#include "daemon/xmalloc.h"
#include "handlers/handlers.h"
#include "schema/mp.h"

/* Say how many rejects of a reason went unlogged once their second has
 * passed. */
static void
ingest_log_held(struct wartad *wd, enum reason reason, int64_t now_ms)
{
	uint64_t n = log_rate_held(&wd->rlog[reason], now_ms);

	if (n)
		log_warnx("ingest: %" PRIu64 " more '%s' rejects not logged",
		    n, schema_reason_name(reason));
}

/*
 * Log a reject: at most one line per reason per second, then a line
 * saying how many were not logged.
 */
void
ingest_log_reject(struct wartad *wd, enum reason reason, const char *detail,
    const char *topic)
{
	int64_t now = wartad_now_ms();

	ingest_log_held(wd, reason, now);
	if (log_rate_pass(&wd->rlog[reason], now))
		log_warnx("ingest: rejected (%s) on topic '%s': %s",
		    schema_reason_name(reason), topic, detail);
}

/* Say how many rejects went unlogged once their second has passed. */
void
ingest_log_flush(struct wartad *wd, int64_t now_ms)
{
	for (int r = 0; r < REASON_COUNT; r++)
		ingest_log_held(wd, (enum reason)r, now_ms);
}

/* Count, keep and log one rejected message. */
static void
ingest_reject(struct wartad *wd, int64_t now, enum reason reason,
    const char *detail, zmq_msg_t *f0, zmq_msg_t *f1, uint64_t size)
{
	const uint8_t *t = f0 ? zmq_msg_data(f0) : NULL;
	size_t tlen = f0 ? zmq_msg_size(f0) : 0;
	char topic[3 * 64 + 1];
	size_t clean;

	/* The topic as logged and kept: at most 64 bytes of it cleaned. */
	clean = mp_utf8_clean(t, tlen > 64 ? 64 : tlen, topic);
	topic[clean] = '\0';
	wd->st.rejected[reason]++;
	if (tlen > 64) {
		char *full = xmalloc(3 * tlen);
		size_t flen = mp_utf8_clean(t, tlen, full);

		batch_add_reject(wd, now, reason, detail, full, flen,
		    f1 ? zmq_msg_data(f1) : "", f1 ? zmq_msg_size(f1) : 0,
		    size);
		free(full);
	} else
		batch_add_reject(wd, now, reason, detail, topic, clean,
		    f1 ? zmq_msg_data(f1) : "", f1 ? zmq_msg_size(f1) : 0,
		    size);
	ingest_log_reject(wd, reason, detail, topic);
}

/* Check one two-frame message and batch it or reject it. */
static void
ingest_check(struct wartad *wd, int64_t now, zmq_msg_t *f0, zmq_msg_t *f1,
    uint64_t size)
{
	const struct handler *h;
	struct schema_err err;
	struct event ev;
	char detail[SCHEMA_DETAIL_MAX];

	h = handlers_find(zmq_msg_data(f0), zmq_msg_size(f0));
	if (h == NULL) {
		snprintf(detail, sizeof detail, "topic: not exactly one of "
		    "meeting, training, attache (%zu bytes)", zmq_msg_size(f0));
		ingest_reject(wd, now, REASON_TOPIC, detail, f0, f1, size);
		return;
	}
	if (zmq_msg_size(f1) > wd->cfg->max_event_bytes) {
		snprintf(detail, sizeof detail, "body: %zu bytes is over "
		    "max_event_bytes %" PRIu64, zmq_msg_size(f1),
		    wd->cfg->max_event_bytes);
		ingest_reject(wd, now, REASON_TOO_LARGE, detail, f0, f1, size);
		return;
	}
	if (schema_decode_event(h, zmq_msg_data(f1), zmq_msg_size(f1), now,
	    &ev, &err) == -1) {
		ingest_reject(wd, now, err.reason, err.detail, f0, f1, size);
		return;
	}
	batch_add_item(wd, &ev, now);
}

/*
 * Read one message; 0 when the queue is empty.  Every frame is read, so
 * a message with too many frames leaves nothing behind.
 */
static int
ingest_read_one(struct wartad *wd)
{
	zmq_msg_t f[2], extra;
	int64_t now;
	uint64_t size;
	int nframes = 0;

	zmq_msg_init(&f[0]);
	if (zmq_msg_recv(&f[0], wd->ingest, ZMQ_DONTWAIT) == -1) {
		int e = errno;

		zmq_msg_close(&f[0]);
		if (e != EAGAIN && e != EINTR)
			log_warnx("ingest: receive: %s", zmq_strerror(e));
		return 0;
	}
	nframes = 1;
	size = zmq_msg_size(&f[0]);
	zmq_msg_init(&f[1]);
	if (zmq_msg_more(&f[0])) {
		/* The other parts of a message arrive with the first. */
		zmq_msg_recv(&f[1], wd->ingest, 0);
		nframes = 2;
		size += zmq_msg_size(&f[1]);
		zmq_msg_init(&extra);
		for (int more = zmq_msg_more(&f[1]); more;
		    more = zmq_msg_more(&extra)) {
			if (zmq_msg_recv(&extra, wd->ingest, 0) == -1)
				break;
			nframes++;
			size += zmq_msg_size(&extra);
		}
		zmq_msg_close(&extra);
	}

	now = wartad_now_ms();
	wd->st.received++;
	if (nframes != 2) {
		char detail[SCHEMA_DETAIL_MAX];

		snprintf(detail, sizeof detail, "message: %d frames, "
		    "exactly 2 (topic, body) are required", nframes);
		ingest_reject(wd, now, REASON_FRAMES, detail, &f[0],
		    nframes > 1 ? &f[1] : NULL, size);
	} else
		ingest_check(wd, now, &f[0], &f[1], size);
	zmq_msg_close(&f[0]);
	zmq_msg_close(&f[1]);
	return 1;
}

/* The ingest socket is readable: drain it (see batch_drain). */
static void
ingest_readable(evutil_socket_t fd, short what, void *arg)
{
	struct wartad *wd = arg;

	batch_drain(wd, wd->ev_ingest, &wd->ingest_paused, ingest_read_one);
}

/* Read again after a pause: the edge may have passed while we waited. */
void
ingest_resume(struct wartad *wd)
{
	batch_resume(wd, wd->ev_ingest, &wd->ingest_paused);
}

/* Bind (and connect) the ingest socket and subscribe to every type. */
int
ingest_open(struct wartad *wd, char **cause)
{
	const struct config *cfg = wd->cfg;
	int hwm = cfg->ingest_hwm > INT32_MAX ? INT32_MAX : (int)cfg->ingest_hwm;
	int64_t maxsz;
	int fd, zero = 0;
	size_t fdlen = sizeof fd;

	wd->ingest = zmq_socket(wd->zctx, ZMQ_SUB);
	if (wd->ingest == NULL)
		fatalx("zmq_socket: %s", zmq_strerror(errno));
	zmq_setsockopt(wd->ingest, ZMQ_RCVHWM, &hwm, sizeof hwm);
	zmq_setsockopt(wd->ingest, ZMQ_LINGER, &zero, sizeof zero);
	/* libzmq drops a connection that sends a frame over this; well
	   below it, oversized bodies are read and rejected as too_large. */
	maxsz = (int64_t)cfg->max_event_bytes * 4 + (1 << 20);
	zmq_setsockopt(wd->ingest, ZMQ_MAXMSGSIZE, &maxsz, sizeof maxsz);
	for (int i = 0; handlers[i] != NULL; i++)
		zmq_setsockopt(wd->ingest, ZMQ_SUBSCRIBE, handlers[i]->type,
		    strlen(handlers[i]->type));
	auth_socket(wd, wd->ingest, "ingest");
	if (zmq_bind(wd->ingest, cfg->ingest_bind) == -1) {
		xasprintf(cause, "ingest: cannot bind %s: %s", cfg->ingest_bind,
		    zmq_strerror(errno));
		return -1;
	}
	for (char **ep = cfg->ingest_connect; ep && *ep; ep++) {
		if (zmq_connect(wd->ingest, *ep) == -1) {
			xasprintf(cause, "ingest: cannot connect to %s: %s",
			    *ep, zmq_strerror(errno));
			return -1;
		}
		log_info("ingest: connecting to upstream %s", *ep);
	}
	zmq_getsockopt(wd->ingest, ZMQ_FD, &fd, &fdlen);
	wd->ev_ingest = event_new(wd->base, fd, EV_READ | EV_PERSIST,
	    ingest_readable, wd);
	event_add(wd->ev_ingest, NULL);
	return 0;
}

/* Close the socket. */
void
ingest_close(struct wartad *wd)
{
	if (wd->ev_ingest) {
		event_free(wd->ev_ingest);
		wd->ev_ingest = NULL;
	}
	if (wd->ingest) {
		zmq_close(wd->ingest);
		wd->ingest = NULL;
	}
}
