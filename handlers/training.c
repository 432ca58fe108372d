/*
 * training.c — negotiation trainings, workshops and briefings
 * (PROTOCOL.md section 4, `training`).
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>

#include "handlers/handlers.h"
#include "schema/field.h"
#include "schema/schema.h"

static const char *const training_actions[] = {
	"announced", "updated", "opened", "full", "started", "completed",
	"cancelled", NULL
};

static const char *const training_formats[] = {
	"workshop", "course", "simulation", "seminar", "briefing", NULL
};

static const struct field training_fields[] = {
	FIELD_STR("title", 256, FIELD_REQUIRED),
	FIELD_STR("provider", SCHEMA_MAX_STR, FIELD_REQUIRED),
	FIELD_ENUM("format", training_formats, FIELD_REQUIRED),
	FIELD_STR("city", SCHEMA_MAX_STR, FIELD_OPTIONAL),
	FIELD_STR("venue", SCHEMA_MAX_STR, FIELD_OPTIONAL),
	FIELD_TIME("starts_at", FIELD_REQUIRED),
	FIELD_TIME("ends_at", FIELD_OPTIONAL),
	FIELD_UINT("seats", FIELD_OPTIONAL),
	FIELD_UINT("participants", FIELD_OPTIONAL),
	FIELD_STR_ARRAY("audience", 0, 64, 0, FIELD_OPTIONAL),
	FIELD_STR("notes", 8192, FIELD_OPTIONAL),
	FIELD_END
};

static int training_check(const struct handler_view *, struct schema_err *);

const struct handler handler_training = {
	.type = "training",
	.actions = training_actions,
	.fields = training_fields,
	.time_key = "starts_at",
	.default_priority = NULL,
	.check = training_check
};

/* A training ends after it starts and seats no more than it has. */
static int
training_check(const struct handler_view *v, struct schema_err *err)
{
	int64_t	seats, participants;

	if (handler_check_dates(v, err) == -1)
		return (-1);
	if (v->get_int(v, "seats", &seats) &&
	    v->get_int(v, "participants", &participants) &&
	    participants > seats) {
		snprintf(err->detail, sizeof err->detail,
		    "participants: %" PRId64 " is over seats %" PRId64,
		    participants, seats);
		return (-1);
	}
	return (0);
}
