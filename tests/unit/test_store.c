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
	uint64_t	 index_n;	/* what commit() asks to index */
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
	fx->index_n = UINT64_MAX;
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
	msgpack_pack_map(&pk, msg_id ? 4 : 3);
	msgpack_pack_str_with_body(&pk, "id", 2);
	msgpack_pack_str_with_body(&pk, id, strlen(id));
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
	rc = store_write(fx->s, fx->items, fx->n, NULL, 0, NULL, 0,
	    fx->index_n, 2000, &fx->out, &res, cause);
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
	/* Written as format 3: CRC-32C, 8 bytes of list time, the body. */
	assert_true(d.mv_size > 13);
	assert_int_equal(((const uint8_t *)d.mv_data)[4], 3);
	memcpy(rec + 5, (const uint8_t *)d.mv_data + 13, d.mv_size - 13);
	d.mv_size -= 8;
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
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	/* Version 1 is the layout before history held the latest state. */
	uint8_t v[8] = { 0, 0, 0, 0, 0, 0, 0, 1 };
	MDB_val k = { 7, "version" }, d = { 8, v };
	char *cause = NULL;

	store_close(&fx->s);
	raw_open(fx, "meta", &env, &txn, &dbi);
	assert_int_equal(mdb_put(txn, dbi, &k, &d, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);

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
	assert_int_equal(store_write(fx->s, NULL, 0, rj, 5, NULL, 0,
	    UINT64_MAX, 1, &fx->out, &res, &cause), 0);
	assert_int_equal(store_rd_begin(fx->s, &cause), 0);
	assert_int_equal(store_rd_rejects(fx->s, 1, count_cb, keys), STORE_OK);
	store_rd_end(fx->s);
	assert_int_equal(keys[0], 3);
	assert_int_equal(keys[1], 3);
	assert_int_equal(keys[3], 5);

	/* Numbering survives a reopen. */
	reopen(fx);
	assert_int_equal(store_write(fx->s, NULL, 0, rj, 1, NULL, 0,
	    UINT64_MAX, 1, &fx->out, &res, &cause), 0);
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
	    UINT64_MAX, 1, &fx->out, &res, &cause), 0);
	fx->n = 0;
	cur[0].seq = 9;
	assert_int_equal(store_write(fx->s, NULL, 0, NULL, 0, cur, 1,
	    UINT64_MAX, 1, &fx->out, &res, &cause), 0);
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

/* An index step alone: no items, index n (store_write with nothing else). */
static void
index_step(struct fx *fx, uint64_t n)
{
	struct store_result res;
	char *cause = NULL;

	if (store_write(fx->s, NULL, 0, NULL, 0, NULL, 0, n, 2000, &fx->out,
	    &res, &cause) != 0)
		fail_msg("store_write: %s", cause);
	assert_int_equal(res.indexed_seq, store_indexed_seq(fx->s));
}

/* Whether get would find (meeting, id) at seq. */
static void
assert_latest(struct fx *fx, const char *id, int want, uint64_t want_seq)
{
	uint64_t seq = 0;
	char *cause = NULL;

	assert_int_equal(store_rd_begin(fx->s, &cause), 0);
	assert_int_equal(store_rd_latest(fx->s, "meeting", id, strlen(id),
	    &seq), want);
	if (want == STORE_OK)
		assert_int_equal(seq, want_seq);
	store_rd_end(fx->s);
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

/* An entity's history as get sees it, into seqs[1..], seqs[0] the count. */
static int
seqs_cb(void *arg, uint64_t seq)
{
	uint64_t *seqs = arg;

	seqs[++seqs[0]] = seq;
	return 0;
}

static void
history_of(struct fx *fx, const char *id, size_t max, uint64_t *seqs,
    bool *truncated)
{
	char *cause = NULL;

	memset(seqs, 0, 8 * sizeof *seqs);
	assert_int_equal(store_rd_begin(fx->s, &cause), 0);
	assert_int_equal(store_rd_history(fx->s, "meeting", id, strlen(id),
	    max, seqs_cb, seqs, truncated), STORE_OK);
	store_rd_end(fx->s);
}

/* Committed without indexing, events are in the log but not in the
 * indexes; index steps bring them in, in seq order, n at a time.  At any
 * lag get's lookups (latest, history) are right: the log's tail is
 * searched for what the indexes lack. */
static void
test_index_lags_log(void **state)
{
	struct fx *fx = *state;
	const uint8_t *body;
	size_t len;
	uint64_t h[8];
	bool tr;
	char *cause = NULL;

	fx->index_n = 0;
	add(fx, "m1", NULL, 10, "CH", 10);
	add(fx, "m2", NULL, 20, "FR", 10);
	add(fx, "m1", NULL, 30, "CH", 10);
	commit_ok(fx);
	assert_int_equal(store_last_seq(fx->s), 3);
	assert_int_equal(store_indexed_seq(fx->s), 0);
	assert_int_equal(rd_lag(fx), 3);
	assert_int_equal(store_rd_begin(fx->s, &cause), 0);
	assert_int_equal(store_rd_event(fx->s, 3, &body, &len), STORE_OK);
	assert_int_equal(body_seq(body, len), 3);
	store_rd_end(fx->s);
	assert_latest(fx, "m1", STORE_OK, 3);
	assert_latest(fx, "m3", STORE_NOTFOUND, 0);
	history_of(fx, "m1", 10, h, &tr);
	assert_int_equal(h[0], 2);
	assert_int_equal(h[1], 1);
	assert_int_equal(h[2], 3);
	assert_false(tr);

	index_step(fx, 1);
	assert_int_equal(store_indexed_seq(fx->s), 1);
	assert_int_equal(rd_lag(fx), 2);
	assert_latest(fx, "m1", STORE_OK, 3);
	assert_latest(fx, "m2", STORE_OK, 2);
	/* One from the index, one from the tail; the newest 1 only. */
	history_of(fx, "m1", 10, h, &tr);
	assert_int_equal(h[0], 2);
	assert_int_equal(h[1], 1);
	assert_int_equal(h[2], 3);
	history_of(fx, "m1", 1, h, &tr);
	assert_int_equal(h[0], 1);
	assert_int_equal(h[1], 3);
	assert_true(tr);

	index_step(fx, UINT64_MAX);
	assert_int_equal(store_indexed_seq(fx->s), 3);
	assert_int_equal(rd_lag(fx), 0);
	assert_latest(fx, "m1", STORE_OK, 3);
	assert_latest(fx, "m2", STORE_OK, 2);
	history_of(fx, "m1", 10, h, &tr);
	assert_int_equal(h[0], 2);
	assert_int_equal(h[2], 3);
	/* Nothing left: a step is a no-op. */
	index_step(fx, UINT64_MAX);
	assert_int_equal(store_indexed_seq(fx->s), 3);
}

/* The list time and country come back from the record: list finds an
 * event indexed late exactly as one indexed in its own commit. */
static void
test_index_late_list(void **state)
{
	struct fx *fx = *state;
	struct list_acc a = { 0 };
	char *cause = NULL;

	fx->index_n = 0;
	add(fx, "a", NULL, 300, "CH", 1);	/* 1, replaced by 4 */
	add(fx, "b", NULL, 100, "KR", 1);	/* 2 */
	add(fx, "c", NULL, 200, "CH", 1);	/* 3 */
	commit_ok(fx);
	index_step(fx, 2);
	add(fx, "a", NULL, 50, "CH", 1);	/* 4 */
	add(fx, "d", NULL, 200, "CH", 1);	/* 5 */
	commit_ok(fx);
	index_step(fx, UINT64_MAX);
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
	store_rd_end(fx->s);
}

/* A msg_id not yet indexed still dedupes: in a later commit, within one,
 * and across a reopen (read back from the log); after the index step
 * the msgids database has it. */
static void
test_dedupe_unindexed(void **state)
{
	struct fx *fx = *state;
	struct store_item *a;

	fx->index_n = 0;
	add(fx, "m1", "k1", 10, "CH", 10);
	commit_ok(fx);
	a = add(fx, "m2", "k1", 10, "CH", 10);
	add(fx, "m3", "k3", 10, "CH", 10);
	add(fx, "m4", "k3", 10, "CH", 10);
	commit_ok(fx);
	assert_true(a->duplicate);
	assert_int_equal(a->seq, 1);
	assert_false(fx->items[1].duplicate);
	assert_true(fx->items[2].duplicate);
	assert_int_equal(fx->items[2].seq, 2);

	reopen(fx);
	assert_int_equal(store_indexed_seq(fx->s), 0);
	assert_int_equal(store_last_seq(fx->s), 2);
	add(fx, "m5", "k3", 10, "CH", 10);
	commit_ok(fx);
	assert_true(fx->items[0].duplicate);
	assert_int_equal(fx->items[0].seq, 2);

	index_step(fx, UINT64_MAX);
	add(fx, "m6", "k1", 10, "CH", 10);
	add(fx, "m7", "k7", 10, "CH", 10);
	commit_ok(fx);
	assert_true(fx->items[0].duplicate);
	assert_int_equal(fx->items[0].seq, 1);
	assert_false(fx->items[1].duplicate);
	assert_int_equal(fx->items[1].seq, 3);
}

/* A failed commit takes back the msg_ids it added: the same event is
 * new on the next try. */
static void
test_failed_commit_forgets_msgids(void **state)
{
	struct fx *fx = *state;
	char *cause = NULL;

	fx->opts.map_size = 1u << 20;
	reopen(fx);
	fx->index_n = 0;
	add(fx, "m1", "once", 1, "CH", 10);
	for (int j = 0; j < 40; j++) {
		char id[16];

		snprintf(id, sizeof id, "big%d", j);
		add(fx, id, NULL, 1, "CH", 30000);
	}
	assert_int_equal(commit(fx, &cause), -1);
	free(cause);
	assert_int_equal(store_last_seq(fx->s), 0);
	add(fx, "m1", "once", 1, "CH", 10);
	commit_ok(fx);
	assert_false(fx->items[0].duplicate);
	assert_int_equal(fx->items[0].seq, 1);
}

/* Retention removes only indexed events' entries, so an event it is to
 * remove is indexed first: nothing dangles in the indexes. */
static void
test_retention_indexes_first(void **state)
{
	struct fx *fx = *state;
	uint64_t first, last, count;
	char *cause = NULL, id[16], key[16];

	fx->opts.max_events = 3;
	reopen(fx);
	fx->index_n = 0;
	for (int i = 0; i < 8; i++) {
		snprintf(id, sizeof id, "m%d", i);
		snprintf(key, sizeof key, "k%d", i);
		add(fx, id, key, i, "CH", 10);
	}
	commit_ok(fx);
	assert_true(store_indexed_seq(fx->s) >= 5);
	assert_int_equal(store_rd_begin(fx->s, &cause), 0);
	store_rd_range(fx->s, &first, &last, &count);
	store_rd_end(fx->s);
	assert_int_equal(first, 6);
	assert_int_equal(count, 3);
	assert_latest(fx, "m0", STORE_NOTFOUND, 0);
	index_step(fx, UINT64_MAX);
	assert_latest(fx, "m4", STORE_NOTFOUND, 0);
	assert_latest(fx, "m7", STORE_OK, 8);
	/* The removed events' msg_ids went with them. */
	add(fx, "m0", "k0", 0, "CH", 10);
	commit_ok(fx);
	assert_false(fx->items[0].duplicate);
}

/* A version 2 store (indexed in every commit, no indexed_seq) opens as
 * version 3 with everything indexed. */
static void
test_version2_upgraded(void **state)
{
	struct fx *fx = *state;
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	uint8_t v[8] = { 0, 0, 0, 0, 0, 0, 0, 2 };
	MDB_val k = { 7, "version" }, d = { 8, v };
	MDB_val ik = { 11, "indexed_seq" };

	add(fx, "m1", NULL, 10, "CH", 10);
	add(fx, "m2", NULL, 10, "CH", 10);
	commit_ok(fx);
	store_close(&fx->s);
	raw_open(fx, "meta", &env, &txn, &dbi);
	assert_int_equal(mdb_put(txn, dbi, &k, &d, 0), 0);
	assert_int_equal(mdb_del(txn, dbi, &ik, NULL), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);

	reopen(fx);
	assert_int_equal(store_indexed_seq(fx->s), 2);
	assert_latest(fx, "m2", STORE_OK, 2);
	store_close(&fx->s);
	raw_open(fx, "meta", &env, &txn, &dbi);
	assert_int_equal(mdb_get(txn, dbi, &k, &d), 0);
	assert_int_equal(((const uint8_t *)d.mv_data)[7], 3);
	mdb_txn_abort(txn);
	mdb_env_close(env);
	reopen(fx);
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
		cmocka_unit_test_setup_teardown(test_index_lags_log, setup, teardown),
		cmocka_unit_test_setup_teardown(test_index_late_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dedupe_unindexed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_commit_forgets_msgids, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retention_indexes_first, setup, teardown),
		cmocka_unit_test_setup_teardown(test_version2_upgraded, setup, teardown),
	};

	return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
