/* The SDK library: dlopen, its function table, versions and error strings, and camera
 * enumeration under a library-wide lock. See include/poa_sdk.h for the API. */
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sdk_internal.h"

/* ---- the library ----------------------------------------------------------------------- */

int poa_sdk_load(const char *path, poa_sdk_t **out, char *err, size_t errlen)
{
    if (!path || !out) return POA_EINVAL;
    *out = NULL;
    if (err && errlen) err[0] = '\0';
    dlerror();
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *why = dlerror();
        if (err && errlen) snprintf(err, errlen, "%s", why ? why : "dlopen failed");
        return POA_SDK_ELOAD;
    }
    poa_sdk_t *s = calloc(1, sizeof *s);
    if (!s) return POA_ENOMEM; /* the mapping stays: see poa_sdk_unload */
    s->handle = h;
    char missing[1024] = "";
    size_t mlen = 0, olen = 0;
#define X(req, name, ret, args)                                                                \
    s->name = (ret(*) args)dlsym(h, #name);                                                    \
    if (!s->name) {                                                                            \
        char *buf = (req) ? missing : s->missing_optional;                                     \
        size_t cap = (req) ? sizeof missing : sizeof s->missing_optional;                      \
        size_t *len = (req) ? &mlen : &olen;                                                   \
        int n = snprintf(buf + *len, cap - *len, "%s%s", *len ? ", " : "", #name);             \
        if (n > 0 && *len + (size_t)n < cap) *len += (size_t)n;                                \
    }
    POA_SDK_FUNCS(X)
#undef X
    if (mlen) {
        if (err && errlen) snprintf(err, errlen, "missing required symbols: %s", missing);
        free(s);
        return POA_SDK_EMISSING;
    }
    s->SimPOA_GetConfigError = (int (*)(char *, int))dlsym(h, "SimPOA_GetConfigError");
    pthread_mutex_init(&s->enum_mu, NULL);
    *out = s;
    return POA_OK;
}

void poa_sdk_unload(poa_sdk_t *s)
{
    if (!s) return;
    pthread_mutex_destroy(&s->enum_mu);
    free(s);
}

int poa_sdk_has(const poa_sdk_t *s, const char *name)
{
    if (!s || !name) return 0;
#define X(req, fn, ret, args) \
    if (strcmp(name, #fn) == 0) return s->fn != NULL;
    POA_SDK_FUNCS(X)
#undef X
    return 0;
}

const char *poa_sdk_missing_optional(const poa_sdk_t *s) { return s ? s->missing_optional : ""; }

const char *poa_sdk_error_string(poa_sdk_t *s, int code)
{
    switch (code) {
    case POA_SDK_ENOSYM: return "function not exported by this SDK version";
    case POA_SDK_EBUSY: return "camera busy (lock not free in time)";
    case POA_EINVAL: return "invalid argument";
    case POA_ESTATE: return "call not valid in this state";
    case POA_ECLOSED: return "frame ring closed";
    case POA_ENOMEM: return "out of memory";
    default: break;
    }
    if (code < 0 || !s) return "error";
    /* The vendor's POAGetErrorString answers a code it does not know with the text it gave
     * last (SDK 3.7.0, measured; docs/upstream-facts.md section 2.4): not asked beyond its 17. */
    if (code > POA_SDK_LAST_ERROR) return "unknown error";
    const char *t = s->POAGetErrorString(code);
    return t ? t : "unknown error";
}

int poa_sdk_api_version(poa_sdk_t *s) { return s ? s->POAGetAPIVersion() : 0; }

const char *poa_sdk_version(poa_sdk_t *s)
{
    const char *v = s ? s->POAGetSDKVersion() : NULL;
    return v ? v : "";
}

int poa_sdk_sim_config_error(poa_sdk_t *s, char *buf, size_t len)
{
    if (!s || !buf || len == 0 || len > INT_MAX) return POA_EINVAL;
    buf[0] = '\0';
    if (!s->SimPOA_GetConfigError) return POA_SDK_ENOSYM;
    int n = s->SimPOA_GetConfigError(buf, (int)len);
    buf[len - 1] = '\0';
    return n < 0 ? 0 : n;
}

void poa__sdk_convert_props(const POACameraProperties *p, poa_sdk_camera_props_t *o)
{
    memset(o, 0, sizeof *o);
    copy_str(o->model, sizeof o->model, p->cameraModelName, sizeof p->cameraModelName);
    copy_str(o->custom_id, sizeof o->custom_id, p->userCustomID, sizeof p->userCustomID);
    o->camera_id = p->cameraID;
    o->max_width = p->maxWidth;
    o->max_height = p->maxHeight;
    o->bit_depth = p->bitDepth;
    o->is_color = p->isColorCamera;
    o->has_st4 = p->isHasST4Port;
    o->has_cooler = p->isHasCooler;
    o->usb3 = p->isUSB3Speed;
    o->bayer = p->bayerPattern;
    o->pixel_size_um = p->pixelSize;
    copy_str(o->serial, sizeof o->serial, p->SN, sizeof p->SN);
    copy_str(o->sensor, sizeof o->sensor, p->sensorModelName, sizeof p->sensorModelName);
    copy_str(o->local_path, sizeof o->local_path, p->localPath, sizeof p->localPath);
    for (int i = 0; i < 8; i++) {
        o->bins[i] = p->bins[i];
        o->formats[i] = p->imgFormats[i];
    }
    o->supports_hard_bin = p->isSupportHardBin;
    o->product_id = p->pID;
}

int poa_sdk_camera_count(poa_sdk_t *s)
{
    if (!s) return POA_EINVAL;
    pthread_mutex_lock(&s->enum_mu);
    int n = s->POAGetCameraCount();
    pthread_mutex_unlock(&s->enum_mu);
    return n;
}

static int props_call(poa_sdk_t *s, int by_id, int arg, poa_sdk_camera_props_t *out)
{
    if (!s || !out) return POA_EINVAL;
    POACameraProperties p;
    memset(&p, 0, sizeof p);
    pthread_mutex_lock(&s->enum_mu);
    int rc = by_id ? s->POAGetCameraPropertiesByID(arg, &p) : s->POAGetCameraProperties(arg, &p);
    pthread_mutex_unlock(&s->enum_mu);
    if (rc == 0) poa__sdk_convert_props(&p, out);
    return rc;
}

int poa_sdk_camera_props(poa_sdk_t *s, int index, poa_sdk_camera_props_t *out)
{
    return props_call(s, 0, index, out);
}

int poa_sdk_camera_props_by_id(poa_sdk_t *s, int camera_id, poa_sdk_camera_props_t *out)
{
    return props_call(s, 1, camera_id, out);
}

int poa_sdk_config_value_type(poa_sdk_t *s, int config_id, int *value_type)
{
    if (!s || !value_type) return POA_EINVAL;
    return s->POAGetConfigValueType(config_id, value_type);
}
