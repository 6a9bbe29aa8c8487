/*
 * Frame rendering, straight into the host's buffer (POAGetImageData's), by the camera's render
 * thread. Frame model (numbers and sources in sim_models.c and sim_scene.c), in native ADC units,
 * then clipped to the ADC and left-justified in 16 bits (a 14-bit camera's RAW16 values are
 * multiples of 4); RAW8 and MONO8 are the top byte, RGB24 three copies of it (B, G, R):
 *
 *   background = bias + (dark e- + sky e- x QE x channel response) / (e-/ADU)
 *   noise      = Gaussian, variance read noise^2 + dark e- + sky e- (the Gaussian limit of the
 *                shot noise: what photon-transfer measurements see), / (e-/ADU)
 *   ceiling    = bias + full well / (e-/ADU): a pixel never reads above its well
 *   stars      = Gaussian PSFs integrated over each pixel (erf), photons x exposure x QE x
 *                response, Poisson, clipped at the well
 *   hot pixels = Poisson dark electrons of their own; with dead pixel suppression on (the
 *                default after POAInitCamera) every other one is corrected, as if the camera's
 *                DPS table held those mapped at the factory and not the ones gone hot since
 *
 * Colour models have an RGGB pattern relative to the frame origin, with channel responses
 * R 0.7, G 1.0, B 0.5 (assumed) for the sky and the stars. Binning averages b x b pixels (levels
 * stay, noise / b) or, with PixelBinSum (POA_PIXEL_BIN_SUM), sums them (levels, bias included, x b^2, noise x b).
 * Flips mirror the scene within the frame.
 *
 * Speed: noise is not drawn per pixel. One table of 2^20 standard normal samples is made per
 * process; per settings the render thread turns it into pools of finished output values (one per
 * Bayer row parity: level + sigma x z, clipped, quantised, justified, in the output's width), and
 * a frame is then its rows copied from random even offsets of the pools (even: the Bayer column
 * parity) plus the few stars and hot pixels. A frame costs one write of its bytes, like the
 * vendor SDK's own copy into the caller's buffer; a pool rebuild (settings changed: gain, offset,
 * exposure, bin, format, a temperature step of the dark level) costs a few ms.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim_internal.h"

#define POOL_LEN (1u << 20)
#define Z_SCALE 1024.0
#define SIM_PI 3.14159265358979323846
#define FWHM_PER_SIGMA 2.3548200450309493

static const double RESPONSE[3] = {0.7, 1.0, 0.5}; /* R, G, B */

static int16_t *g_z;
static pthread_once_t g_z_once = PTHREAD_ONCE_INIT;

uint64_t sim_xorshift(uint64_t *state) {
    uint64_t x = *state;
    if (x == 0) x = 0x9E3779B97F4A7C15ull; /* xorshift must never hold 0 */
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *state = x;
    return x;
}

static double unit(uint64_t *s) { return ((double)(sim_xorshift(s) >> 11) + 0.5) / 9007199254740992.0; }

double sim_gauss(uint64_t *s) { return sqrt(-2.0 * log(unit(s))) * cos(2.0 * SIM_PI * unit(s)); }

double sim_poisson(uint64_t *s, double mean) {
    if (!(mean > 0)) return 0;
    if (mean < 30) { /* Knuth */
        double limit = exp(-mean), p = 1.0;
        int k = 0;
        do {
            k++;
            p *= unit(s);
        } while (p > limit);
        return k - 1;
    }
    double v = floor(mean + sqrt(mean) * sim_gauss(s) + 0.5);
    return v < 0 ? 0 : v;
}

static void make_z(void) {
    int16_t *z = malloc(POOL_LEN * sizeof *z);
    if (z == NULL) return;
    uint64_t s = 0x504F41ull;
    for (size_t i = 0; i < POOL_LEN; i++) {
        double v = floor(sim_gauss(&s) * Z_SCALE + 0.5);
        z[i] = (int16_t)(v > 32767 ? 32767 : (v < -32767 ? -32767 : v));
    }
    g_z = z;
}

/* ---- what a frame's pixels are made of ---- */
typedef struct levels {
    double level[2][2], sigma[2][2]; /* native ADU, per Bayer row/column parity of the frame */
    double ceiling, adc_max, scale;  /* scale: ADU per electron of the scene in one binned pixel */
    double well_bin;                 /* electrons a binned pixel can hold */
    double resp[2][2];
    int shift, out_bytes;            /* 16 - adc bits; 1 or 2 bytes per pool value */
} levels;

static void response(const sim_model *m, const sim_frame *f, double out[2][2]) {
    for (int r = 0; r < 2; r++) {
        for (int col = 0; col < 2; col++) {
            /* RGGB at the unflipped frame's origin; a flip moves the pattern with the scene */
            int rr = f->flip_v ? 1 - r : r, cc = f->flip_h ? 1 - col : col;
            int ch = !m->color ? 1 : (rr == 0 && cc == 0 ? 0 : (rr == 1 && cc == 1 ? 2 : 1));
            out[r][col] = m->color ? RESPONSE[ch] : 1.0;
        }
    }
}

static void compute_levels(const sim_render_ctx *ctx, const sim_frame *f, levels *L) {
    const sim_model *m = ctx->model;
    double epa = sim_egain(m, f->gain);
    L->shift = 16 - m->adc_bits;
    double bias = sim_bias16(m, f->offset) / (double)(1 << L->shift);
    double dark_e = sim_dark_e_per_s(f->temp_c) * f->exposure_s;
    double rn = sim_read_noise_e(m, f->gain, f->low_noise);
    double b = f->bin, area = f->bin_sum ? b * b : 1.0;
    response(m, f, L->resp);
    for (int r = 0; r < 2; r++) {
        for (int col = 0; col < 2; col++) {
            double sky_e = ctx->opt->sky_e_per_s * m->qe * f->exposure_s * L->resp[r][col];
            double signal = dark_e + sky_e;
            L->level[r][col] = (bias + signal / epa) * area;
            L->sigma[r][col] = sqrt(rn * rn + signal) / epa * (f->bin_sum ? b : 1.0 / b);
        }
    }
    L->ceiling = (bias + m->full_well_e / epa) * area;
    L->adc_max = (double)((1L << m->adc_bits) - 1);
    L->scale = 1.0 / (epa * (f->bin_sum ? 1.0 : b * b));
    L->well_bin = m->full_well_e * b * b;
    L->out_bytes = f->format == POA_RAW16 ? 2 : 1;
}

/* Native value -> output value (16-bit left-justified, or its top byte). */
static inline unsigned to_out(double v, const levels *L) {
    double top = L->ceiling < L->adc_max ? L->ceiling : L->adc_max;
    if (v > top) v = top;
    if (v < 0) v = 0;
    unsigned u = (unsigned)(long)(v + 0.5);
    if (u > (unsigned)L->adc_max) u = (unsigned)L->adc_max;
    u <<= L->shift;
    return L->out_bytes == 2 ? u : u >> 8;
}

/* Output value -> native (exact for 16 bit; 8 bit gives the middle of its step). */
static inline double from_out(unsigned v, const levels *L) {
    if (L->out_bytes == 2) return (double)(v >> L->shift);
    double step = (double)(1 << (8 - L->shift)); /* native ADU per 8-bit step */
    return (double)v * step + (step - 1) / 2;
}

/* ---- pools ---- */
typedef struct pools {
    double key[20];
    int valid;
    unsigned char *row[2]; /* even / odd frame rows; the same pool twice on mono cameras */
} pools;

static void key_of(const levels *L, const sim_model *m, double key[20]) {
    int k = 0;
    for (int r = 0; r < 2; r++) {
        for (int c = 0; c < 2; c++) {
            key[k++] = floor(L->level[r][c] * 32.0 + 0.5);         /* 1/32 ADU */
            key[k++] = floor(log(L->sigma[r][c] + 1e-9) * 500.0 + 0.5); /* 0.2 % */
        }
    }
    key[k++] = floor(L->ceiling + 0.5);
    key[k++] = L->out_bytes;
    key[k++] = L->shift;
    key[k++] = m->color;
    while (k < 20) key[k++] = 0;
}

static void fill_pool(unsigned char *dst, const levels *L, int r) {
    float lv[2] = {(float)L->level[r][0], (float)L->level[r][1]};
    float sg[2] = {(float)(L->sigma[r][0] / Z_SCALE), (float)(L->sigma[r][1] / Z_SCALE)};
    if (L->out_bytes == 2) {
        uint16_t *d = (uint16_t *)dst;
        for (size_t i = 0; i < POOL_LEN; i++) d[i] = (uint16_t)to_out(lv[i & 1] + sg[i & 1] * g_z[i], L);
    } else {
        for (size_t i = 0; i < POOL_LEN; i++) dst[i] = (unsigned char)to_out(lv[i & 1] + sg[i & 1] * g_z[i], L);
    }
}

static int get_pools(pools *p, const levels *L, const sim_model *m) {
    double key[20];
    key_of(L, m, key);
    if (p->valid && memcmp(key, p->key, sizeof key) == 0) return 0;
    p->valid = 0;
    for (int r = 0; r < 2; r++) {
        if (p->row[r] == NULL) {
            p->row[r] = malloc(POOL_LEN * 2);
            if (p->row[r] == NULL) return -1;
        }
    }
    fill_pool(p->row[0], L, 0);
    if (m->color) fill_pool(p->row[1], L, 1);
    else memcpy(p->row[1], p->row[0], POOL_LEN * (size_t)L->out_bytes);
    memcpy(p->key, key, sizeof key);
    p->valid = 1;
    return 0;
}

void sim_render_free(void **pp) {
    pools *p = *pp;
    if (p == NULL) return;
    free(p->row[0]);
    free(p->row[1]);
    free(p);
    *pp = NULL;
}

/* ---- scene on top of the background ---- */
static void add_adu(unsigned char *plane, int w, int x, int y, double adu, const levels *L) {
    size_t i = (size_t)y * (size_t)w + (size_t)x;
    if (L->out_bytes == 2) {
        uint16_t *p = (uint16_t *)plane + i;
        *p = (uint16_t)to_out(from_out(*p, L) + adu, L);
    } else {
        plane[i] = (unsigned char)to_out(from_out(plane[i], L) + adu, L);
    }
}

/* Fraction of a unit Gaussian (centre c, sigma s) on each pixel [p, p+1), p in [p0, p1). */
static void pixel_integral(int p0, int p1, double c, double s, double *out) {
    double k = 1.0 / (s * sqrt(2.0)), prev = erf((p0 - c) * k);
    for (int p = p0; p < p1; p++) {
        double next = erf((p + 1 - c) * k);
        out[p - p0] = (next - prev) / 2;
        prev = next;
    }
}

static void add_stars(const sim_render_ctx *ctx, const sim_frame *f, const levels *L, unsigned char *plane,
                      uint64_t *rng) {
    int w = f->width, h = f->height;
    double b = f->bin;
    double qe_t = ctx->model->qe * f->exposure_s;
    for (int i = 0; i < ctx->n_stars; i++) {
        const sim_star *st = &ctx->stars[i];
        if (!(st->e_per_s > 0)) continue;
        double sig = st->fwhm_px / FWHM_PER_SIGMA / b;
        int rad = (int)ceil(4 * sig) + 1;
        if (rad > 64) rad = 64; /* a hugely defocused star: its far wings are below the noise */
        double u = (st->x + f->shift_x) / b - f->start_x, v = (st->y + f->shift_y) / b - f->start_y;
        if (f->flip_h) u = w - u;
        if (f->flip_v) v = h - v;
        int x0 = (int)floor(u) - rad, x1 = (int)floor(u) + rad + 1;
        int y0 = (int)floor(v) - rad, y1 = (int)floor(v) + rad + 1;
        if (x1 <= 0 || y1 <= 0 || x0 >= w || y0 >= h) continue;
        if (x0 < 0) x0 = 0;
        if (y0 < 0) y0 = 0;
        if (x1 > w) x1 = w;
        if (y1 > h) y1 = h;
        double px[130], py[130];
        pixel_integral(x0, x1, u, sig, px);
        pixel_integral(y0, y1, v, sig, py);
        double flux = st->e_per_s * qe_t;
        for (int y = y0; y < y1; y++) {
            for (int x = x0; x < x1; x++) {
                double mean = flux * L->resp[y & 1][x & 1] * py[y - y0] * px[x - x0];
                if (mean < 0.01) continue;
                double e = sim_poisson(rng, mean);
                if (e > L->well_bin) e = L->well_bin;
                add_adu(plane, w, x, y, e * L->scale, L);
            }
        }
    }
}

static void add_hot_pixels(const sim_render_ctx *ctx, const sim_frame *f, const levels *L, unsigned char *plane,
                           uint64_t *rng) {
    double gain_t = pow(2.0, f->temp_c / 6.0) * f->exposure_s;
    for (int i = 0; i < ctx->n_hot; i++) {
        if (f->dps && i % 2 == 0) continue; /* in the camera's DPS table: corrected */
        const sim_hot *hp = &ctx->hot[i];
        int col = hp->x / f->bin - f->start_x, row = hp->y / f->bin - f->start_y;
        if (col < 0 || row < 0 || col >= f->width || row >= f->height) continue;
        if (f->flip_h) col = f->width - 1 - col;
        if (f->flip_v) row = f->height - 1 - row;
        double e = sim_poisson(rng, hp->e_per_s_at_0c * gain_t);
        if (e > ctx->model->full_well_e) e = ctx->model->full_well_e;
        add_adu(plane, f->width, col, row, e * L->scale, L);
    }
}

static void fill_garbage(unsigned char *out, size_t len, uint64_t seed) {
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t v = sim_xorshift(&seed);
        memcpy(out + i, &v, 8);
    }
    for (; i < len; i++) out[i] = (unsigned char)sim_xorshift(&seed);
}

void sim_render_frame(void **pp, const sim_render_ctx *ctx, const sim_frame *f, unsigned char *out) {
    uint64_t rng = f->seed;
    size_t w = (size_t)f->width, h = (size_t)f->height;
    if (f->corrupt) {
        fill_garbage(out, f->bytes, rng);
        return;
    }
    pthread_once(&g_z_once, make_z);
    if (*pp == NULL) *pp = calloc(1, sizeof(pools));
    pools *p = *pp;
    levels L;
    compute_levels(ctx, f, &L);
    if (g_z == NULL || p == NULL || get_pools(p, &L, ctx->model) != 0) {
        memset(out, 0, f->bytes); /* out of memory: a black frame rather than a crash */
        return;
    }
    size_t ob = (size_t)L.out_bytes, row_bytes = w * ob;
    size_t span = (POOL_LEN - w) / 2; /* even offsets keep the Bayer column parity */
    for (size_t y = 0; y < h; y++) {
        size_t off = 2 * (size_t)(sim_xorshift(&rng) % span);
        memcpy(out + y * row_bytes, p->row[y & 1] + off * ob, row_bytes);
    }
    add_stars(ctx, f, &L, out, &rng);
    add_hot_pixels(ctx, f, &L, out, &rng);
    if (f->format == POA_RGB24) { /* expand in place from the end: pixel i moves to 3i >= i */
        for (size_t i = w * h; i-- > 0;) out[3 * i] = out[3 * i + 1] = out[3 * i + 2] = out[i];
    }
}
