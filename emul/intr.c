// SPDX-License-Identifier: GPL-2.0-only
/*
 * migdev: interrupt causes, the error registers, INTx, and the clock.
 *
 * Every cause sets a bit in MIGDEV_REG_INT_STATUS and sends one edge on its
 * MSI-X vector (queue q: vector q; errors: vector nr_queues).  INTx# is
 * level: asserted while INT_STATUS is non-zero and the command register
 * allows it.  The host delivers whichever of the two the user enabled.
 *
 * An MSI-X message is a memory write: a function with bus mastering off
 * sends none, and neither does a device that migration holds quiesced or
 * stopped (vfio.h: no interrupt in STOP; no completion, hence no
 * interrupt, in P2P here).  Causes raised meanwhile (an error from a
 * register write) are recorded at once; their edges are held pending, as
 * for a masked vector, and sent when the device may send again.  INTx#
 * is a wire, not a write: it follows INT_STATUS with bus mastering off
 * too, but holds its level while the device is held.
 */
#include <linux/lockdep.h>
#include <linux/timekeeping.h>

#include "device.h"

/**
 * migdev_intr_update_locked() - recompute INTx# and tell the host if it
 * changed
 * @e: device, locked
 */
void migdev_intr_update_locked(struct migdev_emul *e)
{
	bool level = e->int_status &&
		     !(migdev_cfg_command(&e->cfg) & PCI_COMMAND_INTX_DISABLE);

	lockdep_assert_held(&e->lock);
	migdev_cfg_set_intx_status(&e->cfg, !!e->int_status);
	if (READ_ONCE(e->paused))
		return;	/* the level changes when the device runs */
	if (level != e->intx_level) {
		e->intx_level = level;
		e->host->intx(e->host_priv, level);
	}
}

/* An edge on MSI-X @vector, or held pending while the device may not send. */
static void migdev_intr_msix_locked(struct migdev_emul *e, unsigned int vector)
{
	if (READ_ONCE(e->paused) ||
	    !(migdev_cfg_command(&e->cfg) & PCI_COMMAND_MASTER))
		e->host->msix_hold(e->host_priv, vector);
	else
		e->host->msix(e->host_priv, vector);
}

/**
 * migdev_intr_release_locked() - the device may send again: the edges it
 * held go out (on vectors that are not masked)
 * @e: device, locked
 */
void migdev_intr_release_locked(struct migdev_emul *e)
{
	lockdep_assert_held(&e->lock);
	if (READ_ONCE(e->paused) ||
	    !(migdev_cfg_command(&e->cfg) & PCI_COMMAND_MASTER))
		return;
	e->host->msix_release(e->host_priv);
}

/**
 * migdev_intr_queue_locked() - queue @q completed a descriptor with F_IRQ
 * @e: device, locked
 * @q: queue
 */
void migdev_intr_queue_locked(struct migdev_emul *e, unsigned int q)
{
	lockdep_assert_held(&e->lock);
	e->int_status |= BIT(q);
	migdev_intr_msix_locked(e, q);
	migdev_intr_update_locked(e);
}

/**
 * migdev_intr_error_locked() - record an error and raise its interrupt
 * @e: device, locked
 * @q: queue it happened on
 * @code: enum migdev_status
 */
void migdev_intr_error_locked(struct migdev_emul *e, unsigned int q,
			      u32 code)
{
	lockdep_assert_held(&e->lock);
	e->error_status |= BIT(q);
	e->error_info = (code & 0xff) | (q & 0xff) << 8;
	e->error_count++;
	e->int_status |= MIGDEV_INT_ERROR;
	migdev_intr_msix_locked(e, e->geom.nr_queues);
	migdev_intr_update_locked(e);
}

/**
 * migdev_intr_reset_locked() - clear every cause and the error registers
 * @e: device, locked
 */
void migdev_intr_reset_locked(struct migdev_emul *e)
{
	e->int_status = 0;
	e->error_status = 0;
	e->error_info = 0;
	e->error_count = 0;
	migdev_intr_update_locked(e);
}

/**
 * migdev_emul_clock() - MIGDEV_REG_CLOCK
 * @e: device
 *
 * Return: nanoseconds of device time; never goes back.
 */
u64 migdev_emul_clock(struct migdev_emul *e)
{
	if (e->clock_frozen)
		return e->clock_frozen_val;
	return ktime_get_ns() - e->clock_base;
}
