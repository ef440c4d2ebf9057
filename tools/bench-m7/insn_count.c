/* Instructions per inference under QEMU: a TCG plugin for QEMU 7.2 (plugin API v1).
 *
 * Counts every executed guest instruction and records the count each time the
 * guest enters `start` and `end` (the addresses of the firmware's
 * patchwise_inference_start / patchwise_inference_end markers), so the
 * difference is exactly one inference. Writes one line per inference,
 * "inference <k> <instructions>", to the file named by `out`.
 *
 *   qemu-system-arm ... -plugin ./insn_count.so,start=0x1234,end=0x1240,out=counts.txt
 *
 * With `profile=FILE` it also writes, for every translated block, its start
 * address and the instructions executed in it over the whole run ("<pc> <n>"),
 * which the bench maps to functions.
 *
 * With `step=ADDR` (the `patchwise_step` marker of a firmware built with the
 * `step-markers` feature) it also writes "step <instructions since start>"
 * each time a step begins within an inference, so the bench can attribute
 * the instructions of one inference to its steps.
 *
 * The declarations below are this plugin's own, for the part of the API it
 * uses (Debian ships no qemu-plugin.h). */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef uint64_t qemu_plugin_id_t;
typedef struct qemu_info_t qemu_info_t;
struct qemu_plugin_tb;
struct qemu_plugin_insn;
enum qemu_plugin_cb_flags { QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_CB_R_REGS, QEMU_PLUGIN_CB_RW_REGS };
enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 };
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int vcpu_index, void *userdata);
typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);

void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t idx);
uint64_t qemu_plugin_insn_vaddr(const struct qemu_plugin_insn *insn);
void qemu_plugin_register_vcpu_insn_exec_inline(struct qemu_plugin_insn *insn, enum qemu_plugin_op op, void *ptr,
                                                uint64_t imm);
void qemu_plugin_register_vcpu_insn_exec_cb(struct qemu_plugin_insn *insn, qemu_plugin_vcpu_udata_cb_t cb,
                                            enum qemu_plugin_cb_flags flags, void *userdata);
void qemu_plugin_register_vcpu_tb_exec_inline(struct qemu_plugin_tb *tb, enum qemu_plugin_op op, void *ptr,
                                              uint64_t imm);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb, void *userdata);

__attribute__((visibility("default"))) int qemu_plugin_version = 1;

static uint64_t executed;     /* every instruction so far (single vCPU) */
static uint64_t start_at;     /* `executed` when the start marker was entered */
static int started;
static uint64_t start_pc, end_pc, step_pc;
static FILE *out;
static unsigned inferences;

/* Per translated block (profile mode): a block may be translated again, so
 * the same pc can appear more than once; the reader adds them up. */
struct block { uint64_t pc, executed; struct block *next; };
static struct block *blocks;
static FILE *profile;

static void on_start(unsigned int vcpu, void *u) {
    (void)vcpu; (void)u;
    start_at = executed;
    started = 1;
}

static void on_step(unsigned int vcpu, void *u) {
    (void)vcpu; (void)u;
    if (started) fprintf(out, "step %" PRIu64 "\n", executed - start_at);
}

static void on_end(unsigned int vcpu, void *u) {
    (void)vcpu; (void)u;
    if (!started) return;
    started = 0;
    fprintf(out, "inference %u %" PRIu64 "\n", ++inferences, executed - start_at);
    fflush(out);
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb) {
    (void)id;
    size_t n = qemu_plugin_tb_n_insns(tb);
    if (profile && n > 0) {
        struct block *b = calloc(1, sizeof *b);
        if (b) {
            b->pc = qemu_plugin_insn_vaddr(qemu_plugin_tb_get_insn(tb, 0));
            b->next = blocks;
            blocks = b;
            qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &b->executed, n);
        }
    }
    for (size_t i = 0; i < n; i++) {
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
        uint64_t pc = qemu_plugin_insn_vaddr(insn);
        /* Both markers are recorded the same way, so the difference is the
         * instructions from entering the start marker to entering the end one. */
        if (pc == start_pc) qemu_plugin_register_vcpu_insn_exec_cb(insn, on_start, QEMU_PLUGIN_CB_NO_REGS, NULL);
        if (pc == end_pc) qemu_plugin_register_vcpu_insn_exec_cb(insn, on_end, QEMU_PLUGIN_CB_NO_REGS, NULL);
        if (step_pc && pc == step_pc)
            qemu_plugin_register_vcpu_insn_exec_cb(insn, on_step, QEMU_PLUGIN_CB_NO_REGS, NULL);
        qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64, &executed, 1);
    }
}

static void at_exit(qemu_plugin_id_t id, void *u) {
    (void)id; (void)u;
    fprintf(out, "total %" PRIu64 "\n", executed);
    fclose(out);
    if (profile) {
        for (struct block *b = blocks; b; b = b->next)
            if (b->executed) fprintf(profile, "%" PRIx64 " %" PRIu64 "\n", b->pc, b->executed);
        fclose(profile);
    }
}

__attribute__((visibility("default"))) int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc,
                                                               char **argv) {
    (void)info;
    const char *path = NULL;
    for (int i = 0; i < argc; i++) {
        if (strncmp(argv[i], "start=", 6) == 0) start_pc = strtoull(argv[i] + 6, NULL, 0) & ~1ull;
        else if (strncmp(argv[i], "end=", 4) == 0) end_pc = strtoull(argv[i] + 4, NULL, 0) & ~1ull;
        else if (strncmp(argv[i], "out=", 4) == 0) path = argv[i] + 4;
        else if (strncmp(argv[i], "step=", 5) == 0) step_pc = strtoull(argv[i] + 5, NULL, 0) & ~1ull;
        else if (strncmp(argv[i], "profile=", 8) == 0) {
            profile = fopen(argv[i] + 8, "w");
            if (!profile) { perror(argv[i] + 8); return -1; }
        }
        else { fprintf(stderr, "insn_count: unknown argument %s\n", argv[i]); return -1; }
    }
    if (!start_pc || !end_pc || !path) {
        fprintf(stderr, "insn_count: needs start=ADDR,end=ADDR,out=FILE\n");
        return -1;
    }
    out = fopen(path, "w");
    if (!out) { perror(path); return -1; }
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
    qemu_plugin_register_atexit_cb(id, at_exit, NULL);
    return 0;
}
