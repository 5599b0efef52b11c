/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * migdev: device memory, allocated a page at a time when first written,
 * with a dirty bitmap for migration.
 */
#ifndef MIGDEV_EMUL_DEVMEM_H
#define MIGDEV_EMUL_DEVMEM_H

#include <linux/atomic.h>
#include <linux/rwsem.h>
#include <linux/types.h>
#include <linux/xarray.h>

struct page;
struct migdev_stream_src_ops;

/*
 * Device memory is the user's memory: charged to its memory cgroup, and
 * an allocation past the cgroup's limit fails (the write reports it)
 * rather than invoke the OOM killer on the user or anybody else.
 */
#define MIGDEV_DEVMEM_GFP \
	(GFP_KERNEL_ACCOUNT | __GFP_RETRY_MAYFAIL | __GFP_NOWARN)

/**
 * struct migdev_devmem - lazily backed device memory; its fields are
 * devmem.c's own: everyone else goes through the functions below
 * @size: bytes, a power of two and a multiple of PAGE_SIZE
 * @pages: page index -> struct page *, present only once written; entries
 *	   are inserted with xa_cmpxchg() so two first writers of a page
 *	   agree on one page
 * @lock: held for read by everyone who touches page contents or maps a
 *	  page into user space, for write by migdev_devmem_clear(), which
 *	  unmaps and frees pages
 * @nr_pages: pages currently allocated
 * @dirty: one bit per page: written since the bit was last collected
 * @discards: migdev_devmem_discard() calls (the device's command)
 * @unmap: makes user mappings of a byte range fault again (may be NULL)
 * @dirtied: a page's dirty bit went from clear to set (may be NULL)
 * @priv: argument for @unmap and @dirtied
 */
struct migdev_devmem {
	u64 size;
	struct xarray *pages;
	struct rw_semaphore lock; /* protects page lifetime, see above */
	atomic_long_t nr_pages;
	unsigned long *dirty;
	atomic64_t discards;
	void (*unmap)(void *priv, u64 off, u64 len);
	void (*dirtied)(void *priv);
	void *priv;
};

static inline u64 migdev_devmem_nr_pfns(const struct migdev_devmem *dm)
{
	return dm->size >> PAGE_SHIFT;
}

int migdev_devmem_init(struct migdev_devmem *dm, u64 size,
		       void (*unmap)(void *priv, u64 off, u64 len),
		       void (*dirtied)(void *priv), void *priv);
void migdev_devmem_fini(struct migdev_devmem *dm);
void migdev_devmem_clear(struct migdev_devmem *dm);
void migdev_devmem_discard(struct migdev_devmem *dm);
u64 migdev_devmem_discards(struct migdev_devmem *dm);
void migdev_devmem_read(struct migdev_devmem *dm, u64 off, void *buf,
			size_t len);
void migdev_devmem_get_run(struct migdev_devmem *dm, u64 first, u32 count,
			   struct page **pages);
void migdev_devmem_put_run(struct page **pages, u32 count);
int migdev_devmem_write(struct migdev_devmem *dm, u64 off, const void *buf,
			size_t len);
u64 migdev_devmem_resident(struct migdev_devmem *dm);
int migdev_devmem_map(struct migdev_devmem *dm, unsigned long idx, bool write,
		      bool (*map)(void *arg, struct page *page), void *arg);
void migdev_devmem_set_dirty(struct migdev_devmem *dm, unsigned long idx);
u64 migdev_devmem_collect_dirty(struct migdev_devmem *dm, unsigned long *out);
u32 migdev_devmem_next_run(struct migdev_devmem *dm, u64 from, u32 max,
			   u64 *first);
u64 migdev_devmem_count_from(struct migdev_devmem *dm, u64 from);
u64 migdev_devmem_dirty_count(struct migdev_devmem *dm);
int migdev_devmem_stage(struct migdev_devmem *st, u64 first, u32 count,
			const void *data);
int migdev_devmem_stage_get(struct migdev_devmem *st, u64 first, u32 count,
			    struct page **pages);
void migdev_devmem_replace(struct migdev_devmem *dm, struct migdev_devmem *st);

/* What the stream's encoder sends device memory from: its priv is @dm. */
extern const struct migdev_stream_src_ops migdev_devmem_src_ops;

#endif /* MIGDEV_EMUL_DEVMEM_H */
