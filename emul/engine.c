// SPDX-License-Identifier: GPL-2.0-only
/*
 * migdev: the DMA engine: queue registers, descriptor validation and
 * execution, completions.
 *
 * Execution happens in steps (one chunk of at most MIGDEV_CHUNK bytes, or
 * one fetch), each in two calls from the host after a kick (host.h), in a
 * context of its choosing (the device's user's: mdev/worker.c):
 *
 * - migdev_engine_prepare() works out, under the device lock, which guest
 *   memory the next step will touch (its plan: the descriptor or the
 *   chunk's source and destination, and the completion record of every
 *   descriptor in flight), drops the lock, and has the host prepare it
 *   (pin it).  That may wait for the user's memory as long as the user
 *   likes; nothing is held.
 * - migdev_engine_step() takes the lock again and executes the step, if
 *   its plan is the one prepared or all of it is ready: it then only
 *   copies to and from memory that is there, and never waits for the
 *   user.  If the work changed meanwhile (a reset, a disable, an unmap),
 *   it does nothing, and the host prepares again.
 *
 * So no path that holds the device lock waits for user memory: not a
 * step, and not a register write that aborts a descriptor (its completion
 * record is in every plan while it is in flight).  Everything needed to
 * continue a descriptor (the descriptor as fetched, bytes done, the
 * running checksum) is in struct migdev_queue, so between two steps the
 * device is quiescent and its state complete: that is what pausing for
 * migration relies on.
 */
#include <linux/lockdep.h>
#include <linux/minmax.h>
#include <linux/string.h>
#include <linux/wait.h>

#include "migdev_compat.h"
#include "desc.h"
#include "device.h"

static bool migdev_dma_allowed(struct migdev_emul *e)
{
	return migdev_cfg_command(&e->cfg) & PCI_COMMAND_MASTER;
}

/* Disabled with a descriptor in flight: its ABORTED record is due. */
static bool migdev_queue_aborting(const struct migdev_queue *q)
{
	return !q->enabled && q->active;
}

static bool migdev_queue_runnable(struct migdev_queue *q)
{
	return migdev_queue_aborting(q) ||
	       (q->enabled && !q->halted && (q->active || q->head != q->tail));
}

static bool migdev_engine_runnable_locked(struct migdev_emul *e)
{
	unsigned int i;

	lockdep_assert_held(&e->lock);
	if (READ_ONCE(e->paused) || !migdev_dma_allowed(e))
		return false;
	for (i = 0; i < e->geom.nr_queues; i++)
		if (migdev_queue_runnable(&e->queues[i]))
			return true;
	return false;
}

/**
 * migdev_engine_kick_locked() - queue the instance for an engine if it
 * has work
 * @e: device, locked
 */
void migdev_engine_kick_locked(struct migdev_emul *e)
{
	if (migdev_engine_runnable_locked(e))
		e->host->kick(e->host_priv);
}

/**
 * migdev_engine_command_locked() - the command register was written
 * @e: device, locked
 *
 * With bus mastering off the device drops the ABORTED records still due,
 * as it writes none for a queue disabled then (a driver that turns bus
 * mastering off has stopped waiting for them, and may reuse the memory);
 * with it on, the engine goes on.
 */
void migdev_engine_command_locked(struct migdev_emul *e)
{
	unsigned int i;

	lockdep_assert_held(&e->lock);
	if (migdev_dma_allowed(e)) {
		migdev_engine_kick_locked(e);
		return;
	}
	for (i = 0; i < e->geom.nr_queues; i++)
		if (migdev_queue_aborting(&e->queues[i]))
			e->queues[i].active = false;
}

/* A queue error: record it, halt the queue, raise the error interrupt. */
static void migdev_queue_halt(struct migdev_emul *e, unsigned int qi,
			      u32 code)
{
	struct migdev_queue *q = &e->queues[qi];

	q->halted = true;
	q->active = false;
	q->error = code;
	migdev_intr_error_locked(e, qi, code);
}

/* Where the descriptor at HEAD is, and its completion record. */
static u64 migdev_queue_desc_at(const struct migdev_queue *q)
{
	return q->ring_base +
	       (u64)(q->head & (q->ring_size - 1)) * sizeof(struct migdev_desc);
}

static u64 migdev_queue_compl_at(const struct migdev_queue *q)
{
	return q->compl_base +
	       (u64)(q->head & (q->ring_size - 1)) * sizeof(struct migdev_completion);
}

/* Write the completion record of the descriptor at HEAD and retire it. */
static void migdev_queue_complete(struct migdev_emul *e, unsigned int qi,
				  u32 status, u64 result)
{
	struct migdev_queue *q = &e->queues[qi];
	u64 at = migdev_queue_compl_at(q);
	struct migdev_completion c = {
		.result = cpu_to_le64(result),
		.cookie = q->desc.cookie,
		.bytes = cpu_to_le64(q->done),
	};
	__le32 st = cpu_to_le32(status);
	bool irq = le16_to_cpu(q->desc.flags) & MIGDEV_DESC_F_IRQ;

	/* The status goes last: once it is set, the record is complete. */
	if (e->host->dma_write(e->host_priv, at + 8, (u8 *)&c + 8, sizeof(c) - 8) ||
	    e->host->dma_write(e->host_priv, at, &st, sizeof(st))) {
		migdev_queue_halt(e, qi, MIGDEV_ERR_COMPL_WRITE);
		return;
	}
	if (e->host->desc_done)
		e->host->desc_done(e->host_priv, qi, &q->desc, status, q->done);
	q->active = false;
	q->head++;
	q->completed++;
	if (status != MIGDEV_STATUS_OK) {
		q->error = status;
		migdev_intr_error_locked(e, qi, status);
	}
	if (irq)
		migdev_intr_queue_locked(e, qi);
}

/*
 * Write the ABORTED record of the descriptor in flight on disabled queue
 * @qi.  A queue that cannot write it records MIGDEV_ERR_COMPL_WRITE, but
 * does not halt: it is disabled, and enabling it starts afresh.
 */
static void migdev_queue_abort(struct migdev_emul *e, unsigned int qi)
{
	struct migdev_queue *q = &e->queues[qi];

	migdev_queue_complete(e, qi, MIGDEV_STATUS_ABORTED, 0);
	q->active = false;
	q->halted = false;
}

/* Fill @buf with the FILL pattern as it falls at byte @pos of the transfer. */
static void migdev_fill_pattern(void *buf, size_t n, __le64 pattern, u64 pos)
{
	const u8 *p = (const u8 *)&pattern;
	u8 *b = buf;
	size_t i;

	for (i = 0; i < 8 && i < n; i++)
		b[i] = p[(pos + i) % 8];
	for (; i < n; i++)
		b[i] = b[i - 8];
}

/* Guest memory worked on in place (host's dma_each), piece by piece. */
struct migdev_piece_ctx {
	struct migdev_emul *e;
	struct migdev_queue *q;
	u64 off;	/* device memory (TO_DEV, FROM_DEV), or FILL's position */
};

static int migdev_piece_fill(void *arg, void *p, size_t n)
{
	struct migdev_piece_ctx *c = arg;

	migdev_fill_pattern(p, n, c->q->desc.pattern, c->off);
	c->off += n;
	return 0;
}

static int migdev_piece_crc(void *arg, void *p, size_t n)
{
	struct migdev_piece_ctx *c = arg;

	c->q->crc = migdev_crc32c(c->q->crc, p, n);
	return 0;
}

static int migdev_piece_to_dev(void *arg, void *p, size_t n)
{
	struct migdev_piece_ctx *c = arg;
	int ret = migdev_devmem_write(&c->e->devmem, c->off, p, n);

	c->off += n;
	return ret;
}

static int migdev_piece_from_dev(void *arg, void *p, size_t n)
{
	struct migdev_piece_ctx *c = arg;

	migdev_devmem_read(&c->e->devmem, c->off, p, n);
	c->off += n;
	return 0;
}

/* Execute the next chunk of the descriptor in flight on queue @qi. */
static void migdev_queue_run_chunk(struct migdev_emul *e, unsigned int qi)
{
	struct migdev_queue *q = &e->queues[qi];
	const struct migdev_host_ops *h = e->host;
	void *hp = e->host_priv;
	u16 op = le16_to_cpu(q->desc.opcode);
	u64 len = le32_to_cpu(q->desc.len);
	u64 src = le64_to_cpu(q->desc.src) + q->done;
	u64 dst = le64_to_cpu(q->desc.dst) + q->done;
	size_t n = min_t(u64, len - q->done, MIGDEV_CHUNK);
	struct migdev_piece_ctx c = { .e = e, .q = q };
	void *buf = e->bounce;
	int ret = 0;

	switch (op) {
	case MIGDEV_OP_COPY:
		ret = h->dma_copy(hp, dst, src, n);
		if (ret != -EOPNOTSUPP)
			break;
		ret = h->dma_read(hp, src, buf, n);
		if (!ret)
			ret = h->dma_write(hp, dst, buf, n);
		break;
	case MIGDEV_OP_FILL:
		c.off = q->done;
		ret = h->dma_each(hp, dst, n, true, migdev_piece_fill, &c);
		if (ret != -EOPNOTSUPP)
			break;
		migdev_fill_pattern(buf, n, q->desc.pattern, q->done);
		ret = h->dma_write(hp, dst, buf, n);
		break;
	case MIGDEV_OP_CRC32C:
		ret = h->dma_each(hp, src, n, false, migdev_piece_crc, &c);
		if (ret != -EOPNOTSUPP)
			break;
		ret = h->dma_read(hp, src, buf, n);
		if (!ret)
			q->crc = migdev_crc32c(q->crc, buf, n);
		break;
	case MIGDEV_OP_TO_DEV:
		c.off = dst;
		ret = h->dma_each(hp, src, n, false, migdev_piece_to_dev, &c);
		if (ret != -EOPNOTSUPP)
			break;
		ret = h->dma_read(hp, src, buf, n);
		if (!ret)
			ret = migdev_devmem_write(&e->devmem, dst, buf, n);
		break;
	case MIGDEV_OP_FROM_DEV:
		c.off = src;
		ret = h->dma_each(hp, dst, n, true, migdev_piece_from_dev, &c);
		if (ret != -EOPNOTSUPP)
			break;
		migdev_devmem_read(&e->devmem, src, buf, n);
		ret = h->dma_write(hp, dst, buf, n);
		break;
	case MIGDEV_OP_DEV_CRC32C:
		migdev_devmem_read(&e->devmem, src, buf, n);
		q->crc = migdev_crc32c(q->crc, buf, n);
		break;
	}
	if (ret) {
		migdev_queue_complete(e, qi, ret == -ENOMEM ?
				      MIGDEV_STATUS_NO_MEMORY :
				      MIGDEV_STATUS_BAD_ADDRESS, 0);
		return;
	}
	q->done += n;
	if (q->done == len)
		migdev_queue_complete(e, qi, MIGDEV_STATUS_OK,
				      (op == MIGDEV_OP_CRC32C ||
				       op == MIGDEV_OP_DEV_CRC32C) ? ~q->crc : 0);
}

/* Fetch and check the descriptor at HEAD; it becomes the one in flight. */
static void migdev_queue_fetch(struct migdev_emul *e, unsigned int qi)
{
	struct migdev_queue *q = &e->queues[qi];
	u64 at = migdev_queue_desc_at(q);
	u32 status;

	if (e->host->dma_read(e->host_priv, at, &q->desc, sizeof(q->desc))) {
		migdev_queue_halt(e, qi, MIGDEV_ERR_RING_FETCH);
		return;
	}
	q->active = true;
	q->done = 0;
	q->crc = ~0U;
	if (e->host->desc_start)
		e->host->desc_start(e->host_priv, qi, &q->desc);
	status = migdev_desc_check(&q->desc, e->geom.devmem_size);
	if (status != MIGDEV_STATUS_OK ||
	    le16_to_cpu(q->desc.opcode) == MIGDEV_OP_NOP)
		migdev_queue_complete(e, qi, status, 0);
}

/* The queue the next step serves (round robin), or -1: none has work. */
static int migdev_engine_next_locked(struct migdev_emul *e)
{
	unsigned int i, nq = e->geom.nr_queues;

	for (i = 0; i < nq; i++) {
		unsigned int qi = (e->rr + i) % nq;

		if (migdev_queue_runnable(&e->queues[qi]))
			return qi;
	}
	return -1;
}

/* One step of the engine: one chunk (or one fetch) for one queue. */
static void migdev_engine_step_locked(struct migdev_emul *e)
{
	int qi = migdev_engine_next_locked(e);

	lockdep_assert_held(&e->lock);
	if (qi < 0)
		return;
	e->rr = (qi + 1) % e->geom.nr_queues;
	if (!e->queues[qi].active)
		migdev_queue_fetch(e, qi);
	else if (migdev_queue_aborting(&e->queues[qi]))
		migdev_queue_abort(e, qi);
	else
		migdev_queue_run_chunk(e, qi);
}

static void migdev_plan_add(struct migdev_dma_plan *p, u64 iova, u64 len,
			    bool write)
{
	if (len && p->n < MIGDEV_PLAN_MAX) {
		p->r[p->n].iova = iova;
		p->r[p->n].len = len;
		p->r[p->n].write = write;
		p->n++;
	}
}

/*
 * The guest memory the next step may touch: the completion record of
 * every descriptor in flight (a register write that disables its queue
 * writes ABORTED there, from the user's thread, under the lock, if it is
 * ready), and the next step's descriptor, or its chunk's source and
 * destination.  A step that writes a due ABORTED record needs that record
 * only.
 */
static void migdev_engine_plan_locked(struct migdev_emul *e,
				      struct migdev_dma_plan *p)
{
	const size_t csz = sizeof(struct migdev_completion);
	struct migdev_queue *q;
	u64 len, src, dst, n;
	unsigned int i;
	int qi;

	lockdep_assert_held(&e->lock);
	memset(p, 0, sizeof(*p));	/* compared whole, padding too */
	if (!migdev_engine_runnable_locked(e) || !e->bounce)
		return;
	qi = migdev_engine_next_locked(e);
	for (i = 0; i < e->geom.nr_queues; i++) {
		q = &e->queues[i];
		if (q->active)
			migdev_plan_add(p, migdev_queue_compl_at(q), csz, true);
	}
	q = &e->queues[qi];
	if (migdev_queue_aborting(q))
		return;
	if (!q->active) {
		migdev_plan_add(p, migdev_queue_desc_at(q),
				sizeof(struct migdev_desc), false);
		migdev_plan_add(p, migdev_queue_compl_at(q), csz, true);
		return;
	}
	len = le32_to_cpu(q->desc.len);
	src = le64_to_cpu(q->desc.src) + q->done;
	dst = le64_to_cpu(q->desc.dst) + q->done;
	n = min_t(u64, len - q->done, MIGDEV_CHUNK);
	switch (le16_to_cpu(q->desc.opcode)) {
	case MIGDEV_OP_COPY:
		migdev_plan_add(p, src, n, false);
		migdev_plan_add(p, dst, n, true);
		break;
	case MIGDEV_OP_CRC32C:
	case MIGDEV_OP_TO_DEV:
		migdev_plan_add(p, src, n, false);
		break;
	case MIGDEV_OP_FILL:
	case MIGDEV_OP_FROM_DEV:
		migdev_plan_add(p, dst, n, true);
		break;
	}
}

/* The lock for the engine: the device's users first, who wait for one step at most. */
static int migdev_engine_lock(struct migdev_emul *e)
{
	if (wait_event_killable(e->lock_wq, !atomic_read(&e->lock_waiters)) ||
	    mutex_lock_killable(&e->lock))
		return -EINTR;
	return 0;
}

/**
 * migdev_engine_prepare() - have the host prepare the guest memory of the
 * engine's next step
 * @e: device
 *
 * What the host calls after a kick, before migdev_engine_step(), holding
 * nothing: preparing may wait for the user's memory (the host pins it).
 *
 * Return: true if the engine has work (call migdev_engine_step() next),
 * false if not (or the caller was killed).
 */
bool migdev_engine_prepare(struct migdev_emul *e)
{
	struct migdev_dma_plan plan;

	if (migdev_engine_lock(e))
		return false;
	migdev_engine_plan_locked(e, &plan);
	e->plan = plan;
	mutex_unlock(&e->lock);
	if (!plan.n)
		return false;
	e->host->dma_prepare(e->host_priv, plan.r, plan.n);
	return true;
}

/**
 * migdev_engine_step() - execute one step of the engine, if it has work
 * @e: device
 *
 * After migdev_engine_prepare(), with one of the host's engines held.  The
 * step executes if all the memory it needs is ready, or if it needs what
 * was prepared (what could not be prepared is not mapped: the step fails
 * as the device would).  Otherwise the work changed since: nothing is
 * done, and the caller prepares again.  The device's lock is held for the
 * step, taken only once no user waits for it (migdev_emul_lock()); no
 * step waits for the user's memory.
 *
 * Return: true if the engine has more work (prepare and step again).
 */
bool migdev_engine_step(struct migdev_emul *e)
{
	struct migdev_dma_plan plan;
	bool more = false;

	if (migdev_engine_lock(e))
		return false;
	migdev_engine_plan_locked(e, &plan);
	if (!plan.n) {
		/* Nothing to do. */
	} else if (memcmp(&plan, &e->plan, sizeof(plan)) &&
		   !e->host->dma_ready(e->host_priv, plan.r, plan.n)) {
		more = true;	/* changed since it was prepared */
	} else {
		migdev_engine_step_locked(e);
		more = migdev_engine_runnable_locked(e);
	}
	mutex_unlock(&e->lock);
	return more;
}

/**
 * migdev_engine_reset_locked() - discard all work and clear the queues
 * @e: device, locked
 *
 * A step in execution holds the lock, so none is running; the next step
 * finds nothing to do.
 */
void migdev_engine_reset_locked(struct migdev_emul *e)
{
	lockdep_assert_held(&e->lock);
	memset(e->queues, 0, e->geom.nr_queues * sizeof(*e->queues));
	e->rr = 0;
}

static void migdev_queue_set_ctrl(struct migdev_emul *e, unsigned int qi,
				  u32 val)
{
	struct migdev_queue *q = &e->queues[qi];
	bool enable = val & MIGDEV_Q_CTRL_ENABLE;

	if (enable == q->enabled)
		return;
	if (!enable) {
		struct migdev_dma_range r = {
			.iova = migdev_queue_compl_at(q),
			.len = sizeof(struct migdev_completion),
			.write = true,
		};

		q->enabled = false;
		q->halted = false;
		if (!q->active)
			return;
		/*
		 * The descriptor in flight is aborted.  Its completion record
		 * is DMA: with bus mastering off the device writes none, and
		 * the descriptor goes without one.  Otherwise the record is
		 * written now if its memory is ready (it is in every step's
		 * plan, so it usually is), and else by the engine, which
		 * prepares it first: no register write waits for the user's
		 * memory.  Until then the queue stays BUSY, through a pause
		 * and a migration too (stream 1.3).
		 */
		if (!migdev_dma_allowed(e))
			q->active = false;
		else if (!READ_ONCE(e->paused) &&
			 e->host->dma_ready(e->host_priv, &r, 1))
			migdev_queue_abort(e, qi);
		else
			migdev_engine_kick_locked(e);
		return;
	}
	/* An ABORTED record still due is dropped: the ring starts afresh. */
	q->active = false;
	if (!migdev_ring_ok(q->ring_base, q->compl_base, q->ring_size)) {
		q->error = MIGDEV_ERR_RING_CONFIG;
		migdev_intr_error_locked(e, qi, MIGDEV_ERR_RING_CONFIG);
		return;
	}
	q->enabled = true;
	q->halted = false;
	q->head = 0;
	q->tail = 0;
	q->completed = 0;
	q->error = 0;
}

static void migdev_queue_set_tail(struct migdev_emul *e, unsigned int qi,
				  u32 val)
{
	struct migdev_queue *q = &e->queues[qi];

	if (!q->enabled || q->halted)
		return;
	if (val - q->head > q->ring_size) {
		migdev_queue_halt(e, qi, MIGDEV_ERR_RING_OVERRUN);
		return;
	}
	q->tail = val;
	migdev_engine_kick_locked(e);
}

/**
 * migdev_engine_read32_locked() - read a queue register
 * @e: device, locked
 * @qi: queue, below nr_queues
 * @reg: 4-byte aligned offset in the queue's block
 *
 * Return: the value; 0 where there is no register.
 */
u32 migdev_engine_read32_locked(struct migdev_emul *e, unsigned int qi,
				unsigned int reg)
{
	struct migdev_queue *q = &e->queues[qi];

	lockdep_assert_held(&e->lock);
	switch (reg) {
	case MIGDEV_Q_RING_BASE:
		return lower_32_bits(q->ring_base);
	case MIGDEV_Q_RING_BASE + 4:
		return upper_32_bits(q->ring_base);
	case MIGDEV_Q_RING_SIZE:
		return q->ring_size;
	case MIGDEV_Q_CTRL:
		return q->enabled ? MIGDEV_Q_CTRL_ENABLE : 0;
	case MIGDEV_Q_COMPL_BASE:
		return lower_32_bits(q->compl_base);
	case MIGDEV_Q_COMPL_BASE + 4:
		return upper_32_bits(q->compl_base);
	case MIGDEV_Q_TAIL:
		return q->tail;
	case MIGDEV_Q_HEAD:
		return q->head;
	case MIGDEV_Q_STATUS:
		return (q->enabled ? MIGDEV_Q_STATUS_ENABLED : 0) |
		       (q->active ? MIGDEV_Q_STATUS_BUSY : 0) |
		       (q->halted ? MIGDEV_Q_STATUS_HALTED : 0);
	case MIGDEV_Q_ERROR:
		return q->error;
	case MIGDEV_Q_COMPLETED:
		return lower_32_bits(q->completed);
	case MIGDEV_Q_COMPLETED + 4:
		return upper_32_bits(q->completed);
	}
	return 0;
}

/* A register that says where the ring and its completion area are. */
static bool migdev_queue_ring_reg(unsigned int reg)
{
	switch (reg) {
	case MIGDEV_Q_RING_BASE:
	case MIGDEV_Q_RING_BASE + 4:
	case MIGDEV_Q_RING_SIZE:
	case MIGDEV_Q_COMPL_BASE:
	case MIGDEV_Q_COMPL_BASE + 4:
		return true;
	}
	return false;
}

/**
 * migdev_engine_write32_locked() - write a queue register
 * @e: device, locked
 * @qi: queue, below nr_queues
 * @reg: 4-byte aligned offset in the queue's block
 * @val: value
 */
void migdev_engine_write32_locked(struct migdev_emul *e, unsigned int qi,
				  unsigned int reg, u32 val)
{
	struct migdev_queue *q = &e->queues[qi];

	lockdep_assert_held(&e->lock);
	/* The ring's location is fixed while the queue is enabled or busy. */
	if ((q->enabled || q->active) && migdev_queue_ring_reg(reg))
		return;

	switch (reg) {
	case MIGDEV_Q_RING_BASE:
		q->ring_base = (q->ring_base & GENMASK_ULL(63, 32)) | val;
		break;
	case MIGDEV_Q_RING_BASE + 4:
		q->ring_base = lower_32_bits(q->ring_base) | ((u64)val << 32);
		break;
	case MIGDEV_Q_RING_SIZE:
		q->ring_size = val;
		break;
	case MIGDEV_Q_CTRL:
		migdev_queue_set_ctrl(e, qi, val);
		break;
	case MIGDEV_Q_COMPL_BASE:
		q->compl_base = (q->compl_base & GENMASK_ULL(63, 32)) | val;
		break;
	case MIGDEV_Q_COMPL_BASE + 4:
		q->compl_base = lower_32_bits(q->compl_base) | ((u64)val << 32);
		break;
	case MIGDEV_Q_TAIL:
		migdev_queue_set_tail(e, qi, val);
		break;
	}
}

/**
 * migdev_engine_pause() - stop the engine between two chunks
 * @e: device
 *
 * Returns once no chunk of this device is executing; the descriptor in
 * flight keeps its progress in its queue and continues on resume.  Waits
 * for at most one chunk; other instances keep running.
 */
void migdev_engine_pause(struct migdev_emul *e)
{
	/*
	 * Raise the flag before queueing on the lock: a chunk that starts
	 * after this sees it and returns, so we wait for the chunk in
	 * execution only, not for every chunk that wins the lock before us.
	 */
	WRITE_ONCE(e->paused, true);
	migdev_emul_lock(e);
	mutex_unlock(&e->lock);
}

/* Resume, with the device's lock held, and let the lock go. */
static void migdev_engine_resume_unlock(struct migdev_emul *e)
{
	WRITE_ONCE(e->paused, false);
	/* What the device raised while held: INTx's level, MSI-X edges. */
	migdev_intr_update_locked(e);
	migdev_intr_release_locked(e);
	migdev_engine_kick_locked(e);
	mutex_unlock(&e->lock);
}

/**
 * migdev_engine_resume() - let a paused engine continue
 * @e: device
 */
void migdev_engine_resume(struct migdev_emul *e)
{
	migdev_emul_lock(e);
	migdev_engine_resume_unlock(e);
}

/**
 * migdev_engine_self_write() - the device writes its own memory, as a
 * GPU's rendering does, beside its DMA queues
 * @e: device
 * @off: byte offset in device memory
 * @buf: what to write
 * @len: bytes, within device memory
 *
 * Only while the engine runs, as a chunk would: after migdev_engine_pause()
 * returned (a quiesced, stopped or saved device), nothing is written, so
 * what the device holds at stop-copy is what it keeps.  The write marks
 * the pages dirty for migration.
 *
 * Return: 0, -EAGAIN if the engine is paused (nothing written), or the
 * error of the device-memory write (-ENOMEM past the user's memory limit).
 */
int migdev_engine_self_write(struct migdev_emul *e, u64 off, const void *buf,
			     size_t len)
{
	int ret = -EAGAIN;

	mutex_lock(&e->lock);
	if (!e->paused)
		ret = migdev_devmem_write(&e->devmem, off, buf, len);
	mutex_unlock(&e->lock);
	return ret;
}

/**
 * migdev_engine_paused() - whether a pause holds the engine off now
 * @e: device
 *
 * Without the lock, which a step holds: for reporting only.
 *
 * Return: the pause flag.
 */
bool migdev_engine_paused(struct migdev_emul *e)
{
	return READ_ONCE(e->paused);
}

/**
 * migdev_engine_pause_killable() - migdev_engine_pause() for a caller
 * that gives up when killed (debugfs: a chunk may wait for its user's
 * memory for as long as the user likes)
 * @e: device
 *
 * Return: 0 once no chunk executes, or -EINTR: killed first; the pause
 * holds from the next step on all the same.
 */
int migdev_engine_pause_killable(struct migdev_emul *e)
{
	WRITE_ONCE(e->paused, true);
	if (migdev_emul_lock_killable(e))
		return -EINTR;
	mutex_unlock(&e->lock);
	return 0;
}

/**
 * migdev_engine_resume_killable() - migdev_engine_resume() for a caller
 * that gives up when killed
 * @e: device
 *
 * Return: 0, or -EINTR: killed, and the engine is still paused.
 */
int migdev_engine_resume_killable(struct migdev_emul *e)
{
	if (migdev_emul_lock_killable(e))
		return -EINTR;
	migdev_engine_resume_unlock(e);
	return 0;
}
