/* CRC32C (Castagnoli, reflected polynomial 0x82F63B78), as used by the frame trailer.
 * Chainable like zlib's crc32: start with crc = 0, pass the previous result to continue.
 * poa_crc32c(0, "123456789", 9) == 0xE3069283. SSE4.2 instruction when the CPU has it,
 * slicing-by-8 tables otherwise. */
#ifndef POA_CRC32C_H
#define POA_CRC32C_H
#include <stddef.h>
#include <stdint.h>

uint32_t poa_crc32c(uint32_t crc, const uint8_t *buf, size_t len);

#endif
