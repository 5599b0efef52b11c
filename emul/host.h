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

struct migdev_desc;

/**
 * struct migdev_dma_range - guest memory a step of the engine may touch
 * @iova: start
 * @len: bytes, not 0
 * @write: the device writes it (else it reads it)
 */
struct migdev_dma_range {
	u64 iova;
	u32 len;
	bool write;
};

/**
 * struct migdev_host_ops - the device's view of its host
 * @dma_prepare: make the @n ranges at @r reachable by @dma_read and
 *		 @dma_write without waiting (the host pins them); may wait
 *		 for the user's memory, called without the device's lock;
 *		 what cannot be prepared (not mapped) stays unreachable
 * @dma_ready: whether all @n ranges at @r are prepared
 * @dma_read: copy @len bytes of guest memory at @iova into @buf; 0 or a
 *	      negative errno if any of it is not reachable; never waits for
 *	      the user's memory once prepared
 * @dma_write: copy @buf into guest memory at @iova; 0 or a negative errno;
 *	       all of it or none
 * @dma_copy: copy @len bytes of guest memory from @src to @dst in one
 *	      pass, as @dma_read then @dma_write would; -EOPNOTSUPP if the
 *	      host cannot (then the device does just that)
 * @dma_each: call @fn(@arg, p, n) for each piece of guest memory
 *	      [@iova, @iova + @len) in order, p its address (which @fn
 *	      fills, for @write), so that the device works on guest memory
 *	      in place; every page is checked first, and no piece is passed
 *	      if one is not reachable (-EFAULT, -EPERM); stops at @fn's first
 *	      error and returns it; -EOPNOTSUPP if the host cannot (then the
 *	      device uses @dma_read and @dma_write)
 * @msix: an edge on MSI-X @vector
 * @msix_hold: an edge on MSI-X @vector that the device may not send now
 *	       (bus mastering off, or held by migration): pending, as on
 *	       a masked vector, until @msix_release or an unmask
 * @msix_release: the device may send again: send what is pending on
 *		  vectors that are not masked
 * @intx: INTx# is now asserted (@level true) or deasserted
 * @msix_pending: the pending bits of masked MSI-X vectors, for the PBA
 *		  and the migration stream
 * @msix_set_pending: the pending bits a migration brought (the device
 *		      is stopped)
 * @devmem_unmap: make every user mapping of device memory bytes
 *		  [@off, @off + @len) fault on its next access
 * @devmem_dirtied: a page of device memory became dirty (pre-copy has
 *		    new data); may be called in any process context
 * @desc_start: the engine fetched descriptor @d on queue @qi (tracing;
 *		may be NULL)
 * @desc_done: the descriptor in flight on queue @qi completed with
 *	       @status (MIGDEV_STATUS_*) after @bytes (tracing; may be NULL)
 * @kick: the engine has work: call migdev_engine_prepare() (which may
 *	  wait for guest memory: from the device's user's context), then
 *	  migdev_engine_step() with one of the host's engines held, until
 *	  either returns false; must not sleep
 *
 * All but @dma_prepare, @devmem_unmap, @devmem_dirtied and
 * @msix_set_pending are called with the device's lock held.
 */
struct migdev_host_ops {
	void (*dma_prepare)(void *priv, const struct migdev_dma_range *r,
			    unsigned int n);
	bool (*dma_ready)(void *priv, const struct migdev_dma_range *r,
			  unsigned int n);
	int (*dma_read)(void *priv, u64 iova, void *buf, size_t len);
	int (*dma_write)(void *priv, u64 iova, const void *buf, size_t len);
	int (*dma_copy)(void *priv, u64 dst, u64 src, size_t len);
	int (*dma_each)(void *priv, u64 iova, size_t len, bool write,
			int (*fn)(void *arg, void *p, size_t n), void *arg);
	void (*msix)(void *priv, unsigned int vector);
	void (*msix_hold)(void *priv, unsigned int vector);
	void (*msix_release)(void *priv);
	void (*intx)(void *priv, bool level);
	u64 (*msix_pending)(void *priv);
	void (*msix_set_pending)(void *priv, u64 pending);
	void (*devmem_unmap)(void *priv, u64 off, u64 len);
	void (*devmem_dirtied)(void *priv);
	void (*desc_start)(void *priv, unsigned int qi,
			   const struct migdev_desc *d);
	void (*desc_done)(void *priv, unsigned int qi,
			  const struct migdev_desc *d, u32 status, u64 bytes);
	void (*kick)(void *priv);
};

#endif /* MIGDEV_EMUL_HOST_H */
