/*
 * arena.c — chunked bump allocation.
 */
#include "daemon/arena.h"

#include <stdalign.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/xmalloc.h"

#define ARENA_CHUNK	(256 * 1024)
#define ARENA_KEEP	32		/* 8 MiB: a full batch's copies */

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

		if (size == ARENA_CHUNK && a->free != NULL) {
			c = a->free;
			a->free = c->next;
		} else {
			c = xmalloc(sizeof *c + size);
			c->size = size;
		}
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

/* Keep standard-size chunks (up to ARENA_KEEP), free the rest. */
void
arena_reset(struct arena *a)
{
	struct arena_chunk *c = a->head;
	size_t kept = 0;

	for (struct arena_chunk *f = a->free; f != NULL; f = f->next)
		kept++;
	while (c != NULL) {
		struct arena_chunk *next = c->next;

		if (c->size == ARENA_CHUNK && kept < ARENA_KEEP) {
			c->next = a->free;
			a->free = c;
			kept++;
		} else
			free(c);
		c = next;
	}
	a->head = NULL;
	a->used = 0;
}

/* Free the kept chunks but one; whether any went. */
bool
arena_trim(struct arena *a)
{
	struct arena_chunk *c;
	bool freed = false;

	if (a->free == NULL)
		return false;
	while ((c = a->free->next) != NULL) {
		a->free->next = c->next;
		free(c);
		freed = true;
	}
	return freed;
}

/* Free every chunk. */
void
arena_free(struct arena *a)
{
	arena_reset(a);
	arena_trim(a);
	free(a->free);
	a->free = NULL;
}
