/*
 * test_mp.c — the bounded MessagePack reader (schema/mp.c).
 *
 * Every test guards one behaviour of reading untrusted bytes: each format
 * is read as the spec says, nothing reads past the buffer, a header's
 * count is never trusted, and mp_check() catches truncation, trailing
 * bytes, 0xc1 and nesting at exactly the limit.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

#include "schema/mp.h"

/* Read exactly one value from buf and check it used all len bytes. */
static void
read_one(const void *buf, size_t len, struct mp_obj *o)
{
	struct mp_reader	r;

	mp_reader_init(&r, buf, len);
	assert_int_equal(mp_read(&r, o), 0);
	assert_ptr_equal(r.p, (const uint8_t *)buf + len);
	assert_ptr_equal(o->start, buf);
}

/* Pack with msgpack-c into sb. */
static void
pack_init(msgpack_sbuffer *sb, msgpack_packer *pk)
{
	msgpack_sbuffer_init(sb);
	msgpack_packer_init(pk, sb, msgpack_sbuffer_write);
}

/* Fill buf with n arrays nested in each other, the innermost empty;
   returns the bytes written. */
static size_t
nest_arrays(uint8_t *buf, int n)
{
	int	i;

	for (i = 0; i < n - 1; i++)
		buf[i] = 0x91;		/* array of one */
	buf[n - 1] = 0x90;		/* empty array */
	return ((size_t)n);
}

/* Positive fixint 0..127 reads as MP_UINT in one byte. */
static void
test_read_posfixint(void **state)
{
	struct mp_obj	o;
	uint8_t		b[] = { 0x7f };

	read_one(b, 1, &o);
	assert_int_equal(o.type, MP_UINT);
	assert_int_equal(o.v.u, 127);
}

/* Negative fixint reads as MP_INT -1..-32. */
static void
test_read_negfixint(void **state)
{
	struct mp_obj	o;
	uint8_t		a[] = { 0xff }, b[] = { 0xe0 };

	read_one(a, 1, &o);
	assert_int_equal(o.type, MP_INT);
	assert_int_equal(o.v.i, -1);
	read_one(b, 1, &o);
	assert_int_equal(o.v.i, -32);
}

/* nil, false and true. */
static void
test_read_nil_bool(void **state)
{
	struct mp_obj	o;
	uint8_t		n[] = { 0xc0 }, f[] = { 0xc2 }, t[] = { 0xc3 };

	read_one(n, 1, &o);
	assert_int_equal(o.type, MP_NIL);
	read_one(f, 1, &o);
	assert_int_equal(o.type, MP_BOOL);
	assert_false(o.v.b);
	read_one(t, 1, &o);
	assert_int_equal(o.type, MP_BOOL);
	assert_true(o.v.b);
}

/* uint 8/16/32/64 read big-endian, including the largest uint64. */
static void
test_read_uints(void **state)
{
	struct mp_obj	o;
	uint8_t		u8[] = { 0xcc, 0xff };
	uint8_t		u16[] = { 0xcd, 0x12, 0x34 };
	uint8_t		u32[] = { 0xce, 0x00, 0x00, 0x00, 0x05 };
	uint8_t		u64[] = { 0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
			    0xff, 0xff };

	read_one(u8, sizeof u8, &o);
	assert_int_equal(o.type, MP_UINT);
	assert_int_equal(o.v.u, 255);
	read_one(u16, sizeof u16, &o);
	assert_int_equal(o.v.u, 0x1234);
	read_one(u32, sizeof u32, &o);
	assert_int_equal(o.v.u, 5);
	read_one(u64, sizeof u64, &o);
	assert_true(o.v.u == UINT64_MAX);
}

/* Signed encodings: negatives are MP_INT, non-negatives MP_UINT (mp.h). */
static void
test_read_ints(void **state)
{
	struct mp_obj	o;
	uint8_t		i8[] = { 0xd0, 0x80 };
	uint8_t		i8p[] = { 0xd0, 0x05 };
	uint8_t		i16[] = { 0xd1, 0xff, 0x00 };
	uint8_t		i32[] = { 0xd2, 0x80, 0x00, 0x00, 0x00 };
	uint8_t		i64[] = { 0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0 };
	uint8_t		i64p[] = { 0xd3, 0, 0, 0, 0, 0, 0, 0, 0x07 };

	read_one(i8, sizeof i8, &o);
	assert_int_equal(o.type, MP_INT);
	assert_int_equal(o.v.i, -128);
	read_one(i8p, sizeof i8p, &o);
	assert_int_equal(o.type, MP_UINT);
	assert_int_equal(o.v.u, 5);
	read_one(i16, sizeof i16, &o);
	assert_int_equal(o.v.i, -256);
	read_one(i32, sizeof i32, &o);
	assert_true(o.v.i == INT32_MIN);
	read_one(i64, sizeof i64, &o);
	assert_int_equal(o.type, MP_INT);
	assert_true(o.v.i == INT64_MIN);
	read_one(i64p, sizeof i64p, &o);
	assert_int_equal(o.type, MP_UINT);
	assert_int_equal(o.v.u, 7);
}

/* float 32 and 64 read as doubles. */
static void
test_read_floats(void **state)
{
	struct mp_obj	o;
	uint8_t		f32[] = { 0xca, 0x3f, 0xc0, 0x00, 0x00 };	/* 1.5 */
	uint8_t		f64[] = { 0xcb, 0xc0, 0x04, 0, 0, 0, 0, 0, 0 };	/* -2.5 */

	read_one(f32, sizeof f32, &o);
	assert_int_equal(o.type, MP_FLOAT);
	assert_true(o.v.f == 1.5);
	read_one(f64, sizeof f64, &o);
	assert_true(o.v.f == -2.5);
}

/* fixstr, str 8/16/32: pointer into the buffer, data consumed. */
static void
test_read_strs(void **state)
{
	struct mp_obj	o;
	uint8_t		fix[] = { 0xa3, 'a', 'b', 'c' };
	uint8_t		s8[] = { 0xd9, 0x02, 'h', 'i' };
	uint8_t		s16[] = { 0xda, 0x00, 0x01, 'x' };
	uint8_t		s32[] = { 0xdb, 0x00, 0x00, 0x00, 0x00 };

	read_one(fix, sizeof fix, &o);
	assert_int_equal(o.type, MP_STR);
	assert_int_equal(o.v.str.len, 3);
	assert_ptr_equal(o.v.str.ptr, fix + 1);
	read_one(s8, sizeof s8, &o);
	assert_int_equal(o.v.str.len, 2);
	assert_memory_equal(o.v.str.ptr, "hi", 2);
	read_one(s16, sizeof s16, &o);
	assert_int_equal(o.v.str.len, 1);
	read_one(s32, sizeof s32, &o);
	assert_int_equal(o.type, MP_STR);
	assert_int_equal(o.v.str.len, 0);
}

/* bin 8/16/32 are MP_BIN, not strings. */
static void
test_read_bins(void **state)
{
	struct mp_obj	o;
	uint8_t		b8[] = { 0xc4, 0x01, 0xc1 };
	uint8_t		b16[] = { 0xc5, 0x00, 0x02, 0, 1 };
	uint8_t		b32[] = { 0xc6, 0, 0, 0, 1, 9 };

	read_one(b8, sizeof b8, &o);
	assert_int_equal(o.type, MP_BIN);
	assert_int_equal(o.v.str.len, 1);
	read_one(b16, sizeof b16, &o);
	assert_int_equal(o.v.str.len, 2);
	read_one(b32, sizeof b32, &o);
	assert_int_equal(o.v.str.len, 1);
}

/* fixext 1..16 and ext 8/16/32 carry their type and data. */
static void
test_read_exts(void **state)
{
	struct mp_obj	o;
	uint8_t		buf[32];
	int		i;
	uint8_t		e8[] = { 0xc7, 0x02, 0x05, 1, 2 };
	uint8_t		e16[] = { 0xc8, 0x00, 0x01, 0xff, 7 };
	uint8_t		e32[] = { 0xc9, 0, 0, 0, 0, 0x10 };

	for (i = 0; i < 5; i++) {
		memset(buf, 0xaa, sizeof buf);
		buf[0] = (uint8_t)(0xd4 + i);
		buf[1] = 0xff;	/* type -1: a timestamp */
		read_one(buf, 2 + ((size_t)1 << i), &o);
		assert_int_equal(o.type, MP_EXT);
		assert_int_equal(o.ext_type, -1);
		assert_int_equal(o.v.str.len, 1 << i);
	}
	read_one(e8, sizeof e8, &o);
	assert_int_equal(o.ext_type, 5);
	assert_int_equal(o.v.str.len, 2);
	read_one(e16, sizeof e16, &o);
	assert_int_equal(o.ext_type, -1);
	assert_int_equal(o.v.str.len, 1);
	read_one(e32, sizeof e32, &o);
	assert_int_equal(o.ext_type, 0x10);
	assert_int_equal(o.v.str.len, 0);
}

/* Array and map headers in all sizes: only the header is consumed. */
static void
test_read_containers(void **state)
{
	struct mp_obj	o;
	uint8_t		fa[] = { 0x93 }, fm[] = { 0x82 };
	uint8_t		a16[] = { 0xdc, 0x01, 0x00 };
	uint8_t		a32[] = { 0xdd, 0xff, 0xff, 0xff, 0xff };
	uint8_t		m16[] = { 0xde, 0x00, 0x03 };
	uint8_t		m32[] = { 0xdf, 0x00, 0x01, 0x00, 0x00 };

	read_one(fa, 1, &o);
	assert_int_equal(o.type, MP_ARRAY);
	assert_int_equal(o.v.n, 3);
	read_one(fm, 1, &o);
	assert_int_equal(o.type, MP_MAP);
	assert_int_equal(o.v.n, 2);
	read_one(a16, sizeof a16, &o);
	assert_int_equal(o.v.n, 256);
	read_one(a32, sizeof a32, &o);
	assert_true(o.v.n == UINT32_MAX);
	read_one(m16, sizeof m16, &o);
	assert_int_equal(o.type, MP_MAP);
	assert_int_equal(o.v.n, 3);
	read_one(m32, sizeof m32, &o);
	assert_int_equal(o.v.n, 65536);
}

/* Every byte value 0x00..0xff as a one-byte buffer: mp_read never reads
   past it, and fails exactly for 0xc1 and the headers that need more. */
static void
test_read_every_first_byte(void **state)
{
	struct mp_reader r;
	struct mp_obj	 o;
	uint8_t		*b;
	int		 c, rc;

	for (c = 0; c < 256; c++) {
		b = malloc(1);	/* exact size, so ASan sees any overread */
		b[0] = (uint8_t)c;
		mp_reader_init(&r, b, 1);
		rc = mp_read(&r, &o);
		if (c == 0xc1 || (c >= 0xc4 && c <= 0xdf) ||
		    (c >= 0xa1 && c <= 0xbf))
			assert_int_equal(rc, -1);
		else
			assert_int_equal(rc, 0);
		if (rc == -1)
			assert_ptr_equal(r.p, b);
		free(b);
	}
}

/* A failed read leaves the reader where it was. */
static void
test_read_failure_does_not_move(void **state)
{
	struct mp_reader r;
	struct mp_obj	 o;
	uint8_t		 hdr[] = { 0xcd, 0x12 };	/* uint16, one byte */
	uint8_t		 str[] = { 0xa5, 'a', 'b' };	/* 5 bytes promised */
	uint8_t		 bad[] = { 0xc1 };

	mp_reader_init(&r, hdr, sizeof hdr);
	assert_int_equal(mp_read(&r, &o), -1);
	assert_ptr_equal(r.p, hdr);
	mp_reader_init(&r, str, sizeof str);
	assert_int_equal(mp_read(&r, &o), -1);
	assert_ptr_equal(r.p, str);
	mp_reader_init(&r, bad, sizeof bad);
	assert_int_equal(mp_read(&r, &o), -1);
	assert_ptr_equal(r.p, bad);
	mp_reader_init(&r, bad, 0);
	assert_int_equal(mp_read(&r, &o), -1);
}

/* A str32 claiming 4 GiB in a small buffer fails without reading on. */
static void
test_read_huge_str_length(void **state)
{
	struct mp_reader r;
	struct mp_obj	 o;
	uint8_t		 b[] = { 0xdb, 0xff, 0xff, 0xff, 0xff, 'a' };

	mp_reader_init(&r, b, sizeof b);
	assert_int_equal(mp_read(&r, &o), -1);
}

/* mp_skip passes over a whole nested value and stops at the next one. */
static void
test_skip_nested(void **state)
{
	msgpack_sbuffer	 sb;
	msgpack_packer	 pk;
	struct mp_reader r;
	struct mp_obj	 o;

	pack_init(&sb, &pk);
	msgpack_pack_map(&pk, 2);
	msgpack_pack_str_with_body(&pk, "a", 1);
	msgpack_pack_array(&pk, 3);
	msgpack_pack_int(&pk, 1);
	msgpack_pack_map(&pk, 1);
	msgpack_pack_str_with_body(&pk, "b", 1);
	msgpack_pack_array(&pk, 0);
	msgpack_pack_bin_with_body(&pk, "xyz", 3);
	msgpack_pack_str_with_body(&pk, "c", 1);
	msgpack_pack_nil(&pk);
	msgpack_pack_int(&pk, 42);	/* the next value */

	mp_reader_init(&r, sb.data, sb.size);
	assert_int_equal(mp_skip(&r), 0);
	assert_int_equal(mp_read(&r, &o), 0);
	assert_int_equal(o.type, MP_UINT);
	assert_int_equal(o.v.u, 42);
	assert_ptr_equal(r.p, r.end);
	msgpack_sbuffer_destroy(&sb);
}

/* mp_skip of a scalar is one mp_read. */
static void
test_skip_scalar(void **state)
{
	struct mp_reader r;
	uint8_t		 b[] = { 0xa2, 'h', 'i', 0x01 };

	mp_reader_init(&r, b, sizeof b);
	assert_int_equal(mp_skip(&r), 0);
	assert_ptr_equal(r.p, b + 3);
}

/* mp_skip fails on a value cut short. */
static void
test_skip_truncated(void **state)
{
	struct mp_reader r;
	uint8_t		 b[] = { 0x92, 0x01 };	/* array of 2, one given */

	mp_reader_init(&r, b, sizeof b);
	assert_int_equal(mp_skip(&r), -1);
}

/* mp_skip of an array32 claiming 4 billion items fails at the header. */
static void
test_skip_huge_header(void **state)
{
	struct mp_reader r;
	uint8_t		 b[] = { 0xdd, 0xff, 0xff, 0xff, 0xff, 0x01, 0x02 };

	mp_reader_init(&r, b, sizeof b);
	assert_int_equal(mp_skip(&r), -1);
}

/* Scalars and containers made by msgpack-c pass mp_check. */
static void
test_check_ok(void **state)
{
	msgpack_sbuffer	sb;
	msgpack_packer	pk;
	uint8_t		one[] = { 0x01 }, empty_map[] = { 0x80 };

	assert_int_equal(mp_check(one, 1, 16), MP_OK);
	assert_int_equal(mp_check(empty_map, 1, 16), MP_OK);
	pack_init(&sb, &pk);
	msgpack_pack_map(&pk, 3);
	msgpack_pack_str_with_body(&pk, "a", 1);
	msgpack_pack_array(&pk, 2);
	msgpack_pack_double(&pk, 1.5);
	msgpack_pack_true(&pk);
	msgpack_pack_str_with_body(&pk, "b", 1);
	msgpack_pack_ext_with_body(&pk, "\x00\x00\x00\x01", 4, -1);
	msgpack_pack_str_with_body(&pk, "c", 1);
	msgpack_pack_map(&pk, 0);
	assert_int_equal(mp_check(sb.data, sb.size, 16), MP_OK);
	msgpack_sbuffer_destroy(&sb);
}

/* No bytes at all is its own result. */
static void
test_check_empty(void **state)
{
	size_t	off = 99;

	assert_int_equal(mp_check("", 0, 16), MP_ERR_EMPTY);
	assert_int_equal(mp_check(NULL, 0, 16), MP_ERR_EMPTY);
	assert_int_equal(mp_check_offset("", 0, 16, &off), MP_ERR_EMPTY);
	assert_int_equal(off, 0);
}

/* Every proper prefix of a valid value is truncated, and no prefix is read
   past its end (each prefix is its own allocation, for ASan). */
static void
test_check_every_prefix_truncated(void **state)
{
	msgpack_sbuffer	 sb;
	msgpack_packer	 pk;
	uint8_t		*b;
	size_t		 i, off;

	pack_init(&sb, &pk);
	msgpack_pack_map(&pk, 4);
	msgpack_pack_str_with_body(&pk, "title", 5);
	msgpack_pack_str_with_body(&pk, "a meeting", 9);
	msgpack_pack_str_with_body(&pk, "n", 1);
	msgpack_pack_uint64(&pk, UINT64_MAX);
	msgpack_pack_str_with_body(&pk, "list", 4);
	msgpack_pack_array(&pk, 2);
	msgpack_pack_int64(&pk, INT64_MIN);
	msgpack_pack_float(&pk, 2.0f);
	msgpack_pack_str_with_body(&pk, "bin", 3);
	msgpack_pack_bin_with_body(&pk, "\x01\x02", 2);
	for (i = 0; i < sb.size; i++) {
		b = malloc(i + 1);
		memcpy(b, sb.data, i);
		assert_int_equal(mp_check_offset(b, i, 16, &off),
		    i == 0 ? MP_ERR_EMPTY : MP_ERR_TRUNCATED);
		if (i > 0)
			assert_int_equal(off, i);
		free(b);
	}
	assert_int_equal(mp_check(sb.data, sb.size, 16), MP_OK);
	msgpack_sbuffer_destroy(&sb);
}

/* Bytes after the first complete value are trailing; offset is the first. */
static void
test_check_trailing(void **state)
{
	uint8_t	b[] = { 0x81, 0xa1, 'a', 0x01, 0x00, 0x00 };
	uint8_t	two[] = { 0x01, 0x02 };
	size_t	off;

	assert_int_equal(mp_check_offset(b, sizeof b, 16, &off),
	    MP_ERR_TRAILING);
	assert_int_equal(off, 4);
	assert_int_equal(mp_check(two, 2, 16), MP_ERR_TRAILING);
}

/* 16 nested arrays pass a limit of 16; 17 do not. */
static void
test_check_depth_16_ok_17_rejected(void **state)
{
	uint8_t	b[32];
	size_t	n, off;

	n = nest_arrays(b, 16);
	assert_int_equal(mp_check(b, n, 16), MP_OK);
	n = nest_arrays(b, 17);
	assert_int_equal(mp_check_offset(b, n, 16, &off), MP_ERR_DEPTH);
	assert_int_equal(off, 16);	/* the 17th container's header */
}

/* A scalar inside the 16th container is still depth 16: scalars do not
   add a level, containers do (the top map is level 1). */
static void
test_check_depth_scalar_leaf(void **state)
{
	uint8_t	b[32];
	int	i;

	for (i = 0; i < 16; i++)
		b[i] = 0x91;
	b[16] = 0x2a;
	assert_int_equal(mp_check(b, 17, 16), MP_OK);
	assert_int_equal(mp_check(b, 17, 15), MP_ERR_DEPTH);
	assert_int_equal(mp_check(b + 16, 1, 1), MP_OK);
}

/* Maps nest like arrays: a map as a map value is one level deeper. */
static void
test_check_depth_maps(void **state)
{
	uint8_t	b[64];
	size_t	n = 0;
	int	i;

	for (i = 0; i < 16; i++) {
		b[n++] = 0x81;
		b[n++] = 0xa1;
		b[n++] = 'k';
	}
	b[n++] = 0x80;		/* the 17th map, empty */
	assert_int_equal(mp_check(b, n, 17), MP_OK);
	assert_int_equal(mp_check(b, n, 16), MP_ERR_DEPTH);
}

/* Depth is per path: after a deep branch closes, a sibling branch starts
   from its parent's level again. */
static void
test_check_depth_siblings(void **state)
{
	uint8_t	b[64];
	size_t	n = 0;
	int	i;

	b[n++] = 0x92;			/* level 1, two items */
	for (i = 0; i < 14; i++)
		b[n++] = 0x91;		/* levels 2..15 */
	b[n++] = 0x90;			/* level 16 */
	for (i = 0; i < 14; i++)
		b[n++] = 0x91;
	b[n++] = 0x90;			/* level 16 again */
	assert_int_equal(mp_check(b, n, 16), MP_OK);
	b[n - 1] = 0x91;
	b[n++] = 0x90;			/* level 17 in the second branch */
	assert_int_equal(mp_check(b, n, 16), MP_ERR_DEPTH);
}

/* max_depth is clamped to 1..MP_CHECK_DEPTH_LIMIT: the stack is fixed. */
static void
test_check_depth_clamped(void **state)
{
	uint8_t	b[MP_CHECK_DEPTH_LIMIT + 2];
	size_t	n;

	n = nest_arrays(b, MP_CHECK_DEPTH_LIMIT);
	assert_int_equal(mp_check(b, n, 1000), MP_OK);
	n = nest_arrays(b, MP_CHECK_DEPTH_LIMIT + 1);
	assert_int_equal(mp_check(b, n, 1000), MP_ERR_DEPTH);
	assert_int_equal(mp_check("\x01", 1, 0), MP_OK);
	assert_int_equal(mp_check("\x90", 1, 0), MP_OK);
	assert_int_equal(mp_check("\x91\x90", 2, -5), MP_ERR_DEPTH);
}

/* 0xc1 is invalid wherever a value starts, with its offset. */
static void
test_check_c1(void **state)
{
	uint8_t	top[] = { 0xc1 };
	uint8_t	in[] = { 0x82, 0xa1, 'a', 0x01, 0xa1, 'b', 0xc1 };
	uint8_t	key[] = { 0x81, 0xc1, 0x01 };
	size_t	off;

	assert_int_equal(mp_check_offset(top, 1, 16, &off), MP_ERR_INVALID);
	assert_int_equal(off, 0);
	assert_int_equal(mp_check_offset(in, sizeof in, 16, &off),
	    MP_ERR_INVALID);
	assert_int_equal(off, 6);
	assert_int_equal(mp_check(key, sizeof key, 16), MP_ERR_INVALID);
}

/* 0xc1 inside string or bin data is just data. */
static void
test_check_c1_in_data(void **state)
{
	uint8_t	s[] = { 0xa2, 0xc1, 0xc1 };
	uint8_t	b[] = { 0xc4, 0x01, 0xc1 };

	assert_int_equal(mp_check(s, sizeof s, 16), MP_OK);
	assert_int_equal(mp_check(b, sizeof b, 16), MP_OK);
}

/* An array32 or map32 header claiming 4 billion elements with no data
   fails at once as truncated: the count is checked against the bytes
   left (each value takes at least one), nothing is allocated by it. */
static void
test_check_huge_headers_fail_fast(void **state)
{
	uint8_t		 a[] = { 0xdd, 0xff, 0xff, 0xff, 0xff };
	uint8_t		 m[] = { 0xdf, 0xff, 0xff, 0xff, 0xff, 0xa0, 0xa0 };
	uint8_t		*big;
	size_t		 off;

	assert_int_equal(mp_check(a, sizeof a, 16), MP_ERR_TRUNCATED);
	assert_int_equal(mp_check(m, sizeof m, 16), MP_ERR_TRUNCATED);
	/* A megabyte of data still cannot hold 4 billion values. */
	big = calloc(1, 1 << 20);
	memcpy(big, a, sizeof a);
	assert_int_equal(mp_check_offset(big, 1 << 20, 16, &off),
	    MP_ERR_TRUNCATED);
	assert_int_equal(off, 1 << 20);
	free(big);
}

/* A map header counts pairs: 2n values, not n. */
static void
test_check_map_counts_pairs(void **state)
{
	uint8_t	half[] = { 0x82, 0xa1, 'a', 0x01, 0xa1, 'b' };
	uint8_t	full[] = { 0x82, 0xa1, 'a', 0x01, 0xa1, 'b', 0x02 };

	assert_int_equal(mp_check(half, sizeof half, 16), MP_ERR_TRUNCATED);
	assert_int_equal(mp_check(full, sizeof full, 16), MP_OK);
}

/* A truncated header inside a container is truncation, not 0xc1. */
static void
test_check_truncated_header(void **state)
{
	uint8_t	b[] = { 0x91, 0xcf, 0x00, 0x00 };

	assert_int_equal(mp_check(b, sizeof b, 16), MP_ERR_TRUNCATED);
}

/* Every result has a phrase, and the depth one says so. */
static void
test_check_str(void **state)
{
	assert_non_null(strstr(mp_check_str(MP_ERR_DEPTH), "deep"));
	assert_non_null(strstr(mp_check_str(MP_ERR_TRUNCATED), "truncated"));
	assert_non_null(strstr(mp_check_str(MP_ERR_TRAILING), "trailing"));
	assert_non_null(strstr(mp_check_str(MP_ERR_INVALID), "0xc1"));
	assert_non_null(mp_check_str(MP_ERR_EMPTY));
	assert_non_null(mp_check_str(MP_OK));
}

/* Type names are what a user says in a detail. */
static void
test_type_names(void **state)
{
	assert_string_equal(mp_type_name(MP_STR), "string");
	assert_string_equal(mp_type_name(MP_INT), "integer");
	assert_string_equal(mp_type_name(MP_UINT), "integer");
	assert_string_equal(mp_type_name(MP_FLOAT), "float");
	assert_string_equal(mp_type_name(MP_BOOL), "bool");
	assert_string_equal(mp_type_name(MP_NIL), "nil");
	assert_string_equal(mp_type_name(MP_MAP), "map");
	assert_string_equal(mp_type_name(MP_ARRAY), "array");
	assert_string_equal(mp_type_name(MP_BIN), "bin");
	assert_string_equal(mp_type_name(MP_EXT), "ext");
}

/* mp_str_eq: same bytes and length, strings only. */
static void
test_str_eq(void **state)
{
	struct mp_obj	o;
	uint8_t		s[] = { 0xa3, 'a', 'b', 'c' };
	uint8_t		b[] = { 0xc4, 0x03, 'a', 'b', 'c' };

	read_one(s, sizeof s, &o);
	assert_true(mp_str_eq(&o, "abc"));
	assert_false(mp_str_eq(&o, "ab"));
	assert_false(mp_str_eq(&o, "abcd"));
	assert_false(mp_str_eq(&o, "abd"));
	read_one(b, sizeof b, &o);
	assert_false(mp_str_eq(&o, "abc"));
}

#define U(s)	mp_utf8_valid((s), sizeof(s) - 1)

/* ASCII, the empty string and U+0000 are valid. */
static void
test_utf8_ascii(void **state)
{
	assert_true(U(""));
	assert_true(U("Budi Santoso, KBRI Seoul"));
	assert_true(U("\x00"));
	assert_true(U("\x7f"));
}

/* The smallest and largest code point of each length are valid. */
static void
test_utf8_boundaries_valid(void **state)
{
	assert_true(U("\xc2\x80"));		/* U+0080 */
	assert_true(U("\xdf\xbf"));		/* U+07FF */
	assert_true(U("\xe0\xa0\x80"));		/* U+0800 */
	assert_true(U("\xed\x9f\xbf"));		/* U+D7FF */
	assert_true(U("\xee\x80\x80"));		/* U+E000 */
	assert_true(U("\xef\xbf\xbf"));		/* U+FFFF */
	assert_true(U("\xf0\x90\x80\x80"));	/* U+10000 */
	assert_true(U("\xf4\x8f\xbf\xbf"));	/* U+10FFFF */
	assert_true(U("Jakarta \xe2\x80\x93 \xec\x84\x9c\xec\x9a\xb8 "
	    "\xe5\x8f\xb0\xe5\x8c\x97 \xf0\x9f\x87\xae\xf0\x9f\x87\xa9"));
}

/* Overlong encodings are rejected, whatever their length. */
static void
test_utf8_overlong(void **state)
{
	assert_false(U("\xc0\x80"));		/* U+0000 in two bytes */
	assert_false(U("\xc1\xbf"));
	assert_false(U("\xe0\x80\x80"));
	assert_false(U("\xe0\x9f\xbf"));	/* U+07FF in three */
	assert_false(U("\xf0\x80\x80\x80"));
	assert_false(U("\xf0\x8f\xbf\xbf"));	/* U+FFFF in four */
	assert_false(U("\xc0\xaf"));		/* the classic "/" */
}

/* UTF-16 surrogates U+D800..U+DFFF are not characters. */
static void
test_utf8_surrogates(void **state)
{
	assert_false(U("\xed\xa0\x80"));	/* U+D800 */
	assert_false(U("\xed\xbf\xbf"));	/* U+DFFF */
	assert_false(U("\xed\xa0\xbd\xed\xb2\xa9"));	/* CESU-8 pair */
}

/* Nothing above U+10FFFF, and no F5..FF lead bytes. */
static void
test_utf8_above_max(void **state)
{
	assert_false(U("\xf4\x90\x80\x80"));	/* U+110000 */
	assert_false(U("\xf5\x80\x80\x80"));
	assert_false(U("\xf8\x88\x80\x80\x80"));
	assert_false(U("\xfe"));
	assert_false(U("\xff"));
}

/* Continuation bytes alone, missing or wrong continuations. */
static void
test_utf8_bad_sequences(void **state)
{
	assert_false(U("\x80"));
	assert_false(U("a\xbf"));
	assert_false(U("\xc2"));		/* cut at the end */
	assert_false(U("\xe0\xa0"));
	assert_false(U("\xf0\x90\x80"));
	assert_false(U("\xc2\x41"));		/* ASCII where a cont. is due */
	assert_false(U("\xe2\x28\xa1"));
	assert_false(U("\xe2\x82\x28"));
	assert_false(U("\xf0\x90\x28\xbc"));
	assert_false(U("\xf0\x90\x80\x28"));
}

/* The eight-byte ASCII fast path does not skip a bad byte at any position
   around its boundary, nor split a good sequence that straddles it. */
static void
test_utf8_fast_path_boundaries(void **state)
{
	char	buf[40];
	size_t	i;

	for (i = 0; i < 24; i++) {
		memset(buf, 'a', sizeof buf);
		buf[i] = (char)0x80;
		assert_false(mp_utf8_valid(buf, sizeof buf));
		memset(buf, 'a', sizeof buf);
		memcpy(buf + i, "\xe2\x82\xac", 3);	/* U+20AC */
		assert_true(mp_utf8_valid(buf, sizeof buf));
		assert_false(mp_utf8_valid(buf, i + 2));	/* cut */
	}
}

/* mp_utf8_clean keeps valid UTF-8 and puts U+FFFD for each bad byte,
 * including a character cut at the end. */
static void
test_utf8_clean(void **state)
{
	char out[64];
	size_t n;

	n = mp_utf8_clean((const uint8_t *)"ok \xc3\xa9", 5, out);
	assert_int_equal(n, 5);
	assert_memory_equal(out, "ok \xc3\xa9", 5);
	n = mp_utf8_clean((const uint8_t *)"a\xff" "b", 3, out);
	assert_int_equal(n, 5);
	assert_memory_equal(out, "a\xef\xbf\xbd" "b", 5);
	n = mp_utf8_clean((const uint8_t *)"\xe2\x82", 2, out);
	assert_int_equal(n, 6);
	assert_true(mp_utf8_valid(out, n));
	n = mp_utf8_clean((const uint8_t *)"\xed\xa0\x80", 3, out);
	assert_int_equal(n, 9);	/* a surrogate: three bad bytes */
	assert_true(mp_utf8_valid(out, n));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_posfixint),
		cmocka_unit_test(test_read_negfixint),
		cmocka_unit_test(test_read_nil_bool),
		cmocka_unit_test(test_read_uints),
		cmocka_unit_test(test_read_ints),
		cmocka_unit_test(test_read_floats),
		cmocka_unit_test(test_read_strs),
		cmocka_unit_test(test_read_bins),
		cmocka_unit_test(test_read_exts),
		cmocka_unit_test(test_read_containers),
		cmocka_unit_test(test_read_every_first_byte),
		cmocka_unit_test(test_read_failure_does_not_move),
		cmocka_unit_test(test_read_huge_str_length),
		cmocka_unit_test(test_skip_nested),
		cmocka_unit_test(test_skip_scalar),
		cmocka_unit_test(test_skip_truncated),
		cmocka_unit_test(test_skip_huge_header),
		cmocka_unit_test(test_check_ok),
		cmocka_unit_test(test_check_empty),
		cmocka_unit_test(test_check_every_prefix_truncated),
		cmocka_unit_test(test_check_trailing),
		cmocka_unit_test(test_check_depth_16_ok_17_rejected),
		cmocka_unit_test(test_check_depth_scalar_leaf),
		cmocka_unit_test(test_check_depth_maps),
		cmocka_unit_test(test_check_depth_siblings),
		cmocka_unit_test(test_check_depth_clamped),
		cmocka_unit_test(test_check_c1),
		cmocka_unit_test(test_check_c1_in_data),
		cmocka_unit_test(test_check_huge_headers_fail_fast),
		cmocka_unit_test(test_check_map_counts_pairs),
		cmocka_unit_test(test_check_truncated_header),
		cmocka_unit_test(test_check_str),
		cmocka_unit_test(test_type_names),
		cmocka_unit_test(test_str_eq),
		cmocka_unit_test(test_utf8_ascii),
		cmocka_unit_test(test_utf8_boundaries_valid),
		cmocka_unit_test(test_utf8_overlong),
		cmocka_unit_test(test_utf8_surrogates),
		cmocka_unit_test(test_utf8_above_max),
		cmocka_unit_test(test_utf8_bad_sequences),
		cmocka_unit_test(test_utf8_fast_path_boundaries),
		cmocka_unit_test(test_utf8_clean),
	};

	return (cmocka_run_group_tests_name("mp", tests, NULL, NULL));
}
