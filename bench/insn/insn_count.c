/* A QEMU TCG plugin that counts the guest instructions a user-mode program executes, for
 * bench/insn_per_frame.py: qemu-aarch64/qemu-arm/qemu-x86_64 -plugin ./insn_count.so PROGRAM.
 * At exit it prints "insn-count: N" on stderr.
 *
 * Debian 12 ships qemu-user 7.2 built with plugin support but neither the contrib plugins
 * (libinsn.so) nor the plugin header, so the few declarations used are written out here from
 * QEMU 7.2's plugin API (include/qemu/qemu-plugin.h, QEMU_PLUGIN_VERSION 1): they are the
 * interface, as the SDK's C signatures are.
 *
 * Each translated block adds its instruction count to one counter inline when it runs (no
 * call out of the generated code). A block left half-way (a fault) is counted whole; the
 * programs measured take none in their timed part. The counter is shared by all threads:
 * the programs measured are single-threaded. */
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef uint64_t qemu_plugin_id_t;
typedef struct {
    const char *target_name;
    struct { int min; int cur; } version;
    bool system_emulation;
    union { struct { int smp_vcpus; int max_vcpus; } system; };
} qemu_info_t;
struct qemu_plugin_tb;
enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 };
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);

void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);
void qemu_plugin_register_vcpu_tb_exec_inline(struct qemu_plugin_tb *tb, enum qemu_plugin_op op,
                                              void *ptr, uint64_t imm);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb, void *userdata);

#define EXPORT __attribute__((visibility("default")))

EXPORT int qemu_plugin_version = 1;

static uint64_t g_insns;

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    (void)id;
    qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &g_insns,
                                             qemu_plugin_tb_n_insns(tb));
}

static void on_exit(qemu_plugin_id_t id, void *userdata)
{
    (void)id;
    (void)userdata;
    fprintf(stderr, "insn-count: %" PRIu64 "\n", g_insns);
}

EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    if (info->system_emulation) return -1; /* user mode only */
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
    qemu_plugin_register_atexit_cb(id, on_exit, NULL);
    return 0;
}
