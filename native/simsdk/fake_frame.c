/*
 * Frame rendering: bias + dark level + Gaussian read noise + a fixed star field, quantised to the
 * model's ADC and left-justified in 16 bits (a 14-bit camera's RAW16 values are multiples of 4).
 * RAW8 and MONO8 are the top byte of that value, RGB24 three copies of it (B, G, R).
 *
 * Speed: one xorshift64 draw per pixel; its four 16-bit lanes are summed, which is a normal
 * variate to within a few percent (Irwin-Hall, n = 4). Stars are a few Gaussian patches per row.
 * Measured with gcc -O2 on the project VM (best of 5): 5.5 ns per pixel, a 3008x3008 frame in
 * 50 ms (RAW16 or RAW8), so a full 61 MP Zeus frame takes about 0.34 s on top of its exposure.
 * The worker renders with the camera's lock released, so polls are not held up meanwhile.
 *
 * Binning follows POA_PIXEL_BIN_SUM: summing multiplies levels by bin^2 and noise by bin,
 * averaging keeps levels and divides noise by bin. Stars are placed in unbinned sensor
 * coordinates, flipped with the image (POA_FLIP_*), then binned.
 *
 * The corrupt-frame fault fills the whole frame with random bytes (not left-justified, mean near
 * half scale): garbage no real frame can look like.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fake_internal.h"

#define STAR_SIGMA_PX 1.27 /* FWHM 3 px, like the simulator */
#define FAKE_PI 3.14159265358979323846
#define IRWIN_HALL_SIGMA 37837.23 /* std of the sum of four uniform 16-bit integers */
#define IRWIN_HALL_MEAN 131070.0

uint64_t fake_xorshift(uint64_t *state) {
    uint64_t x = *state;
    if (x == 0) x = 0x9E3779B97F4A7C15ull; /* xorshift must never hold 0 */
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *state = x;
    return x;
}

void fake_make_stars(fake_cam *c) {
    uint64_t s = 0x5EED;
    for (const char *p = c->serial; *p; p++) s = (s ^ (unsigned char)*p) * 0x100000001B3ull;
    c->rng = s ^ 0xA5A5A5A5A5A5A5A5ull; /* frame noise seeds follow from here */
    long pixels = (long)c->model->width * c->model->height;
    int n = (int)(pixels / 400000);
    if (n < 8) n = 8;
    if (n > FAKE_MAX_STARS) n = FAKE_MAX_STARS;
    for (int i = 0; i < n; i++) {
        double u1 = (double)(fake_xorshift(&s) >> 11) / 9007199254740992.0;
        double u2 = (double)(fake_xorshift(&s) >> 11) / 9007199254740992.0;
        double u3 = (double)(fake_xorshift(&s) >> 11) / 9007199254740992.0;
        c->stars[i].x = (float)(8.0 + u1 * (c->model->width - 16));
        c->stars[i].y = (float)(8.0 + u2 * (c->model->height - 16));
        c->stars[i].e_per_s = (float)(300.0 * pow(100.0, u3)); /* 300 .. 30000 e-/s, log-uniform */
    }
    c->n_stars = n;
}

/* A star as it lands on this frame: binned-pixel centre relative to the ROI, sigma, amplitude. */
typedef struct placed_star {
    double x, y, sigma, amp, reach;
} placed_star;

static int place_stars(const fake_render *r, placed_star *out) {
    int n = 0;
    double b = r->bin;
    double sigma = STAR_SIGMA_PX / b;
    if (sigma < 0.5) sigma = 0.5;
    for (int i = 0; i < r->n_stars; i++) {
        double sx = r->stars[i].x, sy = r->stars[i].y;
        if (r->flip_h) sx = r->max_w - 1 - sx;
        if (r->flip_v) sy = r->max_h - 1 - sy;
        placed_star p;
        p.x = (sx + 0.5) / b - 0.5 - r->start_x;
        p.y = (sy + 0.5) / b - 0.5 - r->start_y;
        p.sigma = sigma;
        p.reach = 4.0 * sigma + 1.0;
        /* the flux of one binned pixel is the sum of bin^2 pixels; averaging divides by bin^2 */
        double flux16 = r->stars[i].e_per_s * r->exposure_s * r->adu16_per_e;
        if (!r->bin_sum) flux16 /= b * b;
        p.amp = flux16 / (2.0 * FAKE_PI * sigma * sigma);
        if (p.x < -p.reach || p.y < -p.reach || p.x > r->width + p.reach || p.y > r->height + p.reach) continue;
        out[n++] = p;
    }
    return n;
}

static void fill_garbage(unsigned char *out, size_t len, uint64_t seed) {
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t v = fake_xorshift(&seed);
        memcpy(out + i, &v, 8);
    }
    for (; i < len; i++) out[i] = (unsigned char)fake_xorshift(&seed);
}

static int bytes_per_pixel(POAImgFormat f) {
    return f == POA_RAW16 ? 2 : (f == POA_RGB24 ? 3 : 1);
}

void fake_render_frame(const fake_render *r, unsigned char *out) {
    size_t w = (size_t)r->width, h = (size_t)r->height;
    uint64_t rng = r->seed;
    if (r->corrupt) {
        fill_garbage(out, w * h * (size_t)bytes_per_pixel(r->format), rng);
        return;
    }
    double b = r->bin;
    double level = r->bin_sum ? r->level16 * b * b : r->level16;
    double sigma = r->bin_sum ? r->sigma16 * b : r->sigma16 / b;
    double k = sigma / IRWIN_HALL_SIGMA;
    int shift = 16 - r->adc_bits;
    double step = (double)(1 << shift);
    long adc_max = (1L << r->adc_bits) - 1;
    placed_star stars[FAKE_MAX_STARS];
    int n_stars = place_stars(r, stars);
    float *row = malloc(w * sizeof *row);
    if (row == NULL) {
        memset(out, 0, w * h * (size_t)bytes_per_pixel(r->format));
        return;
    }
    for (size_t y = 0; y < h; y++) {
        for (size_t x = 0; x < w; x++) {
            uint64_t v = fake_xorshift(&rng);
            double s = (double)((v & 0xFFFF) + ((v >> 16) & 0xFFFF) + ((v >> 32) & 0xFFFF) + (v >> 48));
            row[x] = (float)(level + (s - IRWIN_HALL_MEAN) * k);
        }
        for (int i = 0; i < n_stars; i++) {
            const placed_star *p = &stars[i];
            double dy = (double)y - p->y;
            if (fabs(dy) > p->reach) continue;
            double gy = p->amp * exp(-dy * dy / (2.0 * p->sigma * p->sigma));
            long x0 = (long)floor(p->x - p->reach), x1 = (long)ceil(p->x + p->reach);
            if (x0 < 0) x0 = 0;
            if (x1 > (long)w - 1) x1 = (long)w - 1;
            for (long x = x0; x <= x1; x++) {
                double dx = (double)x - p->x;
                row[x] += (float)(gy * exp(-dx * dx / (2.0 * p->sigma * p->sigma)));
            }
        }
        for (size_t x = 0; x < w; x++) {
            long adc = lround(row[x] / step);
            if (adc < 0) adc = 0;
            if (adc > adc_max) adc = adc_max;
            uint16_t v16 = (uint16_t)(adc << shift);
            size_t i = y * w + x;
            switch (r->format) {
            case POA_RAW16: memcpy(out + 2 * i, &v16, 2); break; /* host byte order, like the SDK */
            case POA_RGB24: out[3 * i] = out[3 * i + 1] = out[3 * i + 2] = (unsigned char)(v16 >> 8); break;
            default: out[i] = (unsigned char)(v16 >> 8); break; /* RAW8, MONO8: the top byte */
            }
        }
    }
    free(row);
}
