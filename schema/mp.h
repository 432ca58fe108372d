/*
 * mp.h — a bounded, zero-copy MessagePack reader.
 *
 * Untrusted bytes are read in place: nothing is allocated, so a header that
 * claims four billion elements costs nothing until they are actually read.
 * mp_check() walks a whole buffer once and proves it is one well-formed
 * value with no trailing bytes and no nesting deeper than a limit; after
 * that, mp_read()/mp_skip() on the same bytes cannot fail.
 *
 * Every pointer in a struct mp_obj points into the caller's buffer and lives
 * as long as it does.  Writing MessagePack is msgpack-c's job (msgpack.h).
 */
#ifndef WARTA_MP_H
#define WARTA_MP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum mp_type {
	MP_NIL, MP_BOOL, MP_INT, MP_UINT, MP_FLOAT, MP_STR, MP_BIN,
	MP_ARRAY, MP_MAP, MP_EXT
};

struct mp_obj {
	enum mp_type	 type;
	const uint8_t	*start;		/* first byte of this value's header */
	union {
		bool	 b;
		int64_t	 i;		/* MP_INT: a negative integer */
		uint64_t u;		/* MP_UINT: a non-negative integer */
		double	 f;
		struct {
			const char *ptr;
			uint32_t len;
		} str;			/* MP_STR, MP_BIN, MP_EXT (data) */
		uint32_t n;		/* MP_ARRAY elements, MP_MAP pairs */
	} v;
	int8_t		 ext_type;	/* MP_EXT */
};

struct mp_reader {
	const uint8_t	*p;
	const uint8_t	*end;
};

enum mp_check_result {
	MP_OK = 0,
	MP_ERR_TRUNCATED,	/* the buffer ends inside a value */
	MP_ERR_TRAILING,	/* bytes after the first value */
	MP_ERR_DEPTH,		/* nested deeper than max_depth */
	MP_ERR_INVALID,		/* 0xc1, the one byte that is never valid */
	MP_ERR_EMPTY		/* no bytes at all */
};

/* The deepest nesting mp_check() can follow: its stack has this many
   entries, and a larger max_depth is lowered to it. */
#define MP_CHECK_DEPTH_LIMIT	64

/* Start reading buf[0..len). */
void mp_reader_init(struct mp_reader *r, const void *buf, size_t len);

/*
 * Read one value's header into *o and advance past it.  For strings, bin and
 * ext the data is consumed too; for arrays and maps only the header: the
 * caller reads the n (or 2n) values that follow.  Returns 0, or -1 when the
 * buffer ends early or the byte is invalid.
 */
int mp_read(struct mp_reader *r, struct mp_obj *o);

/* Skip one complete value, containers included.  Returns 0 or -1. */
int mp_skip(struct mp_reader *r);

/*
 * Check that buf holds exactly one well-formed value nested at most
 * max_depth deep.  Depth counts containers: a scalar, or a container
 * holding only scalars, is depth 1; a map inside it is depth 2, and so on.
 * Bounded: never recurses, never allocates, and a container whose count
 * exceeds the bytes left fails at its header (MP_ERR_TRUNCATED).
 */
enum mp_check_result mp_check(const void *buf, size_t len, int max_depth);

/* mp_check(), and on failure *offset is where the problem is: the first
   trailing byte, the 0xc1, the container too deep, or len if truncated. */
enum mp_check_result mp_check_offset(const void *buf, size_t len,
    int max_depth, size_t *offset);

/* A short English phrase for a check result ("nesting deeper than 16"). */
const char *mp_check_str(enum mp_check_result res);

/* The name of a type as a user would say it: "string", "map", "integer". */
const char *mp_type_name(enum mp_type type);

/* True when o is a string equal to the NUL-terminated s. */
bool mp_str_eq(const struct mp_obj *o, const char *s);

/* True when the bytes are valid UTF-8 (no overlongs, no surrogates). */
bool mp_utf8_valid(const char *s, size_t len);

/* Copy src to dst with each invalid UTF-8 byte replaced by U+FFFD; dst
 * must hold 3 * len bytes.  Returns the bytes written (no NUL added). */
size_t mp_utf8_clean(const uint8_t *src, size_t len, char *dst);

#endif
