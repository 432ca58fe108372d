/*
 * jsonmap.c — notification bodies and api replies as JSON for HTTP (the
 * /v1/ replies, SSE `data:` lines, webhook bodies), through the client's
 * own mapping (clients/mpjson.c, jansson), so JSON reads the same whether
 * it comes from `warta` or from the daemon.
 *
 * What JSON cannot hold (a binary or ext value, an integer beyond int64,
 * passed through in an `x_` key) does not lose the rest: a map is mapped
 * key by key, a value with no JSON form becomes null, and the map gets a
 * key "unrepresentable" naming the value and why.  The maps of an `items`
 * array are mapped the same way, one by one, so one such event does not
 * spoil a page of them.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <msgpack.h>

#include "clients/mpjson.h"
#include "daemon/log.h"
#include "daemon/wartad.h"
#include "daemon/xmalloc.h"
#include "schema/mp.h"

static json_t	*jsonmap_map(const msgpack_object *, const char *path);

/* Why a value has no JSON form, as a JSON string: the cause names its
 * path, whose keys (inside an x_ value) may be invalid UTF-8. */
static json_t *
jsonmap_why(const char *cause)
{
	const char *s = cause != NULL ? cause : "no JSON form";
	size_t len = strlen(s);
	char *clean = xmalloc(3 * len + 1);
	json_t *j;

	len = mp_utf8_clean((const uint8_t *)s, len, clean);
	j = json_stringn(clean, len);
	free(clean);
	return j;
}

/* An items array: each map mapped on its own. */
static json_t *
jsonmap_items(const msgpack_object *o, const char *path)
{
	json_t *a = json_array();

	for (uint32_t i = 0; i < o->via.array.size; i++)
		json_array_append_new(a, jsonmap_map(&o->via.array.ptr[i],
		    path));
	return a;
}

/* A map, key by key; values with no JSON form are null and named. */
static json_t *
jsonmap_map(const msgpack_object *o, const char *path)
{
	json_t *j, *v;
	char *cause = NULL, *why = NULL;

	if (o->type != MSGPACK_OBJECT_MAP) {
		if ((j = mpjson_to_json(o, path, &cause)) == NULL) {
			j = json_object();
			json_object_set_new(j, "unrepresentable",
			    jsonmap_why(cause));
		}
		free(cause);
		return j;
	}
	j = json_object();
	for (uint32_t i = 0; i < o->via.map.size; i++) {
		const msgpack_object_kv *kv = &o->via.map.ptr[i];
		char key[256];

		if (kv->key.type != MSGPACK_OBJECT_STR)
			continue;	/* our own maps have string keys */
		snprintf(key, sizeof key, "%.*s",
		    (int)(kv->key.via.str.size > 200 ? 200 :
		    kv->key.via.str.size), kv->key.via.str.ptr);
		if (strcmp(key, "items") == 0 &&
		    kv->val.type == MSGPACK_OBJECT_ARRAY)
			v = jsonmap_items(&kv->val, key);
		else if ((v = mpjson_to_json(&kv->val, key, &cause)) == NULL) {
			v = json_null();
			if (why == NULL)
				why = cause;
			else
				free(cause);
			cause = NULL;
		}
		json_object_set_new(j, key, v);
	}
	if (why != NULL) {
		json_object_set_new(j, "unrepresentable", jsonmap_why(why));
		free(why);
	}
	return j;
}

/*
 * A MessagePack map (a notification body or an api reply, without its
 * "ok" key, since the HTTP status says it) as one line of compact JSON;
 * NULL when mp is not MessagePack at all.
 */
char *
jsonmap_dumps(const uint8_t *mp, size_t len)
{
	msgpack_unpacked u;
	size_t off = 0;
	json_t *j;
	char *s = NULL;

	msgpack_unpacked_init(&u);
	if (msgpack_unpack_next(&u, (const char *)mp, len, &off) ==
	    MSGPACK_UNPACK_SUCCESS) {
		j = jsonmap_map(&u.data, "");
		json_object_del(j, "ok");
		s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
		json_decref(j);
		if (s == NULL)
			fatalx("jsonmap: out of memory");
	}
	msgpack_unpacked_destroy(&u);
	return s;
}
