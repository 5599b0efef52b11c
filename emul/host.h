/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * migdev: what the emulated device needs from its host.
 *
 * The device model reaches guest memory, raises interrupts and protects
 * mappings of its memory only through these calls, which the mediation
 * layer (mdev/) implements with VFIO.  A userspace build of the model can
 * implement them with plain memory.
 */
#ifndef MIGDEV_EMUL_HOST_H
#define MIGDEV_EMUL_HOST_H

#include <linux/types.h>

/**
 * struct migdev_host_ops - the device's view of its host
 * @dma_read: copy @len bytes of guest memory at @iova into @buf; 0 or a
 *	      negative errno if any of it is not mapped
 * @dma_write: copy @buf into guest memory at @iova; 0 or a negative errno
 * @msix: an edge on MSI-X @vector
 * @msix_hold: an edge on MSI-X @vector that the device may not send now
 *	       (bus mastering off, or held by migration): pending, as on
 *	       a masked vector, until @msix_release or an unmask
 * @msix_release: the device may send again: send what is pending on
 *		  vectors that are not masked
 * @intx: INTx# is now asserted (@level true) or deasserted
 * @msix_pending: the pending bits of masked MSI-X vectors, for the PBA
 * @devmem_unmap: make every user mapping of device memory bytes
 *		  [@off, @off + @len) fault on its next access
 * @devmem_dirtied: a page of device memory became dirty (pre-copy has
 *		    new data); may be called in any process context
 * @kick: the engine has work: call migdev_engine_step() until it returns
 *	  false, from a context that may wait for guest memory (the
 *	  device's user's), one step per engine of the host's at a time;
 *	  must not sleep
 *
 * All but @devmem_unmap and @devmem_dirtied are called with the device's
 * lock held.
 */
struct migdev_host_ops {
	int (*dma_read)(void *priv, u64 iova, void *buf, size_t len);
	int (*dma_write)(void *priv, u64 iova, const void *buf, size_t len);
	void (*msix)(void *priv, unsigned int vector);
	void (*msix_hold)(void *priv, unsigned int vector);
	void (*msix_release)(void *priv);
	void (*intx)(void *priv, bool level);
	u64 (*msix_pending)(void *priv);
	void (*devmem_unmap)(void *priv, u64 off, u64 len);
	void (*devmem_dirtied)(void *priv);
	void (*kick)(void *priv);
};

#endif /* MIGDEV_EMUL_HOST_H */
