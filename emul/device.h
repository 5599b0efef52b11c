/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * migdev: the emulated device, as the mediation layer (mdev/) sees it.
 *
 * Nothing under emul/ knows about VFIO: it models the PCI function itself.
 */
#ifndef MIGDEV_EMUL_DEVICE_H
#define MIGDEV_EMUL_DEVICE_H

#include <linux/mutex.h>
#include <linux/types.h>

#include "cfg.h"
#include "devmem.h"

#include <uapi/linux/migdev.h>

/* One vector per queue, and one that reports errors. */
#define MIGDEV_MAX_VECTORS	(MIGDEV_MAX_QUEUES + 1)

/**
 * struct migdev_geom - what an instance's type fixes for its lifetime
 * @type_id: enum migdev_type_id
 * @nr_queues: DMA queues, 1..MIGDEV_MAX_QUEUES
 * @devmem_size: bytes of device memory (BAR2), a power of two
 */
struct migdev_geom {
	u32 type_id;
	u32 nr_queues;
	u64 devmem_size;
};

static inline unsigned int migdev_geom_nr_vectors(const struct migdev_geom *g)
{
	return g->nr_queues + 1;
}

/**
 * struct migdev_emul - one emulated PCI function
 * @geom: fixed at creation
 * @lock: serialises config space, registers and the MSI-X table
 * @cfg: config space
 * @scratch: MIGDEV_REG_SCRATCH
 * @msix_table: MSI-X table entries, as the guest wrote them
 * @devmem: device memory (has its own lock)
 */
struct migdev_emul {
	struct migdev_geom geom;
	struct mutex lock; /* protects cfg, scratch, msix_table */
	struct migdev_cfg cfg;
	u64 scratch;
	__le32 msix_table[MIGDEV_MAX_VECTORS][MIGDEV_MSIX_ENTRY_SIZE / 4];
	struct migdev_devmem devmem;
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

void migdev_emul_init(struct migdev_emul *e, const struct migdev_geom *geom);
void migdev_emul_fini(struct migdev_emul *e);
void migdev_emul_reset(struct migdev_emul *e, enum migdev_reset_kind kind);

u32 migdev_emul_cfg_read(struct migdev_emul *e, unsigned int off,
			 unsigned int size);
void migdev_emul_cfg_write(struct migdev_emul *e, unsigned int off,
			   unsigned int size, u32 val);

int migdev_emul_bar0_read(struct migdev_emul *e, unsigned int off,
			  unsigned int size, u64 *val);
int migdev_emul_bar0_write(struct migdev_emul *e, unsigned int off,
			   unsigned int size, u64 val);

/* regs.c: BAR0 registers, called with e->lock held. */
u32 migdev_regs_read32_locked(struct migdev_emul *e, unsigned int off);
void migdev_regs_write32_locked(struct migdev_emul *e, unsigned int off,
				u32 val);

#endif /* MIGDEV_EMUL_DEVICE_H */
