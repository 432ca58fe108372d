/*
 * arena.h — a chunked bump allocator for one batch's copies.
 *
 * Memory handed out never moves (chunks are never reallocated), so
 * pointers into it stay valid until arena_reset() or arena_free(), which
 * release everything at once.  Not thread-safe: one owner at a time.
 */
#ifndef WARTA_ARENA_H
#define WARTA_ARENA_H

#include <stddef.h>

struct arena_chunk;

struct arena {
	struct arena_chunk	*head;	/* current chunk, newest first */
	size_t			 used;	/* bytes handed out since reset */
};

/* Allocate n bytes, aligned for any scalar. */
void *arena_alloc(struct arena *a, size_t n);

/* Copy n bytes into the arena. */
void *arena_dup(struct arena *a, const void *p, size_t n);

/* Forget everything; keeps one chunk for reuse. */
void arena_reset(struct arena *a);

/* Free every chunk. */
void arena_free(struct arena *a);

#endif
