/*
 * meeting.c — bilateral, regional and multilateral meetings
 * (PROTOCOL.md section 4, `meeting`).
 */
#include <stddef.h>

#include "handlers/handlers.h"
#include "schema/field.h"
#include "schema/schema.h"

static const char *const meeting_actions[] = {
	"scheduled", "updated", "postponed", "cancelled", "concluded", NULL
};

static const char *const meeting_kinds[] = {
	"bilateral", "regional", "multilateral", NULL
};

static const struct field meeting_fields[] = {
	FIELD_STR("title", 256, FIELD_REQUIRED),
	FIELD_ENUM("kind", meeting_kinds, FIELD_REQUIRED),
	FIELD_STR_ARRAY("counterparts", 1, 32, 1, FIELD_REQUIRED),
	FIELD_STR("city", SCHEMA_MAX_STR, FIELD_OPTIONAL),
	FIELD_STR("venue", SCHEMA_MAX_STR, FIELD_OPTIONAL),
	FIELD_TIME("starts_at", FIELD_REQUIRED),
	FIELD_TIME("ends_at", FIELD_OPTIONAL),
	FIELD_STR_ARRAY("agenda", 0, 64, 0, FIELD_OPTIONAL),
	FIELD_STR_ARRAY("delegation", 0, 64, 0, FIELD_OPTIONAL),
	FIELD_STR("notes", 8192, FIELD_OPTIONAL),
	FIELD_END
};

static int meeting_check(const struct handler_view *, struct schema_err *);

const struct handler handler_meeting = {
	.type = "meeting",
	.actions = meeting_actions,
	.fields = meeting_fields,
	.time_key = "starts_at",
	.default_priority = NULL,
	.check = meeting_check
};

/* A meeting does not end before it starts. */
static int
meeting_check(const struct handler_view *v, struct schema_err *err)
{
	return (handler_check_dates(v, err));
}
