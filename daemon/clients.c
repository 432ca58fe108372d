/*
 * clients.c — parse the CURVE clients file (see clients.h) and look keys
 * up in it.  No I/O and no libzmq here: Z85 is decoded by hand, so the
 * fuzzer and the unit tests need nothing but this file and xmalloc.c.
 */
#include "daemon/clients.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/xmalloc.h"

/* The Z85 alphabet (ZeroMQ RFC 32), in digit order. */
static const char clients_z85[] =
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    ".-:+=^!/*?&<>()[]{}@%$#";

static const char *const clients_roles[] = {
	"none", "subscriber", "publisher", "admin"
};

/* A parse in progress. */
struct clients_parse {
	struct clients	*c;
	size_t		 cap;
	unsigned	 line;
	char		*cause;
};

/* The role's name. */
const char *
clients_role_name(enum clients_role r)
{
	if ((unsigned)r >= sizeof clients_roles / sizeof clients_roles[0])
		return "none";
	return clients_roles[r];
}

/* The role spelt by s, or CLIENTS_NONE. */
enum clients_role
clients_role_parse(const char *s, size_t len)
{
	for (int r = CLIENTS_SUBSCRIBER; r <= CLIENTS_ADMIN; r++)
		if (strlen(clients_roles[r]) == len &&
		    memcmp(clients_roles[r], s, len) == 0)
			return (enum clients_role)r;
	return CLIENTS_NONE;
}

/* Roles are ordered: a role includes every one below it. */
bool
clients_role_allows(enum clients_role have, enum clients_role need)
{
	return have != CLIENTS_NONE && have >= need;
}

/* Copy at most max bytes of s into dst for a message: printable ASCII as
 * is, anything else as '?', with "..." when cut. */
static void
clients_quote(char *dst, size_t dstlen, const char *s, size_t len,
    size_t max)
{
	size_t i, o = 0;

	for (i = 0; i < len && i < max && o + 1 < dstlen; i++)
		dst[o++] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	if (i < len && o + 4 < dstlen) {
		memcpy(dst + o, "...", 3);
		o += 3;
	}
	dst[o] = '\0';
}

/* Decode a 40-character Z85 key. */
int
clients_key_decode(const char *s, size_t len, uint8_t bin[CLIENTS_KEY_BIN],
    char *why, size_t whylen)
{
	const char *p;

	if (len != CLIENTS_KEY_Z85) {
		snprintf(why, whylen, "is %zu characters, not %d", len,
		    CLIENTS_KEY_Z85);
		return -1;
	}
	for (size_t g = 0; g < CLIENTS_KEY_Z85 / 5; g++) {
		uint64_t v = 0;

		for (size_t i = g * 5; i < g * 5 + 5; i++) {
			unsigned char ch = (unsigned char)s[i];

			if (ch == '\0' || (p = strchr(clients_z85, ch)) ==
			    NULL) {
				if (ch >= 0x20 && ch < 0x7f)
					snprintf(why, whylen, "character %zu "
					    "('%c') is not Z85", i + 1, ch);
				else
					snprintf(why, whylen, "character %zu "
					    "(byte 0x%02x) is not Z85", i + 1,
					    ch);
				return -1;
			}
			v = v * 85 + (uint64_t)(p - clients_z85);
		}
		if (v > UINT32_MAX) {
			snprintf(why, whylen, "characters %zu-%zu do not "
			    "decode (their value is over 2^32)", g * 5 + 1,
			    g * 5 + 5);
			return -1;
		}
		bin[g * 4] = (uint8_t)(v >> 24);
		bin[g * 4 + 1] = (uint8_t)(v >> 16);
		bin[g * 4 + 2] = (uint8_t)(v >> 8);
		bin[g * 4 + 3] = (uint8_t)v;
	}
	return 0;
}

/* Record a failure on the current line; returns -1. */
static int
clients_fail(struct clients_parse *st, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
clients_fail(struct clients_parse *st, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	xasprintf(&st->cause, "line %u: %s", st->line, msg);
	return -1;
}

/* Whether c is a field separator. */
static bool
clients_space(char c)
{
	return c == ' ' || c == '\t';
}

/* Parse one line (without its newline); 0 or -1. */
static int
clients_line(struct clients_parse *st, const char *s, size_t len)
{
	struct clients_entry e;
	size_t i = 0, k, r, rlen, n, nlen;
	char why[96], q[64];

	if (len > 0 && s[len - 1] == '\r')
		len--;
	while (i < len && clients_space(s[i]))
		i++;
	if (i == len)
		return 0;
	if (s[i] == '#' && (i + 1 == len || s[i + 1] == ' '))
		return 0;

	memset(&e, 0, sizeof e);
	e.line = st->line;
	for (k = i; i < len && !clients_space(s[i]); i++)
		;
	if (clients_key_decode(s + k, i - k, e.key, why, sizeof why) == -1) {
		clients_quote(q, sizeof q, s + k, i - k, 12);
		return clients_fail(st, "key '%s' %s (expected \"<Z85 "
		    "public key> <role> <name>\"%s)", q, why, s[k] == '#' ?
		    "; a comment is '#' alone or '# ' and text" : "");
	}
	memcpy(e.z85, s + k, CLIENTS_KEY_Z85);

	while (i < len && clients_space(s[i]))
		i++;
	for (r = i; i < len && !clients_space(s[i]); i++)
		;
	rlen = i - r;
	if (rlen == 0)
		return clients_fail(st, "role missing after the key (expected "
		    "subscriber, publisher or admin)");
	if ((e.role = clients_role_parse(s + r, rlen)) == CLIENTS_NONE) {
		clients_quote(q, sizeof q, s + r, rlen, 16);
		return clients_fail(st, "role '%s' is not one of subscriber, "
		    "publisher, admin", q);
	}

	while (i < len && clients_space(s[i]))
		i++;
	n = i;
	nlen = len - n;
	while (nlen > 0 && clients_space(s[n + nlen - 1]))
		nlen--;
	if (nlen == 0)
		return clients_fail(st, "name missing after the role %s",
		    clients_role_name(e.role));
	if (nlen > CLIENTS_NAME_MAX)
		return clients_fail(st, "name is %zu bytes, the limit is %d",
		    nlen, CLIENTS_NAME_MAX);
	for (size_t j = 0; j < nlen; j++) {
		unsigned char ch = (unsigned char)s[n + j];

		if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
			return clients_fail(st, "name: control character "
			    "0x%02x at byte %zu", ch, j + 1);
	}
	e.name = xstrndup(s + n, nlen);

	if (st->c->n == st->cap) {
		st->cap = st->cap ? st->cap * 2 : 16;
		st->c->v = xreallocarray(st->c->v, st->cap, sizeof *st->c->v);
	}
	st->c->v[st->c->n++] = e;
	return 0;
}

/* qsort order: by key. */
static int
clients_cmp(const void *a, const void *b)
{
	return memcmp(((const struct clients_entry *)a)->key,
	    ((const struct clients_entry *)b)->key, CLIENTS_KEY_BIN);
}

/*
 * Sort by key and refuse a key listed twice, naming the earliest line
 * that repeats one.
 */
static int
clients_sort(struct clients_parse *st)
{
	struct clients *c = st->c;
	const struct clients_entry *dup = NULL;
	unsigned first = 0;

	if (c->n > 1)
		qsort(c->v, c->n, sizeof *c->v, clients_cmp);
	for (size_t i = 1; i < c->n; i++) {
		const struct clients_entry *a = &c->v[i - 1], *b = &c->v[i];
		const struct clients_entry *later = a->line > b->line ? a : b;

		if (memcmp(a->key, b->key, CLIENTS_KEY_BIN) != 0)
			continue;
		if (dup == NULL || later->line < dup->line) {
			dup = later;
			first = a->line < b->line ? a->line : b->line;
		}
	}
	if (dup == NULL)
		return 0;
	st->line = dup->line;
	return clients_fail(st, "key %.8s... is already listed on line %u",
	    dup->z85, first);
}

/* Parse a whole file held in a buffer. */
int
clients_parse(const char *buf, size_t len, struct clients **out, char **cause)
{
	struct clients_parse st;
	size_t off = 0;

	memset(&st, 0, sizeof st);
	st.c = xcalloc(1, sizeof *st.c);
	*cause = NULL;
	while (off < len) {
		const char *nl = memchr(buf + off, '\n', len - off);
		size_t llen = nl ? (size_t)(nl - (buf + off)) : len - off;

		st.line++;
		if (clients_line(&st, buf + off, llen) == -1)
			goto fail;
		off += llen + (nl ? 1 : 0);
	}
	if (clients_sort(&st) == -1)
		goto fail;
	*out = st.c;
	return 0;
fail:
	*cause = st.cause;
	clients_free(&st.c);
	return -1;
}

/* Binary search by key. */
const struct clients_entry *
clients_find(const struct clients *c, const uint8_t key[CLIENTS_KEY_BIN])
{
	size_t lo = 0, hi;

	if (c == NULL)
		return NULL;
	hi = c->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int cmp = memcmp(key, c->v[mid].key, CLIENTS_KEY_BIN);

		if (cmp == 0)
			return &c->v[mid];
		if (cmp < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/* Free the list. */
void
clients_free(struct clients **cp)
{
	struct clients *c = *cp;

	if (c == NULL)
		return;
	for (size_t i = 0; i < c->n; i++)
		free(c->v[i].name);
	free(c->v);
	free(c);
	*cp = NULL;
}
