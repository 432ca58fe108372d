/*
 * handlers.h — the event types, one table row each.
 *
 * Each type lives in its own file (handlers/meeting.c, training.c,
 * attache.c) as one `const struct handler`, listed once in handlers.c.
 * Adding a fourth type is one new file and one row: the ingest
 * subscriptions, the api's type checks and validation all read the table.
 */
#ifndef WARTA_HANDLERS_H
#define WARTA_HANDLERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event;
struct schema_err;
struct field;

/* What validation needs from the event's pairs for cross-field rules. */
struct handler_view {
	const struct event *ev;
	/* Value of a named integer field, if present (for ends_at >= starts_at
	   and participants <= seats). */
	bool (*get_int)(const struct handler_view *, const char *key,
	    int64_t *out);
	bool (*has)(const struct handler_view *, const char *key);
	/* Value of a named string field, if present (not NUL-terminated). */
	bool (*get_str)(const struct handler_view *, const char *key,
	    const char **s, size_t *len);
	void *priv;
};

struct handler {
	const char		*type;		/* "meeting": topic and type */
	const char *const	*actions;	/* NULL-terminated */
	const struct field	*fields;	/* type-specific keys, see
						   schema/field.h; ends with
						   a NULL name */
	const char		*time_key;	/* list's time ("starts_at");
						   NULL: occurred_at */
	const char		*default_priority; /* NULL: no default */
	/* Cross-field rules; 0, or -1 with err->detail filled. */
	int			(*check)(const struct handler_view *,
				    struct schema_err *);
};

/* Every type, in table order, NULL-terminated. */
extern const struct handler *const handlers[];

/* The shared rule of dated types: ends_at, when given, is not before
 * starts_at.  0, or -1 with err->detail filled. */
int handler_check_dates(const struct handler_view *, struct schema_err *);

/* The handler whose type is exactly type[0..len), or NULL. */
const struct handler *handlers_find(const char *type, size_t len);

#endif
