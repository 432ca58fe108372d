/*
 * handlers.c — the table of event types.
 *
 * A fourth type is one new file defining `const struct handler handler_X`
 * and one row here: ingest subscriptions, api type checks and validation
 * all read this table.
 */
#include <stddef.h>
#include <string.h>

#include "handlers/handlers.h"

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
