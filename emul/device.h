/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * migdev: the emulated device, as the mediation layer (mdev/) sees it.
 *
 * Nothing under emul/ knows about VFIO: it models the PCI function itself.
 */
#ifndef MIGDEV_EMUL_DEVICE_H
#define MIGDEV_EMUL_DEVICE_H

#include <linux/atomic.h>
#include <linux/mutex.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <uapi/linux/migdev.h>

#include "cfg.h"
#include "geom.h"
#include "devmem.h"
#include "host.h"

/* The most bytes one engine moves before it lets others run. */
#define MIGDEV_CHUNK		(128 * 1024)

/**
 * struct migdev_queue - one DMA queue: its registers and the descriptor
 * in flight
 * @ring_base: MIGDEV_Q_RING_BASE
 * @compl_base: MIGDEV_Q_COMPL_BASE
 * @ring_size: MIGDEV_Q_RING_SIZE
 * @enabled: MIGDEV_Q_CTRL_ENABLE took effect
 * @halted: stopped by a queue error until disabled
 * @head: MIGDEV_Q_HEAD
 * @tail: MIGDEV_Q_TAIL
 * @error: MIGDEV_Q_ERROR
 * @completed: MIGDEV_Q_COMPLETED
 * @active: @desc is in flight; if the queue is not @enabled, it was
 *	aborted and its ABORTED completion is still to be written
 * @desc: the descriptor in flight, as fetched (little-endian)
 * @done: bytes of @desc done: execution resumes from here
 * @crc: running CRC-32C of the bytes done (checksum opcodes)
 */
struct migdev_queue {
	u64 ring_base;
	u64 compl_base;
	u32 ring_size;
	bool enabled;
	bool halted;
	u32 head;
	u32 tail;
	u32 error;
	u64 completed;
	bool active;
	struct migdev_desc desc;
	u64 done;
	u32 crc;
};

/* Guest memory one step may touch: every in-flight completion, 2 more. */
#define MIGDEV_PLAN_MAX		(MIGDEV_MAX_QUEUES + 2)

/**
 * struct migdev_dma_plan - the guest memory the engine's next step needs
 * @n: ranges in @r
 * @r: the ranges
 */
struct migdev_dma_plan {
	unsigned int n;
	struct migdev_dma_range r[MIGDEV_PLAN_MAX];
};

/**
 * struct migdev_emul - one emulated PCI function
 * @geom: fixed at creation
 * @lock: serialises everything below except @devmem: config space,
 *	  registers, the queues, and the execution of a chunk
 * @lock_waiters: users waiting for @lock (migdev_emul_lock()): the engine
 *		  lets them go first between two steps
 * @lock_wq: woken when the last of them has the lock
 * @cfg: config space
 * @scratch: MIGDEV_REG_SCRATCH
 * @msix_table: MSI-X table entries, as the guest wrote them
 * @queues: the DMA queues, @geom.nr_queues of them (allocated: an array
 *	    for the most queues cost a small type's instance 1 KiB, which
 *	    pushed this struct's owner past 4 KiB into the next slab)
 * @int_status: MIGDEV_REG_INT_STATUS
 * @error_status: MIGDEV_REG_ERROR_STATUS
 * @error_info: MIGDEV_REG_ERROR_INFO
 * @error_count: MIGDEV_REG_ERROR_COUNT
 * @intx_level: INTx# as last reported to the host
 * @clock_base: ktime_get_ns() at which MIGDEV_REG_CLOCK read 0
 * @clock_latch: the clock as of the last read of its low half
 * @clock_frozen: the device is stopped: the clock reads @clock_frozen_val
 * @clock_frozen_val: the clock's value while frozen
 * @rr: the queue the engine serves next (round robin)
 * @paused: migdev_engine_pause() holds the engine off; set without the
 *	    lock (so a pause need not queue behind chunks), read under it
 * @bounce: MIGDEV_CHUNK bytes for moving data, allocated while open
 * @plan: what the host last prepared for the next step
 * @devmem: device memory (has its own lock)
 * @host: how the device reaches its host
 * @host_priv: argument for @host
 */
struct migdev_emul {
	struct migdev_geom geom;
	struct mutex lock; /* protects all but devmem, see above */
	atomic_t lock_waiters;
	wait_queue_head_t lock_wq;
	struct migdev_cfg cfg;
	u64 scratch;
	__le32 msix_table[MIGDEV_MAX_VECTORS][MIGDEV_MSIX_ENTRY_SIZE / 4];
	struct migdev_queue *queues;
	u32 int_status;
	u32 error_status;
	u32 error_info;
	u32 error_count;
	bool intx_level;
	u64 clock_base;
	u64 clock_latch;
	bool clock_frozen;
	u64 clock_frozen_val;
	unsigned int rr;
	bool paused;
	void *bounce;
	struct migdev_dma_plan plan;
	struct migdev_devmem devmem;
	const struct migdev_host_ops *host;
	void *host_priv;
};

/*
 * Reset kinds.  POWER_ON: what a new user of the device sees (config space
 * too).  FLR: a function-level reset through the PCI Express capability;
 * as in the PCIe spec, config registers return to their defaults.
 * DEVICE: VFIO_DEVICE_RESET; like vfio-pci, which saves and restores config
 * space around the reset, config space keeps what software programmed.
 * Every kind stops all work and clears registers and device memory.
 */
enum migdev_reset_kind {
	MIGDEV_RESET_POWER_ON,
	MIGDEV_RESET_FLR,
	MIGDEV_RESET_DEVICE,
};

int migdev_emul_init(struct migdev_emul *e, const struct migdev_geom *geom,
		     const struct migdev_host_ops *host, void *host_priv);
void migdev_emul_fini(struct migdev_emul *e);
int migdev_emul_open(struct migdev_emul *e);
void migdev_emul_close(struct migdev_emul *e);
void migdev_emul_reset(struct migdev_emul *e, enum migdev_reset_kind kind);
void migdev_emul_lock(struct migdev_emul *e);
int migdev_emul_lock_killable(struct migdev_emul *e);

u32 migdev_emul_cfg_read(struct migdev_emul *e, unsigned int off,
			 unsigned int size);
bool migdev_emul_cfg_write(struct migdev_emul *e, unsigned int off,
			   unsigned int size, u32 val);

int migdev_emul_bar0_read(struct migdev_emul *e, unsigned int off,
			  unsigned int size, u64 *val);
int migdev_emul_bar0_write(struct migdev_emul *e, unsigned int off,
			   unsigned int size, u64 val);

/* regs.c: BAR0 registers, called with e->lock held. */
u32 migdev_regs_read32_locked(struct migdev_emul *e, unsigned int off);
void migdev_regs_write32_locked(struct migdev_emul *e, unsigned int off,
				u32 val);

/* engine.c: the DMA engine. */
bool migdev_engine_prepare(struct migdev_emul *e);
bool migdev_engine_step(struct migdev_emul *e);
void migdev_engine_reset_locked(struct migdev_emul *e);
u32 migdev_engine_read32_locked(struct migdev_emul *e, unsigned int q,
				unsigned int reg);
void migdev_engine_write32_locked(struct migdev_emul *e, unsigned int q,
				  unsigned int reg, u32 val);
void migdev_engine_kick_locked(struct migdev_emul *e);
void migdev_engine_command_locked(struct migdev_emul *e);
void migdev_engine_pause(struct migdev_emul *e);
void migdev_engine_resume(struct migdev_emul *e);
int migdev_engine_self_write(struct migdev_emul *e, u64 off, const void *buf,
			     size_t len);
bool migdev_engine_paused(struct migdev_emul *e);
int migdev_engine_pause_killable(struct migdev_emul *e);
int migdev_engine_resume_killable(struct migdev_emul *e);

/* intr.c: interrupt causes and INTx. */
void migdev_intr_queue_locked(struct migdev_emul *e, unsigned int q);
void migdev_intr_error_locked(struct migdev_emul *e, unsigned int q,
			      u32 code);
void migdev_intr_update_locked(struct migdev_emul *e);
void migdev_intr_release_locked(struct migdev_emul *e);
void migdev_intr_reset_locked(struct migdev_emul *e);
u64 migdev_emul_clock(struct migdev_emul *e);

/* state.c: migration. */
struct migdev_stream_dec;
void migdev_emul_freeze_clock(struct migdev_emul *e);
void migdev_emul_thaw_clock(struct migdev_emul *e);
size_t migdev_emul_state_size(struct migdev_emul *e);
size_t migdev_emul_save_state(struct migdev_emul *e, void *buf, u16 minor);
void migdev_emul_apply_state(struct migdev_emul *e,
			     const struct migdev_stream_dec *dec,
			     struct migdev_devmem *staged);
void migdev_emul_run(struct migdev_emul *e);

#endif /* MIGDEV_EMUL_DEVICE_H */
