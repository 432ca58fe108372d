/*
 * test_store.c — the LMDB store: append, reopen, dedupe, checksums,
 * version refusal, retention, rejects, a full map, list and history.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lmdb.h>
#include <zlib.h>

#include "daemon/store.h"
#include "schema/mp.h"

struct fx {
	char		 dir[64];
	struct store	*s;
	struct store_opts opts;
	msgpack_sbuffer	 out;
	msgpack_sbuffer	 ev[64];	/* event maps of the items */
	struct store_item items[64];
	char		 ids[64][32];	/* the items' id and msg_id */
	char		 msgids[64][32];
	size_t		 n;
};

/* A fresh store in a temp dir. */
static int
setup(void **state)
{
	struct fx *fx = calloc(1, sizeof *fx);
	char *cause = NULL;

	strcpy(fx->dir, "/tmp/test_store.XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	fx->opts.dir = fx->dir;
	fx->opts.map_size = 16u << 20;
	fx->opts.sync = false;
	fx->opts.max_rejects = 10000;
	msgpack_sbuffer_init(&fx->out);
	if (store_open(&fx->s, &fx->opts, &cause) != 0)
		fail_msg("store_open: %s", cause);
	*state = fx;
	return 0;
}

/* Remove the store. */
static int
teardown(void **state)
{
	struct fx *fx = *state;
	char cmd[128];

	store_close(&fx->s);
	msgpack_sbuffer_destroy(&fx->out);
	for (size_t i = 0; i < 64; i++)
		msgpack_sbuffer_destroy(&fx->ev[i]);
	snprintf(cmd, sizeof cmd, "rm -rf %s", fx->dir);
	assert_int_equal(system(cmd), 0);
	free(fx);
	return 0;
}

/* Reopen the store with fx->opts. */
static void
reopen(struct fx *fx)
{
	char *cause = NULL;

	store_close(&fx->s);
	if (store_open(&fx->s, &fx->opts, &cause) != 0)
		fail_msg("store_open: %s", cause);
}

/* Add a meeting item with this id, msg_id (or NULL), time and filler. */
static struct store_item *
add(struct fx *fx, const char *id, const char *msg_id, int64_t t,
    const char *cc, size_t filler)
{
	struct store_item *it = &fx->items[fx->n];
	msgpack_sbuffer *sb = &fx->ev[fx->n];
	msgpack_packer pk;
	char *fill;

	msgpack_sbuffer_destroy(sb);
	msgpack_sbuffer_init(sb);
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, msg_id ? 5 : 4);
	msgpack_pack_str_with_body(&pk, "id", 2);
	msgpack_pack_str_with_body(&pk, id, strlen(id));
	/* The list time, as the meeting handler's time key: an index built
	   again from the log reads it here. */
	msgpack_pack_str_with_body(&pk, "starts_at", 9);
	msgpack_pack_int64(&pk, t);
	msgpack_pack_str_with_body(&pk, "country", 7);
	msgpack_pack_str_with_body(&pk, cc, 2);
	msgpack_pack_str_with_body(&pk, "notes", 5);
	fill = calloc(1, filler + 1);
	memset(fill, 'x', filler);
	msgpack_pack_str_with_body(&pk, fill, filler);
	free(fill);
	if (msg_id) {
		msgpack_pack_str_with_body(&pk, "msg_id", 6);
		msgpack_pack_str_with_body(&pk, msg_id, strlen(msg_id));
	}
	memset(it, 0, sizeof *it);
	snprintf(fx->ids[fx->n], sizeof fx->ids[0], "%s", id);
	id = fx->ids[fx->n];
	if (msg_id) {
		snprintf(fx->msgids[fx->n], sizeof fx->msgids[0], "%s", msg_id);
		msg_id = fx->msgids[fx->n];
	}
	it->type = "meeting";
	it->id = id;
	it->id_len = strlen(id);
	it->msg_id = msg_id;
	it->msg_id_len = msg_id ? strlen(msg_id) : 0;
	memcpy(it->country, cc, 2);
	it->sort_time = t;
	it->received_at = 1000;
	it->topic = "meeting.CH.scheduled";
	it->topic_len = strlen(it->topic);
	it->event = (const uint8_t *)sb->data;
	it->event_len = sb->size;
	fx->n++;
	return it;
}

/* Write the added items in one transaction. */
static int
commit(struct fx *fx, char **cause)
{
	struct store_result res;
	int rc;

	fx->out.size = 0;
	rc = store_write(fx->s, fx->items, fx->n, NULL, 0, NULL, 0, 2000,
	    &fx->out, &res, cause);
	store_index_sync(fx->s);
	fx->n = 0;
	return rc;
}

/* Commit that must succeed. */
static void
commit_ok(struct fx *fx)
{
	char *cause = NULL;

	if (commit(fx, &cause) != 0)
		fail_msg("store_write: %s", cause);
}

/* Write the added items, leaving the index job queued (no indexer). */
static void
commit_queued(struct fx *fx)
{
	struct store_result res;
	char *cause = NULL;

	fx->out.size = 0;
	if (store_write(fx->s, fx->items, fx->n, NULL, 0, NULL, 0, 2000,
	    &fx->out, &res, &cause) != 0)
		fail_msg("store_write: %s", cause);
	fx->n = 0;
}

/* The seq field of a stored body. */
static uint64_t
body_seq(const uint8_t *body, size_t len)
{
	const uint8_t *v;
	size_t vlen;
	struct mp_reader r;
	struct mp_obj o;

	assert_int_equal(store_body_field(body, len, "seq", &v, &vlen), 0);
	mp_reader_init(&r, v, vlen);
	assert_int_equal(mp_read(&r, &o), 0);
	return o.v.u;
}

/* Seqs start at 1, bodies read back, range and count are right. */
static void
test_append_and_read(void **state)
{
	struct fx *fx = *state;
	const uint8_t *body;
	size_t len;
	uint64_t first, last, count;
	char *cause = NULL;

	add(fx, "m1", NULL, 10, "CH", 10);
	add(fx, "m2", NULL, 20, "CH", 10);
	add(fx, "m3", NULL, 30, "CH", 10);
	commit_ok(fx);
	assert_int_equal(store_last_seq(fx->s), 3);
	assert_int_equal(store_rd_begin(fx->s, &cause), 0);
	for (uint64_t seq = 1; seq <= 3; seq++) {
		assert_int_equal(store_rd_event(fx->s, seq, &body, &len),
		    STORE_OK);
		assert_int_equal(body_seq(body, len), seq);
	}
	assert_int_equal(store_rd_event(fx->s, 4, &body, &len),
	    STORE_NOTFOUND);
	store_rd_range(fx->s, &first, &last, &count);
	assert_int_equal(first, 1);
	assert_int_equal(last, 3);
	assert_int_equal(count, 3);
	store_rd_end(fx->s);
}

/* An empty store: first_seq 1, last_seq 0 (section 10). */
static void
test_empty_range(void **state)
{
	struct fx *fx = *state;
	uint64_t first, last, count;
	char *cause = NULL;

	assert_int_equal(store_rd_begin(fx->s, &cause), 0);
	store_rd_range(fx->s, &first, &last, &count);
	store_rd_end(fx->s);
	assert_int_equal(first, 1);
	assert_int_equal(last, 0);
	assert_int_equal(count, 0);
}

/* After a reopen, numbering goes on from the last stored seq. */
static void
test_reopen_continues_seq(void **state)
{
	struct fx *fx = *state;

	add(fx, "m1", NULL, 10, "CH", 10);
	add(fx, "m2", NULL, 10, "CH", 10);
	commit_ok(fx);
	reopen(fx);
	assert_int_equal(store_last_seq(fx->s), 2);
	add(fx, "m3", NULL, 10, "CH", 10);
	commit_ok(fx);
	assert_int_equal(fx->items[0].seq, 3);
}

/* A msg_id already stored dedupes, in a later batch and within one. */
static void
test_dedupe(void **state)
{
	struct fx *fx = *state;
	struct store_item *a, *b;

	add(fx, "m1", "k1", 10, "CH", 10);
	commit_ok(fx);
	assert_int_equal(fx->items[0].seq, 1);
	assert_false(fx->items[0].duplicate);

	a = add(fx, "m9", "k1", 10, "CH", 10);
	b = add(fx, "m2", "k2", 10, "CH", 10);
	add(fx, "m3", "k2", 10, "CH", 10);
	commit_ok(fx);
	assert_true(a->duplicate);
	assert_int_equal(a->seq, 1);
	assert_false(b->duplicate);
	assert_int_equal(b->seq, 2);
	assert_true(fx->items[2].duplicate);
	assert_int_equal(fx->items[2].seq, 2);
	assert_int_equal(store_last_seq(fx->s), 2);

	/* ... and across a reopen. */
	reopen(fx);
	add(fx, "m4", "k2", 10, "CH", 10);
	commit_ok(fx);
	assert_true(fx->items[0].duplicate);
	assert_int_equal(fx->items[0].seq, 2);
}

/* Flip one byte of a stored record on disk: the read reports it. */
static void
test_checksum_mismatch(void **state)
{
	struct fx *fx = *state;
	char path[128];
	const uint8_t *body;
	size_t len;
	struct stat st;
	unsigned char *map;
	const char *marker = "MARKERMARKERMARKER";
	int fd, found = 0;
	char *cause = NULL;

	add(fx, "m1", NULL, 10, "CH", 10);
	add(fx, "MARKERMARKERMARKER", NULL, 10, "CH", 10);
	commit_ok(fx);
	store_close(&fx->s);

	snprintf(path, sizeof path, "%s/data.mdb", fx->dir);
	fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	map = mmap(NULL, st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true(map != MAP_FAILED);
	/* The id appears in the event record and in index keys; damage the
	   copy that sits inside the record (followed by the country key). */
	for (off_t i = 0; i + 40 < st.st_size; i++)
		if (memcmp(map + i, marker, strlen(marker)) == 0 &&
		    memmem(map + i, 40, "country", 7) != NULL) {
			map[i] ^= 0x20;
			found++;
		}
	assert_true(found >= 1);
	munmap(map, st.st_size);
	close(fd);

	reopen(fx);
	assert_int_equal(store_rd_begin(fx->s, &cause), 0);
	assert_int_equal(store_rd_event(fx->s, 1, &body, &len), STORE_OK);
	assert_int_equal(store_rd_event(fx->s, 2, &body, &len),
	    STORE_CORRUPT);
	store_rd_end(fx->s);
	assert_int_equal(store_corrupt_count(fx->s), 1);
}

/* Open the store's LMDB file directly, in a write transaction on the
 * named database, bypassing store.c: for damage and old formats. */
static void
raw_open(struct fx *fx, const char *name, MDB_env **env, MDB_txn **txn,
    MDB_dbi *dbi)
{
	assert_int_equal(mdb_env_create(env), 0);
	mdb_env_set_maxdbs(*env, 8);
	mdb_env_set_mapsize(*env, 16u << 20);
	assert_int_equal(mdb_env_open(*env, fx->dir, 0, 0640), 0);
	assert_int_equal(mdb_txn_begin(*env, NULL, 0, txn), 0);
	assert_int_equal(mdb_dbi_open(*txn, name, 0, dbi), 0);
}

/* Open the index environment raw, with dbi of name. */
static void
raw_open_index(struct fx *fx, const char *name, unsigned int flags,
    MDB_env **env, MDB_txn **txn, MDB_dbi *dbi)
{
	char dir[96];

	snprintf(dir, sizeof dir, "%s/index", fx->dir);
	assert_int_equal(mdb_env_create(env), 0);
	mdb_env_set_maxdbs(*env, 8);
	mdb_env_set_mapsize(*env, 16u << 20);
	assert_int_equal(mdb_env_open(*env, dir, 0, 0640), 0);
	assert_int_equal(mdb_txn_begin(*env, NULL, 0, txn), 0);
	assert_int_equal(mdb_dbi_open(*txn, name, flags, dbi), 0);
}

/* The entries of the index databases timeidx, msgids and history, read
 * raw with the store closed (it is opened again after). */
static void
index_entries(struct fx *fx, size_t *timeidx, size_t *msgids,
    size_t *history)
{
	const char *names[] = { "timeidx", "msgids", "history" };
	size_t *counts[] = { timeidx, msgids, history };
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_stat st;

	store_close(&fx->s);
	raw_open_index(fx, names[0], 0, &env, &txn, &dbi);
	for (int i = 0; i < 3; i++) {
		if (i > 0)
			assert_int_equal(mdb_dbi_open(txn, names[i], 0, &dbi),
			    0);
		assert_int_equal(mdb_stat(txn, dbi, &st), 0);
		*counts[i] = st.ms_entries;
	}
	mdb_txn_abort(txn);
	mdb_env_close(env);
	reopen(fx);
}

/* Put meta key = v (u64 BE) in the closed store's log (index false) or
 * its index environment. */
static void
raw_meta_put(struct fx *fx, bool index, const char *key, uint64_t v)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	uint8_t b[8];
	MDB_val k = { strlen(key), (void *)key }, d = { 8, b };

	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (56 - 8 * i));
	if (index)
		raw_open_index(fx, "meta", 0, &env, &txn, &dbi);
	else
		raw_open(fx, "meta", &env, &txn, &dbi);
	assert_int_equal(mdb_put(txn, dbi, &k, &d, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

/* Rewrite event seq's record as format 1 (zlib crc32), crc + bad. */
static void
rewrite_format1(struct fx *fx, uint64_t seq, uint32_t bad)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	uint8_t kb[8], rec[4096];
	MDB_val k = { 8, kb }, d;
	uint32_t crc;

	for (int i = 0; i < 8; i++)
		kb[i] = (uint8_t)(seq >> (56 - 8 * i));
	raw_open(fx, "events", &env, &txn, &dbi);
	assert_int_equal(mdb_get(txn, dbi, &k, &d), 0);
	assert_true(d.mv_size <= sizeof rec);
	memcpy(rec, d.mv_data, d.mv_size);
	assert_int_equal(rec[4], 2);	/* written as CRC-32C */
	rec[4] = 1;
	crc = (uint32_t)crc32(0L, rec + 4, (uInt)(d.mv_size - 4)) + bad;
	for (int i = 0; i < 4; i++)
		rec[i] = (uint8_t)(crc >> (8 * i));
	d.mv_data = rec;
	assert_int_equal(mdb_put(txn, dbi, &k, &d, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

/* Records of format 1 (zlib crc32, before CRC-32C) still verify, and a
 * format 1 record with a wrong checksum is still caught. */
static void
test_format1_records_read(void **state)
{
	struct fx *fx = *state;
	const uint8_t *body;
	size_t len;
	char *cause = NULL;

	add(fx, "m1", NULL, 10, "CH", 10);
	add(fx, "m2", NULL, 10, "CH", 10);
	commit_ok(fx);
	store_close(&fx->s);
	rewrite_format1(fx, 1, 0);
	rewrite_format1(fx, 2, 1);
	reopen(fx);
	assert_int_equal(store_rd_begin(fx->s, &cause), 0);
	assert_int_equal(store_rd_event(fx->s, 1, &body, &len), STORE_OK);
	assert_int_equal(body_seq(body, len), 1);
	assert_int_equal(store_rd_event(fx->s, 2, &body, &len),
	    STORE_CORRUPT);
	store_rd_end(fx->s);
}

/* A store of another format version is refused, saying so. */
static void
test_version_refused(void **state)
{
	struct fx *fx = *state;
	char *cause = NULL;

	store_close(&fx->s);
	/* Version 1 is the layout before history held the latest state. */
	raw_meta_put(fx, false, "version", 1);

	assert_int_equal(store_open(&fx->s, &fx->opts, &cause), -1);
	assert_non_null(cause);
	assert_non_null(strstr(cause, "format version 1"));
	assert_null(fx->s);
	free(cause);
	/* teardown needs a store to close */
	fx->s = NULL;
}

/* A file that is not LMDB is refused with a message naming it. */
static void
test_garbage_file_refused(void **state)
{
	struct fx *fx = *state;
	char path[128], junk[8192];
	char *cause = NULL;
	int fd;

	store_close(&fx->s);
	snprintf(path, sizeof path, "%s/data.mdb", fx->dir);
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	memset(junk, 0x5a, sizeof junk);
	assert_int_equal(write(fd, junk, sizeof junk), (ssize_t)sizeof junk);
	close(fd);
	assert_int_equal(store_open(&fx->s, &fx->opts, &cause), -1);
	assert_non_null(strstr(cause, "data.mdb"));
	free(cause);
}

/* max_events removes the oldest, with their indexes and msg_ids. */
static void
test_retention_max_events(void **state)
{
	struct fx *fx = *state;
	uint64_t first, last, count, seq;
	char *cause = NULL, id[16], key[16];

	fx->opts.max_events = 5;
	reopen(fx);
	for (int i = 0; i < 10; i++) {
		snprintf(id, sizeof id, "m%d", i);
		snprintf(key, sizeof key, "k%d", i);
		add(fx, id, key, i, "CH", 10);
	}
	commit_ok(fx);
	assert_int_equal(store_rd_begin(fx->s, &cause), 0);
	store_rd_range(fx->s, &first, &last, &count);
	assert_int_equal(first, 6);
	assert_int_equal(last, 10);
	assert_int_equal(count, 5);
	assert_int_equal(store_rd_latest(fx->s, "meeting", "m0", 2, &seq),
	    STORE_NOTFOUND);
	assert_int_equal(store_rd_latest(fx->s, "meeting", "m9", 2, &seq),
	    STORE_OK);
	assert_int_equal(seq, 10);
	store_rd_end(fx->s);

	/* A removed event's msg_id no longer dedupes. */
	add(fx, "m0", "k0", 0, "CH", 10);
	commit_ok(fx);
	assert_false(fx->items[0].duplicate);
	assert_int_equal(fx->items[0].seq, 11);
}

/* Count rejects callbacks. */
static int
count_cb(void *arg, uint64_t key, const uint8_t *b, size_t len)
{
	uint64_t *keys = arg;

	keys[++keys[0]] = key;
	return 0;
}

/* Rejects are numbered from 1 and trimmed beyond max_rejects. */
static void
test_rejects_trim(void **state)
{
	struct fx *fx = *state;
	struct store_reject rj[5];
	struct store_result res;
	uint64_t keys[16] = { 0 };
	char *cause = NULL;

	fx->opts.max_rejects = 3;
	reopen(fx);
	for (int i = 0; i < 5; i++) {
		rj[i] = (struct store_reject){ .received_at = 1,
		    .reason = REASON_SCHEMA, .topic = "meeting", .topic_len = 7,
		    .detail = "id: missing", .size = 8, .body = (const uint8_t *)"\x80",
		    .body_len = 1 };
	}
	assert_int_equal(store_write(fx->s, NULL, 0, rj, 5, NULL, 0, 1,
	    &fx->out, &res, &cause), 0);
	assert_int_equal(store_rd_begin(fx->s, &cause), 0);
	assert_int_equal(store_rd_rejects(fx->s, 1, count_cb, keys), STORE_OK);
	store_rd_end(fx->s);
	assert_int_equal(keys[0], 3);
	assert_int_equal(keys[1], 3);
	assert_int_equal(keys[3], 5);

	/* Numbering survives a reopen. */
	reopen(fx);
	assert_int_equal(store_write(fx->s, NULL, 0, rj, 1, NULL, 0, 1,
	    &fx->out, &res, &cause), 0);
	memset(keys, 0, sizeof keys);
	assert_int_equal(store_rd_begin(fx->s, &cause), 0);
	store_rd_rejects(fx->s, 6, count_cb, keys);
	store_rd_end(fx->s);
	assert_int_equal(keys[0], 1);
	assert_int_equal(keys[1], 6);
}

/* A full map fails the write, says so, and reads keep working. */
static void
test_map_full(void **state)
{
	struct fx *fx = *state;
	const uint8_t *body;
	size_t len;
	char *cause = NULL, id[32];
	int rc = 0, i;

	fx->opts.map_size = 1u << 20;
	reopen(fx);
	add(fx, "first", NULL, 1, "CH", 100);
	commit_ok(fx);
	for (i = 0; i < 200 && rc == 0; i++) {
		for (int j = 0; j < 8; j++) {
			snprintf(id, sizeof id, "e%d-%d", i, j);
			add(fx, id, NULL, 1, "CH", 4000);
		}
		rc = commit(fx, &cause);
	}
	assert_int_equal(rc, -1);
	assert_non_null(strstr(cause, "full"));
	assert_true(store_full(fx->s));
	free(cause);
	assert_int_equal(store_rd_begin(fx->s, &cause), 0);
	assert_int_equal(store_rd_event(fx->s, 1, &body, &len), STORE_OK);
	store_rd_end(fx->s);
}

/* With max_map_size the map grows and the write succeeds. */
static void
test_map_grows(void **state)
{
	struct fx *fx = *state;
	char id[32];

	fx->opts.map_size = 1u << 20;
	fx->opts.max_map_size = 64u << 20;
	reopen(fx);
	for (int i = 0; i < 50; i++) {
		for (int j = 0; j < 8; j++) {
			snprintf(id, sizeof id, "g%d-%d", i, j);
			add(fx, id, NULL, 1, "CH", 4000);
		}
		commit_ok(fx);
	}
	assert_false(store_full(fx->s));
	assert_int_equal(store_last_seq(fx->s), 400);
}

struct list_acc {
	uint64_t seqs[16];
	size_t n;
};

/* Collect list seqs. */
static int
list_cb(void *arg, uint64_t seq, const uint8_t *b, size_t len)
{
	struct list_acc *a = arg;

	a->seqs[a->n++] = seq;
	return 0;
}

/* All of type meeting's list, in a read transaction of its own. */
static void
list_all(struct fx *fx, struct list_acc *a)
{
	char *cause = NULL;

	memset(a, 0, sizeof *a);
	assert_int_equal(store_rd_begin(fx->s, &cause), 0);
	store_rd_list(fx->s, "meeting", NULL, INT64_MIN, INT64_MAX, list_cb,
	    a);
	store_rd_end(fx->s);
}

/* list: latest per entity, by time then seq, window and country. */
static void
test_list(void **state)
{
	struct fx *fx = *state;
	struct list_acc a = { 0 };
	char *cause = NULL;

	add(fx, "a", NULL, 300, "CH", 1);	/* 1, replaced by 4 */
	add(fx, "b", NULL, 100, "KR", 1);	/* 2 */
	add(fx, "c", NULL, 200, "CH", 1);	/* 3 */
	add(fx, "a", NULL, 50, "CH", 1);	/* 4 */
	add(fx, "d", NULL, 200, "CH", 1);	/* 5 */
	commit_ok(fx);
	assert_int_equal(store_rd_begin(fx->s, &cause), 0);
	store_rd_list(fx->s, "meeting", NULL, INT64_MIN, INT64_MAX, list_cb, &a);
	assert_int_equal(a.n, 4);
	assert_int_equal(a.seqs[0], 4);
	assert_int_equal(a.seqs[1], 2);
	assert_int_equal(a.seqs[2], 3);
	assert_int_equal(a.seqs[3], 5);

	memset(&a, 0, sizeof a);
	store_rd_list(fx->s, "meeting", "CH", 100, 200, list_cb, &a);
	assert_int_equal(a.n, 2);
	assert_int_equal(a.seqs[0], 3);
	assert_int_equal(a.seqs[1], 5);

	memset(&a, 0, sizeof a);
	store_rd_list(fx->s, "training", NULL, INT64_MIN, INT64_MAX, list_cb,
	    &a);
	assert_int_equal(a.n, 0);
	store_rd_end(fx->s);
}

/* Collect history seqs. */
static int
hist_cb(void *arg, uint64_t seq)
{
	struct list_acc *a = arg;

	a->seqs[a->n++] = seq;
	return 0;
}

/* history: every seq of an entity, oldest first, newest max kept. */
static void
test_history(void **state)
{
	struct fx *fx = *state;
	struct list_acc a = { 0 };
	bool trunc;
	char *cause = NULL;

	add(fx, "h", NULL, 1, "CH", 1);
	add(fx, "x", NULL, 1, "CH", 1);
	add(fx, "h", NULL, 1, "CH", 1);
	add(fx, "h", NULL, 1, "CH", 1);
	commit_ok(fx);
	assert_int_equal(store_rd_begin(fx->s, &cause), 0);
	store_rd_history(fx->s, "meeting", "h", 1, 100, hist_cb, &a, &trunc);
	assert_false(trunc);
	assert_int_equal(a.n, 3);
	assert_int_equal(a.seqs[0], 1);
	assert_int_equal(a.seqs[2], 4);
	memset(&a, 0, sizeof a);
	store_rd_history(fx->s, "meeting", "h", 1, 2, hist_cb, &a, &trunc);
	assert_true(trunc);
	assert_int_equal(a.n, 2);
	assert_int_equal(a.seqs[0], 3);
	assert_int_equal(a.seqs[1], 4);
	store_rd_end(fx->s);
}

/* Webhook cursors are saved in the batch's transaction, survive a reopen,
 * and a name never saved is not found. */
static void
test_cursors(void **state)
{
	struct fx *fx = *state;
	struct store_cursor cur[2] = { { "hook-a", 7 }, { "hook-b", 3 } };
	struct store_result res;
	char *cause = NULL;
	uint64_t seq = 0;

	add(fx, "c1", NULL, 1, "CH", 1);
	assert_int_equal(store_write(fx->s, fx->items, fx->n, NULL, 0, cur, 2,
	    1, &fx->out, &res, &cause), 0);
	fx->n = 0;
	cur[0].seq = 9;
	assert_int_equal(store_write(fx->s, NULL, 0, NULL, 0, cur, 1, 1,
	    &fx->out, &res, &cause), 0);
	reopen(fx);
	assert_int_equal(store_rd_begin(fx->s, &cause), 0);
	assert_int_equal(store_rd_cursor(fx->s, "hook-a", &seq), STORE_OK);
	assert_int_equal(seq, 9);
	assert_int_equal(store_rd_cursor(fx->s, "hook-b", &seq), STORE_OK);
	assert_int_equal(seq, 3);
	assert_int_equal(store_rd_cursor(fx->s, "hook-c", &seq),
	    STORE_NOTFOUND);
	store_rd_end(fx->s);
}

/* Retention of an entity's older events keeps its latest state, history
 * and list entry; removing its last event removes it from list too. */
static void
test_retention_keeps_latest(void **state)
{
	struct fx *fx = *state;
	struct list_acc a = { 0 };
	uint64_t seq;
	bool truncated;
	char *cause = NULL;

	fx->opts.max_events = 3;
	reopen(fx);
	add(fx, "a", NULL, 10, "CH", 1);	/* 1, removed */
	add(fx, "b", NULL, 20, "CH", 1);	/* 2, removed: all of b */
	add(fx, "a", NULL, 30, "CH", 1);	/* 3 */
	add(fx, "c", NULL, 40, "CH", 1);	/* 4 */
	add(fx, "a", NULL, 5, "KR", 1);		/* 5, a's latest */
	commit_ok(fx);
	assert_int_equal(store_rd_begin(fx->s, &cause), 0);
	assert_int_equal(store_rd_latest(fx->s, "meeting", "a", 1, &seq),
	    STORE_OK);
	assert_int_equal(seq, 5);
	assert_int_equal(store_rd_latest(fx->s, "meeting", "b", 1, &seq),
	    STORE_NOTFOUND);
	assert_int_equal(store_rd_history(fx->s, "meeting", "a", 1, 100,
	    hist_cb, &a, &truncated), STORE_OK);
	assert_int_equal(a.n, 2);
	assert_int_equal(a.seqs[0], 3);
	assert_int_equal(a.seqs[1], 5);
	memset(&a, 0, sizeof a);
	store_rd_list(fx->s, "meeting", NULL, INT64_MIN, INT64_MAX, list_cb, &a);
	assert_int_equal(a.n, 2);
	assert_int_equal(a.seqs[0], 5);		/* a at 5 */
	assert_int_equal(a.seqs[1], 4);		/* c at 40 */
	store_rd_end(fx->s);
}

/* Seqs are never reused after retention empties the log, even when the
 * events were stored by commits that left meta's last_seq behind. */
static void
test_retention_empties_log_keeps_seq(void **state)
{
	struct fx *fx = *state;
	uint64_t first, last, count;
	char *cause = NULL;

	add(fx, "a", NULL, 10, "CH", 1);
	add(fx, "b", NULL, 20, "CH", 1);
	add(fx, "c", NULL, 30, "CH", 1);
	commit_ok(fx);
	fx->opts.max_age_ms = 500;	/* received_at 1000, now 2000 */
	reopen(fx);
	commit_ok(fx);			/* retention alone: all three go */
	reopen(fx);
	assert_int_equal(store_last_seq(fx->s), 3);
	assert_int_equal(store_rd_begin(fx->s, &cause), 0);
	store_rd_range(fx->s, &first, &last, &count);
	assert_int_equal(count, 0);
	assert_int_equal(last, 3);
	assert_int_equal(first, 4);
	store_rd_end(fx->s);
}

/* Set dir/index/state to text. */
static void
write_state(struct fx *fx, const char *text)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof path, "%s/index/state", fx->dir);
	assert_non_null(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
}

/* dir/index/state, without its newline. */
static void
read_state(struct fx *fx, char *buf, size_t len)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof path, "%s/index/state", fx->dir);
	assert_non_null(f = fopen(path, "r"));
	assert_non_null(fgets(buf, (int)len, f));
	buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
}


/* The log's tail past the indexes, as a read transaction sees it. */
static uint64_t
rd_lag(struct fx *fx)
{
	uint64_t lag;
	char *cause = NULL;

	assert_int_equal(store_rd_begin(fx->s, &cause), 0);
	lag = store_rd_lag(fx->s);
	store_rd_end(fx->s);
	return lag;
}

/* The index's commits failing (WARTA_FAULT=index_commit, as a full disk
 * would): the events are stored; the lag shows; get finds them in the
 * log, its history included; a msg_id still dedupes; list has only the
 * indexed; once commits succeed again the next write catches up. */
static void
test_index_write_fails(void **state)
{
	struct fx *fx = *state;
	uint64_t seq;
	bool tr;
	char *cause = NULL;
	struct list_acc a = { 0 }, h = { 0 };

	add(fx, "a", "k1", 300, "CH", 1);
	commit_ok(fx);					/* 1, indexed */
	setenv("WARTA_FAULT", "index_commit", 1);
	add(fx, "a", "k2", 50, "CH", 1);		/* 2 */
	add(fx, "b", "k3", 100, "CH", 1);		/* 3 */
	commit_ok(fx);
	assert_int_equal(store_last_seq(fx->s), 3);
	assert_int_equal(store_indexed_seq(fx->s), 1);
	assert_int_equal(rd_lag(fx), 2);
	assert_int_equal(store_rd_begin(fx->s, &cause), 0);
	assert_int_equal(store_rd_latest(fx->s, "meeting", "a", 1, &seq),
	    STORE_OK);
	assert_int_equal(seq, 2);
	assert_int_equal(store_rd_latest(fx->s, "meeting", "b", 1, &seq),
	    STORE_OK);
	assert_int_equal(seq, 3);
	assert_int_equal(store_rd_history(fx->s, "meeting", "a", 1, 10,
	    hist_cb, &h, &tr), STORE_OK);
	assert_int_equal(h.n, 2);
	assert_int_equal(h.seqs[0], 1);
	assert_int_equal(h.seqs[1], 2);
	store_rd_list(fx->s, "meeting", NULL, INT64_MIN, INT64_MAX, list_cb,
	    &a);
	assert_int_equal(a.n, 1);			/* the indexed one */
	store_rd_end(fx->s);
	add(fx, "c", "k3", 1, "CH", 1);
	commit_ok(fx);
	assert_true(fx->items[0].duplicate);
	assert_int_equal(fx->items[0].seq, 3);

	unsetenv("WARTA_FAULT");
	add(fx, "d", "k4", 1, "CH", 1);			/* 4 */
	commit_ok(fx);
	assert_int_equal(store_indexed_seq(fx->s), 4);
	assert_int_equal(rd_lag(fx), 0);
	list_all(fx, &a);
	assert_int_equal(a.n, 3);
	assert_int_equal(a.seqs[0], 4);			/* d, time 1 */
	assert_int_equal(a.seqs[1], 2);			/* a, time 50 */
	assert_int_equal(a.seqs[2], 3);			/* b, time 100 */
}

/* A batch larger than max_events: its events that retention removes in
 * the same commit leave nothing in the indexes. */
static void
test_retention_same_batch_not_indexed(void **state)
{
	struct fx *fx = *state;
	size_t timeidx, msgids, history;
	char id[16], key[16];

	fx->opts.max_events = 2;
	reopen(fx);
	for (int i = 0; i < 10; i++) {
		snprintf(id, sizeof id, "m%d", i);
		snprintf(key, sizeof key, "k%d", i);
		add(fx, id, key, i, "CH", 1);
	}
	commit_ok(fx);
	index_entries(fx, &timeidx, &msgids, &history);
	assert_int_equal(timeidx, 2);
	assert_int_equal(msgids, 2);
}
/* What get and list see, checked against the events of fill4(). */
static void
check4(struct fx *fx)
{
	struct list_acc a = { 0 };
	uint64_t seq;
	char *cause = NULL;

	assert_int_equal(store_indexed_seq(fx->s), 4);
	assert_int_equal(store_rd_begin(fx->s, &cause), 0);
	assert_int_equal(store_rd_latest(fx->s, "meeting", "a", 1, &seq),
	    STORE_OK);
	assert_int_equal(seq, 4);
	store_rd_list(fx->s, "meeting", "CH", INT64_MIN, INT64_MAX, list_cb,
	    &a);
	assert_int_equal(a.n, 2);
	assert_int_equal(a.seqs[0], 4);		/* a, time 50 */
	assert_int_equal(a.seqs[1], 3);		/* c, time 200 */
	store_rd_end(fx->s);
	/* The msg_ids dedupe. */
	add(fx, "z", "k2", 1, "CH", 1);
	commit_ok(fx);
	assert_true(fx->items[0].duplicate);
	assert_int_equal(fx->items[0].seq, 2);
}

/* Four meetings with msg_ids: a twice (CH, latest time 50), b (KR), c
 * (CH, time 200), for check4(). */
static void
fill4(struct fx *fx)
{
	add(fx, "a", "k1", 300, "CH", 1);	/* 1, replaced by 4 */
	add(fx, "b", "k2", 100, "KR", 1);	/* 2 */
	add(fx, "c", "k3", 200, "CH", 1);	/* 3 */
	add(fx, "a", "k4", 50, "CH", 1);	/* 4 */
	commit_ok(fx);
}

/* The indexes live in dir/index, "open" while the store is, "clean"
 * after store_close(). */
static void
test_index_state_file(void **state)
{
	struct fx *fx = *state;
	char st[128];

	fill4(fx);
	read_state(fx, st, sizeof st);
	assert_int_equal(strncmp(st, "open ", 5), 0);
	store_close(&fx->s);
	read_state(fx, st, sizeof st);
	assert_int_equal(strncmp(st, "clean ", 6), 0);
	reopen(fx);
	check4(fx);
}

/* Left open by another boot (a power loss): built again from the log,
 * list times and msg_ids included. */
static void
test_index_rebuilt_after_power_loss(void **state)
{
	struct fx *fx = *state;
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;

	fill4(fx);
	store_close(&fx->s);
	/* Empty it, so that only a rebuild can answer. */
	raw_open_index(fx, "history", MDB_DUPSORT | MDB_DUPFIXED, &env, &txn,
	    &dbi);
	assert_int_equal(mdb_drop(txn, dbi, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
	write_state(fx, "open 00000000-not-this-boot\n");
	reopen(fx);
	check4(fx);
}

/* After a crash of the process (same boot) the index is kept and caught
 * up from where it stopped. */
static void
test_index_caught_up_after_crash(void **state)
{
	struct fx *fx = *state;
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	char st[128];

	add(fx, "a", "k1", 300, "CH", 1);
	commit_ok(fx);
	read_state(fx, st, sizeof st);
	add(fx, "b", "k2", 100, "KR", 1);
	add(fx, "c", "k3", 200, "CH", 1);
	add(fx, "a", "k4", 50, "CH", 1);
	commit_ok(fx);
	store_close(&fx->s);
	/* As if the index's last commit had not happened: seq 1 only. */
	raw_meta_put(fx, true, "indexed_seq", 1);
	raw_open_index(fx, "history", MDB_DUPSORT | MDB_DUPFIXED, &env, &txn,
	    &dbi);
	{
		uint8_t key[32] = "meeting";
		MDB_val hk = { 9, key };

		memcpy(key + 8, "a", 1);
		assert_int_equal(mdb_del(txn, dbi, &hk, NULL), 0);
		memcpy(key + 8, "b", 1);
		assert_int_equal(mdb_del(txn, dbi, &hk, NULL), 0);
	}
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
	/* "clean <boot>" -> "open <boot>": this boot, not closed. */
	assert_int_equal(strncmp(st, "open ", 5), 0);
	write_state(fx, st);
	reopen(fx);
	assert_int_equal(store_last_seq(fx->s), 4);
	assert_int_equal(store_indexed_seq(fx->s), 4);
	assert_int_equal(rd_lag(fx), 0);
	{
		uint64_t seq;
		char *cause = NULL;

		assert_int_equal(store_rd_begin(fx->s, &cause), 0);
		assert_int_equal(store_rd_latest(fx->s, "meeting", "b", 1,
		    &seq), STORE_OK);
		assert_int_equal(seq, 2);
		store_rd_end(fx->s);
	}
}

/* An index that goes past the log (the log restored from an older copy)
 * is built again. */
static void
test_index_newer_than_log(void **state)
{
	struct fx *fx = *state;

	fill4(fx);
	store_close(&fx->s);
	raw_meta_put(fx, true, "indexed_seq", 768);
	reopen(fx);
	check4(fx);
}

/* A version 2 store (indexes in the log) is upgraded: the old index
 * databases are dropped from the log and built in dir/index. */
static void
test_version2_upgraded(void **state)
{
	struct fx *fx = *state;
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi, hist;
	uint8_t v[8] = { 0, 0, 0, 0, 0, 0, 0, 2 };
	MDB_val k = { 7, "version" }, d = { 8, v };
	MDB_val hk = { 4, "junk" }, hd = { 4, "junk" };

	fill4(fx);
	store_close(&fx->s);
	/* The index left as it is but emptied: only the upgrade's rebuild
	   can answer. */
	raw_open_index(fx, "history", MDB_DUPSORT | MDB_DUPFIXED, &env, &txn,
	    &dbi);
	assert_int_equal(mdb_drop(txn, dbi, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
	raw_open(fx, "meta", &env, &txn, &dbi);
	assert_int_equal(mdb_put(txn, dbi, &k, &d, 0), 0);
	assert_int_equal(mdb_dbi_open(txn, "history",
	    MDB_CREATE | MDB_DUPSORT | MDB_DUPFIXED, &hist), 0);
	assert_int_equal(mdb_put(txn, hist, &hk, &hd, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);

	reopen(fx);
	check4(fx);
	store_close(&fx->s);
	raw_open(fx, "meta", &env, &txn, &dbi);
	assert_int_equal(mdb_get(txn, dbi, &k, &d), 0);
	assert_int_equal(((const uint8_t *)d.mv_data)[7], 3);
	assert_int_equal(mdb_dbi_open(txn, "history", 0, &hist),
	    MDB_NOTFOUND);
	mdb_txn_abort(txn);
	mdb_env_close(env);
	reopen(fx);
}

/*
 * The indexes are the indexer's: a write leaves its job queued, and
 * until it is handled a read does not count the events as missing (the
 * daemon runs a read only once the indexer has handled what was
 * acknowledged before it), and a msg_id dedupes from the writer's set of
 * msg_ids above the indexes' last commit; after, from the index.
 */
static void
test_index_jobs_queued(void **state)
{
	struct fx *fx = *state;
	struct list_acc a = { 0 };
	uint64_t seq;
	char *cause = NULL;

	add(fx, "a", "k1", 10, "CH", 1);
	commit_queued(fx);				/* 1 */
	assert_int_equal(store_last_seq(fx->s), 1);
	assert_int_equal(store_indexed_seq(fx->s), 0);
	assert_int_equal(store_index_done(fx->s), 0);
	assert_int_equal(rd_lag(fx), 0);		/* not handled yet */
	add(fx, "x", "k1", 10, "CH", 1);		/* a duplicate of 1 */
	add(fx, "b", "k2", 20, "CH", 1);		/* 2 */
	commit_queued(fx);
	assert_true(fx->items[0].duplicate);
	assert_int_equal(fx->items[0].seq, 1);
	assert_false(fx->items[1].duplicate);
	assert_int_equal(store_rd_begin(fx->s, &cause), 0);
	assert_int_equal(store_rd_latest(fx->s, "meeting", "b", 1, &seq),
	    STORE_NOTFOUND);
	store_rd_end(fx->s);

	/* Both jobs in one index transaction. */
	assert_int_equal(store_index_work(fx->s, false), 1);
	assert_int_equal(store_index_work(fx->s, false), 0);
	assert_int_equal(store_indexed_seq(fx->s), 2);
	assert_int_equal(store_index_done(fx->s), 2);
	assert_int_equal(rd_lag(fx), 0);
	assert_int_equal(store_rd_begin(fx->s, &cause), 0);
	assert_int_equal(store_rd_latest(fx->s, "meeting", "b", 1, &seq),
	    STORE_OK);
	assert_int_equal(seq, 2);
	store_rd_end(fx->s);
	add(fx, "y", "k2", 10, "CH", 1);		/* from the index now */
	commit_queued(fx);
	assert_true(fx->items[0].duplicate);
	assert_int_equal(fx->items[0].seq, 2);
	list_all(fx, &a);
	assert_int_equal(a.n, 2);
	assert_int_equal(a.seqs[0], 1);
	assert_int_equal(a.seqs[1], 2);
}

/* Every entry of the index databases timeidx, msgids and history, read
 * raw with the store closed, as one length-prefixed byte string. */
static size_t
index_dump(struct fx *fx, uint8_t **out)
{
	const char *names[] = { "timeidx", "msgids", "history" };
	size_t len = 0, cap = 1 << 16;
	uint8_t *b = malloc(cap);
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_cursor *c;
	MDB_val k, d;

	raw_open_index(fx, names[0], 0, &env, &txn, &dbi);
	for (int i = 0; i < 3; i++) {
		if (i > 0)
			assert_int_equal(mdb_dbi_open(txn, names[i], 0, &dbi),
			    0);
		assert_int_equal(mdb_cursor_open(txn, dbi, &c), 0);
		while (mdb_cursor_get(c, &k, &d, MDB_NEXT) == 0) {
			if (len + k.mv_size + d.mv_size + 3 > cap) {
				cap = 2 * (len + k.mv_size + d.mv_size + 3);
				assert_non_null(b = realloc(b, cap));
			}
			b[len++] = (uint8_t)i;
			b[len++] = (uint8_t)k.mv_size;
			memcpy(b + len, k.mv_data, k.mv_size);
			len += k.mv_size;
			b[len++] = (uint8_t)d.mv_size;
			memcpy(b + len, d.mv_data, d.mv_size);
			len += d.mv_size;
		}
		mdb_cursor_close(c);
	}
	mdb_txn_abort(txn);
	mdb_env_close(env);
	*out = b;
	return len;
}

/*
 * Write 16 commits of 1-40 events over nent entities (a msg_id on one in
 * three, reused every 100 events) with max_events kept, queuing the jobs
 * and indexing every per_run commits; then the indexes must be the ones a
 * rebuild from the log (event by event) makes, entry for entry.
 */
static void
run_matches_rebuild(struct fx *fx, uint64_t max_events, unsigned nent,
    int per_run)
{
	uint32_t x = 12345;
	uint8_t *a, *b;
	size_t alen, blen, total = 0;
	char id[8], mid[16];
	int msg = 0;

	fx->opts.max_events = max_events;
	reopen(fx);
	for (int c = 0; c < 16; c++) {
		int n = 1 + (int)((x = x * 1103515245u + 12345u) >> 16) % 40;

		for (int i = 0; i < n; i++) {
			x = x * 1103515245u + 12345u;
			snprintf(id, sizeof id, "e%u", (x >> 16) % nent);
			snprintf(mid, sizeof mid, "m%d", msg++ % 100);
			add(fx, id, (x >> 8) % 3 == 0 ? mid : NULL,
			    (int64_t)((x >> 4) % 500) - 100,
			    (x >> 12) % 2 ? "CH" : "KR", 1);
		}
		total += (size_t)n;
		commit_queued(fx);
		if (c % per_run == per_run - 1)
			store_index_sync(fx->s);	/* per_run jobs a run */
	}
	store_index_sync(fx->s);
	assert_true(total > max_events);
	assert_int_equal(store_indexed_seq(fx->s), store_last_seq(fx->s));
	store_close(&fx->s);
	alen = index_dump(fx, &a);
	write_state(fx, "open 00000000-not-this-boot\n");
	reopen(fx);
	store_close(&fx->s);
	blen = index_dump(fx, &b);
	reopen(fx);
	assert_true(alen > 300);
	assert_int_equal(alen, blen);
	assert_memory_equal(a, b, alen);
	free(a);
	free(b);
}

/*
 * The indexer applies a run of queued jobs sorted by key, not event by
 * event: many versions of a few entities within and across the jobs of a
 * run, msg_ids used again once retention removed their event, five jobs a
 * run.
 */
static void
test_index_run_matches_rebuild(void **state)
{
	run_matches_rebuild(*state, 150, 9, 5);
}

/*
 * The same with retention tighter than a batch (max_events 12): a run
 * removes events it added itself, and the latest version of an entity,
 * so whole entities go; three jobs a run.
 */
static void
test_index_run_removes_own(void **state)
{
	run_matches_rebuild(*state, 12, 30, 3);
}

/* Retention's removals reach the indexes through the jobs, also when
 * several writes are queued before the indexer applies them. */
static void
test_index_jobs_retention(void **state)
{
	struct fx *fx = *state;
	struct list_acc a = { 0 }, h = { 0 };
	size_t timeidx, msgids, history;
	bool tr;
	char *cause = NULL;

	fx->opts.max_events = 2;
	reopen(fx);
	add(fx, "a", "k1", 10, "CH", 1);		/* 1 */
	add(fx, "b", "k2", 20, "CH", 1);		/* 2 */
	commit_queued(fx);
	add(fx, "a", "k3", 30, "CH", 1);		/* 3: removes 1 */
	commit_queued(fx);
	add(fx, "c", "k4", 40, "CH", 1);		/* 4: removes 2 */
	commit_queued(fx);
	store_index_sync(fx->s);
	assert_int_equal(store_indexed_seq(fx->s), 4);
	assert_int_equal(store_rd_begin(fx->s, &cause), 0);
	store_rd_list(fx->s, "meeting", NULL, INT64_MIN, INT64_MAX, list_cb,
	    &a);
	assert_int_equal(store_rd_history(fx->s, "meeting", "a", 1, 10,
	    hist_cb, &h, &tr), STORE_OK);
	store_rd_end(fx->s);
	assert_int_equal(a.n, 2);
	assert_int_equal(a.seqs[0], 3);
	assert_int_equal(a.seqs[1], 4);
	assert_int_equal(h.n, 1);
	assert_int_equal(h.seqs[0], 3);
	/* Nothing left behind for 1 and 2. */
	index_entries(fx, &timeidx, &msgids, &history);
	assert_int_equal(timeidx, 2);
	assert_int_equal(msgids, 2);
	assert_int_equal(history, 2);
}

/*
 * The log runs ahead of the indexes while the indexer works: a read
 * counts as missing only what the indexer has handled and could not
 * index (a failed commit), never what is still queued for it (valgrind's
 * pace found list answering "behind" for queued events).
 */
static void
test_index_queued_not_lag(void **state)
{
	struct fx *fx = *state;
	struct list_acc a = { 0 };

	add(fx, "a", "k1", 10, "CH", 1);
	commit_queued(fx);				/* 1 */
	store_index_sync(fx->s);
	add(fx, "b", "k2", 20, "CH", 1);
	commit_queued(fx);				/* 2, queued */
	assert_int_equal(rd_lag(fx), 0);
	list_all(fx, &a);
	assert_int_equal(a.n, 1);
	/* Handled but not indexed: now it is missing, and get finds it in
	   the log. */
	setenv("WARTA_FAULT", "index_commit", 1);
	assert_int_equal(store_index_work(fx->s, false), 0);
	unsetenv("WARTA_FAULT");
	assert_int_equal(store_index_done(fx->s), 2);
	assert_int_equal(store_indexed_seq(fx->s), 1);
	assert_int_equal(rd_lag(fx), 1);
}

static void *
indexer(void *arg)
{
	struct store *s = arg;

	while (store_index_work(s, true) >= 0)
		;
	return NULL;
}

/* With an indexer thread: writes go on while it indexes; after its stop
 * everything is indexed and every repeated msg_id was caught. */
static void
test_index_thread(void **state)
{
	struct fx *fx = *state;
	pthread_t t;
	char id[16], key[16];
	size_t dups = 0;

	assert_int_equal(pthread_create(&t, NULL, indexer, fx->s), 0);
	for (int b = 0; b < 300; b++) {
		for (int i = 0; i < 10; i++) {
			/* Every 10th batch repeats the msg_ids of the one
			   before it. */
			int k = b % 10 == 9 ? (b - 1) * 10 + i : b * 10 + i;

			snprintf(id, sizeof id, "m%d", k % 97);
			snprintf(key, sizeof key, "k%d", k);
			add(fx, id, key, k, "CH", 1);
		}
		commit_queued(fx);
		for (int i = 0; i < 10; i++)
			dups += fx->items[i].duplicate;
	}
	store_index_stop(fx->s);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(dups, 300);
	assert_int_equal(store_last_seq(fx->s), 2700);
	assert_int_equal(store_indexed_seq(fx->s), 2700);
	assert_int_equal(store_index_done(fx->s), 2700);
	assert_int_equal(rd_lag(fx), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_append_and_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_range, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reopen_continues_seq, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dedupe, setup, teardown),
		cmocka_unit_test_setup_teardown(test_checksum_mismatch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_format1_records_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_version_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_garbage_file_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retention_max_events, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retention_keeps_latest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retention_empties_log_keeps_seq, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rejects_trim, setup, teardown),
		cmocka_unit_test_setup_teardown(test_map_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_map_grows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_history, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cursors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_index_state_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_index_rebuilt_after_power_loss, setup, teardown),
		cmocka_unit_test_setup_teardown(test_index_caught_up_after_crash, setup, teardown),
		cmocka_unit_test_setup_teardown(test_index_newer_than_log, setup, teardown),
		cmocka_unit_test_setup_teardown(test_version2_upgraded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_index_jobs_queued, setup, teardown),
		cmocka_unit_test_setup_teardown(test_index_jobs_retention, setup, teardown),
		cmocka_unit_test_setup_teardown(test_index_thread, setup, teardown),
		cmocka_unit_test_setup_teardown(test_index_run_matches_rebuild,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_index_run_removes_own,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_index_queued_not_lag, setup, teardown),
		cmocka_unit_test_setup_teardown(test_index_write_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retention_same_batch_not_indexed, setup, teardown),
	};

	return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
