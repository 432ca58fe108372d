/*
 * handlers.c — the table of event types.
 *
 * A fourth type is one new file defining `const struct handler handler_X`
 * and one row here: ingest subscriptions, api type checks and validation
 * all read this table.
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "handlers/handlers.h"
#include "schema/schema.h"

extern const struct handler handler_meeting;
extern const struct handler handler_training;
extern const struct handler handler_attache;

const struct handler *const handlers[] = {
	&handler_meeting,
	&handler_training,
	&handler_attache,
	NULL
};

/* The handler whose type is exactly type[0..len), or NULL. */
const struct handler *
handlers_find(const char *type, size_t len)
{
	const struct handler *const	*h;

	if (type == NULL)
		return (NULL);
	for (h = handlers; *h != NULL; h++) {
		if (strlen((*h)->type) == len &&
		    memcmp((*h)->type, type, len) == 0)
			return (*h);
	}
	return (NULL);
}

/* ends_at, when given, is not before starts_at (meeting, training). */
int
handler_check_dates(const struct handler_view *v, struct schema_err *err)
{
	int64_t	starts, ends;

	if (v->get_int(v, "starts_at", &starts) &&
	    v->get_int(v, "ends_at", &ends) && ends < starts) {
		snprintf(err->detail, sizeof err->detail,
		    "ends_at: %" PRId64 " is before starts_at %" PRId64,
		    ends, starts);
		return (-1);
	}
	return (0);
}
