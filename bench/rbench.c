/*
 * rbench.c — the Redis peer's client (hiredis): XADD of the same events,
 * pipelined by many clients, and XRANGE paging for replay.
 *
 *   rbench pipe PORT CLIENTS DEPTH N   each client sends DEPTH XADDs, then
 *                                      reads DEPTH replies, until N in all
 *   rbench replay PORT                 XRANGE by 10000 through the stream
 *
 * A reply's latency is from the moment its pipeline was written to the
 * moment the reply was read.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "bench/common.h"

#define RB_KEY		"warta"

static struct bench_event *rb_ring;
static int rb_port;

/* One client thread. */
struct rb_client {
	pthread_t	 th;
	uint64_t	 quota, first, depth, failed;
	struct bench_lat lat;
};

/* Connect or exit. */
static redisContext *
rb_connect(void)
{
	redisContext *c = redisConnect("127.0.0.1", rb_port);

	if (c == NULL || c->err) {
		fprintf(stderr, "rbench: connect: %s\n", c ? c->errstr : "?");
		exit(1);
	}
	return c;
}

/* Send pipelines of depth XADDs until the quota is done. */
static void *
rb_client_main(void *arg)
{
	struct rb_client *k = arg;
	redisContext *c = rb_connect();
	uint64_t done = 0, i = k->first;

	while (done < k->quota) {
		uint64_t n = k->quota - done < k->depth ? k->quota - done :
		    k->depth, t0;
		int wdone = 0;

		for (uint64_t j = 0; j < n; j++, i++) {
			const struct bench_event *e = &rb_ring[i % BENCH_RING];

			redisAppendCommand(c, "XADD %s * t %s e %b", RB_KEY,
			    e->topic, e->body, e->len);
		}
		t0 = bench_now_ns();
		while (!wdone)
			if (redisBufferWrite(c, &wdone) == REDIS_ERR) {
				fprintf(stderr, "rbench: %s\n", c->errstr);
				exit(1);
			}
		for (uint64_t j = 0; j < n; j++) {
			redisReply *r;

			if (redisGetReply(c, (void **)&r) != REDIS_OK) {
				fprintf(stderr, "rbench: %s\n", c->errstr);
				exit(1);
			}
			if (r->type != REDIS_REPLY_STRING)
				k->failed++;
			freeReplyObject(r);
			bench_lat_add(&k->lat, bench_now_ns() - t0);
		}
		done += n;
	}
	redisFree(c);
	return NULL;
}

/* pipe: clients x depth XADDs. */
static int
rb_pipe(uint64_t nclients, uint64_t depth, uint64_t n)
{
	struct rb_client *k = calloc(nclients, sizeof *k);
	struct bench_lat all = { 0 };
	uint64_t t0, t1, failed = 0, first = 0;

	for (uint64_t i = 0; i < nclients; i++) {
		k[i].quota = n / nclients + (i < n % nclients);
		k[i].first = first;
		k[i].depth = depth;
		first += k[i].quota;
	}
	t0 = bench_now_ns();
	for (uint64_t i = 0; i < nclients; i++)
		pthread_create(&k[i].th, NULL, rb_client_main, &k[i]);
	for (uint64_t i = 0; i < nclients; i++) {
		pthread_join(k[i].th, NULL);
		bench_lat_merge(&all, &k[i].lat);
		failed += k[i].failed;
	}
	t1 = bench_now_ns();
	printf("{\"clients\":%" PRIu64 ",\"window\":%" PRIu64 ",\"acked\":%"
	    PRIu64 ",\"failed\":%" PRIu64 ",\"secs\":%.3f,\"rate\":%.0f", nclients,
	    depth, n, failed, (double)(t1 - t0) / 1e9,
	    (double)n / ((double)(t1 - t0) / 1e9));
	bench_print_lat(&all);
	printf("}\n");
	free(k);
	return 0;
}

/* replay: XRANGE pages of 10000 from the start, exclusive of the last. */
static int
rb_replay(void)
{
	redisContext *c = rb_connect();
	char start[64] = "-";
	uint64_t items = 0, pages = 0, t0 = bench_now_ns(), t1;

	for (;;) {
		redisReply *r = redisCommand(c, "XRANGE %s %s + COUNT 10000",
		    RB_KEY, start);

		if (r == NULL || r->type != REDIS_REPLY_ARRAY) {
			fprintf(stderr, "rbench: XRANGE failed\n");
			return 1;
		}
		pages++;
		if (r->elements == 0) {
			freeReplyObject(r);
			break;
		}
		items += r->elements;
		snprintf(start, sizeof start, "(%s",
		    r->element[r->elements - 1]->element[0]->str);
		freeReplyObject(r);
	}
	t1 = bench_now_ns();
	printf("{\"items\":%" PRIu64 ",\"pages\":%" PRIu64 ",\"secs\":%.3f,"
	    "\"rate\":%.0f}\n", items, pages, (double)(t1 - t0) / 1e9,
	    (double)items / ((double)(t1 - t0) / 1e9));
	redisFree(c);
	return 0;
}

/* Dispatch on the command. */
int
main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 3) {
		fprintf(stderr, "usage: see bench/rbench.c\n");
		return 2;
	}
	rb_port = (int)bench_arg_u64(argv[2]);
	rb_ring = bench_ring();
	if (strcmp(argv[1], "pipe") == 0 && argc == 6)
		return rb_pipe(bench_arg_u64(argv[3]), bench_arg_u64(argv[4]),
		    bench_arg_u64(argv[5]));
	if (strcmp(argv[1], "replay") == 0 && argc == 3)
		return rb_replay();
	fprintf(stderr, "usage: see bench/rbench.c\n");
	return 2;
}
