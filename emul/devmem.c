// SPDX-License-Identifier: GPL-2.0-only
/*
 * migdev: device memory, allocated a page at a time when first written,
 * with a dirty bitmap for migration.
 *
 * An instance of a large type advertises hundreds of MiB of device memory
 * but costs nothing until its user writes there: a page is allocated
 * (zeroed, charged to the user's memory cgroup) on its first write, and
 * reading a page that was never written returns zeros.
 *
 * Every path that writes device memory (region writes, DMA, and user
 * mappings through their write faults, see mdev/mmap.c) sets the page's
 * dirty bit.  Collecting the bits first makes user mappings fault again,
 * so a write through a mapping after the collection is seen too.
 */
#include <linux/bitmap.h>
#include <linux/err.h>
#include <linux/gfp.h>
#include <linux/highmem.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/slab.h>

#include "devmem.h"
#include "stream.h"

/**
 * migdev_devmem_init() - set up empty device memory
 * @dm: device memory
 * @size: its size in bytes
 * @unmap: how to make user mappings fault again, or NULL
 * @dirtied: told when a page becomes dirty, or NULL
 * @priv: argument for @unmap and @dirtied
 *
 * Return: 0 or -ENOMEM.
 */
int migdev_devmem_init(struct migdev_devmem *dm, u64 size,
		       void (*unmap)(void *priv, u64 off, u64 len),
		       void (*dirtied)(void *priv), void *priv)
{
	dm->size = size;
	dm->unmap = unmap;
	dm->dirtied = dirtied;
	dm->priv = priv;
	init_rwsem(&dm->lock);
	atomic_long_set(&dm->nr_pages, 0);
	atomic64_set(&dm->discards, 0);
	dm->pages = kmalloc(sizeof(*dm->pages), GFP_KERNEL_ACCOUNT);
	dm->dirty = bitmap_zalloc(migdev_devmem_nr_pfns(dm), GFP_KERNEL_ACCOUNT);
	if (!dm->pages || !dm->dirty) {
		kfree(dm->pages);
		bitmap_free(dm->dirty);
		dm->pages = NULL;
		dm->dirty = NULL;
		return -ENOMEM;
	}
	xa_init(dm->pages);
	return 0;
}

/**
 * migdev_devmem_fini() - free device memory; nothing may map it any more
 * @dm: device memory
 */
void migdev_devmem_fini(struct migdev_devmem *dm)
{
	migdev_devmem_clear(dm);
	kfree(dm->pages);
	bitmap_free(dm->dirty);
}

/**
 * migdev_devmem_clear() - free every page: device memory reads zeros again
 * @dm: device memory
 *
 * Pages that held data change (to zeros), so they are marked dirty.
 */
void migdev_devmem_clear(struct migdev_devmem *dm)
{
	struct page *page;
	unsigned long idx;

	down_write(&dm->lock);
	/* No user mapping may keep pointing at a page about to be freed. */
	if (dm->unmap && atomic_long_read(&dm->nr_pages))
		dm->unmap(dm->priv, 0, dm->size);
	xa_for_each(dm->pages, idx, page) {
		__free_page(page);
		set_bit(idx, dm->dirty);
	}
	xa_destroy(dm->pages);
	atomic_long_set(&dm->nr_pages, 0);
	up_write(&dm->lock);
}

/**
 * migdev_devmem_discard() - the device discards its memory (a command)
 * @dm: device memory
 *
 * As migdev_devmem_clear(), and a reconfiguration for migration: the
 * count migdev_devmem_discards() returns goes up, and whoever waits for
 * dirty pages is told.
 */
void migdev_devmem_discard(struct migdev_devmem *dm)
{
	migdev_devmem_clear(dm);
	atomic64_inc(&dm->discards);
	if (dm->dirtied)
		dm->dirtied(dm->priv);
}

/**
 * migdev_devmem_discards() - how many times the device discarded its memory
 * @dm: device memory
 *
 * Return: the count, which only goes up.
 */
u64 migdev_devmem_discards(struct migdev_devmem *dm)
{
	return atomic64_read(&dm->discards);
}

/*
 * The page at @idx, allocated (zeroed) if @alloc and absent; NULL if absent
 * and !@alloc, or an ERR_PTR.  With the lock held (read).
 */
static struct page *migdev_devmem_page_locked(struct migdev_devmem *dm,
					      unsigned long idx, bool alloc)
{
	struct page *page, *old;

	lockdep_assert_held(&dm->lock);
	page = xa_load(dm->pages, idx);
	if (page || !alloc)
		return page;

	page = alloc_page(MIGDEV_DEVMEM_GFP | __GFP_ZERO);
	if (!page)
		return ERR_PTR(-ENOMEM);
	old = xa_cmpxchg(dm->pages, idx, NULL, page, MIGDEV_DEVMEM_GFP);
	if (xa_is_err(old)) {
		__free_page(page);
		return ERR_PTR(xa_err(old));
	}
	if (old) {
		/* Another writer got there first: use its page. */
		__free_page(page);
		return old;
	}
	atomic_long_inc(&dm->nr_pages);
	return page;
}

/**
 * migdev_devmem_set_dirty() - page @idx was written
 * @dm: device memory
 * @idx: page index
 */
void migdev_devmem_set_dirty(struct migdev_devmem *dm, unsigned long idx)
{
	/* Only a new dirty page is news: pre-copy's poll() wakes for it. */
	if (!test_and_set_bit(idx, dm->dirty) && dm->dirtied)
		dm->dirtied(dm->priv);
}

/**
 * migdev_devmem_read() - copy out of device memory
 * @dm: device memory
 * @off: offset; @off + @len must not exceed the size (caller checks)
 * @buf: destination
 * @len: bytes
 */
void migdev_devmem_read(struct migdev_devmem *dm, u64 off, void *buf,
			size_t len)
{
	down_read(&dm->lock);
	while (len) {
		size_t in_page = offset_in_page(off);
		size_t n = min_t(size_t, len, PAGE_SIZE - in_page);
		struct page *page = migdev_devmem_page_locked(dm,
							      off >> PAGE_SHIFT,
							      false);

		if (page)
			memcpy_from_page(buf, page, in_page, n);
		else
			memset(buf, 0, n);
		buf += n;
		off += n;
		len -= n;
	}
	up_read(&dm->lock);
}

/**
 * migdev_devmem_get_run() - hold pages, to read them without the lock
 * @dm: device memory
 * @first: first page index; @first + @count must not pass the end
 *	   (caller checks)
 * @count: pages
 * @pages: receives each page, a reference held, or NULL for a page that
 *	   reads as zeros
 *
 * A reader that copies to memory which can fault (a user's buffer) must
 * not hold the lock meanwhile: a fault on a mapping of this very device
 * memory takes it.  The references keep the pages from going back to the
 * allocator (a reset or a discard only drops the device's) until
 * migdev_devmem_put_run(); their contents are the device's, which may
 * write them meanwhile, as it may while a page is read under the lock.
 */
void migdev_devmem_get_run(struct migdev_devmem *dm, u64 first, u32 count,
			   struct page **pages)
{
	u32 i;

	down_read(&dm->lock);
	for (i = 0; i < count; i++) {
		pages[i] = migdev_devmem_page_locked(dm, first + i, false);
		if (pages[i])
			get_page(pages[i]);
	}
	up_read(&dm->lock);
}

/**
 * migdev_devmem_put_run() - let go of pages migdev_devmem_get_run() held
 * @pages: the pages, NULL entries skipped
 * @count: how many
 */
void migdev_devmem_put_run(struct page **pages, u32 count)
{
	u32 i;

	for (i = 0; i < count; i++)
		if (pages[i])
			put_page(pages[i]);
}

/**
 * migdev_devmem_write() - copy into device memory, allocating pages
 * @dm: device memory
 * @off: offset; @off + @len must not exceed the size (caller checks)
 * @buf: source
 * @len: bytes
 *
 * Return: 0, or -ENOMEM with a prefix of the data written.
 */
int migdev_devmem_write(struct migdev_devmem *dm, u64 off, const void *buf,
			size_t len)
{
	int ret = 0;

	down_read(&dm->lock);
	while (len) {
		size_t in_page = offset_in_page(off);
		size_t n = min_t(size_t, len, PAGE_SIZE - in_page);
		struct page *page = migdev_devmem_page_locked(dm,
							      off >> PAGE_SHIFT,
							      true);

		if (IS_ERR(page)) {
			ret = PTR_ERR(page);
			break;
		}
		memcpy_to_page(page, in_page, buf, n);
		migdev_devmem_set_dirty(dm, off >> PAGE_SHIFT);
		buf += n;
		off += n;
		len -= n;
	}
	up_read(&dm->lock);
	return ret;
}

/**
 * migdev_devmem_map() - put page @idx in a user mapping, as its fault does
 * @dm: device memory
 * @idx: page index, below the size in pages
 * @write: the mapping becomes writable: the page goes dirty once mapped
 * @map: maps @page (the host's fault handler); true if it did, false if
 *	 the fault was stale and nothing changed
 * @arg: argument for @map
 *
 * The page is allocated if absent.  @map runs under the lock that
 * migdev_devmem_clear() takes for write after it unmapped every mapping,
 * so no mapping of a freed page survives; and the dirty bit goes up only
 * after the writable mapping exists: set before, a collection (which
 * shares the lock, and makes mappings of what it collects fault again)
 * could unmap before @map, and the mapping would then stay writable with
 * its bit clear, its later writes lost to pre-copy.
 *
 * Return: 0 (mapped), 1 (stale: nothing done), or -ENOMEM (no memory for
 * the page: the user's memory cgroup is full).
 */
int migdev_devmem_map(struct migdev_devmem *dm, unsigned long idx, bool write,
		      bool (*map)(void *arg, struct page *page), void *arg)
{
	struct page *page;
	int ret;

	down_read(&dm->lock);
	page = migdev_devmem_page_locked(dm, idx, true);
	if (IS_ERR(page)) {
		ret = PTR_ERR(page);
	} else if (map(arg, page)) {
		if (write)
			migdev_devmem_set_dirty(dm, idx);
		ret = 0;
	} else {
		ret = 1;
	}
	up_read(&dm->lock);
	return ret;
}

/**
 * migdev_devmem_collect_dirty() - read and clear the dirty bitmap
 * @dm: device memory
 * @out: receives the bits, migdev_devmem_nr_pfns() of them
 *
 * Only a page written since its bit was last collected can be mapped
 * writable (a write fault sets the bit), so making those pages' mappings
 * fault again after clearing their bits is enough for every later write to
 * set its bit again.  A write that slips in between lands before the
 * caller copies the page, so it is not lost either.
 *
 * Return: the number of dirty pages collected.
 */
u64 migdev_devmem_collect_dirty(struct migdev_devmem *dm, unsigned long *out)
{
	unsigned long nbits = migdev_devmem_nr_pfns(dm);
	unsigned long i, rs, re, words = BITS_TO_LONGS(nbits);
	u64 n = 0;

	down_read(&dm->lock);
	for (i = 0; i < words; i++) {
		out[i] = xchg(&dm->dirty[i], 0);
		n += hweight_long(out[i]);
	}
	if (dm->unmap)
		for_each_set_bitrange(rs, re, out, nbits)
			dm->unmap(dm->priv, (u64)rs << PAGE_SHIFT,
				  (u64)(re - rs) << PAGE_SHIFT);
	up_read(&dm->lock);
	return n;
}

/**
 * migdev_devmem_next_run() - the next run of allocated pages
 * @dm: device memory
 * @from: first page index to look at
 * @max: most pages in the run
 * @first: the run's first page
 *
 * Return: pages in the run, which starts at the first allocated page at
 * or after @from; 0 if there is none.
 */
u32 migdev_devmem_next_run(struct migdev_devmem *dm, u64 from, u32 max,
			   u64 *first)
{
	unsigned long idx = from, start;
	struct page *page;
	u32 count = 0;

	down_read(&dm->lock);
	page = xa_find(dm->pages, &idx, ULONG_MAX, XA_PRESENT);
	start = idx;
	while (page && count < max && idx == start + count) {
		count++;
		idx++;
		page = xa_find(dm->pages, &idx, ULONG_MAX, XA_PRESENT);
	}
	up_read(&dm->lock);
	*first = start;
	return count;
}

/**
 * migdev_devmem_count_from() - allocated pages at or after a page
 * @dm: device memory
 * @from: first page index to count
 *
 * Return: how many.
 */
u64 migdev_devmem_count_from(struct migdev_devmem *dm, u64 from)
{
	struct page *page;
	unsigned long idx;
	u64 n = 0;

	down_read(&dm->lock);
	xa_for_each_start(dm->pages, idx, page, from)
		n++;
	up_read(&dm->lock);
	return n;
}

/**
 * migdev_devmem_resident() - bytes of device memory currently allocated
 * @dm: device memory
 *
 * Return: allocated pages times PAGE_SIZE.
 */
u64 migdev_devmem_resident(struct migdev_devmem *dm)
{
	return (u64)atomic_long_read(&dm->nr_pages) << PAGE_SHIFT;
}

/* Staging page @idx, allocated if it was absent. */
static struct page *migdev_devmem_stage_page(struct migdev_devmem *st,
					     unsigned long idx)
{
	struct page *page = xa_load(st->pages, idx);
	void *ret;

	if (page)
		return page;
	page = alloc_page(MIGDEV_DEVMEM_GFP);
	if (!page)
		return ERR_PTR(-ENOMEM);
	ret = xa_store(st->pages, idx, page, MIGDEV_DEVMEM_GFP);
	if (xa_is_err(ret)) {
		__free_page(page);
		return ERR_PTR(xa_err(ret));
	}
	atomic_long_inc(&st->nr_pages);
	return page;
}

/**
 * migdev_devmem_stage() - store incoming pages in staging memory
 * @st: staging device memory (only its owner uses it: no locking)
 * @first: first page index, checked by the caller
 * @count: pages
 * @data: @count pages of data, or NULL: these pages read as zeros again
 *	  (what is not staged reads as zeros after migdev_devmem_replace())
 *
 * Return: 0 or -ENOMEM.
 */
int migdev_devmem_stage(struct migdev_devmem *st, u64 first, u32 count,
			const void *data)
{
	struct page *page;
	u32 i;

	for (i = 0; i < count; i++) {
		unsigned long idx = first + i;

		if (!data) {
			page = xa_erase(st->pages, idx);
			if (page) {
				__free_page(page);
				atomic_long_dec(&st->nr_pages);
			}
			continue;
		}
		page = migdev_devmem_stage_page(st, idx);
		if (IS_ERR(page))
			return PTR_ERR(page);
		memcpy_to_page(page, 0, data + (size_t)i * PAGE_SIZE, PAGE_SIZE);
	}
	return 0;
}

/**
 * migdev_devmem_stage_get() - staging pages for incoming data, held
 * @st: staging device memory (only its owner uses it: no locking)
 * @first: first page index, checked by the caller
 * @count: pages
 * @pages: receives each page, allocated if it was not there, with a
 *	   reference held for the caller (migdev_devmem_put_run())
 *
 * For a caller that copies a stream's pages into staging memory itself,
 * from memory that can fault, without the lock that keeps @st alive: the
 * references keep the pages meanwhile, whatever becomes of @st.  Every
 * byte of each page is to be written.
 *
 * Return: 0, or -ENOMEM with no reference held.
 */
int migdev_devmem_stage_get(struct migdev_devmem *st, u64 first, u32 count,
			    struct page **pages)
{
	u32 i;

	for (i = 0; i < count; i++) {
		pages[i] = migdev_devmem_stage_page(st, first + i);
		if (IS_ERR(pages[i])) {
			int ret = PTR_ERR(pages[i]);

			migdev_devmem_put_run(pages, i);
			return ret;
		}
		get_page(pages[i]);
	}
	return 0;
}

/**
 * migdev_devmem_replace() - device memory becomes what was staged
 * @dm: device memory
 * @st: staging memory; it gets what @dm had, to free
 *
 * Pages never staged (or staged and then zeroed) read as zeros afterwards:
 * a stream carries the whole of the source's memory.  The two sets of
 * pages change places, under the write lock and after every user mapping
 * is zapped, so this takes no memory and cannot fail, and its cost at the
 * switchover is a walk over the pages, not a store of each one.  Every
 * page that was or is now present is marked dirty.
 */
void migdev_devmem_replace(struct migdev_devmem *dm, struct migdev_devmem *st)
{
	struct xarray *old;
	struct page *page;
	unsigned long idx;
	long nr;

	down_write(&dm->lock);
	if (dm->unmap)
		dm->unmap(dm->priv, 0, dm->size);
	old = dm->pages;
	dm->pages = st->pages;
	xa_for_each(old, idx, page)
		set_bit(idx, dm->dirty);
	xa_for_each(dm->pages, idx, page)
		set_bit(idx, dm->dirty);
	nr = atomic_long_read(&dm->nr_pages);
	atomic_long_set(&dm->nr_pages, atomic_long_read(&st->nr_pages));
	up_write(&dm->lock);

	/* Staging is its owner's alone: it takes the old pages to free. */
	st->pages = old;
	atomic_long_set(&st->nr_pages, nr);
	migdev_devmem_clear(st);
}

/**
 * migdev_devmem_dirty_count() - pages dirty now, without collecting them
 * @dm: device memory
 *
 * Return: the number of dirty bits set.
 */
u64 migdev_devmem_dirty_count(struct migdev_devmem *dm)
{
	return bitmap_weight(dm->dirty, migdev_devmem_nr_pfns(dm));
}

/* The encoder's page source (stream_enc.c): device memory itself. */
static u32 migdev_devmem_src_next_run(void *priv, u64 from, u32 max,
				      u64 *first)
{
	return migdev_devmem_next_run(priv, from, max, first);
}

static void migdev_devmem_src_read(void *priv, u64 first, u32 count,
				   void *buf)
{
	migdev_devmem_read(priv, first << PAGE_SHIFT, buf,
			   (size_t)count << PAGE_SHIFT);
}

static u64 migdev_devmem_src_collect_dirty(void *priv, unsigned long *bits)
{
	return migdev_devmem_collect_dirty(priv, bits);
}

static u64 migdev_devmem_src_discards(void *priv)
{
	return migdev_devmem_discards(priv);
}

const struct migdev_stream_src_ops migdev_devmem_src_ops = {
	.next_run = migdev_devmem_src_next_run,
	.read = migdev_devmem_src_read,
	.collect_dirty = migdev_devmem_src_collect_dirty,
	.discards = migdev_devmem_src_discards,
};
