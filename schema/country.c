/*
 * country.c — the officially assigned ISO 3166-1 alpha-2 codes.
 *
 * All 249 of them, as in iso-codes' iso_3166-1.json (Debian iso-codes
 * 4.15), written as one row per first letter listing the second letters.
 * Only these pass: user-assigned codes (XX, AA, QM..QZ, ZZ), exceptionally
 * or transitionally reserved ones (UK, EU, EZ, UN, ...) and lower case are
 * all rejected.
 */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "schema/schema.h"

static const char *const schema_country_rows[26] = {
	"DEFGILMOQRSTUWXZ",		/* A */
	"ABDEFGHIJLMNOQRSTVWYZ",	/* B */
	"ACDFGHIKLMNORUVWXYZ",		/* C */
	"EJKMOZ",			/* D */
	"CEGHRST",			/* E */
	"IJKMOR",			/* F */
	"ABDEFGHILMNPQRSTUWY",		/* G */
	"KMNRTU",			/* H */
	"DELMNOQRST",			/* I */
	"EMOP",				/* J */
	"EGHIMNPRWYZ",			/* K */
	"ABCIKRSTUVY",			/* L */
	"ACDEFGHKLMNOPQRSTUVWXYZ",	/* M */
	"ACEFGILOPRUZ",			/* N */
	"M",				/* O */
	"AEFGHKLMNRSTWY",		/* P */
	"A",				/* Q */
	"EOSUW",			/* R */
	"ABCDEGHIJKLMNORSTVXYZ",	/* S */
	"CDFGHJKLMNORTVWZ",		/* T */
	"AGMSYZ",			/* U */
	"ACEGINU",			/* V */
	"FS",				/* W */
	"",				/* X */
	"ET",				/* Y */
	"AMW",				/* Z */
};

/* True when cc[0..len) is an assigned alpha-2 code in upper case. */
bool
schema_country_valid(const char *cc, size_t len)
{
	const char	*row;

	if (cc == NULL || len != 2)
		return (false);
	if (cc[0] < 'A' || cc[0] > 'Z' || cc[1] < 'A' || cc[1] > 'Z')
		return (false);
	row = schema_country_rows[cc[0] - 'A'];
	return (memchr(row, cc[1], strlen(row)) != NULL);
}
