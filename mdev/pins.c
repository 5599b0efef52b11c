// SPDX-License-Identifier: GPL-2.0-only
/*
 * migdev: the guest pages an open device has pinned, so that its engine
 * and its register writes reach guest memory without waiting for it.
 *
 * Guest memory belongs to the user, and touching it may take as long as
 * the user likes (a FUSE- or userfaultfd-backed buffer nobody serves).  So
 * the device touches it only through pages pinned beforehand, outside
 * every lock of the device, by the engine's worker (a thread of the user,
 * worker.c), as KVMGT does: vfio_pin_pages(), one page at a time, into a
 * cache indexed by IOVA page.  A step of the engine then copies with
 * kmap_local_page() under the device lock and never waits; a register
 * write that aborts a descriptor writes its completion the same way.
 *
 * The user may unmap an IOVA range at any time: VFIO calls dma_unmap(),
 * and every pin in the range must be gone when it returns (type1 retries,
 * and gives up with a BUG, if pins remain).  Entries leave the cache only
 * with both the pins' lock and the device lock held, so no step or
 * register write uses a page while it goes; the pages are unpinned after
 * the device lock is dropped, as unpinning takes the user's mmap_lock.
 *
 * Dirty tracking stays exact: type1 reports every pinned page dirty while
 * it is pinned, and DMA logging records what the device wrote.  To keep
 * the pages that are reported dirty for no write few, the cache holds at
 * most pin_cache_mb (a module parameter), and is emptied when full, when
 * the engine has been idle for a while (worker.c), and at close.
 *
 * A type1 container set up as VFIO_TYPE1_IOMMU (not v2) refuses
 * vfio_pin_pages(): there the device falls back to vfio_dma_rw() under
 * its lock, as before this cache (a step may then wait for the user's
 * memory with the device lock held, which only the user's own threads
 * and arcs ever wait for).  QEMU and libvirt use v2.
 */
#include <linux/highmem.h>
#include <linux/iommu.h>
#include <linux/minmax.h>

#include "migdev.h"

/* The device writes no page marked so: it was pinned for reading only. */
#define MIGDEV_PIN_RO		XA_MARK_1

/**
 * migdev_pins_init() - an empty cache
 * @pins: cache
 */
void migdev_pins_init(struct migdev_pins *pins)
{
	mutex_init(&pins->lock);
	xa_init(&pins->pages);
	pins->nr = 0;
	pins->no_pin = false;
}

/**
 * migdev_pins_fini() - the device goes away
 * @pins: cache, empty
 */
void migdev_pins_fini(struct migdev_pins *pins)
{
	WARN_ON(!xa_empty(&pins->pages));
	xa_destroy(&pins->pages);
	mutex_destroy(&pins->lock);
}

static struct migdev_pins *migdev_pins_of(struct migdev_device *mvdev)
{
	return &mvdev->pins;
}

/*
 * Drop the pins on IOVA pages [first, last]: out of the cache under the
 * device lock, a batch at a time, then unpinned without it.
 */
static void migdev_pins_drop_locked(struct migdev_device *mvdev,
				    unsigned long first, unsigned long last)
{
	struct migdev_pins *pins = migdev_pins_of(mvdev);
	unsigned long batch[64], index;
	unsigned int n, i;
	void *entry;

	lockdep_assert_held(&pins->lock);
	do {
		n = 0;
		migdev_emul_lock(&mvdev->emul);
		xa_for_each_range(&pins->pages, index, entry, first, last) {
			xa_erase(&pins->pages, index);
			batch[n++] = index;
			if (n == ARRAY_SIZE(batch))
				break;
		}
		pins->nr -= n;
		mutex_unlock(&mvdev->emul.lock);
		for (i = 0; i < n; i++)
			vfio_unpin_pages(&mvdev->vdev,
					 (dma_addr_t)batch[i] << PAGE_SHIFT, 1);
	} while (n == ARRAY_SIZE(batch));
}

/**
 * migdev_pins_unmap() - the user unmapped IOVA range [@iova, @iova + @len):
 * no pin in it survives
 * @mvdev: device
 * @iova: start
 * @len: bytes
 *
 * Waits for a pin in progress (the worker may be waiting for the user's
 * memory: the user's own unmap waits with it, as it would for the
 * container's lock) and for a step that copies (never long).
 */
void migdev_pins_unmap(struct migdev_device *mvdev, u64 iova, u64 len)
{
	struct migdev_pins *pins = migdev_pins_of(mvdev);

	if (!len)
		return;
	mutex_lock(&pins->lock);
	migdev_pins_drop_locked(mvdev, iova >> PAGE_SHIFT,
				(iova + len - 1) >> PAGE_SHIFT);
	mutex_unlock(&pins->lock);
}

/**
 * migdev_pins_flush() - unpin everything: the device closes
 * @mvdev: device, whose worker has stopped
 */
void migdev_pins_flush(struct migdev_device *mvdev)
{
	struct migdev_pins *pins = migdev_pins_of(mvdev);

	mutex_lock(&pins->lock);
	migdev_pins_drop_locked(mvdev, 0, ULONG_MAX);
	WRITE_ONCE(pins->no_pin, false);
	mutex_unlock(&pins->lock);
}

/**
 * migdev_pins_release() - unpin everything: the engine has been idle
 * @mvdev: device
 *
 * The worker, holding nothing (unpinning takes the user's mmap_lock).
 */
void migdev_pins_release(struct migdev_device *mvdev)
{
	struct migdev_pins *pins = migdev_pins_of(mvdev);

	if (mutex_lock_killable(&pins->lock))
		return;
	migdev_pins_drop_locked(mvdev, 0, ULONG_MAX);
	mutex_unlock(&pins->lock);
}

/* Pin IOVA page @index into the cache, writable if the mapping is. */
static int migdev_pins_add(struct migdev_device *mvdev, unsigned long index)
{
	struct migdev_pins *pins = migdev_pins_of(mvdev);
	dma_addr_t iova = (dma_addr_t)index << PAGE_SHIFT;
	struct page *page;
	bool ro = false;
	int ret;

	ret = vfio_pin_pages(&mvdev->vdev, iova, 1, IOMMU_READ | IOMMU_WRITE,
			     &page);
	if (ret == -EPERM) {
		ro = true;
		ret = vfio_pin_pages(&mvdev->vdev, iova, 1, IOMMU_READ, &page);
	}
	if (ret != 1)
		return ret < 0 ? ret : -EFAULT;
	ret = xa_err(xa_store(&pins->pages, index, page, GFP_KERNEL_ACCOUNT));
	if (ret) {
		vfio_unpin_pages(&mvdev->vdev, iova, 1);
		return ret;
	}
	if (ro)
		xa_set_mark(&pins->pages, index, MIGDEV_PIN_RO);
	pins->nr++;
	return 0;
}

static unsigned long migdev_pins_count(const struct migdev_dma_range *r,
				       unsigned int n)
{
	unsigned long pages = 0;
	unsigned int i;

	for (i = 0; i < n; i++)
		pages += ((r[i].iova + r[i].len - 1) >> PAGE_SHIFT) -
			 (r[i].iova >> PAGE_SHIFT) + 1;
	return pages;
}

/**
 * migdev_pins_prepare() - pin the pages of @n ranges at @r that are not
 * yet pinned
 * @mvdev: device
 * @r: ranges
 * @n: how many
 *
 * The engine's worker, holding no lock of the device: pinning may wait
 * for the user's memory (and is killable).  A page that cannot be pinned
 * (not mapped) stays out; the step that needs it fails as the device does
 * on an unmapped address.
 */
void migdev_pins_prepare(struct migdev_device *mvdev,
			 const struct migdev_dma_range *r, unsigned int n)
{
	struct migdev_pins *pins = migdev_pins_of(mvdev);
	unsigned long index, last;
	bool retried = false;
	unsigned int i;
	int ret;

	if (mutex_lock_killable(&pins->lock))
		return;
	if (pins->no_pin)
		goto out;
	if (pins->nr + migdev_pins_count(r, n) >
	    (max(migdev_pin_cache_mb, 1U) << (20 - PAGE_SHIFT)))
		migdev_pins_drop_locked(mvdev, 0, ULONG_MAX);
again:
	for (i = 0; i < n; i++) {
		last = (r[i].iova + r[i].len - 1) >> PAGE_SHIFT;
		for (index = r[i].iova >> PAGE_SHIFT; index <= last; index++) {
			if (xa_load(&pins->pages, index))
				continue;
			if (fatal_signal_pending(current))
				goto out;
			ret = migdev_pins_add(mvdev, index);
			if (ret == -ENOMEM && pins->nr && !retried) {
				/* RLIMIT_MEMLOCK: keep only what this step needs. */
				migdev_pins_drop_locked(mvdev, 0, ULONG_MAX);
				retried = true;
				goto again;
			}
			if (ret == -EACCES) {
				/* A type1 v1 container: no pinning at all. */
				WRITE_ONCE(pins->no_pin, true);
				migdev_user_info(mvdev,
						 "the container refuses vfio_pin_pages() (type1 v1?): DMA goes through vfio_dma_rw() under the device lock\n");
				goto out;
			}
		}
	}
out:
	mutex_unlock(&pins->lock);
}

/**
 * migdev_pins_ready() - whether every page of @n ranges at @r is pinned
 * @mvdev: device, locked (emul)
 * @r: ranges
 * @n: how many
 *
 * Return: true if a step that touches them never waits.
 */
bool migdev_pins_ready(struct migdev_device *mvdev,
		       const struct migdev_dma_range *r, unsigned int n)
{
	struct migdev_pins *pins = migdev_pins_of(mvdev);
	unsigned long index, last;
	unsigned int i;

	lockdep_assert_held(&mvdev->emul.lock);
	if (READ_ONCE(pins->no_pin))
		return true;
	for (i = 0; i < n; i++) {
		last = (r[i].iova + r[i].len - 1) >> PAGE_SHIFT;
		for (index = r[i].iova >> PAGE_SHIFT; index <= last; index++)
			if (!xa_load(&pins->pages, index))
				return false;
	}
	return true;
}

/* The most pages one access spans: a chunk, not page aligned. */
#define MIGDEV_PINS_SPAN	(MIGDEV_CHUNK / PAGE_SIZE + 1)

/*
 * Look up the pinned pages of [iova, iova + len) (writable ones, for
 * @write) into @pages: all or nothing.  Return: how many, or -EFAULT (one
 * is not pinned), -EPERM (one is read-only) or -EINVAL (longer than a
 * chunk).
 */
static int migdev_pins_lookup(struct migdev_pins *pins, u64 iova, size_t len,
			      bool write, struct page **pages)
{
	unsigned long index, first = iova >> PAGE_SHIFT;
	unsigned long last = (iova + len - 1) >> PAGE_SHIFT;

	if (last - first >= MIGDEV_PINS_SPAN)
		return -EINVAL;
	for (index = first; index <= last; index++) {
		pages[index - first] = xa_load(&pins->pages, index);
		if (!pages[index - first])
			return -EFAULT;
		if (write && xa_get_mark(&pins->pages, index, MIGDEV_PIN_RO))
			return -EPERM;
	}
	return last - first + 1;
}

/* migdev_pins_rw() as migdev_pins_each() pieces: a cursor in @buf. */
struct migdev_pins_buf {
	u8 *buf;
	bool write;
};

static int migdev_pins_buf_piece(void *arg, void *p, size_t n)
{
	struct migdev_pins_buf *b = arg;

	if (b->write)
		memcpy(p, b->buf, n);
	else
		memcpy(b->buf, p, n);
	b->buf += n;
	return 0;
}

/**
 * migdev_pins_rw() - copy between @buf and guest memory through the pins
 * @mvdev: device, locked (emul)
 * @iova: guest address
 * @buf: kernel buffer
 * @len: bytes
 * @write: to guest memory (else from it)
 *
 * Never waits for the user's memory (but in a v1 container, where it is
 * vfio_dma_rw()).
 *
 * Return: 0, or -EFAULT (a page is not pinned: not mapped) or -EPERM (a
 * write to a read-only mapping), with nothing copied.
 */
int migdev_pins_rw(struct migdev_device *mvdev, u64 iova, void *buf,
		   size_t len, bool write)
{
	struct migdev_pins_buf b = { .buf = buf, .write = write };

	lockdep_assert_held(&mvdev->emul.lock);
	if (!len)
		return 0;
	if (READ_ONCE(mvdev->pins.no_pin))
		return vfio_dma_rw(&mvdev->vdev, iova, buf, len, write);
	return migdev_pins_each(mvdev, iova, len, write, migdev_pins_buf_piece, &b);
}

/**
 * migdev_pins_copy() - copy guest memory to guest memory through the pins,
 * in one pass
 * @mvdev: device, locked (emul)
 * @dst: guest address to copy to
 * @src: guest address to copy from
 * @len: bytes
 *
 * Return: 0; -EFAULT or -EPERM as migdev_pins_rw(), with nothing copied;
 * or -EOPNOTSUPP in a v1 container (nothing is pinned there).
 */
int migdev_pins_copy(struct migdev_device *mvdev, u64 dst, u64 src,
		     size_t len)
{
	struct migdev_pins *pins = migdev_pins_of(mvdev);
	struct page *sp[MIGDEV_PINS_SPAN], *dp[MIGDEV_PINS_SPAN];
	size_t done = 0;
	int ret;

	lockdep_assert_held(&mvdev->emul.lock);
	if (READ_ONCE(pins->no_pin))
		return -EOPNOTSUPP;
	if (!len)
		return 0;
	ret = migdev_pins_lookup(pins, src, len, false, sp);
	if (ret >= 0)
		ret = migdev_pins_lookup(pins, dst, len, true, dp);
	if (ret < 0)
		return ret;
	while (done < len) {
		u64 s = src + done, d = dst + done;
		size_t n = min3(len - done, PAGE_SIZE - offset_in_page(s),
				PAGE_SIZE - offset_in_page(d));
		void *sva = kmap_local_page(sp[(s >> PAGE_SHIFT) - (src >> PAGE_SHIFT)]);
		void *dva = kmap_local_page(dp[(d >> PAGE_SHIFT) - (dst >> PAGE_SHIFT)]);

		if (n == PAGE_SIZE)
			copy_page(dva, sva);
		else
			memcpy(dva + offset_in_page(d), sva + offset_in_page(s), n);
		kunmap_local(dva);
		kunmap_local(sva);
		done += n;
	}
	return 0;
}

/**
 * migdev_pins_each() - work on guest memory in place through the pins
 * @mvdev: device, locked (emul)
 * @iova: guest address
 * @len: bytes
 * @write: @fn writes the pieces (else it reads them)
 * @fn: called for each piece in order, with its kernel address and length
 * @arg: for @fn
 *
 * Return: 0, @fn's first error, -EFAULT or -EPERM as migdev_pins_rw()
 * with @fn never called, or -EOPNOTSUPP in a v1 container.
 */
int migdev_pins_each(struct migdev_device *mvdev, u64 iova, size_t len,
		     bool write, int (*fn)(void *arg, void *p, size_t n),
		     void *arg)
{
	struct migdev_pins *pins = migdev_pins_of(mvdev);
	struct page *pages[MIGDEV_PINS_SPAN];
	size_t done = 0, off = offset_in_page(iova);
	unsigned int i = 0;
	int ret;

	lockdep_assert_held(&mvdev->emul.lock);
	if (READ_ONCE(pins->no_pin))
		return -EOPNOTSUPP;
	if (!len)
		return 0;
	ret = migdev_pins_lookup(pins, iova, len, write, pages);
	if (ret < 0)
		return ret;
	ret = 0;
	while (!ret && done < len) {
		size_t n = min_t(size_t, len - done, PAGE_SIZE - off);
		void *va = kmap_local_page(pages[i++]);

		ret = fn(arg, va + off, n);
		kunmap_local(va);
		done += n;
		off = 0;
	}
	return ret;
}
