// SPDX-License-Identifier: GPL-2.0-only
/*
 * migdev: the emulated device's host, implemented with VFIO.
 *
 * Guest memory is reached through pages pinned beforehand (pins.c): the
 * engine's worker prepares what a step needs, outside every lock, and the
 * step copies under the device lock without waiting.  A page the user
 * unmaps leaves the cache before the unmap returns, so a descriptor whose
 * memory went away fails (MIGDEV_STATUS_BAD_ADDRESS) instead of leaving
 * the device with a stale page.
 */
#include <linux/mm.h>

#include "migdev.h"
#include "trace.h"

static void migdev_host_dma_prepare(void *priv,
				    const struct migdev_dma_range *r,
				    unsigned int n)
{
	migdev_pins_prepare(priv, r, n);
}

static bool migdev_host_dma_ready(void *priv, const struct migdev_dma_range *r,
				  unsigned int n)
{
	return migdev_pins_ready(priv, r, n);
}

static int migdev_host_dma_read(void *priv, u64 iova, void *buf, size_t len)
{
	return migdev_pins_rw(priv, iova, buf, len, false);
}

static int migdev_host_dma_write(void *priv, u64 iova, const void *buf,
				 size_t len)
{
	struct migdev_device *mvdev = priv;
	int ret = migdev_pins_rw(mvdev, iova, (void *)buf, len, true);

	/*
	 * Logged even when it failed: in a v1 container, vfio_dma_rw()
	 * copies page by page and may have written a prefix.
	 */
	migdev_dma_log_record(mvdev, iova, len);
	return ret;
}

static int migdev_host_dma_copy(void *priv, u64 dst, u64 src, size_t len)
{
	struct migdev_device *mvdev = priv;
	int ret = migdev_pins_copy(mvdev, dst, src, len);

	if (ret != -EOPNOTSUPP)
		migdev_dma_log_record(mvdev, dst, len);
	return ret;
}

static int migdev_host_dma_each(void *priv, u64 iova, size_t len, bool write,
				int (*fn)(void *arg, void *p, size_t n),
				void *arg)
{
	struct migdev_device *mvdev = priv;
	int ret = migdev_pins_each(mvdev, iova, len, write, fn, arg);

	if (write && ret != -EOPNOTSUPP)
		migdev_dma_log_record(mvdev, iova, len);
	return ret;
}

static void migdev_host_msix(void *priv, unsigned int vector)
{
	migdev_irq_msix(priv, vector);
}

static void migdev_host_msix_hold(void *priv, unsigned int vector)
{
	migdev_irq_msix_hold(priv, vector);
}

static void migdev_host_msix_release(void *priv)
{
	migdev_irq_resume(priv);
}

static void migdev_host_intx(void *priv, bool level)
{
	migdev_irq_intx(priv, level);
}

static u64 migdev_host_msix_pending(void *priv)
{
	return migdev_irq_msix_pending(priv);
}

static void migdev_host_msix_set_pending(void *priv, u64 pending)
{
	migdev_irq_set_msix_pending(priv, pending);
}

/* Zap user mappings of BAR2 bytes [off, off + len): they fault again. */
static void migdev_host_devmem_unmap(void *priv, u64 off, u64 len)
{
	struct migdev_device *mvdev = priv;

	unmap_mapping_range(mvdev->vdev.inode->i_mapping,
			    migdev_region_offset(VFIO_PCI_BAR2_REGION_INDEX) + off,
			    len, true);
}

static void migdev_host_devmem_dirtied(void *priv)
{
	migdev_save_dirtied(priv);
}

static void migdev_host_desc_start(void *priv, unsigned int qi,
				   const struct migdev_desc *d)
{
	struct migdev_device *mvdev = priv;

	trace_migdev_desc_start(dev_name(mvdev->vdev.dev), qi,
				le16_to_cpu(d->opcode), le32_to_cpu(d->len),
				le64_to_cpu(d->cookie));
}

static void migdev_host_desc_done(void *priv, unsigned int qi,
				  const struct migdev_desc *d, u32 status,
				  u64 bytes)
{
	struct migdev_device *mvdev = priv;

	trace_migdev_desc_done(dev_name(mvdev->vdev.dev), qi, status, bytes,
			       le64_to_cpu(d->cookie));
}

static void migdev_host_kick(void *priv)
{
	migdev_worker_kick(priv);
}

const struct migdev_host_ops migdev_host_ops = {
	.dma_prepare = migdev_host_dma_prepare,
	.dma_ready = migdev_host_dma_ready,
	.dma_read = migdev_host_dma_read,
	.dma_write = migdev_host_dma_write,
	.dma_copy = migdev_host_dma_copy,
	.dma_each = migdev_host_dma_each,
	.msix = migdev_host_msix,
	.msix_hold = migdev_host_msix_hold,
	.msix_release = migdev_host_msix_release,
	.intx = migdev_host_intx,
	.msix_pending = migdev_host_msix_pending,
	.msix_set_pending = migdev_host_msix_set_pending,
	.devmem_unmap = migdev_host_devmem_unmap,
	.devmem_dirtied = migdev_host_devmem_dirtied,
	.desc_start = migdev_host_desc_start,
	.desc_done = migdev_host_desc_done,
	.kick = migdev_host_kick,
};

/**
 * migdev_host_dma_unmap() - the user unmapped an IOVA range from the container
 * @vdev: VFIO device
 * @iova: start
 * @length: bytes
 *
 * Every pin in the range goes before this returns (pins.c).
 */
void migdev_host_dma_unmap(struct vfio_device *vdev, u64 iova, u64 length)
{
	migdev_pins_unmap(vdev_to_migdev(vdev), iova, length);
}
