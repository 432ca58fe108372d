/*
 * clients.h — the CURVE clients file (PROTOCOL.md section 8) and the roles
 * it grants.  A pure parser over a buffer, so it can be unit-tested and
 * fuzzed; auth.c reads the file and answers ZAP with what it finds.
 *
 * One key per line:  <Z85 public key> <role> <name>
 *   - the key is 40 characters of Z85 (it may begin with '#');
 *   - role is subscriber, publisher or admin;
 *   - name is the rest of the line (spaces allowed, no control characters,
 *     at most CLIENTS_NAME_MAX bytes), for the log.
 * A line that is '#' alone or starts with "# " is a comment; blank lines
 * (spaces and tabs only) are ignored; a trailing '\r' is dropped.  Any
 * other line that does not parse, and a key listed twice, fail the whole
 * file with a message naming the line.
 */
#ifndef WARTA_CLIENTS_H
#define WARTA_CLIENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CLIENTS_KEY_Z85		40	/* characters */
#define CLIENTS_KEY_BIN		32	/* bytes */
#define CLIENTS_NAME_MAX	128	/* bytes */

/*
 * Roles in order: each includes the ones before it.  Every listed key may
 * read (any role); publisher may also publish; admin may do everything,
 * publishing included, and read stats and rejects.
 */
enum clients_role {
	CLIENTS_NONE = 0,		/* not listed: nothing */
	CLIENTS_SUBSCRIBER,
	CLIENTS_PUBLISHER,
	CLIENTS_ADMIN
};

struct clients_entry {
	uint8_t			 key[CLIENTS_KEY_BIN];
	char			 z85[CLIENTS_KEY_Z85 + 1];
	enum clients_role	 role;
	char			*name;
	unsigned		 line;
};

/* The parsed file: entries sorted by key.  Owned by whoever parsed it;
 * free with clients_free(). */
struct clients {
	struct clients_entry	*v;
	size_t			 n;
};

/*
 * Parse a clients file held in buf (len bytes, need not end in NUL or a
 * newline).  Returns 0 with *out set, or -1 with *cause set (caller frees)
 * to "line N: what is wrong", and *out untouched.
 */
int		 clients_parse(const char *buf, size_t len, struct clients **out,
		     char **cause);

/* The entry holding a 32-byte public key, or NULL. */
const struct clients_entry *clients_find(const struct clients *,
		     const uint8_t key[CLIENTS_KEY_BIN]);

/* Free the list and NULL the pointer; NULL is fine. */
void		 clients_free(struct clients **);

/* "subscriber", "publisher", "admin" ("none" for CLIENTS_NONE). */
const char	*clients_role_name(enum clients_role);

/* The role a name spells, of len bytes; CLIENTS_NONE when none. */
enum clients_role clients_role_parse(const char *s, size_t len);

/* Whether a key of role have may do what needs role need. */
bool		 clients_role_allows(enum clients_role have,
		     enum clients_role need);

/*
 * Check that s (len bytes) is a 40-character Z85 key and decode it into
 * bin.  Returns 0, or -1 with why (whylen bytes) saying what is wrong:
 * "is 39 characters, not 40", "character 7 ('~') is not Z85", ...
 */
int		 clients_key_decode(const char *s, size_t len,
		     uint8_t bin[CLIENTS_KEY_BIN], char *why, size_t whylen);

#endif
