/*
 * store.h — the store: two LMDB environments, the log and its indexes.
 *
 * The log, <dir>/data.mdb, durable (every commit fsync'd):
 *   events   seq (u64 BE) -> record: the notification body
 *   rejects  n (u64 BE) -> record: the rejects item map
 *   meta     "version", "last_seq", "last_reject" -> u64 BE
 *   cursors  webhook name -> u64 BE: the last seq it was given
 *
 * The indexes, <dir>/index/data.mdb, derived from the log and written
 * without fsync (MDB_NOSYNC):
 *   history  type "\0" id -> {seq (u64 BE), list time, country}, sorted
 *            duplicates: every seq; the last is the latest state
 *   timeidx  type "\0" time (flipped BE) seq (BE) -> country: for `list`
 *   msgids   msg_id -> seq: the dedupe index
 *   meta     "indexed_seq" -> u64 BE: the log is indexed to here
 *
 * Why two: an fsync on this kind of disk costs about 57 us per scattered
 * 4 KB page, and the index pages a commit touches are scattered; the
 * log's appends are not.  The indexes hold nothing the log does not, so
 * they need no fsync: after a crash of the process the page cache still
 * has every commit (and the start-up indexes what the last one missed);
 * after a power loss <dir>/index/state, written durably, still says
 * "open" for an earlier boot, and the indexes are built again from the
 * log.  store_write() commits the log and hands the events' index keys
 * to the indexer thread (store_index_work()), so the loop can notify and
 * acknowledge, and the writer commit the next batch, while the indexes
 * are written.
 *
 * A record is [checksum LE][format byte][payload]; the checksum covers
 * the format byte and the payload and is verified on every read, since
 * LMDB does not checksum values.  Format 2 (written) is CRC-32C, format 1
 * (still read) zlib's CRC-32.  A mismatch is logged and reported, never
 * served.
 *
 * Threads: store_write() runs on the writer thread only, and
 * store_index_work() on the indexer thread only; they share the job
 * queue (a mutex) and two atomic seqs.  The writer dedupes in a read
 * transaction of its own on the indexes plus the msg_ids above their
 * last commit.  The read functions run on the loop thread only, between
 * store_rd_begin() and store_rd_end(), and never across loop iterations.
 * Pointers returned by reads live until store_rd_end().
 */
#ifndef WARTA_STORE_H
#define WARTA_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

#include "schema/schema.h"

#define STORE_VERSION	3	/* 3: the indexes in an environment of their own */
#define STORE_VERSION_V2 2	/* indexes in the log: read and upgraded */

struct store;

struct store_opts {
	const char	*dir;
	uint64_t	 map_size;	/* bytes */
	uint64_t	 max_map_size;	/* bytes; 0 or <= map_size: no growth */
	bool		 sync;
	uint64_t	 max_events;	/* 0: unlimited */
	uint64_t	 max_age_ms;	/* 0: unlimited */
	uint64_t	 max_rejects;
};

/* One event to store.  The loop thread fills the inputs; store_write()
 * fills the outputs.  Pointers are into the batch's memory. */
struct store_item {
	const char	*type;		/* handler type name, NUL-terminated */
	const char	*id;
	size_t		 id_len;
	const char	*msg_id;	/* NULL: none */
	size_t		 msg_id_len;
	char		 country[2];
	int64_t		 sort_time;
	int64_t		 received_at;
	const char	*topic;		/* the notify topic */
	size_t		 topic_len;
	const uint8_t	*event;		/* the stored event map */
	size_t		 event_len;
	/* outputs */
	uint64_t	 seq;
	bool		 duplicate;
	size_t		 body_off;	/* notification body in `out` */
	size_t		 body_len;
};

/* One rejected ingest message to keep. */
struct store_reject {
	int64_t		 received_at;
	enum reason	 reason;
	const char	*topic;		/* valid UTF-8 */
	size_t		 topic_len;
	const char	*detail;
	uint64_t	 size;		/* bytes of all frames */
	const uint8_t	*body;		/* first 4096 bytes of frame two */
	size_t		 body_len;
};

/* A webhook's cursor to save: the last seq it answered 2xx for (or that
 * did not match its prefix).  name is NUL-terminated. */
struct store_cursor {
	const char	*name;
	uint64_t	 seq;
};

/* What a write left for the loop thread to see. */
struct store_result {
	uint64_t	 last_seq;
	bool		 more_retention;	/* call again soon */
	uint64_t	 removed;		/* events removed by retention */
};

enum store_status {
	STORE_OK = 0,
	STORE_NOTFOUND = 1,
	STORE_ERR = -1,		/* cause says why */
	STORE_CORRUPT = -2	/* checksum mismatch or a broken index */
};

/*
 * Open (creating if missing) the store in opts->dir.  Returns 0, or -1
 * with *cause set (caller frees): unreadable, corrupt, held by another
 * wartad, or of an unknown version.
 */
int store_open(struct store **sp, const struct store_opts *opts, char **cause);

/* Close the environment; *sp becomes NULL. */
void store_close(struct store **sp);

/* The last seq given (0 for an empty store). */
uint64_t store_last_seq(const struct store *s);

/* Any thread: the seq history, timeidx and msgids are committed to. */
uint64_t store_indexed_seq(const struct store *s);

/*
 * Writer thread: store items, rejects and webhook cursors in one
 * transaction, with fsync unless sync is off, and take a bounded step
 * of retention; then queue the index job of what it changed.  Bodies
 * are appended to out.  Returns 0, or -1 with *cause set when nothing of
 * the batch was stored (map full, disk full, I/O error).
 */
int store_write(struct store *s, struct store_item *items, size_t nitems,
    const struct store_reject *rejects, size_t nrejects,
    const struct store_cursor *cursors, size_t ncursors, int64_t now_ms,
    msgpack_sbuffer *out, struct store_result *res, char **cause);

/*
 * Indexer thread: apply the index jobs that store_write() queued (each
 * committed write's entries, copied), several at once, in a transaction
 * of the index environment that is not synced; catch up from the log
 * after a failed step (retried once a second).  With wait, blocks until
 * there is work; returns 1 when the indexes moved, 0 when not (nothing
 * to do, or a failure, logged), -1 once store_index_stop() was called and
 * the queue is empty.  While an indexer waits, store_write() waits when
 * the queue holds 65,536 entries.
 */
int store_index_work(struct store *s, bool wait);
void store_index_stop(struct store *s);

/* Apply every queued job in the calling thread (no indexer running:
 * tests; store_close() does it too).  Returns the indexed seq. */
uint64_t store_index_sync(struct store *s);

/* Any thread: the seq up to which the indexer has handled every job,
 * committed or failed (reads wait for it, then answer from what the
 * indexes have, searching the log's tail past them). */
uint64_t store_index_done(const struct store *s);

/* Loop thread, in a read transaction: the saved cursor of a webhook;
 * STORE_NOTFOUND when it has none yet. */
int store_rd_cursor(struct store *s, const char *name, uint64_t *seq);

/* Loop thread: begin / end a read transaction. */
int store_rd_begin(struct store *s, char **cause);
void store_rd_end(struct store *s);

/* The body of event seq. */
int store_rd_event(struct store *s, uint64_t seq, const uint8_t **body,
    size_t *len);

/* first_seq, last_seq and the number of stored events. */
void store_rd_range(struct store *s, uint64_t *first, uint64_t *last,
    uint64_t *count);

/* How many of the events this read must see (those the indexer has
 * handled, store_index_done(), when the read began) the indexes do not
 * have, as this read transaction sees it: above 0 only after an index
 * commit failed.  Events still on their way to the indexer are not
 * counted: the loop runs a read only once the indexer has handled every
 * event acknowledged before it. */
uint64_t store_rd_lag(struct store *s);

/* The latest seq of (type, id); with the indexes behind (store_rd_lag),
 * the log's tail is searched too. */
int store_rd_latest(struct store *s, const char *type, const char *id,
    size_t id_len, uint64_t *seq);

typedef int (*store_seq_cb)(void *arg, uint64_t seq);
typedef int (*store_body_cb)(void *arg, uint64_t key, const uint8_t *body,
    size_t len);

/* Every stored seq of (type, id), oldest first, at most max (the newest
 * max when there are more; *truncated says so). */
int store_rd_history(struct store *s, const char *type, const char *id,
    size_t id_len, size_t max, store_seq_cb cb, void *arg, bool *truncated);

/* Latest events of type's entities with from <= time <= to, in country
 * when it is not NULL, ascending by time then seq; cb returns non-zero to
 * stop. */
int store_rd_list(struct store *s, const char *type, const char *country,
    int64_t from, int64_t to, store_body_cb cb, void *arg);

/* Events from seq on, ascending; cb returns non-zero to stop. */
int store_rd_scan(struct store *s, uint64_t from, store_body_cb cb, void *arg);

/* Rejects items from n on; cb returns non-zero to stop. */
int store_rd_rejects(struct store *s, uint64_t from, store_body_cb cb,
    void *arg);

/* Bytes used by the data file and bytes of the map. */
void store_sizes(struct store *s, uint64_t *db_bytes, uint64_t *map_bytes);

/* Whether the last store_write() failed for lack of space. */
bool store_full(const struct store *s);

/* Records found corrupt since start. */
uint64_t store_corrupt_count(const struct store *s);

/* Find the value of key in a notification body or event map: the span of
 * the value.  Returns 0 or -1. */
int store_body_field(const uint8_t *map, size_t len, const char *key,
    const uint8_t **val, size_t *vlen);
/* A string field of such a map: 0 with *s (not NUL-terminated, inside
 * map) and *slen, or -1 when it is missing or not a string. */
int store_body_str(const uint8_t *map, size_t len, const char *key,
    const char **s, size_t *slen);

#endif
