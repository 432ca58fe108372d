/*
 * test_crc32c.c — the store's record checksum (daemon/crc32c.c).
 *
 * Guards that the value is CRC-32C as published (so a store written on
 * one machine verifies on another), that the instruction and the table
 * agree at every length and alignment, and that crc continues across
 * pieces.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "daemon/crc32c.h"

/* The check values of RFC 3720 (iSCSI) appendix B.4 and "123456789". */
static void
test_known_values(void **state)
{
	uint8_t zeros[32], ones[32], inc[32];

	(void)state;
	memset(zeros, 0, sizeof zeros);
	memset(ones, 0xff, sizeof ones);
	for (int i = 0; i < 32; i++)
		inc[i] = (uint8_t)i;
	assert_int_equal(crc32c(0, "123456789", 9), 0xe3069283u);
	assert_int_equal(crc32c(0, zeros, 32), 0x8a9136aau);
	assert_int_equal(crc32c(0, ones, 32), 0x62a8ab43u);
	assert_int_equal(crc32c(0, inc, 32), 0x46dd794eu);
	assert_int_equal(crc32c_sw(0, "123456789", 9), 0xe3069283u);
	assert_int_equal(crc32c(0, "", 0), 0);
}

/* Instruction and table agree on every length and start up to 300. */
static void
test_hw_matches_table(void **state)
{
	uint8_t buf[320];
	uint32_t x = 12345;

	(void)state;
	for (size_t i = 0; i < sizeof buf; i++) {
		x = x * 1103515245u + 12345u;
		buf[i] = (uint8_t)(x >> 16);
	}
	for (size_t off = 0; off < 8; off++)
		for (size_t len = 0; len <= 300; len++)
			assert_int_equal(crc32c(0, buf + off, len),
			    crc32c_sw(0, buf + off, len));
}

/* crc(a) continued over b is crc(a b). */
static void
test_continues(void **state)
{
	const char *s = "bilateral meeting on labour migration";
	size_t n = strlen(s);

	(void)state;
	for (size_t cut = 0; cut <= n; cut++)
		assert_int_equal(crc32c(crc32c(0, s, cut), s + cut, n - cut),
		    crc32c(0, s, n));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_values),
		cmocka_unit_test(test_hw_matches_table),
		cmocka_unit_test(test_continues),
	};

	return (cmocka_run_group_tests_name("crc32c", tests, NULL, NULL));
}
