/*
 * crc32c.h — CRC-32C (Castagnoli), the checksum of the store's records
 * of format 2: SSE4.2's crc32 instruction where the CPU has it, a table
 * elsewhere.  Both give the same value (tests/unit/test_crc32c.c).
 */
#ifndef WARTA_CRC32C_H
#define WARTA_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* The CRC-32C of buf[0..len), continuing from crc (0 to start). */
uint32_t	crc32c(uint32_t crc, const void *buf, size_t len);
/* The same by the table alone, for tests. */
uint32_t	crc32c_sw(uint32_t crc, const void *buf, size_t len);

#endif
