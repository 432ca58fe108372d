/*
 * schema.c — decoding and validating events (PROTOCOL.md sections 4, 10).
 *
 * An event is checked in section 10's order: first the whole body as
 * MessagePack (reason msgpack), then that it is a map (not_map), then every
 * pair in the order sent (schema), then the required keys, then the type's
 * cross-field rules.  The first problem found is the one reported.
 *
 * Nothing is allocated.  The work per event is bounded by the keys a type
 * knows plus SCHEMA_MAX_XKEYS: a known key seen twice, an unknown key or one
 * x_ key too many ends the walk, so a map that claims 10,000 keys costs at
 * most a hundred before it is rejected.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <msgpack.h>

#include "daemon/log.h"
#include "handlers/handlers.h"
#include "schema/field.h"
#include "schema/mp.h"
#include "schema/schema.h"

/* The keys every type has, section 4; their indexes come first. */
static const struct field schema_common[] = {
	FIELD_TOKEN("id", 1, SCHEMA_ID_MAX, FIELD_REQUIRED),
	FIELD_ACTION("action", FIELD_REQUIRED),
	FIELD_COUNTRY("country", FIELD_REQUIRED),
	FIELD_STR_MIN("msg_id", 1, SCHEMA_MSGID_MAX, FIELD_OPTIONAL),
	FIELD_STR("source", 64, FIELD_OPTIONAL),
	FIELD_TIME("occurred_at", FIELD_OPTIONAL),
	FIELD_END
};
#define SCHEMA_NCOMMON	6
enum {
	SCHEMA_F_ID = 0, SCHEMA_F_ACTION, SCHEMA_F_COUNTRY, SCHEMA_F_MSG_ID,
	SCHEMA_F_SOURCE, SCHEMA_F_OCCURRED_AT
};

/* Bytes of a user's string quoted in a detail; longer ones end in "...". */
#define SCHEMA_QUOTE_MAX	48

static const char *const schema_reasons[REASON_COUNT] = {
	"frames", "topic", "too_large", "msgpack", "not_map", "schema",
	"unavailable"
};

/* A string seen as a key, to find duplicates among x_ and contact keys. */
struct schema_key {
	const char	*ptr;
	uint32_t	 len;
};

struct schema_names;

/* The state of one decode. */
struct schema_ctx {
	const struct handler	*h;
	const struct schema_names *sn;	/* h's field names */
	struct schema_err	*err;
	struct mp_reader	 r;
	uint64_t		 seen;	/* bit i: field i has been read */
	struct mp_obj		 vals[FIELD_MAX]; /* valid where seen */
	struct schema_key	 xkeys[SCHEMA_MAX_XKEYS];
	int			 nx;
};

/* The section 10 name of a reason. */
const char *
schema_reason_name(enum reason reason)
{
	if ((unsigned)reason >= REASON_COUNT)
		return ("unknown");
	return (schema_reasons[reason]);
}

/* Parse a reason name; -1 when unknown. */
int
schema_reason_parse(const char *name)
{
	int	i;

	if (name == NULL)
		return (-1);
	for (i = 0; i < REASON_COUNT; i++) {
		if (strcmp(name, schema_reasons[i]) == 0)
			return (i);
	}
	return (-1);
}

/* The bytes of the UTF-8 sequence a lead byte starts (1 for a bad one). */
static size_t
schema_utf8_len(uint8_t c)
{
	if (c >= 0xf0 && c <= 0xf4)
		return (4);
	if (c >= 0xe0 && c < 0xf0)
		return (3);
	if (c >= 0xc2 && c < 0xe0)
		return (2);
	return (1);
}

/*
 * Fill err: reason schema unless set otherwise, and a detail that stays
 * valid UTF-8 when it is cut to fit.
 */
static int __attribute__((format(printf, 3, 4)))
schema_fail(struct schema_err *err, enum reason reason, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;
	size_t	 len, i;

	err->reason = reason;
	va_start(ap, fmt);
	n = vsnprintf(err->detail, sizeof err->detail, fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n >= sizeof err->detail) {
		len = strlen(err->detail);
		i = len;
		while (i > 0 && ((uint8_t)err->detail[i - 1] & 0xc0) == 0x80)
			i--;
		if (i > 0 && ((uint8_t)err->detail[i - 1] & 0x80) &&
		    i - 1 + schema_utf8_len((uint8_t)err->detail[i - 1]) > len)
			err->detail[i - 1] = '\0';
	}
	return (-1);
}

/*
 * Write s[0..len) into dst for a detail: at most SCHEMA_QUOTE_MAX bytes of
 * it, cut between characters, control bytes and backslashes escaped, and
 * in double quotes (escaped too) when quote is set.  dst holds at least
 * SCHEMA_QUOTE_MAX * 4 + 8 bytes.
 */
static const char *
schema_quote(char *dst, const char *s, size_t len, bool quote)
{
	const uint8_t	*p = (const uint8_t *)s;
	char		*o = dst;
	size_t		 i = 0, n;

	if (quote)
		*o++ = '"';
	while (i < len) {
		if (i >= SCHEMA_QUOTE_MAX) {
			memcpy(o, "...", 3);
			o += 3;
			break;
		}
		n = schema_utf8_len(p[i]);
		if (p[i] < 0x20 || p[i] == 0x7f || (p[i] & 0x80 && n == 1) ||
		    i + n > len) {
			o += sprintf(o, "\\x%02x", p[i]);
			i++;
		} else if (p[i] == '\\' || (quote && p[i] == '"')) {
			*o++ = '\\';
			*o++ = (char)p[i++];
		} else {
			memcpy(o, p + i, n);
			o += n;
			i += n;
		}
	}
	if (quote)
		*o++ = '"';
	*o = '\0';
	return (dst);
}

/* The field at index i: the common keys, then the type's. */
static const struct field *
schema_field_at(const struct handler *h, int i)
{
	if (i < SCHEMA_NCOMMON)
		return (&schema_common[i]);
	return (&h->fields[i - SCHEMA_NCOMMON]);
}

/* True when name is exactly s[0..len); s may hold NUL bytes. */
static bool
schema_name_eq(const char *name, const char *s, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++) {
		if (name[i] == '\0' || name[i] != s[i])
			return (false);
	}
	return (name[len] == '\0');
}

/* The index of the field named s[0..len) for type h, or -1, by a scan
 * of the tables. */
static int
schema_field_scan(const struct handler *h, const char *s, size_t len)
{
	const struct field	*f;
	int			 i;

	for (i = 0; i < SCHEMA_NCOMMON; i++) {
		if (schema_name_eq(schema_common[i].name, s, len))
			return (i);
	}
	for (f = h->fields; f != NULL && f->name != NULL; f++, i++) {
		if (schema_name_eq(f->name, s, len)) {
			if (i >= FIELD_MAX)
				fatalx("%s: field %s is beyond the %d a type "
				    "may have", h->type, f->name, FIELD_MAX);
			return (i);
		}
	}
	return (-1);
}

/*
 * Every key of every event is looked up, so each type in handlers[] has
 * an open-addressed table of its field names, built once: slot = index
 * + 1, 0 empty.  A type not in handlers[] (none in the daemon) scans.
 */
#define SCHEMA_SLOTS		256	/* power of two, > 2 * FIELD_MAX */
#define SCHEMA_MAX_TYPES	16

struct schema_names {
	const struct handler	*h;
	uint8_t			 slot[SCHEMA_SLOTS];
	uint8_t			 len[FIELD_MAX];	/* of each name */
};

static struct schema_names	schema_names[SCHEMA_MAX_TYPES];
static pthread_once_t		schema_names_once = PTHREAD_ONCE_INIT;
static bool			schema_names_built;	/* after the once */

/* The hash of a name: its length and first and last bytes mixed. */
static unsigned
schema_name_hash(const char *s, size_t len)
{
	unsigned hv = (unsigned)len * 0x9e37u;

	hv ^= (unsigned)(uint8_t)s[0] * 0x85ebu;
	hv ^= (unsigned)(uint8_t)s[len - 1] * 0xc2b3u;
	if (len > 2)
		hv ^= (unsigned)(uint8_t)s[len / 2] * 0x27d5u;
	return ((hv ^ (hv >> 7)) & (SCHEMA_SLOTS - 1));
}

/* Build the tables of every type in handlers[]. */
static void
schema_names_build(void)
{
	for (int t = 0; handlers[t] != NULL && t < SCHEMA_MAX_TYPES; t++) {
		struct schema_names *sn = &schema_names[t];

		sn->h = handlers[t];
		for (int i = 0; i < FIELD_MAX; i++) {
			const struct field *f = schema_field_at(sn->h, i);
			unsigned hv;

			if (f->name == NULL)
				break;
			sn->len[i] = (uint8_t)strlen(f->name);
			hv = schema_name_hash(f->name, sn->len[i]);
			while (sn->slot[hv] != 0)
				hv = (hv + 1) & (SCHEMA_SLOTS - 1);
			sn->slot[hv] = (uint8_t)(i + 1);
		}
	}
}

/* The table of type h's field names; NULL for a type not in handlers[]. */
static const struct schema_names *
schema_names_of(const struct handler *h)
{
	if (!__atomic_load_n(&schema_names_built, __ATOMIC_ACQUIRE)) {
		pthread_once(&schema_names_once, schema_names_build);
		__atomic_store_n(&schema_names_built, true, __ATOMIC_RELEASE);
	}
	for (int t = 0; t < SCHEMA_MAX_TYPES && schema_names[t].h; t++)
		if (schema_names[t].h == h)
			return (&schema_names[t]);
	return (NULL);
}

/* The index of the field named s[0..len) for type h, whose table is sn
 * (schema_names_of), or -1. */
static int
schema_names_find(const struct schema_names *sn, const struct handler *h,
    const char *s, size_t len)
{
	unsigned hv;

	if (len == 0 || len > UINT8_MAX || sn == NULL)
		return (len == 0 ? -1 : schema_field_scan(h, s, len));
	for (hv = schema_name_hash(s, len); sn->slot[hv] != 0;
	    hv = (hv + 1) & (SCHEMA_SLOTS - 1)) {
		int i = sn->slot[hv] - 1;

		if (sn->len[i] == len &&
		    memcmp(schema_field_at(h, i)->name, s, len) == 0)
			return (i);
	}
	return (-1);
}

/* Check a string's type, UTF-8 and length; label names it in details. */
static int
schema_check_str(struct schema_ctx *ctx, const char *label,
    const struct mp_obj *o, uint32_t min, uint32_t max, bool required)
{
	if (o->type != MP_STR)
		return (schema_fail(ctx->err, REASON_SCHEMA,
		    "%s: %s is not a string", label, mp_type_name(o->type)));
	if (o->v.str.len > max)
		return (schema_fail(ctx->err, REASON_SCHEMA,
		    "%s: string of %" PRIu32 " bytes is over the limit of %"
		    PRIu32, label, o->v.str.len, max));
	if (!mp_utf8_valid(o->v.str.ptr, o->v.str.len))
		return (schema_fail(ctx->err, REASON_SCHEMA,
		    "%s: string is not valid UTF-8", label));
	if (o->v.str.len == 0 && required)
		return (schema_fail(ctx->err, REASON_SCHEMA,
		    "%s: empty string (a required string is never empty)",
		    label));
	if (o->v.str.len < min)
		return (schema_fail(ctx->err, REASON_SCHEMA,
		    "%s: string of %" PRIu32 " bytes is under the minimum of %"
		    PRIu32, label, o->v.str.len, min));
	return (0);
}

/* Whether schema_check_str() would pass o, without building its label. */
static bool
schema_str_ok(const struct mp_obj *o, uint32_t min, uint32_t max,
    bool required)
{
	return (o->type == MP_STR && o->v.str.len <= max &&
	    mp_utf8_valid(o->v.str.ptr, o->v.str.len) &&
	    !(o->v.str.len == 0 && required) && o->v.str.len >= min);
}

/* True for the bytes an id may hold: [A-Za-z0-9._:-]. */
static bool
schema_token_byte(uint8_t c)
{
	return ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == ':' ||
	    c == '-');
}

/* Write the NULL-terminated list as "a, b, c" into dst of size bytes. */
static const char *
schema_list(char *dst, size_t size, const char *const *list)
{
	size_t	len = 0;
	int	n;

	dst[0] = '\0';
	for (; *list != NULL; list++) {
		n = snprintf(dst + len, size - len, "%s%s",
		    len == 0 ? "" : ", ", *list);
		if (n < 0 || (size_t)n >= size - len)
			break;
		len += (size_t)n;
	}
	return (dst);
}

/* True when the string o is one of the NULL-terminated list. */
static bool
schema_in_list(const struct mp_obj *o, const char *const *list)
{
	for (; *list != NULL; list++) {
		if (schema_name_eq(*list, o->v.str.ptr, o->v.str.len))
			return (true);
	}
	return (false);
}

/* Check an integer; uint fields must not be negative. */
static int
schema_check_int(struct schema_ctx *ctx, const struct field *f,
    const struct mp_obj *o)
{
	switch (o->type) {
	case MP_UINT:
		if (o->v.u > INT64_MAX)
			return (schema_fail(ctx->err, REASON_SCHEMA,
			    "%s: %" PRIu64 " is out of the int64 range (the "
			    "limit is %" PRId64 ")", f->name, o->v.u,
			    INT64_MAX));
		return (0);
	case MP_INT:
		if (f->kind == FIELD_UINT)
			return (schema_fail(ctx->err, REASON_SCHEMA,
			    "%s: %" PRId64 " is negative, the minimum is 0",
			    f->name, o->v.i));
		return (0);
	default:
		return (schema_fail(ctx->err, REASON_SCHEMA,
		    "%s: %s is not an integer", f->name,
		    mp_type_name(o->type)));
	}
}

/* Check an array of strings, reading its items from the reader. */
static int
schema_check_str_array(struct schema_ctx *ctx, const struct field *f,
    const struct mp_obj *o)
{
	struct mp_obj	item;
	char		label[64];
	uint32_t	i;

	if (o->type != MP_ARRAY)
		return (schema_fail(ctx->err, REASON_SCHEMA,
		    "%s: %s is not an array", f->name, mp_type_name(o->type)));
	if (o->v.n < f->min_items)
		return (schema_fail(ctx->err, REASON_SCHEMA,
		    "%s: %" PRIu32 " items, the minimum is %" PRIu32, f->name,
		    o->v.n, f->min_items));
	if (o->v.n > f->max_items)
		return (schema_fail(ctx->err, REASON_SCHEMA,
		    "%s: %" PRIu32 " items, the limit is %" PRIu32, f->name,
		    o->v.n, f->max_items));
	for (i = 0; i < o->v.n; i++) {
		if (mp_read(&ctx->r, &item) == -1)
			fatalx("%s: checked MessagePack failed", __func__);
		if (schema_str_ok(&item, f->min_len, f->max_len, false))
			continue;
		/* Only a failure needs the label that names the item. */
		snprintf(label, sizeof label, "%s[%" PRIu32 "]", f->name, i);
		if (schema_check_str(ctx, label, &item, f->min_len,
		    f->max_len, false) == -1)
			return (-1);
	}
	return (0);
}

/*
 * Check a map of strings to strings (contact).  Its size is capped at
 * max_items (64 for contact: section 4 sets no limit, and a map must not
 * make the duplicate-key scan below, quadratic in its size, unbounded).
 */
static int
schema_check_str_map(struct schema_ctx *ctx, const struct field *f,
    const struct mp_obj *o)
{
	struct schema_key	 keys[FIELD_MAX];
	struct mp_obj		 k, v;
	char			 label[FIELD_MAX + SCHEMA_QUOTE_MAX * 4 + 8];
	char			 q[SCHEMA_QUOTE_MAX * 4 + 8];
	uint32_t		 i, j;

	if (f->max_items > FIELD_MAX)
		fatalx("%s: %s allows %" PRIu32 " entries, more than %d",
		    ctx->h->type, f->name, f->max_items, FIELD_MAX);
	if (o->type != MP_MAP)
		return (schema_fail(ctx->err, REASON_SCHEMA,
		    "%s: %s is not a map", f->name, mp_type_name(o->type)));
	if (o->v.n > f->max_items)
		return (schema_fail(ctx->err, REASON_SCHEMA,
		    "%s: %" PRIu32 " entries, the limit is %" PRIu32, f->name,
		    o->v.n, f->max_items));
	for (i = 0; i < o->v.n; i++) {
		if (mp_read(&ctx->r, &k) == -1)
			fatalx("%s: checked MessagePack failed", __func__);
		if (k.type != MP_STR)
			return (schema_fail(ctx->err, REASON_SCHEMA,
			    "%s: key #%" PRIu32 " is %s, not a string",
			    f->name, i + 1, mp_type_name(k.type)));
		if (!mp_utf8_valid(k.v.str.ptr, k.v.str.len))
			return (schema_fail(ctx->err, REASON_SCHEMA,
			    "%s: key #%" PRIu32 " is not valid UTF-8", f->name,
			    i + 1));
		snprintf(label, sizeof label, "%s.%s", f->name,
		    schema_quote(q, k.v.str.ptr, k.v.str.len, false));
		if (k.v.str.len > f->max_len)
			return (schema_fail(ctx->err, REASON_SCHEMA,
			    "%s: key of %" PRIu32 " bytes is over the limit of %"
			    PRIu32, label, k.v.str.len, f->max_len));
		for (j = 0; j < i; j++) {
			if (keys[j].len == k.v.str.len &&
			    memcmp(keys[j].ptr, k.v.str.ptr, k.v.str.len) == 0)
				return (schema_fail(ctx->err, REASON_SCHEMA,
				    "%s: duplicate key", label));
		}
		keys[i].ptr = k.v.str.ptr;
		keys[i].len = k.v.str.len;
		if (mp_read(&ctx->r, &v) == -1)
			fatalx("%s: checked MessagePack failed", __func__);
		if (schema_check_str(ctx, label, &v, 0, f->max_len,
		    false) == -1)
			return (-1);
	}
	return (0);
}

/* Check the value o of field f; containers' contents are read here. */
static int
schema_check_value(struct schema_ctx *ctx, const struct field *f,
    const struct mp_obj *o)
{
	char		 q[SCHEMA_QUOTE_MAX * 4 + 8], list[160];
	const uint8_t	*s;
	uint32_t	 i;

	if (o->type == MP_NIL)
		return (schema_fail(ctx->err, REASON_SCHEMA,
		    "%s: nil is not a value (leave an optional key out)",
		    f->name));

	switch (f->kind) {
	case FIELD_STR:
		return (schema_check_str(ctx, f->name, o, f->min_len,
		    f->max_len, f->required));
	case FIELD_TOKEN:
		if (schema_check_str(ctx, f->name, o, f->min_len, f->max_len,
		    f->required) == -1)
			return (-1);
		s = (const uint8_t *)o->v.str.ptr;
		for (i = 0; i < o->v.str.len; i++) {
			if (!schema_token_byte(s[i]))
				return (schema_fail(ctx->err, REASON_SCHEMA,
				    "%s: %s has a byte outside [A-Za-z0-9._:-] "
				    "at offset %" PRIu32, f->name,
				    schema_quote(q, o->v.str.ptr, o->v.str.len,
				    true), i));
		}
		return (0);
	case FIELD_ENUM:
	case FIELD_ACTION:
		if (schema_check_str(ctx, f->name, o, 0, SCHEMA_MAX_STR,
		    f->required) == -1)
			return (-1);
		if (f->kind == FIELD_ENUM && !schema_in_list(o, f->values))
			return (schema_fail(ctx->err, REASON_SCHEMA,
			    "%s: %s is not one of %s", f->name,
			    schema_quote(q, o->v.str.ptr, o->v.str.len, true),
			    schema_list(list, sizeof list, f->values)));
		if (f->kind == FIELD_ACTION &&
		    !schema_in_list(o, ctx->h->actions))
			return (schema_fail(ctx->err, REASON_SCHEMA,
			    "%s: %s is not an action of %s (%s)", f->name,
			    schema_quote(q, o->v.str.ptr, o->v.str.len, true),
			    ctx->h->type,
			    schema_list(list, sizeof list, ctx->h->actions)));
		return (0);
	case FIELD_COUNTRY:
		if (o->type != MP_STR)
			return (schema_fail(ctx->err, REASON_SCHEMA,
			    "%s: %s is not a string", f->name,
			    mp_type_name(o->type)));
		if (!mp_utf8_valid(o->v.str.ptr, o->v.str.len))
			return (schema_fail(ctx->err, REASON_SCHEMA,
			    "%s: string is not valid UTF-8", f->name));
		if (!schema_country_valid(o->v.str.ptr, o->v.str.len)) {
			s = (const uint8_t *)o->v.str.ptr;
			if (o->v.str.len == 2 &&
			    s[0] >= 'a' && s[0] <= 'z' &&
			    s[1] >= 'a' && s[1] <= 'z' &&
			    schema_country_valid((const char[]){
			    (char)(s[0] - 32), (char)(s[1] - 32) }, 2))
				return (schema_fail(ctx->err, REASON_SCHEMA,
				    "%s: %s is not an ISO 3166-1 alpha-2 code "
				    "(codes are upper case: %c%c)", f->name,
				    schema_quote(q, o->v.str.ptr,
				    o->v.str.len, true),
				    s[0] - 32, s[1] - 32));
			return (schema_fail(ctx->err, REASON_SCHEMA,
			    "%s: %s is not an ISO 3166-1 alpha-2 code",
			    f->name, schema_quote(q, o->v.str.ptr,
			    o->v.str.len, true)));
		}
		return (0);
	case FIELD_INT:
	case FIELD_UINT:
	case FIELD_TIME:
		return (schema_check_int(ctx, f, o));
	case FIELD_STR_ARRAY:
		return (schema_check_str_array(ctx, f, o));
	case FIELD_STR_MAP:
		return (schema_check_str_map(ctx, f, o));
	}
	fatalx("%s: %s has an unknown kind", ctx->h->type, f->name);
}

/*
 * Handle one x_ key and skip its value: x_ values are opaque, only the
 * size and depth limits (already checked) apply to them.
 */
static int
schema_xkey(struct schema_ctx *ctx, const struct mp_obj *k)
{
	char	q[SCHEMA_QUOTE_MAX * 4 + 8];
	int	i;

	if (k->v.str.len > SCHEMA_MAX_STR)
		return (schema_fail(ctx->err, REASON_SCHEMA,
		    "%s: key of %" PRIu32 " bytes is over the limit of %d",
		    schema_quote(q, k->v.str.ptr, k->v.str.len, false),
		    k->v.str.len, SCHEMA_MAX_STR));
	if (ctx->nx == SCHEMA_MAX_XKEYS)
		return (schema_fail(ctx->err, REASON_SCHEMA,
		    "%s: %d x_ keys, the limit is %d",
		    schema_quote(q, k->v.str.ptr, k->v.str.len, false),
		    SCHEMA_MAX_XKEYS + 1, SCHEMA_MAX_XKEYS));
	for (i = 0; i < ctx->nx; i++) {
		if (ctx->xkeys[i].len == k->v.str.len &&
		    memcmp(ctx->xkeys[i].ptr, k->v.str.ptr, k->v.str.len) == 0)
			return (schema_fail(ctx->err, REASON_SCHEMA,
			    "%s: duplicate key", schema_quote(q, k->v.str.ptr,
			    k->v.str.len, false)));
	}
	ctx->xkeys[ctx->nx].ptr = k->v.str.ptr;
	ctx->xkeys[ctx->nx].len = k->v.str.len;
	ctx->nx++;
	if (mp_skip(&ctx->r) == -1)
		fatalx("%s: checked MessagePack failed", __func__);
	return (0);
}

/* Read and check one key and its value. */
static int
schema_pair(struct schema_ctx *ctx, uint32_t n)
{
	const struct field	*f;
	struct mp_obj		 k, v;
	char			 q[SCHEMA_QUOTE_MAX * 4 + 8];
	int			 i;

	if (mp_read(&ctx->r, &k) == -1)
		fatalx("%s: checked MessagePack failed", __func__);
	if (k.type != MP_STR)
		return (schema_fail(ctx->err, REASON_SCHEMA,
		    "event: key #%" PRIu32 " is %s, not a string", n + 1,
		    mp_type_name(k.type)));
	/* A key equal to a field's name is ASCII, so only other keys need
	   the UTF-8 check; its failure is reported first, as before. */
	i = schema_names_find(ctx->sn, ctx->h, k.v.str.ptr, k.v.str.len);
	if (i == -1 && !mp_utf8_valid(k.v.str.ptr, k.v.str.len))
		return (schema_fail(ctx->err, REASON_SCHEMA,
		    "event: key #%" PRIu32 " is not valid UTF-8", n + 1));
	if (i == -1) {
		if (k.v.str.len > 2 && memcmp(k.v.str.ptr, "x_", 2) == 0)
			return (schema_xkey(ctx, &k));
		return (schema_fail(ctx->err, REASON_SCHEMA,
		    "%s: unknown key for %s (%s)",
		    schema_quote(q, k.v.str.ptr, k.v.str.len, false),
		    ctx->h->type, k.v.str.len == 2 &&
		    memcmp(k.v.str.ptr, "x_", 2) == 0 ?
		    "an x_ key needs a name after x_" :
		    "only keys starting with x_ may be added"));
	}
	f = schema_field_at(ctx->h, i);
	if (ctx->seen & (UINT64_C(1) << i))
		return (schema_fail(ctx->err, REASON_SCHEMA,
		    "%s: duplicate key", f->name));
	ctx->seen |= UINT64_C(1) << i;

	if (mp_read(&ctx->r, &v) == -1)
		fatalx("%s: checked MessagePack failed", __func__);
	ctx->vals[i] = v;
	return (schema_check_value(ctx, f, &v));
}

/* The value of the named field when it was sent, for handler_view. */
static const struct mp_obj *
schema_view_find(const struct handler_view *view, const char *key)
{
	const struct schema_ctx	*ctx = view->priv;
	int			 i;

	i = schema_names_find(ctx->sn, ctx->h, key, strlen(key));
	if (i == -1 || !(ctx->seen & (UINT64_C(1) << i)))
		return (NULL);
	return (&ctx->vals[i]);
}

/* handler_view: the named integer field, if it was sent. */
static bool
schema_view_get_int(const struct handler_view *view, const char *key,
    int64_t *out)
{
	const struct mp_obj	*o = schema_view_find(view, key);

	if (o == NULL)
		return (false);
	if (o->type == MP_INT)
		*out = o->v.i;
	else if (o->type == MP_UINT)
		*out = (int64_t)o->v.u;	/* checked: at most INT64_MAX */
	else
		return (false);
	return (true);
}

/* handler_view: whether the named field was sent. */
static bool
schema_view_has(const struct handler_view *view, const char *key)
{
	return (schema_view_find(view, key) != NULL);
}

/* handler_view: the named string field, if it was sent. */
static bool
schema_view_get_str(const struct handler_view *view, const char *key,
    const char **s, size_t *len)
{
	const struct mp_obj	*o = schema_view_find(view, key);

	if (o == NULL || o->type != MP_STR)
		return (false);
	*s = o->v.str.ptr;
	*len = o->v.str.len;
	return (true);
}

/* The integer value of a field that was seen and checked. */
static int64_t
schema_int(const struct schema_ctx *ctx, int i)
{
	const struct mp_obj	*o = &ctx->vals[i];

	return (o->type == MP_INT ? o->v.i : (int64_t)o->v.u);
}

/* Report the body's MessagePack problem, reason msgpack. */
static int
schema_fail_msgpack(struct schema_err *err, const void *buf, size_t len,
    enum mp_check_result res, size_t off)
{
	struct mp_reader	r;
	struct mp_obj		o;

	switch (res) {
	case MP_ERR_EMPTY:
		return (schema_fail(err, REASON_MSGPACK,
		    "event: empty body, not MessagePack"));
	case MP_ERR_TRUNCATED:
		return (schema_fail(err, REASON_MSGPACK,
		    "event: truncated MessagePack, the %zu bytes end inside "
		    "a value", len));
	case MP_ERR_TRAILING:
		mp_reader_init(&r, buf, len);
		if (mp_read(&r, &o) == -1)
			fatalx("%s: checked MessagePack failed", __func__);
		return (schema_fail(err, REASON_MSGPACK,
		    "event: %zu trailing byte%s after the %s", len - off,
		    len - off == 1 ? "" : "s", mp_type_name(o.type)));
	case MP_ERR_DEPTH:
		return (schema_fail(err, REASON_MSGPACK,
		    "event: nesting deeper than %d", SCHEMA_MAX_DEPTH));
	case MP_ERR_INVALID:
		return (schema_fail(err, REASON_MSGPACK,
		    "event: byte 0xc1 at offset %zu is not valid MessagePack",
		    off));
	case MP_OK:
		break;
	}
	fatalx("%s: unexpected check result %d", __func__, (int)res);
}

/* Decode and validate buf[0..len) as an event of type h (schema.h). */
int
schema_decode_event(const struct handler *h, const void *buf, size_t len,
    int64_t received_ms, struct event *ev, struct schema_err *err)
{
	struct schema_ctx	 ctx;
	struct handler_view	 view;
	struct mp_obj		 top;
	const struct field	*f;
	const struct mp_obj	*o;
	enum mp_check_result	 res;
	size_t			 off;
	uint32_t		 n;
	int			 i;

	memset(ev, 0, sizeof *ev);
	err->detail[0] = '\0';

	res = mp_check_offset(buf, len, SCHEMA_MAX_DEPTH, &off);
	if (res != MP_OK)
		return (schema_fail_msgpack(err, buf, len, res, off));

	mp_reader_init(&ctx.r, buf, len);
	if (mp_read(&ctx.r, &top) == -1)
		fatalx("%s: checked MessagePack failed", __func__);
	if (top.type != MP_MAP)
		return (schema_fail(err, REASON_NOT_MAP,
		    "event: %s is not a map", mp_type_name(top.type)));

	ctx.h = h;
	ctx.sn = schema_names_of(h);
	ctx.err = err;
	ctx.seen = 0;
	ctx.nx = 0;
	for (n = 0; n < top.v.n; n++) {
		if (schema_pair(&ctx, n) == -1)
			return (-1);
	}

	/* Every action carries all of the type's required keys. */
	for (i = 0; i < FIELD_MAX; i++) {
		f = schema_field_at(h, i);
		if (f->name == NULL)
			break;
		if (f->required && !(ctx.seen & (UINT64_C(1) << i)))
			return (schema_fail(err, REASON_SCHEMA,
			    "%s: missing (required for %s)", f->name,
			    h->type));
	}

	ev->h = h;
	o = &ctx.vals[SCHEMA_F_ID];
	ev->id = o->v.str.ptr;
	ev->id_len = o->v.str.len;
	o = &ctx.vals[SCHEMA_F_ACTION];
	ev->action = o->v.str.ptr;
	ev->action_len = o->v.str.len;
	memcpy(ev->country, ctx.vals[SCHEMA_F_COUNTRY].v.str.ptr, 2);
	ev->country[2] = '\0';
	if (ctx.seen & (UINT64_C(1) << SCHEMA_F_MSG_ID)) {
		o = &ctx.vals[SCHEMA_F_MSG_ID];
		ev->msg_id = o->v.str.ptr;
		ev->msg_id_len = o->v.str.len;
	}
	ev->has_occurred_at = (ctx.seen & (UINT64_C(1) <<
	    SCHEMA_F_OCCURRED_AT)) != 0;
	ev->occurred_at = ev->has_occurred_at ?
	    schema_int(&ctx, SCHEMA_F_OCCURRED_AT) : received_ms;
	ev->sort_time = ev->occurred_at;
	if (h->time_key != NULL) {
		i = schema_names_find(ctx.sn, h, h->time_key,
		    strlen(h->time_key));
		if (i != -1 && (ctx.seen & (UINT64_C(1) << i)))
			ev->sort_time = schema_int(&ctx, i);
	}
	if (h->default_priority != NULL) {
		i = schema_names_find(ctx.sn, h, "priority",
		    strlen("priority"));
		ev->add_priority = i == -1 || !(ctx.seen & (UINT64_C(1) << i));
	}
	ev->map = buf;
	ev->map_len = len;
	ev->npairs = top.v.n;

	/* The type's rules across keys. */
	if (h->check != NULL) {
		view.ev = ev;
		view.get_int = schema_view_get_int;
		view.has = schema_view_has;
		view.get_str = schema_view_get_str;
		view.priv = &ctx;
		err->reason = REASON_SCHEMA;
		if (h->check(&view, err) == -1)
			return (-1);
	}
	return (0);
}

/*
 * Append the event as stored: the pairs as received, byte for byte (the
 * original map header is the only thing rewritten, for the new count),
 * then the defaults that were left out.
 */
void
schema_encode_event(const struct event *ev, msgpack_packer *pk)
{
	struct mp_reader	r;
	struct mp_obj		top;
	uint32_t		extra = 0;

	mp_reader_init(&r, ev->map, ev->map_len);
	if (mp_read(&r, &top) == -1 || top.type != MP_MAP ||
	    top.v.n != ev->npairs)
		fatalx("%s: not a decoded event", __func__);
	if (!ev->has_occurred_at)
		extra++;
	if (ev->add_priority)
		extra++;

	msgpack_pack_map(pk, ev->npairs + extra);
	if (r.end > r.p)
		pk->callback(pk->data, (const char *)r.p,
		    (size_t)(r.end - r.p));
	if (!ev->has_occurred_at) {
		msgpack_pack_str_with_body(pk, "occurred_at",
		    strlen("occurred_at"));
		msgpack_pack_int64(pk, ev->occurred_at);
	}
	if (ev->add_priority) {
		msgpack_pack_str_with_body(pk, "priority", strlen("priority"));
		msgpack_pack_str_with_body(pk, ev->h->default_priority,
		    strlen(ev->h->default_priority));
	}
}
