// SPDX-License-Identifier: GPL-2.0-only
/*
 * migdev: the emulated device's host, implemented with VFIO.
 *
 * Guest memory is reached only through vfio_dma_rw(), which looks the IOVA
 * up in the container on every call.  So the type1 IOMMU's dirty tracking
 * sees every page the device writes, and a guest that unmaps memory while
 * a descriptor is in flight makes the next chunk fail (the descriptor
 * completes with MIGDEV_STATUS_BAD_ADDRESS) instead of leaving the device
 * with a stale pointer: nothing is pinned, so there is nothing to
 * use after free.
 */
#include <linux/mm.h>

#include "migdev.h"

static int migdev_host_dma_read(void *priv, u64 iova, void *buf, size_t len)
{
	struct migdev_device *mdev = priv;

	return vfio_dma_rw(&mdev->vdev, iova, buf, len, false);
}

static int migdev_host_dma_write(void *priv, u64 iova, const void *buf,
				 size_t len)
{
	struct migdev_device *mdev = priv;
	int ret = vfio_dma_rw(&mdev->vdev, iova, (void *)buf, len, true);

	/*
	 * Logged even when it failed: vfio_dma_rw() copies page by page and
	 * may have written a prefix before the page it could not reach.
	 */
	migdev_dma_log_record(mdev, iova, len);
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

/* Zap user mappings of BAR2 bytes [off, off + len): they fault again. */
static void migdev_host_devmem_unmap(void *priv, u64 off, u64 len)
{
	struct migdev_device *mdev = priv;

	unmap_mapping_range(mdev->vdev.inode->i_mapping,
			    migdev_region_offset(VFIO_PCI_BAR2_REGION_INDEX) + off,
			    len, true);
}

static void migdev_host_devmem_dirtied(void *priv)
{
	migdev_save_dirtied(priv);
}

static void migdev_host_kick(void *priv)
{
	migdev_worker_kick(priv);
}

const struct migdev_host_ops migdev_host_ops = {
	.dma_read = migdev_host_dma_read,
	.dma_write = migdev_host_dma_write,
	.msix = migdev_host_msix,
	.msix_hold = migdev_host_msix_hold,
	.msix_release = migdev_host_msix_release,
	.intx = migdev_host_intx,
	.msix_pending = migdev_host_msix_pending,
	.devmem_unmap = migdev_host_devmem_unmap,
	.devmem_dirtied = migdev_host_devmem_dirtied,
	.kick = migdev_host_kick,
};

/**
 * migdev_dma_unmap() - the user unmapped IOVA range from the container
 * @vdev: VFIO device
 * @iova: start
 * @length: bytes
 *
 * migdev pins nothing and keeps no translation: every access goes through
 * vfio_dma_rw(), which fails on an unmapped IOVA.  So there is nothing to
 * release here, and no access can outlive the mapping: vfio_dma_rw() and
 * the unmap serialise on the container's lock.
 */
void migdev_dma_unmap(struct vfio_device *vdev, u64 iova, u64 length)
{
}
