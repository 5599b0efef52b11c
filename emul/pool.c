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
 */
#include <linux/workqueue.h>

#include "pool.h"

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
	pool->wq = alloc_workqueue("%s", WQ_UNBOUND | WQ_SYSFS, engines, name);
	return pool->wq ? 0 : -ENOMEM;
}

/**
 * migdev_pool_fini() - destroy the engines; no instance may use them
 * @pool: pool
 */
void migdev_pool_fini(struct migdev_pool *pool)
{
	destroy_workqueue(pool->wq);
}
