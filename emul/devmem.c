// SPDX-License-Identifier: GPL-2.0-only
/*
 * migdev: device memory, allocated a page at a time when first written.
 *
 * An instance of a large type advertises hundreds of MiB of device memory
 * but costs nothing until its user writes there: a page is allocated
 * (zeroed, charged to the user's memory cgroup) on its first write, and
 * reading a page that was never written returns zeros.
 */
#include <linux/gfp.h>
#include <linux/highmem.h>
#include <linux/minmax.h>
#include <linux/mm.h>

#include "devmem.h"

/**
 * migdev_devmem_init() - set up empty device memory
 * @dm: device memory
 * @size: its size in bytes
 */
void migdev_devmem_init(struct migdev_devmem *dm, u64 size)
{
	dm->size = size;
	xa_init(&dm->pages);
	init_rwsem(&dm->lock);
	atomic_long_set(&dm->nr_pages, 0);
}

/**
 * migdev_devmem_clear() - free every page: device memory reads zeros again
 * @dm: device memory
 */
void migdev_devmem_clear(struct migdev_devmem *dm)
{
	struct page *page;
	unsigned long idx;

	down_write(&dm->lock);
	xa_for_each(&dm->pages, idx, page)
		__free_page(page);
	xa_destroy(&dm->pages);
	atomic_long_set(&dm->nr_pages, 0);
	up_write(&dm->lock);
}

/* Find the page at @idx, allocating it if @alloc; NULL if absent. */
static struct page *migdev_devmem_page(struct migdev_devmem *dm,
				       unsigned long idx, bool alloc)
{
	struct page *page, *old;

	page = xa_load(&dm->pages, idx);
	if (page || !alloc)
		return page;

	page = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO);
	if (!page)
		return ERR_PTR(-ENOMEM);
	old = xa_cmpxchg(&dm->pages, idx, NULL, page, GFP_KERNEL_ACCOUNT);
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
		struct page *page = migdev_devmem_page(dm, off >> PAGE_SHIFT,
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
		struct page *page = migdev_devmem_page(dm, off >> PAGE_SHIFT,
						       true);

		if (IS_ERR(page)) {
			ret = PTR_ERR(page);
			break;
		}
		memcpy_to_page(page, in_page, buf, n);
		buf += n;
		off += n;
		len -= n;
	}
	up_read(&dm->lock);
	return ret;
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
