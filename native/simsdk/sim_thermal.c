/*
 * A first-order thermal model of the cooler, evaluated in closed form whenever it is read:
 *
 *   equilibrium = ambient                                   cooler off, or no 12 V (no_12v)
 *               = max(target, ambient - dT_max + heater)    cooler on
 *   dT_max      = the model's delta-T x (0.5 + 0.5 x fan/100)
 *   heater      = 0.02 C per % of window-heater power
 *   T(t)        = eq + (T0 - eq) exp(-(t - t0)/tau)
 *
 * From the manual: the delta-T below ambient (the lower end of the table's range, "if need
 * maximum delta-T, set 100% [fan] power"), the fan defaults (70 % aluminium, 50 % carbon-fibre
 * bodies), the anti-dew heater's default 10 % (1..100 %), TEC and fan running together, and
 * "without the 12 V supply the camera images but cannot cool". Assumed: the fan scaling (half the
 * delta-T with the fan stopped), the heater's cost (heat the TEC must pump too, so it only lowers
 * the reachable delta-T; it runs with the cooler), and the time constant (option cooler_tau,
 * default 120 s: "a time constant of minutes"; tests use a fraction of a second).
 *
 * Cooler power: 100 % while the sensor is more than 0.5 C above its equilibrium (pulling down),
 * else the share of the reachable delta-T being held, (ambient - eq)/(ambient - floor). 0 with
 * the cooler off or no 12 V. The sensor starts at ambient (option ambient, default 20 C).
 */
#include <math.h>

#include "sim_internal.h"

#define HEATER_C_PER_PCT 0.02

void sim_thermal_init(sim_cam *c) {
    if (!(c->opt.cooler_tau_s > 0.001)) c->opt.cooler_tau_s = 0.001;
    c->temp_c = c->opt.ambient_c;
    c->thermal_t = sim_now();
}

static int cooling(const sim_cam *c) { return c->cooler_on && !sim_fault_armed(c, FAULT_NO_12V); }

static double delta_max(const sim_cam *c) {
    return c->model->delta_t_c * (0.5 + 0.5 * (double)c->fan_power / 100.0);
}

/* The coldest the sensor can get with the cooler on. */
static double floor_temp(const sim_cam *c) {
    return c->opt.ambient_c - delta_max(c) + HEATER_C_PER_PCT * (double)c->heater_power;
}

static double equilibrium(const sim_cam *c) {
    if (!cooling(c)) return c->opt.ambient_c;
    double f = floor_temp(c);
    return (double)c->target_temp > f ? (double)c->target_temp : f;
}

/* Advance T to now under the settings in force since the last advance. */
double sim_thermal_temp(sim_cam *c) {
    double now = sim_now();
    double eq = equilibrium(c);
    c->temp_c = eq + (c->temp_c - eq) * exp(-(now - c->thermal_t) / c->opt.cooler_tau_s);
    c->thermal_t = now;
    return c->temp_c;
}

void sim_thermal_changed(sim_cam *c) { (void)sim_thermal_temp(c); }

long sim_thermal_power(sim_cam *c) {
    double t = sim_thermal_temp(c);
    if (!cooling(c)) return 0;
    double eq = equilibrium(c);
    if (t > eq + 0.5) return 100;
    double span = c->opt.ambient_c - floor_temp(c);
    double share = span > 0 ? (c->opt.ambient_c - eq) / span : 1.0;
    if (share < 0) share = 0;
    if (share > 1) share = 1;
    return lround(100.0 * share);
}
