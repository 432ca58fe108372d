/*
 * schema.h — decoding and validating events (PROTOCOL.md sections 2, 4, 10).
 *
 * schema_decode_event() takes the raw MessagePack body of an event and the
 * handler of its type, checks it in the order section 10 gives (msgpack,
 * not_map, schema) and fills a struct event whose pointers point into the
 * body: the caller keeps the body alive while it uses the event.
 * schema_encode_event() then writes the event as it is stored and notified:
 * every key as sent, byte for byte, plus the defaults the daemon fills in.
 */
#ifndef WARTA_SCHEMA_H
#define WARTA_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

struct handler;

#define SCHEMA_MAX_DEPTH	16	/* the event map is level 1 */
#define SCHEMA_MAX_STR		1024	/* a string with no limit of its own */
#define SCHEMA_MAX_XKEYS	32	/* x_ keys per event */
#define SCHEMA_ID_MAX		64
#define SCHEMA_MSGID_MAX	128
#define SCHEMA_DETAIL_MAX	256

/* Why an ingest message was rejected; the order is section 10's. */
enum reason {
	REASON_FRAMES = 0,
	REASON_TOPIC,
	REASON_TOO_LARGE,
	REASON_MSGPACK,
	REASON_NOT_MAP,
	REASON_SCHEMA,
	REASON_UNAVAILABLE,	/* valid, but the store could not take it */
	REASON_COUNT
};

struct schema_err {
	enum reason	reason;
	char		detail[SCHEMA_DETAIL_MAX]; /* names field, problem, limit */
};

/* A validated event.  Strings are not NUL-terminated unless said so. */
struct event {
	const struct handler *h;	/* its type */
	const char	*id;
	size_t		 id_len;
	const char	*action;
	size_t		 action_len;
	char		 country[3];	/* NUL-terminated */
	const char	*msg_id;	/* NULL when absent */
	size_t		 msg_id_len;
	int64_t		 occurred_at;	/* as sent, or the time received */
	bool		 has_occurred_at;	/* sent by the producer */
	int64_t		 sort_time;	/* list's time: starts_at, effective_at
					   or else occurred_at */
	bool		 add_priority;	/* the type defaults priority and
					   the producer left it out */
	const uint8_t	*map;		/* the event map as received */
	size_t		 map_len;
	uint32_t	 npairs;	/* pairs in that map */
};

/* The section 10 name of a reason: "frames", "topic", ... */
const char *schema_reason_name(enum reason reason);

/* Parse a reason name; -1 when unknown. */
int schema_reason_parse(const char *name);

/*
 * Decode and validate buf[0..len) as an event of type h, received at
 * received_ms (Unix ms, the occurred_at default).  Returns 0 and fills *ev,
 * or -1 and fills *err with REASON_MSGPACK, REASON_NOT_MAP or REASON_SCHEMA
 * and a detail such as "title: string of 300 bytes is over the limit of 256".
 * Frame size and topic are the caller's checks.
 */
int schema_decode_event(const struct handler *h, const void *buf, size_t len,
    int64_t received_ms, struct event *ev, struct schema_err *err);

/*
 * Append the event as stored to pk: a map of every pair as received, in
 * order and byte for byte, then occurred_at when it was left out and
 * priority "info" when the type defaults it.
 */
void schema_encode_event(const struct event *ev, msgpack_packer *pk);

/* True when the two bytes are an officially assigned ISO 3166-1 alpha-2
 * code in upper case. */
bool schema_country_valid(const char *cc, size_t len);

#endif
