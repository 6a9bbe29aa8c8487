#define POA_SDK_ENOSYM -20
#define POA_SDK_ELOAD -21
#define POA_SDK_EMISSING -22
#define POA_SDK_EBUSY -23
#define POA_SDK_ERR_TIMEOUT 9
#define POA_SDK_IDLE 0
#define POA_SDK_EXPOSING 1
#define POA_SDK_READING 2
#define POA_SDK_READY 3
#define POA_SDK_FAILED 4
#define POA_SDK_TIMED_OUT 5
#define POA_SDK_ABORTED 6
typedef struct poa_sdk poa_sdk_t;
typedef struct poa_sdk_cam poa_sdk_cam_t;
typedef struct {
    char model[256];
    char custom_id[16];
    int32_t camera_id;
    int32_t max_width;
    int32_t max_height;
    int32_t bit_depth;
    int32_t is_color;
    int32_t has_st4;
    int32_t has_cooler;
    int32_t usb3;
    int32_t bayer;
    double pixel_size_um;
    char serial[64];
    char sensor[32];
    char local_path[256];
    int32_t bins[8];
    int32_t formats[8];
    int32_t supports_hard_bin;
    int32_t product_id;
} poa_sdk_camera_props_t;
typedef struct {
    int32_t supports_auto;
    int32_t writable;
    int32_t readable;
    int32_t config_id;
    int32_t value_type;
    int64_t min_int;
    int64_t max_int;
    int64_t default_int;
    double min_float;
    double max_float;
    double default_float;
    char name[64];
    char description[128];
} poa_sdk_config_attr_t;
typedef struct {
    char name[64];
    char description[128];
} poa_sdk_mode_info_t;
typedef struct {
    int32_t gain_highest_dr;
    int32_t gain_hcg;
    int32_t gain_unity;
    int32_t gain_lowest_rn;
    int32_t offset_highest_dr;
    int32_t offset_hcg;
    int32_t offset_unity;
    int32_t offset_lowest_rn;
} poa_sdk_presets_t;
typedef struct {
    double exposure_s;
    int32_t single;
    int32_t restarts;
    int32_t readout_ms;
    uint32_t seq;
    uint32_t width;
    uint32_t height;
    uint32_t pixfmt;
} poa_sdk_exposure_t;
typedef struct {
    int32_t state;
    int32_t code;
    char func[40];
    int32_t restarts;
    uint32_t seq;
    uint64_t start_unix_ns;
} poa_sdk_result_t;
int poa_sdk_load(const char *path, poa_sdk_t **out, char *err, size_t errlen);
void poa_sdk_unload(poa_sdk_t *s);
int poa_sdk_has(const poa_sdk_t *s, const char *name);
const char *poa_sdk_missing_optional(const poa_sdk_t *s);
const char *poa_sdk_error_string(poa_sdk_t *s, int code);
int poa_sdk_api_version(poa_sdk_t *s);
const char *poa_sdk_version(poa_sdk_t *s);
int poa_sdk_sim_config_error(poa_sdk_t *s, char *buf, size_t len);
int poa_sdk_camera_count(poa_sdk_t *s);
int poa_sdk_camera_props(poa_sdk_t *s, int index, poa_sdk_camera_props_t *out);
int poa_sdk_camera_props_by_id(poa_sdk_t *s, int camera_id, poa_sdk_camera_props_t *out);
int poa_sdk_config_value_type(poa_sdk_t *s, int config_id, int *value_type);
int poa_sdk_cam_create(poa_sdk_t *s, int camera_id, poa_sdk_cam_t **out);
void poa_sdk_cam_destroy(poa_sdk_cam_t *c);
int poa_sdk_set_ring(poa_sdk_cam_t *c, poa_ring_t *ring);
int poa_sdk_open_camera(poa_sdk_cam_t *c);
int poa_sdk_init_camera(poa_sdk_cam_t *c);
int poa_sdk_close_camera(poa_sdk_cam_t *c);
int poa_sdk_cam_props(poa_sdk_cam_t *c, poa_sdk_camera_props_t *out);
int poa_sdk_configs_count(poa_sdk_cam_t *c, int *count);
int poa_sdk_config_attr(poa_sdk_cam_t *c, int index, poa_sdk_config_attr_t *out);
int poa_sdk_config_attr_by_id(poa_sdk_cam_t *c, int config_id, poa_sdk_config_attr_t *out);
int poa_sdk_set_config(poa_sdk_cam_t *c, int config_id, int value_type, int64_t int_value,
                       double float_value, int is_auto);
int poa_sdk_get_config(poa_sdk_cam_t *c, int config_id, int value_type, int64_t *int_value,
                       double *float_value, int *is_auto, int lock_ms);
int poa_sdk_set_image_bin(poa_sdk_cam_t *c, int bin);
int poa_sdk_get_image_bin(poa_sdk_cam_t *c, int *bin);
int poa_sdk_set_image_size(poa_sdk_cam_t *c, int width, int height);
int poa_sdk_get_image_size(poa_sdk_cam_t *c, int *width, int *height);
int poa_sdk_set_image_start(poa_sdk_cam_t *c, int x, int y);
int poa_sdk_get_image_start(poa_sdk_cam_t *c, int *x, int *y);
int poa_sdk_set_image_format(poa_sdk_cam_t *c, int format);
int poa_sdk_get_image_format(poa_sdk_cam_t *c, int *format);
int poa_sdk_camera_state(poa_sdk_cam_t *c, int *state, int lock_ms);
int poa_sdk_dropped_count(poa_sdk_cam_t *c, int *count);
int poa_sdk_stop_exposure(poa_sdk_cam_t *c);
int poa_sdk_sensor_mode_count(poa_sdk_cam_t *c, int *count);
int poa_sdk_sensor_mode_info(poa_sdk_cam_t *c, int index, poa_sdk_mode_info_t *out);
int poa_sdk_set_sensor_mode(poa_sdk_cam_t *c, int index);
int poa_sdk_get_sensor_mode(poa_sdk_cam_t *c, int *index);
int poa_sdk_set_user_custom_id(poa_sdk_cam_t *c, const char *id, int len);
int poa_sdk_gains_and_offsets(poa_sdk_cam_t *c, poa_sdk_presets_t *out);
int poa_sdk_get_image_data(poa_sdk_cam_t *c, uint8_t *buf, size_t len, int timeout_ms);
int poa_sdk_expose(poa_sdk_cam_t *c, const poa_sdk_exposure_t *e);
int poa_sdk_abort(poa_sdk_cam_t *c);
int poa_sdk_wait(poa_sdk_cam_t *c, int timeout_ms, poa_sdk_result_t *out);
typedef struct {
    uint32_t width;
    uint32_t height;
    uint32_t pixfmt;
    uint32_t first_seq;
    int32_t timeout_ms;
    double exposure_s;
} poa_sdk_video_t;
typedef struct {
    int32_t state;
    int32_t code;
    char func[40];
    uint64_t frames;
    uint64_t timeouts;
    uint64_t no_slot;
    int32_t camera_dropped;
} poa_sdk_video_stats_t;
int poa_sdk_video_start(poa_sdk_cam_t *c, const poa_sdk_video_t *v);
int poa_sdk_video_stop(poa_sdk_cam_t *c);
int poa_sdk_video_stats(poa_sdk_cam_t *c, poa_sdk_video_stats_t *out);
