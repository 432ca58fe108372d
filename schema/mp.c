/*
 * mp.c — a bounded, zero-copy MessagePack reader (see mp.h).
 *
 * Every length and count in a header is untrusted: a length is compared
 * with the bytes that are left before anything is read, and a count is only
 * ever a number to count down, never a size to allocate.  Since each value
 * takes at least one byte, a container that claims more elements than there
 * are bytes left is truncated, and that is known at its header.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "schema/mp.h"

/* Read a big-endian 16-bit integer. */
static uint16_t
mp_be16(const uint8_t *p)
{
	return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

/* Read a big-endian 32-bit integer. */
static uint32_t
mp_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* Read a big-endian 64-bit integer. */
static uint64_t
mp_be64(const uint8_t *p)
{
	return (uint64_t)mp_be32(p) << 32 | mp_be32(p + 4);
}

/* Store a signed value: MP_INT when negative, else MP_UINT, as mp.h says. */
static void
mp_set_int(struct mp_obj *o, int64_t v)
{
	if (v < 0) {
		o->type = MP_INT;
		o->v.i = v;
	} else {
		o->type = MP_UINT;
		o->v.u = (uint64_t)v;
	}
}

/* Start reading buf[0..len). */
void
mp_reader_init(struct mp_reader *r, const void *buf, size_t len)
{
	r->p = buf;
	r->end = r->p + len;
}

/*
 * Take a data section of len bytes (string, bin, ext) at r->p.  Returns 0,
 * or -1 when fewer bytes are left.
 */
static int
mp_take(struct mp_reader *r, struct mp_obj *o, uint32_t len)
{
	if ((size_t)(r->end - r->p) < len) {
		r->p = o->start;
		return (-1);
	}
	o->v.str.ptr = (const char *)r->p;
	o->v.str.len = len;
	r->p += len;
	return (0);
}

/* Read one value's header (and a string's, bin's or ext's data); on
   failure the reader has not moved. */
int
mp_read(struct mp_reader *r, struct mp_obj *o)
{
	const uint8_t	*p = r->p;
	size_t		 left = (size_t)(r->end - p);
	size_t		 need;
	uint8_t		 c;
	uint32_t	 u32;
	uint64_t	 u64;
	float		 f32;
	double		 f64;

	if (left == 0)
		return (-1);
	c = p[0];
	o->start = p;
	o->ext_type = 0;

	/* The fix formats hold their value or count in the first byte. */
	if (c <= 0x7f) {
		o->type = MP_UINT;
		o->v.u = c;
		r->p = p + 1;
		return (0);
	}
	if (c >= 0xe0) {
		o->type = MP_INT;
		o->v.i = (int8_t)c;
		r->p = p + 1;
		return (0);
	}
	if (c <= 0x8f) {
		o->type = MP_MAP;
		o->v.n = c & 0x0f;
		r->p = p + 1;
		return (0);
	}
	if (c <= 0x9f) {
		o->type = MP_ARRAY;
		o->v.n = c & 0x0f;
		r->p = p + 1;
		return (0);
	}
	if (c <= 0xbf) {
		o->type = MP_STR;
		r->p = p + 1;
		return (mp_take(r, o, c & 0x1f));
	}

	/* 0xc0..0xdf: a header of 1 + need bytes. */
	switch (c) {
	case 0xc0: case 0xc1: case 0xc2: case 0xc3:
		need = 0;
		break;
	case 0xc4: case 0xcc: case 0xd0: case 0xd9:
		need = 1;
		break;
	case 0xc5: case 0xcd: case 0xd1: case 0xda: case 0xdc: case 0xde:
		need = 2;
		break;
	case 0xc6: case 0xca: case 0xce: case 0xd2: case 0xdb: case 0xdd:
	case 0xdf:
		need = 4;
		break;
	case 0xcb: case 0xcf: case 0xd3:
		need = 8;
		break;
	case 0xc7:
		need = 2;	/* ext 8: length, type */
		break;
	case 0xc8:
		need = 3;
		break;
	case 0xc9:
		need = 5;
		break;
	default:		/* 0xd4..0xd8 fixext: type */
		need = 1;
		break;
	}
	if (left - 1 < need)
		return (-1);
	r->p = p + 1 + need;
	p++;

	switch (c) {
	case 0xc0:
		o->type = MP_NIL;
		return (0);
	case 0xc1:
		r->p = o->start;
		return (-1);
	case 0xc2:
	case 0xc3:
		o->type = MP_BOOL;
		o->v.b = c == 0xc3;
		return (0);
	case 0xc4:
		o->type = MP_BIN;
		return (mp_take(r, o, p[0]));
	case 0xc5:
		o->type = MP_BIN;
		return (mp_take(r, o, mp_be16(p)));
	case 0xc6:
		o->type = MP_BIN;
		return (mp_take(r, o, mp_be32(p)));
	case 0xc7:
		o->type = MP_EXT;
		o->ext_type = (int8_t)p[1];
		return (mp_take(r, o, p[0]));
	case 0xc8:
		o->type = MP_EXT;
		o->ext_type = (int8_t)p[2];
		return (mp_take(r, o, mp_be16(p)));
	case 0xc9:
		o->type = MP_EXT;
		o->ext_type = (int8_t)p[4];
		return (mp_take(r, o, mp_be32(p)));
	case 0xca:
		u32 = mp_be32(p);
		memcpy(&f32, &u32, sizeof f32);
		o->type = MP_FLOAT;
		o->v.f = f32;
		return (0);
	case 0xcb:
		u64 = mp_be64(p);
		memcpy(&f64, &u64, sizeof f64);
		o->type = MP_FLOAT;
		o->v.f = f64;
		return (0);
	case 0xcc:
		o->type = MP_UINT;
		o->v.u = p[0];
		return (0);
	case 0xcd:
		o->type = MP_UINT;
		o->v.u = mp_be16(p);
		return (0);
	case 0xce:
		o->type = MP_UINT;
		o->v.u = mp_be32(p);
		return (0);
	case 0xcf:
		o->type = MP_UINT;
		o->v.u = mp_be64(p);
		return (0);
	case 0xd0:
		mp_set_int(o, (int8_t)p[0]);
		return (0);
	case 0xd1:
		mp_set_int(o, (int16_t)mp_be16(p));
		return (0);
	case 0xd2:
		mp_set_int(o, (int32_t)mp_be32(p));
		return (0);
	case 0xd3:
		mp_set_int(o, (int64_t)mp_be64(p));
		return (0);
	case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8:
		o->type = MP_EXT;
		o->ext_type = (int8_t)p[0];
		return (mp_take(r, o, 1U << (c - 0xd4)));
	case 0xd9:
		o->type = MP_STR;
		return (mp_take(r, o, p[0]));
	case 0xda:
		o->type = MP_STR;
		return (mp_take(r, o, mp_be16(p)));
	case 0xdb:
		o->type = MP_STR;
		return (mp_take(r, o, mp_be32(p)));
	case 0xdc:
		o->type = MP_ARRAY;
		o->v.n = mp_be16(p);
		return (0);
	case 0xdd:
		o->type = MP_ARRAY;
		o->v.n = mp_be32(p);
		return (0);
	case 0xde:
		o->type = MP_MAP;
		o->v.n = mp_be16(p);
		return (0);
	default:		/* 0xdf */
		o->type = MP_MAP;
		o->v.n = mp_be32(p);
		return (0);
	}
}

/* The values a container header announces: n elements, or 2n for a map. */
static uint64_t
mp_children(const struct mp_obj *o)
{
	if (o->type == MP_ARRAY)
		return (o->v.n);
	if (o->type == MP_MAP)
		return ((uint64_t)o->v.n * 2);
	return (0);
}

/*
 * The fast path of the walks below, for the formats events are mostly
 * made of: a fixint, a fixstr or str 8 (moved over), a fixmap or
 * fixarray (its children in *kids).  1 when taken, 0 to let mp_read()
 * decide (any other format, or too few bytes: it says which).
 */
static inline int
mp_step_fast(struct mp_reader *r, uint64_t *kids)
{
	const uint8_t	*p = r->p;
	size_t		 left = (size_t)(r->end - p), n;
	uint8_t		 c;

	if (left == 0)
		return (0);
	c = p[0];
	*kids = 0;
	if (c <= 0x7f || c >= 0xe0) {
		r->p = p + 1;
		return (1);
	}
	if (c >= 0xa0 && c <= 0xbf) {
		n = (size_t)(c & 0x1f) + 1;
	} else if (c == 0xd9 && left >= 2) {
		n = (size_t)p[1] + 2;
	} else if (c <= 0x8f) {
		*kids = (uint64_t)(c & 0x0f) * 2;
		r->p = p + 1;
		return (1);
	} else if (c <= 0x9f) {
		*kids = c & 0x0f;
		r->p = p + 1;
		return (1);
	} else
		return (0);
	if (n > left)
		return (0);
	r->p = p + n;
	return (1);
}

/*
 * Skip one complete value.  Only the number of values still to read is
 * needed, not where each container ends, so one counter does.
 */
int
mp_skip(struct mp_reader *r)
{
	struct mp_obj	o;
	uint64_t	left = 1;

	while (left > 0) {
		uint64_t kids;

		if (!mp_step_fast(r, &kids)) {
			if (mp_read(r, &o) == -1)
				return (-1);
			kids = mp_children(&o);
		}
		left--;
		left += kids;
		if (left > (uint64_t)(r->end - r->p))
			return (-1);
	}
	return (0);
}

/*
 * Check buf[0..len): one value, well formed, at most max_depth deep, with
 * nothing after it.  The stack holds, for each open non-empty container,
 * how many values it still holds; a value read counts down the innermost,
 * and a container that reaches zero is itself a value read in its parent.
 */
enum mp_check_result
mp_check_offset(const void *buf, size_t len, int max_depth, size_t *offset)
{
	uint64_t	 stack[MP_CHECK_DEPTH_LIMIT];
	int		 depth = 0;	/* open containers around the next value */
	struct mp_reader r;
	struct mp_obj	 o;
	const uint8_t	*at;
	uint64_t	 n;
	size_t		 dummy;

	if (offset == NULL)
		offset = &dummy;
	*offset = 0;
	if (len == 0)
		return (MP_ERR_EMPTY);
	if (max_depth < 1)
		max_depth = 1;
	if (max_depth > MP_CHECK_DEPTH_LIMIT)
		max_depth = MP_CHECK_DEPTH_LIMIT;

	mp_reader_init(&r, buf, len);
	for (;;) {
		at = r.p;
		/* Scalars by the fast path; containers and the rest below. */
		if (mp_step_fast(&r, &n) && n == 0 && *at != 0x80 &&
		    *at != 0x90)
			goto complete;
		r.p = at;
		if (mp_read(&r, &o) == -1) {
			if (at < r.end && *at == 0xc1) {
				*offset = (size_t)(at - (const uint8_t *)buf);
				return (MP_ERR_INVALID);
			}
			*offset = len;
			return (MP_ERR_TRUNCATED);
		}
		if (o.type == MP_ARRAY || o.type == MP_MAP) {
			if (depth + 1 > max_depth) {
				*offset = (size_t)(at - (const uint8_t *)buf);
				return (MP_ERR_DEPTH);
			}
			n = mp_children(&o);
			if (n > (uint64_t)(r.end - r.p)) {
				*offset = len;
				return (MP_ERR_TRUNCATED);
			}
			if (n > 0) {
				stack[depth++] = n;
				continue;
			}
		}
complete:
		/* A value is complete: close every container it completes. */
		while (depth > 0 && --stack[depth - 1] == 0)
			depth--;
		if (depth == 0)
			break;
	}
	if (r.p != r.end) {
		*offset = (size_t)(r.p - (const uint8_t *)buf);
		return (MP_ERR_TRAILING);
	}
	return (MP_OK);
}

/* Check that buf holds exactly one well-formed value (mp.h). */
enum mp_check_result
mp_check(const void *buf, size_t len, int max_depth)
{
	return (mp_check_offset(buf, len, max_depth, NULL));
}

/* A short English phrase for a check result. */
const char *
mp_check_str(enum mp_check_result res)
{
	switch (res) {
	case MP_OK:
		return ("well-formed");
	case MP_ERR_TRUNCATED:
		return ("truncated: the data ends inside a value");
	case MP_ERR_TRAILING:
		return ("trailing bytes after the value");
	case MP_ERR_DEPTH:
		return ("nesting too deep");
	case MP_ERR_INVALID:
		return ("byte 0xc1 is never valid MessagePack");
	case MP_ERR_EMPTY:
		return ("no data");
	}
	return ("unknown error");
}

/* The name of a type as a user would say it. */
const char *
mp_type_name(enum mp_type type)
{
	switch (type) {
	case MP_NIL:
		return ("nil");
	case MP_BOOL:
		return ("bool");
	case MP_INT:
	case MP_UINT:
		return ("integer");
	case MP_FLOAT:
		return ("float");
	case MP_STR:
		return ("string");
	case MP_BIN:
		return ("bin");
	case MP_ARRAY:
		return ("array");
	case MP_MAP:
		return ("map");
	case MP_EXT:
		return ("ext");
	}
	return ("unknown");
}

/* True when o is a string equal to the NUL-terminated s. */
bool
mp_str_eq(const struct mp_obj *o, const char *s)
{
	size_t	len = strlen(s);

	return (o->type == MP_STR && o->v.str.len == len &&
	    memcmp(o->v.str.ptr, s, len) == 0);
}

/*
 * Strict UTF-8 (RFC 3629): the shortest form only, no UTF-16 surrogates
 * (U+D800..U+DFFF), nothing above U+10FFFF.  The second byte's range
 * depends on the first; that is where overlongs and surrogates are caught.
 * ASCII, most of any event, goes eight bytes at a time.
 */
bool
mp_utf8_valid(const char *s, size_t len)
{
	const uint8_t	*p = (const uint8_t *)s;
	const uint8_t	*end = p + len;
	uint64_t	 w;
	uint8_t		 c, lo, hi;
	size_t		 n;

	while (p < end) {
		if ((size_t)(end - p) >= 8) {
			memcpy(&w, p, sizeof w);
			if ((w & UINT64_C(0x8080808080808080)) == 0) {
				p += 8;
				continue;
			}
		}
		c = *p;
		if (c < 0x80) {
			p++;
			continue;
		}
		lo = 0x80;
		hi = 0xbf;
		if (c < 0xc2)		/* continuation byte, or overlong */
			return (false);
		else if (c < 0xe0)
			n = 1;
		else if (c < 0xf0) {
			n = 2;
			if (c == 0xe0)
				lo = 0xa0;	/* overlong */
			else if (c == 0xed)
				hi = 0x9f;	/* surrogates */
		} else if (c < 0xf5) {
			n = 3;
			if (c == 0xf0)
				lo = 0x90;	/* overlong */
			else if (c == 0xf4)
				hi = 0x8f;	/* above U+10FFFF */
		} else
			return (false);
		if ((size_t)(end - p) <= n)
			return (false);
		if (p[1] < lo || p[1] > hi)
			return (false);
		if (n >= 2 && (p[2] & 0xc0) != 0x80)
			return (false);
		if (n == 3 && (p[3] & 0xc0) != 0x80)
			return (false);
		p += n + 1;
	}
	return (true);
}

/* Replace invalid UTF-8 in src with U+FFFD; returns the length in dst,
 * which must hold 3 * len bytes. */
size_t
mp_utf8_clean(const uint8_t *src, size_t len, char *dst)
{
	size_t i = 0, o = 0;

	while (i < len) {
		size_t n = 1;

		if (src[i] >= 0xc2 && src[i] <= 0xdf)
			n = 2;
		else if (src[i] >= 0xe0 && src[i] <= 0xef)
			n = 3;
		else if (src[i] >= 0xf0 && src[i] <= 0xf4)
			n = 4;
		if (src[i] < 0x80 || (i + n <= len &&
		    mp_utf8_valid((const char *)src + i, n) && n > 1)) {
			memcpy(dst + o, src + i, n);
			o += n;
			i += n;
		} else {
			memcpy(dst + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
		}
	}
	return o;
}
