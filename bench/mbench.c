/*
 * mbench.c — the Mosquitto peer's client (libmosquitto): QoS 1 publishes
 * of the same events, WINDOW in flight per client, latency to PUBACK.
 *
 *   mbench pub PORT CLIENTS WINDOW N
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mosquitto.h>

#include "bench/common.h"

static struct bench_event *mb_ring;
static int mb_port;

/* One publishing client: its connection and the send time of each mid. */
struct mb_client {
	pthread_t	 th;
	struct mosquitto *m;
	uint64_t	 quota, first, window;
	atomic_uint_fast64_t acked;
	uint64_t	 sent_at[65536];
	pthread_mutex_t	 mtx;
	pthread_cond_t	 cv;
	struct bench_lat lat;
};

/* PUBACK: the broker has the message. */
static void
mb_on_publish(struct mosquitto *m, void *arg, int mid)
{
	struct mb_client *k = arg;

	(void)m;
	pthread_mutex_lock(&k->mtx);
	bench_lat_add(&k->lat, bench_now_ns() - k->sent_at[mid & 0xffff]);
	atomic_fetch_add(&k->acked, 1);
	pthread_cond_signal(&k->cv);
	pthread_mutex_unlock(&k->mtx);
}

/* Publish the quota, window in flight. */
static void *
mb_client_main(void *arg)
{
	struct mb_client *k = arg;
	uint64_t sent = 0;
	int next_mid = 0;

	while (sent < k->quota) {
		const struct bench_event *e = &mb_ring[(k->first + sent) %
		    BENCH_RING];
		char topic[64];
		int mid;

		pthread_mutex_lock(&k->mtx);
		while (sent - atomic_load(&k->acked) >= k->window)
			pthread_cond_wait(&k->cv, &k->mtx);
		pthread_mutex_unlock(&k->mtx);
		snprintf(topic, sizeof topic, "warta/%s", e->topic);
		/* libmosquitto numbers messages 1..65535 in turn; the send
		   time is stored under the mid before PUBACK can come. */
		next_mid = next_mid == 65535 ? 1 : next_mid + 1;
		k->sent_at[next_mid] = bench_now_ns();
		if (mosquitto_publish(k->m, &mid, topic, (int)e->len,
		    e->body, 1, false) != MOSQ_ERR_SUCCESS || mid != next_mid) {
			fprintf(stderr, "mbench: publish failed (mid %d)\n",
			    mid);
			exit(1);
		}
		sent++;
	}
	pthread_mutex_lock(&k->mtx);
	while (atomic_load(&k->acked) < k->quota)
		pthread_cond_wait(&k->cv, &k->mtx);
	pthread_mutex_unlock(&k->mtx);
	return NULL;
}

/* pub: clients x window QoS 1 publishes. */
static int
mb_pub(uint64_t nclients, uint64_t window, uint64_t n)
{
	struct mb_client *k = calloc(nclients, sizeof *k);
	struct bench_lat all = { 0 };
	uint64_t t0, t1, first = 0;

	mosquitto_lib_init();
	for (uint64_t i = 0; i < nclients; i++) {
		char id[32];

		snprintf(id, sizeof id, "bench-%" PRIu64, i);
		k[i].quota = n / nclients + (i < n % nclients);
		k[i].first = first;
		k[i].window = window;
		first += k[i].quota;
		pthread_mutex_init(&k[i].mtx, NULL);
		pthread_cond_init(&k[i].cv, NULL);
		k[i].m = mosquitto_new(id, true, &k[i]);
		mosquitto_publish_callback_set(k[i].m, mb_on_publish);
		mosquitto_max_inflight_messages_set(k[i].m,
		    (unsigned)window);
		if (mosquitto_connect(k[i].m, "127.0.0.1", mb_port, 60) !=
		    MOSQ_ERR_SUCCESS) {
			fprintf(stderr, "mbench: cannot connect\n");
			return 1;
		}
		mosquitto_loop_start(k[i].m);
	}
	t0 = bench_now_ns();
	for (uint64_t i = 0; i < nclients; i++)
		pthread_create(&k[i].th, NULL, mb_client_main, &k[i]);
	for (uint64_t i = 0; i < nclients; i++) {
		pthread_join(k[i].th, NULL);
		bench_lat_merge(&all, &k[i].lat);
	}
	t1 = bench_now_ns();
	printf("{\"clients\":%" PRIu64 ",\"window\":%" PRIu64 ",\"acked\":%"
	    PRIu64 ",\"secs\":%.3f,\"rate\":%.0f", nclients, window, n,
	    (double)(t1 - t0) / 1e9, (double)n / ((double)(t1 - t0) / 1e9));
	bench_print_lat(&all);
	printf("}\n");
	for (uint64_t i = 0; i < nclients; i++) {
		mosquitto_disconnect(k[i].m);
		mosquitto_loop_stop(k[i].m, false);
		mosquitto_destroy(k[i].m);
	}
	mosquitto_lib_cleanup();
	free(k);
	return 0;
}

/* Dispatch on the command. */
int
main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc != 6 || strcmp(argv[1], "pub") != 0) {
		fprintf(stderr, "usage: mbench pub PORT CLIENTS WINDOW N\n");
		return 2;
	}
	mb_port = (int)bench_arg_u64(argv[2]);
	mb_ring = bench_ring();
	return mb_pub(bench_arg_u64(argv[3]), bench_arg_u64(argv[4]),
	    bench_arg_u64(argv[5]));
}
