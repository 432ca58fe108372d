/*
 * mpjson.h — JSON <-> MessagePack through jansson, never by hand.
 *
 * Integers stay integers (JSON 3 is a MessagePack int, 3.0 a float64),
 * strings stay byte-for-byte UTF-8, and what JSON cannot hold (binary,
 * ext, non-string map keys, integers beyond int64, invalid UTF-8) is
 * refused with a message naming the path ("event.x_blob").
 *
 * Ownership: mpjson_to_json() returns a new reference the caller
 * json_decref()s; *cause strings are the caller's to free().
 */
#ifndef WARTA_MPJSON_H
#define WARTA_MPJSON_H

#include <jansson.h>
#include <msgpack.h>

/* Pack a JSON value with pk; -1 with *cause on what cannot be packed. */
int	 mpjson_pack(msgpack_packer *pk, const json_t *j, char **cause);

/* Pack a JSON value into a new buffer (the caller destroys sb); -1 with
   *cause. */
int	 mpjson_pack_buffer(msgpack_sbuffer *sb, const json_t *j, char **cause);

/* A JSON value for a MessagePack object, path naming it in messages; NULL
   with *cause. */
json_t	*mpjson_to_json(const msgpack_object *o, const char *path,
	    char **cause);

#endif
