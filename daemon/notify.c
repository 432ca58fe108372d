/*
 * notify.c — the notify XPUB socket: notifications, heartbeats, and the
 * subscription messages that give `stats.subscribers`.
 *
 * XPUB never blocks a send: a subscriber whose queue is at its high water
 * mark (notify hwm) misses messages, which is why every notification
 * carries its seq and subscribers can replay (PROTOCOL.md section 6).
 *
 * libzmq drops such messages silently.  To make it visible, the socket
 * runs with ZMQ_XPUB_NODROP, which makes a send fail with EAGAIN when a
 * matching subscriber's queue is full; the daemon then counts an overflow
 * (stats.notify_overflows) and sends the message again lossy, so that
 * every subscriber with room still gets it.  That lossy send parks the
 * full subscriber: libzmq skips it, silently, until it has read its queue
 * down to the low water mark, and its next overflow is counted again.  So
 * the count is of overflows (each the start of a run of missed
 * notifications), not of messages missed: libzmq exposes no per-subscriber
 * count.  Subscribers see what they missed as gaps in seq.
 */
#include <errno.h>
#include <string.h>

#include <event2/event.h>
#include <zmq.h>

#include "daemon/log.h"
#include "daemon/wartad.h"
#include "daemon/xmalloc.h"

/* Send one frame without blocking; when a matching subscriber's queue is
 * full, say so in *full and send it lossy.  0 or -1. */
static int
notify_send_frame(struct wartad *wd, const void *p, size_t len, int flags,
    bool *full)
{
	int off = 0, on = 1, rc;

	if (wartad_zsend(wd->notify, p, len, flags | ZMQ_DONTWAIT) != -1)
		return 0;
	if (errno != EAGAIN)
		return -1;
	*full = true;
	zmq_setsockopt(wd->notify, ZMQ_XPUB_NODROP, &off, sizeof off);
	rc = wartad_zsend(wd->notify, p, len, flags | ZMQ_DONTWAIT);
	zmq_setsockopt(wd->notify, ZMQ_XPUB_NODROP, &on, sizeof on);
	return rc == -1 ? -1 : 0;
}

/* Send one two-frame message without blocking: 0, 1 when a subscriber's
 * queue overflowed, or -1 (logged). */
static int
notify_send2(struct wartad *wd, const void *topic, size_t tlen,
    const void *body, size_t blen)
{
	bool full = false;

	if (notify_send_frame(wd, topic, tlen, ZMQ_SNDMORE, &full) == -1 ||
	    notify_send_frame(wd, body, blen, 0, &full) == -1) {
		log_warnx("notify: send: %s", zmq_strerror(errno));
		return -1;
	}
	return full ? 1 : 0;
}

/* Send one notification, counting it, and counting an overflow. */
static void
notify_send(struct wartad *wd, const void *topic, size_t tlen,
    const void *body, size_t blen)
{
	int rc = notify_send2(wd, topic, tlen, body, blen);

	if (rc == -1)
		return;
	if (rc == 1)
		wd->st.notify_overflows++;
	wd->st.notified++;
}

/* Publish a committed batch's new events, in seq order. */
void
notify_publish_batch(struct wartad *wd, const struct batch *b)
{
	for (size_t i = 0; i < b->nitems; i++) {
		const struct store_item *it = &b->items[i];

		if (it->duplicate)
			continue;
		notify_send(wd, it->topic, it->topic_len,
		    b->out.data + it->body_off, it->body_len);
	}
	wartad_kick(wd, wd->notify, wd->ev_notify);
	/* The HTTP consumers of the same committed events. */
	sse_publish_batch(wd, b);
	webhook_committed(wd, b);
}

/* Publish `_sys.heartbeat` {last_seq, time}. */
void
notify_heartbeat(struct wartad *wd)
{
	msgpack_packer pk;

	wd->scratch.size = 0;
	msgpack_packer_init(&pk, &wd->scratch, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 2);
	msgpack_pack_str_with_body(&pk, "last_seq", 8);
	msgpack_pack_uint64(&pk, wd->last_seq);
	msgpack_pack_str_with_body(&pk, "time", 4);
	msgpack_pack_int64(&pk, wartad_now_ms());
	notify_send2(wd, "_sys.heartbeat", 14, wd->scratch.data,
	    wd->scratch.size);
	wartad_kick(wd, wd->notify, wd->ev_notify);
}

/* Drain subscription messages: 1 = subscribe, 0 = unsubscribe. */
static void
notify_readable(evutil_socket_t fd, short what, void *arg)
{
	struct wartad *wd = arg;
	char buf[256];
	int n;

	for (int i = 0; i < WARTA_READ_BUDGET; i++) {
		n = zmq_recv(wd->notify, buf, sizeof buf, ZMQ_DONTWAIT);
		if (n == -1)
			return;
		if (n < 1)
			continue;
		if (buf[0] == 1)
			wd->subscribers++;
		else if (buf[0] == 0 && wd->subscribers > 0)
			wd->subscribers--;
	}
	event_active(wd->ev_notify, EV_READ, 0);
}

/* Bind the notify socket. */
int
notify_open(struct wartad *wd, char **cause)
{
	const struct config *cfg = wd->cfg;
	int hwm = cfg->notify_hwm > INT32_MAX ? INT32_MAX : (int)cfg->notify_hwm;
	int linger = 2000, nodrop = 1, fd;
	size_t fdlen = sizeof fd;

	wd->notify = zmq_socket(wd->zctx, ZMQ_XPUB);
	if (wd->notify == NULL)
		fatalx("zmq_socket: %s", zmq_strerror(errno));
	zmq_setsockopt(wd->notify, ZMQ_SNDHWM, &hwm, sizeof hwm);
	/* Let the last notifications out at shutdown, but not forever. */
	zmq_setsockopt(wd->notify, ZMQ_LINGER, &linger, sizeof linger);
	auth_socket(wd, wd->notify, "notify");
	/* Full queues fail the send, so drops can be counted (see above). */
	zmq_setsockopt(wd->notify, ZMQ_XPUB_NODROP, &nodrop, sizeof nodrop);
	if (zmq_bind(wd->notify, cfg->notify_bind) == -1) {
		xasprintf(cause, "notify: cannot bind %s: %s", cfg->notify_bind,
		    zmq_strerror(errno));
		return -1;
	}
	zmq_getsockopt(wd->notify, ZMQ_FD, &fd, &fdlen);
	wd->ev_notify = event_new(wd->base, fd, EV_READ | EV_PERSIST,
	    notify_readable, wd);
	event_add(wd->ev_notify, NULL);
	return 0;
}

/* Close the socket; its linger lets queued notifications go. */
void
notify_close(struct wartad *wd)
{
	if (wd->ev_notify) {
		event_free(wd->ev_notify);
		wd->ev_notify = NULL;
	}
	if (wd->notify) {
		zmq_close(wd->notify);
		wd->notify = NULL;
	}
}
