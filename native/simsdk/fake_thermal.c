/*
 * A first-order thermal model of the cooler, evaluated in closed form whenever it is read:
 *
 *   equilibrium = ambient                                   cooler off, or no 12 V (fault no_12v)
 *               = max(target, ambient - dT_max + heater)    cooler on
 *   dT_max      = the model's delta-T x (0.5 + 0.5 x fan/100)   (the manual: 100 % fan for max dT)
 *   heater      = 0.02 C per % of window-heater power: heat the cooler must also pump, so it only
 *                 lowers the reachable delta-T (the heater runs only with the cooler, SDK >= 3.1.0)
 *   T(t)        = eq + (T0 - eq) exp(-(t - t0)/tau)
 *
 * Cooler power: 100 % while the sensor is more than 0.5 C above its equilibrium (pulling down),
 * else the share of the reachable delta-T being held, (ambient - eq)/(ambient - floor). 0 with the
 * cooler off or no 12 V.
 *
 * Set at open from FAKE_POA_AMBIENT_C (default 20) and FAKE_POA_COOLER_TAU_S (default 60 s; tests
 * use a fraction of a second). The sensor starts at ambient.
 */
#include <math.h>

#include "fake_internal.h"

void fake_thermal_init(fake_cam *c) {
    c->ambient_c = fake_env_double("FAKE_POA_AMBIENT_C", 20.0);
    c->tau_s = fake_env_double("FAKE_POA_COOLER_TAU_S", 60.0);
    if (!(c->tau_s > 0.001)) c->tau_s = 0.001;
    c->temp_c = c->ambient_c;
    c->thermal_t = fake_now();
}

static int cooling(const fake_cam *c) { return c->cooler_on && !fake_fault_armed(c, FAULT_NO_12V); }

static double delta_max(const fake_cam *c) {
    return c->model->delta_t_c * (0.5 + 0.5 * (double)c->fan_power / 100.0);
}

/* The coldest the sensor can get with the cooler on. */
static double floor_temp(const fake_cam *c) {
    return c->ambient_c - delta_max(c) + 0.02 * (double)c->heater_power;
}

static double equilibrium(const fake_cam *c) {
    if (!cooling(c)) return c->ambient_c;
    double f = floor_temp(c);
    return (double)c->target_temp > f ? (double)c->target_temp : f;
}

/* Advance T to now under the settings in force since the last advance. */
double fake_thermal_temp(fake_cam *c) {
    double now = fake_now();
    double eq = equilibrium(c);
    c->temp_c = eq + (c->temp_c - eq) * exp(-(now - c->thermal_t) / c->tau_s);
    c->thermal_t = now;
    return c->temp_c;
}

void fake_thermal_changed(fake_cam *c) { (void)fake_thermal_temp(c); }

long fake_thermal_power(fake_cam *c) {
    double t = fake_thermal_temp(c);
    if (!cooling(c)) return 0;
    double eq = equilibrium(c);
    if (t > eq + 0.5) return 100;
    double span = c->ambient_c - floor_temp(c);
    double share = span > 0 ? (c->ambient_c - eq) / span : 1.0;
    if (share < 0) share = 0;
    if (share > 1) share = 1;
    return lround(100.0 * share);
}
