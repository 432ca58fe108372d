/*
 * crc32c.c — CRC-32C for the store's records (see crc32c.h).
 *
 * Why not zlib's crc32: the record checksum is computed on every append
 * and verified on every read, and the crc32 instruction does 8 bytes a
 * cycle where zlib's tables do a few bits; on a 300-byte event that was
 * about a tenth of the writer's instructions.
 */
#include "daemon/crc32c.h"

#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#define CRC32C_POLY	0x82f63b78u	/* reflected Castagnoli */

static uint32_t crc32c_table[256];
static pthread_once_t crc32c_once = PTHREAD_ONCE_INIT;

/* Fill the byte-at-a-time table. */
static void
crc32c_init_table(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ CRC32C_POLY : c >> 1;
		crc32c_table[i] = c;
	}
}

/* CRC-32C by the table. */
uint32_t
crc32c_sw(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	pthread_once(&crc32c_once, crc32c_init_table);
	crc = ~crc;
	while (len--)
		crc = crc32c_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
/* CRC-32C by SSE4.2's crc32 instruction, 8 bytes at a time. */
__attribute__((target("sse4.2"))) static uint32_t
crc32c_hw(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint64_t c = ~crc;

	for (; len >= 8; p += 8, len -= 8) {
		uint64_t v;

		memcpy(&v, p, 8);
		c = __builtin_ia32_crc32di(c, v);
	}
	crc = (uint32_t)c;
	while (len--)
		crc = __builtin_ia32_crc32qi(crc, *p++);
	return ~crc;
}

/* Whether this CPU has the instruction. */
static bool
crc32c_have_hw(void)
{
	static int have = -1;	/* the same value from any thread */
	int h = __atomic_load_n(&have, __ATOMIC_RELAXED);

	if (h == -1) {
		__builtin_cpu_init();
		h = __builtin_cpu_supports("sse4.2") ? 1 : 0;
		__atomic_store_n(&have, h, __ATOMIC_RELAXED);
	}
	return h == 1;
}

/* CRC-32C, by the instruction when there is one. */
uint32_t
crc32c(uint32_t crc, const void *buf, size_t len)
{
	if (crc32c_have_hw())
		return crc32c_hw(crc, buf, len);
	return crc32c_sw(crc, buf, len);
}
#else
/* CRC-32C by the table: no instruction on this architecture. */
uint32_t
crc32c(uint32_t crc, const void *buf, size_t len)
{
	return crc32c_sw(crc, buf, len);
}
#endif
