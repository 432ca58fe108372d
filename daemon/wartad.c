/*
 * wartad.c — small helpers the daemon's modules share: clocks, a send
 * that survives signals, and the ZMQ_FD edge re-check after a send.
 */
#include <errno.h>
#include <time.h>

#include <event2/event.h>
#include <zmq.h>

#include "daemon/wartad.h"

/* Wall-clock Unix milliseconds. */
int64_t
wartad_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Monotonic microseconds, for durations. */
int64_t
wartad_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/*
 * After a send, a socket's ZMQ_FD may have consumed the edge that said it
 * is readable: check ZMQ_EVENTS and run its reader if so.
 */
void
wartad_kick(struct wartad *wd, void *sock, struct event *ev)
{
	int events = 0;
	size_t len = sizeof events;

	/* A paused reader (batch full) is not pending: leave it to
	   batch_resume(), or we would spin until the commit ends. */
	if (sock == NULL || ev == NULL || wd->stopping ||
	    !event_pending(ev, EV_READ, NULL))
		return;
	if (zmq_getsockopt(sock, ZMQ_EVENTS, &events, &len) == 0 &&
	    (events & ZMQ_POLLIN))
		event_active(ev, EV_READ, 0);
}

/*
 * zmq_send(), again when a signal interrupted it (EINTR: the frame was
 * not queued).  Going on to the next frame instead would join it to the
 * unfinished multipart message: a notification's body replaced by the
 * next one's topic, a reply's envelope by another's.
 */
int
wartad_zsend(void *sock, const void *p, size_t len, int flags)
{
	int rc;

	while ((rc = zmq_send(sock, p, len, flags)) == -1 && errno == EINTR)
		;
	return rc;
}
