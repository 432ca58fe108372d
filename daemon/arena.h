/*
 * arena.h — a chunked bump allocator for one batch's copies.
 *
 * Memory handed out never moves (chunks are never reallocated), so
 * pointers into it stay valid until arena_reset() or arena_free(), which
 * release everything at once.  Not thread-safe: one owner at a time.
 */
#ifndef WARTA_ARENA_H
#define WARTA_ARENA_H

#include <stdbool.h>
#include <stddef.h>

struct arena_chunk;

struct arena {
	struct arena_chunk	*head;	/* current chunk, newest first */
	struct arena_chunk	*free;	/* kept by arena_reset(), for reuse */
	size_t			 used;	/* bytes handed out since reset */
};

/* Allocate n bytes, aligned for any scalar. */
void *arena_alloc(struct arena *a, size_t n);

/* Copy n bytes into the arena. */
void *arena_dup(struct arena *a, const void *p, size_t n);

/* Forget everything; keeps up to ARENA_KEEP standard chunks for reuse
 * (a busy daemon fills batch after batch: freeing them would page-fault
 * every chunk in again). */
void arena_reset(struct arena *a);

/* Give back all but one kept chunk (when the rate drops); true if any
 * went. */
bool arena_trim(struct arena *a);

/* Free every chunk. */
void arena_free(struct arena *a);

#endif
