/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * migdev: a parent's execution engines, a fair token that its instances'
 * workers hold while a chunk executes.
 */
#ifndef MIGDEV_ENGINES_H
#define MIGDEV_ENGINES_H

#include <linux/list.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>

/* A chunk that has held its engine this long no longer counts as one. */
#define MIGDEV_ENGINES_STALL_MS	500

enum migdev_turn_state {
	MIGDEV_TURN_IDLE,	/* holds no engine, waits for none */
	MIGDEV_TURN_WAITING,	/* in the queue for an engine */
	MIGDEV_TURN_GRANTED,	/* an engine was handed over, not yet taken */
	MIGDEV_TURN_HOLDING,	/* a chunk executes on the engine */
};

/**
 * struct migdev_engine_turn - one instance's place at the engines
 * @node: in the engines' @waiters or @held
 * @state: enum migdev_turn_state
 * @stalled: held past MIGDEV_ENGINES_STALL_MS: not counted as an engine
 * @since: jiffies when the engine was handed over
 * @wake: called (under the engines' lock) when an engine is handed over
 *	  to a waiting turn: wake its worker
 */
struct migdev_engine_turn {
	struct list_head node;
	enum migdev_turn_state state;
	bool stalled;
	unsigned long since;
	void (*wake)(struct migdev_engine_turn *turn);
};

/**
 * struct migdev_engines - a parent's engines
 * @lock: protects everything below
 * @nr: how many chunks may execute at once
 * @busy: engines handed over (granted or held), stalled ones included
 * @stalled: turns among @held that stopped counting
 * @waiters: turns waiting, first come first served
 * @held: turns granted or holding
 * @watchdog: marks stalled turns while any is held
 */
struct migdev_engines {
	spinlock_t lock; /* protects the counts and lists */
	unsigned int nr;
	unsigned int busy;
	unsigned int stalled;
	struct list_head waiters;
	struct list_head held;
	struct delayed_work watchdog;
};

void migdev_engines_init(struct migdev_engines *eng, unsigned int nr);
void migdev_engines_fini(struct migdev_engines *eng);
void migdev_engine_turn_init(struct migdev_engine_turn *turn,
			     void (*wake)(struct migdev_engine_turn *turn));
bool migdev_engines_get(struct migdev_engines *eng,
			struct migdev_engine_turn *turn);
void migdev_engines_put(struct migdev_engines *eng,
			struct migdev_engine_turn *turn);

#endif /* MIGDEV_ENGINES_H */
