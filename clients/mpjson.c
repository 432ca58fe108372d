/*
 * mpjson.c — JSON <-> MessagePack conversion with jansson and msgpack-c.
 */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <msgpack.h>

#include "clients/mpjson.h"

/* MessagePack nesting this deep is refused rather than recursed into. */
#define MPJSON_MAX_DEPTH	64

static void	 mpjson_cause(char **, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

/* Set *cause to a new formatted message. */
static void
mpjson_cause(char **cause, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	if (vasprintf(cause, fmt, ap) == -1)
		*cause = NULL;
	va_end(ap);
}

/* Pack j with pk, depth levels down. */
static int
mpjson_pack_at(msgpack_packer *pk, const json_t *j, int depth, char **cause)
{
	const char	*key;
	void		*it;
	size_t		 i, n, klen;

	if (depth > MPJSON_MAX_DEPTH) {
		mpjson_cause(cause, "JSON nested deeper than %d levels",
		    MPJSON_MAX_DEPTH);
		return -1;
	}
	switch (json_typeof(j)) {
	case JSON_OBJECT:
		msgpack_pack_map(pk, json_object_size(j));
		for (it = json_object_iter((json_t *)j); it != NULL;
		    it = json_object_iter_next((json_t *)j, it)) {
			key = json_object_iter_key(it);
			klen = json_object_iter_key_len(it);
			msgpack_pack_str_with_body(pk, key, klen);
			if (mpjson_pack_at(pk, json_object_iter_value(it),
			    depth + 1, cause) == -1)
				return -1;
		}
		return 0;
	case JSON_ARRAY:
		n = json_array_size(j);
		msgpack_pack_array(pk, n);
		for (i = 0; i < n; i++)
			if (mpjson_pack_at(pk, json_array_get(j, i),
			    depth + 1, cause) == -1)
				return -1;
		return 0;
	case JSON_STRING:
		return msgpack_pack_str_with_body(pk, json_string_value(j),
		    json_string_length(j));
	case JSON_INTEGER:
		return msgpack_pack_int64(pk, json_integer_value(j));
	case JSON_REAL:
		return msgpack_pack_double(pk, json_real_value(j));
	case JSON_TRUE:
		return msgpack_pack_true(pk);
	case JSON_FALSE:
		return msgpack_pack_false(pk);
	case JSON_NULL:
		return msgpack_pack_nil(pk);
	}
	mpjson_cause(cause, "unknown JSON type");
	return -1;
}

/* Pack a JSON value as MessagePack. */
int
mpjson_pack(msgpack_packer *pk, const json_t *j, char **cause)
{
	*cause = NULL;
	return mpjson_pack_at(pk, j, 1, cause);
}

/* Pack a JSON value into a fresh buffer. */
int
mpjson_pack_buffer(msgpack_sbuffer *sb, const json_t *j, char **cause)
{
	msgpack_packer	pk;

	msgpack_sbuffer_init(sb);
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	return mpjson_pack(&pk, j, cause);
}

/* Append ".key" or "[i]" to a path. */
static void
mpjson_path(char *dst, size_t len, const char *path, const char *key,
    size_t klen, long idx)
{
	if (key != NULL)
		snprintf(dst, len, "%s%s%.*s", path, *path ? "." : "",
		    (int)(klen > 64 ? 64 : klen), key);
	else
		snprintf(dst, len, "%s[%ld]", path, idx);
}

/* The JSON value of o at path, depth levels down. */
static json_t *
mpjson_to_json_at(const msgpack_object *o, const char *path, int depth,
    char **cause)
{
	const msgpack_object_kv	*kv;
	json_t			*j, *v;
	char			 sub[512];
	const char		*where = *path ? path : "value";
	uint32_t		 i;

	if (depth > MPJSON_MAX_DEPTH) {
		mpjson_cause(cause, "%s: nested deeper than %d levels", where,
		    MPJSON_MAX_DEPTH);
		return NULL;
	}
	switch (o->type) {
	case MSGPACK_OBJECT_NIL:
		return json_null();
	case MSGPACK_OBJECT_BOOLEAN:
		return json_boolean(o->via.boolean);
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		if (o->via.u64 > INT64_MAX) {
			mpjson_cause(cause, "%s: integer %" PRIu64 " is beyond "
			    "what JSON tools read exactly", where, o->via.u64);
			return NULL;
		}
		return json_integer((json_int_t)o->via.u64);
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		return json_integer((json_int_t)o->via.i64);
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		if (!isfinite(o->via.f64)) {
			mpjson_cause(cause, "%s: %g has no JSON form", where,
			    o->via.f64);
			return NULL;
		}
		return json_real(o->via.f64);
	case MSGPACK_OBJECT_STR:
		if ((j = json_stringn(o->via.str.ptr, o->via.str.size))
		    == NULL)
			mpjson_cause(cause, "%s: a string that is not valid "
			    "UTF-8", where);
		return j;
	case MSGPACK_OBJECT_BIN:
		mpjson_cause(cause, "%s: binary value (%" PRIu32 " bytes) has "
		    "no JSON form", where, o->via.bin.size);
		return NULL;
	case MSGPACK_OBJECT_EXT:
		mpjson_cause(cause, "%s: MessagePack ext type %d has no JSON "
		    "form", where, o->via.ext.type);
		return NULL;
	case MSGPACK_OBJECT_ARRAY:
		j = json_array();
		for (i = 0; i < o->via.array.size; i++) {
			mpjson_path(sub, sizeof sub, path, NULL, 0, (long)i);
			if ((v = mpjson_to_json_at(&o->via.array.ptr[i], sub,
			    depth + 1, cause)) == NULL) {
				json_decref(j);
				return NULL;
			}
			json_array_append_new(j, v);
		}
		return j;
	case MSGPACK_OBJECT_MAP:
		j = json_object();
		for (i = 0; i < o->via.map.size; i++) {
			kv = &o->via.map.ptr[i];
			if (kv->key.type != MSGPACK_OBJECT_STR) {
				mpjson_cause(cause, "%s: a map key that is not "
				    "a string", where);
				json_decref(j);
				return NULL;
			}
			mpjson_path(sub, sizeof sub, path, kv->key.via.str.ptr,
			    kv->key.via.str.size, 0);
			if ((v = mpjson_to_json_at(&kv->val, sub, depth + 1,
			    cause)) == NULL) {
				json_decref(j);
				return NULL;
			}
			if (json_object_setn_new(j, kv->key.via.str.ptr,
			    kv->key.via.str.size, v) == -1) {
				mpjson_cause(cause, "%s: a key that is not "
				    "valid UTF-8", sub);
				json_decref(j);
				return NULL;
			}
		}
		return j;
	}
	mpjson_cause(cause, "%s: unknown MessagePack type %d", where,
	    (int)o->type);
	return NULL;
}

/* A JSON value for a MessagePack object. */
json_t *
mpjson_to_json(const msgpack_object *o, const char *path, char **cause)
{
	*cause = NULL;
	return mpjson_to_json_at(o, path != NULL ? path : "", 1, cause);
}
