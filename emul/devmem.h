/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * migdev: device memory, allocated a page at a time when first written.
 */
#ifndef MIGDEV_EMUL_DEVMEM_H
#define MIGDEV_EMUL_DEVMEM_H

#include <linux/atomic.h>
#include <linux/rwsem.h>
#include <linux/types.h>
#include <linux/xarray.h>

/**
 * struct migdev_devmem - lazily backed device memory
 * @size: bytes, a power of two and a multiple of PAGE_SIZE
 * @pages: page index -> struct page *, present only once written; entries
 *	   are inserted with xa_cmpxchg() so two first writers of a page
 *	   agree on one page
 * @lock: held for read by everyone who touches page contents, for write
 *	  by migdev_devmem_clear(), which frees pages
 * @nr_pages: pages currently allocated
 */
struct migdev_devmem {
	u64 size;
	struct xarray pages;
	struct rw_semaphore lock; /* protects page lifetime, see above */
	atomic_long_t nr_pages;
};

void migdev_devmem_init(struct migdev_devmem *dm, u64 size);
void migdev_devmem_clear(struct migdev_devmem *dm);
void migdev_devmem_read(struct migdev_devmem *dm, u64 off, void *buf,
			size_t len);
int migdev_devmem_write(struct migdev_devmem *dm, u64 off, const void *buf,
			size_t len);
u64 migdev_devmem_resident(struct migdev_devmem *dm);

#endif /* MIGDEV_EMUL_DEVMEM_H */
