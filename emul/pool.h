/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * migdev: the parent's execution engines, shared by its instances.
 */
#ifndef MIGDEV_EMUL_POOL_H
#define MIGDEV_EMUL_POOL_H

#include <linux/atomic.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>

struct task_struct;

/* A step that has not returned after this long is stalled on user memory. */
#define MIGDEV_POOL_STALL_MS	500

/**
 * struct migdev_pool_slot - one instance's turn on an engine
 * @state: MIGDEV_SLOT_IDLE, _RUNNING (a step executes) or _STALLED (it
 *	   executes and the pool stopped counting it as an engine)
 * @since: jiffies when the step began
 * @node: in the pool's @slots
 * @owner: who the instance's user is (its mm, compared only), or NULL
 * @task_lock: protects @task
 * @task: the kworker running the step, which takes SIGKILL meanwhile
 *	  (migdev_pool_abort()), or NULL
 */
struct migdev_pool_slot {
	atomic_t state;
	unsigned long since;
	struct list_head node;
	const void *owner;
	spinlock_t task_lock; /* protects task */
	struct task_struct *task;
};

enum {
	MIGDEV_SLOT_IDLE,
	MIGDEV_SLOT_RUNNING,
	MIGDEV_SLOT_STALLED,
};

/**
 * struct migdev_pool - a parent's execution engines
 * @wq: unbound workqueue whose max_active is the number of engines plus
 *	the stalled steps; each instance with work queues one work item,
 *	which runs one chunk and queues itself again at the tail, so
 *	instances take turns
 * @engines: how many chunks can run at once
 * @lock: protects @slots, @stalled and changes of @wq's max_active
 * @slots: the slots of the instances, for @watchdog
 * @stalled: steps the pool no longer counts against @engines
 * @watchdog: looks for stalled steps while any step runs
 */
struct migdev_pool {
	struct workqueue_struct *wq;
	unsigned int engines;
	struct mutex lock; /* protects slots, stalled, max_active */
	struct list_head slots;
	unsigned int stalled;
	struct delayed_work watchdog;
};

int migdev_pool_init(struct migdev_pool *pool, const char *name,
		     unsigned int engines);
void migdev_pool_fini(struct migdev_pool *pool);
void migdev_pool_add(struct migdev_pool *pool, struct migdev_pool_slot *slot);
void migdev_pool_del(struct migdev_pool *pool, struct migdev_pool_slot *slot);
void migdev_pool_step_begin(struct migdev_pool *pool,
			    struct migdev_pool_slot *slot);
void migdev_pool_step_end(struct migdev_pool *pool,
			  struct migdev_pool_slot *slot);
void migdev_pool_abort(struct migdev_pool *pool, struct migdev_pool_slot *slot,
		       bool others);

#endif /* MIGDEV_EMUL_POOL_H */
