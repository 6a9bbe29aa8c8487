/* One camera's SDK lock and the plain SDK calls made under it (settings, configs, sensor
 * modes, presets, a direct read). See include/poa_sdk.h for the API. */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "sdk_internal.h"

/* The SDK lock. Fair between the reader and the API calls: a thread that releases it while
 * others wait cannot take it back before one of them had it. Without that, the video reader,
 * which releases the lock after each POAGetImageData slice and asks for it again at once, won
 * the race nearly every time: with a stream running, a guide pulse's POASetConfig waited 0.3 to
 * 17 s (measured), so a 2 s pulse lasted up to 19 s. */
int poa__sdk_lock(poa_sdk_cam_t *c, int lock_ms)
{
    pthread_mutex_lock(&c->mu);
    struct timespec deadline = ts_add_ms(cond_now(), lock_ms > 0 ? lock_ms : 0);
    int waiting = 0, mine = 0;
    uint64_t since = 0; /* releases before this thread began to wait */
    for (;;) {
        mine = !c->locked && (!c->handoff_left || (waiting && since < c->releases));
        if (mine || lock_ms == 0) break;
        if (!waiting) {
            waiting = 1;
            since = c->releases;
            c->lock_waiters++;
        }
        if (cond_wait_ms(&c->cv_lock, &c->mu, lock_ms, &deadline) == POA_ETIMEDOUT) {
            mine = !c->locked && (!c->handoff_left || since < c->releases);
            break;
        }
    }
    int reserved_for_me = waiting && c->handoff_left && since < c->releases;
    if (waiting) c->lock_waiters--;
    int rc = POA_SDK_EBUSY;
    if (mine) {
        c->locked = 1;
        c->handoff_left = 0;
        rc = POA_OK;
    } else if (reserved_for_me && --c->handoff_left == 0) {
        pthread_cond_broadcast(&c->cv_lock); /* every thread it was kept for gave up: free for all */
    }
    pthread_mutex_unlock(&c->mu);
    return rc;
}

void poa__sdk_unlock(poa_sdk_cam_t *c)
{
    pthread_mutex_lock(&c->mu);
    c->locked = 0;
    c->releases++;
    c->handoff_left = c->lock_waiters;
    pthread_cond_broadcast(&c->cv_lock); /* the reserved one may not be the first to wake */
    pthread_mutex_unlock(&c->mu);
}

/* A plain locked call: evaluates `call` with the SDK lock held. */
#define LOCKED(c, lock_ms, call)                    \
    do {                                            \
        if (!(c)) return POA_EINVAL;                \
        int lk_ = poa__sdk_lock((c), (lock_ms));         \
        if (lk_ != POA_OK) return lk_;              \
        int rc_ = (call);                           \
        poa__sdk_unlock(c);                              \
        return rc_;                                 \
    } while (0)

#define OPTIONAL(c, fn) \
    do {                                            \
        if ((c) && !(c)->s->fn) return POA_SDK_ENOSYM; \
    } while (0)

int poa_sdk_open_camera(poa_sdk_cam_t *c) { LOCKED(c, -1, c->s->POAOpenCamera(c->id)); }
int poa_sdk_init_camera(poa_sdk_cam_t *c) { LOCKED(c, -1, c->s->POAInitCamera(c->id)); }

static int cam_props(poa_sdk_cam_t *c, poa_sdk_camera_props_t *out)
{
    POACameraProperties p;
    memset(&p, 0, sizeof p);
    int rc = c->s->POAGetCameraPropertiesByID(c->id, &p);
    if (rc == 0) poa__sdk_convert_props(&p, out);
    return rc;
}

int poa_sdk_cam_props(poa_sdk_cam_t *c, poa_sdk_camera_props_t *out)
{
    if (!out) return POA_EINVAL;
    LOCKED(c, -1, cam_props(c, out));
}

int poa_sdk_configs_count(poa_sdk_cam_t *c, int *count)
{
    if (!count) return POA_EINVAL;
    LOCKED(c, -1, c->s->POAGetConfigsCount(c->id, count));
}

static void read_value(int type, POAConfigValue v, int64_t *i, double *f)
{
    switch (type) {
    case VAL_INT: *i = (int64_t)v.intValue; *f = (double)v.intValue; break;
    case VAL_FLOAT: *i = 0; *f = v.floatValue; break;
    case VAL_BOOL: *i = v.boolValue ? 1 : 0; *f = (double)*i; break;
    default: *i = 0; *f = 0.0; break;
    }
}

static int attr_call(poa_sdk_cam_t *c, int by_id, int arg, poa_sdk_config_attr_t *o)
{
    POAConfigAttributes a;
    memset(&a, 0, sizeof a);
    int rc = by_id ? c->s->POAGetConfigAttributesByConfigID(c->id, arg, &a)
                   : c->s->POAGetConfigAttributes(c->id, arg, &a);
    if (rc != 0) return rc;
    memset(o, 0, sizeof *o);
    o->supports_auto = a.isSupportAuto;
    o->writable = a.isWritable;
    o->readable = a.isReadable;
    o->config_id = a.configID;
    o->value_type = a.valueType;
    read_value(a.valueType, a.minValue, &o->min_int, &o->min_float);
    read_value(a.valueType, a.maxValue, &o->max_int, &o->max_float);
    read_value(a.valueType, a.defaultValue, &o->default_int, &o->default_float);
    copy_str(o->name, sizeof o->name, a.szConfName, sizeof a.szConfName);
    copy_str(o->description, sizeof o->description, a.szDescription, sizeof a.szDescription);
    return 0;
}

int poa_sdk_config_attr(poa_sdk_cam_t *c, int index, poa_sdk_config_attr_t *out)
{
    if (!out) return POA_EINVAL;
    LOCKED(c, -1, attr_call(c, 0, index, out));
}

int poa_sdk_config_attr_by_id(poa_sdk_cam_t *c, int config_id, poa_sdk_config_attr_t *out)
{
    if (!out) return POA_EINVAL;
    LOCKED(c, -1, attr_call(c, 1, config_id, out));
}

int poa_sdk_set_config(poa_sdk_cam_t *c, int config_id, int value_type, int64_t int_value,
                       double float_value, int is_auto)
{
    POAConfigValue v;
    memset(&v, 0, sizeof v);
    switch (value_type) {
    case VAL_INT:
#if LONG_MAX < INT64_MAX
        if (int_value < LONG_MIN || int_value > LONG_MAX) return POA_EINVAL;
#endif
        v.intValue = (long)int_value;
        break;
    case VAL_FLOAT: v.floatValue = float_value; break;
    case VAL_BOOL: v.boolValue = int_value ? 1 : 0; break;
    default: return POA_EINVAL;
    }
    LOCKED(c, -1, c->s->POASetConfig(c->id, config_id, v, is_auto ? 1 : 0));
}

static int get_config(poa_sdk_cam_t *c, int config_id, int type, int64_t *i, double *f, int *is_auto)
{
    POAConfigValue v;
    memset(&v, 0, sizeof v);
    int a = 0;
    int rc = c->s->POAGetConfig(c->id, config_id, &v, &a);
    if (rc == 0) {
        read_value(type, v, i, f);
        *is_auto = a ? 1 : 0;
    }
    return rc;
}

int poa_sdk_get_config(poa_sdk_cam_t *c, int config_id, int value_type, int64_t *int_value,
                       double *float_value, int *is_auto, int lock_ms)
{
    if (!int_value || !float_value || !is_auto) return POA_EINVAL;
    if (value_type < VAL_INT || value_type > VAL_BOOL) return POA_EINVAL;
    LOCKED(c, lock_ms, get_config(c, config_id, value_type, int_value, float_value, is_auto));
}

int poa_sdk_set_image_bin(poa_sdk_cam_t *c, int bin) { LOCKED(c, -1, c->s->POASetImageBin(c->id, bin)); }

int poa_sdk_get_image_bin(poa_sdk_cam_t *c, int *bin)
{
    if (!bin) return POA_EINVAL;
    LOCKED(c, -1, c->s->POAGetImageBin(c->id, bin));
}

int poa_sdk_set_image_size(poa_sdk_cam_t *c, int width, int height)
{
    LOCKED(c, -1, c->s->POASetImageSize(c->id, width, height));
}

int poa_sdk_get_image_size(poa_sdk_cam_t *c, int *width, int *height)
{
    if (!width || !height) return POA_EINVAL;
    LOCKED(c, -1, c->s->POAGetImageSize(c->id, width, height));
}

int poa_sdk_set_image_start(poa_sdk_cam_t *c, int x, int y)
{
    LOCKED(c, -1, c->s->POASetImageStartPos(c->id, x, y));
}

int poa_sdk_get_image_start(poa_sdk_cam_t *c, int *x, int *y)
{
    if (!x || !y) return POA_EINVAL;
    LOCKED(c, -1, c->s->POAGetImageStartPos(c->id, x, y));
}

int poa_sdk_set_image_format(poa_sdk_cam_t *c, int format)
{
    LOCKED(c, -1, c->s->POASetImageFormat(c->id, format));
}

int poa_sdk_get_image_format(poa_sdk_cam_t *c, int *format)
{
    if (!format) return POA_EINVAL;
    LOCKED(c, -1, c->s->POAGetImageFormat(c->id, format));
}

int poa_sdk_camera_state(poa_sdk_cam_t *c, int *state, int lock_ms)
{
    if (!state) return POA_EINVAL;
    LOCKED(c, lock_ms, c->s->POAGetCameraState(c->id, state));
}

int poa_sdk_dropped_count(poa_sdk_cam_t *c, int *count)
{
    if (!count) return POA_EINVAL;
    OPTIONAL(c, POAGetDroppedImagesCount);
    LOCKED(c, -1, c->s->POAGetDroppedImagesCount(c->id, count));
}

int poa_sdk_stop_exposure(poa_sdk_cam_t *c) { LOCKED(c, -1, c->s->POAStopExposure(c->id)); }

int poa_sdk_sensor_mode_count(poa_sdk_cam_t *c, int *count)
{
    if (!count) return POA_EINVAL;
    OPTIONAL(c, POAGetSensorModeCount);
    LOCKED(c, -1, c->s->POAGetSensorModeCount(c->id, count));
}

static int mode_info(poa_sdk_cam_t *c, int index, poa_sdk_mode_info_t *o)
{
    POASensorModeInfo m;
    memset(&m, 0, sizeof m);
    int rc = c->s->POAGetSensorModeInfo(c->id, index, &m);
    if (rc == 0) {
        copy_str(o->name, sizeof o->name, m.name, sizeof m.name);
        copy_str(o->description, sizeof o->description, m.desc, sizeof m.desc);
    }
    return rc;
}

int poa_sdk_sensor_mode_info(poa_sdk_cam_t *c, int index, poa_sdk_mode_info_t *out)
{
    if (!out) return POA_EINVAL;
    OPTIONAL(c, POAGetSensorModeInfo);
    LOCKED(c, -1, mode_info(c, index, out));
}

int poa_sdk_set_sensor_mode(poa_sdk_cam_t *c, int index)
{
    OPTIONAL(c, POASetSensorMode);
    LOCKED(c, -1, c->s->POASetSensorMode(c->id, index));
}

int poa_sdk_set_user_custom_id(poa_sdk_cam_t *c, const char *id, int len)
{
    if (len < 0 || (len > 0 && !id)) return POA_EINVAL;
    OPTIONAL(c, POASetUserCustomID);
    LOCKED(c, -1, c->s->POASetUserCustomID(c->id, len ? id : NULL, len));
}

int poa_sdk_set_dps(poa_sdk_cam_t *c, int enable)
{
    int value = enable ? 1 : 0; /* a POABool, passed by pointer as the header declares */
    OPTIONAL(c, POASetEnableDPS);
    LOCKED(c, -1, c->s->POASetEnableDPS(c->id, &value));
}

int poa_sdk_get_sensor_mode(poa_sdk_cam_t *c, int *index)
{
    if (!index) return POA_EINVAL;
    OPTIONAL(c, POAGetSensorMode);
    LOCKED(c, -1, c->s->POAGetSensorMode(c->id, index));
}

static int presets(poa_sdk_cam_t *c, poa_sdk_presets_t *o)
{
    int v[8] = {0};
    int rc = c->s->POAGetGainsAndOffsets(c->id, &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]);
    if (rc == 0) {
        o->gain_highest_dr = v[0];
        o->gain_hcg = v[1];
        o->gain_unity = v[2];
        o->gain_lowest_rn = v[3];
        o->offset_highest_dr = v[4];
        o->offset_hcg = v[5];
        o->offset_unity = v[6];
        o->offset_lowest_rn = v[7];
    }
    return rc;
}

int poa_sdk_gains_and_offsets(poa_sdk_cam_t *c, poa_sdk_presets_t *out)
{
    if (!out) return POA_EINVAL;
    OPTIONAL(c, POAGetGainsAndOffsets);
    LOCKED(c, -1, presets(c, out));
}

int poa_sdk_get_image_data(poa_sdk_cam_t *c, uint8_t *buf, size_t len, int timeout_ms)
{
    if (!buf || len > (size_t)LONG_MAX) return POA_EINVAL;
    LOCKED(c, -1, c->s->POAGetImageData(c->id, buf, (long)len, timeout_ms));
}
