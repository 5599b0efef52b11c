/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * migdev: an instance's fixed shape (pure: the stream codec uses it too).
 */
#ifndef MIGDEV_EMUL_GEOM_H
#define MIGDEV_EMUL_GEOM_H

#include <linux/types.h>
#include <uapi/linux/migdev.h>

/* One vector per queue, and one that reports errors. */
#define MIGDEV_MAX_VECTORS	(MIGDEV_MAX_QUEUES + 1)

/**
 * struct migdev_geom - what an instance's type fixes for its lifetime
 * @type_id: enum migdev_type_id
 * @nr_queues: DMA queues, 1..MIGDEV_MAX_QUEUES
 * @devmem_size: bytes of device memory (BAR2), a power of two
 */
struct migdev_geom {
	u32 type_id;
	u32 nr_queues;
	u64 devmem_size;
};

static inline unsigned int migdev_geom_nr_vectors(const struct migdev_geom *g)
{
	return g->nr_queues + 1;
}

#endif /* MIGDEV_EMUL_GEOM_H */
