// SPDX-License-Identifier: GPL-2.0-only
/*
 * migdev: the emulated device: lifetime, reset, and the access paths that
 * the mediation layer forwards (config space and BAR0).
 */
#include <linux/align.h>
#include <linux/errno.h>
#include <linux/lockdep.h>
#include <linux/pci_regs.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/timekeeping.h>
#include <uapi/linux/migdev.h>

#include "device.h"

/**
 * migdev_emul_init() - create a device in its power-on state
 * @e: device
 * @geom: its geometry
 * @host: how it reaches its host
 * @host_priv: argument for @host
 *
 * Return: 0 or -ENOMEM.
 */
int migdev_emul_init(struct migdev_emul *e, const struct migdev_geom *geom,
		     const struct migdev_host_ops *host, void *host_priv)
{
	int ret;

	e->geom = *geom;
	e->host = host;
	e->host_priv = host_priv;
	e->queues = kcalloc(geom->nr_queues, sizeof(*e->queues),
			    GFP_KERNEL_ACCOUNT);
	if (!e->queues)
		return -ENOMEM;
	mutex_init(&e->lock);
	atomic_set(&e->lock_waiters, 0);
	init_waitqueue_head(&e->lock_wq);
	ret = migdev_devmem_init(&e->devmem, geom->devmem_size,
				 host->devmem_unmap, host->devmem_dirtied,
				 host_priv);
	if (ret) {
		mutex_destroy(&e->lock);
		kfree(e->queues);
		e->queues = NULL;
		return ret;
	}
	/* The clock starts at 0; again for each user (migdev_emul_open()). */
	e->clock_base = ktime_get_ns();
	migdev_emul_reset(e, MIGDEV_RESET_POWER_ON);
	return 0;
}

/**
 * migdev_emul_fini() - release everything the device holds
 * @e: device, closed
 */
void migdev_emul_fini(struct migdev_emul *e)
{
	migdev_devmem_fini(&e->devmem);
	mutex_destroy(&e->lock);
	kfree(e->queues);
	e->queues = NULL;
}

/* A user that waited for the lock has it, or gave up: the last wakes the engine. */
static void migdev_emul_waited(struct migdev_emul *e)
{
	if (atomic_dec_and_test(&e->lock_waiters))
		wake_up(&e->lock_wq);
}

/**
 * migdev_emul_lock() - take the device's lock for its user
 * @e: device
 *
 * A step of the engine holds it while it executes, and the engine takes
 * it again right after: the user's register accesses, config cycles and
 * arcs would wait for a whole descriptor.  So the engine lets the users
 * that wait here go first (migdev_engine_step()).  A step holds the lock
 * only to copy memory its host prepared (engine.c); where the host cannot
 * prepare (mdev/pins.c: a type1 v1 container) a chunk may wait for its
 * user's memory, and only the user's own threads wait for the lock then
 * (the host runs steps in the user's thread): a killed user's chunk ends
 * at once.
 */
void migdev_emul_lock(struct migdev_emul *e)
{
	atomic_inc(&e->lock_waiters);
	mutex_lock(&e->lock);
	migdev_emul_waited(e);
}

/**
 * migdev_emul_lock_killable() - migdev_emul_lock() for a caller that may
 * give up when killed
 * @e: device
 *
 * Return: 0 with the lock held, or -EINTR.
 */
int migdev_emul_lock_killable(struct migdev_emul *e)
{
	int ret;

	atomic_inc(&e->lock_waiters);
	ret = mutex_lock_killable(&e->lock);
	migdev_emul_waited(e);
	return ret;
}

static void migdev_emul_reset_locked(struct migdev_emul *e,
				     enum migdev_reset_kind kind);

/**
 * migdev_emul_open() - a user takes the device: power-on state, and the
 * buffer the engine moves data through
 * @e: device
 *
 * Called by the user's process, whose memory cgroup pays for the buffer.
 *
 * Return: 0 or -ENOMEM.
 */
int migdev_emul_open(struct migdev_emul *e)
{
	void *bounce = kvmalloc(MIGDEV_CHUNK, GFP_KERNEL_ACCOUNT);

	if (!bounce)
		return -ENOMEM;
	migdev_emul_lock(e);
	/* Not held: the reset's INTx level reaches the host. */
	e->paused = false;
	migdev_emul_reset_locked(e, MIGDEV_RESET_POWER_ON);
	e->bounce = bounce;
	/*
	 * A new user's clock starts at 0, its latch empty: nothing of the
	 * user before (how long it had the device, when it last read the
	 * clock) carries over.  Resets within one user leave the clock be.
	 */
	e->clock_base = ktime_get_ns();
	e->clock_latch = 0;
	e->clock_frozen = false;
	e->clock_frozen_val = 0;
	mutex_unlock(&e->lock);
	return 0;
}

/**
 * migdev_emul_close() - the user let go: clear all work, give memory back
 * @e: device, whose host executes no more steps
 */
void migdev_emul_close(struct migdev_emul *e)
{
	void *bounce;

	migdev_emul_lock(e);
	migdev_emul_reset_locked(e, MIGDEV_RESET_POWER_ON);
	bounce = e->bounce;
	e->bounce = NULL;
	mutex_unlock(&e->lock);
	kvfree(bounce);
}

static void migdev_emul_reset_locked(struct migdev_emul *e,
				     enum migdev_reset_kind kind)
{
	unsigned int i;

	lockdep_assert_held(&e->lock);
	/* No chunk runs (we hold the lock); queued turns find no work. */
	migdev_engine_reset_locked(e);
	if (kind != MIGDEV_RESET_DEVICE) {
		migdev_cfg_init(&e->cfg, &e->geom);
		/* Vectors come out of reset masked. */
		memset(e->msix_table, 0, sizeof(e->msix_table));
		for (i = 0; i < migdev_geom_nr_vectors(&e->geom); i++)
			e->msix_table[i][PCI_MSIX_ENTRY_VECTOR_CTRL / 4] =
				cpu_to_le32(PCI_MSIX_ENTRY_CTRL_MASKBIT);
	}
	e->scratch = 0;
	migdev_intr_reset_locked(e);
	migdev_devmem_clear(&e->devmem);
}

/**
 * migdev_emul_reset() - reset the device
 * @e: device
 * @kind: which reset, see enum migdev_reset_kind
 */
void migdev_emul_reset(struct migdev_emul *e, enum migdev_reset_kind kind)
{
	migdev_emul_lock(e);
	migdev_emul_reset_locked(e, kind);
	mutex_unlock(&e->lock);
}

/**
 * migdev_emul_cfg_read() - config space read
 * @e: device
 * @off: offset below MIGDEV_CFG_SIZE, aligned for @size
 * @size: 1, 2 or 4
 *
 * Return: the value in CPU byte order.
 */
u32 migdev_emul_cfg_read(struct migdev_emul *e, unsigned int off,
			 unsigned int size)
{
	u32 val;

	migdev_emul_lock(e);
	val = migdev_cfg_read(&e->cfg, off, size);
	mutex_unlock(&e->lock);
	return val;
}

/**
 * migdev_emul_cfg_write() - config space write, with its side effects
 * @e: device
 * @off: offset below MIGDEV_CFG_SIZE, aligned for @size
 * @size: 1, 2 or 4
 * @val: the value in CPU byte order
 *
 * A write that initiates a function-level reset does not reset here: as
 * the PCI core does for a real function, the host carries the reset out
 * (migdev_emul_reset() with MIGDEV_RESET_FLR), ordered with whatever else
 * it does to the device (a migration loading state into it).
 *
 * Return: true if the write initiated a function-level reset.
 */
bool migdev_emul_cfg_write(struct migdev_emul *e, unsigned int off,
			   unsigned int size, u32 val)
{
	unsigned int ev;

	migdev_emul_lock(e);
	ev = migdev_cfg_write(&e->cfg, off, size, val);
	if (!(ev & MIGDEV_CFG_EV_FLR) && (ev & MIGDEV_CFG_EV_COMMAND)) {
		/* Bus mastering may have changed, INTx been disabled. */
		migdev_intr_update_locked(e);
		migdev_intr_release_locked(e);
		migdev_engine_command_locked(e);
	}
	mutex_unlock(&e->lock);
	return ev & MIGDEV_CFG_EV_FLR;
}

static bool migdev_bar0_access_ok(unsigned int off, unsigned int size)
{
	return (size == 4 || size == 8) && IS_ALIGNED(off, size) &&
	       off <= MIGDEV_BAR0_SIZE - size;
}

/**
 * migdev_emul_bar0_read() - BAR0 read
 * @e: device
 * @off: offset in BAR0
 * @size: 4 or 8, @off aligned to it
 * @val: the value read, CPU byte order
 *
 * Return: 0, or -EINVAL for a width, alignment or offset BAR0 refuses.
 */
int migdev_emul_bar0_read(struct migdev_emul *e, unsigned int off,
			  unsigned int size, u64 *val)
{
	if (!migdev_bar0_access_ok(off, size))
		return -EINVAL;
	migdev_emul_lock(e);
	*val = migdev_regs_read32_locked(e, off);
	if (size == 8)
		*val |= (u64)migdev_regs_read32_locked(e, off + 4) << 32;
	mutex_unlock(&e->lock);
	return 0;
}

/**
 * migdev_emul_bar0_write() - BAR0 write
 * @e: device
 * @off: offset in BAR0
 * @size: 4 or 8, @off aligned to it
 * @val: the value, CPU byte order
 *
 * Return: 0, or -EINVAL for a width, alignment or offset BAR0 refuses.
 */
int migdev_emul_bar0_write(struct migdev_emul *e, unsigned int off,
			   unsigned int size, u64 val)
{
	if (!migdev_bar0_access_ok(off, size))
		return -EINVAL;
	migdev_emul_lock(e);
	migdev_regs_write32_locked(e, off, lower_32_bits(val));
	if (size == 8)
		migdev_regs_write32_locked(e, off + 4, upper_32_bits(val));
	mutex_unlock(&e->lock);
	return 0;
}
