// SPDX-License-Identifier: GPL-2.0-only
/*
 * migdev: DMA logging (VFIO_DEVICE_FEATURE_DMA_LOGGING_*): the device
 * reports which guest pages it wrote, for VMMs that ask devices rather
 * than the IOMMU.
 *
 * Only where the kernel has CONFIG_IOMMUFD_DRIVER: elsewhere the
 * iova_bitmap helpers are stubs, every report would fail, and QEMU would
 * abort the migration; without log_ops, QEMU falls back to the type1
 * container's dirty bitmap (with enable-migration=on), which is exact for
 * this device because it writes guest memory only through vfio_dma_rw().
 *
 * Every guest write the engine makes goes through migdev_dma_log_record(),
 * which marks the pages in the ranges the user asked to track.  It runs in
 * the engine's step, so it takes no lock a user can hold for long: a
 * report may fault on the user's bitmap (iova_bitmap_set() pins more of it
 * when a tracked page crosses the window the core pinned) under dma_log.lock.
 * The device reads the log under RCU and sets its bits atomically; a
 * report clears them atomically; a stop frees the log after a grace
 * period.
 */
#include <linux/bitmap.h>
#include <linux/interval_tree.h>
#include <linux/iova_bitmap.h>
#include <linux/log2.h>
#include <linux/module.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>

#include "migdev.h"

#if IS_ENABLED(CONFIG_IOMMUFD_DRIVER)

/* iova_bitmap_set() is in the IOMMUFD namespace. */
MODULE_IMPORT_NS(IOMMUFD);

/* Tracking more than this many pages at once is refused. */
#define MIGDEV_LOG_MAX_PAGES	(16UL << 20)
/* The largest tracking page size taken: a 1 GiB huge page. */
#define MIGDEV_LOG_MAX_PGSIZE	BIT_ULL(30)

struct migdev_log_range {
	u64 start;
	u64 last;
	unsigned long *bits;
};

/**
 * struct migdev_dma_log - pages written, per tracked range
 * @rcu: for freeing after the device's last look
 * @shift: log2 of the tracking page size
 * @nr: ranges
 * @r: the ranges, sorted, not overlapping (vfio core checks); their bits
 *     are set and cleared atomically
 */
struct migdev_dma_log {
	struct rcu_head rcu;
	unsigned int shift;
	u32 nr;
	struct migdev_log_range r[] __counted_by(nr);
};

static void migdev_dma_log_free(struct migdev_dma_log *log)
{
	u32 i;

	if (!log)
		return;
	for (i = 0; i < log->nr; i++)
		bitmap_free(log->r[i].bits);
	kfree(log);
}

static void migdev_dma_log_free_rcu(struct rcu_head *rcu)
{
	migdev_dma_log_free(container_of(rcu, struct migdev_dma_log, rcu));
}

/* The log, for its user's paths, which hold dma_log.lock. */
static struct migdev_dma_log *migdev_dma_log_locked(struct migdev_device *mvdev)
{
	return rcu_dereference_protected(mvdev->dma_log.log,
					 lockdep_is_held(&mvdev->dma_log.lock));
}

static int migdev_dma_log_start(struct vfio_device *vdev,
				struct rb_root_cached *ranges, u32 nnodes,
				u64 *page_size)
{
	struct migdev_device *mvdev = vdev_to_migdev(vdev);
	struct interval_tree_node *node;
	struct migdev_dma_log *log;
	u64 pgsize = *page_size, pages = 0;
	u32 i = 0;
	int ret;

	/*
	 * The size is the user's: a power of two up to 1 GiB, and below
	 * PAGE_SIZE the device tracks whole pages (the uAPI lets it pick).
	 */
	if (!is_power_of_2(pgsize) || pgsize > MIGDEV_LOG_MAX_PGSIZE) {
		migdev_user_warn(mvdev,
				 "DMA logging refused: page size 0x%llx is not a power of two up to 0x%llx\n",
				 pgsize, MIGDEV_LOG_MAX_PGSIZE);
		return -EINVAL;
	}
	pgsize = max_t(u64, pgsize, PAGE_SIZE);
	for (node = interval_tree_iter_first(ranges, 0, ULONG_MAX); node;
	     node = interval_tree_iter_next(node, 0, ULONG_MAX))
		pages += (node->last - node->start) / pgsize + 1;
	if (pages > MIGDEV_LOG_MAX_PAGES) {
		migdev_user_warn(mvdev,
				 "DMA logging of %llu pages refused: at most %lu\n",
				 pages, MIGDEV_LOG_MAX_PAGES);
		return -E2BIG;
	}
	ret = migdev_fault_here(mvdev, MIGDEV_FP_DMA_LOG_START, 0, 0);
	if (ret)
		return ret;

	log = kzalloc(struct_size(log, r, nnodes), GFP_KERNEL_ACCOUNT);
	if (!log)
		return -ENOMEM;
	log->nr = nnodes;
	log->shift = ilog2(pgsize);
	for (node = interval_tree_iter_first(ranges, 0, ULONG_MAX); node && i < nnodes;
	     node = interval_tree_iter_next(node, 0, ULONG_MAX), i++) {
		log->r[i].start = node->start;
		log->r[i].last = node->last;
		log->r[i].bits = bitmap_zalloc((node->last - node->start) / pgsize + 1,
					       GFP_KERNEL_ACCOUNT);
		if (!log->r[i].bits) {
			migdev_dma_log_free(log);
			return -ENOMEM;
		}
	}

	if (mutex_lock_killable(&mvdev->dma_log.lock)) {
		migdev_dma_log_free(log);
		return -EINTR;
	}
	if (migdev_dma_log_locked(mvdev)) {
		mutex_unlock(&mvdev->dma_log.lock);
		migdev_dma_log_free(log);
		return -EBUSY;	/* started twice without a stop */
	}
	rcu_assign_pointer(mvdev->dma_log.log, log);
	mutex_unlock(&mvdev->dma_log.lock);
	*page_size = pgsize;
	return 0;
}

static int migdev_dma_log_stop(struct vfio_device *vdev)
{
	struct migdev_device *mvdev = vdev_to_migdev(vdev);
	struct migdev_dma_log *log;

	/* Also from close: whoever reports waits, but only on its bitmap. */
	mutex_lock(&mvdev->dma_log.lock);
	log = migdev_dma_log_locked(mvdev);
	RCU_INIT_POINTER(mvdev->dma_log.log, NULL);
	mutex_unlock(&mvdev->dma_log.lock);
	if (log)
		call_rcu(&log->rcu, migdev_dma_log_free_rcu);
	return 0;
}

static int migdev_dma_log_read_and_clear(struct vfio_device *vdev,
					 unsigned long iova, unsigned long length,
					 struct iova_bitmap *dirty)
{
	struct migdev_device *mvdev = vdev_to_migdev(vdev);
	unsigned long last = iova + length - 1;
	struct migdev_dma_log *log;
	int ret = 0;
	u32 i;

	if (mutex_lock_killable(&mvdev->dma_log.lock))
		return -EINTR;
	log = migdev_dma_log_locked(mvdev);
	if (!log) {
		ret = -EINVAL;
		goto out_unlock;
	}
	/* A rule counts each report of a started log: one per bitmap window. */
	ret = migdev_fault_here(mvdev, MIGDEV_FP_DMA_LOG_REPORT, 0, 0);
	if (ret)
		goto out_unlock;
	for (i = 0; i < log->nr; i++) {
		struct migdev_log_range *r = &log->r[i];
		u64 from = max_t(u64, iova, r->start), to = min_t(u64, last, r->last);
		unsigned long b, first, end;

		if (from > to)
			continue;
		first = (from - r->start) >> log->shift;
		end = ((to - r->start) >> log->shift) + 1;
		/* The device may set bits meanwhile: clear what is reported. */
		for_each_set_bit_from(first, r->bits, end) {
			b = first;
			if (test_and_clear_bit(b, r->bits))
				iova_bitmap_set(dirty, r->start + ((u64)b << log->shift),
						1UL << log->shift);
		}
	}
out_unlock:
	mutex_unlock(&mvdev->dma_log.lock);
	return ret;
}

static const struct vfio_log_ops migdev_log_ops = {
	.log_start = migdev_dma_log_start,
	.log_stop = migdev_dma_log_stop,
	.log_read_and_clear = migdev_dma_log_read_and_clear,
};

/**
 * migdev_dma_log_record() - the device wrote guest memory
 * @mvdev: device
 * @iova: where
 * @len: bytes
 */
void migdev_dma_log_record(struct migdev_device *mvdev, u64 iova, size_t len)
{
	struct migdev_dma_log *log;
	u64 last = iova + len - 1;
	u32 i;

	if (!len || !rcu_access_pointer(mvdev->dma_log.log))
		return;
	rcu_read_lock();
	log = rcu_dereference(mvdev->dma_log.log);
	for (i = 0; log && i < log->nr; i++) {
		struct migdev_log_range *r = &log->r[i];
		u64 from = max_t(u64, iova, r->start), to = min_t(u64, last, r->last);
		unsigned long b, end;

		if (from > to)
			continue;
		/* Atomic: a report clears bits of the same words meanwhile. */
		end = (to - r->start) >> log->shift;
		for (b = (from - r->start) >> log->shift; b <= end; b++)
			set_bit(b, r->bits);
	}
	rcu_read_unlock();
}

/**
 * migdev_dma_log_init() - offer DMA logging
 * @mvdev: device
 */
void migdev_dma_log_init(struct migdev_device *mvdev)
{
	mutex_init(&mvdev->dma_log.lock);
	mvdev->vdev.log_ops = &migdev_log_ops;
}

/**
 * migdev_dma_log_close() - the user closed the device: stop logging
 * @mvdev: device
 *
 * A log must not outlive its user: QEMU 10 closes a migration source's
 * device with logging still started, and the next user's
 * DMA_LOGGING_START would be refused with -EBUSY.  mlx5 and pds stop
 * their trackers in close_device too.
 */
void migdev_dma_log_close(struct migdev_device *mvdev)
{
	migdev_dma_log_stop(&mvdev->vdev);
}

/**
 * migdev_dma_log_fini() - stop logging and free it
 * @mvdev: device
 */
void migdev_dma_log_fini(struct migdev_device *mvdev)
{
	migdev_dma_log_stop(&mvdev->vdev);
	mutex_destroy(&mvdev->dma_log.lock);
}

#endif /* CONFIG_IOMMUFD_DRIVER */
