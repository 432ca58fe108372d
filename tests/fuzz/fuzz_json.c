/*
 * fuzz_json.c — libFuzzer target for HTTP's JSON mapping, both ways:
 * a POSTed body (JSON through jansson, clients/mpjson.c, into MessagePack
 * and event validation) and what the daemon sends out (MessagePack bodies
 * through daemon/jsonmap.c into the JSON of /v1/ replies, SSE `data:`
 * lines and webhook bodies).  `x_` values are opaque, so any MessagePack
 * can reach jsonmap.
 *
 * The first byte picks the direction (even: JSON in, odd: MessagePack
 * out); the rest is the input.  Properties checked, each an abort() when
 * broken:
 *  - JSON that mpjson packs is one whole MessagePack value, as mp_check()
 *    and (within its 32 levels) msgpack-c agree;
 *  - jsonmap_dumps() of any well-formed MessagePack value gives JSON that jansson reads
 *    back (but for a NUL in a key, valid JSON its reader refuses), on one
 *    line (an SSE `data:` line must not break).
 *
 * Built by `make fuzz` with clang's libFuzzer; tests/fuzz/replay.c replays
 * tests/fuzz/corpus/json/ through it in every `make test`.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <msgpack.h>

#include "clients/mpjson.h"
#include "daemon/wartad.h"
#include "handlers/handlers.h"
#include "schema/mp.h"

#define FUZZ_JSON_DEPTH	24	/* containers jsonmap is given, and more */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* MessagePack out: jsonmap_dumps() gives one line of valid JSON. */
static void
fuzz_json_out(const uint8_t *buf, size_t size)
{
	json_error_t jerr;
	json_t *j;
	char *s;

	/* Only well-formed MessagePack reaches jsonmap: stored bodies and the
	   daemon's replies, at most 2 + 1 + 16 deep (items, body, event).
	   msgpack-c would allocate for a huge header up front, before finding
	   there is no data, and refuses more than 32 levels. */
	if (mp_check(buf, size, FUZZ_JSON_DEPTH) != MP_OK)
		return;
	if ((s = jsonmap_dumps(buf, size)) == NULL)
		abort();
	if (strchr(s, '\n') != NULL)
		abort();
	/* JSON allows "\u0000" in a key (an x_ key may hold a NUL); jansson's
	   reader alone refuses it. */
	j = json_loads(s, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
	if (j == NULL && strstr(jerr.text, "NUL byte in object key") == NULL)
		abort();
	json_decref(j);
	free(s);
}

/* JSON in: what mpjson packs is whole MessagePack; validate it as an
 * event of each type, then send it out again. */
static void
fuzz_json_in(const uint8_t *buf, size_t size)
{
	json_error_t jerr;
	msgpack_sbuffer sb;
	msgpack_unpacked u;
	struct schema_err err;
	struct event ev;
	char *cause = NULL;
	size_t off = 0;
	json_t *j;

	j = json_loadb((const char *)buf, size, JSON_REJECT_DUPLICATES, &jerr);
	if (j == NULL)
		return;
	if (mpjson_pack_buffer(&sb, j, &cause) == 0) {
		enum mp_check_result res = mp_check(sb.data, sb.size,
		    MP_CHECK_DEPTH_LIMIT);

		/* JSON nests deeper than mp_check() follows, and than msgpack-c
		   reads (32 levels). */
		if (res != MP_OK && res != MP_ERR_DEPTH)
			abort();
		msgpack_unpacked_init(&u);
		if (mp_check(sb.data, sb.size, FUZZ_JSON_DEPTH) == MP_OK &&
		    (msgpack_unpack_next(&u, sb.data, sb.size, &off) !=
		    MSGPACK_UNPACK_SUCCESS || off != sb.size))
			abort();
		msgpack_unpacked_destroy(&u);
		for (size_t i = 0; handlers[i] != NULL; i++)
			schema_decode_event(handlers[i], (const uint8_t *)sb.data,
			    sb.size, 123, &ev, &err);
		fuzz_json_out((const uint8_t *)sb.data, sb.size);
	} else if (cause == NULL)
		abort();
	free(cause);
	msgpack_sbuffer_destroy(&sb);
	json_decref(j);
}

/* One input. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *buf;

	if (size < 1)
		return 0;
	/* A copy of exactly size - 1 bytes, so ASan sees any over-read. */
	buf = malloc(size);
	memcpy(buf, data + 1, size - 1);
	if (data[0] % 2 == 0)
		fuzz_json_in(buf, size - 1);
	else
		fuzz_json_out(buf, size - 1);
	free(buf);
	return 0;
}
