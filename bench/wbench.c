/*
 * wbench.c — the benchmark's warta client, the bare ZeroMQ relay and the
 * reference measurements (one ZeroMQ round trip, one durable LMDB commit).
 *
 * Each command prints one JSON line on stdout; bench/run collects them.
 *
 *   wbench relay IN OUT              SUB(bind IN) -> PUB(bind OUT), no storage
 *   wbench ingest IN NOTIFY API|- N  PUB N events, count notifications
 *                                    and (with API) events stored
 *   wbench fill IN API N             store N events, paced by the store
 *   wbench acked API CLIENTS WINDOW N  publish over the api, WINDOW
 *                                    requests outstanding per client
 *   wbench e2e IN NOTIFY RATE SECS   send at RATE/s, latency to notification
 *   wbench replay API                page through every stored event
 *   wbench ref-rtt EP N              DEALER/ROUTER round trips of 300 bytes
 *   wbench ref-lmdb DIR N            durable LMDB commits of one event
 *   wbench events FILE               the event mix for nbench (Go): 4-byte
 *                                    little-endian length, body
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lmdb.h>
#include <msgpack.h>
#include <zmq.h>

#include "bench/common.h"
#include "schema/mp.h"

#define WB_IDLE_NS	(3 * 1000000000ull)	/* no more notifications */

static void *wb_ctx;
static struct bench_event *wb_ring;

/* Die with a message. */
static void
wb_die(const char *what)
{
	fprintf(stderr, "wbench: %s: %s\n", what, zmq_strerror(errno));
	exit(1);
}

/* A socket with an unlimited queue, connected or bound to ep. */
static void *
wb_socket(int type, const char *ep, bool bind)
{
	void *s = zmq_socket(wb_ctx, type);
	int zero = 0;

	if (s == NULL)
		wb_die("zmq_socket");
	zmq_setsockopt(s, ZMQ_SNDHWM, &zero, sizeof zero);
	zmq_setsockopt(s, ZMQ_RCVHWM, &zero, sizeof zero);
	zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero);
	if ((bind ? zmq_bind(s, ep) : zmq_connect(s, ep)) == -1)
		wb_die(ep);
	return s;
}

/* Find key in a MessagePack map; 0 and its value's reader, or -1. */
static int
wb_field(const uint8_t *buf, size_t len, const char *key, struct mp_reader *out)
{
	struct mp_reader r;
	struct mp_obj o, k;

	mp_reader_init(&r, buf, len);
	if (mp_read(&r, &o) == -1 || o.type != MP_MAP)
		return -1;
	for (uint32_t i = 0; i < o.v.n; i++) {
		const uint8_t *ks = r.p;

		if (mp_read(&r, &k) == -1)
			return -1;
		if (k.type != MP_STR) {
			r.p = ks;
			if (mp_skip(&r) == -1)
				return -1;
		} else if (mp_str_eq(&k, key)) {
			*out = r;
			return 0;
		}
		if (mp_skip(&r) == -1)
			return -1;
	}
	return -1;
}

/* An unsigned field of a map, or def. */
static uint64_t
wb_field_u64(const uint8_t *buf, size_t len, const char *key, uint64_t def)
{
	struct mp_reader r;
	struct mp_obj o;

	if (wb_field(buf, len, key, &r) == -1 || mp_read(&r, &o) == -1 ||
	    o.type != MP_UINT)
		return def;
	return o.v.u;
}

/* One api round trip on a REQ socket; the reply in msg. */
static void
wb_call(void *req, const void *buf, size_t len, zmq_msg_t *msg)
{
	if (zmq_send(req, buf, len, 0) == -1)
		wb_die("api send");
	zmq_msg_init(msg);
	if (zmq_msg_recv(msg, req, 0) == -1)
		wb_die("api receive (is wartad up?)");
}

/* A REQ socket to the api that gives up after 30 s. */
static void *
wb_api(const char *ep)
{
	void *s = wb_socket(ZMQ_REQ, ep, false);
	int t = 30000;

	zmq_setsockopt(s, ZMQ_RCVTIMEO, &t, sizeof t);
	return s;
}

/* stats.<key> from the api. */
static uint64_t
wb_stat(void *api, const char *key)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	zmq_msg_t m;
	uint64_t v;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 1);
	msgpack_pack_str_with_body(&pk, "op", 2);
	msgpack_pack_str_with_body(&pk, "stats", 5);
	wb_call(api, sb.data, sb.size, &m);
	v = wb_field_u64(zmq_msg_data(&m), zmq_msg_size(&m), key, 0);
	zmq_msg_close(&m);
	msgpack_sbuffer_destroy(&sb);
	return v;
}

/* Wait until stats.stored stops changing or reaches want. */
static uint64_t
wb_wait_stored(void *api, uint64_t want)
{
	uint64_t last = UINT64_MAX, now, since = bench_now_ns();

	for (;;) {
		now = wb_stat(api, "stored");
		if (now >= want)
			return now;
		if (now != last) {
			last = now;
			since = bench_now_ns();
		} else if (bench_now_ns() - since > WB_IDLE_NS)
			return now;
		bench_sleep_ns(20000000);
	}
}

/* relay: the bare ZeroMQ reference, SUB to PUB with no storage.  The
 * queues have wartad's default high-water marks. */
static int
wb_relay(const char *in, const char *out)
{
	void *sub = zmq_socket(wb_ctx, ZMQ_SUB), *pub = zmq_socket(wb_ctx,
	    ZMQ_PUB);
	int rcv = 1000000, snd = 100000;
	zmq_msg_t m;

	zmq_setsockopt(sub, ZMQ_RCVHWM, &rcv, sizeof rcv);
	zmq_setsockopt(pub, ZMQ_SNDHWM, &snd, sizeof snd);
	zmq_setsockopt(sub, ZMQ_SUBSCRIBE, "", 0);
	if (zmq_bind(sub, in) == -1 || zmq_bind(pub, out) == -1)
		wb_die("relay bind");
	fprintf(stderr, "relay: ready\n");
	zmq_msg_init(&m);
	for (;;) {
		int more;

		if (zmq_msg_recv(&m, sub, 0) == -1) {
			if (errno == EINTR)
				continue;
			wb_die("relay receive");
		}
		more = zmq_msg_more(&m);
		zmq_msg_send(&m, pub, more ? ZMQ_SNDMORE : 0);
	}
	return 0;
}

/* The subscriber side of ingest and e2e. */
struct wb_sub {
	void		*sock;
	uint64_t	 want;		/* stop after this many */
	atomic_bool	 started;	/* the producer sent its first */
	uint64_t	 got, gaps, t_last;
	uint64_t	 last_seq;
	bool		 e2e;		/* take x_t latencies */
	struct bench_lat lat;
};

/* Receive notifications until want or an idle spell. */
static void *
wb_sub_main(void *arg)
{
	struct wb_sub *s = arg;
	zmq_msg_t t, b;
	uint64_t idle_from = 0;

	zmq_msg_init(&t);
	zmq_msg_init(&b);
	while (s->got < s->want) {
		if (zmq_msg_recv(&t, s->sock, 0) == -1) {
			uint64_t now = bench_now_ns();

			if (!atomic_load(&s->started))
				continue;
			if (idle_from == 0)
				idle_from = now;
			if (now - idle_from > WB_IDLE_NS)
				break;
			continue;
		}
		if (!zmq_msg_more(&t))
			continue;
		zmq_msg_recv(&b, s->sock, 0);
		/* A heartbeat is not a notification: it must not keep an
		   idle spell (some notifications lost) from ending. */
		if (zmq_msg_size(&t) >= 4 &&
		    memcmp(zmq_msg_data(&t), "_sys", 4) == 0)
			continue;
		idle_from = 0;
		s->t_last = bench_now_ns();
		s->got++;
		if (s->e2e) {
			struct mp_reader r;
			const uint8_t *p = zmq_msg_data(&b);
			size_t n = zmq_msg_size(&b);
			uint64_t x_t, seq = wb_field_u64(p, n, "seq", 0);

			if (s->last_seq && seq != s->last_seq + 1)
				s->gaps++;
			s->last_seq = seq;
			if (wb_field(p, n, "event", &r) == 0 &&
			    (x_t = wb_field_u64(r.p, (size_t)(r.end - r.p),
			    "x_t", 0)) != 0)
				bench_lat_add(&s->lat, s->t_last - x_t);
		}
	}
	zmq_msg_close(&t);
	zmq_msg_close(&b);
	return NULL;
}

/* A subscriber to everything, on its own thread. */
static pthread_t
wb_sub_start(struct wb_sub *s, const char *ep)
{
	pthread_t th;
	int t = 200;

	s->sock = wb_socket(ZMQ_SUB, ep, false);
	zmq_setsockopt(s->sock, ZMQ_SUBSCRIBE, "", 0);
	zmq_setsockopt(s->sock, ZMQ_RCVTIMEO, &t, sizeof t);
	pthread_create(&th, NULL, wb_sub_main, s);
	return th;
}

/* Send one event on PUB. */
static void
wb_pub_send(void *pub, const struct bench_event *e)
{
	if (zmq_send(pub, e->topic, strlen(e->topic), ZMQ_SNDMORE) == -1 ||
	    zmq_send(pub, e->body, e->len, 0) == -1)
		wb_die("pub send");
}

/* ingest: as fast as PUB goes; events notified and stored. */
static int
wb_ingest(const char *in, const char *notify, const char *api_ep, uint64_t n)
{
	struct wb_sub s = { .want = n };
	void *pub, *api = NULL;
	pthread_t th;
	uint64_t stored0 = 0, stored = 0, t0, t_sent;

	wb_ring = bench_ring();
	if (strcmp(api_ep, "-") != 0) {
		api = wb_api(api_ep);
		stored0 = wb_stat(api, "stored");
	}
	th = wb_sub_start(&s, notify);
	pub = wb_socket(ZMQ_PUB, in, false);
	/* Slow joiners: both connections must be up before the first. */
	bench_sleep_ns(1000000000);
	t0 = bench_now_ns();
	atomic_store(&s.started, true);
	for (uint64_t i = 0; i < n; i++)
		wb_pub_send(pub, &wb_ring[i % BENCH_RING]);
	t_sent = bench_now_ns();
	pthread_join(th, NULL);
	if (api)
		stored = wb_wait_stored(api, stored0 + n) - stored0;
	printf("{\"sent\":%" PRIu64 ",\"send_s\":%.3f,\"notified\":%" PRIu64
	    ",\"secs\":%.3f,\"rate\":%.0f,\"lost_notified\":%" PRIu64,
	    n, (double)(t_sent - t0) / 1e9, s.got,
	    (double)(s.t_last - t0) / 1e9,
	    (double)s.got / ((double)(s.t_last - t0) / 1e9), n - s.got);
	if (api)
		printf(",\"stored\":%" PRIu64 ",\"lost_stored\":%" PRIu64,
		    stored, n - stored);
	printf(",\"event_bytes\":%.0f}\n", (double)(wb_ring[0].len +
	    wb_ring[1].len + wb_ring[2].len) / 3);
	zmq_close(pub);
	zmq_close(s.sock);
	if (api)
		zmq_close(api);
	return 0;
}

/* fill: store n events without letting the daemon's queue grow past a
 * step, so its memory afterwards is the store's, not a backlog's. */
static int
wb_fill(const char *in, const char *api_ep, uint64_t n)
{
	const uint64_t step = 50000;
	void *api = wb_api(api_ep), *pub;
	uint64_t base, sent = 0, stored = 0, t0;

	wb_ring = bench_ring();
	base = wb_stat(api, "stored");
	pub = wb_socket(ZMQ_PUB, in, false);
	bench_sleep_ns(1000000000);
	t0 = bench_now_ns();
	while (sent < n) {
		uint64_t k = n - sent < step ? n - sent : step;

		for (uint64_t i = 0; i < k; i++, sent++)
			wb_pub_send(pub, &wb_ring[(base + sent) % BENCH_RING]);
		stored = wb_wait_stored(api, base + sent) - base;
		if (stored < sent) {
			/* Lost to the queue: send them again. */
			sent = stored;
		}
	}
	printf("{\"stored\":%" PRIu64 ",\"secs\":%.3f}\n", stored,
	    (double)(bench_now_ns() - t0) / 1e9);
	zmq_close(pub);
	zmq_close(api);
	return 0;
}

/* One api client of acked: its socket and its requests in flight. */
struct wb_client {
	void		*sock;
	uint64_t	*sent_at;	/* ring of window send times */
	uint64_t	 head, tail;	/* sent, answered */
	uint64_t	 quota;		/* requests to send */
};

/* The publish request for event i. */
static size_t
wb_publish_req(msgpack_sbuffer *sb, const struct bench_event *e)
{
	msgpack_packer pk;

	sb->size = 0;
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 3);
	msgpack_pack_str_with_body(&pk, "op", 2);
	msgpack_pack_str_with_body(&pk, "publish", 7);
	msgpack_pack_str_with_body(&pk, "topic", 5);
	msgpack_pack_str_with_body(&pk, e->topic, strlen(e->topic));
	msgpack_pack_str_with_body(&pk, "event", 5);
	msgpack_sbuffer_write(sb, (const char *)e->body, e->len);
	return sb->size;
}

/* acked: clients x window publishes over DEALER sockets, one thread. */
static int
wb_acked(const char *api_ep, uint64_t nclients, uint64_t window, uint64_t n)
{
	struct wb_client *c = calloc(nclients, sizeof *c);
	zmq_pollitem_t *pi = calloc(nclients, sizeof *pi);
	struct bench_lat lat = { 0 };
	msgpack_sbuffer sb;
	uint64_t done = 0, failed = 0, next = 0, t0, t1;
	zmq_msg_t d, r;

	wb_ring = bench_ring();
	msgpack_sbuffer_init(&sb);
	for (uint64_t i = 0; i < nclients; i++) {
		c[i].sock = wb_socket(ZMQ_DEALER, api_ep, false);
		c[i].sent_at = calloc(window, sizeof *c[i].sent_at);
		c[i].quota = n / nclients + (i < n % nclients);
		pi[i].socket = c[i].sock;
		pi[i].events = ZMQ_POLLIN;
	}
	bench_sleep_ns(300000000);
	zmq_msg_init(&d);
	zmq_msg_init(&r);
	t0 = bench_now_ns();
	while (done < n) {
		for (uint64_t i = 0; i < nclients; i++) {
			struct wb_client *k = &c[i];

			while (k->head < k->quota &&
			    k->head - k->tail < window) {
				size_t len = wb_publish_req(&sb,
				    &wb_ring[next++ % BENCH_RING]);

				k->sent_at[k->head++ % window] =
				    bench_now_ns();
				zmq_send(k->sock, "", 0, ZMQ_SNDMORE);
				zmq_send(k->sock, sb.data, len, 0);
			}
		}
		if (zmq_poll(pi, (int)nclients, 30000) <= 0) {
			fprintf(stderr, "wbench: acked: no reply in 30 s\n");
			break;
		}
		for (uint64_t i = 0; i < nclients; i++) {
			struct wb_client *k = &c[i];

			if (!(pi[i].revents & ZMQ_POLLIN))
				continue;
			while (zmq_msg_recv(&d, k->sock, ZMQ_DONTWAIT) != -1) {
				struct mp_reader rd;
				struct mp_obj o;

				zmq_msg_recv(&r, k->sock, 0);
				bench_lat_add(&lat, bench_now_ns() -
				    k->sent_at[k->tail++ % window]);
				done++;
				if (wb_field(zmq_msg_data(&r),
				    zmq_msg_size(&r), "ok", &rd) == -1 ||
				    mp_read(&rd, &o) == -1 ||
				    o.type != MP_BOOL || !o.v.b)
					failed++;
			}
		}
	}
	t1 = bench_now_ns();
	printf("{\"clients\":%" PRIu64 ",\"window\":%" PRIu64 ",\"acked\":%"
	    PRIu64 ",\"failed\":%" PRIu64 ",\"secs\":%.3f,\"rate\":%.0f",
	    nclients, window, done, failed, (double)(t1 - t0) / 1e9,
	    (double)done / ((double)(t1 - t0) / 1e9));
	bench_print_lat(&lat);
	printf("}\n");
	for (uint64_t i = 0; i < nclients; i++) {
		zmq_close(c[i].sock);
		free(c[i].sent_at);
	}
	free(c);
	free(pi);
	msgpack_sbuffer_destroy(&sb);
	return 0;
}

/* e2e: a steady rate; send time to notification received. */
static int
wb_e2e(const char *in, const char *notify, uint64_t rate, uint64_t secs)
{
	uint64_t n = rate * secs, t0, interval = 1000000000ull / rate;
	struct wb_sub s = { .want = n, .e2e = true };
	struct bench_event e;
	pthread_t th;
	void *pub;

	th = wb_sub_start(&s, notify);
	pub = wb_socket(ZMQ_PUB, in, false);
	bench_sleep_ns(1000000000);
	atomic_store(&s.started, true);
	t0 = bench_now_ns();
	for (uint64_t i = 0; i < n; i++) {
		uint64_t due = t0 + i * interval, now = bench_now_ns();

		if (due > now)
			bench_sleep_ns(due - now);
		bench_event_make(&e, i, bench_now_ns());
		wb_pub_send(pub, &e);
	}
	pthread_join(th, NULL);
	printf("{\"rate\":%" PRIu64 ",\"sent\":%" PRIu64 ",\"received\":%"
	    PRIu64 ",\"seq_gaps\":%" PRIu64, rate, n, s.got, s.gaps);
	bench_print_lat(&s.lat);
	printf("}\n");
	zmq_close(pub);
	zmq_close(s.sock);
	return 0;
}

/* Send replay from_seq on a DEALER. */
static void
wb_replay_ask(void *api, msgpack_sbuffer *sb, uint64_t from)
{
	msgpack_packer pk;

	sb->size = 0;
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 3);
	msgpack_pack_str_with_body(&pk, "op", 2);
	msgpack_pack_str_with_body(&pk, "replay", 6);
	msgpack_pack_str_with_body(&pk, "from_seq", 8);
	msgpack_pack_uint64(&pk, from);
	msgpack_pack_str_with_body(&pk, "limit", 5);
	msgpack_pack_uint64(&pk, 10000);
	if (zmq_send(api, "", 0, ZMQ_SNDMORE) == -1 ||
	    zmq_send(api, sb->data, sb->size, 0) == -1)
		wb_die("replay send");
}

/*
 * replay: page through everything with the largest limit, as a client
 * that keeps up would: it reads next_seq (first in the reply), asks for
 * the next page, then walks this page's items while the daemon works.
 */
static int
wb_replay(const char *api_ep)
{
	void *api = wb_socket(ZMQ_DEALER, api_ep, false);
	msgpack_sbuffer sb;
	uint64_t items = 0, pages = 0, bytes = 0, t0, t1, last = 0;
	bool asked;
	int t = 30000;
	zmq_msg_t d, m;

	zmq_setsockopt(api, ZMQ_RCVTIMEO, &t, sizeof t);
	msgpack_sbuffer_init(&sb);
	zmq_msg_init(&d);
	zmq_msg_init(&m);
	t0 = bench_now_ns();
	wb_replay_ask(api, &sb, 1);
	for (asked = true; asked;) {
		struct mp_reader r;
		struct mp_obj o;
		const uint8_t *p;
		size_t len;
		uint64_t next, from;

		if (zmq_msg_recv(&d, api, 0) == -1 ||
		    zmq_msg_recv(&m, api, 0) == -1)
			wb_die("replay receive (is wartad up?)");
		p = zmq_msg_data(&m);
		len = zmq_msg_size(&m);
		bytes += len;
		pages++;
		next = wb_field_u64(p, len, "next_seq", 0);
		last = wb_field_u64(p, len, "last_seq", 0);
		from = next;
		asked = from <= last && next != 0;
		if (asked)
			wb_replay_ask(api, &sb, from);
		/* Walk every item, as a client reading them would. */
		if (wb_field(p, len, "items", &r) == 0 &&
		    mp_read(&r, &o) == 0 && o.type == MP_ARRAY)
			for (uint32_t i = 0; i < o.v.n; i++) {
				if (mp_skip(&r) == -1)
					break;
				items++;
			}
	}
	t1 = bench_now_ns();
	printf("{\"items\":%" PRIu64 ",\"pages\":%" PRIu64 ",\"last_seq\":%"
	    PRIu64 ",\"bytes\":%" PRIu64 ",\"secs\":%.3f,\"rate\":%.0f}\n",
	    items, pages, last, bytes, (double)(t1 - t0) / 1e9,
	    (double)items / ((double)(t1 - t0) / 1e9));
	zmq_msg_close(&d);
	zmq_msg_close(&m);
	zmq_close(api);
	msgpack_sbuffer_destroy(&sb);
	return 0;
}

/* The echo side of ref-rtt. */
static void *
wb_echo_main(void *arg)
{
	void *s = arg;
	zmq_msg_t m;

	zmq_msg_init(&m);
	for (;;) {
		int more;

		if (zmq_msg_recv(&m, s, 0) == -1)
			break;
		more = zmq_msg_more(&m);
		if (zmq_msg_send(&m, s, more ? ZMQ_SNDMORE : 0) == -1)
			break;
	}
	zmq_msg_close(&m);
	return NULL;
}

/* ref-rtt: one ZeroMQ round trip of an event-sized request. */
static int
wb_ref_rtt(const char *ep, uint64_t n)
{
	void *router = wb_socket(ZMQ_ROUTER, ep, true);
	void *dealer = wb_socket(ZMQ_DEALER, ep, false);
	struct bench_lat lat = { 0 };
	pthread_t th;
	zmq_msg_t m;

	wb_ring = bench_ring();
	pthread_create(&th, NULL, wb_echo_main, router);
	zmq_msg_init(&m);
	for (uint64_t i = 0; i < n + 100; i++) {
		uint64_t t = bench_now_ns();

		zmq_send(dealer, "", 0, ZMQ_SNDMORE);
		zmq_send(dealer, wb_ring[i % 3].body, wb_ring[i % 3].len, 0);
		zmq_msg_recv(&m, dealer, 0);
		zmq_msg_recv(&m, dealer, 0);
		if (i >= 100)
			bench_lat_add(&lat, bench_now_ns() - t);
	}
	printf("{\"what\":\"zmq_rtt\"");
	bench_print_lat(&lat);
	printf("}\n");
	fflush(stdout);
	_exit(0);	/* the echo thread blocks in its socket */
}

/* ref-lmdb: one event per durable transaction, as a lone publish. */
static int
wb_ref_lmdb(const char *dir, uint64_t n)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	struct bench_lat lat = { 0 };
	int rc;

	wb_ring = bench_ring();
	if ((rc = mdb_env_create(&env)) || (rc = mdb_env_set_maxdbs(env, 4)) ||
	    (rc = mdb_env_set_mapsize(env, 1u << 30)) ||
	    (rc = mdb_env_open(env, dir, MDB_NORDAHEAD, 0640)) ||
	    (rc = mdb_txn_begin(env, NULL, 0, &txn)) ||
	    (rc = mdb_dbi_open(txn, "events", MDB_CREATE, &dbi)) ||
	    (rc = mdb_txn_commit(txn))) {
		fprintf(stderr, "wbench: lmdb %s: %s\n", dir, mdb_strerror(rc));
		return 1;
	}
	for (uint64_t i = 1; i <= n + 10; i++) {
		uint8_t kb[8];
		MDB_val k = { 8, kb }, d = { wb_ring[i % 3].len,
		    wb_ring[i % 3].body };
		uint64_t t = bench_now_ns();

		for (int b = 0; b < 8; b++)
			kb[b] = (uint8_t)(i >> (56 - 8 * b));
		if ((rc = mdb_txn_begin(env, NULL, 0, &txn)) ||
		    (rc = mdb_put(txn, dbi, &k, &d, MDB_APPEND)) ||
		    (rc = mdb_txn_commit(txn))) {
			fprintf(stderr, "wbench: lmdb: %s\n", mdb_strerror(rc));
			return 1;
		}
		if (i > 10)
			bench_lat_add(&lat, bench_now_ns() - t);
	}
	mdb_env_close(env);
	printf("{\"what\":\"lmdb_commit\"");
	bench_print_lat(&lat);
	printf("}\n");
	return 0;
}

/* events: write the ring for the Go client. */
static int
wb_events(const char *path)
{
	FILE *f = fopen(path, "w");

	if (f == NULL) {
		perror(path);
		return 1;
	}
	wb_ring = bench_ring();
	for (size_t i = 0; i < BENCH_RING; i++) {
		uint8_t l[4] = { (uint8_t)wb_ring[i].len,
		    (uint8_t)(wb_ring[i].len >> 8), 0, 0 };

		fwrite(l, 1, 4, f);
		fwrite(wb_ring[i].body, 1, wb_ring[i].len, f);
	}
	return fclose(f) == 0 ? 0 : 1;
}

/* Dispatch on the command. */
int
main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";
	int rc = 2;

	setvbuf(stdout, NULL, _IOLBF, 0);
	wb_ctx = zmq_ctx_new();
	if (strcmp(cmd, "relay") == 0 && argc == 4)
		rc = wb_relay(argv[2], argv[3]);
	else if (strcmp(cmd, "ingest") == 0 && argc == 6)
		rc = wb_ingest(argv[2], argv[3], argv[4],
		    bench_arg_u64(argv[5]));
	else if (strcmp(cmd, "fill") == 0 && argc == 5)
		rc = wb_fill(argv[2], argv[3], bench_arg_u64(argv[4]));
	else if (strcmp(cmd, "acked") == 0 && argc == 6)
		rc = wb_acked(argv[2], bench_arg_u64(argv[3]),
		    bench_arg_u64(argv[4]), bench_arg_u64(argv[5]));
	else if (strcmp(cmd, "e2e") == 0 && argc == 6)
		rc = wb_e2e(argv[2], argv[3], bench_arg_u64(argv[4]),
		    bench_arg_u64(argv[5]));
	else if (strcmp(cmd, "replay") == 0 && argc == 3)
		rc = wb_replay(argv[2]);
	else if (strcmp(cmd, "ref-rtt") == 0 && argc == 4)
		rc = wb_ref_rtt(argv[2], bench_arg_u64(argv[3]));
	else if (strcmp(cmd, "ref-lmdb") == 0 && argc == 4)
		rc = wb_ref_lmdb(argv[2], bench_arg_u64(argv[3]));
	else if (strcmp(cmd, "events") == 0 && argc == 3)
		rc = wb_events(argv[2]);
	else
		fprintf(stderr, "usage: see the comment at the top of "
		    "bench/wbench.c\n");
	zmq_ctx_term(wb_ctx);
	return rc;
}
