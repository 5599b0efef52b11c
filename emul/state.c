// SPDX-License-Identifier: GPL-2.0-only
/*
 * migdev: the device's state in and out of the migration stream, and the
 * clock that stands still while the device is stopped.
 *
 * Saving reads the state of a stopped device (engine paused, clock
 * frozen), so it cannot change under the reader.  Loading takes the state
 * a decoder has already validated in full, so applying it cannot fail
 * half way.
 */
#include <linux/lockdep.h>
#include <linux/string.h>
#include <linux/timekeeping.h>

#include "device.h"
#include "stream.h"

/**
 * migdev_emul_freeze_clock() - the clock stops (the device is stopped)
 * @e: device
 */
void migdev_emul_freeze_clock(struct migdev_emul *e)
{
	migdev_emul_lock(e);
	if (!e->clock_frozen) {
		e->clock_frozen_val = ktime_get_ns() - e->clock_base;
		e->clock_frozen = true;
	}
	mutex_unlock(&e->lock);
}

/**
 * migdev_emul_thaw_clock() - the clock goes on from where it stood
 * @e: device
 */
void migdev_emul_thaw_clock(struct migdev_emul *e)
{
	migdev_emul_lock(e);
	if (e->clock_frozen) {
		e->clock_base = ktime_get_ns() - e->clock_frozen_val;
		e->clock_frozen = false;
	}
	mutex_unlock(&e->lock);
}

/**
 * migdev_emul_state_size() - bytes of the state records (with headers)
 * @e: device
 *
 * Return: what migdev_emul_save_state() writes.
 */
size_t migdev_emul_state_size(struct migdev_emul *e)
{
	size_t rec = sizeof(struct migdev_stream_record);

	return rec + PCI_CFG_SPACE_SIZE +
	       rec + sizeof(struct migdev_rec_regs) +
	       rec + sizeof(struct migdev_rec_msix) +
	       e->geom.nr_queues * (rec + sizeof(struct migdev_rec_queue));
}

static void migdev_emul_save_queue(struct migdev_queue *q, unsigned int qi,
				   struct migdev_rec_queue *r, u16 minor)
{
	/*
	 * Before 1.3 a disabled queue is never busy: its ABORTED record
	 * still due is dropped, as those streams' devices did when paused.
	 */
	bool active = q->active && (q->enabled || minor >= 3);

	memset(r, 0, sizeof(*r));
	r->index = cpu_to_le32(qi);
	r->state = cpu_to_le32((q->enabled ? MIGDEV_QSTATE_ENABLED : 0) |
			       (q->halted ? MIGDEV_QSTATE_HALTED : 0) |
			       (active ? MIGDEV_QSTATE_ACTIVE : 0));
	r->ring_base = cpu_to_le64(q->ring_base);
	r->compl_base = cpu_to_le64(q->compl_base);
	r->ring_size = cpu_to_le32(q->ring_size);
	r->head = cpu_to_le32(q->head);
	r->tail = cpu_to_le32(q->tail);
	r->error = cpu_to_le32(q->error);
	r->completed = cpu_to_le64(q->completed);
	if (active) {
		r->done = cpu_to_le64(q->done);
		r->crc = cpu_to_le32(q->crc);
		r->desc = q->desc;
	}
}

/**
 * migdev_emul_save_state() - write the CONFIG, REGS, MSIX and QUEUE records
 * @e: device, stopped
 * @buf: migdev_emul_state_size() bytes
 * @minor: the stream's minor version (it picks the records' checksum; the
 *	clock latch goes in from 1.2, a pending ABORTED record from 1.3)
 *
 * Return: bytes written.
 */
size_t migdev_emul_save_state(struct migdev_emul *e, void *buf, u16 minor)
{
	struct migdev_rec_queue rq;
	struct migdev_rec_regs regs = {};
	struct migdev_rec_msix msix = {};
	size_t n = 0;
	unsigned int i;

	migdev_emul_lock(e);
	n += migdev_stream_put_record(buf + n, minor, MIGDEV_TAG_CONFIG, 0,
				      e->cfg.space, PCI_CFG_SPACE_SIZE);

	regs.scratch = cpu_to_le64(e->scratch);
	regs.clock = cpu_to_le64(migdev_emul_clock(e));
	regs.int_status = cpu_to_le32(e->int_status);
	regs.error_status = cpu_to_le32(e->error_status);
	regs.error_info = cpu_to_le32(e->error_info);
	regs.error_count = cpu_to_le32(e->error_count);
	regs.rr = cpu_to_le32(e->rr);
	if (minor >= 2)
		regs.clock_latch = cpu_to_le64(e->clock_latch);
	n += migdev_stream_put_record(buf + n, minor, MIGDEV_TAG_REGS, 0,
				      &regs, sizeof(regs));

	memcpy(msix.table, e->msix_table, sizeof(msix.table));
	/* The host keeps the pending bits, as it sends the edges. */
	msix.pending = cpu_to_le64(e->host->msix_pending(e->host_priv));
	n += migdev_stream_put_record(buf + n, minor, MIGDEV_TAG_MSIX, 0,
				      &msix, sizeof(msix));

	for (i = 0; i < e->geom.nr_queues; i++) {
		migdev_emul_save_queue(&e->queues[i], i, &rq, minor);
		n += migdev_stream_put_record(buf + n, minor, MIGDEV_TAG_QUEUE, 0,
					      &rq, sizeof(rq));
	}
	mutex_unlock(&e->lock);
	return n;
}

/* The device takes a decoded stream's registers; the MSI-X pending bits. */
static u64 migdev_emul_load_state(struct migdev_emul *e,
				  const struct migdev_stream_dec *dec)
{
	unsigned int i;

	migdev_emul_lock(e);
	migdev_engine_reset_locked(e);
	memcpy(e->cfg.space, dec->config, PCI_CFG_SPACE_SIZE);
	memcpy(e->msix_table, dec->msix.table, sizeof(e->msix_table));

	e->scratch = le64_to_cpu(dec->regs.scratch);
	e->clock_frozen_val = le64_to_cpu(dec->regs.clock);
	e->clock_frozen = true;
	/* Before 1.2 the latch did not travel: the clock at the stop. */
	e->clock_latch = dec->minor >= 2 ? le64_to_cpu(dec->regs.clock_latch) :
					   e->clock_frozen_val;
	e->int_status = le32_to_cpu(dec->regs.int_status);
	e->error_status = le32_to_cpu(dec->regs.error_status);
	e->error_info = le32_to_cpu(dec->regs.error_info);
	e->error_count = le32_to_cpu(dec->regs.error_count);
	e->rr = le32_to_cpu(dec->regs.rr);

	for (i = 0; i < e->geom.nr_queues; i++) {
		const struct migdev_rec_queue *r = &dec->queues[i];
		struct migdev_queue *q = &e->queues[i];
		u32 st = le32_to_cpu(r->state);

		q->enabled = st & MIGDEV_QSTATE_ENABLED;
		q->halted = st & MIGDEV_QSTATE_HALTED;
		q->active = st & MIGDEV_QSTATE_ACTIVE;
		q->ring_base = le64_to_cpu(r->ring_base);
		q->compl_base = le64_to_cpu(r->compl_base);
		q->ring_size = le32_to_cpu(r->ring_size);
		q->head = le32_to_cpu(r->head);
		q->tail = le32_to_cpu(r->tail);
		q->error = le32_to_cpu(r->error);
		q->completed = le64_to_cpu(r->completed);
		q->desc = r->desc;
		q->done = le64_to_cpu(r->done);
		q->crc = le32_to_cpu(r->crc);
	}
	/* INTx follows INT_STATUS again once the device runs. */
	e->intx_level = false;
	migdev_cfg_set_intx_status(&e->cfg, !!e->int_status);
	mutex_unlock(&e->lock);
	return le64_to_cpu(dec->msix.pending);
}

/**
 * migdev_emul_apply_state() - the device becomes what a stream carried
 * @e: device, stopped (its clock frozen)
 * @dec: a decoder that finished without error
 * @staged: the device memory the stream carried (emptied)
 *
 * Device memory, registers and queues, and the MSI-X pending bits the
 * host keeps, all from one stream; nothing here can fail.
 */
void migdev_emul_apply_state(struct migdev_emul *e,
			     const struct migdev_stream_dec *dec,
			     struct migdev_devmem *staged)
{
	migdev_devmem_replace(&e->devmem, staged);
	e->host->msix_set_pending(e->host_priv, migdev_emul_load_state(e, dec));
}

/**
 * migdev_emul_run() - the device runs again: interrupts it holds fire
 * @e: device
 *
 * Called when migration hands the device back to its user: INTx is
 * asserted again if a cause is set, and the engine continues.
 */
void migdev_emul_run(struct migdev_emul *e)
{
	migdev_emul_thaw_clock(e);
	migdev_emul_lock(e);
	migdev_intr_update_locked(e);
	mutex_unlock(&e->lock);
	migdev_engine_resume(e);
}
