/*
 * What the simulated camera looks at, fixed per serial number (the same camera always sees the
 * same sky and has the same hot pixels):
 *
 *  - stars: max(12, pixels / 400 000) of them (at most SIM_MAX_STARS), uniform over the sensor,
 *    300..30 000 photons/s each (log-uniform) before QE, times the `stars` option. Each star's
 *    FWHM combines the seeing (`seeing`, unbinned pixels) and the geometric blur of a tilted or
 *    defocused sensor in quadrature: FWHM^2 = seeing^2 + (|z| / N / pixel)^2, where z is the
 *    sensor surface's height off the focal plane at the star (`focus` + the `tilt` plane) and N
 *    the focal ratio (`fratio`): a blur disc of diameter D counted as FWHM D (the quadrature sum
 *    approximates the disc-Gaussian convolution to about 10 %);
 *  - hot pixels: 2e-5 of the pixels, 1..100 e-/s at 0 C (log-uniform), doubling every 6 C like
 *    the dark current (assumed numbers);
 *  - ST4 guiding (option st4): a pulse moves the star field at GUIDE_PX_PER_S (assumed: 0.5x
 *    sidereal on a typical guide scale) for as long as the output is on; N moves the stars up
 *    (-y), S down, E left (-x), W right.
 */
#include <math.h>
#include <stdlib.h>

#include "sim_internal.h"

#define PIXELS_PER_STAR 400000L
#define MIN_STARS 12
#define STAR_RATE_LO 300.0
#define STAR_RATE_HI 30000.0
#define HOT_FRACTION 2e-5
#define HOT_RATE_LO 1.0
#define HOT_RATE_HI 100.0
#define GUIDE_PX_PER_S 2.0

static uint64_t serial_seed(const char *serial, uint64_t salt) {
    uint64_t s = 0xCBF29CE484222325ull ^ salt;
    for (const char *p = serial; *p; p++) s = (s ^ (unsigned char)*p) * 0x100000001B3ull;
    return s ? s : 1;
}

static double uniform(uint64_t *s) { return (double)(sim_xorshift(s) >> 11) / 9007199254740992.0; }

static double log_uniform(uint64_t *s, double lo, double hi) { return exp(log(lo) + uniform(s) * (log(hi) - log(lo))); }

static double fwhm_at(const sim_cam *c, double x, double y) {
    const sim_options *o = &c->opt;
    double fx = x / c->model->width - 0.5, fy = y / c->model->height - 0.5;
    double z = o->focus_um + o->tilt_dx_um * fx + o->tilt_dy_um * fy;
    double blur = fabs(z) / o->fratio / c->model->pixel_um;
    return sqrt(o->seeing_px * o->seeing_px + blur * blur);
}

void sim_make_scene(sim_cam *c) {
    const sim_model *m = c->model;
    uint64_t s = serial_seed(c->serial, 0x5354415253ull); /* "STARS" */
    c->rng = serial_seed(c->serial, 0x4E4F495345ull);      /* "NOISE": frame seeds follow from here */
    long pixels = (long)m->width * m->height;
    long n = pixels / PIXELS_PER_STAR;
    if (n < MIN_STARS) n = MIN_STARS;
    if (n > SIM_MAX_STARS) n = SIM_MAX_STARS;
    for (int i = 0; i < n; i++) {
        sim_star *st = &c->stars[i];
        st->x = (float)(uniform(&s) * m->width);
        st->y = (float)(uniform(&s) * m->height);
        st->e_per_s = (float)(log_uniform(&s, STAR_RATE_LO, STAR_RATE_HI) * c->opt.star_scale);
        st->fwhm_px = (float)fwhm_at(c, st->x, st->y);
    }
    c->n_stars = (int)n;

    uint64_t h = serial_seed(c->serial, 0x484F54ull); /* "HOT" */
    long nh = (long)((double)pixels * HOT_FRACTION);
    if (nh < 1) nh = 1;
    sim_free_scene(c);
    c->hot = malloc((size_t)nh * sizeof *c->hot);
    if (c->hot == NULL) return; /* no hot pixels rather than no camera */
    for (long i = 0; i < nh; i++) {
        c->hot[i].x = (int)(uniform(&h) * m->width);
        c->hot[i].y = (int)(uniform(&h) * m->height);
        c->hot[i].e_per_s_at_0c = (float)log_uniform(&h, HOT_RATE_LO, HOT_RATE_HI);
    }
    c->n_hot = (int)nh;
}

void sim_free_scene(sim_cam *c) {
    free(c->hot);
    c->hot = NULL;
    c->n_hot = 0;
}

/* The star field's shift now: finished pulses plus the ones still on. c locked. */
void sim_guide_shift(const sim_cam *c, double now, double *dx, double *dy) {
    static const double step[4][2] = {{0, -1}, {0, 1}, {-1, 0}, {1, 0}}; /* N, S, E, W */
    double x = c->guide_x, y = c->guide_y;
    for (int d = 0; d < 4; d++) {
        if (c->guide_on_t[d] > 0 && now > c->guide_on_t[d]) {
            x += step[d][0] * (now - c->guide_on_t[d]) * GUIDE_PX_PER_S;
            y += step[d][1] * (now - c->guide_on_t[d]) * GUIDE_PX_PER_S;
        }
    }
    *dx = x;
    *dy = y;
}
