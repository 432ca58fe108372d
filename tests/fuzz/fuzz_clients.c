/*
 * fuzz_clients.c — libFuzzer target for the CURVE clients file parser
 * (daemon/clients.c), whose input an operator writes and a SIGHUP
 * re-reads into the running daemon.
 *
 * The input is the whole file.  Properties checked, each an abort() when
 * broken:
 *  - an accepted file's entries are sorted, unique, each found by its
 *    key, its Z85 text decodes to that key, its role is one of the three
 *    and its name is 1..CLIENTS_NAME_MAX bytes with no control character
 *    but tab;
 *  - writing the entries back as "<key> <role> <name>" lines parses to the
 *    same entries;
 *  - a refusal says "line N: ..." for a line N of the input, on one line
 *    of printable ASCII.
 *
 * Built by `make fuzz`; tests/fuzz/replay.c replays the corpus in
 * tests/fuzz/corpus/clients/ through it in every `make test`.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/clients.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Check one accepted entry. */
static void
fuzz_clients_entry(const struct clients *c, const struct clients_entry *e)
{
	uint8_t bin[CLIENTS_KEY_BIN];
	char why[96];
	size_t nlen = strlen(e->name);

	if (clients_find(c, e->key) != e ||
	    clients_key_decode(e->z85, strlen(e->z85), bin, why,
	    sizeof why) != 0 || memcmp(bin, e->key, sizeof bin) != 0 ||
	    e->role < CLIENTS_SUBSCRIBER || e->role > CLIENTS_ADMIN ||
	    nlen == 0 || nlen > CLIENTS_NAME_MAX || e->line == 0)
		abort();
	for (size_t i = 0; i < nlen; i++) {
		unsigned char ch = (unsigned char)e->name[i];

		if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
			abort();
	}
}

/* Write the entries back and parse them again: the same list. */
static void
fuzz_clients_roundtrip(const struct clients *c)
{
	struct clients *again = NULL;
	char *buf, *cause = NULL;
	size_t cap = c->n * (CLIENTS_KEY_Z85 + CLIENTS_NAME_MAX + 16) + 1;
	size_t off = 0;

	buf = malloc(cap);
	if (buf == NULL)
		abort();
	for (size_t i = 0; i < c->n; i++)
		off += (size_t)snprintf(buf + off, cap - off, "%s %s %s\n",
		    c->v[i].z85, clients_role_name(c->v[i].role),
		    c->v[i].name);
	if (clients_parse(buf, off, &again, &cause) != 0 ||
	    again->n != c->n)
		abort();
	for (size_t i = 0; i < c->n; i++)
		if (memcmp(again->v[i].key, c->v[i].key, CLIENTS_KEY_BIN) ||
		    again->v[i].role != c->v[i].role ||
		    strcmp(again->v[i].name, c->v[i].name) != 0)
			abort();
	clients_free(&again);
	free(buf);
}

/* Check a refusal's message. */
static void
fuzz_clients_cause(const char *cause, const uint8_t *data, size_t size)
{
	unsigned long line, lines = 1;
	char *end;

	if (cause == NULL || strncmp(cause, "line ", 5) != 0)
		abort();
	line = strtoul(cause + 5, &end, 10);
	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';
	if (line < 1 || line > lines || strncmp(end, ": ", 2) != 0 ||
	    end[2] == '\0')
		abort();
	for (const char *p = cause; *p != '\0'; p++)
		if (*p < 0x20 || *p >= 0x7f)
			abort();
}

/* One input. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct clients *c = NULL;
	char *buf, *cause = NULL;

	/* A copy of exactly size bytes, so ASan sees any over-read. */
	buf = malloc(size ? size : 1);
	if (buf == NULL)
		abort();
	memcpy(buf, data, size);
	if (clients_parse(buf, size, &c, &cause) == 0) {
		if (cause != NULL)
			abort();
		for (size_t i = 0; i < c->n; i++) {
			if (i > 0 && memcmp(c->v[i - 1].key, c->v[i].key,
			    CLIENTS_KEY_BIN) >= 0)
				abort();
			fuzz_clients_entry(c, &c->v[i]);
		}
		fuzz_clients_roundtrip(c);
		clients_free(&c);
	} else {
		if (c != NULL)
			abort();
		fuzz_clients_cause(cause, data, size);
		free(cause);
	}
	free(buf);
	return 0;
}
