void poa_fits_be16(const uint16_t *src, uint8_t *dst, size_t n);
