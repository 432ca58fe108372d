/*
 * store.c — the LMDB store: append, index, dedupe, retention, reads.
 */
#include "daemon/store.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <lmdb.h>
#include <zlib.h>

#include "daemon/crc32c.h"
#include "daemon/fault.h"
#include "daemon/log.h"
#include "daemon/xmalloc.h"
#include "handlers/handlers.h"
#include "schema/mp.h"

#define STORE_FORMAT_CRC32	1	/* record format byte: zlib crc32 */
#define STORE_FORMAT		2	/* ... CRC-32C, written since */
#define STORE_REC_HDR		5	/* crc32 + format */
#define STORE_INDEX_CHUNK	16384	/* events per index transaction */
#define STORE_IQ_MAX		65536	/* index entries queued, at most */
/* The index environment's map, as a multiple of the log's largest: address
 * space only (no MDB_WRITEMAP, so the file grows as pages are written),
 * never what fills first (an event's index entries are a fraction of its
 * record), since a full index leaves get searching the log and list
 * unavailable.  Not a fixed huge size: valgrind, ulimit -v and small
 * address spaces refuse a map of tens of GiB. */
#define STORE_INDEX_MAP_X	2
#define STORE_KEY_MAX		200	/* type + NUL + id, msg_id */
#define STORE_RETAIN_STEP	2048	/* events removed per transaction */
#define STORE_HIST_LEN		18	/* history value: seq, time, country */

/*
 * The dedupe keys of events stored but not yet indexed (seq above
 * indexed_seq): msg_id -> seq, hashed, and in seq order so that an index
 * step drops what it indexed and a failed commit what it added.
 */
struct store_pend_id {
	struct store_pend_id		*hnext;		/* hash chain */
	TAILQ_ENTRY(store_pend_id)	 entry;		/* seq order */
	uint64_t			 seq;
	uint32_t			 hash;
	uint16_t			 len;
	char				 id[];
};
TAILQ_HEAD(store_pend_ids, store_pend_id);

struct store_idset {
	struct store_pend_id	**b;
	size_t			 nb, n;		/* buckets (power of 2), keys */
	struct store_pend_ids	 fifo;
};

/*
 * An index job: what one commit of the log changes in the indexes, for
 * the indexer thread.  The writer copies it out of the batch (keys only,
 * about 60 bytes an event), so the batch goes back to the loop at the
 * log's commit.  Strings are offsets into bytes, which grows.
 */
struct store_ient {
	uint64_t	 seq;
	int64_t		 time;
	uint32_t	 off;		/* type, then id, then msg_id */
	uint16_t	 type_len, id_len, msg_len;	/* msg_len 0: none */
	char		 country[2];
	bool		 remove;	/* retention removed it from the log */
};

struct store_ijob {
	struct store_ijob	*next;
	uint64_t		 before;	/* the log's last seq before */
	uint64_t		 after;		/* ... and after its commit */
	uint64_t		 first;		/* the log's first after it */
	struct store_ient	*ents;
	size_t			 n, cap;
	char			*bytes;
	size_t			 blen, bcap;
};

/*
 * The indexer's sort of a run of jobs (see store_index_run): the adds in
 * entity order, then the time index changes they make in key order.
 */
struct store_iref {
	const struct store_ient	*e;
	const char		*b;		/* type, id, msg_id */
};

struct store_itop {
	const char	*type;
	const char	*country;	/* an add's */
	int64_t		 time;		/* the version's list time */
	uint64_t	 seq;
	uint16_t	 type_len;
	bool		 del;		/* the version it replaced */
	bool		 dead;		/* undone in the same run */
};

struct store_isort {
	struct store_iref	*refs;
	struct store_itop	*tops;
	size_t			 cap;	/* of each */
};

struct store {
	MDB_env		*env;		/* the log: durable */
	MDB_dbi		 events, rejects, meta, cursors;
	MDB_env		*ienv;		/* the indexes: derived, not synced */
	MDB_dbi		 history, timeidx, msgids, imeta;
	MDB_txn		*irtxn;		/* the loop's read of ienv */
	char		*dir;
	struct store_opts opts;
	uint64_t	 map_size;
	/* Writer thread state. */
	uint64_t	 last_seq;
	uint64_t	 last_reject;
	uint64_t	 indexed_seq;	/* indexer: the indexes hold to here */
	struct store_idset pending;	/* writer: msg_ids above committed */
	struct rlog	 index_rlog;	/* "cannot write the indexes" lines */
	struct store_ijob *wjob;	/* the job the write builds */
	struct store_isort isort;	/* indexer: store_index_run's */
	MDB_txn		*wrtxn;		/* the writer's read of ienv: dedupe */
	/* Writer -> indexer: the index jobs, in seq order. */
	struct {
		pthread_mutex_t		 mtx;
		pthread_cond_t		 work;	/* a job, or stop */
		pthread_cond_t		 room;	/* under STORE_IQ_MAX again */
		struct store_ijob	*head, **tailp, *spare;
		size_t			 nents;	/* entries queued */
		uint64_t		 after;	/* the last job's after */
		bool			 threaded;	/* an indexer waits */
		bool			 stop;
	} iq;
	/* Indexer thread (or before it starts, or after it stops). */
	bool		 ifailed;	/* the last index commit failed */
	/* Set by the indexer, read anywhere (atomic). */
	uint64_t	 committed;	/* the indexes' last commit goes to */
	uint64_t	 done;		/* jobs handled (indexed or not) to */
	bool		 full;
	/* Loop thread: the read transaction, reset between uses. */
	MDB_txn		*rtxn;
	bool		 rtxn_live;
	uint64_t	 rd_need;	/* the read sees events to here */
	uint64_t	 corrupt;
	/* Readers hold it shared; the writer holds it alone to grow the map,
	   which LMDB allows only with no transaction live. */
	pthread_rwlock_t resize_lock;
};

/* Store v as 8 bytes big-endian, so keys sort numerically. */
static void
store_put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

/* Read 8 bytes big-endian. */
static uint64_t
store_get_be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

/* A signed time as a key that sorts in numeric order. */
static uint64_t
store_time_key(int64_t t)
{
	return (uint64_t)t ^ (UINT64_C(1) << 63);
}

/* The zlib crc32 of a record of format 1. */
static uint32_t
store_crc32(const uint8_t *p, size_t len)
{
	uLong crc = crc32(0L, Z_NULL, 0);

	while (len > 0) {
		uInt n = len > UINT_MAX ? UINT_MAX : (uInt)len;

		crc = crc32(crc, p, n);
		p += n;
		len -= n;
	}
	return (uint32_t)crc;
}

/* Write a record header before payload[0..len) already in place at
 * rec + STORE_REC_HDR. */
static void
store_seal(uint8_t *rec, size_t payload_len)
{
	uint32_t crc;

	rec[4] = STORE_FORMAT;
	crc = crc32c(0, rec + 4, payload_len + 1);
	rec[0] = (uint8_t)crc;
	rec[1] = (uint8_t)(crc >> 8);
	rec[2] = (uint8_t)(crc >> 16);
	rec[3] = (uint8_t)(crc >> 24);
}

/* Verify a record; 0 and the payload, or -1. */
static int
store_open_record(const MDB_val *v, const uint8_t **payload, size_t *len)
{
	const uint8_t *p = v->mv_data;
	uint32_t want;

	if (v->mv_size < STORE_REC_HDR ||
	    (p[4] != STORE_FORMAT && p[4] != STORE_FORMAT_CRC32))
		return -1;
	want = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
	if ((p[4] == STORE_FORMAT ? crc32c(0, p + 4, v->mv_size - 4) :
	    store_crc32(p + 4, v->mv_size - 4)) != want)
		return -1;
	*payload = p + STORE_REC_HDR;
	*len = v->mv_size - STORE_REC_HDR;
	return 0;
}

/* Build the entity key type "\0" id; returns its length. */
static size_t
store_entity_key(uint8_t *key, const char *type, const char *id, size_t id_len)
{
	size_t tl = strlen(type);

	memcpy(key, type, tl);
	key[tl] = '\0';
	memcpy(key + tl + 1, id, id_len);
	return tl + 1 + id_len;
}

/* Build the time index key type "\0" time seq from a type of tl bytes;
 * returns its length. */
static size_t
store_time_idx_keyn(uint8_t *key, const char *type, size_t tl, int64_t t,
    uint64_t seq)
{
	memcpy(key, type, tl);
	key[tl] = '\0';
	store_put_be64(key + tl + 1, store_time_key(t));
	store_put_be64(key + tl + 9, seq);
	return tl + 17;
}

/* The same for a type that is a C string. */
static size_t
store_time_idx_key(uint8_t *key, const char *type, int64_t t, uint64_t seq)
{
	return store_time_idx_keyn(key, type, strlen(type), t, seq);
}

/* A history value: seq (BE, so duplicates sort by it), list time,
 * country. */
static void
store_hist_value(uint8_t *v, uint64_t seq, int64_t t, const char *country)
{
	store_put_be64(v, seq);
	store_put_be64(v + 8, (uint64_t)t);
	memcpy(v + 16, country, 2);
}

/* Wall clock in ms, for log rates and durations. */
static int64_t
store_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* FNV-1a of a msg_id. */
static uint32_t
store_idset_hash(const char *id, size_t len)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (uint8_t)id[i]) * 16777619u;
	return h;
}

/* The pending seq of msg_id, or NULL. */
static const struct store_pend_id *
store_idset_find(const struct store_idset *set, const char *id, size_t len)
{
	uint32_t h;

	if (set->n == 0)
		return NULL;
	h = store_idset_hash(id, len);
	for (const struct store_pend_id *e = set->b[h & (set->nb - 1)];
	    e != NULL; e = e->hnext)
		if (e->hash == h && e->len == len && memcmp(e->id, id, len) == 0)
			return e;
	return NULL;
}

/* Add msg_id -> seq; seqs arrive in ascending order. */
static void
store_idset_add(struct store_idset *set, const char *id, size_t len,
    uint64_t seq)
{
	struct store_pend_id *e;

	if (set->n >= set->nb) {
		size_t nb = set->nb ? set->nb * 2 : 1024;
		struct store_pend_id **b = xcalloc(nb, sizeof *b);

		TAILQ_FOREACH(e, &set->fifo, entry) {
			e->hnext = b[e->hash & (nb - 1)];
			b[e->hash & (nb - 1)] = e;
		}
		free(set->b);
		set->b = b;
		set->nb = nb;
	}
	e = xmalloc(sizeof *e + len);
	e->seq = seq;
	e->hash = store_idset_hash(id, len);
	e->len = (uint16_t)len;
	memcpy(e->id, id, len);
	e->hnext = set->b[e->hash & (set->nb - 1)];
	set->b[e->hash & (set->nb - 1)] = e;
	TAILQ_INSERT_TAIL(&set->fifo, e, entry);
	set->n++;
}

/* Unlink and free one key. */
static void
store_idset_del(struct store_idset *set, struct store_pend_id *e)
{
	struct store_pend_id **pp = &set->b[e->hash & (set->nb - 1)];

	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	TAILQ_REMOVE(&set->fifo, e, entry);
	set->n--;
	free(e);
}

/* Drop the keys of seqs <= upto (the index has them now). */
static void
store_idset_prune(struct store_idset *set, uint64_t upto)
{
	struct store_pend_id *e;

	while ((e = TAILQ_FIRST(&set->fifo)) != NULL && e->seq <= upto)
		store_idset_del(set, e);
}

/* Drop the keys of seqs > after (their commit failed). */
static void
store_idset_undo(struct store_idset *set, uint64_t after)
{
	struct store_pend_id *e;

	while ((e = TAILQ_LAST(&set->fifo, store_pend_ids)) != NULL &&
	    e->seq > after)
		store_idset_del(set, e);
}

/* What a job keeps for reuse beyond one batch's worth. */
#define STORE_IJOB_KEEP		8192

/* An empty job for the writer: the queue's spare, or a new one. */
static struct store_ijob *
store_ijob_get(struct store *s)
{
	struct store_ijob *j;

	pthread_mutex_lock(&s->iq.mtx);
	if ((j = s->iq.spare) != NULL)
		s->iq.spare = j->next;
	pthread_mutex_unlock(&s->iq.mtx);
	if (j == NULL)
		j = xcalloc(1, sizeof *j);
	return j;		/* store_write_txn() empties it */
}

static void
store_ijob_free(struct store_ijob *j)
{
	if (j == NULL)
		return;
	free(j->ents);
	free(j->bytes);
	free(j);
}

/* Give a job back (one spare is kept, trimmed; the rest are freed).
 * Called with iq.mtx held. */
static void
store_ijob_release(struct store *s, struct store_ijob *j)
{
	if (s->iq.spare != NULL) {
		store_ijob_free(j);
		return;
	}
	if (j->cap > STORE_IJOB_KEEP) {
		free(j->ents);
		free(j->bytes);
		j->ents = NULL;
		j->bytes = NULL;
		j->cap = j->bcap = 0;
	}
	j->next = NULL;
	s->iq.spare = j;
}

/* Add an index entry to job j; strings are copied. */
static void
store_ijob_add(struct store_ijob *j, bool remove, uint64_t seq, int64_t t,
    const char *type, size_t tl, const char *id, size_t id_len,
    const char *country, const char *msg_id, size_t msg_len)
{
	struct store_ient *e;
	size_t need = tl + id_len + (msg_id ? msg_len : 0);

	if (j->n == j->cap) {
		j->cap = j->cap ? j->cap * 2 : 256;
		j->ents = xreallocarray(j->ents, j->cap, sizeof *j->ents);
	}
	if (need > j->bcap - j->blen) {
		while (need > j->bcap - j->blen)
			j->bcap = j->bcap ? j->bcap * 2 : 16384;
		j->bytes = xrealloc(j->bytes, j->bcap);
	}
	e = &j->ents[j->n++];
	e->seq = seq;
	e->time = t;
	e->remove = remove;
	e->off = (uint32_t)j->blen;
	e->type_len = (uint16_t)tl;
	e->id_len = (uint16_t)id_len;
	e->msg_len = msg_id ? (uint16_t)msg_len : 0;
	memcpy(e->country, country ? country : "\0\0", 2);
	memcpy(j->bytes + j->blen, type, tl);
	memcpy(j->bytes + j->blen + tl, id, id_len);
	if (msg_id != NULL)
		memcpy(j->bytes + j->blen + tl + id_len, msg_id, msg_len);
	j->blen += need;
}

/* Format an LMDB error for a cause string. */
static char *
store_cause(const struct store *s, const char *what, int rc)
{
	char *cause;

	xasprintf(&cause, "store %s: %s: %s", s->dir, what, mdb_strerror(rc));
	return cause;
}

/* Read a u64 from meta, 0 when absent. */
static int
store_meta_get(MDB_txn *txn, MDB_dbi dbi, const char *key, uint64_t *v)
{
	MDB_val k = { strlen(key), (void *)key }, d;
	int rc;

	*v = 0;
	rc = mdb_get(txn, dbi, &k, &d);
	if (rc == MDB_NOTFOUND)
		return MDB_NOTFOUND;
	if (rc != 0)
		return rc;
	if (d.mv_size != 8)
		return MDB_CORRUPTED;
	*v = store_get_be64(d.mv_data);
	return 0;
}

/* Write a u64 to meta. */
static int
store_meta_put(MDB_txn *txn, MDB_dbi dbi, const char *key, uint64_t v)
{
	uint8_t buf[8];
	MDB_val k = { strlen(key), (void *)key }, d = { 8, buf };

	store_put_be64(buf, v);
	return mdb_put(txn, dbi, &k, &d, 0);
}

/*
 * Open the log's databases and check the version, in one transaction.  A
 * version 2 store kept its indexes in the log; they are dropped here and
 * built again in the index environment (*rebuild).
 */
static int
store_init_dbs(struct store *s, bool *rebuild, char **cause)
{
	static const struct {
		const char	*name;
		unsigned int	 flags;
	} v2[] = {
		{ "history", MDB_DUPSORT | MDB_DUPFIXED },
		{ "timeidx", 0 },
		{ "msgids", 0 },
	};
	MDB_txn *txn;
	MDB_cursor *cur;
	MDB_val k, d;
	MDB_dbi dbi;
	uint64_t version;
	int rc;

	if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn)) != 0) {
		*cause = store_cause(s, "cannot begin a transaction", rc);
		return -1;
	}
	if ((rc = mdb_dbi_open(txn, "meta", MDB_CREATE, &s->meta)) ||
	    (rc = mdb_dbi_open(txn, "events", MDB_CREATE, &s->events)) ||
	    (rc = mdb_dbi_open(txn, "rejects", MDB_CREATE, &s->rejects)) ||
	    (rc = mdb_dbi_open(txn, "cursors", MDB_CREATE, &s->cursors))) {
		mdb_txn_abort(txn);
		*cause = store_cause(s, "cannot open its databases "
		    "(is it a warta store?)", rc);
		return -1;
	}

	rc = store_meta_get(txn, s->meta, "version", &version);
	if (rc == MDB_NOTFOUND) {
		MDB_stat st;

		mdb_stat(txn, s->events, &st);
		if (st.ms_entries != 0) {
			mdb_txn_abort(txn);
			xasprintf(cause, "store %s has events but no version "
			    "record: it was not written by wartad; move it "
			    "aside", s->dir);
			return -1;
		}
		version = STORE_VERSION;
		rc = store_meta_put(txn, s->meta, "version", version);
	}
	if (rc != 0) {
		mdb_txn_abort(txn);
		*cause = store_cause(s, "cannot read its version", rc);
		return -1;
	}
	if (version != STORE_VERSION && version != STORE_VERSION_V2) {
		mdb_txn_abort(txn);
		xasprintf(cause, "store %s has format version %" PRIu64
		    ", this wartad reads versions %d and %d only; run a "
		    "wartad that matches it, or move the store aside", s->dir,
		    version, STORE_VERSION_V2, STORE_VERSION);
		return -1;
	}
	if (version == STORE_VERSION_V2) {
		for (size_t i = 0; i < sizeof v2 / sizeof v2[0]; i++) {
			rc = mdb_dbi_open(txn, v2[i].name, v2[i].flags, &dbi);
			if (rc == 0)
				rc = mdb_drop(txn, dbi, 1);
			if (rc != 0 && rc != MDB_NOTFOUND)
				break;
			rc = 0;
		}
		if (rc == 0)
			rc = store_meta_put(txn, s->meta, "version",
			    STORE_VERSION);
		if (rc != 0) {
			mdb_txn_abort(txn);
			*cause = store_cause(s, "cannot upgrade it from "
			    "version 2", rc);
			return -1;
		}
		log_info("store %s: upgraded from version 2: its indexes move "
		    "to %s/index and are built again from the log", s->dir,
		    s->dir);
		*rebuild = true;
	}

	/* The last seq survives retention emptying the log. */
	store_meta_get(txn, s->meta, "last_seq", &s->last_seq);
	if ((rc = mdb_cursor_open(txn, s->events, &cur)) == 0) {
		if (mdb_cursor_get(cur, &k, &d, MDB_LAST) == 0 &&
		    k.mv_size == 8 && store_get_be64(k.mv_data) > s->last_seq)
			s->last_seq = store_get_be64(k.mv_data);
		mdb_cursor_close(cur);
	}
	store_meta_get(txn, s->meta, "last_reject", &s->last_reject);

	if ((rc = mdb_txn_commit(txn)) != 0) {
		*cause = store_cause(s, "cannot commit", rc);
		return -1;
	}
	return 0;
}

/*
 * A data file LMDB would open but that cannot hold the store: empty
 * (LMDB would silently start a new store in it), or shorter than its last
 * committed transaction (reading the pages past its end through the map
 * is SIGBUS).  A healthy file is never shorter: LMDB writes a
 * transaction's pages before the meta page that commits them.  Before
 * mdb_env_open() (env NULL) only emptiness can be checked.  0 or -1.
 */
static int
store_check_file(struct store *s, MDB_env *env, char **cause)
{
	char path[PATH_MAX];
	struct stat sb;
	MDB_envinfo info;
	MDB_stat st;
	uint64_t need;

	snprintf(path, sizeof path, "%s/data.mdb", s->dir);
	if (stat(path, &sb) == -1)
		return 0;	/* a new store; LMDB reports other errors */
	if (env == NULL) {
		if (sb.st_size != 0)
			return 0;
		xasprintf(cause, "store %s is empty (0 bytes) but exists: it "
		    "was truncated, or its creation never finished; restore "
		    "it from a backup, or remove it to start an empty store",
		    path);
		return -1;
	}
	mdb_env_info(env, &info);
	mdb_env_stat(env, &st);
	need = ((uint64_t)info.me_last_pgno + 1) * st.ms_psize;
	if ((uint64_t)sb.st_size >= need)
		return 0;
	xasprintf(cause, "store %s is truncated: it holds %" PRIu64 " bytes, "
	    "its last committed transaction needs %" PRIu64 "; restore it "
	    "from a backup, or move the directory aside to start empty", path,
	    (uint64_t)sb.st_size, need);
	return -1;
}

static int	store_index_open(struct store *, bool, char **);
static int	store_index_state(const struct store *, const char *);

/* Open the environment. */
int
store_open(struct store **sp, const struct store_opts *opts, char **cause)
{
	struct store *s;
	/* Not MDB_WRITEMAP: it saves the writer the copy of each page it
	   changes (13% fewer instructions), but every new page of the map
	   then takes a page fault and block allocation in the kernel, and
	   ingest ran about 20% slower by the clock. */
	unsigned int flags = MDB_NORDAHEAD;
	bool rebuild = false;
	int rc;

	*sp = NULL;
	if (mkdir(opts->dir, 0750) == -1 && errno != EEXIST) {
		xasprintf(cause, "store %s: cannot create: %s", opts->dir,
		    strerror(errno));
		return -1;
	}
	s = xcalloc(1, sizeof *s);
	s->dir = xstrdup(opts->dir);
	s->opts = *opts;
	s->opts.dir = s->dir;
	s->map_size = opts->map_size;
	TAILQ_INIT(&s->pending.fifo);
	pthread_rwlock_init(&s->resize_lock, NULL);
	pthread_mutex_init(&s->iq.mtx, NULL);
	pthread_cond_init(&s->iq.work, NULL);
	pthread_cond_init(&s->iq.room, NULL);
	s->iq.tailp = &s->iq.head;
	s->wjob = xcalloc(1, sizeof *s->wjob);

	if (!opts->sync)
		flags |= MDB_NOSYNC;
	if (store_check_file(s, NULL, cause) == -1)
		goto fail;
	if ((rc = mdb_env_create(&s->env)) != 0 ||
	    (rc = mdb_env_set_maxdbs(s->env, 16)) != 0 ||
	    (rc = mdb_env_set_mapsize(s->env, s->map_size)) != 0) {
		*cause = store_cause(s, "cannot set up LMDB", rc);
		goto fail;
	}
	if ((rc = mdb_env_open(s->env, s->dir, flags, 0640)) != 0) {
		if (rc == MDB_INVALID || rc == MDB_CORRUPTED ||
		    rc == MDB_VERSION_MISMATCH)
			xasprintf(cause, "store %s/data.mdb is damaged or not "
			    "an LMDB file (%s): restore it from a backup, or "
			    "move the directory aside to start empty", s->dir,
			    mdb_strerror(rc));
		else
			*cause = store_cause(s, "cannot open", rc);
		goto fail;
	}
	if (store_check_file(s, s->env, cause) == -1)
		goto fail;
	{
		MDB_envinfo info;

		/* An existing store may be larger than the configured map. */
		mdb_env_info(s->env, &info);
		s->map_size = info.me_mapsize;
	}
	if (store_init_dbs(s, &rebuild, cause) == -1 ||
	    store_index_open(s, rebuild, cause) == -1)
		goto fail;
	if ((rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &s->rtxn)) != 0 ||
	    (rc = mdb_txn_begin(s->ienv, NULL, MDB_RDONLY, &s->irtxn)) != 0) {
		*cause = store_cause(s, "cannot begin a read transaction", rc);
		goto fail;
	}
	mdb_txn_reset(s->rtxn);
	mdb_txn_reset(s->irtxn);
	/* The indexes are committed, and every job handled, to here. */
	s->committed = s->indexed_seq;
	s->done = s->last_seq;
	s->iq.after = s->last_seq;
	*sp = s;
	return 0;

fail:
	if (s->rtxn)
		mdb_txn_abort(s->rtxn);
	if (s->irtxn)
		mdb_txn_abort(s->irtxn);
	store_ijob_free(s->wjob);
	pthread_cond_destroy(&s->iq.room);
	pthread_cond_destroy(&s->iq.work);
	pthread_mutex_destroy(&s->iq.mtx);
	if (s->ienv)
		mdb_env_close(s->ienv);
	if (s->env)
		mdb_env_close(s->env);
	store_idset_undo(&s->pending, 0);
	free(s->pending.b);
	pthread_rwlock_destroy(&s->resize_lock);
	free(s->dir);
	free(s);
	return -1;
}

/* Close the environment. */
void
store_close(struct store **sp)
{
	struct store *s = *sp;

	if (s == NULL)
		return;
	if (s->rtxn)
		mdb_txn_abort(s->rtxn);
	if (s->irtxn)
		mdb_txn_abort(s->irtxn);
	if (s->wrtxn)
		mdb_txn_abort(s->wrtxn);
	/* The indexer has stopped: what it left (a failed step) now. */
	store_index_sync(s);
	store_ijob_free(s->wjob);
	free(s->isort.refs);
	free(s->isort.tops);
	store_ijob_free(s->iq.spare);
	for (struct store_ijob *j = s->iq.head, *next; j != NULL; j = next) {
		next = j->next;
		store_ijob_free(j);
	}
	pthread_cond_destroy(&s->iq.room);
	pthread_cond_destroy(&s->iq.work);
	pthread_mutex_destroy(&s->iq.mtx);
	/* The index is whole on disk once synced: a restart after a power
	   loss need not build it again. */
	if (mdb_env_sync(s->ienv, 1) != 0 ||
	    store_index_state(s, "clean") == -1)
		log_warn("store %s/index: not synced at close; it will be "
		    "built again after a power loss", s->dir);
	mdb_env_close(s->ienv);
	mdb_env_close(s->env);
	store_idset_undo(&s->pending, 0);
	free(s->pending.b);
	pthread_rwlock_destroy(&s->resize_lock);
	free(s->dir);
	free(s);
	*sp = NULL;
}

/* The seq the indexes go to. */
uint64_t
store_indexed_seq(const struct store *s)
{
	return __atomic_load_n(&s->committed, __ATOMIC_ACQUIRE);
}

/* The seq the indexer has handled every job to. */
uint64_t
store_index_done(const struct store *s)
{
	return __atomic_load_n(&s->done, __ATOMIC_ACQUIRE);
}

/* The last seq given. */
uint64_t
store_last_seq(const struct store *s)
{
	return s->last_seq;
}

/* Whether the last write failed for space. */
bool
store_full(const struct store *s)
{
	return __atomic_load_n(&s->full, __ATOMIC_RELAXED);
}

/* Records found corrupt. */
uint64_t
store_corrupt_count(const struct store *s)
{
	return __atomic_load_n(&s->corrupt, __ATOMIC_RELAXED);
}

/*
 * Find key's value in a MessagePack map whose keys are strings.  The map is
 * our own, verified by checksum, but the walk is bounded all the same.
 */
int
store_body_field(const uint8_t *map, size_t len, const char *key,
    const uint8_t **val, size_t *vlen)
{
	struct mp_reader r;
	struct mp_obj o, k;

	mp_reader_init(&r, map, len);
	if (mp_read(&r, &o) == -1 || o.type != MP_MAP)
		return -1;
	for (uint32_t i = 0; i < o.v.n; i++) {
		const uint8_t *kstart = r.p;

		if (mp_read(&r, &k) == -1)
			return -1;
		if (k.type == MP_ARRAY || k.type == MP_MAP) {
			r.p = kstart;
			if (mp_skip(&r) == -1)
				return -1;
		} else if (k.type == MP_STR && mp_str_eq(&k, key)) {
			const uint8_t *start = r.p;

			if (mp_skip(&r) == -1)
				return -1;
			*val = start;
			*vlen = (size_t)(r.p - start);
			return 0;
		}
		if (mp_skip(&r) == -1)
			return -1;
	}
	return -1;
}

/* A string field of a map, or -1. */
int
store_body_str(const uint8_t *map, size_t len, const char *key,
    const char **s, size_t *slen)
{
	const uint8_t *v;
	size_t vlen;
	struct mp_reader r;
	struct mp_obj o;

	if (store_body_field(map, len, key, &v, &vlen) == -1)
		return -1;
	mp_reader_init(&r, v, vlen);
	if (mp_read(&r, &o) == -1 || o.type != MP_STR)
		return -1;
	*s = o.v.str.ptr;
	*slen = o.v.str.len;
	return 0;
}

/*
 * Remove seq from an entity's history.  When it is the entity's last
 * value (its latest state: oldest first, so all of it has gone), its
 * time index entry goes too.
 */
static int
store_remove_history(struct store *s, MDB_txn *txn, const char *type,
    MDB_val *kk, uint64_t seq)
{
	MDB_cursor *hc;
	MDB_val k2, dd;
	int rc;

	if ((rc = mdb_cursor_open(txn, s->history, &hc)) != 0)
		return rc;
	rc = mdb_cursor_get(hc, kk, &dd, MDB_SET);
	if (rc == 0)
		rc = mdb_cursor_get(hc, &k2, &dd, MDB_LAST_DUP);
	if (rc == 0 && dd.mv_size == STORE_HIST_LEN &&
	    store_get_be64(dd.mv_data) == seq) {
		int64_t t = (int64_t)store_get_be64((uint8_t *)dd.mv_data + 8);
		uint8_t tkey[STORE_KEY_MAX + 20];
		MDB_val tk;

		if ((rc = mdb_cursor_del(hc, 0)) != 0)
			goto out;
		tk.mv_size = store_time_idx_key(tkey, type, t, seq);
		tk.mv_data = tkey;
		rc = mdb_del(txn, s->timeidx, &tk, NULL);
		goto out;
	}
	/* Not the latest: find it among the older ones. */
	for (rc = rc == 0 ? mdb_cursor_get(hc, &k2, &dd, MDB_FIRST_DUP) : rc;
	    rc == 0; rc = mdb_cursor_get(hc, &k2, &dd, MDB_NEXT_DUP))
		if (dd.mv_size == STORE_HIST_LEN &&
		    store_get_be64(dd.mv_data) >= seq) {
			if (store_get_be64(dd.mv_data) == seq)
				rc = mdb_cursor_del(hc, 0);
			break;
		}
out:
	mdb_cursor_close(hc);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/* The index keys of a stored event, from its record. */
struct store_rec_keys {
	char		 type[32];	/* the topic up to its first '.' */
	const char	*id, *country, *msg_id;	/* country, msg_id: NULL when
						   absent or malformed */
	size_t		 id_len, msg_len;
	const uint8_t	*ev;		/* the event map */
	size_t		 evlen;
};

/* Read a record's keys: 0, or -1 when it has no type and id (checksum or
 * format). */
static int
store_record_keys(const MDB_val *rec, struct store_rec_keys *rk)
{
	const uint8_t *body;
	const char *topic, *dot;
	size_t blen, tlen, clen;

	if (store_open_record(rec, &body, &blen) == -1 ||
	    store_body_str(body, blen, "topic", &topic, &tlen) == -1 ||
	    store_body_field(body, blen, "event", &rk->ev, &rk->evlen) == -1 ||
	    store_body_str(rk->ev, rk->evlen, "id", &rk->id, &rk->id_len) ==
	    -1 || (dot = memchr(topic, '.', tlen)) == NULL ||
	    (size_t)(dot - topic) >= sizeof rk->type ||
	    rk->id_len > SCHEMA_ID_MAX)
		return -1;
	memcpy(rk->type, topic, (size_t)(dot - topic));
	rk->type[dot - topic] = '\0';
	if (store_body_str(rk->ev, rk->evlen, "country", &rk->country,
	    &clen) == -1 || clen != 2)
		rk->country = NULL;
	if (store_body_str(rk->ev, rk->evlen, "msg_id", &rk->msg_id,
	    &rk->msg_len) == -1 || rk->msg_len == 0 ||
	    rk->msg_len > SCHEMA_MSGID_MAX) {
		rk->msg_id = NULL;
		rk->msg_len = 0;
	}
	return 0;
}

/* Delete one event (cur, in the log); its index entries go with the
 * write's index job. */
static int
store_remove_event(struct store *s, MDB_cursor *cur, const MDB_val *k,
    const MDB_val *d)
{
	struct store_rec_keys rk;
	uint64_t seq = store_get_be64(k->mv_data);

	if (store_record_keys(d, &rk) == -1) {
		/* Remove the damaged record all the same: retention must go
		   on, and its index entries then point at nothing. */
		__atomic_fetch_add(&s->corrupt, 1, __ATOMIC_RELAXED);
		log_error("store: event %" PRIu64 " is corrupt (checksum or "
		    "format); removing it by retention", seq);
		return mdb_cursor_del(cur, 0);
	}
	store_ijob_add(s->wjob, true, seq, 0, rk.type, strlen(rk.type), rk.id,
	    rk.id_len, NULL, rk.msg_id, rk.msg_len);
	return mdb_cursor_del(cur, 0);
}

/* The indexer's half of a removal: the entity's history (and its time
 * index entry with the latest), and the msg_id if it is still this
 * event's. */
static int
store_unindex_one(struct store *s, MDB_txn *itxn, const char *type,
    const char *id, size_t id_len, const char *msg_id, size_t msg_len,
    uint64_t seq)
{
	uint8_t key[STORE_KEY_MAX + 20];
	MDB_val kk, dd;
	int rc;

	kk.mv_size = store_entity_key(key, type, id, id_len);
	kk.mv_data = key;
	if ((rc = store_remove_history(s, itxn, type, &kk, seq)) != 0)
		return rc;
	if (msg_id != NULL) {
		kk.mv_size = msg_len;
		kk.mv_data = (void *)msg_id;
		if (mdb_get(itxn, s->msgids, &kk, &dd) == 0 &&
		    dd.mv_size == 8 && store_get_be64(dd.mv_data) == seq &&
		    (rc = mdb_del(itxn, s->msgids, &kk, NULL)) != 0)
			return rc;
	}
	return 0;
}

/*
 * Remove the oldest events beyond max_events or max_age, a bounded step:
 * from the log in txn, their index entries by the write's index job.
 */
static int
store_retain(struct store *s, MDB_txn *txn, int64_t now_ms,
    struct store_result *res)
{
	MDB_cursor *cur;
	MDB_val k, d;
	MDB_stat st;
	uint64_t count, removed = 0;
	int rc;

	if (s->opts.max_events == 0 && s->opts.max_age_ms == 0)
		return 0;
	if ((rc = mdb_stat(txn, s->events, &st)) != 0)
		return rc;
	count = st.ms_entries;
	if ((rc = mdb_cursor_open(txn, s->events, &cur)) != 0)
		return rc;
	while (removed < STORE_RETAIN_STEP) {
		const uint8_t *body, *v;
		size_t blen, vlen;
		bool old = false;

		if ((rc = mdb_cursor_get(cur, &k, &d, MDB_FIRST)) != 0)
			break;
		if (s->opts.max_age_ms &&
		    store_open_record(&d, &body, &blen) == 0 &&
		    store_body_field(body, blen, "received_at", &v, &vlen) == 0) {
			struct mp_reader r;
			struct mp_obj o;
			int64_t at = INT64_MAX;

			mp_reader_init(&r, v, vlen);
			if (mp_read(&r, &o) == 0)
				at = o.type == MP_UINT ? (int64_t)o.v.u : o.v.i;
			old = at < now_ms - (int64_t)s->opts.max_age_ms;
		}
		if (!(s->opts.max_events && count > s->opts.max_events) && !old)
			break;
		if ((rc = store_remove_event(s, cur, &k, &d)) != 0) {
			mdb_cursor_close(cur);
			return rc;
		}
		count--;
		removed++;
	}
	mdb_cursor_close(cur);
	res->removed = removed;
	res->more_retention = removed == STORE_RETAIN_STEP;
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/* Append the notification body of item to out. */
static void
store_encode_body(struct store_item *it, msgpack_sbuffer *out)
{
	msgpack_packer pk;

	msgpack_packer_init(&pk, out, msgpack_sbuffer_write);
	it->body_off = out->size;
	msgpack_pack_map(&pk, 4);
	msgpack_pack_str_with_body(&pk, "seq", 3);
	msgpack_pack_uint64(&pk, it->seq);
	msgpack_pack_str_with_body(&pk, "received_at", 11);
	msgpack_pack_int64(&pk, it->received_at);
	msgpack_pack_str_with_body(&pk, "topic", 5);
	msgpack_pack_str_with_body(&pk, it->topic, it->topic_len);
	msgpack_pack_str_with_body(&pk, "event", 5);
	msgpack_sbuffer_write(out, (const char *)it->event, it->event_len);
	it->body_len = out->size - it->body_off;
}

/*
 * One cursor per named database for a write transaction's events: a put
 * through an open cursor skips mdb_put()'s cursor set-up, and a get that
 * found the key leaves the cursor on it for an in-place overwrite.
 * events is in the log's transaction, the others in the index's.
 */
struct store_wcur {
	MDB_cursor	*events, *history, *timeidx, *msgids;
	uint64_t	 first_seq;	/* the log's first, for msgids hits */
};

/* The log's first seq, by a cursor on events in the writer's transaction
 * (the next seq when the log is empty). */
static uint64_t
store_log_first(const struct store *s, MDB_cursor *events)
{
	MDB_val k, d;

	if (mdb_cursor_get(events, &k, &d, MDB_FIRST) == 0 && k.mv_size == 8)
		return store_get_be64(k.mv_data);
	return s->last_seq + 1;
}

/* Open the write cursors: events in txn (NULL: none, and no first_seq:
 * the indexer's, which must not read the writer's last_seq), the indexes
 * in itxn. */
static int
store_wcur_open(struct store *s, MDB_txn *txn, MDB_txn *itxn,
    struct store_wcur *wc)
{
	int rc;

	memset(wc, 0, sizeof *wc);
	if (txn != NULL) {
		if ((rc = mdb_cursor_open(txn, s->events, &wc->events)) != 0)
			return rc;
		wc->first_seq = store_log_first(s, wc->events);
	}
	if ((rc = mdb_cursor_open(itxn, s->history, &wc->history)) != 0 ||
	    (rc = mdb_cursor_open(itxn, s->timeidx, &wc->timeidx)) != 0 ||
	    (rc = mdb_cursor_open(itxn, s->msgids, &wc->msgids)) != 0)
		return rc;
	return 0;
}

/* Close the write cursors (before the commit or abort). */
static void
store_wcur_close(struct store_wcur *wc)
{
	MDB_cursor **all[] = { &wc->events, &wc->history, &wc->timeidx,
	    &wc->msgids };

	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
		if (*all[i] != NULL) {
			mdb_cursor_close(*all[i]);
			*all[i] = NULL;
		}
}

/*
 * Store one event in the log: dedupe, append.  Its index entries go to
 * the indexer with the write's job, after the log's commit; until the
 * indexes have committed them its msg_id is in s->pending, so a
 * duplicate is caught all the same (msgids is read in the writer's own
 * read transaction of the index, wc->msgids).  A msgids entry for a seq
 * the log no longer has (left when retention's removals did not reach the
 * indexes) is no duplicate.
 */
static int
store_put_item(struct store *s, struct store_wcur *wc, struct store_item *it,
    msgpack_sbuffer *out)
{
	uint8_t seqbuf[8];
	MDB_val k, d;
	int rc;

	it->duplicate = false;
	if (it->msg_id != NULL) {
		const struct store_pend_id *pe;

		k.mv_size = it->msg_id_len;
		k.mv_data = (void *)it->msg_id;
		rc = mdb_cursor_get(wc->msgids, &k, &d, MDB_SET);
		if (rc == 0 && d.mv_size == 8 &&
		    store_get_be64(d.mv_data) >= wc->first_seq) {
			it->duplicate = true;
			it->seq = store_get_be64(d.mv_data);
			return 0;
		}
		if (rc != 0 && rc != MDB_NOTFOUND)
			return rc;
		pe = store_idset_find(&s->pending, it->msg_id, it->msg_id_len);
		if (pe != NULL) {
			it->duplicate = true;
			it->seq = pe->seq;
			return 0;
		}
	}

	it->seq = s->last_seq + 1;
	store_encode_body(it, out);
	store_put_be64(seqbuf, it->seq);

	/* The log: append-only, the record written in place. */
	k.mv_size = 8;
	k.mv_data = seqbuf;
	d.mv_size = STORE_REC_HDR + it->body_len;
	if ((rc = mdb_cursor_put(wc->events, &k, &d,
	    MDB_RESERVE | MDB_APPEND)) != 0)
		return rc;
	memcpy((uint8_t *)d.mv_data + STORE_REC_HDR,
	    out->data + it->body_off, it->body_len);
	store_seal(d.mv_data, it->body_len);

	if (it->msg_id != NULL)
		store_idset_add(&s->pending, it->msg_id, it->msg_id_len,
		    it->seq);
	store_ijob_add(s->wjob, false, it->seq, it->sort_time, it->type,
	    strlen(it->type), it->id, it->id_len, it->country, it->msg_id,
	    it->msg_id_len);
	s->last_seq = it->seq;
	return 0;
}

/*
 * Index one event: its entity's history (whose last value is the latest
 * state, and whose time index entry this event replaces), the time index
 * and the msg_id (NULL: none).
 *
 * The new version is put first, which leaves the cursor on it; the latest
 * before it is then its neighbour in the entity's sorted duplicates, found
 * without a second search of the tree.  Versions sort by seq, so the new
 * one is the last unless the log's seqs went backwards; if a later one is
 * already there, that one keeps the time index.
 */
static int
store_index_one(struct store_wcur *wc, const char *type, const char *id,
    size_t id_len, const char *country, int64_t t, const char *msg_id,
    size_t msg_len, uint64_t seq)
{
	uint8_t key[STORE_KEY_MAX + 20], hist[STORE_HIST_LEN], seqbuf[8];
	MDB_val k, d, pk, pd;
	int rc;

	if (msg_id != NULL) {
		store_put_be64(seqbuf, seq);
		k.mv_size = msg_len;
		k.mv_data = (void *)msg_id;
		d.mv_size = 8;
		d.mv_data = seqbuf;
		if ((rc = mdb_cursor_put(wc->msgids, &k, &d, 0)) != 0)
			return rc;
	}

	k.mv_size = store_entity_key(key, type, id, id_len);
	k.mv_data = key;
	store_hist_value(hist, seq, t, country);
	d.mv_size = sizeof hist;
	d.mv_data = hist;
	if ((rc = mdb_cursor_put(wc->history, &k, &d, 0)) != 0)
		return rc;
	if ((rc = mdb_cursor_get(wc->history, &pk, &pd, MDB_LAST_DUP)) != 0)
		return rc;
	if (pd.mv_size != STORE_HIST_LEN || store_get_be64(pd.mv_data) != seq)
		return 0;
	rc = mdb_cursor_get(wc->history, &pk, &pd, MDB_PREV_DUP);
	if (rc == 0 && pd.mv_size == STORE_HIST_LEN) {
		uint8_t tkey[STORE_KEY_MAX + 20];
		MDB_val tk, td;

		tk.mv_size = store_time_idx_key(tkey, type,
		    (int64_t)store_get_be64((uint8_t *)pd.mv_data + 8),
		    store_get_be64(pd.mv_data));
		tk.mv_data = tkey;
		if ((rc = mdb_cursor_get(wc->timeidx, &tk, &td, MDB_SET)) == 0)
			rc = mdb_cursor_del(wc->timeidx, 0);
	}
	if (rc != 0 && rc != MDB_NOTFOUND)
		return rc;

	k.mv_size = store_time_idx_key(key, type, t, seq);
	k.mv_data = key;
	d.mv_size = 2;
	d.mv_data = (void *)country;
	return mdb_cursor_put(wc->timeidx, &k, &d, 0);
}

/* The list time of a stored event map of type: its handler's time key
 * (starts_at, effective_at) when the event has it, else occurred_at. */
static int64_t
store_event_time(const char *type, const uint8_t *ev, size_t evlen)
{
	const char *keys[2] = { NULL, "occurred_at" };

	for (int i = 0; handlers[i] != NULL; i++)
		if (strcmp(handlers[i]->type, type) == 0)
			keys[0] = handlers[i]->time_key;
	for (int i = 0; i < 2; i++) {
		const uint8_t *v;
		size_t vlen;
		struct mp_reader r;
		struct mp_obj o;

		if (keys[i] == NULL ||
		    store_body_field(ev, evlen, keys[i], &v, &vlen) == -1)
			continue;
		mp_reader_init(&r, v, vlen);
		if (mp_read(&r, &o) != 0)
			continue;
		if (o.type == MP_UINT && o.v.u <= INT64_MAX)
			return (int64_t)o.v.u;
		if (o.type == MP_INT)
			return o.v.i;
	}
	return 0;
}

/* Called for each record of a walk of the log; non-zero stops it. */
typedef int (*store_rec_fn)(struct store *, uint64_t seq, const MDB_val *rec,
    void *arg);

/*
 * Call fn for each record of the log with from <= seq <= upto, in seq
 * order, in txn, or with txn NULL in a read transaction of its own (the
 * writer thread, start-up).  Returns 0 at the end, fn's first non-zero,
 * or an LMDB error.
 */
static int
store_log_walk(struct store *s, MDB_txn *txn, uint64_t from, uint64_t upto,
    store_rec_fn fn, void *arg)
{
	uint8_t kb[8];
	MDB_val k = { 8, kb }, d;
	MDB_txn *own = NULL;
	MDB_cursor *cur;
	int rc;

	if (txn == NULL &&
	    (rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &own)) != 0)
		return rc;
	if ((rc = mdb_cursor_open(own ? own : txn, s->events, &cur)) == 0) {
		store_put_be64(kb, from);
		for (rc = mdb_cursor_get(cur, &k, &d, MDB_SET_RANGE); rc == 0;
		    rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT)) {
			uint64_t seq;

			if (k.mv_size != 8 ||
			    (seq = store_get_be64(k.mv_data)) > upto)
				break;
			if ((rc = fn(s, seq, &d, arg)) != 0)
				break;
		}
		mdb_cursor_close(cur);
	}
	if (own != NULL)
		mdb_txn_abort(own);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/*
 * Index one stored event from its record: type from the topic; id,
 * country, msg_id and the list time from the event.  A record that does
 * not give them is counted corrupt and left out of the indexes (get and
 * list cannot find it; replay reports it).
 */
static int
store_index_record(struct store *s, uint64_t seq, const MDB_val *rec,
    void *arg)
{
	struct store_wcur *wc = arg;
	struct store_rec_keys rk;

	if (store_record_keys(rec, &rk) == -1 || rk.country == NULL) {
		__atomic_fetch_add(&s->corrupt, 1, __ATOMIC_RELAXED);
		log_error("store: event %" PRIu64 " is corrupt (checksum or "
		    "format) and is left out of the indexes", seq);
		return 0;
	}
	return store_index_one(wc, rk.type, rk.id, rk.id_len, rk.country,
	    store_event_time(rk.type, rk.ev, rk.evlen), rk.msg_id, rk.msg_len,
	    seq);
}

/*
 * Catch the indexes up from the log's records, up to STORE_INDEX_CHUNK
 * events past indexed_seq and no further than upto: after a commit of
 * the indexes failed, and at start-up after a crash or on a new index.
 * Reads the log in a read transaction of its own.
 */
static int
store_index_catch_up(struct store *s, struct store_wcur *wc, uint64_t upto)
{
	int rc;

	if (upto - s->indexed_seq > STORE_INDEX_CHUNK)
		upto = s->indexed_seq + STORE_INDEX_CHUNK;
	pthread_rwlock_rdlock(&s->resize_lock);
	rc = store_log_walk(s, NULL, s->indexed_seq + 1, upto,
	    store_index_record, wc);
	pthread_rwlock_unlock(&s->resize_lock);
	if (rc != 0)
		return rc;
	s->indexed_seq = upto;
	return 0;
}

/* Compare two strings as LMDB's default key order does: bytes, then the
 * shorter first.  For types this is also the order of the keys that start
 * "type\0" (a type never holds a NUL). */
static int
store_bytes_cmp(const char *a, size_t al, const char *b, size_t bl)
{
	int c = memcmp(a, b, al < bl ? al : bl);

	return c != 0 ? c : (al > bl) - (al < bl);
}

/* Adds in history's key order (type, id), then by seq. */
static int
store_iref_entity_cmp(const void *pa, const void *pb)
{
	const struct store_iref *a = pa, *b = pb;
	int c;

	if ((c = store_bytes_cmp(a->b, a->e->type_len, b->b,
	    b->e->type_len)) != 0 ||
	    (c = store_bytes_cmp(a->b + a->e->type_len, a->e->id_len,
	    b->b + b->e->type_len, b->e->id_len)) != 0)
		return c;
	return (a->e->seq > b->e->seq) - (a->e->seq < b->e->seq);
}

/* Whether two adds are of the same entity. */
static bool
store_iref_same_entity(const struct store_iref *a, const struct store_iref *b)
{
	return a->e->type_len == b->e->type_len &&
	    a->e->id_len == b->e->id_len &&
	    memcmp(a->b, b->b, (size_t)a->e->type_len + a->e->id_len) == 0;
}

/* Adds in msgids' key order, then by seq (the writer lets a msg_id in
 * again only once the indexes have the first, so a run should not hold
 * two; if it did, the later would win, as in seq order). */
static int
store_iref_msgid_cmp(const void *pa, const void *pb)
{
	const struct store_iref *a = pa, *b = pb;
	int c = store_bytes_cmp(a->b + a->e->type_len + a->e->id_len,
	    a->e->msg_len, b->b + b->e->type_len + b->e->id_len,
	    b->e->msg_len);

	return c != 0 ? c : (a->e->seq > b->e->seq) - (a->e->seq < b->e->seq);
}

/* Time index changes in the time index's key order (a signed time sorts as
 * its store_time_key() does). */
static int
store_itop_cmp(const void *pa, const void *pb)
{
	const struct store_itop *a = pa, *b = pb;
	int c;

	if ((c = store_bytes_cmp(a->type, a->type_len, b->type,
	    b->type_len)) != 0)
		return c;
	if (a->time != b->time)
		return a->time > b->time ? 1 : -1;
	return (a->seq > b->seq) - (a->seq < b->seq);
}

/*
 * Put one add's version in its entity's history and note the time index
 * changes it makes: its own entry when it is the latest, and the removal
 * of the entry of the latest before it.  When that one was added by the
 * previous ref (the same entity, this run), its entry is undone instead.
 */
static int
store_index_history(struct store_wcur *wc, const struct store_iref *r,
    struct store_itop *tops, size_t *ntops, size_t *last)
{
	const struct store_ient *e = r->e;
	uint8_t key[STORE_KEY_MAX + 20], hist[STORE_HIST_LEN];
	char type[32];
	MDB_val k, d, pk, pd;
	struct store_itop *t;
	int rc;

	memcpy(type, r->b, e->type_len);
	type[e->type_len] = '\0';
	k.mv_size = store_entity_key(key, type, r->b + e->type_len,
	    e->id_len);
	k.mv_data = key;
	store_hist_value(hist, e->seq, e->time, e->country);
	d.mv_size = sizeof hist;
	d.mv_data = hist;
	if ((rc = mdb_cursor_put(wc->history, &k, &d, 0)) != 0 ||
	    (rc = mdb_cursor_get(wc->history, &pk, &pd, MDB_LAST_DUP)) != 0)
		return rc;
	if (pd.mv_size != STORE_HIST_LEN ||
	    store_get_be64(pd.mv_data) != e->seq) {
		*last = SIZE_MAX;	/* a later version is there */
		return 0;
	}
	rc = mdb_cursor_get(wc->history, &pk, &pd, MDB_PREV_DUP);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return rc;
	if (rc == 0 && pd.mv_size == STORE_HIST_LEN) {
		uint64_t pseq = store_get_be64(pd.mv_data);

		if (*last != SIZE_MAX && tops[*last].seq == pseq)
			tops[*last].dead = true;
		else {
			t = &tops[(*ntops)++];
			t->type = r->b;
			t->type_len = e->type_len;
			t->time = (int64_t)store_get_be64(
			    (uint8_t *)pd.mv_data + 8);
			t->seq = pseq;
			t->country = NULL;
			t->del = true;
			t->dead = false;
		}
	}
	*last = *ntops;
	t = &tops[(*ntops)++];
	t->type = r->b;
	t->type_len = e->type_len;
	t->time = e->time;
	t->seq = e->seq;
	t->country = e->country;
	t->del = false;
	t->dead = false;
	return 0;
}

/*
 * Apply the jobs from first up to end (NULL: the last), the next in seq
 * order, in wc's transaction.  The same entries as applied one by one in
 * order, but sorted: each database's changes in its key order, so most
 * land on the leaf page the cursor is on and skip the search from the
 * root.  The adds go first, then retention's removals in their order; a
 * removal's result does not depend on adds of other events around it
 * (store_remove_history, and a msgids entry goes only if it is still the
 * removed seq's).
 */
static int
store_index_run(struct store *s, struct store_wcur *wc, MDB_txn *itxn,
    const struct store_ijob *first, const struct store_ijob *end)
{
	struct store_isort *is = &s->isort;
	size_t n = 0, nrefs = 0, ntops = 0, last = SIZE_MAX;
	const struct store_ijob *j;
	int rc = 0;

	for (j = first; j != end; j = j->next)
		n += j->n;
	if (n > is->cap) {
		free(is->refs);
		free(is->tops);
		is->cap = n;
		is->refs = xreallocarray(NULL, n, sizeof *is->refs);
		/* An add makes at most two changes. */
		is->tops = xreallocarray(NULL, n, 2 * sizeof *is->tops);
	}
	for (j = first; j != end; j = j->next)
		for (size_t i = 0; i < j->n; i++) {
			const struct store_ient *e = &j->ents[i];

			/* An add whose seq is before first was removed by
			   its own batch's retention (a batch larger than
			   max_events). */
			if (e->remove || e->seq < j->first)
				continue;
			is->refs[nrefs].e = e;
			is->refs[nrefs++].b = j->bytes + e->off;
		}

	qsort(is->refs, nrefs, sizeof *is->refs, store_iref_entity_cmp);
	for (size_t i = 0; i < nrefs && rc == 0; i++) {
		if (i > 0 && !store_iref_same_entity(&is->refs[i - 1],
		    &is->refs[i]))
			last = SIZE_MAX;
		rc = store_index_history(wc, &is->refs[i], is->tops, &ntops,
		    &last);
	}

	qsort(is->tops, ntops, sizeof *is->tops, store_itop_cmp);
	for (size_t i = 0; i < ntops && rc == 0; i++) {
		const struct store_itop *t = &is->tops[i];
		uint8_t key[STORE_KEY_MAX + 20];
		MDB_val k, d;

		if (t->dead)
			continue;
		k.mv_size = store_time_idx_keyn(key, t->type, t->type_len,
		    t->time, t->seq);
		k.mv_data = key;
		if (!t->del) {
			d.mv_size = 2;
			d.mv_data = (void *)t->country;
			rc = mdb_cursor_put(wc->timeidx, &k, &d, 0);
		} else if ((rc = mdb_cursor_get(wc->timeidx, &k, &d,
		    MDB_SET)) == 0)
			rc = mdb_cursor_del(wc->timeidx, 0);
		else if (rc == MDB_NOTFOUND)
			rc = 0;
	}

	/* msg_ids: only the adds that have one, in their key order. */
	ntops = 0;
	for (size_t i = 0; i < nrefs; i++)
		if (is->refs[i].e->msg_len > 0)
			is->refs[ntops++] = is->refs[i];
	qsort(is->refs, ntops, sizeof *is->refs, store_iref_msgid_cmp);
	for (size_t i = 0; i < ntops && rc == 0; i++) {
		const struct store_ient *e = is->refs[i].e;
		uint8_t seqbuf[8];
		MDB_val k, d;

		store_put_be64(seqbuf, e->seq);
		k.mv_size = e->msg_len;
		k.mv_data = (void *)(is->refs[i].b + e->type_len + e->id_len);
		d.mv_size = 8;
		d.mv_data = seqbuf;
		rc = mdb_cursor_put(wc->msgids, &k, &d, 0);
	}

	for (j = first; j != end && rc == 0; j = j->next)
		for (size_t i = 0; i < j->n && rc == 0; i++) {
			const struct store_ient *e = &j->ents[i];
			const char *b = j->bytes + e->off;
			char type[32];

			if (!e->remove)
				continue;
			memcpy(type, b, e->type_len);
			type[e->type_len] = '\0';
			rc = store_unindex_one(s, itxn, type, b + e->type_len,
			    e->id_len, e->msg_len ? b + e->type_len +
			    e->id_len : NULL, e->msg_len, e->seq);
		}
	/* A first job over the chunk (batch_max above it) is not kept. */
	if (is->cap > STORE_INDEX_CHUNK) {
		free(is->refs);
		free(is->tops);
		is->refs = NULL;
		is->tops = NULL;
		is->cap = 0;
	}
	return rc;
}

/*
 * The msg_ids of the events the indexes do not have yet, into s->pending,
 * so that they dedupe while the indexes are behind.
 */
static int
store_pending_add(struct store *s, uint64_t seq, const MDB_val *rec,
    void *arg)
{
	const uint8_t *body, *ev;
	const char *msg_id;
	size_t blen, evlen, len;

	if (store_open_record(rec, &body, &blen) == 0 &&
	    store_body_field(body, blen, "event", &ev, &evlen) == 0 &&
	    store_body_str(ev, evlen, "msg_id", &msg_id, &len) == 0 &&
	    len > 0 && len <= SCHEMA_MSGID_MAX &&
	    store_idset_find(&s->pending, msg_id, len) == NULL)
		store_idset_add(&s->pending, msg_id, len, seq);
	return 0;
}

static void
store_pending_load(struct store *s)
{
	store_log_walk(s, NULL, s->indexed_seq + 1, UINT64_MAX,
	    store_pending_add, NULL);
}

/* An index write failed: say so (rate-limited); the indexes are behind. */
static void
store_index_failed(struct store *s, int rc, uint64_t upto)
{
	if (log_rate_pass(&s->index_rlog, store_now_ms()))
		log_error("store %s: cannot write the indexes (%s): %" PRIu64
		    " events are stored but not indexed; get searches the "
		    "log for them, list answers unavailable until they are",
		    s->dir, mdb_strerror(rc), upto - s->indexed_seq);
}

/* This boot of the kernel: a reboot or a power loss changes it. */
static void
store_boot_id(char *buf, size_t len)
{
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "r");

	buf[0] = '\0';
	if (f == NULL)
		return;
	if (fgets(buf, (int)len, f) == NULL)
		buf[0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
}

/* Write dir/index/state as "<what> <boot>", durably (temp file, fsync,
 * rename, fsync of the directory).  0 or -1 with errno. */
static int
store_index_state(const struct store *s, const char *what)
{
	char dir[PATH_MAX - 16], tmp[PATH_MAX], path[PATH_MAX], boot[64];
	FILE *f;
	int fd, ok;

	store_boot_id(boot, sizeof boot);
	snprintf(dir, sizeof dir, "%s/index", s->dir);
	snprintf(tmp, sizeof tmp, "%s/state.tmp", dir);
	snprintf(path, sizeof path, "%s/state", dir);
	if ((f = fopen(tmp, "w")) == NULL)
		return -1;
	ok = fprintf(f, "%s %s\n", what, boot) > 0 && fflush(f) == 0 &&
	    fsync(fileno(f)) == 0;
	if (fclose(f) != 0 || !ok || rename(tmp, path) == -1)
		return -1;
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY)) == -1)
		return -1;
	ok = fsync(fd) == 0;
	close(fd);
	return ok ? 0 : -1;
}

/*
 * Bring the indexes up to the log at start-up, in steps.  A failure (a
 * full disk) is logged and leaves them behind: the daemon starts all the
 * same, get searches the log for what they lack, and a later write
 * catches them up.
 */
static void
store_index_build(struct store *s)
{
	uint64_t lag = s->last_seq - s->indexed_seq;
	int64_t t0 = store_now_ms();

	if (lag > 0)
		log_info("store %s: indexing %" PRIu64 " events the index "
		    "does not have", s->dir, lag);
	while (s->indexed_seq < s->last_seq) {
		MDB_txn *itxn;
		struct store_wcur wc;
		uint64_t before = s->indexed_seq;
		int rc;

		memset(&wc, 0, sizeof wc);
		if ((rc = mdb_txn_begin(s->ienv, NULL, 0, &itxn)) != 0) {
			store_index_failed(s, rc, s->last_seq);
			store_pending_load(s);
			return;
		}
		if ((rc = store_wcur_open(s, NULL, itxn, &wc)) != 0 ||
		    (rc = store_index_catch_up(s, &wc, s->last_seq)) != 0 ||
		    (rc = store_meta_put(itxn, s->imeta, "indexed_seq",
		    s->indexed_seq)) != 0) {
			store_wcur_close(&wc);
			mdb_txn_abort(itxn);
		} else {
			store_wcur_close(&wc);
			rc = mdb_txn_commit(itxn);
		}
		if (rc != 0) {
			s->indexed_seq = before;
			store_index_failed(s, rc, s->last_seq);
			store_pending_load(s);
			return;
		}
	}
	if (lag > 0)
		log_info("store %s: %" PRIu64 " events indexed in %" PRId64
		    " ms", s->dir, lag, store_now_ms() - t0);
}

/*
 * Open the index environment, dir/index: history, timeidx, msgids and
 * meta (indexed_seq), derived from the log.  It is written without fsync:
 * after a crash of the process the page cache still has every commit, but
 * after a power loss its pages may be torn, so it is deleted and built
 * again from the log.  dir/index/state tells which: "open <boot id>"
 * while a wartad has it, "clean <boot id>" after a clean close.
 */
static int
store_index_open(struct store *s, bool rebuild, char **cause)
{
	char dir[PATH_MAX - 16], path[PATH_MAX], state[128], boot[64];
	const char *why = NULL;
	MDB_txn *txn;
	FILE *f;
	int rc;

	snprintf(dir, sizeof dir, "%s/index", s->dir);
	if (mkdir(dir, 0750) == -1 && errno != EEXIST) {
		xasprintf(cause, "store %s: cannot create: %s", dir,
		    strerror(errno));
		return -1;
	}
	store_boot_id(boot, sizeof boot);
	snprintf(path, sizeof path, "%s/state", dir);
	state[0] = '\0';
	if ((f = fopen(path, "r")) != NULL) {
		if (fgets(state, sizeof state, f) == NULL)
			state[0] = '\0';
		state[strcspn(state, "\n")] = '\0';
		fclose(f);
	}
	if (rebuild)
		why = "the store was upgraded";
	else if (strncmp(state, "clean ", 6) != 0 &&
	    (strncmp(state, "open ", 5) != 0 || strcmp(state + 5, boot) != 0))
		why = state[0] == '\0' ? "it has no state file" :
		    "the system went down with it open";
	for (int attempt = 0; attempt < 2; attempt++) {
		if (why != NULL) {
			if (access(path, F_OK) == 0 || attempt > 0)
				log_info("store %s: building the index again: "
				    "%s", dir, why);
			snprintf(path, sizeof path, "%s/data.mdb", dir);
			unlink(path);
			snprintf(path, sizeof path, "%s/lock.mdb", dir);
			unlink(path);
		}
		if (store_index_state(s, "open") == -1) {
			xasprintf(cause, "store %s: cannot write its state "
			    "file: %s", dir, strerror(errno));
			return -1;
		}
		if ((rc = mdb_env_create(&s->ienv)) != 0 ||
		    (rc = mdb_env_set_maxdbs(s->ienv, 8)) != 0 ||
		    (rc = mdb_env_set_mapsize(s->ienv, STORE_INDEX_MAP_X *
		    (s->opts.max_map_size > s->map_size ?
		    s->opts.max_map_size : s->map_size))) != 0) {
			*cause = store_cause(s, "cannot set up its index", rc);
			return -1;
		}
		rc = mdb_env_open(s->ienv, dir, MDB_NOSYNC | MDB_NORDAHEAD,
		    0640);
		if (rc == 0)
			break;
		mdb_env_close(s->ienv);
		s->ienv = NULL;
		if (attempt > 0 || (rc != MDB_INVALID && rc != MDB_CORRUPTED &&
		    rc != MDB_VERSION_MISMATCH)) {
			*cause = store_cause(s, "cannot open its index", rc);
			return -1;
		}
		why = "it is damaged";
	}
	if ((rc = mdb_txn_begin(s->ienv, NULL, 0, &txn)) != 0) {
		*cause = store_cause(s, "cannot begin an index transaction",
		    rc);
		return -1;
	}
	if ((rc = mdb_dbi_open(txn, "meta", MDB_CREATE, &s->imeta)) ||
	    (rc = mdb_dbi_open(txn, "history",
	    MDB_CREATE | MDB_DUPSORT | MDB_DUPFIXED, &s->history)) ||
	    (rc = mdb_dbi_open(txn, "timeidx", MDB_CREATE, &s->timeidx)) ||
	    (rc = mdb_dbi_open(txn, "msgids", MDB_CREATE, &s->msgids))) {
		mdb_txn_abort(txn);
		*cause = store_cause(s, "cannot open its index databases", rc);
		return -1;
	}
	store_meta_get(txn, s->imeta, "indexed_seq", &s->indexed_seq);
	if (s->indexed_seq > s->last_seq) {
		/* The log is older than its index (restored from a copy). */
		log_info("store %s: building the index again: it goes to seq "
		    "%" PRIu64 ", the log to %" PRIu64, dir, s->indexed_seq,
		    s->last_seq);
		if ((rc = mdb_drop(txn, s->history, 0)) ||
		    (rc = mdb_drop(txn, s->timeidx, 0)) ||
		    (rc = mdb_drop(txn, s->msgids, 0))) {
			mdb_txn_abort(txn);
			*cause = store_cause(s, "cannot clear its index", rc);
			return -1;
		}
		s->indexed_seq = 0;
	}
	if ((rc = store_meta_put(txn, s->imeta, "indexed_seq",
	    s->indexed_seq)) != 0 || (rc = mdb_txn_commit(txn)) != 0) {
		if (rc != 0 && txn != NULL)
			mdb_txn_abort(txn);
		*cause = store_cause(s, "cannot commit its index", rc);
		return -1;
	}
	store_index_build(s);
	return 0;
}

/* Keep one reject, trimming the oldest beyond max_rejects. */
static int
store_put_reject(struct store *s, MDB_txn *txn, const struct store_reject *rj,
    msgpack_sbuffer *tmp)
{
	msgpack_packer pk;
	uint8_t nbuf[8];
	MDB_val k, d;
	uint64_t n;
	const char *reason = schema_reason_name(rj->reason);
	int rc;

	if (s->opts.max_rejects == 0)
		return 0;
	n = s->last_reject + 1;
	tmp->size = 0;
	msgpack_packer_init(&pk, tmp, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 7);
	msgpack_pack_str_with_body(&pk, "n", 1);
	msgpack_pack_uint64(&pk, n);
	msgpack_pack_str_with_body(&pk, "received_at", 11);
	msgpack_pack_int64(&pk, rj->received_at);
	msgpack_pack_str_with_body(&pk, "topic", 5);
	msgpack_pack_str_with_body(&pk, rj->topic, rj->topic_len);
	msgpack_pack_str_with_body(&pk, "reason", 6);
	msgpack_pack_str_with_body(&pk, reason, strlen(reason));
	msgpack_pack_str_with_body(&pk, "detail", 6);
	msgpack_pack_str_with_body(&pk, rj->detail, strlen(rj->detail));
	msgpack_pack_str_with_body(&pk, "size", 4);
	msgpack_pack_uint64(&pk, rj->size);
	msgpack_pack_str_with_body(&pk, "body", 4);
	msgpack_pack_bin_with_body(&pk, rj->body, rj->body_len);

	store_put_be64(nbuf, n);
	k.mv_size = 8;
	k.mv_data = nbuf;
	d.mv_size = STORE_REC_HDR + tmp->size;
	if ((rc = mdb_put(txn, s->rejects, &k, &d,
	    MDB_RESERVE | MDB_APPEND)) != 0)
		return rc;
	memcpy((uint8_t *)d.mv_data + STORE_REC_HDR, tmp->data, tmp->size);
	store_seal(d.mv_data, tmp->size);
	s->last_reject = n;

	if (n > s->opts.max_rejects) {
		store_put_be64(nbuf, n - s->opts.max_rejects);
		rc = mdb_del(txn, s->rejects, &k, NULL);
		if (rc != 0 && rc != MDB_NOTFOUND)
			return rc;
	}
	return 0;
}

/* Grow the map after MDB_MAP_FULL, if the config allows; true if grown. */
static bool
store_grow(struct store *s)
{
	uint64_t max = s->opts.max_map_size, next;
	int rc;

	if (max <= s->map_size)
		return false;
	next = s->map_size * 2;
	if (next > max)
		next = max;
	pthread_rwlock_wrlock(&s->resize_lock);
	rc = mdb_env_set_mapsize(s->env, next);
	pthread_rwlock_unlock(&s->resize_lock);
	if (rc != 0) {
		log_error("store: cannot grow the map to %" PRIu64 " MiB: %s",
		    next >> 20, mdb_strerror(rc));
		return false;
	}
	log_info("store: map full at %" PRIu64 " MiB, grown to %" PRIu64
	    " MiB (max_map_size_mb = %" PRIu64 ")", s->map_size >> 20,
	    next >> 20, max >> 20);
	s->map_size = next;
	return true;
}

/* Save webhook cursors. */
static int
store_put_cursors(struct store *s, MDB_txn *txn,
    const struct store_cursor *cursors, size_t ncursors)
{
	uint8_t buf[8];
	MDB_val k, d = { 8, buf };
	int rc;

	for (size_t i = 0; i < ncursors; i++) {
		k.mv_size = strlen(cursors[i].name);
		k.mv_data = (void *)cursors[i].name;
		store_put_be64(buf, cursors[i].seq);
		if ((rc = mdb_put(txn, s->cursors, &k, &d, 0)) != 0)
			return rc;
	}
	return 0;
}

/*
 * The indexer's step: take the queued jobs (up to STORE_INDEX_CHUNK
 * entries, at least one job) and apply them in one transaction of the
 * index environment, which is not synced (derived data, rebuilt from the
 * log after a power loss), so this costs no disk wait.  A job that does
 * not follow the indexes (an earlier commit failed) is replaced by a
 * catch-up step from the log's records.  A failure leaves the indexes
 * behind: get then searches the log's tail and list says it cannot
 * answer, until a later step catches up.  Returns 1 when the indexes
 * moved, 0 when there was nothing to do or the commit failed, -1 once
 * stopped with the queue empty.
 */
int
store_index_work(struct store *s, bool wait)
{
	struct store_ijob *jobs, *j, **jp, *run = NULL;
	struct store_wcur wc;
	uint64_t indexed_seq = s->indexed_seq, target, done = 0;
	size_t n = 0;
	MDB_txn *itxn = NULL;
	bool caught = false;
	int64_t t0;
	int rc;

	pthread_mutex_lock(&s->iq.mtx);
	if (wait)
		s->iq.threaded = true;
	for (;;) {
		bool behind = s->indexed_seq < s->iq.after;

		if (s->iq.head != NULL || (behind && (!s->ifailed || !wait)))
			break;
		if (s->iq.stop || !wait) {
			pthread_mutex_unlock(&s->iq.mtx);
			return s->iq.stop && wait ? -1 : 0;
		}
		if (behind) {
			/* Retry a failed catch-up once a second. */
			struct timespec ts;

			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec++;
			if (pthread_cond_timedwait(&s->iq.work, &s->iq.mtx,
			    &ts) != 0)
				s->ifailed = false;
		} else
			pthread_cond_wait(&s->iq.work, &s->iq.mtx);
	}
	/* Detach a run of jobs. */
	jobs = s->iq.head;
	for (jp = &s->iq.head; *jp != NULL && (jp == &s->iq.head ||
	    n + (*jp)->n <= STORE_INDEX_CHUNK); jp = &(*jp)->next) {
		n += (*jp)->n;
		done = (*jp)->after;
	}
	s->iq.head = *jp;
	*jp = NULL;
	if (s->iq.head == NULL)
		s->iq.tailp = &s->iq.head;
	target = s->iq.after;
	pthread_mutex_unlock(&s->iq.mtx);

	t0 = store_now_ms();
	memset(&wc, 0, sizeof wc);
	if ((rc = mdb_txn_begin(s->ienv, NULL, 0, &itxn)) != 0)
		goto out;
	if ((rc = store_wcur_open(s, NULL, itxn, &wc)) != 0)
		goto out;
	/* At most one catch-up step (STORE_INDEX_CHUNK events) a
	   transaction; the jobs it covers are dropped, the rest wait. */
	for (j = jobs; j != NULL && rc == 0; j = j->next) {
		if (s->indexed_seq == j->before) {
			if (run == NULL)
				run = j;
			s->indexed_seq = j->after;
			continue;
		}
		if (run != NULL) {
			rc = store_index_run(s, &wc, itxn, run, j);
			run = NULL;
		}
		if (rc == 0 && s->indexed_seq < j->after && !caught) {
			rc = store_index_catch_up(s, &wc, j->after);
			caught = true;
		}
	}
	if (run != NULL && rc == 0)
		rc = store_index_run(s, &wc, itxn, run, NULL);
	if (jobs == NULL)
		rc = store_index_catch_up(s, &wc, target);
	if (rc == 0 && s->indexed_seq != indexed_seq)
		rc = store_meta_put(itxn, s->imeta, "indexed_seq",
		    s->indexed_seq);
	store_wcur_close(&wc);
	if (rc == 0 && fault_error("index_commit"))
		rc = ENOSPC;		/* tests only: see fault.c */
	if (rc == 0)
		rc = mdb_txn_commit(itxn);
	else
		mdb_txn_abort(itxn);
	itxn = NULL;
out:
	store_wcur_close(&wc);
	if (itxn != NULL)
		mdb_txn_abort(itxn);
	if (rc != 0) {
		s->indexed_seq = indexed_seq;
		store_index_failed(s, rc, target);
	} else {
		__atomic_store_n(&s->committed, s->indexed_seq,
		    __ATOMIC_RELEASE);
		log_debug("indexes: %zu entries in %" PRId64 " ms, to seq %"
		    PRIu64, n, store_now_ms() - t0, s->indexed_seq);
	}
	pthread_mutex_lock(&s->iq.mtx);
	s->ifailed = rc != 0;
	s->iq.nents -= n;
	while ((j = jobs) != NULL) {
		jobs = j->next;
		store_ijob_release(s, j);
	}
	pthread_cond_signal(&s->iq.room);
	pthread_mutex_unlock(&s->iq.mtx);
	if (done > __atomic_load_n(&s->done, __ATOMIC_RELAXED))
		__atomic_store_n(&s->done, done, __ATOMIC_RELEASE);
	return rc == 0 && s->indexed_seq != indexed_seq;
}

/* Tell the indexer to stop once the queue is empty. */
void
store_index_stop(struct store *s)
{
	pthread_mutex_lock(&s->iq.mtx);
	s->iq.stop = true;
	pthread_cond_broadcast(&s->iq.work);
	pthread_cond_broadcast(&s->iq.room);
	pthread_mutex_unlock(&s->iq.mtx);
}

/* Index everything queued, in the calling thread (no indexer running):
 * tests, and store_close(). */
uint64_t
store_index_sync(struct store *s)
{
	while (store_index_work(s, false) == 1)
		;
	return s->indexed_seq;
}

/* Writer: queue the job of a committed write for the indexer; wait while
 * the queue is at its cap, so that a slow indexer slows the writer rather
 * than growing without bound. */
static void
store_ijob_queue(struct store *s, struct store_ijob *j)
{
	pthread_mutex_lock(&s->iq.mtx);
	while (s->iq.threaded && !s->iq.stop && s->iq.nents > STORE_IQ_MAX)
		pthread_cond_wait(&s->iq.room, &s->iq.mtx);
	*s->iq.tailp = j;
	s->iq.tailp = &j->next;
	s->iq.nents += j->n;
	s->iq.after = j->after;
	pthread_cond_signal(&s->iq.work);
	pthread_mutex_unlock(&s->iq.mtx);
}

/* One attempt at the whole batch: the log's transaction, durable. */
static int
store_write_txn(struct store *s, struct store_item *items, size_t nitems,
    const struct store_reject *rejects, size_t nrejects,
    const struct store_cursor *cursors, size_t ncursors, int64_t now_ms,
    msgpack_sbuffer *out, struct store_result *res, const char **what)
{
	MDB_txn *txn;
	struct store_wcur wc;
	msgpack_sbuffer tmp;
	uint64_t last_seq = s->last_seq, last_reject = s->last_reject, first;
	size_t out_size = out->size;
	int rc;

	memset(&wc, 0, sizeof wc);
	s->wjob->n = s->wjob->blen = 0;
	s->wjob->before = last_seq;
	*what = "cannot begin a write transaction";
	if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn)) != 0)
		return rc;
	msgpack_sbuffer_init(&tmp);
	*what = "cannot open LMDB cursors";
	if ((rc = store_wcur_open(s, txn, s->wrtxn, &wc)) != 0)
		goto abort;
	*what = "cannot store an event";
	for (size_t i = 0; i < nitems; i++)
		if ((rc = store_put_item(s, &wc, &items[i], out)) != 0)
			goto abort;
	mdb_cursor_close(wc.events);
	wc.events = NULL;
	/* Dedupe is done: let go of the index snapshot before the fsync,
	   so that the indexer can reuse the pages it frees meanwhile. */
	store_wcur_close(&wc);
	mdb_txn_reset(s->wrtxn);
	*what = "cannot remove old events";
	if ((rc = store_retain(s, txn, now_ms, res)) != 0)
		goto abort;
	{
		MDB_cursor *cur;

		if ((rc = mdb_cursor_open(txn, s->events, &cur)) != 0)
			goto abort;
		first = store_log_first(s, cur);
		mdb_cursor_close(cur);
	}
	*what = "cannot store a reject";
	for (size_t i = 0; i < nrejects; i++)
		if ((rc = store_put_reject(s, txn, &rejects[i], &tmp)) != 0)
			goto abort;
	*what = "cannot save webhook cursors";
	if ((rc = store_put_cursors(s, txn, cursors, ncursors)) != 0)
		goto abort;
	/* The log's last key is the last seq while the log holds it, and
	   readers take the larger of the two; meta must hold it only when
	   retention may have emptied the log, so an ordinary commit skips
	   a B-tree write. */
	*what = "cannot write metadata";
	if ((res->removed > 0 &&
	    (rc = store_meta_put(txn, s->meta, "last_seq", s->last_seq))) ||
	    (s->last_reject != last_reject &&
	    (rc = store_meta_put(txn, s->meta, "last_reject",
	    s->last_reject))))
		goto abort;
	msgpack_sbuffer_destroy(&tmp);
	*what = "cannot commit";
	store_wcur_close(&wc);
	if ((rc = mdb_txn_commit(txn)) != 0)
		goto undo;
	/* The indexes are the indexer's, from the job's copy: the batch is
	   the loop's again once the caller has signalled it. */
	if (s->wjob->n > 0) {
		s->wjob->after = s->last_seq;
		s->wjob->first = first;
		store_ijob_queue(s, s->wjob);
		s->wjob = store_ijob_get(s);
	}
	return 0;

abort:
	store_wcur_close(&wc);
	msgpack_sbuffer_destroy(&tmp);
	mdb_txn_abort(txn);
undo:
	store_idset_undo(&s->pending, last_seq);
	s->last_seq = last_seq;
	s->last_reject = last_reject;
	out->size = out_size;
	return rc;
}

/*
 * Whether a failed write ran out of disk: ENOSPC, or EIO with the file
 * system (nearly) full, since LMDB reports a short write as EIO.  The
 * margin is one LMDB write burst (MDB_COMMIT_PAGES pages) and more.
 */
static bool
store_disk_full(const struct store *s, int rc)
{
	struct statvfs sv;

	if (rc == ENOSPC)
		return true;
	if (rc != EIO || statvfs(s->dir, &sv) == -1)
		return false;
	return (uint64_t)sv.f_bavail * sv.f_frsize < (1u << 20);
}

/* Store a batch in one durable transaction. */
int
store_write(struct store *s, struct store_item *items, size_t nitems,
    const struct store_reject *rejects, size_t nrejects,
    const struct store_cursor *cursors, size_t ncursors, int64_t now_ms,
    msgpack_sbuffer *out, struct store_result *res, char **cause)
{
	const char *what;
	int rc;

	memset(res, 0, sizeof *res);
	/* What the indexes have committed no longer needs s->pending; the
	   read of msgids begins after, so it sees at least that much. */
	store_idset_prune(&s->pending,
	    __atomic_load_n(&s->committed, __ATOMIC_ACQUIRE));
	/* Begun in the writer thread: a read slot is a thread's. */
	if ((rc = s->wrtxn == NULL ?
	    mdb_txn_begin(s->ienv, NULL, MDB_RDONLY, &s->wrtxn) :
	    mdb_txn_renew(s->wrtxn)) != 0) {
		*cause = store_cause(s, "cannot read its index", rc);
		return -1;
	}
	for (;;) {
		rc = store_write_txn(s, items, nitems, rejects, nrejects,
		    cursors, ncursors, now_ms, out, res, &what);
		if (rc != MDB_MAP_FULL || !store_grow(s))
			break;
		mdb_txn_reset(s->wrtxn);
		if ((rc = mdb_txn_renew(s->wrtxn)) != 0)
			break;
	}
	mdb_txn_reset(s->wrtxn);
	res->last_seq = s->last_seq;
	__atomic_store_n(&s->full, rc == MDB_MAP_FULL || store_disk_full(s, rc),
	    __ATOMIC_RELAXED);
	if (rc == 0)
		return 0;
	if (rc == MDB_MAP_FULL)
		xasprintf(cause, "store %s is full (map_size_mb = %" PRIu64
		    "): raise map_size_mb or max_map_size_mb and restart, or "
		    "set a retention limit", s->dir, s->map_size >> 20);
	else if (s->full)
		xasprintf(cause, "store %s: no space left on its disk (%s): "
		    "free space there, or set a retention limit; writes resume "
		    "once there is room", s->dir, mdb_strerror(rc));
	else
		*cause = store_cause(s, what, rc);
	return -1;
}

/* Begin the loop thread's read transaction. */
int
store_rd_begin(struct store *s, char **cause)
{
	int rc;

	/* What the read must see: every event the indexer has handled
	   (the loop lets a read run only once that covers every event
	   acknowledged before it); later ones, still on their way to the
	   indexes, arrived after it.  Read before the index's snapshot
	   begins, so the snapshot has at least what was committed. */
	s->rd_need = __atomic_load_n(&s->done, __ATOMIC_ACQUIRE);
	/* The index first: a read sees no index entry newer than its
	   view of the log. */
	if ((rc = mdb_txn_renew(s->irtxn)) != 0) {
		*cause = store_cause(s, "cannot begin an index read", rc);
		return -1;
	}
	pthread_rwlock_rdlock(&s->resize_lock);
	if ((rc = mdb_txn_renew(s->rtxn)) != 0) {
		pthread_rwlock_unlock(&s->resize_lock);
		mdb_txn_reset(s->irtxn);
		*cause = store_cause(s, "cannot begin a read transaction", rc);
		return -1;
	}
	s->rtxn_live = true;
	return 0;
}

/* End the read transaction; nothing read stays valid. */
void
store_rd_end(struct store *s)
{
	if (!s->rtxn_live)
		return;
	mdb_txn_reset(s->rtxn);
	mdb_txn_reset(s->irtxn);
	s->rtxn_live = false;
	pthread_rwlock_unlock(&s->resize_lock);
}

/* Open a record read from dbi, logging a checksum mismatch. */
static int
store_rd_record(struct store *s, const char *what, uint64_t key,
    const MDB_val *d, const uint8_t **payload, size_t *len)
{
	if (store_open_record(d, payload, len) == 0)
		return STORE_OK;
	__atomic_fetch_add(&s->corrupt, 1, __ATOMIC_RELAXED);
	log_error("store: %s %" PRIu64 " in %s/data.mdb fails its checksum: "
	    "the record is damaged and is not served", what, key, s->dir);
	return STORE_CORRUPT;
}

/* The body of event seq. */
int
store_rd_event(struct store *s, uint64_t seq, const uint8_t **body,
    size_t *len)
{
	uint8_t kb[8];
	MDB_val k = { 8, kb }, d;
	int rc;

	store_put_be64(kb, seq);
	rc = mdb_get(s->rtxn, s->events, &k, &d);
	if (rc == MDB_NOTFOUND)
		return STORE_NOTFOUND;
	if (rc != 0)
		return STORE_ERR;
	return store_rd_record(s, "event", seq, &d, body, len);
}

/* first_seq, last_seq, count. */
void
store_rd_range(struct store *s, uint64_t *first, uint64_t *last,
    uint64_t *count)
{
	MDB_cursor *cur;
	MDB_val k, d;
	MDB_stat st;
	uint64_t meta_last = 0;

	store_meta_get(s->rtxn, s->meta, "last_seq", &meta_last);
	*last = meta_last;
	*first = meta_last + 1;
	*count = 0;
	if (mdb_stat(s->rtxn, s->events, &st) == 0)
		*count = st.ms_entries;
	if (mdb_cursor_open(s->rtxn, s->events, &cur) != 0)
		return;
	if (mdb_cursor_get(cur, &k, &d, MDB_FIRST) == 0 && k.mv_size == 8)
		*first = store_get_be64(k.mv_data);
	if (mdb_cursor_get(cur, &k, &d, MDB_LAST) == 0 && k.mv_size == 8 &&
	    store_get_be64(k.mv_data) > *last)
		*last = store_get_be64(k.mv_data);
	mdb_cursor_close(cur);
}

/* The log's first seq in the read transaction's view (last + 1 when the
 * log is empty). */
static uint64_t
store_rd_first(struct store *s)
{
	uint64_t first, last, count;

	store_rd_range(s, &first, &last, &count);
	return first;
}

/* Events past the indexes in the read transaction's view (0: none). */
uint64_t
store_rd_lag(struct store *s)
{
	MDB_cursor *cur;
	MDB_val k, d;
	uint64_t indexed, last = 0;

	/* No indexed_seq yet: nothing indexed (store_meta_get gives 0). */
	if (store_meta_get(s->irtxn, s->imeta, "indexed_seq", &indexed) ==
	    MDB_CORRUPTED || mdb_cursor_open(s->rtxn, s->events, &cur) != 0)
		return 0;
	if (mdb_cursor_get(cur, &k, &d, MDB_LAST) == 0 && k.mv_size == 8)
		last = store_get_be64(k.mv_data);
	mdb_cursor_close(cur);
	if (last > s->rd_need)
		last = s->rd_need;
	return last > indexed ? last - indexed : 0;
}

/* What store_rd_tail() looks for, and what it found. */
struct store_tail {
	const char	*type, *id;
	size_t		 id_len;
	uint64_t	*seqs;		/* a ring of cap */
	size_t		 cap, n;
};

/* A record of the entity store_rd_tail() looks for goes into its ring. */
static int
store_tail_match(struct store *s, uint64_t seq, const MDB_val *rec,
    void *arg)
{
	struct store_tail *t = arg;
	struct store_rec_keys rk;

	if (store_record_keys(rec, &rk) == -1 ||
	    strcmp(rk.type, t->type) != 0 || rk.id_len != t->id_len ||
	    memcmp(rk.id, t->id, t->id_len) != 0)
		return 0;
	if (t->cap > 0)
		t->seqs[t->n % t->cap] = seq;
	t->n++;
	return 0;
}

/*
 * The seqs of (type, id) among the events the indexes do not have yet,
 * ascending: the newest cap of them into seqs; returns how many there
 * are in all.  A scan of the log's tail, for when the indexes could not
 * be brought up to date (a full disk): slow, but get stays right.
 */
static size_t
store_rd_tail(struct store *s, const char *type, const char *id,
    size_t id_len, uint64_t *seqs, size_t cap)
{
	struct store_tail t = { type, id, id_len, seqs, cap, 0 };
	uint64_t indexed;

	if (store_meta_get(s->irtxn, s->imeta, "indexed_seq", &indexed) ==
	    MDB_CORRUPTED)
		return 0;
	if (indexed < s->rd_need)
		store_log_walk(s, s->rtxn, indexed + 1, s->rd_need,
		    store_tail_match, &t);
	/* The ring's oldest first. */
	if (t.n > cap && cap > 0) {
		size_t first = t.n % cap;
		uint64_t *tmp = xreallocarray(NULL, cap, sizeof *tmp);

		for (size_t i = 0; i < cap; i++)
			tmp[i] = seqs[(first + i) % cap];
		memcpy(seqs, tmp, cap * sizeof *tmp);
		free(tmp);
	}
	return t.n;
}

/* The latest seq of an entity: the last of its history. */
int
store_rd_latest(struct store *s, const char *type, const char *id,
    size_t id_len, uint64_t *seq)
{
	uint8_t key[STORE_KEY_MAX + 20];
	MDB_cursor *cur;
	MDB_val k, d, lk;
	int rc;

	if (id_len > SCHEMA_ID_MAX)
		return STORE_NOTFOUND;
	k.mv_size = store_entity_key(key, type, id, id_len);
	k.mv_data = key;
	if (mdb_cursor_open(s->irtxn, s->history, &cur) != 0)
		return STORE_ERR;
	rc = mdb_cursor_get(cur, &k, &d, MDB_SET);
	if (rc == 0)
		rc = mdb_cursor_get(cur, &lk, &d, MDB_LAST_DUP);
	mdb_cursor_close(cur);
	/* Newer in the log than in the indexes (store_rd_tail: one cursor
	   step when they are up to date). */
	if (store_rd_tail(s, type, id, id_len, seq, 1) > 0)
		return STORE_OK;
	if (rc == MDB_NOTFOUND)
		return STORE_NOTFOUND;
	if (rc != 0)
		return STORE_ERR;
	if (d.mv_size != STORE_HIST_LEN)
		return STORE_CORRUPT;
	*seq = store_get_be64(d.mv_data);
	/* Retention removes the oldest first: when the latest has gone
	   from the log (a crash between its two commits left the entry),
	   so has all of the entity. */
	return *seq < store_rd_first(s) ? STORE_NOTFOUND : STORE_OK;
}

/* An entity's seqs, oldest first. */
int
store_rd_history(struct store *s, const char *type, const char *id,
    size_t id_len, size_t max, store_seq_cb cb, void *arg, bool *truncated)
{
	uint8_t key[STORE_KEY_MAX + 20];
	MDB_cursor *cur;
	MDB_val k, d;
	uint64_t *tail = NULL, first = store_rd_first(s);
	size_t n = 0, ntail = 0, shown;
	int rc, status = STORE_OK;

	*truncated = false;
	if (id_len > SCHEMA_ID_MAX)
		return STORE_NOTFOUND;
	if (store_rd_lag(s) > 0 && max > 0) {
		tail = xreallocarray(NULL, max, sizeof *tail);
		ntail = store_rd_tail(s, type, id, id_len, tail, max);
	}
	shown = ntail < max ? ntail : max;
	k.mv_size = store_entity_key(key, type, id, id_len);
	k.mv_data = key;
	if (mdb_cursor_open(s->irtxn, s->history, &cur) != 0) {
		free(tail);
		return STORE_ERR;
	}
	rc = mdb_cursor_get(cur, &k, &d, MDB_SET_KEY);
	if (rc == 0) {
		size_t count;

		mdb_cursor_count(cur, &count);
		n = (size_t)count;
	} else if (rc != MDB_NOTFOUND)
		status = STORE_ERR;
	else if (ntail == 0)
		status = STORE_NOTFOUND;
	if (n + ntail > max)
		*truncated = true;
	if (rc == 0 && n + shown > max) {
		/* Keep the newest max: skip ahead. */
		for (size_t skip = n + shown - max; skip > 0; skip--)
			if ((rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT_DUP)) != 0)
				break;
		if (n + shown - max >= n)
			rc = MDB_NOTFOUND;	/* the tail fills it */
	}
	for (; rc == 0 && status == STORE_OK;
	    rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT_DUP)) {
		if (d.mv_size != STORE_HIST_LEN) {
			status = STORE_CORRUPT;
			break;
		}
		if (store_get_be64(d.mv_data) < first)
			continue;	/* left by a crash; see rd_latest */
		if (cb(arg, store_get_be64(d.mv_data)) != 0)
			goto out;
	}
	for (size_t i = 0; status == STORE_OK && i < shown; i++)
		if (cb(arg, tail[i]) != 0)
			break;
out:
	mdb_cursor_close(cur);
	free(tail);
	return status;
}

/* The latest events of a type's entities within a time window. */
int
store_rd_list(struct store *s, const char *type, const char *country,
    int64_t from, int64_t to, store_body_cb cb, void *arg)
{
	uint8_t key[64];
	size_t tl = strlen(type);
	MDB_cursor *cur;
	MDB_val k, d;
	int rc, ret = STORE_OK;

	k.mv_size = store_time_idx_key(key, type, from, 0);
	k.mv_data = key;
	if (mdb_cursor_open(s->irtxn, s->timeidx, &cur) != 0)
		return STORE_ERR;
	for (rc = mdb_cursor_get(cur, &k, &d, MDB_SET_RANGE); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT)) {
		const uint8_t *kp = k.mv_data, *body;
		size_t blen;
		uint64_t seq;

		if (k.mv_size != tl + 17 || memcmp(kp, type, tl) != 0 ||
		    kp[tl] != '\0')
			break;
		if ((int64_t)(store_get_be64(kp + tl + 1) ^
		    (UINT64_C(1) << 63)) > to)
			break;
		if (country && (d.mv_size != 2 || memcmp(d.mv_data, country,
		    2) != 0))
			continue;
		seq = store_get_be64(kp + tl + 9);
		if ((ret = store_rd_event(s, seq, &body, &blen)) != STORE_OK) {
			if (ret == STORE_NOTFOUND) {
				ret = STORE_OK;
				continue;
			}
			break;
		}
		if (cb(arg, seq, body, blen) != 0)
			break;
	}
	mdb_cursor_close(cur);
	return ret;
}

/* Verified records of a log keyed by u64 (events, rejects) from key on. */
static int
store_rd_log(struct store *s, MDB_dbi dbi, const char *what, uint64_t from,
    store_body_cb cb, void *arg)
{
	uint8_t kb[8];
	MDB_cursor *cur;
	MDB_val k = { 8, kb }, d;
	int rc, ret = STORE_OK;

	store_put_be64(kb, from);
	if (mdb_cursor_open(s->rtxn, dbi, &cur) != 0)
		return STORE_ERR;
	for (rc = mdb_cursor_get(cur, &k, &d, MDB_SET_RANGE); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT)) {
		const uint8_t *payload;
		size_t len;
		uint64_t key;

		if (k.mv_size != 8) {
			ret = STORE_CORRUPT;
			break;
		}
		key = store_get_be64(k.mv_data);
		if ((ret = store_rd_record(s, what, key, &d, &payload,
		    &len)) != STORE_OK)
			break;
		if (cb(arg, key, payload, len) != 0)
			break;
	}
	mdb_cursor_close(cur);
	return ret;
}

/* Events from seq on. */
int
store_rd_scan(struct store *s, uint64_t from, store_body_cb cb, void *arg)
{
	return store_rd_log(s, s->events, "event", from, cb, arg);
}

/* Rejects from n on. */
int
store_rd_rejects(struct store *s, uint64_t from, store_body_cb cb, void *arg)
{
	return store_rd_log(s, s->rejects, "reject", from, cb, arg);
}

/* A webhook's saved cursor. */
int
store_rd_cursor(struct store *s, const char *name, uint64_t *seq)
{
	MDB_val k = { strlen(name), (void *)name }, d;
	int rc;

	rc = mdb_get(s->rtxn, s->cursors, &k, &d);
	if (rc == MDB_NOTFOUND)
		return STORE_NOTFOUND;
	if (rc != 0)
		return STORE_ERR;
	if (d.mv_size != 8)
		return STORE_CORRUPT;
	*seq = store_get_be64(d.mv_data);
	return STORE_OK;
}

/* Bytes of the data file in use, and of the map. */
void
store_sizes(struct store *s, uint64_t *db_bytes, uint64_t *map_bytes)
{
	MDB_envinfo info;
	MDB_stat st;

	mdb_env_info(s->env, &info);
	mdb_env_stat(s->env, &st);
	*db_bytes = (uint64_t)(info.me_last_pgno + 1) * st.ms_psize;
	*map_bytes = info.me_mapsize;
	mdb_env_info(s->ienv, &info);
	mdb_env_stat(s->ienv, &st);
	*db_bytes += (uint64_t)(info.me_last_pgno + 1) * st.ms_psize;
}
