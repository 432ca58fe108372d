/*
 * test_schema.c — event decoding and validation (schema/, handlers/).
 *
 * Events are built with msgpack-c's packer: tev_base() writes a valid event
 * of a type minus the keys a test names, and the test adds its own.  Each
 * rule of PROTOCOL.md sections 4 and 10 has an accepted and a rejected
 * case; rejections check the reason and the exact detail, which names the
 * field, the problem and the limit.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <msgpack.h>

#include "handlers/handlers.h"
#include "schema/mp.h"
#include "schema/schema.h"

#define RECEIVED	INT64_C(1700000000000)
#define STARTS		INT64_C(1767225600000)

/* An event being built: the pairs, counted, then the map around them. */
struct tev {
	msgpack_sbuffer	 body;
	msgpack_packer	 pk;
	uint32_t	 n;
	msgpack_sbuffer	 out;
	int		 map_hdr;	/* 0 minimal, 16 or 32: map16/map32 */
};

/* Start an empty event. */
static void
tev_init(struct tev *t)
{
	memset(t, 0, sizeof *t);
	msgpack_sbuffer_init(&t->body);
	msgpack_sbuffer_init(&t->out);
	msgpack_packer_init(&t->pk, &t->body, msgpack_sbuffer_write);
}

/* Free an event's buffers. */
static void
tev_free(struct tev *t)
{
	msgpack_sbuffer_destroy(&t->body);
	msgpack_sbuffer_destroy(&t->out);
}

/* Write a key; the caller packs its value with t->pk. */
static void
tev_key(struct tev *t, const char *k)
{
	msgpack_pack_str_with_body(&t->pk, k, strlen(k));
	t->n++;
}

/* Add key: string of len bytes. */
static void
tev_strn(struct tev *t, const char *k, const char *v, size_t len)
{
	tev_key(t, k);
	msgpack_pack_str_with_body(&t->pk, v, len);
}

/* Add key: string. */
static void
tev_str(struct tev *t, const char *k, const char *v)
{
	tev_strn(t, k, v, strlen(v));
}

/* Add key: a string of len copies of c. */
static void
tev_fill(struct tev *t, const char *k, char c, size_t len)
{
	char	*s = malloc(len + 1);

	memset(s, c, len);
	tev_strn(t, k, s, len);
	free(s);
}

/* Add key: integer (msgpack-c's smallest encoding). */
static void
tev_int(struct tev *t, const char *k, int64_t v)
{
	tev_key(t, k);
	msgpack_pack_int64(&t->pk, v);
}

/* Add key: unsigned integer. */
static void
tev_uint(struct tev *t, const char *k, uint64_t v)
{
	tev_key(t, k);
	msgpack_pack_uint64(&t->pk, v);
}

/* Add key: value given as raw MessagePack bytes. */
static void
tev_raw(struct tev *t, const char *k, const void *v, size_t len)
{
	tev_key(t, k);
	msgpack_sbuffer_write(&t->body, v, len);
}

/* Add key: array of the NULL-terminated strings. */
static void
tev_strs(struct tev *t, const char *k, const char *const *v)
{
	uint32_t	n = 0;

	while (v[n] != NULL)
		n++;
	tev_key(t, k);
	msgpack_pack_array(&t->pk, n);
	for (n = 0; v[n] != NULL; n++)
		msgpack_pack_str_with_body(&t->pk, v[n], strlen(v[n]));
}

/* Add key: array of n strings "item0", "item1", ... */
static void
tev_nstrs(struct tev *t, const char *k, uint32_t n)
{
	char		s[32];
	uint32_t	i;

	tev_key(t, k);
	msgpack_pack_array(&t->pk, n);
	for (i = 0; i < n; i++) {
		snprintf(s, sizeof s, "item%" PRIu32, i);
		msgpack_pack_str_with_body(&t->pk, s, strlen(s));
	}
}

/* True when key is one of the space-separated words in skip. */
static int
skipped(const char *skip, const char *key)
{
	size_t		 len = strlen(key);
	const char	*p = skip;

	while (p != NULL && (p = strstr(p, key)) != NULL) {
		if ((p == skip || p[-1] == ' ') &&
		    (p[len] == ' ' || p[len] == '\0'))
			return (1);
		p += len;
	}
	return (0);
}

static const char *const one_counterpart[] = {
	"Swiss State Secretariat for Migration", NULL
};

/* A valid event of type with only the required keys, less those in skip
   (the harness's defaults in tests/blackbox). */
static void
tev_base(struct tev *t, const char *type, const char *skip)
{
	tev_init(t);
	if (strcmp(type, "meeting") == 0) {
		if (!skipped(skip, "id"))
			tev_str(t, "id", "m-1");
		if (!skipped(skip, "action"))
			tev_str(t, "action", "scheduled");
		if (!skipped(skip, "country"))
			tev_str(t, "country", "CH");
		if (!skipped(skip, "title"))
			tev_str(t, "title",
			    "Bilateral meeting on labour migration");
		if (!skipped(skip, "kind"))
			tev_str(t, "kind", "bilateral");
		if (!skipped(skip, "counterparts"))
			tev_strs(t, "counterparts", one_counterpart);
		if (!skipped(skip, "starts_at"))
			tev_int(t, "starts_at", STARTS);
	} else if (strcmp(type, "training") == 0) {
		if (!skipped(skip, "id"))
			tev_str(t, "id", "t-1");
		if (!skipped(skip, "action"))
			tev_str(t, "action", "announced");
		if (!skipped(skip, "country"))
			tev_str(t, "country", "ID");
		if (!skipped(skip, "title"))
			tev_str(t, "title", "International negotiation skills");
		if (!skipped(skip, "provider"))
			tev_str(t, "provider", "JICA");
		if (!skipped(skip, "format"))
			tev_str(t, "format", "workshop");
		if (!skipped(skip, "starts_at"))
			tev_int(t, "starts_at", STARTS);
	} else if (strcmp(type, "attache") == 0) {
		if (!skipped(skip, "id"))
			tev_str(t, "id", "a-1");
		if (!skipped(skip, "action"))
			tev_str(t, "action", "arrived");
		if (!skipped(skip, "country"))
			tev_str(t, "country", "KR");
		if (!skipped(skip, "person"))
			tev_str(t, "person", "Budi Santoso");
		if (!skipped(skip, "role"))
			tev_str(t, "role", "attache");
		if (!skipped(skip, "post"))
			tev_str(t, "post", "KBRI Seoul");
	} else
		fail_msg("no base event for %s", type);
}

/* A valid event of type with every optional key too, less those in skip. */
static void
tev_full(struct tev *t, const char *type, const char *skip)
{
	static const char *const agenda[] = {
		"placement", "protection", "", NULL
	};

	tev_base(t, type, skip);
	if (!skipped(skip, "msg_id"))
		tev_str(t, "msg_id", "producer-1:42");
	if (!skipped(skip, "source"))
		tev_str(t, "source", "sikap");
	if (!skipped(skip, "occurred_at"))
		tev_int(t, "occurred_at", STARTS - 86400000);
	if (!skipped(skip, "city"))
		tev_str(t, "city", "Bern");
	if (strcmp(type, "attache") != 0 && !skipped(skip, "venue"))
		tev_str(t, "venue", "Palais des Nations");
	if (strcmp(type, "attache") != 0 && !skipped(skip, "ends_at"))
		tev_int(t, "ends_at", STARTS + 3600000);
	if (strcmp(type, "attache") != 0 && !skipped(skip, "notes"))
		tev_str(t, "notes", "Follow-up of the 2025 MoU.");
	if (strcmp(type, "meeting") == 0) {
		if (!skipped(skip, "agenda"))
			tev_strs(t, "agenda", agenda);
		if (!skipped(skip, "delegation"))
			tev_strs(t, "delegation", one_counterpart);
	} else if (strcmp(type, "training") == 0) {
		if (!skipped(skip, "seats"))
			tev_int(t, "seats", 30);
		if (!skipped(skip, "participants"))
			tev_int(t, "participants", 12);
		if (!skipped(skip, "audience"))
			tev_strs(t, "audience", agenda);
	} else {
		if (!skipped(skip, "effective_at"))
			tev_int(t, "effective_at", STARTS + 7);
		if (!skipped(skip, "priority"))
			tev_str(t, "priority", "urgent");
		if (!skipped(skip, "message"))
			tev_str(t, "message", "Arrived in Seoul.");
		if (!skipped(skip, "contact")) {
			tev_key(t, "contact");
			msgpack_pack_map(&t->pk, 2);
			msgpack_pack_str_with_body(&t->pk, "phone", 5);
			msgpack_pack_str_with_body(&t->pk, "+82 2 224 5011", 14);
			msgpack_pack_str_with_body(&t->pk, "email", 5);
			msgpack_pack_str_with_body(&t->pk, "a@kbri.kr", 9);
		}
	}
}

/* Put the map header in front of the pairs; returns the event's bytes. */
static const char *
tev_end(struct tev *t, size_t *len)
{
	msgpack_packer	pk;
	uint8_t		hdr[5];

	t->out.size = 0;
	msgpack_packer_init(&pk, &t->out, msgpack_sbuffer_write);
	if (t->map_hdr == 16) {
		hdr[0] = 0xde;
		hdr[1] = (uint8_t)(t->n >> 8);
		hdr[2] = (uint8_t)t->n;
		msgpack_sbuffer_write(&t->out, (char *)hdr, 3);
	} else if (t->map_hdr == 32) {
		hdr[0] = 0xdf;
		hdr[1] = (uint8_t)(t->n >> 24);
		hdr[2] = (uint8_t)(t->n >> 16);
		hdr[3] = (uint8_t)(t->n >> 8);
		hdr[4] = (uint8_t)t->n;
		msgpack_sbuffer_write(&t->out, (char *)hdr, 5);
	} else
		msgpack_pack_map(&pk, t->n);
	if (t->body.size > 0)
		msgpack_sbuffer_write(&t->out, t->body.data, t->body.size);
	*len = t->out.size;
	return (t->out.data);
}

/* The handler of a type; the test fails when there is none. */
static const struct handler *
H(const char *type)
{
	const struct handler	*h = handlers_find(type, strlen(type));

	assert_non_null(h);
	return (h);
}

/* Decode t as type. */
static int
tev_decode(struct tev *t, const char *type, struct event *ev,
    struct schema_err *err)
{
	const char	*buf;
	size_t		 len;

	buf = tev_end(t, &len);
	return (schema_decode_event(H(type), buf, len, RECEIVED, ev, err));
}

/* Decoding t as type succeeds; frees t. */
static void
expect_ok(struct tev *t, const char *type)
{
	struct event		ev;
	struct schema_err	err;

	if (tev_decode(t, type, &ev, &err) != 0)
		fail_msg("%s rejected: %s: %s", type,
		    schema_reason_name(err.reason), err.detail);
	tev_free(t);
}

/* Decoding t as type fails for reason with exactly detail; frees t. */
static void
expect_fail(struct tev *t, const char *type, enum reason reason,
    const char *detail)
{
	struct event		ev;
	struct schema_err	err;

	assert_int_equal(tev_decode(t, type, &ev, &err), -1);
	assert_string_equal(schema_reason_name(err.reason),
	    schema_reason_name(reason));
	assert_string_equal(err.detail, detail);
	assert_true(mp_utf8_valid(err.detail, strlen(err.detail)));
	tev_free(t);
}

/* Decoding t as type fails for reason schema with exactly detail. */
static void
expect_schema(struct tev *t, const char *type, const char *detail)
{
	expect_fail(t, type, REASON_SCHEMA, detail);
}

/* Decode raw bytes as a meeting; returns the result, err filled. */
static int
decode_raw(const void *buf, size_t len, struct schema_err *err)
{
	struct event	ev;

	return (schema_decode_event(H("meeting"), buf, len, RECEIVED, &ev,
	    err));
}

/* ---------------------------------------------------------------- */
/* Valid events                                                      */

/* The minimal event of each type (the harness's) is accepted. */
static void
test_minimal_events_ok(void **state)
{
	struct tev	t;

	tev_base(&t, "meeting", NULL);
	expect_ok(&t, "meeting");
	tev_base(&t, "training", NULL);
	expect_ok(&t, "training");
	tev_base(&t, "attache", NULL);
	expect_ok(&t, "attache");
}

/* An event with every optional key of its type is accepted. */
static void
test_full_events_ok(void **state)
{
	struct tev	t;

	tev_full(&t, "meeting", NULL);
	expect_ok(&t, "meeting");
	tev_full(&t, "training", NULL);
	expect_ok(&t, "training");
	tev_full(&t, "attache", NULL);
	expect_ok(&t, "attache");
}

/* Key order does not matter: the required keys may come in any order. */
static void
test_key_order_free(void **state)
{
	struct tev	t;

	tev_init(&t);
	tev_int(&t, "starts_at", STARTS);
	tev_strs(&t, "counterparts", one_counterpart);
	tev_str(&t, "kind", "regional");
	tev_str(&t, "title", "ASEAN labour ministers");
	tev_str(&t, "country", "MY");
	tev_str(&t, "action", "scheduled");
	tev_str(&t, "id", "m-2");
	expect_ok(&t, "meeting");
}

/* Every action of every type is accepted with a full snapshot. */
static void
test_every_action_ok(void **state)
{
	const struct handler *const	*h;
	const char *const		*a;
	struct tev			 t;

	for (h = handlers; *h != NULL; h++) {
		for (a = (*h)->actions; *a != NULL; a++) {
			tev_full(&t, (*h)->type, "action");
			tev_str(&t, "action", *a);
			expect_ok(&t, (*h)->type);
		}
	}
}

/* ---------------------------------------------------------------- */
/* Section 10 order: msgpack, not_map, schema                        */

/* An empty body is reason msgpack. */
static void
test_empty_body(void **state)
{
	struct schema_err	err;

	assert_int_equal(decode_raw("", 0, &err), -1);
	assert_int_equal(err.reason, REASON_MSGPACK);
	assert_string_equal(err.detail, "event: empty body, not MessagePack");
}

/* A body cut short is reason msgpack, for every cut of a valid event. */
static void
test_truncated_body(void **state)
{
	struct tev		 t;
	struct schema_err	 err;
	const char		*buf;
	char			*copy;
	size_t			 len, i;

	tev_full(&t, "meeting", NULL);
	buf = tev_end(&t, &len);
	for (i = 1; i < len; i++) {
		copy = malloc(i);
		memcpy(copy, buf, i);
		assert_int_equal(decode_raw(copy, i, &err), -1);
		assert_int_equal(err.reason, REASON_MSGPACK);
		free(copy);
	}
	copy = malloc(10);
	memcpy(copy, buf, 10);
	decode_raw(copy, 10, &err);
	assert_string_equal(err.detail, "event: truncated MessagePack, the 10 "
	    "bytes end inside a value");
	free(copy);
	tev_free(&t);
}

/* Bytes after the map are reason msgpack, even when the map is valid. */
static void
test_trailing_bytes(void **state)
{
	struct tev		 t;
	struct schema_err	 err;
	const char		*buf;
	char			*copy;
	size_t			 len;

	tev_base(&t, "meeting", NULL);
	buf = tev_end(&t, &len);
	copy = malloc(len + 3);
	memcpy(copy, buf, len);
	memcpy(copy + len, "\x01\x02\x03", 3);
	assert_int_equal(decode_raw(copy, len + 3, &err), -1);
	assert_int_equal(err.reason, REASON_MSGPACK);
	assert_string_equal(err.detail, "event: 3 trailing bytes after the map");
	assert_int_equal(decode_raw(copy, len + 1, &err), -1);
	assert_string_equal(err.detail, "event: 1 trailing byte after the map");
	free(copy);
	tev_free(&t);
}

/* Trailing bytes after a non-map are still msgpack: it comes first. */
static void
test_trailing_before_not_map(void **state)
{
	struct schema_err	err;

	assert_int_equal(decode_raw("\x91\x01\x02", 3, &err), -1);
	assert_int_equal(err.reason, REASON_MSGPACK);
	assert_string_equal(err.detail,
	    "event: 1 trailing byte after the array");
}

/* 0xc1 anywhere a value starts is reason msgpack, with its offset. */
static void
test_c1_body(void **state)
{
	struct schema_err	err;

	assert_int_equal(decode_raw("\x81\xa1x\xc1", 4, &err), -1);
	assert_int_equal(err.reason, REASON_MSGPACK);
	assert_string_equal(err.detail,
	    "event: byte 0xc1 at offset 3 is not valid MessagePack");
}

/* A body that is not a map is not_map, naming what it is. */
static void
test_not_map(void **state)
{
	struct schema_err	err;

	assert_int_equal(decode_raw("\x92\x01\x02", 3, &err), -1);
	assert_int_equal(err.reason, REASON_NOT_MAP);
	assert_string_equal(err.detail, "event: array is not a map");
	assert_int_equal(decode_raw("\xa2hi", 3, &err), -1);
	assert_int_equal(err.reason, REASON_NOT_MAP);
	assert_string_equal(err.detail, "event: string is not a map");
	assert_int_equal(decode_raw("\x05", 1, &err), -1);
	assert_string_equal(err.detail, "event: integer is not a map");
	assert_int_equal(decode_raw("\xc0", 1, &err), -1);
	assert_int_equal(err.reason, REASON_NOT_MAP);
}

/* An empty map is a map: it fails schema, on the first required key. */
static void
test_empty_map_is_schema(void **state)
{
	struct schema_err	err;

	assert_int_equal(decode_raw("\x80", 1, &err), -1);
	assert_int_equal(err.reason, REASON_SCHEMA);
	assert_string_equal(err.detail, "id: missing (required for meeting)");
}

/* Nesting: the event map is level 1; an x_ value may take the event to
   16 levels, and the 17th is reason msgpack. */
static void
test_depth_16_ok_17_rejected(void **state)
{
	struct tev	t;
	uint8_t		deep[32];
	int		i;

	for (i = 0; i < 14; i++)
		deep[i] = 0x91;
	deep[14] = 0x90;	/* 15 arrays: levels 2..16 */
	tev_base(&t, "meeting", NULL);
	tev_raw(&t, "x_deep", deep, 15);
	expect_ok(&t, "meeting");

	deep[14] = 0x91;
	deep[15] = 0x90;	/* 16 arrays: levels 2..17 */
	tev_base(&t, "meeting", NULL);
	tev_raw(&t, "x_deep", deep, 16);
	expect_fail(&t, "meeting", REASON_MSGPACK,
	    "event: nesting deeper than 16");
}

/* Depth is checked before anything else in the map, even before keys
   that would fail schema. */
static void
test_depth_before_schema(void **state)
{
	struct tev	t;
	uint8_t		deep[32];

	memset(deep, 0x91, 20);
	deep[20] = 0x01;
	tev_init(&t);
	tev_str(&t, "bogus", "key");
	tev_raw(&t, "x_deep", deep, 21);
	expect_fail(&t, "meeting", REASON_MSGPACK,
	    "event: nesting deeper than 16");
}

/* A map header claiming 4 billion pairs with no data is msgpack, found
   at once without allocating by the count. */
static void
test_huge_map_header(void **state)
{
	struct schema_err	err;

	assert_int_equal(decode_raw("\xdf\xff\xff\xff\xff", 5, &err), -1);
	assert_int_equal(err.reason, REASON_MSGPACK);
	assert_int_equal(decode_raw("\x81\xa1x\xdd\xff\xff\xff\xff", 8, &err),
	    -1);
	assert_int_equal(err.reason, REASON_MSGPACK);
}

/* ---------------------------------------------------------------- */
/* Keys                                                              */

/* A key that is not a string is schema, naming its position and type. */
static void
test_non_string_key(void **state)
{
	struct tev	t;

	tev_base(&t, "meeting", NULL);
	msgpack_pack_int(&t.pk, 7);
	msgpack_pack_str_with_body(&t.pk, "v", 1);
	t.n++;
	expect_schema(&t, "meeting", "event: key #8 is integer, not a string");

	tev_base(&t, "meeting", NULL);
	msgpack_pack_bin_with_body(&t.pk, "title", 5);
	msgpack_pack_str_with_body(&t.pk, "v", 1);
	t.n++;
	expect_schema(&t, "meeting", "event: key #8 is bin, not a string");
}

/* A key that is not valid UTF-8 is schema; it is not echoed. */
static void
test_key_invalid_utf8(void **state)
{
	struct tev	t;

	tev_base(&t, "meeting", NULL);
	tev_str(&t, "x_\xc0\xaf", "v");
	expect_schema(&t, "meeting", "event: key #8 is not valid UTF-8");
}

/* A key not in the type's table is rejected, also one of another type. */
static void
test_unknown_key(void **state)
{
	struct tev	t;

	tev_base(&t, "meeting", NULL);
	tev_str(&t, "colour", "blue");
	expect_schema(&t, "meeting", "colour: unknown key for meeting (only "
	    "keys starting with x_ may be added)");
	tev_base(&t, "meeting", NULL);
	tev_str(&t, "person", "Budi");
	expect_schema(&t, "meeting", "person: unknown key for meeting (only "
	    "keys starting with x_ may be added)");
	tev_base(&t, "attache", NULL);
	tev_str(&t, "title", "t");
	expect_schema(&t, "attache", "title: unknown key for attache (only "
	    "keys starting with x_ may be added)");
	tev_base(&t, "training", NULL);
	tev_str(&t, "type", "training");
	expect_schema(&t, "training", "type: unknown key for training (only "
	    "keys starting with x_ may be added)");
}

/* Keys are case-sensitive: Title and X_foo are unknown. */
static void
test_keys_case_sensitive(void **state)
{
	struct tev	t;

	tev_base(&t, "meeting", NULL);
	tev_str(&t, "Title", "t");
	expect_schema(&t, "meeting", "Title: unknown key for meeting (only "
	    "keys starting with x_ may be added)");
	tev_base(&t, "meeting", NULL);
	tev_str(&t, "X_foo", "t");
	expect_schema(&t, "meeting", "X_foo: unknown key for meeting (only "
	    "keys starting with x_ may be added)");
}

/* A key that is a known name plus a NUL byte is not that name. */
static void
test_key_with_nul(void **state)
{
	struct tev	t;

	tev_base(&t, "meeting", NULL);
	msgpack_pack_str_with_body(&t.pk, "city\0", 5);
	msgpack_pack_str_with_body(&t.pk, "Bern", 4);
	t.n++;
	expect_schema(&t, "meeting", "city\\x00: unknown key for meeting "
	    "(only keys starting with x_ may be added)");
}

/* The bare key x_ is unknown. */
static void
test_bare_x_key(void **state)
{
	struct tev	t;

	tev_base(&t, "meeting", NULL);
	tev_str(&t, "x_", "v");
	expect_schema(&t, "meeting", "x_: unknown key for meeting (an x_ key "
	    "needs a name after x_)");
}

/* A known key twice is rejected, even with the same value. */
static void
test_duplicate_key(void **state)
{
	struct tev	t;

	tev_base(&t, "meeting", NULL);
	tev_str(&t, "title", "Bilateral meeting on labour migration");
	expect_schema(&t, "meeting", "title: duplicate key");
	tev_base(&t, "meeting", NULL);
	tev_str(&t, "id", "m-1");
	expect_schema(&t, "meeting", "id: duplicate key");
}

/* An x_ key twice is rejected. */
static void
test_duplicate_x_key(void **state)
{
	struct tev	t;

	tev_base(&t, "meeting", NULL);
	tev_str(&t, "x_a", "1");
	tev_str(&t, "x_b", "2");
	tev_str(&t, "x_a", "1");
	expect_schema(&t, "meeting", "x_a: duplicate key");
}

/* nil is never a value: optional keys are left out instead. */
static void
test_nil_value(void **state)
{
	struct tev	t;

	tev_base(&t, "meeting", "title");
	tev_key(&t, "title");
	msgpack_pack_nil(&t.pk);
	expect_schema(&t, "meeting", "title: nil is not a value (leave an "
	    "optional key out)");
	tev_base(&t, "meeting", NULL);
	tev_key(&t, "city");
	msgpack_pack_nil(&t.pk);
	expect_schema(&t, "meeting", "city: nil is not a value (leave an "
	    "optional key out)");
	tev_base(&t, "training", NULL);
	tev_key(&t, "seats");
	msgpack_pack_nil(&t.pk);
	expect_schema(&t, "training", "seats: nil is not a value (leave an "
	    "optional key out)");
}

/* A long unknown key is cut in the detail, which stays under the size. */
static void
test_detail_long_key_cut(void **state)
{
	struct tev		t;
	struct event		ev;
	struct schema_err	err;
	char			key[600];

	memset(key, 'k', sizeof key - 1);
	key[sizeof key - 1] = '\0';
	tev_base(&t, "meeting", NULL);
	tev_str(&t, key, "v");
	assert_int_equal(tev_decode(&t, "meeting", &ev, &err), -1);
	assert_int_equal(err.reason, REASON_SCHEMA);
	assert_true(strlen(err.detail) < 160);
	assert_non_null(strstr(err.detail, "kkk...: unknown key"));
	tev_free(&t);
}

/* Control bytes in a key are escaped, so a detail is one log line. */
static void
test_detail_escapes_controls(void **state)
{
	struct tev	t;

	tev_base(&t, "meeting", NULL);
	tev_str(&t, "bad\nkey\\", "v");
	expect_schema(&t, "meeting", "bad\\x0akey\\\\: unknown key for "
	    "meeting (only keys starting with x_ may be added)");
}

/* A multi-byte key cut in a detail is cut between characters. */
static void
test_detail_utf8_cut(void **state)
{
	struct tev		t;
	struct event		ev;
	struct schema_err	err;
	char			key[303];
	int			i;

	memcpy(key, "qq", 2);	/* so the euro signs straddle the cut */
	for (i = 0; i < 100; i++)
		memcpy(key + 2 + 3 * i, "\xe2\x82\xac", 3);
	key[302] = '\0';
	tev_base(&t, "meeting", NULL);
	tev_str(&t, key, "v");
	assert_int_equal(tev_decode(&t, "meeting", &ev, &err), -1);
	assert_true(mp_utf8_valid(err.detail, strlen(err.detail)));
	assert_non_null(strstr(err.detail, "...: unknown key"));
	tev_free(&t);
}

/* A detail that would not fit is cut to SCHEMA_DETAIL_MAX - 1 bytes,
   still one line of valid UTF-8. */
static void
test_detail_cut_to_size(void **state)
{
	struct tev		t;
	struct event		ev;
	struct schema_err	err;
	char			key[64];

	memset(key, '\x01', sizeof key - 1);	/* each escaped as \x01 */
	key[sizeof key - 1] = '\0';
	tev_base(&t, "training", NULL);
	tev_str(&t, key, "v");
	assert_int_equal(tev_decode(&t, "training", &ev, &err), -1);
	assert_int_equal(strlen(err.detail), SCHEMA_DETAIL_MAX - 1);
	assert_true(mp_utf8_valid(err.detail, strlen(err.detail)));
	assert_null(strchr(err.detail, '\n'));
	assert_null(strchr(err.detail, '\x01'));
	tev_free(&t);
}

/* ---------------------------------------------------------------- */
/* x_ keys                                                           */

/* 32 x_ keys pass; the 33rd is named with the count and the limit. */
static void
test_x_keys_32_ok_33_rejected(void **state)
{
	struct tev	t;
	char		k[16];
	int		i;

	tev_base(&t, "meeting", NULL);
	for (i = 0; i < 32; i++) {
		snprintf(k, sizeof k, "x_%d", i);
		tev_int(&t, k, i);
	}
	expect_ok(&t, "meeting");

	tev_base(&t, "meeting", NULL);
	for (i = 0; i < 32; i++) {
		snprintf(k, sizeof k, "x_%d", i);
		tev_int(&t, k, i);
	}
	tev_int(&t, "x_foo", 1);
	expect_schema(&t, "meeting", "x_foo: 33 x_ keys, the limit is 32");
}

/* An event with 10,000 x_ keys is rejected at the 33rd, quickly. */
static void
test_x_keys_10000_fast(void **state)
{
	struct tev		 t;
	struct event		 ev;
	struct schema_err	 err;
	const char		*buf;
	char			 k[16];
	size_t			 len;
	clock_t			 c;
	int			 i;

	tev_base(&t, "meeting", NULL);
	for (i = 0; i < 10000; i++) {
		snprintf(k, sizeof k, "x_%d", i);
		tev_int(&t, k, i);
	}
	buf = tev_end(&t, &len);
	c = clock();
	for (i = 0; i < 100; i++) {
		assert_int_equal(schema_decode_event(H("meeting"), buf, len,
		    RECEIVED, &ev, &err), -1);
	}
	c = clock() - c;
	assert_string_equal(err.detail, "x_32: 33 x_ keys, the limit is 32");
	/* 100 decodes in well under a second even under sanitizers. */
	assert_true(c < CLOCKS_PER_SEC);
	tev_free(&t);
}

/* x_ values are opaque: nil, bin, ext, float, nested maps and strings
   that are not UTF-8 all pass. */
static void
test_x_values_opaque(void **state)
{
	struct tev	t;

	tev_base(&t, "meeting", NULL);
	tev_key(&t, "x_nil");
	msgpack_pack_nil(&t.pk);
	tev_key(&t, "x_bin");
	msgpack_pack_bin_with_body(&t.pk, "\xff\x00", 2);
	tev_key(&t, "x_ext");
	msgpack_pack_ext_with_body(&t.pk, "\x00\x00\x00\x01", 4, -1);
	tev_key(&t, "x_float");
	msgpack_pack_double(&t.pk, 0.5);
	tev_key(&t, "x_map");
	msgpack_pack_map(&t.pk, 2);
	msgpack_pack_int(&t.pk, 1);		/* not a string key */
	msgpack_pack_nil(&t.pk);
	msgpack_pack_str_with_body(&t.pk, "a", 1);
	msgpack_pack_array(&t.pk, 1);
	msgpack_pack_str_with_body(&t.pk, "\xc0\xaf", 2);
	tev_strn(&t, "x_bad_utf8", "\xed\xa0\x80", 3);
	tev_uint(&t, "x_big", UINT64_MAX);
	expect_ok(&t, "meeting");
}

/* An x_ key is a string like any other: at most 1024 bytes. */
static void
test_x_key_length(void **state)
{
	struct tev	t;
	char		key[1026], want[128];

	memset(key, 'k', sizeof key);
	memcpy(key, "x_", 2);
	key[1024] = '\0';
	tev_base(&t, "meeting", NULL);
	tev_str(&t, key, "v");
	expect_ok(&t, "meeting");
	key[1024] = 'k';
	key[1025] = '\0';
	/* The detail quotes the first 48 bytes of the key. */
	snprintf(want, sizeof want, "%.48s...: key of 1025 bytes is over "
	    "the limit of 1024", key);
	tev_base(&t, "meeting", NULL);
	tev_str(&t, key, "v");
	expect_schema(&t, "meeting", want);
}

/* ---------------------------------------------------------------- */
/* Common keys                                                       */

/* Each required common key, left out, is named as missing. */
static void
test_common_missing(void **state)
{
	struct tev	t;

	tev_base(&t, "meeting", "id");
	expect_schema(&t, "meeting", "id: missing (required for meeting)");
	tev_base(&t, "training", "action");
	expect_schema(&t, "training",
	    "action: missing (required for training)");
	tev_base(&t, "attache", "country");
	expect_schema(&t, "attache", "country: missing (required for attache)");
}

/* id: every allowed character, and exactly 64 bytes, pass. */
static void
test_id_ok(void **state)
{
	struct tev	t;

	tev_base(&t, "meeting", "id");
	tev_str(&t, "id", "AZaz09._:-");
	expect_ok(&t, "meeting");
	tev_base(&t, "meeting", "id");
	tev_fill(&t, "id", 'i', 64);
	expect_ok(&t, "meeting");
	tev_base(&t, "meeting", "id");
	tev_str(&t, "id", "x");
	expect_ok(&t, "meeting");
}

/* id: 65 bytes is over the limit of 64. */
static void
test_id_too_long(void **state)
{
	struct tev	t;

	tev_base(&t, "meeting", "id");
	tev_fill(&t, "id", 'i', 65);
	expect_schema(&t, "meeting",
	    "id: string of 65 bytes is over the limit of 64");
}

/* id: empty is rejected (1–64). */
static void
test_id_empty(void **state)
{
	struct tev	t;

	tev_base(&t, "meeting", "id");
	tev_str(&t, "id", "");
	expect_schema(&t, "meeting",
	    "id: empty string (a required string is never empty)");
}

/* id: a space, a slash or a non-ASCII letter is outside the set. */
static void
test_id_bad_chars(void **state)
{
	struct tev	t;

	tev_base(&t, "meeting", "id");
	tev_str(&t, "id", "m 1");
	expect_schema(&t, "meeting",
	    "id: \"m 1\" has a byte outside [A-Za-z0-9._:-] at offset 1");
	tev_base(&t, "meeting", "id");
	tev_str(&t, "id", "a/b");
	expect_schema(&t, "meeting",
	    "id: \"a/b\" has a byte outside [A-Za-z0-9._:-] at offset 1");
	tev_base(&t, "meeting", "id");
	tev_str(&t, "id", "caf\xc3\xa9");
	expect_schema(&t, "meeting", "id: \"caf\xc3\xa9\" has a byte outside "
	    "[A-Za-z0-9._:-] at offset 3");
}

/* id: an integer is not a string. */
static void
test_id_not_string(void **state)
{
	struct tev	t;

	tev_base(&t, "meeting", "id");
	tev_int(&t, "id", 1);
	expect_schema(&t, "meeting", "id: integer is not a string");
}

/* action: one of another type's actions is not this type's. */
static void
test_action_of_other_type(void **state)
{
	struct tev	t;

	tev_base(&t, "meeting", "action");
	tev_str(&t, "action", "arrived");
	expect_schema(&t, "meeting", "action: \"arrived\" is not an action of "
	    "meeting (scheduled, updated, postponed, cancelled, concluded)");
	tev_base(&t, "attache", "action");
	tev_str(&t, "action", "scheduled");
	expect_schema(&t, "attache", "action: \"scheduled\" is not an action "
	    "of attache (appointed, arrived, reassigned, departed, "
	    "contact_changed, report)");
	tev_base(&t, "training", "action");
	tev_str(&t, "action", "concluded");
	expect_schema(&t, "training", "action: \"concluded\" is not an action "
	    "of training (announced, updated, opened, full, started, "
	    "completed, cancelled)");
}

/* action: matching is exact, case and length. */
static void
test_action_exact(void **state)
{
	struct tev	t;

	tev_base(&t, "meeting", "action");
	tev_str(&t, "action", "Scheduled");
	expect_schema(&t, "meeting", "action: \"Scheduled\" is not an action "
	    "of meeting (scheduled, updated, postponed, cancelled, concluded)");
	tev_base(&t, "meeting", "action");
	tev_str(&t, "action", "schedule");
	expect_schema(&t, "meeting", "action: \"schedule\" is not an action "
	    "of meeting (scheduled, updated, postponed, cancelled, concluded)");
	tev_base(&t, "meeting", "action");
	tev_str(&t, "action", "");
	expect_schema(&t, "meeting",
	    "action: empty string (a required string is never empty)");
}

/* action: a bool is not a string. */
static void
test_action_not_string(void **state)
{
	struct tev	t;

	tev_base(&t, "meeting", "action");
	tev_key(&t, "action");
	msgpack_pack_true(&t.pk);
	expect_schema(&t, "meeting", "action: bool is not a string");
}

/* country: the posts of section 4 and GB pass, in events too. */
static void
test_country_ok(void **state)
{
	static const char *const ok[] = {
		"GB", "ID", "CH", "KR", "AE", "SA", "MY", "BN", "JO", "KW",
		"QA", "TW", "SG", "HK", "US", "JP", "AD", "ZW", "AX", "SS",
		"BQ", NULL
	};
	struct tev	t;
	int		i;

	for (i = 0; ok[i] != NULL; i++) {
		assert_true(schema_country_valid(ok[i], 2));
		tev_base(&t, "attache", "country");
		tev_str(&t, "country", ok[i]);
		expect_ok(&t, "attache");
	}
}

/* country: UK, EU, XX and other unassigned or reserved codes fail. */
static void
test_country_reserved_rejected(void **state)
{
	static const char *const bad[] = {
		"UK", "EU", "XX", "AA", "ZZ", "QM", "XK", "EZ", "UN", "AN",
		"YU", "CS", "SU", "TP", NULL
	};
	struct tev	t;
	int		i;

	for (i = 0; bad[i] != NULL; i++)
		assert_false(schema_country_valid(bad[i], 2));
	tev_base(&t, "meeting", "country");
	tev_str(&t, "country", "XX");
	expect_schema(&t, "meeting",
	    "country: \"XX\" is not an ISO 3166-1 alpha-2 code");
	tev_base(&t, "meeting", "country");
	tev_str(&t, "country", "UK");
	expect_schema(&t, "meeting",
	    "country: \"UK\" is not an ISO 3166-1 alpha-2 code");
	tev_base(&t, "meeting", "country");
	tev_str(&t, "country", "EU");
	expect_schema(&t, "meeting",
	    "country: \"EU\" is not an ISO 3166-1 alpha-2 code");
}

/* country: lower case fails, and the detail says which code was meant. */
static void
test_country_lowercase(void **state)
{
	struct tev	t;

	assert_false(schema_country_valid("kr", 2));
	assert_false(schema_country_valid("Kr", 2));
	tev_base(&t, "attache", "country");
	tev_str(&t, "country", "kr");
	expect_schema(&t, "attache", "country: \"kr\" is not an ISO 3166-1 "
	    "alpha-2 code (codes are upper case: KR)");
	tev_base(&t, "attache", "country");
	tev_str(&t, "country", "xx");
	expect_schema(&t, "attache",
	    "country: \"xx\" is not an ISO 3166-1 alpha-2 code");
}

/* country: alpha-3, one letter, empty and non-letters fail. */
static void
test_country_shape(void **state)
{
	struct tev	t;

	assert_false(schema_country_valid("KOR", 3));
	assert_false(schema_country_valid("K", 1));
	assert_false(schema_country_valid("", 0));
	assert_false(schema_country_valid(NULL, 2));
	assert_false(schema_country_valid("1A", 2));
	assert_false(schema_country_valid("K\0", 2));
	assert_false(schema_country_valid("K@", 2));
	assert_false(schema_country_valid("K[", 2));
	tev_base(&t, "meeting", "country");
	tev_str(&t, "country", "KOR");
	expect_schema(&t, "meeting",
	    "country: \"KOR\" is not an ISO 3166-1 alpha-2 code");
	tev_base(&t, "meeting", "country");
	tev_str(&t, "country", "");
	expect_schema(&t, "meeting",
	    "country: \"\" is not an ISO 3166-1 alpha-2 code");
	tev_base(&t, "meeting", "country");
	tev_int(&t, "country", 62);
	expect_schema(&t, "meeting", "country: integer is not a string");
}

/* The table holds exactly the 249 officially assigned codes. */
static void
test_country_table_249(void **state)
{
	char	cc[2];
	int	n = 0;

	for (cc[0] = 'A'; cc[0] <= 'Z'; cc[0]++) {
		for (cc[1] = 'A'; cc[1] <= 'Z'; cc[1]++) {
			if (schema_country_valid(cc, 2))
				n++;
		}
	}
	assert_int_equal(n, 249);
}

/* msg_id: 1 and 128 bytes pass; 0 and 129 fail. */
static void
test_msg_id(void **state)
{
	struct tev	t;

	tev_base(&t, "meeting", NULL);
	tev_str(&t, "msg_id", "m");
	expect_ok(&t, "meeting");
	tev_base(&t, "meeting", NULL);
	tev_fill(&t, "msg_id", 'm', 128);
	expect_ok(&t, "meeting");
	tev_base(&t, "meeting", NULL);
	tev_fill(&t, "msg_id", 'm', 129);
	expect_schema(&t, "meeting",
	    "msg_id: string of 129 bytes is over the limit of 128");
	tev_base(&t, "meeting", NULL);
	tev_str(&t, "msg_id", "");
	expect_schema(&t, "meeting",
	    "msg_id: string of 0 bytes is under the minimum of 1");
	tev_base(&t, "meeting", NULL);
	tev_int(&t, "msg_id", 42);
	expect_schema(&t, "meeting", "msg_id: integer is not a string");
}

/* msg_id may hold any UTF-8, not only id characters. */
static void
test_msg_id_any_utf8(void **state)
{
	struct tev	t;

	tev_base(&t, "meeting", NULL);
	tev_str(&t, "msg_id", "sikap/2026 #1 \xe2\x9c\x93");
	expect_ok(&t, "meeting");
}

/* source: up to 64 bytes; optional, so empty passes. */
static void
test_source(void **state)
{
	struct tev	t;

	tev_base(&t, "meeting", NULL);
	tev_fill(&t, "source", 's', 64);
	expect_ok(&t, "meeting");
	tev_base(&t, "meeting", NULL);
	tev_str(&t, "source", "");
	expect_ok(&t, "meeting");
	tev_base(&t, "meeting", NULL);
	tev_fill(&t, "source", 's', 65);
	expect_schema(&t, "meeting",
	    "source: string of 65 bytes is over the limit of 64");
}

/* occurred_at: any int64, negative included, passes. */
static void
test_occurred_at_ok(void **state)
{
	struct tev	t;

	tev_base(&t, "meeting", NULL);
	tev_int(&t, "occurred_at", -1);
	expect_ok(&t, "meeting");
	tev_base(&t, "meeting", NULL);
	tev_int(&t, "occurred_at", INT64_MIN);
	expect_ok(&t, "meeting");
	tev_base(&t, "meeting", NULL);
	tev_uint(&t, "occurred_at", INT64_MAX);
	expect_ok(&t, "meeting");
}

/* occurred_at: a float, a bool or a string is not an integer. */
static void
test_occurred_at_not_int(void **state)
{
	struct tev	t;

	tev_base(&t, "meeting", NULL);
	tev_key(&t, "occurred_at");
	msgpack_pack_double(&t.pk, 1.7e12);
	expect_schema(&t, "meeting", "occurred_at: float is not an integer");
	tev_base(&t, "meeting", NULL);
	tev_key(&t, "occurred_at");
	msgpack_pack_false(&t.pk);
	expect_schema(&t, "meeting", "occurred_at: bool is not an integer");
	tev_base(&t, "meeting", NULL);
	tev_str(&t, "occurred_at", "1700000000000");
	expect_schema(&t, "meeting", "occurred_at: string is not an integer");
}

/* A uint64 above INT64_MAX is out of range. */
static void
test_int_over_int64(void **state)
{
	struct tev	t;

	tev_base(&t, "meeting", NULL);
	tev_uint(&t, "occurred_at", (uint64_t)INT64_MAX + 1);
	expect_schema(&t, "meeting", "occurred_at: 9223372036854775808 is out "
	    "of the int64 range (the limit is 9223372036854775807)");
	tev_base(&t, "meeting", "starts_at");
	tev_uint(&t, "starts_at", UINT64_MAX);
	expect_schema(&t, "meeting", "starts_at: 18446744073709551615 is out "
	    "of the int64 range (the limit is 9223372036854775807)");
}

/* ---------------------------------------------------------------- */
/* Strings                                                           */

/* A string with no limit of its own may be 1024 bytes, not 1025. */
static void
test_default_string_limit(void **state)
{
	struct tev	t;

	tev_base(&t, "meeting", NULL);
	tev_fill(&t, "city", 'c', 1024);
	expect_ok(&t, "meeting");
	tev_base(&t, "meeting", NULL);
	tev_fill(&t, "city", 'c', 1025);
	expect_schema(&t, "meeting",
	    "city: string of 1025 bytes is over the limit of 1024");
	tev_base(&t, "training", "provider");
	tev_fill(&t, "provider", 'p', 1025);
	expect_schema(&t, "training",
	    "provider: string of 1025 bytes is over the limit of 1024");
}

/* Limits are bytes, not characters: 256 two-byte letters are 512. */
static void
test_limits_are_bytes(void **state)
{
	struct tev	t;
	char		s[513];
	int		i;

	for (i = 0; i < 256; i++)
		memcpy(s + 2 * i, "\xc3\xa9", 2);
	tev_base(&t, "meeting", "title");
	tev_strn(&t, "title", s, 256);	/* 128 characters */
	expect_ok(&t, "meeting");
	tev_base(&t, "meeting", "title");
	tev_strn(&t, "title", s, 512);
	expect_schema(&t, "meeting",
	    "title: string of 512 bytes is over the limit of 256");
}

/* A string value that is not UTF-8 is schema, naming the field. */
static void
test_value_invalid_utf8(void **state)
{
	struct tev	t;

	tev_base(&t, "meeting", "title");
	tev_strn(&t, "title", "Meeting \xff", 9);
	expect_schema(&t, "meeting", "title: string is not valid UTF-8");
	tev_base(&t, "meeting", NULL);
	tev_strn(&t, "venue", "\xed\xa0\x80", 3);	/* a surrogate */
	expect_schema(&t, "meeting", "venue: string is not valid UTF-8");
	tev_base(&t, "meeting", "kind");
	tev_strn(&t, "kind", "\xc0\xaf", 2);
	expect_schema(&t, "meeting", "kind: string is not valid UTF-8");
	tev_base(&t, "meeting", "country");
	tev_strn(&t, "country", "\xc3", 1);
	expect_schema(&t, "meeting", "country: string is not valid UTF-8");
}

/* Non-ASCII UTF-8 values pass (Korean, Arabic, Chinese). */
static void
test_value_utf8_ok(void **state)
{
	struct tev	t;

	tev_base(&t, "attache", NULL);
	tev_str(&t, "city", "\xec\x84\x9c\xec\x9a\xb8");
	tev_str(&t, "message", "\xd8\xa7\xd9\x84\xd8\xb1\xd9\x8a\xd8\xa7\xd8"
	    "\xb6 \xe5\x8f\xb0\xe5\x8c\x97");
	expect_ok(&t, "attache");
}

/* A required string is never empty; an optional one may be. */
static void
test_required_non_empty(void **state)
{
	struct tev	t;

	tev_base(&t, "meeting", "title");
	tev_str(&t, "title", "");
	expect_schema(&t, "meeting",
	    "title: empty string (a required string is never empty)");
	tev_base(&t, "training", "provider");
	tev_str(&t, "provider", "");
	expect_schema(&t, "training",
	    "provider: empty string (a required string is never empty)");
	tev_base(&t, "attache", "person");
	tev_str(&t, "person", "");
	expect_schema(&t, "attache",
	    "person: empty string (a required string is never empty)");
	tev_base(&t, "attache", "post");
	tev_str(&t, "post", "");
	expect_schema(&t, "attache",
	    "post: empty string (a required string is never empty)");
	tev_base(&t, "meeting", NULL);
	tev_str(&t, "city", "");
	tev_str(&t, "venue", "");
	tev_str(&t, "notes", "");
	expect_ok(&t, "meeting");
}

/* A string field given a bin, an array or a map names the type. */
static void
test_string_wrong_type(void **state)
{
	struct tev	t;

	tev_base(&t, "meeting", "title");
	tev_key(&t, "title");
	msgpack_pack_bin_with_body(&t.pk, "t", 1);
	expect_schema(&t, "meeting", "title: bin is not a string");
	tev_base(&t, "meeting", NULL);
	tev_key(&t, "city");
	msgpack_pack_array(&t.pk, 0);
	expect_schema(&t, "meeting", "city: array is not a string");
	tev_base(&t, "meeting", NULL);
	tev_key(&t, "notes");
	msgpack_pack_map(&t.pk, 0);
	expect_schema(&t, "meeting", "notes: map is not a string");
}

/* ---------------------------------------------------------------- */
/* meeting                                                           */

/* Each required meeting key, left out, is named as missing. */
static void
test_meeting_required(void **state)
{
	static const char *const keys[] = {
		"title", "kind", "counterparts", "starts_at", NULL
	};
	struct tev	t;
	char		want[128];
	int		i;

	for (i = 0; keys[i] != NULL; i++) {
		tev_base(&t, "meeting", keys[i]);
		snprintf(want, sizeof want, "%s: missing (required for meeting)",
		    keys[i]);
		expect_schema(&t, "meeting", want);
	}
}

/* Every action carries the required keys, not only scheduled. */
static void
test_meeting_cancelled_needs_snapshot(void **state)
{
	struct tev	t;

	tev_base(&t, "meeting", "action kind");
	tev_str(&t, "action", "cancelled");
	expect_schema(&t, "meeting", "kind: missing (required for meeting)");
}

/* title: 256 bytes pass, 257 (or 300) fail with the limit named. */
static void
test_meeting_title_limit(void **state)
{
	struct tev	t;

	tev_base(&t, "meeting", "title");
	tev_fill(&t, "title", 't', 256);
	expect_ok(&t, "meeting");
	tev_base(&t, "meeting", "title");
	tev_fill(&t, "title", 't', 257);
	expect_schema(&t, "meeting",
	    "title: string of 257 bytes is over the limit of 256");
	tev_base(&t, "meeting", "title");
	tev_fill(&t, "title", 't', 300);
	expect_schema(&t, "meeting",
	    "title: string of 300 bytes is over the limit of 256");
}

/* kind: each of the three passes; anything else lists them. */
static void
test_meeting_kind(void **state)
{
	static const char *const kinds[] = {
		"bilateral", "regional", "multilateral", NULL
	};
	struct tev	t;
	int		i;

	for (i = 0; kinds[i] != NULL; i++) {
		tev_base(&t, "meeting", "kind");
		tev_str(&t, "kind", kinds[i]);
		expect_ok(&t, "meeting");
	}
	tev_base(&t, "meeting", "kind");
	tev_str(&t, "kind", "trilateral");
	expect_schema(&t, "meeting", "kind: \"trilateral\" is not one of "
	    "bilateral, regional, multilateral");
	tev_base(&t, "meeting", "kind");
	tev_str(&t, "kind", "");
	expect_schema(&t, "meeting",
	    "kind: empty string (a required string is never empty)");
	tev_base(&t, "meeting", "kind");
	tev_int(&t, "kind", 1);
	expect_schema(&t, "meeting", "kind: integer is not a string");
}

/* counterparts: 1 and 32 items pass; 0 and 33 fail. */
static void
test_meeting_counterparts_count(void **state)
{
	struct tev	t;

	tev_base(&t, "meeting", "counterparts");
	tev_nstrs(&t, "counterparts", 32);
	expect_ok(&t, "meeting");
	tev_base(&t, "meeting", "counterparts");
	tev_nstrs(&t, "counterparts", 1);
	expect_ok(&t, "meeting");
	tev_base(&t, "meeting", "counterparts");
	tev_nstrs(&t, "counterparts", 0);
	expect_schema(&t, "meeting",
	    "counterparts: 0 items, the minimum is 1");
	tev_base(&t, "meeting", "counterparts");
	tev_nstrs(&t, "counterparts", 33);
	expect_schema(&t, "meeting",
	    "counterparts: 33 items, the limit is 32");
}

/* counterparts: the items are checked as strings, by index. */
static void
test_meeting_counterparts_items(void **state)
{
	struct tev	t;

	tev_base(&t, "meeting", "counterparts");
	tev_key(&t, "counterparts");
	msgpack_pack_array(&t.pk, 2);
	msgpack_pack_str_with_body(&t.pk, "ILO", 3);
	msgpack_pack_int(&t.pk, 5);
	expect_schema(&t, "meeting", "counterparts[1]: integer is not a string");

	tev_base(&t, "meeting", "counterparts");
	tev_key(&t, "counterparts");
	msgpack_pack_array(&t.pk, 1);
	msgpack_pack_nil(&t.pk);
	expect_schema(&t, "meeting", "counterparts[0]: nil is not a string");

	tev_base(&t, "meeting", "counterparts");
	tev_key(&t, "counterparts");
	msgpack_pack_array(&t.pk, 2);
	msgpack_pack_str_with_body(&t.pk, "ILO", 3);
	msgpack_pack_str_with_body(&t.pk, "\xe2\x82", 2);
	expect_schema(&t, "meeting",
	    "counterparts[1]: string is not valid UTF-8");

	tev_base(&t, "meeting", "counterparts");
	tev_key(&t, "counterparts");
	msgpack_pack_array(&t.pk, 1);
	msgpack_pack_str_with_body(&t.pk, "", 0);
	expect_schema(&t, "meeting",
	    "counterparts[0]: string of 0 bytes is under the minimum of 1");

	tev_base(&t, "meeting", "counterparts");
	tev_key(&t, "counterparts");
	msgpack_pack_array(&t.pk, 1);
	msgpack_pack_array(&t.pk, 1);
	msgpack_pack_str_with_body(&t.pk, "ILO", 3);
	expect_schema(&t, "meeting", "counterparts[0]: array is not a string");
}

/* counterparts: each item is a string of at most 1024 bytes. */
static void
test_meeting_counterparts_item_limit(void **state)
{
	struct tev	 t;
	char		*s = malloc(1025);

	memset(s, 'c', 1025);
	tev_base(&t, "meeting", "counterparts");
	tev_key(&t, "counterparts");
	msgpack_pack_array(&t.pk, 1);
	msgpack_pack_str_with_body(&t.pk, s, 1024);
	expect_ok(&t, "meeting");
	tev_base(&t, "meeting", "counterparts");
	tev_key(&t, "counterparts");
	msgpack_pack_array(&t.pk, 1);
	msgpack_pack_str_with_body(&t.pk, s, 1025);
	expect_schema(&t, "meeting",
	    "counterparts[0]: string of 1025 bytes is over the limit of 1024");
	free(s);
}

/* counterparts: a string is not an array. */
static void
test_meeting_counterparts_not_array(void **state)
{
	struct tev	t;

	tev_base(&t, "meeting", "counterparts");
	tev_str(&t, "counterparts", "ILO");
	expect_schema(&t, "meeting", "counterparts: string is not an array");
}

/* An array header claiming more items than the limit fails at the
   header, without reading (or needing) the items. */
static void
test_array_count_checked_first(void **state)
{
	struct tev	t;
	uint8_t		hdr[] = { 0xdc, 0x00, 0x21 };	/* 33, as array16 */
	uint8_t		item[] = { 0xa1, 'x' };
	int		i;

	tev_base(&t, "meeting", "counterparts");
	tev_raw(&t, "counterparts", hdr, sizeof hdr);
	for (i = 0; i < 33; i++)
		msgpack_sbuffer_write(&t.body, (char *)item, sizeof item);
	expect_schema(&t, "meeting",
	    "counterparts: 33 items, the limit is 32");
}

/* agenda and delegation: 64 items pass, 65 fail; empty arrays and empty
   items pass, as they are optional. */
static void
test_meeting_agenda_delegation(void **state)
{
	static const char *const empty[] = { NULL };
	static const char *const blank[] = { "", NULL };
	struct tev	t;

	tev_base(&t, "meeting", NULL);
	tev_nstrs(&t, "agenda", 64);
	tev_nstrs(&t, "delegation", 64);
	expect_ok(&t, "meeting");
	tev_base(&t, "meeting", NULL);
	tev_strs(&t, "agenda", empty);
	tev_strs(&t, "delegation", blank);
	expect_ok(&t, "meeting");
	tev_base(&t, "meeting", NULL);
	tev_nstrs(&t, "agenda", 65);
	expect_schema(&t, "meeting", "agenda: 65 items, the limit is 64");
	tev_base(&t, "meeting", NULL);
	tev_nstrs(&t, "delegation", 65);
	expect_schema(&t, "meeting", "delegation: 65 items, the limit is 64");
	tev_base(&t, "meeting", NULL);
	tev_key(&t, "agenda");
	msgpack_pack_array(&t.pk, 1);
	msgpack_pack_double(&t.pk, 1.0);
	expect_schema(&t, "meeting", "agenda[0]: float is not a string");
}

/* city and venue: strings up to 1024. */
static void
test_meeting_city_venue(void **state)
{
	struct tev	t;

	tev_base(&t, "meeting", NULL);
	tev_fill(&t, "venue", 'v', 1024);
	tev_str(&t, "city", "Geneva");
	expect_ok(&t, "meeting");
	tev_base(&t, "meeting", NULL);
	tev_fill(&t, "venue", 'v', 1025);
	expect_schema(&t, "meeting",
	    "venue: string of 1025 bytes is over the limit of 1024");
	tev_base(&t, "meeting", NULL);
	tev_int(&t, "city", 1);
	expect_schema(&t, "meeting", "city: integer is not a string");
}

/* notes: 8192 bytes pass, 8193 fail. */
static void
test_meeting_notes_limit(void **state)
{
	struct tev	t;

	tev_base(&t, "meeting", NULL);
	tev_fill(&t, "notes", 'n', 8192);
	expect_ok(&t, "meeting");
	tev_base(&t, "meeting", NULL);
	tev_fill(&t, "notes", 'n', 8193);
	expect_schema(&t, "meeting",
	    "notes: string of 8193 bytes is over the limit of 8192");
}

/* starts_at: a float, a bool or a string is not an integer. */
static void
test_meeting_starts_at_type(void **state)
{
	struct tev	t;

	tev_base(&t, "meeting", "starts_at");
	tev_key(&t, "starts_at");
	msgpack_pack_double(&t.pk, 1767225600000.0);
	expect_schema(&t, "meeting", "starts_at: float is not an integer");
	tev_base(&t, "meeting", "starts_at");
	tev_key(&t, "starts_at");
	msgpack_pack_float(&t.pk, 1.0f);
	expect_schema(&t, "meeting", "starts_at: float is not an integer");
	tev_base(&t, "meeting", "starts_at");
	tev_key(&t, "starts_at");
	msgpack_pack_true(&t.pk);
	expect_schema(&t, "meeting", "starts_at: bool is not an integer");
	tev_base(&t, "meeting", "starts_at");
	tev_str(&t, "starts_at", "2026-01-01");
	expect_schema(&t, "meeting", "starts_at: string is not an integer");
	tev_base(&t, "meeting", "starts_at");
	tev_key(&t, "starts_at");
	msgpack_pack_ext_with_body(&t.pk, "\x00\x00\x00\x01", 4, -1);
	expect_schema(&t, "meeting", "starts_at: ext is not an integer");
}

/* starts_at: any integer encoding passes, signed or not, wide or not. */
static void
test_meeting_starts_at_encodings(void **state)
{
	static const uint8_t enc[][9] = {
		{ 0x05 },				/* fixint */
		{ 0xce, 0x00, 0x00, 0x00, 0x05 },	/* uint32 */
		{ 0xd3, 0, 0, 0, 0, 0, 0, 0, 0x05 },	/* int64 */
		{ 0xd0, 0xfb },				/* int8 -5 */
		{ 0xcf, 0, 0, 0, 0, 0, 0, 0, 0x05 },	/* uint64 */
	};
	static const size_t len[] = { 1, 5, 9, 2, 9 };
	struct tev	t;
	size_t		i;

	for (i = 0; i < sizeof len / sizeof len[0]; i++) {
		tev_base(&t, "meeting", "starts_at");
		tev_raw(&t, "starts_at", enc[i], len[i]);
		expect_ok(&t, "meeting");
	}
}

/* ends_at: equal to or after starts_at passes; before it fails with both
   values named. */
static void
test_meeting_ends_at(void **state)
{
	struct tev	t;

	tev_base(&t, "meeting", "starts_at");
	tev_int(&t, "starts_at", 9);
	tev_int(&t, "ends_at", 9);
	expect_ok(&t, "meeting");
	tev_base(&t, "meeting", "starts_at");
	tev_int(&t, "ends_at", 10);
	tev_int(&t, "starts_at", 9);
	expect_ok(&t, "meeting");
	tev_base(&t, "meeting", "starts_at");
	tev_int(&t, "starts_at", 9);
	tev_int(&t, "ends_at", 5);
	expect_schema(&t, "meeting", "ends_at: 5 is before starts_at 9");
	tev_base(&t, "meeting", "starts_at");
	tev_int(&t, "ends_at", -5);
	tev_int(&t, "starts_at", 0);
	expect_schema(&t, "meeting", "ends_at: -5 is before starts_at 0");
}

/* ends_at: its type is checked like starts_at's. */
static void
test_meeting_ends_at_type(void **state)
{
	struct tev	t;

	tev_base(&t, "meeting", NULL);
	tev_key(&t, "ends_at");
	msgpack_pack_double(&t.pk, 5.0);
	expect_schema(&t, "meeting", "ends_at: float is not an integer");
}

/* ---------------------------------------------------------------- */
/* training                                                          */

/* Each required training key, left out, is named as missing. */
static void
test_training_required(void **state)
{
	static const char *const keys[] = {
		"title", "provider", "format", "starts_at", NULL
	};
	struct tev	t;
	char		want[128];
	int		i;

	for (i = 0; keys[i] != NULL; i++) {
		tev_base(&t, "training", keys[i]);
		snprintf(want, sizeof want,
		    "%s: missing (required for training)", keys[i]);
		expect_schema(&t, "training", want);
	}
}

/* title: 256 limit, as for meetings. */
static void
test_training_title_limit(void **state)
{
	struct tev	t;

	tev_base(&t, "training", "title");
	tev_fill(&t, "title", 't', 256);
	expect_ok(&t, "training");
	tev_base(&t, "training", "title");
	tev_fill(&t, "title", 't', 257);
	expect_schema(&t, "training",
	    "title: string of 257 bytes is over the limit of 256");
}

/* format: each of the five passes; others list them. */
static void
test_training_format(void **state)
{
	static const char *const formats[] = {
		"workshop", "course", "simulation", "seminar", "briefing", NULL
	};
	struct tev	t;
	int		i;

	for (i = 0; formats[i] != NULL; i++) {
		tev_base(&t, "training", "format");
		tev_str(&t, "format", formats[i]);
		expect_ok(&t, "training");
	}
	tev_base(&t, "training", "format");
	tev_str(&t, "format", "webinar");
	expect_schema(&t, "training", "format: \"webinar\" is not one of "
	    "workshop, course, simulation, seminar, briefing");
	tev_base(&t, "training", "format");
	tev_str(&t, "format", "Workshop");
	expect_schema(&t, "training", "format: \"Workshop\" is not one of "
	    "workshop, course, simulation, seminar, briefing");
}

/* provider: any non-empty string (JICA, KOICA, ILO, Kemlu...). */
static void
test_training_provider(void **state)
{
	struct tev	t;

	tev_base(&t, "training", "provider");
	tev_str(&t, "provider", "Kemlu");
	expect_ok(&t, "training");
	tev_base(&t, "training", "provider");
	tev_int(&t, "provider", 3);
	expect_schema(&t, "training", "provider: integer is not a string");
}

/* seats and participants: uints, 0 included. */
static void
test_training_seats_ok(void **state)
{
	struct tev	t;

	tev_base(&t, "training", NULL);
	tev_int(&t, "seats", 0);
	tev_int(&t, "participants", 0);
	expect_ok(&t, "training");
	tev_base(&t, "training", NULL);
	tev_uint(&t, "seats", INT64_MAX);
	expect_ok(&t, "training");
	tev_base(&t, "training", NULL);
	tev_raw(&t, "seats", "\xd0\x05", 2);	/* int8 5: still >= 0 */
	expect_ok(&t, "training");
}

/* seats and participants: negative values fail with the minimum. */
static void
test_training_seats_negative(void **state)
{
	struct tev	t;

	tev_base(&t, "training", NULL);
	tev_int(&t, "seats", -1);
	expect_schema(&t, "training", "seats: -1 is negative, the minimum is 0");
	tev_base(&t, "training", NULL);
	tev_int(&t, "participants", -40);
	expect_schema(&t, "training",
	    "participants: -40 is negative, the minimum is 0");
}

/* seats: a float or a string is not an integer. */
static void
test_training_seats_type(void **state)
{
	struct tev	t;

	tev_base(&t, "training", NULL);
	tev_key(&t, "seats");
	msgpack_pack_double(&t.pk, 30.0);
	expect_schema(&t, "training", "seats: float is not an integer");
	tev_base(&t, "training", NULL);
	tev_str(&t, "participants", "12");
	expect_schema(&t, "training",
	    "participants: string is not an integer");
	tev_base(&t, "training", NULL);
	tev_uint(&t, "seats", (uint64_t)INT64_MAX + 1);
	expect_schema(&t, "training", "seats: 9223372036854775808 is out of "
	    "the int64 range (the limit is 9223372036854775807)");
}

/* participants <= seats when both are given; either alone is fine. */
static void
test_training_participants_vs_seats(void **state)
{
	struct tev	t;

	tev_base(&t, "training", NULL);
	tev_int(&t, "seats", 10);
	tev_int(&t, "participants", 10);
	expect_ok(&t, "training");
	tev_base(&t, "training", NULL);
	tev_int(&t, "participants", 500);
	expect_ok(&t, "training");
	tev_base(&t, "training", NULL);
	tev_int(&t, "seats", 3);
	expect_ok(&t, "training");
	tev_base(&t, "training", NULL);
	tev_int(&t, "participants", 12);
	tev_int(&t, "seats", 10);
	expect_schema(&t, "training", "participants: 12 is over seats 10");
}

/* ends_at >= starts_at for trainings too. */
static void
test_training_ends_at(void **state)
{
	struct tev	t;

	tev_base(&t, "training", "starts_at");
	tev_int(&t, "starts_at", 9);
	tev_int(&t, "ends_at", 9);
	expect_ok(&t, "training");
	tev_base(&t, "training", "starts_at");
	tev_int(&t, "starts_at", 9);
	tev_int(&t, "ends_at", 5);
	expect_schema(&t, "training", "ends_at: 5 is before starts_at 9");
}

/* audience: up to 64 strings. */
static void
test_training_audience(void **state)
{
	struct tev	t;

	tev_base(&t, "training", NULL);
	tev_nstrs(&t, "audience", 64);
	expect_ok(&t, "training");
	tev_base(&t, "training", NULL);
	tev_nstrs(&t, "audience", 65);
	expect_schema(&t, "training", "audience: 65 items, the limit is 64");
	tev_base(&t, "training", NULL);
	tev_str(&t, "audience", "KBRI Seoul");
	expect_schema(&t, "training", "audience: string is not an array");
}

/* notes: 8192 for trainings too. */
static void
test_training_notes_limit(void **state)
{
	struct tev	t;

	tev_base(&t, "training", NULL);
	tev_fill(&t, "notes", 'n', 8192);
	expect_ok(&t, "training");
	tev_base(&t, "training", NULL);
	tev_fill(&t, "notes", 'n', 8193);
	expect_schema(&t, "training",
	    "notes: string of 8193 bytes is over the limit of 8192");
}

/* Meeting-only keys are unknown to trainings. */
static void
test_training_rejects_meeting_keys(void **state)
{
	struct tev	t;

	tev_base(&t, "training", NULL);
	tev_str(&t, "kind", "bilateral");
	expect_schema(&t, "training", "kind: unknown key for training (only "
	    "keys starting with x_ may be added)");
}

/* ---------------------------------------------------------------- */
/* attache                                                           */

/* Each required attaché key, left out, is named as missing. */
static void
test_attache_required(void **state)
{
	static const char *const keys[] = { "person", "role", "post", NULL };
	struct tev	t;
	char		want[128];
	int		i;

	for (i = 0; keys[i] != NULL; i++) {
		tev_base(&t, "attache", keys[i]);
		snprintf(want, sizeof want,
		    "%s: missing (required for attache)", keys[i]);
		expect_schema(&t, "attache", want);
	}
}

/* person and post: 128 bytes pass, 129 fail. */
static void
test_attache_person_post_limits(void **state)
{
	struct tev	t;

	tev_base(&t, "attache", "person post");
	tev_fill(&t, "person", 'p', 128);
	tev_fill(&t, "post", 'q', 128);
	expect_ok(&t, "attache");
	tev_base(&t, "attache", "person");
	tev_fill(&t, "person", 'p', 129);
	expect_schema(&t, "attache",
	    "person: string of 129 bytes is over the limit of 128");
	tev_base(&t, "attache", "post");
	tev_fill(&t, "post", 'q', 129);
	expect_schema(&t, "attache",
	    "post: string of 129 bytes is over the limit of 128");
}

/* role: each of the three passes; others list them. */
static void
test_attache_role(void **state)
{
	static const char *const roles[] = {
		"attache", "technical_staff", "head_of_division", NULL
	};
	struct tev	t;
	int		i;

	for (i = 0; roles[i] != NULL; i++) {
		tev_base(&t, "attache", "role");
		tev_str(&t, "role", roles[i]);
		expect_ok(&t, "attache");
	}
	tev_base(&t, "attache", "role");
	tev_str(&t, "role", "ambassador");
	expect_schema(&t, "attache", "role: \"ambassador\" is not one of "
	    "attache, technical_staff, head_of_division");
}

/* priority: info and urgent pass; others list them. */
static void
test_attache_priority(void **state)
{
	struct tev	t;

	tev_base(&t, "attache", NULL);
	tev_str(&t, "priority", "info");
	expect_ok(&t, "attache");
	tev_base(&t, "attache", NULL);
	tev_str(&t, "priority", "urgent");
	expect_ok(&t, "attache");
	tev_base(&t, "attache", NULL);
	tev_str(&t, "priority", "high");
	expect_schema(&t, "attache",
	    "priority: \"high\" is not one of info, urgent");
	tev_base(&t, "attache", NULL);
	tev_int(&t, "priority", 1);
	expect_schema(&t, "attache", "priority: integer is not a string");
	tev_base(&t, "attache", NULL);
	tev_str(&t, "priority", "");
	expect_schema(&t, "attache",
	    "priority: \"\" is not one of info, urgent");
}

/* message: 8192 bytes pass, 8193 fail. */
static void
test_attache_message_limit(void **state)
{
	struct tev	t;

	tev_base(&t, "attache", NULL);
	tev_fill(&t, "message", 'm', 8192);
	expect_ok(&t, "attache");
	tev_base(&t, "attache", NULL);
	tev_fill(&t, "message", 'm', 8193);
	expect_schema(&t, "attache",
	    "message: string of 8193 bytes is over the limit of 8192");
}

/* report needs a message; other actions do not. */
static void
test_attache_report_needs_message(void **state)
{
	struct tev	t;

	tev_base(&t, "attache", "action");
	tev_str(&t, "action", "report");
	expect_schema(&t, "attache", "message: missing (required for report)");
	tev_base(&t, "attache", "action");
	tev_str(&t, "action", "report");
	tev_str(&t, "message", "Quarterly report on placements.");
	expect_ok(&t, "attache");
	tev_base(&t, "attache", "action");
	tev_str(&t, "action", "departed");
	expect_ok(&t, "attache");
}

/* A report's message, being required, is not empty. */
static void
test_attache_report_empty_message(void **state)
{
	struct tev	t;

	tev_base(&t, "attache", "action");
	tev_str(&t, "action", "report");
	tev_str(&t, "message", "");
	expect_schema(&t, "attache",
	    "message: empty string (required for report)");
	tev_base(&t, "attache", NULL);
	tev_str(&t, "message", "");
	expect_ok(&t, "attache");
}

/* A report's missing message is found whatever the key order. */
static void
test_attache_report_order(void **state)
{
	struct tev	t;

	tev_init(&t);
	tev_str(&t, "message", "m");
	tev_str(&t, "action", "report");
	tev_str(&t, "id", "a-9");
	tev_str(&t, "country", "SA");
	tev_str(&t, "person", "p");
	tev_str(&t, "role", "technical_staff");
	tev_str(&t, "post", "KJRI Jeddah");
	expect_ok(&t, "attache");
}

/* contact: a map of strings passes, empty included. */
static void
test_attache_contact_ok(void **state)
{
	struct tev	t;

	tev_base(&t, "attache", NULL);
	tev_key(&t, "contact");
	msgpack_pack_map(&t.pk, 0);
	expect_ok(&t, "attache");
	tev_base(&t, "attache", NULL);
	tev_key(&t, "contact");
	msgpack_pack_map(&t.pk, 2);
	msgpack_pack_str_with_body(&t.pk, "phone", 5);
	msgpack_pack_str_with_body(&t.pk, "+852 2890 4421", 14);
	msgpack_pack_str_with_body(&t.pk, "", 0);
	msgpack_pack_str_with_body(&t.pk, "", 0);
	expect_ok(&t, "attache");
}

/* contact: 64 entries pass, 65 fail (section 4 sets no size: 64 is the
   cap that keeps the duplicate scan bounded). */
static void
test_attache_contact_cap(void **state)
{
	struct tev	t;
	char		k[16];
	int		n, i;

	for (n = 64; n <= 65; n++) {
		tev_base(&t, "attache", NULL);
		tev_key(&t, "contact");
		msgpack_pack_map(&t.pk, (size_t)n);
		for (i = 0; i < n; i++) {
			snprintf(k, sizeof k, "k%d", i);
			msgpack_pack_str_with_body(&t.pk, k, strlen(k));
			msgpack_pack_str_with_body(&t.pk, "v", 1);
		}
		if (n == 64)
			expect_ok(&t, "attache");
		else
			expect_schema(&t, "attache",
			    "contact: 65 entries, the limit is 64");
	}
}

/* contact: not a map, a non-string key, a non-string or nil value. */
static void
test_attache_contact_types(void **state)
{
	struct tev	t;

	tev_base(&t, "attache", NULL);
	tev_str(&t, "contact", "+82 2 224 5011");
	expect_schema(&t, "attache", "contact: string is not a map");

	tev_base(&t, "attache", NULL);
	tev_key(&t, "contact");
	msgpack_pack_map(&t.pk, 2);
	msgpack_pack_str_with_body(&t.pk, "phone", 5);
	msgpack_pack_str_with_body(&t.pk, "1", 1);
	msgpack_pack_int(&t.pk, 1);
	msgpack_pack_str_with_body(&t.pk, "1", 1);
	expect_schema(&t, "attache",
	    "contact: key #2 is integer, not a string");

	tev_base(&t, "attache", NULL);
	tev_key(&t, "contact");
	msgpack_pack_map(&t.pk, 1);
	msgpack_pack_str_with_body(&t.pk, "phone", 5);
	msgpack_pack_int(&t.pk, 822245011);
	expect_schema(&t, "attache", "contact.phone: integer is not a string");

	tev_base(&t, "attache", NULL);
	tev_key(&t, "contact");
	msgpack_pack_map(&t.pk, 1);
	msgpack_pack_str_with_body(&t.pk, "fax", 3);
	msgpack_pack_nil(&t.pk);
	expect_schema(&t, "attache", "contact.fax: nil is not a string");

	tev_base(&t, "attache", NULL);
	tev_key(&t, "contact");
	msgpack_pack_map(&t.pk, 1);
	msgpack_pack_str_with_body(&t.pk, "nested", 6);
	msgpack_pack_map(&t.pk, 0);
	expect_schema(&t, "attache", "contact.nested: map is not a string");
}

/* contact: UTF-8 is checked in keys and values. */
static void
test_attache_contact_utf8(void **state)
{
	struct tev	t;

	tev_base(&t, "attache", NULL);
	tev_key(&t, "contact");
	msgpack_pack_map(&t.pk, 1);
	msgpack_pack_str_with_body(&t.pk, "\xff", 1);
	msgpack_pack_str_with_body(&t.pk, "v", 1);
	expect_schema(&t, "attache", "contact: key #1 is not valid UTF-8");

	tev_base(&t, "attache", NULL);
	tev_key(&t, "contact");
	msgpack_pack_map(&t.pk, 1);
	msgpack_pack_str_with_body(&t.pk, "email", 5);
	msgpack_pack_str_with_body(&t.pk, "a\xc0\x80", 3);
	expect_schema(&t, "attache", "contact.email: string is not valid UTF-8");
}

/* contact: a key twice, and strings over 1024 bytes, are rejected. */
static void
test_attache_contact_dup_and_limit(void **state)
{
	struct tev	 t;
	char		*s = malloc(1025);
	char		 want[128];

	memset(s, 's', 1025);
	tev_base(&t, "attache", NULL);
	tev_key(&t, "contact");
	msgpack_pack_map(&t.pk, 2);
	msgpack_pack_str_with_body(&t.pk, "phone", 5);
	msgpack_pack_str_with_body(&t.pk, "1", 1);
	msgpack_pack_str_with_body(&t.pk, "phone", 5);
	msgpack_pack_str_with_body(&t.pk, "2", 1);
	expect_schema(&t, "attache", "contact.phone: duplicate key");

	tev_base(&t, "attache", NULL);
	tev_key(&t, "contact");
	msgpack_pack_map(&t.pk, 1);
	msgpack_pack_str_with_body(&t.pk, "note", 4);
	msgpack_pack_str_with_body(&t.pk, s, 1025);
	expect_schema(&t, "attache",
	    "contact.note: string of 1025 bytes is over the limit of 1024");

	tev_base(&t, "attache", NULL);
	tev_key(&t, "contact");
	msgpack_pack_map(&t.pk, 1);
	msgpack_pack_str_with_body(&t.pk, s, 1025);
	msgpack_pack_str_with_body(&t.pk, "v", 1);
	snprintf(want, sizeof want, "contact.%.48s...: key of 1025 bytes is "
	    "over the limit of 1024", s);
	expect_schema(&t, "attache", want);
	free(s);
}

/* effective_at: an integer. */
static void
test_attache_effective_at(void **state)
{
	struct tev	t;

	tev_base(&t, "attache", NULL);
	tev_int(&t, "effective_at", STARTS);
	expect_ok(&t, "attache");
	tev_base(&t, "attache", NULL);
	tev_str(&t, "effective_at", "now");
	expect_schema(&t, "attache", "effective_at: string is not an integer");
}

/* ---------------------------------------------------------------- */
/* The decoded event                                                 */

/* id, action, country and msg_id point into the body; the map is the
   whole body and its pair count is kept. */
static void
test_event_fields(void **state)
{
	struct tev		 t;
	struct event		 ev;
	struct schema_err	 err;
	const char		*buf;
	size_t			 len;

	tev_full(&t, "meeting", NULL);
	assert_int_equal(tev_decode(&t, "meeting", &ev, &err), 0);
	buf = tev_end(&t, &len);
	assert_ptr_equal(ev.h, H("meeting"));
	assert_int_equal(ev.id_len, 3);
	assert_memory_equal(ev.id, "m-1", 3);
	assert_true(ev.id > buf && ev.id < buf + len);
	assert_int_equal(ev.action_len, 9);
	assert_memory_equal(ev.action, "scheduled", 9);
	assert_string_equal(ev.country, "CH");
	assert_int_equal(ev.msg_id_len, 13);
	assert_memory_equal(ev.msg_id, "producer-1:42", 13);
	assert_true(ev.has_occurred_at);
	assert_true(ev.occurred_at == STARTS - 86400000);
	assert_ptr_equal(ev.map, buf);
	assert_int_equal(ev.map_len, len);
	assert_int_equal(ev.npairs, t.n);
	assert_false(ev.add_priority);
	tev_free(&t);
}

/* Without msg_id or occurred_at: msg_id NULL, occurred_at the time
   received. */
static void
test_event_defaults(void **state)
{
	struct tev		t;
	struct event		ev;
	struct schema_err	err;

	tev_base(&t, "training", NULL);
	assert_int_equal(tev_decode(&t, "training", &ev, &err), 0);
	assert_null(ev.msg_id);
	assert_int_equal(ev.msg_id_len, 0);
	assert_false(ev.has_occurred_at);
	assert_true(ev.occurred_at == RECEIVED);
	assert_false(ev.add_priority);
	tev_free(&t);
}

/* sort_time: starts_at for meetings and trainings. */
static void
test_event_sort_time_starts_at(void **state)
{
	struct tev		t;
	struct event		ev;
	struct schema_err	err;

	tev_full(&t, "meeting", NULL);
	assert_int_equal(tev_decode(&t, "meeting", &ev, &err), 0);
	assert_true(ev.sort_time == STARTS);
	tev_free(&t);
	tev_full(&t, "training", NULL);
	assert_int_equal(tev_decode(&t, "training", &ev, &err), 0);
	assert_true(ev.sort_time == STARTS);
	tev_free(&t);
}

/* sort_time for attachés: effective_at, else occurred_at, else the time
   received. */
static void
test_event_sort_time_attache(void **state)
{
	struct tev		t;
	struct event		ev;
	struct schema_err	err;

	tev_full(&t, "attache", NULL);
	assert_int_equal(tev_decode(&t, "attache", &ev, &err), 0);
	assert_true(ev.sort_time == STARTS + 7);
	tev_free(&t);
	tev_full(&t, "attache", "effective_at");
	assert_int_equal(tev_decode(&t, "attache", &ev, &err), 0);
	assert_true(ev.sort_time == STARTS - 86400000);
	tev_free(&t);
	tev_base(&t, "attache", NULL);
	assert_int_equal(tev_decode(&t, "attache", &ev, &err), 0);
	assert_true(ev.sort_time == RECEIVED);
	tev_free(&t);
}

/* add_priority: set for an attaché without priority, not with one. */
static void
test_event_add_priority(void **state)
{
	struct tev		t;
	struct event		ev;
	struct schema_err	err;

	tev_base(&t, "attache", NULL);
	assert_int_equal(tev_decode(&t, "attache", &ev, &err), 0);
	assert_true(ev.add_priority);
	tev_free(&t);
	tev_base(&t, "attache", NULL);
	tev_str(&t, "priority", "info");
	assert_int_equal(tev_decode(&t, "attache", &ev, &err), 0);
	assert_false(ev.add_priority);
	tev_free(&t);
}

/* ---------------------------------------------------------------- */
/* Encoding                                                          */

/* Encode ev into sb. */
static void
encode(const struct event *ev, msgpack_sbuffer *sb)
{
	msgpack_packer	pk;

	msgpack_sbuffer_init(sb);
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	schema_encode_event(ev, &pk);
}

/* Find key in the map obj; NULL when absent. */
static const msgpack_object *
map_get(const msgpack_object *obj, const char *key)
{
	uint32_t	i;
	size_t		len = strlen(key);

	assert_int_equal(obj->type, MSGPACK_OBJECT_MAP);
	for (i = 0; i < obj->via.map.size; i++) {
		const msgpack_object_kv *kv = &obj->via.map.ptr[i];

		if (kv->key.type == MSGPACK_OBJECT_STR &&
		    kv->key.via.str.size == len &&
		    memcmp(kv->key.via.str.ptr, key, len) == 0)
			return (&kv->val);
	}
	return (NULL);
}

/* The stored form of an event with every key: the same pairs, byte for
   byte, after a rewritten header; nothing added. */
static void
test_encode_verbatim(void **state)
{
	struct tev		 t;
	struct event		 ev;
	struct schema_err	 err;
	msgpack_sbuffer		 sb;

	tev_full(&t, "attache", NULL);
	assert_int_equal(tev_decode(&t, "attache", &ev, &err), 0);
	encode(&ev, &sb);
	assert_int_equal(sb.size, t.out.size);
	assert_memory_equal(sb.data, t.out.data, sb.size);
	msgpack_sbuffer_destroy(&sb);
	tev_free(&t);
}

/* occurred_at is added, as the time received, when it was left out. */
static void
test_encode_adds_occurred_at(void **state)
{
	struct tev		 t;
	struct event		 ev;
	struct schema_err	 err;
	msgpack_sbuffer		 sb;
	msgpack_unpacked	 u;
	const msgpack_object	*v;

	tev_base(&t, "meeting", NULL);
	assert_int_equal(tev_decode(&t, "meeting", &ev, &err), 0);
	encode(&ev, &sb);
	msgpack_unpacked_init(&u);
	assert_int_equal(msgpack_unpack_next(&u, sb.data, sb.size, NULL),
	    MSGPACK_UNPACK_SUCCESS);
	assert_int_equal(u.data.via.map.size, t.n + 1);
	v = map_get(&u.data, "occurred_at");
	assert_non_null(v);
	assert_int_equal(v->type, MSGPACK_OBJECT_POSITIVE_INTEGER);
	assert_true(v->via.u64 == (uint64_t)RECEIVED);
	assert_null(map_get(&u.data, "priority"));
	/* The pairs sent come first, unchanged. */
	assert_memory_equal(sb.data + 1, t.out.data + 1, t.out.size - 1);
	msgpack_unpacked_destroy(&u);
	msgpack_sbuffer_destroy(&sb);
	tev_free(&t);
}

/* An attaché without priority gets priority "info" and occurred_at. */
static void
test_encode_adds_priority(void **state)
{
	struct tev		 t;
	struct event		 ev;
	struct schema_err	 err;
	msgpack_sbuffer		 sb;
	msgpack_unpacked	 u;
	const msgpack_object	*v;

	tev_base(&t, "attache", NULL);
	assert_int_equal(tev_decode(&t, "attache", &ev, &err), 0);
	encode(&ev, &sb);
	msgpack_unpacked_init(&u);
	assert_int_equal(msgpack_unpack_next(&u, sb.data, sb.size, NULL),
	    MSGPACK_UNPACK_SUCCESS);
	assert_int_equal(u.data.via.map.size, t.n + 2);
	v = map_get(&u.data, "priority");
	assert_non_null(v);
	assert_int_equal(v->type, MSGPACK_OBJECT_STR);
	assert_int_equal(v->via.str.size, 4);
	assert_memory_equal(v->via.str.ptr, "info", 4);
	assert_non_null(map_get(&u.data, "occurred_at"));
	msgpack_unpacked_destroy(&u);
	msgpack_sbuffer_destroy(&sb);
	tev_free(&t);
}

/* The stored form is itself a valid event, with nothing left to add. */
static void
test_encode_roundtrip(void **state)
{
	struct tev		 t;
	struct event		 ev, ev2;
	struct schema_err	 err;
	msgpack_sbuffer		 sb;

	tev_base(&t, "attache", NULL);
	assert_int_equal(tev_decode(&t, "attache", &ev, &err), 0);
	encode(&ev, &sb);
	assert_int_equal(schema_decode_event(H("attache"), sb.data, sb.size,
	    RECEIVED + 999, &ev2, &err), 0);
	assert_true(ev2.has_occurred_at);
	assert_true(ev2.occurred_at == RECEIVED);
	assert_false(ev2.add_priority);
	assert_int_equal(ev2.npairs, ev.npairs + 2);
	msgpack_sbuffer_destroy(&sb);
	tev_free(&t);
}

/* Non-minimal encodings pass through: a uint32-encoded 5 stays 5 bytes,
   a str8-encoded short string stays str8. */
static void
test_encode_non_minimal(void **state)
{
	static const uint8_t u32five[] = { 0xce, 0x00, 0x00, 0x00, 0x05 };
	static const uint8_t str8[] = { 0xd9, 0x04, 'B', 'e', 'r', 'n' };
	struct tev		 t;
	struct event		 ev;
	struct schema_err	 err;
	msgpack_sbuffer		 sb;

	tev_base(&t, "meeting", "starts_at");
	tev_raw(&t, "starts_at", u32five, sizeof u32five);
	tev_raw(&t, "city", str8, sizeof str8);
	tev_int(&t, "occurred_at", 1);
	assert_int_equal(tev_decode(&t, "meeting", &ev, &err), 0);
	assert_true(ev.sort_time == 5);
	encode(&ev, &sb);
	assert_int_equal(sb.size, t.out.size);
	assert_memory_equal(sb.data, t.out.data, sb.size);
	assert_non_null(memmem(sb.data, sb.size, u32five, sizeof u32five));
	assert_non_null(memmem(sb.data, sb.size, str8, sizeof str8));
	msgpack_sbuffer_destroy(&sb);
	tev_free(&t);
}

/* x_ values pass through byte for byte, whatever they hold. */
static void
test_encode_x_passthrough(void **state)
{
	static const uint8_t xv[] = {
		0x82, 0x01, 0xc0, 0xa1, 'a',		/* {1: nil, "a": */
		0x92, 0xcb, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0,	/* [1.0, */
		0xc7, 0x01, 0x05, 0xff			/* ext]} */
	};
	struct tev		 t;
	struct event		 ev;
	struct schema_err	 err;
	msgpack_sbuffer		 sb;
	size_t			 body_off;

	tev_base(&t, "meeting", NULL);
	tev_raw(&t, "x_blob", xv, sizeof xv);
	tev_strn(&t, "x_raw", "\xff\xfe", 2);
	assert_int_equal(tev_decode(&t, "meeting", &ev, &err), 0);
	encode(&ev, &sb);
	/* Same header size (fixmap both), the pairs identical, then the
	   added occurred_at. */
	body_off = 1;
	assert_true(sb.size > t.out.size);
	assert_memory_equal(sb.data + body_off, t.out.data + body_off,
	    t.out.size - body_off);
	assert_non_null(memmem(sb.data, sb.size, xv, sizeof xv));
	msgpack_sbuffer_destroy(&sb);
	tev_free(&t);
}

/* A map16 or map32 header is rewritten as the smallest one for the new
   count; the pairs after it are unchanged. */
static void
test_encode_rewrites_wide_header(void **state)
{
	struct tev		 t;
	struct event		 ev;
	struct schema_err	 err;
	msgpack_sbuffer		 sb;
	int			 w;

	for (w = 16; w <= 32; w += 16) {
		tev_base(&t, "meeting", NULL);
		t.map_hdr = w;
		assert_int_equal(tev_decode(&t, "meeting", &ev, &err), 0);
		encode(&ev, &sb);
		assert_int_equal((uint8_t)sb.data[0], 0x80 | (t.n + 1));
		assert_memory_equal(sb.data + 1, t.body.data, t.body.size);
		msgpack_sbuffer_destroy(&sb);
		tev_free(&t);
	}
}

/* A negative occurred_at default (a clock before 1970) encodes as sent. */
static void
test_encode_negative_default(void **state)
{
	struct tev		 t;
	struct event		 ev, ev2;
	struct schema_err	 err;
	msgpack_sbuffer		 sb;
	const char		*buf;
	size_t			 len;

	tev_base(&t, "meeting", NULL);
	buf = tev_end(&t, &len);
	assert_int_equal(schema_decode_event(H("meeting"), buf, len, -42, &ev,
	    &err), 0);
	encode(&ev, &sb);
	assert_int_equal(schema_decode_event(H("meeting"), sb.data, sb.size,
	    0, &ev2, &err), 0);
	assert_true(ev2.occurred_at == -42);
	msgpack_sbuffer_destroy(&sb);
	tev_free(&t);
}

/* ---------------------------------------------------------------- */
/* Reasons and handlers                                              */

/* Reason names are section 10's, and parse back. */
static void
test_reason_names(void **state)
{
	static const char *const names[REASON_COUNT] = {
		"frames", "topic", "too_large", "msgpack", "not_map", "schema",
		"unavailable"
	};
	int	i;

	for (i = 0; i < REASON_COUNT; i++) {
		assert_string_equal(schema_reason_name((enum reason)i),
		    names[i]);
		assert_int_equal(schema_reason_parse(names[i]), i);
	}
	assert_int_equal(schema_reason_parse("duplicate"), -1);
	assert_int_equal(schema_reason_parse("Schema"), -1);
	assert_int_equal(schema_reason_parse(""), -1);
	assert_int_equal(schema_reason_parse(NULL), -1);
	assert_string_equal(schema_reason_name(REASON_COUNT), "unknown");
}

/* handlers_find matches a type exactly: no prefixes, no case folding. */
static void
test_handlers_find(void **state)
{
	assert_string_equal(handlers_find("meeting", 7)->type, "meeting");
	assert_string_equal(handlers_find("training", 8)->type, "training");
	assert_string_equal(handlers_find("attache", 7)->type, "attache");
	assert_null(handlers_find("meetings", 8));
	assert_null(handlers_find("meeting", 6));
	assert_null(handlers_find("Meeting", 7));
	assert_null(handlers_find("", 0));
	assert_null(handlers_find(NULL, 0));
	assert_null(handlers_find("meeting\0", 8));
}

/* The table lists the three types in order, with their list times and
   priority defaults. */
static void
test_handlers_table(void **state)
{
	assert_string_equal(handlers[0]->type, "meeting");
	assert_string_equal(handlers[1]->type, "training");
	assert_string_equal(handlers[2]->type, "attache");
	assert_null(handlers[3]);
	assert_string_equal(handlers[0]->time_key, "starts_at");
	assert_string_equal(handlers[1]->time_key, "starts_at");
	assert_string_equal(handlers[2]->time_key, "effective_at");
	assert_null(handlers[0]->default_priority);
	assert_null(handlers[1]->default_priority);
	assert_string_equal(handlers[2]->default_priority, "info");
}

/* The same body is valid for its own type only. */
static void
test_type_matters(void **state)
{
	struct tev	t;

	tev_base(&t, "attache", NULL);
	expect_schema(&t, "meeting", "action: \"arrived\" is not an action of "
	    "meeting (scheduled, updated, postponed, cancelled, concluded)");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_minimal_events_ok),
		cmocka_unit_test(test_full_events_ok),
		cmocka_unit_test(test_key_order_free),
		cmocka_unit_test(test_every_action_ok),
		cmocka_unit_test(test_empty_body),
		cmocka_unit_test(test_truncated_body),
		cmocka_unit_test(test_trailing_bytes),
		cmocka_unit_test(test_trailing_before_not_map),
		cmocka_unit_test(test_c1_body),
		cmocka_unit_test(test_not_map),
		cmocka_unit_test(test_empty_map_is_schema),
		cmocka_unit_test(test_depth_16_ok_17_rejected),
		cmocka_unit_test(test_depth_before_schema),
		cmocka_unit_test(test_huge_map_header),
		cmocka_unit_test(test_non_string_key),
		cmocka_unit_test(test_key_invalid_utf8),
		cmocka_unit_test(test_unknown_key),
		cmocka_unit_test(test_keys_case_sensitive),
		cmocka_unit_test(test_key_with_nul),
		cmocka_unit_test(test_bare_x_key),
		cmocka_unit_test(test_duplicate_key),
		cmocka_unit_test(test_duplicate_x_key),
		cmocka_unit_test(test_nil_value),
		cmocka_unit_test(test_detail_long_key_cut),
		cmocka_unit_test(test_detail_escapes_controls),
		cmocka_unit_test(test_detail_utf8_cut),
		cmocka_unit_test(test_detail_cut_to_size),
		cmocka_unit_test(test_x_keys_32_ok_33_rejected),
		cmocka_unit_test(test_x_keys_10000_fast),
		cmocka_unit_test(test_x_values_opaque),
		cmocka_unit_test(test_x_key_length),
		cmocka_unit_test(test_common_missing),
		cmocka_unit_test(test_id_ok),
		cmocka_unit_test(test_id_too_long),
		cmocka_unit_test(test_id_empty),
		cmocka_unit_test(test_id_bad_chars),
		cmocka_unit_test(test_id_not_string),
		cmocka_unit_test(test_action_of_other_type),
		cmocka_unit_test(test_action_exact),
		cmocka_unit_test(test_action_not_string),
		cmocka_unit_test(test_country_ok),
		cmocka_unit_test(test_country_reserved_rejected),
		cmocka_unit_test(test_country_lowercase),
		cmocka_unit_test(test_country_shape),
		cmocka_unit_test(test_country_table_249),
		cmocka_unit_test(test_msg_id),
		cmocka_unit_test(test_msg_id_any_utf8),
		cmocka_unit_test(test_source),
		cmocka_unit_test(test_occurred_at_ok),
		cmocka_unit_test(test_occurred_at_not_int),
		cmocka_unit_test(test_int_over_int64),
		cmocka_unit_test(test_default_string_limit),
		cmocka_unit_test(test_limits_are_bytes),
		cmocka_unit_test(test_value_invalid_utf8),
		cmocka_unit_test(test_value_utf8_ok),
		cmocka_unit_test(test_required_non_empty),
		cmocka_unit_test(test_string_wrong_type),
		cmocka_unit_test(test_meeting_required),
		cmocka_unit_test(test_meeting_cancelled_needs_snapshot),
		cmocka_unit_test(test_meeting_title_limit),
		cmocka_unit_test(test_meeting_kind),
		cmocka_unit_test(test_meeting_counterparts_count),
		cmocka_unit_test(test_meeting_counterparts_items),
		cmocka_unit_test(test_meeting_counterparts_item_limit),
		cmocka_unit_test(test_meeting_counterparts_not_array),
		cmocka_unit_test(test_array_count_checked_first),
		cmocka_unit_test(test_meeting_agenda_delegation),
		cmocka_unit_test(test_meeting_city_venue),
		cmocka_unit_test(test_meeting_notes_limit),
		cmocka_unit_test(test_meeting_starts_at_type),
		cmocka_unit_test(test_meeting_starts_at_encodings),
		cmocka_unit_test(test_meeting_ends_at),
		cmocka_unit_test(test_meeting_ends_at_type),
		cmocka_unit_test(test_training_required),
		cmocka_unit_test(test_training_title_limit),
		cmocka_unit_test(test_training_format),
		cmocka_unit_test(test_training_provider),
		cmocka_unit_test(test_training_seats_ok),
		cmocka_unit_test(test_training_seats_negative),
		cmocka_unit_test(test_training_seats_type),
		cmocka_unit_test(test_training_participants_vs_seats),
		cmocka_unit_test(test_training_ends_at),
		cmocka_unit_test(test_training_audience),
		cmocka_unit_test(test_training_notes_limit),
		cmocka_unit_test(test_training_rejects_meeting_keys),
		cmocka_unit_test(test_attache_required),
		cmocka_unit_test(test_attache_person_post_limits),
		cmocka_unit_test(test_attache_role),
		cmocka_unit_test(test_attache_priority),
		cmocka_unit_test(test_attache_message_limit),
		cmocka_unit_test(test_attache_report_needs_message),
		cmocka_unit_test(test_attache_report_empty_message),
		cmocka_unit_test(test_attache_report_order),
		cmocka_unit_test(test_attache_contact_ok),
		cmocka_unit_test(test_attache_contact_cap),
		cmocka_unit_test(test_attache_contact_types),
		cmocka_unit_test(test_attache_contact_utf8),
		cmocka_unit_test(test_attache_contact_dup_and_limit),
		cmocka_unit_test(test_attache_effective_at),
		cmocka_unit_test(test_event_fields),
		cmocka_unit_test(test_event_defaults),
		cmocka_unit_test(test_event_sort_time_starts_at),
		cmocka_unit_test(test_event_sort_time_attache),
		cmocka_unit_test(test_event_add_priority),
		cmocka_unit_test(test_encode_verbatim),
		cmocka_unit_test(test_encode_adds_occurred_at),
		cmocka_unit_test(test_encode_adds_priority),
		cmocka_unit_test(test_encode_roundtrip),
		cmocka_unit_test(test_encode_non_minimal),
		cmocka_unit_test(test_encode_x_passthrough),
		cmocka_unit_test(test_encode_rewrites_wide_header),
		cmocka_unit_test(test_encode_negative_default),
		cmocka_unit_test(test_reason_names),
		cmocka_unit_test(test_handlers_find),
		cmocka_unit_test(test_handlers_table),
		cmocka_unit_test(test_type_matters),
	};

	return (cmocka_run_group_tests_name("schema", tests, NULL, NULL));
}
