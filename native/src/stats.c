/* Statistics from a histogram built in one pass over the pixels. */
#include "poa_common.h"
#include "poa_stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Histogram counts are uint32: n must fit. Only a 64-bit size_t can exceed that (the
 * test would be a constant-false warning on 32-bit ARM). */
#if SIZE_MAX > 0xffffffffu
#define TOO_MANY(n) ((n) > 0xffffffffu)
#else
#define TOO_MANY(n) 0
#endif

/* min, max, mean, stddev and median from a histogram of `bins` bins and n pixels. The
 * variance is summed as h[v] * (v - mean)^2 over the bins (65536 terms), which is both
 * cheaper than a second pass over the pixels and free of the cancellation of
 * E[x^2] - E[x]^2. */
static void from_hist(const uint32_t *hist, size_t bins, uint64_t n, poa_stats_t *out)
{
    uint64_t sum = 0;
    size_t lo = 0, hi = bins - 1;
    while (hist[lo] == 0) lo++;
    while (hist[hi] == 0) hi--;
    for (size_t v = lo; v <= hi; v++) sum += (uint64_t)hist[v] * v;
    double mean = (double)sum / (double)n;
    double var = 0.0;
    for (size_t v = lo; v <= hi; v++) {
        if (hist[v]) {
            double d = (double)v - mean;
            var += (double)hist[v] * d * d;
        }
    }
    /* Median: the values of rank (n-1)/2 and n/2 (0-based), averaged. */
    uint64_t r1 = (n - 1) / 2, r2 = n / 2, cum = 0;
    size_t v1 = lo, v2 = lo;
    int have1 = 0;
    for (size_t v = lo; v <= hi; v++) {
        cum += hist[v];
        if (!have1 && cum > r1) {
            v1 = v;
            have1 = 1;
        }
        if (cum > r2) {
            v2 = v;
            break;
        }
    }
    out->count = n;
    out->min = (uint32_t)lo;
    out->max = (uint32_t)hi;
    out->mean = mean;
    out->stddev = sqrt(var / (double)n);
    out->median = ((double)v1 + (double)v2) / 2.0;
}

int poa_stats_u16(const uint16_t *src, size_t n, uint32_t *hist, poa_stats_t *out)
{
    if (!src || !out || n == 0 || TOO_MANY(n)) return POA_EINVAL;
    /* Two interleaved histograms: consecutive equal pixels (flat fields, saturation)
     * would otherwise serialise on one counter's store-to-load dependency. */
    uint32_t *h2 = calloc(2 * 65536, sizeof *h2);
    if (!h2) return POA_ENOMEM;
    uint32_t *ha = h2, *hb = h2 + 65536;
    size_t i = 0;
    for (; i + 2 <= n; i += 2) {
        ha[src[i]]++;
        hb[src[i + 1]]++;
    }
    if (i < n) ha[src[i]]++;
    for (size_t v = 0; v < 65536; v++) ha[v] += hb[v];
    from_hist(ha, 65536, n, out);
    if (hist) memcpy(hist, ha, 65536 * sizeof *hist);
    free(h2);
    return POA_OK;
}

int poa_stats_u8(const uint8_t *src, size_t n, uint32_t *hist, poa_stats_t *out)
{
    if (!src || !out || n == 0 || TOO_MANY(n)) return POA_EINVAL;
    uint32_t h[4][256];
    memset(h, 0, sizeof h);
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        h[0][src[i]]++;
        h[1][src[i + 1]]++;
        h[2][src[i + 2]]++;
        h[3][src[i + 3]]++;
    }
    for (; i < n; i++) h[0][src[i]]++;
    for (int v = 0; v < 256; v++) h[0][v] += h[1][v] + h[2][v] + h[3][v];
    from_hist(h[0], 256, n, out);
    if (hist) memcpy(hist, h[0], sizeof h[0]);
    return POA_OK;
}
