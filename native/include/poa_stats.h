/* Pixel statistics in one pass (the offset tool's dark frames). */
#ifndef POA_STATS_H
#define POA_STATS_H

#include <stddef.h>
#include <stdint.h>

/* The histogram (65536 bins for u16, 256 for u8; pass NULL if not wanted)
 * is filled in the one pass over the pixels; min, max, mean, standard deviation
 * (population, as numpy's std) and median (mean of the two middle values for even n, as
 * numpy's median) are derived from it. n must be 1..2^32-1. */
typedef struct {
    uint64_t count;
    uint32_t min;
    uint32_t max;
    double mean;
    double stddev;
    double median;
} poa_stats_t;

int poa_stats_u16(const uint16_t *src, size_t n, uint32_t *hist, poa_stats_t *out);
int poa_stats_u8(const uint8_t *src, size_t n, uint32_t *hist, poa_stats_t *out);

#endif
