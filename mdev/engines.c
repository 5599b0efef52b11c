// SPDX-License-Identifier: GPL-2.0-only
/*
 * migdev: the parent's execution engines.
 *
 * The "backing hardware" of a parent is a fixed number of engines that all
 * its instances share.  An engine is a token: an instance's worker (its
 * user's thread, worker.c) takes one to execute one chunk (at most
 * MIGDEV_CHUNK bytes of one descriptor) and gives it back at once.  Turns
 * wait first come, first served, and a worker that wants another chunk
 * goes to the back: a 1 GiB descriptor on one instance takes turns with
 * everybody else.
 *
 * A chunk moves the user's memory, which may take for ever (a FUSE- or
 * userfaultfd-backed buffer that nobody serves); only the user's own
 * worker waits for it, but it would hold its engine, and enough such users
 * would stall the parent.  So a turn that has held its engine for
 * MIGDEV_ENGINES_STALL_MS stops counting as one until it gives it back:
 * the next waiter gets an engine.  Nothing here touches user memory or
 * sleeps; the watchdog is a timer's work item.
 */
#include <linux/jiffies.h>
#include <linux/workqueue.h>

#include "engines.h"
#include "migdev_compat.h"

/* Hand engines to waiters while any are free. */
static void migdev_engines_grant_locked(struct migdev_engines *eng)
{
	struct migdev_engine_turn *t;

	lockdep_assert_held(&eng->lock);
	while (eng->busy - eng->stalled < eng->nr && !list_empty(&eng->waiters)) {
		t = list_first_entry(&eng->waiters, struct migdev_engine_turn, node);
		list_move_tail(&t->node, &eng->held);
		eng->busy++;
		t->state = MIGDEV_TURN_GRANTED;
		t->since = jiffies;
		t->wake(t);
	}
}

/* The watchdog looks again while any turn holds an engine. */
static void migdev_engines_arm_locked(struct migdev_engines *eng)
{
	if (!list_empty(&eng->held))
		queue_delayed_work(migdev_system_wq, &eng->watchdog,
				   msecs_to_jiffies(MIGDEV_ENGINES_STALL_MS));
}

static void migdev_engines_watchdog(struct work_struct *work)
{
	struct migdev_engines *eng = container_of(to_delayed_work(work),
						  struct migdev_engines, watchdog);
	unsigned long stall = msecs_to_jiffies(MIGDEV_ENGINES_STALL_MS);
	struct migdev_engine_turn *t;

	spin_lock(&eng->lock);
	list_for_each_entry(t, &eng->held, node) {
		if (t->stalled || t->state != MIGDEV_TURN_HOLDING ||
		    time_before(jiffies, t->since + stall))
			continue;
		t->stalled = true;
		eng->stalled++;
	}
	migdev_engines_grant_locked(eng);
	migdev_engines_arm_locked(eng);
	spin_unlock(&eng->lock);
}

/**
 * migdev_engines_init() - a parent's engines, all free
 * @eng: engines
 * @nr: how many chunks may execute at once, at least 1
 */
void migdev_engines_init(struct migdev_engines *eng, unsigned int nr)
{
	spin_lock_init(&eng->lock);
	eng->nr = nr;
	eng->busy = 0;
	eng->stalled = 0;
	INIT_LIST_HEAD(&eng->waiters);
	INIT_LIST_HEAD(&eng->held);
	INIT_DELAYED_WORK(&eng->watchdog, migdev_engines_watchdog);
}

/**
 * migdev_engines_fini() - no instance uses the engines any more
 * @eng: engines
 */
void migdev_engines_fini(struct migdev_engines *eng)
{
	cancel_delayed_work_sync(&eng->watchdog);
	WARN_ON(eng->busy || !list_empty(&eng->waiters));
}

/**
 * migdev_engine_turn_init() - an instance's place at the engines
 * @turn: turn
 * @wake: wakes the instance's worker when an engine is handed to it
 */
void migdev_engine_turn_init(struct migdev_engine_turn *turn,
			     void (*wake)(struct migdev_engine_turn *turn))
{
	INIT_LIST_HEAD(&turn->node);
	turn->state = MIGDEV_TURN_IDLE;
	turn->stalled = false;
	turn->wake = wake;
}

/**
 * migdev_engines_get() - take an engine, or wait in line for one
 * @eng: engines
 * @turn: the instance's turn
 *
 * Never sleeps.  Return: true if @turn holds an engine now (give it back
 * with migdev_engines_put()); false if it waits in line, and @turn's
 * wake() will be called when an engine is handed to it (then call again).
 */
bool migdev_engines_get(struct migdev_engines *eng,
			struct migdev_engine_turn *turn)
{
	bool got = false;

	spin_lock(&eng->lock);
	switch (turn->state) {
	case MIGDEV_TURN_GRANTED:
		got = true;
		break;
	case MIGDEV_TURN_IDLE:
		if (eng->busy - eng->stalled < eng->nr && list_empty(&eng->waiters)) {
			list_add_tail(&turn->node, &eng->held);
			eng->busy++;
			got = true;
		} else {
			list_add_tail(&turn->node, &eng->waiters);
			turn->state = MIGDEV_TURN_WAITING;
		}
		break;
	default:
		break;
	}
	if (got) {
		turn->state = MIGDEV_TURN_HOLDING;
		turn->since = jiffies;
		migdev_engines_arm_locked(eng);
	}
	spin_unlock(&eng->lock);
	return got;
}

static void migdev_engines_release_locked(struct migdev_engines *eng,
					  struct migdev_engine_turn *turn)
{
	lockdep_assert_held(&eng->lock);
	switch (turn->state) {
	case MIGDEV_TURN_WAITING:
		list_del_init(&turn->node);
		break;
	case MIGDEV_TURN_GRANTED:
	case MIGDEV_TURN_HOLDING:
		list_del_init(&turn->node);
		eng->busy--;
		if (turn->stalled)
			eng->stalled--;
		break;
	default:
		break;
	}
	turn->stalled = false;
	turn->state = MIGDEV_TURN_IDLE;
	migdev_engines_grant_locked(eng);
}

/**
 * migdev_engines_put() - give back the engine @turn holds, or leave the
 * line: after a chunk, and when the instance's worker is gone
 * @eng: engines
 * @turn: the instance's turn, in any state
 *
 * The next in line gets the engine.
 */
void migdev_engines_put(struct migdev_engines *eng,
			struct migdev_engine_turn *turn)
{
	spin_lock(&eng->lock);
	migdev_engines_release_locked(eng, turn);
	spin_unlock(&eng->lock);
}
