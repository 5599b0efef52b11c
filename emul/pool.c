// SPDX-License-Identifier: GPL-2.0-only
/*
 * migdev: the parent's execution engines.
 *
 * The "backing hardware" of a parent is a fixed number of engines that all
 * its instances share.  An engine is a slot of an unbound workqueue whose
 * max_active is the engine count.  An instance with work queues its one
 * work item; the item executes at most one chunk (MIGDEV_CHUNK bytes) of
 * one descriptor and, if work is left, queues itself again at the tail.
 * So a 1 GiB descriptor on one instance takes turns with everybody else,
 * and pausing an instance waits for one chunk at most.
 *
 * A chunk reads and writes the user's memory, and a user's memory may
 * take for ever (a FUSE- or userfaultfd-backed buffer that nobody
 * serves).  Such a chunk holds its engine, and enough of them would stall
 * every instance of the parent.  So the pool watches the steps that run:
 * one that has not returned after MIGDEV_POOL_STALL_MS no longer counts as
 * an engine (the workqueue's max_active goes up by one) until it returns.
 * The instance whose memory stalls waits; the others keep their engines.
 *
 * And the instance's user must still be able to let go: close the device,
 * reset it, or die.  All of those need the instance's lock, which the
 * stalled chunk holds, and a user that dies while its chunk waits for its
 * own userfaultfd would wait for ever (the userfaultfd is released only
 * once the user has exited).  So a step runs with SIGKILL allowed on its
 * kworker, and migdev_pool_abort() sends it one: the access to user memory
 * that waits (a userfaultfd or FUSE fault: both wait killably) fails, the
 * descriptor fails as on a bus error, and the lock comes free.  The signal
 * is only ever pending inside a step: step_end() ignores and flushes it
 * before the kworker runs anything else.
 */
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/signal.h>
#include <linux/jiffies.h>
#include <linux/minmax.h>
#include <linux/workqueue.h>

#include "pool.h"

static void migdev_pool_set_active_locked(struct migdev_pool *pool)
{
	lockdep_assert_held(&pool->lock);
	workqueue_set_max_active(pool->wq, min_t(unsigned int, WQ_MAX_ACTIVE,
						 pool->engines + pool->stalled));
}

static void migdev_pool_watchdog(struct work_struct *work)
{
	struct migdev_pool *pool = container_of(to_delayed_work(work),
						struct migdev_pool, watchdog);
	unsigned long stall = msecs_to_jiffies(MIGDEV_POOL_STALL_MS);
	struct migdev_pool_slot *slot;
	bool busy = false, changed = false;

	mutex_lock(&pool->lock);
	list_for_each_entry(slot, &pool->slots, node) {
		if (atomic_read(&slot->state) != MIGDEV_SLOT_RUNNING)
			continue;
		busy = true;
		if (time_before(jiffies, READ_ONCE(slot->since) + stall))
			continue;
		/* The step's end decrements only if this cmpxchg won. */
		if (atomic_cmpxchg(&slot->state, MIGDEV_SLOT_RUNNING,
				   MIGDEV_SLOT_STALLED) == MIGDEV_SLOT_RUNNING) {
			pool->stalled++;
			changed = true;
		}
	}
	if (changed)
		migdev_pool_set_active_locked(pool);
	if (busy)
		queue_delayed_work(system_wq, &pool->watchdog, stall);
	mutex_unlock(&pool->lock);
}

/**
 * migdev_pool_init() - create a parent's engines
 * @pool: pool
 * @name: workqueue name
 * @engines: number of engines (concurrent chunks), at least 1
 *
 * Return: 0 or -ENOMEM.
 */
int migdev_pool_init(struct migdev_pool *pool, const char *name,
		     unsigned int engines)
{
	pool->engines = engines;
	pool->stalled = 0;
	mutex_init(&pool->lock);
	INIT_LIST_HEAD(&pool->slots);
	INIT_DELAYED_WORK(&pool->watchdog, migdev_pool_watchdog);
	pool->wq = alloc_workqueue("%s", WQ_UNBOUND | WQ_SYSFS, engines, name);
	if (!pool->wq) {
		mutex_destroy(&pool->lock);
		return -ENOMEM;
	}
	return 0;
}

/**
 * migdev_pool_add() - a new instance takes its turns on the engines
 * @pool: pool
 * @slot: the instance's slot
 */
void migdev_pool_add(struct migdev_pool *pool, struct migdev_pool_slot *slot)
{
	atomic_set(&slot->state, MIGDEV_SLOT_IDLE);
	spin_lock_init(&slot->task_lock);
	slot->task = NULL;
	mutex_lock(&pool->lock);
	list_add_tail(&slot->node, &pool->slots);
	mutex_unlock(&pool->lock);
}

/**
 * migdev_pool_del() - an instance goes; it runs no step any more
 * @pool: pool
 * @slot: the instance's slot
 */
void migdev_pool_del(struct migdev_pool *pool, struct migdev_pool_slot *slot)
{
	mutex_lock(&pool->lock);
	list_del(&slot->node);
	mutex_unlock(&pool->lock);
}

/**
 * migdev_pool_step_begin() - an instance's step starts on an engine
 * @pool: pool
 * @slot: the instance's slot
 */
void migdev_pool_step_begin(struct migdev_pool *pool,
			    struct migdev_pool_slot *slot)
{
	allow_signal(SIGKILL);
	spin_lock(&slot->task_lock);
	slot->task = current;
	spin_unlock(&slot->task_lock);
	WRITE_ONCE(slot->since, jiffies);
	atomic_set(&slot->state, MIGDEV_SLOT_RUNNING);
	if (!delayed_work_pending(&pool->watchdog))
		queue_delayed_work(system_wq, &pool->watchdog,
				   msecs_to_jiffies(MIGDEV_POOL_STALL_MS));
}

/**
 * migdev_pool_step_end() - the step returned; a stalled one counts again
 * @pool: pool
 * @slot: the instance's slot
 */
void migdev_pool_step_end(struct migdev_pool *pool,
			  struct migdev_pool_slot *slot)
{
	spin_lock(&slot->task_lock);
	slot->task = NULL;
	spin_unlock(&slot->task_lock);
	/* Ignored again, and flushed if an abort came. */
	disallow_signal(SIGKILL);
	if (atomic_xchg(&slot->state, MIGDEV_SLOT_IDLE) != MIGDEV_SLOT_STALLED)
		return;
	mutex_lock(&pool->lock);
	pool->stalled--;
	migdev_pool_set_active_locked(pool);
	mutex_unlock(&pool->lock);
}

/**
 * migdev_pool_fini() - destroy the engines; no instance may use them
 * @pool: pool
 */
void migdev_pool_fini(struct migdev_pool *pool)
{
	cancel_delayed_work_sync(&pool->watchdog);
	destroy_workqueue(pool->wq);
	mutex_destroy(&pool->lock);
}

static void migdev_pool_kill_step(struct migdev_pool_slot *slot)
{
	spin_lock(&slot->task_lock);
	if (slot->task)
		send_sig(SIGKILL, slot->task, 1);
	spin_unlock(&slot->task_lock);
}

/**
 * migdev_pool_abort() - the user lets go: a step of its stuck on its
 * memory must end now
 * @pool: pool
 * @slot: the instance's slot
 * @others: also the stalled steps of the user's other instances: one of
 *	    them may hold what this step waits for (the container's lock,
 *	    in vfio_dma_rw())
 *
 * Aborts the instance's step if one runs.  Steps of other users, and the
 * user's steps that are not stalled, run on.
 */
void migdev_pool_abort(struct migdev_pool *pool, struct migdev_pool_slot *slot,
		       bool others)
{
	struct migdev_pool_slot *s;

	migdev_pool_kill_step(slot);
	if (!others || !slot->owner)
		return;
	mutex_lock(&pool->lock);
	list_for_each_entry(s, &pool->slots, node)
		if (s != slot && s->owner == slot->owner &&
		    atomic_read(&s->state) == MIGDEV_SLOT_STALLED)
			migdev_pool_kill_step(s);
	mutex_unlock(&pool->lock);
}
