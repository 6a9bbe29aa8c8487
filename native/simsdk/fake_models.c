/*
 * The twelve cooled models the fake knows, from the manual's specification table
 * (shared/reference/camera-models.md), plus the fake's own small sensor model: conversion gain and
 * read noise as functions of the gain setting.
 *
 * Values that are NOT from the manual (and are marked so): the HCG gain of models other than
 * IMX455/IMX571 (the scan's preset table reads "HCG 125" only for those), and the USB product ids
 * (the real ones are not in the facts; 0xFA01.. are made up so they cannot be mistaken for real).
 */
#include <ctype.h>
#include <math.h>
#include <string.h>

#include "fake_internal.h"

/* Gain units: 0..600 maps to 0..30 dB of analog gain (0.05 dB per unit), like the project's
 * simulator, so both backends agree on what "gain 300" means. */
#define GAIN_MAX 600
#define DB_PER_GAIN_UNIT 0.05

static const fake_model MODELS[] = {
    /* name                 sensor   col  width height pixel  rn@0  rn@max  full well dT  adc fps  alu modes hcg pid */
    {"Zeus 455M PRO",       "IMX455", 0, 9576, 6388, 3.76, 4.2,  1.27, 71600.0, 35.0, 16, 6.5, 1, 2, 125, 0xFA01},
    {"Zeus 455C PRO",       "IMX455", 1, 9576, 6388, 3.76, 4.2,  1.27, 71600.0, 35.0, 16, 6.5, 1, 2, 125, 0xFA02},
    {"Poseidon-M PRO",      "IMX571", 0, 6252, 4176, 3.76, 3.9,  1.0,  71700.0, 40.0, 16, 15,  1, 2, 125, 0xFA03},
    {"Poseidon-C PRO",      "IMX571", 1, 6252, 4176, 3.76, 3.9,  1.0,  71700.0, 40.0, 16, 15,  1, 2, 125, 0xFA04},
    {"Artemis-M PRO",       "IMX492", 0, 8288, 5648, 2.3,  7.7,  1.46, 18600.0, 40.0, 12, 8,   1, 0, 100, 0xFA05},
    {"Artemis-C PRO",       "IMX294", 1, 4144, 2824, 4.63, 7.8,  1.2,  65800.0, 40.0, 14, 33,  1, 0, 100, 0xFA06},
    {"Ares-M PRO",          "IMX533", 0, 3008, 3008, 3.76, 4.46, 1.0,  73000.0, 35.0, 14, 43,  0, 2, 100, 0xFA07},
    {"Ares-C PRO",          "IMX533", 1, 3008, 3008, 3.76, 4.46, 1.0,  73000.0, 35.0, 14, 43,  0, 2, 100, 0xFA08},
    {"Uranus-M PRO",        "IMX585", 0, 3856, 2180, 2.9,  6.5,  0.7,  47000.0, 35.0, 12, 47,  0, 0, 100, 0xFA09},
    {"Uranus-C PRO",        "IMX585", 1, 3856, 2180, 2.9,  6.5,  0.7,  47000.0, 35.0, 12, 47,  0, 0, 100, 0xFA0A},
    {"Apollo-428M MAX PRO", "IMX428", 0, 3216, 2208, 4.5,  5.5,  1.4,  25300.0, 35.0, 12, 51,  0, 0, 100, 0xFA0B},
    {"Apollo-M MAX PRO",    "IMX432", 0, 1608, 1104, 9.0,  22.9, 2.6, 100000.0, 35.0, 12, 126, 0, 0, 100, 0xFA0C},
};

/* Compare ignoring case and surrounding blanks ("  ares-c pro" finds "Ares-C PRO"). */
static int same_name(const char *want, const char *name) {
    while (*want == ' ' || *want == '\t') want++;
    size_t n = strlen(want);
    while (n > 0 && (want[n - 1] == ' ' || want[n - 1] == '\t')) n--;
    if (n != strlen(name)) return 0;
    for (size_t i = 0; i < n; i++) {
        if (tolower((unsigned char)want[i]) != tolower((unsigned char)name[i])) return 0;
    }
    return 1;
}

const fake_model *fake_model_find(const char *name) {
    for (size_t i = 0; i < sizeof MODELS / sizeof MODELS[0]; i++) {
        if (same_name(name, MODELS[i].name)) return &MODELS[i];
    }
    return NULL;
}

double fake_model_egain(const fake_model *m, long gain) {
    double at_zero = m->full_well_e / (double)(1L << m->adc_bits);
    return at_zero / pow(10.0, (double)gain * DB_PER_GAIN_UNIT / 20.0);
}

/* Log-linear from the low-gain figure at gain 0 to the high-gain figure at 600; the Low Noise
 * sensor mode reads 20 % quieter (the manual only says "lower"). */
double fake_model_read_noise(const fake_model *m, long gain, int low_noise_mode) {
    double t = (double)gain / GAIN_MAX;
    if (t < 0) t = 0;
    if (t > 1) t = 1;
    double rn = exp(log(m->rn_low_gain_e) + t * (log(m->rn_high_gain_e) - log(m->rn_low_gain_e)));
    return low_noise_mode ? 0.8 * rn : rn;
}

/* The gain where the model above gives 1 e-/ADU: 400*log10(full_well / 2^bits), within 0..550. */
int fake_model_unity_gain(const fake_model *m) {
    double g = 20.0 / DB_PER_GAIN_UNIT * log10(m->full_well_e / (double)(1L << m->adc_bits));
    if (g < 0) g = 0;
    if (g > 550) g = 550;
    return (int)lround(g);
}

/* The fake's presets, in POAGetGainsAndOffsets order: gain highest DR, HCG gain, unity gain, gain
 * lowest RN, then the four matching offsets. Gains: 0, the HCG switch, unity from the model above,
 * 550 (the scan's "Highest 550(?)"); offsets: 20 (the scan's "Zero 0/20"), 30, 30, 50. A fresh
 * camera starts at the HCG preset. */
void fake_model_presets(const fake_model *m, int out[8]) {
    out[0] = 0;
    out[1] = m->hcg_gain;
    out[2] = fake_model_unity_gain(m);
    out[3] = 550;
    out[4] = 20;
    out[5] = 30;
    out[6] = 30;
    out[7] = 50;
}
