/*
 * arena.c — chunked bump allocation.
 */
#include "daemon/arena.h"

#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/xmalloc.h"

#define ARENA_CHUNK	(256 * 1024)

struct arena_chunk {
	struct arena_chunk	*next;
	size_t			 size;
	size_t			 off;
	alignas(max_align_t) unsigned char data[];
};

/* Allocate n bytes from the current chunk or a new one. */
void *
arena_alloc(struct arena *a, size_t n)
{
	struct arena_chunk *c = a->head;
	size_t need = (n + alignof(max_align_t) - 1) &
	    ~(alignof(max_align_t) - 1);
	void *p;

	if (c == NULL || c->size - c->off < need) {
		size_t size = need > ARENA_CHUNK ? need : ARENA_CHUNK;

		c = xmalloc(sizeof *c + size);
		c->size = size;
		c->off = 0;
		c->next = a->head;
		a->head = c;
	}
	p = c->data + c->off;
	c->off += need;
	a->used += need;
	return p;
}

/* Copy bytes into the arena. */
void *
arena_dup(struct arena *a, const void *p, size_t n)
{
	void *q = arena_alloc(a, n);

	if (n)
		memcpy(q, p, n);
	return q;
}

/* Free all but the last (oldest) standard-size chunk. */
void
arena_reset(struct arena *a)
{
	struct arena_chunk *c = a->head, *keep = NULL;

	while (c != NULL) {
		struct arena_chunk *next = c->next;

		if (keep == NULL && c->size == ARENA_CHUNK) {
			keep = c;
			keep->off = 0;
			keep->next = NULL;
		} else
			free(c);
		c = next;
	}
	a->head = keep;
	a->used = 0;
}

/* Free every chunk. */
void
arena_free(struct arena *a)
{
	arena_reset(a);
	free(a->head);
	a->head = NULL;
}
