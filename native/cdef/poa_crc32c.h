uint32_t poa_crc32c(uint32_t crc, const uint8_t *buf, size_t len);
