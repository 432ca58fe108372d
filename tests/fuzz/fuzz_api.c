/*
 * fuzz_api.c — libFuzzer target for the api request parser (api.c's
 * api_parse(), through api_parse_request(): no socket, no store).
 *
 * The input is one request frame.  Properties checked, each an abort()
 * when broken:
 *  - a refused request gets exactly one MessagePack map
 *    {ok: false, error: "bad_request", detail}, detail a non-empty line of
 *    valid UTF-8 (clients decode it as a string);
 *  - an accepted request names one of the ops and packs nothing.
 *
 * Built by `make fuzz` with clang's libFuzzer; tests/fuzz/replay.c replays
 * tests/fuzz/corpus/api/ through it in every `make test`.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

#include "daemon/wartad.h"
#include "schema/mp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Whether o is the string s. */
static int
fuzz_api_is(const msgpack_object *o, const char *s)
{
	return o->type == MSGPACK_OBJECT_STR && o->via.str.size == strlen(s) &&
	    memcmp(o->via.str.ptr, s, o->via.str.size) == 0;
}

/* Check a bad_request reply. */
static void
fuzz_api_check_reply(const msgpack_sbuffer *out)
{
	msgpack_unpacked u;
	const msgpack_object_kv *kv;
	size_t off = 0;

	msgpack_unpacked_init(&u);
	if (msgpack_unpack_next(&u, out->data, out->size, &off) !=
	    MSGPACK_UNPACK_SUCCESS || off != out->size ||
	    u.data.type != MSGPACK_OBJECT_MAP || u.data.via.map.size != 3)
		abort();
	kv = u.data.via.map.ptr;
	if (!fuzz_api_is(&kv[0].key, "ok") ||
	    kv[0].val.type != MSGPACK_OBJECT_BOOLEAN || kv[0].val.via.boolean ||
	    !fuzz_api_is(&kv[1].key, "error") ||
	    !fuzz_api_is(&kv[1].val, "bad_request") ||
	    !fuzz_api_is(&kv[2].key, "detail") ||
	    kv[2].val.type != MSGPACK_OBJECT_STR ||
	    kv[2].val.via.str.size == 0 ||
	    memchr(kv[2].val.via.str.ptr, '\n', kv[2].val.via.str.size) ||
	    !mp_utf8_valid(kv[2].val.via.str.ptr, kv[2].val.via.str.size))
		abort();
	msgpack_unpacked_destroy(&u);
}

/* One input. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const ops[] = {
		"ping", "publish", "get", "list", "replay", "stats", "rejects",
		NULL
	};
	msgpack_sbuffer out;
	const char *op;
	uint8_t *buf;
	int i;

	/* A copy of exactly size bytes, so ASan sees any over-read. */
	buf = malloc(size ? size : 1);
	memcpy(buf, data, size);
	msgpack_sbuffer_init(&out);
	if ((op = api_parse_request(buf, size, &out)) == NULL)
		fuzz_api_check_reply(&out);
	else {
		for (i = 0; ops[i] != NULL; i++)
			if (strcmp(op, ops[i]) == 0)
				break;
		if (ops[i] == NULL || out.size != 0)
			abort();
	}
	msgpack_sbuffer_destroy(&out);
	free(buf);
	return 0;
}
