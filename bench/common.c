/*
 * common.c — the event mix, clocks and latency samples of the benchmark.
 */
#include "bench/common.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <msgpack.h>

static const char *bench_countries[] = {
	"CH", "KR", "AE", "SA", "MY", "BN", "JO", "KW", "QA", "TW", "SG",
	"HK", "US", "JP"
};
#define BENCH_NCOUNTRIES (sizeof bench_countries / sizeof bench_countries[0])
#define BENCH_ENTITIES	50000	/* per type */

/* Monotonic nanoseconds. */
uint64_t
bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Sleep until ns have passed. */
void
bench_sleep_ns(uint64_t ns)
{
	struct timespec ts = { (time_t)(ns / 1000000000u),
	    (long)(ns % 1000000000u) };

	nanosleep(&ts, NULL);
}

/* Pack a NUL-terminated string. */
static void
bench_str(msgpack_packer *pk, const char *s)
{
	msgpack_pack_str_with_body(pk, s, strlen(s));
}

/* Pack key and string value. */
static void
bench_kv(msgpack_packer *pk, const char *k, const char *v)
{
	bench_str(pk, k);
	bench_str(pk, v);
}

/* Build event i of the mix, about 300 bytes of MessagePack. */
void
bench_event_make(struct bench_event *e, uint64_t i, uint64_t x_t)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	char id[32];
	const char *country = bench_countries[(i / 3) % BENCH_NCOUNTRIES];
	int64_t t0 = INT64_C(1767225600000) + (int64_t)(i % 100000) * 60000;
	int extra = x_t != 0;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	switch (i % 3) {
	case 0:
		e->topic = "meeting";
		snprintf(id, sizeof id, "mtg-%06" PRIu64,
		    (i / 3) % BENCH_ENTITIES);
		msgpack_pack_map(&pk, 10 + extra);
		bench_kv(&pk, "id", id);
		bench_kv(&pk, "action", (i / 3) % 5 ? "updated" : "scheduled");
		bench_kv(&pk, "country", country);
		bench_kv(&pk, "source", "kemnaker-kerjasama");
		bench_kv(&pk, "title", "Bilateral meeting on the placement "
		    "and protection of migrant workers");
		bench_kv(&pk, "kind", "bilateral");
		bench_str(&pk, "counterparts");
		msgpack_pack_array(&pk, 2);
		bench_str(&pk, "Ministry of Human Resources");
		bench_str(&pk, "ILO Regional Office for Asia and the Pacific");
		bench_kv(&pk, "city", "Kuala Lumpur");
		bench_str(&pk, "starts_at");
		msgpack_pack_int64(&pk, t0);
		bench_kv(&pk, "venue", "Ministry of Human Resources, Putrajaya");
		break;
	case 1:
		e->topic = "training";
		snprintf(id, sizeof id, "trn-%06" PRIu64,
		    (i / 3) % BENCH_ENTITIES);
		msgpack_pack_map(&pk, 11 + extra);
		bench_kv(&pk, "id", id);
		bench_kv(&pk, "action", (i / 3) % 4 ? "updated" : "announced");
		bench_kv(&pk, "country", country);
		bench_kv(&pk, "source", "kemnaker-kerjasama");
		bench_kv(&pk, "title", "International negotiation skills "
		    "for labour diplomacy");
		bench_kv(&pk, "provider", "JICA");
		bench_kv(&pk, "format", "workshop");
		bench_kv(&pk, "city", "Jakarta");
		bench_str(&pk, "starts_at");
		msgpack_pack_int64(&pk, t0);
		bench_str(&pk, "seats");
		msgpack_pack_uint64(&pk, 40);
		bench_kv(&pk, "notes", "Simulation of a bilateral "
		    "negotiation with a receiving country; bring case notes");
		break;
	default:
		e->topic = "attache";
		snprintf(id, sizeof id, "att-%06" PRIu64,
		    (i / 3) % BENCH_ENTITIES);
		msgpack_pack_map(&pk, 10 + extra);
		bench_kv(&pk, "id", id);
		bench_kv(&pk, "action", "report");
		bench_kv(&pk, "country", country);
		bench_kv(&pk, "source", "kemnaker-kerjasama");
		bench_kv(&pk, "person", "Budi Santoso");
		bench_kv(&pk, "role", "attache");
		bench_kv(&pk, "post", "KBRI Seoul");
		bench_kv(&pk, "city", "Seoul");
		bench_str(&pk, "effective_at");
		msgpack_pack_int64(&pk, t0);
		bench_kv(&pk, "message", "Monthly report: placement "
		    "figures, two shelter cases resolved, one pending");
		break;
	}
	if (extra) {
		bench_str(&pk, "x_t");
		msgpack_pack_uint64(&pk, x_t);
	}
	if (sb.size > sizeof e->body) {
		fprintf(stderr, "bench: event %zu bytes\n", sb.size);
		exit(1);
	}
	memcpy(e->body, sb.data, sb.size);
	e->len = sb.size;
	msgpack_sbuffer_destroy(&sb);
}

/* The ring of pre-built events every client sends from. */
struct bench_event *
bench_ring(void)
{
	struct bench_event *ring = calloc(BENCH_RING, sizeof *ring);

	if (ring == NULL)
		abort();
	for (uint64_t i = 0; i < BENCH_RING; i++)
		bench_event_make(&ring[i], i, 0);
	return ring;
}

/* Add a sample. */
void
bench_lat_add(struct bench_lat *l, uint64_t ns)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 4096;
		l->ns = realloc(l->ns, l->cap * sizeof *l->ns);
		if (l->ns == NULL)
			abort();
	}
	l->ns[l->n++] = ns;
}

/* Append src's samples to dst and free src's. */
void
bench_lat_merge(struct bench_lat *dst, struct bench_lat *src)
{
	for (size_t i = 0; i < src->n; i++)
		bench_lat_add(dst, src->ns[i]);
	bench_lat_free(src);
}

/* Compare two samples for qsort. */
static int
bench_lat_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The q-quantile (0..1) in ms of sorted samples, or -1 if none. */
static double
bench_lat_ms(const struct bench_lat *l, double q)
{
	size_t k;

	if (l->n == 0)
		return -1;
	k = (size_t)(q * (double)(l->n - 1) + 0.5);
	return (double)l->ns[k] / 1e6;
}

/* Free the samples. */
void
bench_lat_free(struct bench_lat *l)
{
	free(l->ns);
	memset(l, 0, sizeof *l);
}

/* Print ,"p50_ms":..,"p99_ms":..,"p999_ms":..,"samples":.. */
void
bench_print_lat(struct bench_lat *l)
{
	if (l->n > 0)
		qsort(l->ns, l->n, sizeof *l->ns, bench_lat_cmp);
	printf(",\"p50_ms\":%.4f,\"p99_ms\":%.4f,\"p999_ms\":%.4f,"
	    "\"samples\":%zu", bench_lat_ms(l, 0.5), bench_lat_ms(l, 0.99),
	    bench_lat_ms(l, 0.999), l->n);
}

/* A number argument, or exit. */
uint64_t
bench_arg_u64(const char *s)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);

	if (*s == '\0' || *end != '\0') {
		fprintf(stderr, "bench: not a number: %s\n", s);
		exit(2);
	}
	return v;
}
