/*
 * attache.c — labour attachés and staff posted to embassies and
 * consulates (PROTOCOL.md section 4, `attache`).
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "handlers/handlers.h"
#include "schema/field.h"
#include "schema/schema.h"

static const char *const attache_actions[] = {
	"appointed", "arrived", "reassigned", "departed", "contact_changed",
	"report", NULL
};

static const char *const attache_roles[] = {
	"attache", "technical_staff", "head_of_division", NULL
};

static const char *const attache_priorities[] = {
	"info", "urgent", NULL
};

/* contact: section 4 gives no size; 64 entries is the cap (field.h). */
static const struct field attache_fields[] = {
	FIELD_STR("person", 128, FIELD_REQUIRED),
	FIELD_ENUM("role", attache_roles, FIELD_REQUIRED),
	FIELD_STR("post", 128, FIELD_REQUIRED),
	FIELD_STR("city", SCHEMA_MAX_STR, FIELD_OPTIONAL),
	FIELD_TIME("effective_at", FIELD_OPTIONAL),
	FIELD_ENUM("priority", attache_priorities, FIELD_OPTIONAL),
	FIELD_STR("message", 8192, FIELD_OPTIONAL),
	FIELD_STR_MAP("contact", 64, FIELD_OPTIONAL),
	FIELD_END
};

static int attache_check(const struct handler_view *, struct schema_err *);

const struct handler handler_attache = {
	.type = "attache",
	.actions = attache_actions,
	.fields = attache_fields,
	.time_key = "effective_at",
	.default_priority = "info",
	.check = attache_check
};

/* A report carries its message, and a required string is never empty. */
static int
attache_check(const struct handler_view *v, struct schema_err *err)
{
	static const char	 report[] = "report";
	const char		*msg;
	size_t			 len;

	if (v->ev->action_len != sizeof report - 1 ||
	    memcmp(v->ev->action, report, sizeof report - 1) != 0)
		return (0);
	if (!v->get_str(v, "message", &msg, &len)) {
		snprintf(err->detail, sizeof err->detail,
		    "message: missing (required for report)");
		return (-1);
	}
	if (len == 0) {
		snprintf(err->detail, sizeof err->detail,
		    "message: empty string (required for report)");
		return (-1);
	}
	return (0);
}
