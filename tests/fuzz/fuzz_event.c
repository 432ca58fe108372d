/*
 * fuzz_event.c — libFuzzer target for the ingest path's parsers: the
 * bounded MessagePack reader and event validation (schema/, handlers/).
 *
 * The first byte picks the type (handlers[] order); the rest is the body.
 * Properties checked, each an abort() when broken:
 *  - a body mp_check() accepts is read whole by mp_skip() and by msgpack-c;
 *  - an accepted event, encoded as stored, validates again with its
 *    defaults in place (nothing left to add);
 *  - a rejection's detail is one non-empty line of valid UTF-8.
 *
 * Built by `make fuzz` with clang's libFuzzer; tests/fuzz/replay.c replays
 * tests/fuzz/corpus/event/ through it in every `make test`.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

#include "handlers/handlers.h"
#include "schema/mp.h"
#include "schema/schema.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Check msgpack-c agrees that an mp_check()ed body is one whole value. */
static void
fuzz_event_check_reader(const uint8_t *buf, size_t size)
{
	struct mp_reader r;
	msgpack_unpacked u;
	size_t off = 0;

	mp_reader_init(&r, buf, size);
	if (mp_skip(&r) != 0 || r.p != r.end)
		abort();
	msgpack_unpacked_init(&u);
	if (msgpack_unpack_next(&u, (const char *)buf, size, &off) !=
	    MSGPACK_UNPACK_SUCCESS || off != size)
		abort();
	msgpack_unpacked_destroy(&u);
}

/* One input. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct handler *h;
	struct event ev, ev2;
	struct schema_err err;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	uint8_t *buf;
	size_t ntypes = 0;

	if (size < 1)
		return 0;
	while (handlers[ntypes] != NULL)
		ntypes++;
	h = handlers[data[0] % ntypes];
	data++;
	size--;
	/* A copy of exactly size bytes, so ASan sees any over-read. */
	buf = malloc(size ? size : 1);
	memcpy(buf, data, size);
	if (mp_check(buf, size, SCHEMA_MAX_DEPTH) == MP_OK)
		fuzz_event_check_reader(buf, size);
	if (schema_decode_event(h, buf, size, 123, &ev, &err) == 0) {
		msgpack_sbuffer_init(&sb);
		msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
		schema_encode_event(&ev, &pk);
		if (schema_decode_event(h, sb.data, sb.size, 456, &ev2,
		    &err) != 0 || ev2.add_priority || !ev2.has_occurred_at)
			abort();
		msgpack_sbuffer_destroy(&sb);
	} else if (err.detail[0] == '\0' || strchr(err.detail, '\n') ||
	    !mp_utf8_valid(err.detail, strlen(err.detail)))
		abort();
	free(buf);
	return 0;
}
