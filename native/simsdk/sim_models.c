/*
 * The twelve cooled models of the vendor's "Professional Cooled Camera Manual V1.3"
 * (specification table), and the sensor physics built on them. README.md lists, number by number,
 * what is the manual's and what is assumed; in short:
 *
 * From the manual: resolution, pixel size, read-noise range (its two ends), QE, full well,
 * delta-T, ADC bits, the full-frame fps, body (fan default), the sensors with two sensor modes,
 * the Ares-M's bias example (section 6.6.3: gain 125, offset 50 gives a dark-frame minimum of
 * 80 ADU, offset 350 gives 1284 ADU), "HCG 125" for IMX455/IMX571 and "Zero 0/20" in the preset
 * table, the USB advice (reduce the bandwidth to 40 % when downloads fail).
 *
 * Assumed (the manual has no number for them):
 *  - gain scale: 0..600 is 0..30 dB of analog gain, 0.05 dB per unit;
 *  - conversion gain: the full well fills the ADC at gain ADC_FILL_GAIN (20, i.e. 1 dB), so
 *    below it the well clips first (a flat then saturates below the ADC's top) and above it the
 *    ADC does; e-/ADU = full_well / 2^bits x 10^((20 - gain) x 0.05 / 20). Unity gain (the
 *    "Standard" preset, 1 e-/ADU) follows: 400 x log10(full_well / 2^bits) + 20;
 *  - the read-noise curve between the manual's two ends: log-linear from the low-gain figure at
 *    gain 0 down to LCG_END_FRACTION of it just below the HCG gain; there the sensor switches to
 *    high conversion gain and the noise drops to HCG_START_FACTOR x the high-gain figure, then
 *    falls log-linearly to that figure at gain 600 (the familiar IMX571 curve: 3.9 e- at 0,
 *    3.1 e- at 124, 1.5 e- at 125, 1.0 e- at 600);
 *  - HCG gain 100 for the sensors other than IMX455/IMX571;
 *  - Low Noise mode: read noise x 0.8, sensor readout twice as long;
 *  - bias: 4 ADU (16-bit units) per offset unit, one native ADU of the 14-bit IMX533 (the
 *    manual's two points give (1284 - 80) / (350 - 50) = 4.01), minus a pedestal: 106 ADU for
 *    the IMX533, fitted so that the simulated 10 s dark at gain 125, offset 50 has the manual's
 *    minimum of 80 ADU over its 9 MP (the mean sits about 16 ADU, 5.4 sigma, above the minimum;
 *    with whole 4-ADU steps, 80 and 1284 cannot both be hit: the simulation gives 80 or 84 and
 *    1280 or 1284);
 *    0 for the other sensors (the manual's "Zero 0/20" preset must clear zero on the IMX455);
 *  - dark current 0.01 e-/s per pixel at 0 C, doubling every 6 C;
 *  - the link: 400 MB/s on USB 3 (the table's fps x an 8-bit full frame is 400 MB/s for every
 *    model), 40 MB/s on USB 2, both x USBBandWidthLimit %;
 *  - the USB product ids (0xFA01..: made up so they cannot be mistaken for real ones).
 */
#include <math.h>
#include <string.h>

#include "sim_internal.h"

#define DB_PER_GAIN_UNIT 0.05
#define ADC_FILL_GAIN 20.0
#define LCG_END_FRACTION 0.8
#define HCG_START_FACTOR 1.5
#define LOW_NOISE_FACTOR 0.8
#define BIAS16_PER_OFFSET 4.0
#define DARK_E_PER_S_AT_0C 0.01
#define DARK_DOUBLING_C 6.0
#define USB3_BYTES_PER_S 400e6
#define USB2_BYTES_PER_S 40e6
#define LOWEST_RN_GAIN 550
#define PRESET_CLEAR_SIGMA 6.0 /* a preset's bias sits this many read-noise sigmas above zero */

static const sim_model MODELS[] = {
    /* name                 sensor   col  width height pixel  rn@0  rn@600 QE    full well dT  adc fps  alu modes hcg ped  pid */
    {"Zeus 455M PRO",       "IMX455", 0, 9576, 6388, 3.76, 4.2,  1.27, 0.91, 71600.0, 35.0, 16, 6.5, 1, 2, 125, 0,   0xFA01},
    {"Zeus 455C PRO",       "IMX455", 1, 9576, 6388, 3.76, 4.2,  1.27, 0.80, 71600.0, 35.0, 16, 6.5, 1, 2, 125, 0,   0xFA02},
    {"Poseidon-M PRO",      "IMX571", 0, 6252, 4176, 3.76, 3.9,  1.0,  0.91, 71700.0, 40.0, 16, 15,  1, 2, 125, 0,   0xFA03},
    {"Poseidon-C PRO",      "IMX571", 1, 6252, 4176, 3.76, 3.9,  1.0,  0.80, 71700.0, 40.0, 16, 15,  1, 2, 125, 0,   0xFA04},
    {"Artemis-M PRO",       "IMX492", 0, 8288, 5648, 2.3,  7.7,  1.46, 0.90, 18600.0, 40.0, 12, 8,   1, 0, 100, 0,   0xFA05},
    {"Artemis-C PRO",       "IMX294", 1, 4144, 2824, 4.63, 7.8,  1.2,  0.75, 65800.0, 40.0, 14, 33,  1, 0, 100, 0,   0xFA06},
    {"Ares-M PRO",          "IMX533", 0, 3008, 3008, 3.76, 4.46, 1.0,  0.91, 73000.0, 35.0, 14, 43,  0, 2, 100, 106, 0xFA07},
    {"Ares-C PRO",          "IMX533", 1, 3008, 3008, 3.76, 4.46, 1.0,  0.80, 73000.0, 35.0, 14, 43,  0, 2, 100, 106, 0xFA08},
    {"Uranus-M PRO",        "IMX585", 0, 3856, 2180, 2.9,  6.5,  0.7,  0.91, 47000.0, 35.0, 12, 47,  0, 0, 100, 0,   0xFA09},
    {"Uranus-C PRO",        "IMX585", 1, 3856, 2180, 2.9,  6.5,  0.7,  0.91, 47000.0, 35.0, 12, 47,  0, 0, 100, 0,   0xFA0A},
    {"Apollo-428M MAX PRO", "IMX428", 0, 3216, 2208, 4.5,  5.5,  1.4,  0.79, 25300.0, 35.0, 12, 51,  0, 0, 100, 0,   0xFA0B},
    {"Apollo-M MAX PRO",    "IMX432", 0, 1608, 1104, 9.0,  22.9, 2.6,  0.79, 100000.0, 35.0, 12, 126, 0, 0, 100, 0,  0xFA0C},
};

const sim_model *sim_model_at(int k) {
    return k >= 0 && k < (int)(sizeof MODELS / sizeof MODELS[0]) ? &MODELS[k] : NULL;
}

static double clamp(double v, double lo, double hi) { return v < lo ? lo : (v > hi ? hi : v); }

double sim_egain(const sim_model *m, long gain) {
    double at_fill = m->full_well_e / (double)(1L << m->adc_bits);
    return at_fill * pow(10.0, (ADC_FILL_GAIN - (double)gain) * DB_PER_GAIN_UNIT / 20.0);
}

double sim_read_noise_e(const sim_model *m, long gain, int low_noise_mode) {
    double g = clamp((double)gain, 0, SIM_GAIN_MAX), hcg = m->hcg_gain, rn;
    if (g < hcg) {
        rn = m->rn_low_gain_e * pow(LCG_END_FRACTION, g / hcg);
    } else {
        rn = m->rn_high_gain_e * pow(HCG_START_FACTOR, 1.0 - (g - hcg) / (SIM_GAIN_MAX - hcg));
    }
    return low_noise_mode ? LOW_NOISE_FACTOR * rn : rn;
}

double sim_bias16(const sim_model *m, long offset) { return BIAS16_PER_OFFSET * (double)offset - m->pedestal16; }

double sim_dark_e_per_s(double temp_c) { return DARK_E_PER_S_AT_0C * pow(2.0, temp_c / DARK_DOUBLING_C); }

int sim_unity_gain(const sim_model *m) {
    double g = 20.0 / DB_PER_GAIN_UNIT * log10(m->full_well_e / (double)(1L << m->adc_bits)) + ADC_FILL_GAIN;
    return (int)lround(clamp(g, 0, SIM_GAIN_MAX));
}

/* The smallest multiple of 10, at least `base`, at which a dark frame's histogram clears zero
 * (the manual's criterion in 6.6.2: its left side no longer cut off): the bias minus
 * PRESET_CLEAR_SIGMA sigmas still reads at least the first code above zero (half an ADC step
 * rounds up to it). The sigma is the frame's: read noise and the ADC's rounding (a step^2 / 12
 * variance), which a frame's histogram shows too. */
static int clear_offset(const sim_model *m, int gain, int base) {
    double rn_adu = sim_read_noise_e(m, gain, 0) / sim_egain(m, gain);
    double sigma16 = sqrt(rn_adu * rn_adu + 1.0 / 12.0) * (double)(1 << (16 - m->adc_bits));
    double half_step16 = 0.5 * (double)(1 << (16 - m->adc_bits)); /* rounds up to the first code above 0 */
    double need = (m->pedestal16 + PRESET_CLEAR_SIGMA * sigma16 + half_step16) / BIAS16_PER_OFFSET;
    int o = base;
    while (o < need && o < 1500) o += 10;
    return o;
}

/* POAGetGainsAndOffsets order: gain highest DR, HCG gain, unity gain, gain lowest RN, then the
 * four offsets. Gains 0 (the manual's "Zero"), the HCG switch, unity, 550 (the scan's
 * "Highest 550(?)"); offsets 20 (the manual's "Zero 0/20"), 30, 30, 50, each raised where the
 * bias would not clear zero (the high-gain presets of the 12-bit sensors, the IMX533's pedestal).
 *
 * The manual's "Highest Analog Gain" gives the lowest read noise; the read noise falls with the
 * gain all the way to 600 here, so that preset never has less gain than the Standard one. Where
 * unity lies above 550 (the Apollo-M MAX: 100 ke- in 12 bits reaches 1 e-/ADU at 575), it is
 * the top of the range, 600: at 550 it would read noisier than the Standard preset.
 * A fresh camera starts at the HCG preset. */
void sim_presets(const sim_model *m, int out[8]) {
    static const int base[4] = {20, 30, 30, 50};
    out[0] = 0;
    out[1] = m->hcg_gain;
    out[2] = sim_unity_gain(m);
    out[3] = out[2] > LOWEST_RN_GAIN ? SIM_GAIN_MAX : LOWEST_RN_GAIN;
    for (int i = 0; i < 4; i++) out[4 + i] = clear_offset(m, out[i], base[i]);
}

/* Rows off the sensor into the camera's DDR buffer: the manual's full-frame fps, in proportion
 * to the rows read (bin x rows of the sensor); twice as long in Low Noise mode. */
double sim_sensor_readout_s(const sim_model *m, int rows, int bin, int low_noise_mode) {
    double t = (double)rows * bin / m->height / m->max_fps;
    return low_noise_mode ? 2.0 * t : t;
}

double sim_link_bytes_per_s(int usb3, long bandwidth_pct) {
    return (usb3 ? USB3_BYTES_PER_S : USB2_BYTES_PER_S) * (double)bandwidth_pct / 100.0;
}
