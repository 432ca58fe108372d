/*
 * field.h — how an event key is described, for the per-type tables in
 * handlers/ and the common keys in schema.c.
 *
 * A type's table is an array of struct field ending with FIELD_END, written
 * with the FIELD_* macros below so each row reads like the table in
 * PROTOCOL.md section 4:
 *
 *	FIELD_STR("title", 256, FIELD_REQUIRED),
 *	FIELD_ENUM("kind", meeting_kinds, FIELD_REQUIRED),
 *	FIELD_STR_ARRAY("counterparts", 1, 32, 1, FIELD_REQUIRED),
 *	FIELD_TIME("ends_at", FIELD_OPTIONAL),
 *
 * schema.c checks each value against its row; rules that involve two keys
 * are the handler's check function.  Internal to schema/ and handlers/.
 */
#ifndef WARTA_FIELD_H
#define WARTA_FIELD_H

#include <stdbool.h>
#include <stdint.h>

#include "schema/schema.h"

enum field_kind {
	FIELD_STR,		/* string of min_len..max_len bytes */
	FIELD_ENUM,		/* string, one of values */
	FIELD_INT,		/* integer in the int64 range */
	FIELD_UINT,		/* integer in 0..INT64_MAX */
	FIELD_TIME,		/* integer, Unix milliseconds */
	FIELD_STR_ARRAY,	/* array of min_items..max_items strings,
				   each min_len..max_len bytes */
	FIELD_STR_MAP,		/* map of at most max_items string keys to
				   strings, each at most max_len bytes */
	FIELD_TOKEN,		/* string of min_len..max_len bytes of
				   [A-Za-z0-9._:-] (id) */
	FIELD_COUNTRY,		/* ISO 3166-1 alpha-2, upper case */
	FIELD_ACTION		/* string, one of the handler's actions */
};

#define FIELD_OPTIONAL	false
#define FIELD_REQUIRED	true

struct field {
	const char		*name;		/* NULL ends a table */
	enum field_kind		 kind;
	bool			 required;	/* every action carries it */
	uint32_t		 min_len;	/* bytes of a string or item */
	uint32_t		 max_len;
	uint32_t		 min_items;	/* arrays and maps */
	uint32_t		 max_items;
	const char *const	*values;	/* FIELD_ENUM, NULL-terminated */
};

/* A string; a required one is never empty (section 10). */
#define FIELD_STR(n, max, req)						\
	{ .name = (n), .kind = FIELD_STR, .required = (req),		\
	  .min_len = (req) ? 1 : 0, .max_len = (max) }
/* A string with a minimum length of its own (msg_id: 1–128). */
#define FIELD_STR_MIN(n, min, max, req)					\
	{ .name = (n), .kind = FIELD_STR, .required = (req),		\
	  .min_len = (min), .max_len = (max) }
#define FIELD_ENUM(n, vals, req)					\
	{ .name = (n), .kind = FIELD_ENUM, .required = (req),		\
	  .values = (vals) }
#define FIELD_INT(n, req)						\
	{ .name = (n), .kind = FIELD_INT, .required = (req) }
#define FIELD_UINT(n, req)						\
	{ .name = (n), .kind = FIELD_UINT, .required = (req) }
#define FIELD_TIME(n, req)						\
	{ .name = (n), .kind = FIELD_TIME, .required = (req) }
/* An array of strings: item_min is 1 where an empty item means nothing. */
#define FIELD_STR_ARRAY(n, min, max, item_min, req)			\
	{ .name = (n), .kind = FIELD_STR_ARRAY, .required = (req),	\
	  .min_items = (min), .max_items = (max),			\
	  .min_len = (item_min), .max_len = SCHEMA_MAX_STR }
#define FIELD_STR_MAP(n, max, req)					\
	{ .name = (n), .kind = FIELD_STR_MAP, .required = (req),	\
	  .max_items = (max), .max_len = SCHEMA_MAX_STR }
#define FIELD_TOKEN(n, min, max, req)					\
	{ .name = (n), .kind = FIELD_TOKEN, .required = (req),		\
	  .min_len = (min), .max_len = (max) }
#define FIELD_COUNTRY(n, req)						\
	{ .name = (n), .kind = FIELD_COUNTRY, .required = (req) }
#define FIELD_ACTION(n, req)						\
	{ .name = (n), .kind = FIELD_ACTION, .required = (req) }
#define FIELD_END	{ .name = NULL }

/* Keys per event a type may describe, common keys included: the decoder
   remembers which it has seen in one 64-bit mask. */
#define FIELD_MAX	64

#endif
