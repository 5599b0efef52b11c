/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * migdev: the parent's execution engines, shared by its instances.
 */
#ifndef MIGDEV_EMUL_POOL_H
#define MIGDEV_EMUL_POOL_H

struct workqueue_struct;

/**
 * struct migdev_pool - a parent's execution engines
 * @wq: unbound workqueue whose max_active is the number of engines; each
 *	instance with work queues one work item, which runs one chunk and
 *	queues itself again at the tail, so instances take turns
 * @engines: how many chunks can run at once
 */
struct migdev_pool {
	struct workqueue_struct *wq;
	unsigned int engines;
};

int migdev_pool_init(struct migdev_pool *pool, const char *name,
		     unsigned int engines);
void migdev_pool_fini(struct migdev_pool *pool);

#endif /* MIGDEV_EMUL_POOL_H */
