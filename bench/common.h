/*
 * common.h — what every benchmark client shares: the event mix, clocks,
 * latency samples and the JSON line each run prints.
 */
#ifndef WARTA_BENCH_COMMON_H
#define WARTA_BENCH_COMMON_H

#include <stddef.h>
#include <stdint.h>

#define BENCH_EVENT_MAX	512
#define BENCH_RING	30000	/* distinct pre-built events */

/* A pre-built event: the ingest topic and its MessagePack body. */
struct bench_event {
	const char	*topic;		/* meeting, training, attache */
	uint8_t		 body[BENCH_EVENT_MAX];
	size_t		 len;
};

/* Latency samples in nanoseconds. */
struct bench_lat {
	uint64_t	*ns;
	size_t		 n, cap;
};

uint64_t	 bench_now_ns(void);
void		 bench_sleep_ns(uint64_t);
/* Event i of the mix (meeting, training, attache in turn; entities
 * reused so that history and latest are updated); x_t, when not 0, is
 * carried as the key x_t for end-to-end latency. */
void		 bench_event_make(struct bench_event *, uint64_t i,
		     uint64_t x_t);
/* Events 0..BENCH_RING-1 of the mix, without x_t; exits when out of
 * memory. */
struct bench_event *bench_ring(void);
void		 bench_lat_add(struct bench_lat *, uint64_t ns);
/* Move a client's samples into the run's: src is left empty. */
void		 bench_lat_merge(struct bench_lat *dst, struct bench_lat *src);
void		 bench_lat_free(struct bench_lat *);
/* Print the latency fields of a JSON line: ,"p50_ms":..,"p99_ms":..;
 * sorts the samples. */
void		 bench_print_lat(struct bench_lat *);
uint64_t	 bench_arg_u64(const char *);

#endif
