// SPDX-License-Identifier: GPL-2.0-only
/*
 * migdev: interrupts as VFIO presents them: VFIO_DEVICE_GET_IRQ_INFO,
 * VFIO_DEVICE_SET_IRQS, and the device request channel.
 *
 * The semantics follow vfio-pci, the reference for the PCI uAPI: one of
 * INTx or MSI-X at a time; INTx is level-triggered and auto-masked when it
 * fires, unmasked by ACTION_UNMASK (or an unmask eventfd), and fires again
 * on unmask while the device still asserts it; DATA_NONE and DATA_BOOL
 * triggers fire the eventfds (loopback, for testing); count 0 with
 * DATA_NONE tears an index down.  Beyond vfio-pci, MSI-X vectors can be
 * masked and unmasked too (VFIO_IRQ_INFO_MASKABLE): a masked vector that
 * fires is held pending (it shows in the PBA) and delivered once on
 * unmask.  MSI is not offered (no MSI capability).  The error index is
 * offered, as vfio-pci offers it for PCIe functions: the emulated device
 * has no uncorrectable errors of its own, so it fires only when a fault
 * rule says so (err_irq, faults.c), which is what it is for: a VMM's
 * handling of a device error can be tested (QEMU stops the guest).
 *
 * The MSI-X pending bits live here, beside the masks and eventfds that
 * decide them, under irq.lock alone: whether an edge is sent, held or
 * dropped, and what an unmask sends, is one decision under one lock.  The
 * device reads them for its PBA and its saved state, and sets them from a
 * migrated state, through host operations (emul/host.h): state the host
 * supplies.  Kept in the device instead, under its lock, an unmask here
 * would have to take that lock after irq.lock, against the lock order.
 *
 * Lock order: the device lock (emul) before irq.lock; nothing here takes
 * the device lock.
 */
#include <linux/eventfd.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/uio.h>

#include "migdev.h"

/**
 * migdev_irq_init() - no interrupt configured
 * @mvdev: device
 */
void migdev_irq_init(struct migdev_device *mvdev)
{
	mutex_init(&mvdev->irq.lock);
	mvdev->irq.index = -1;
}

static unsigned int migdev_irq_count(struct migdev_device *mvdev,
				     unsigned int index)
{
	switch (index) {
	case VFIO_PCI_INTX_IRQ_INDEX:
	case VFIO_PCI_ERR_IRQ_INDEX:
	case VFIO_PCI_REQ_IRQ_INDEX:
		return 1;
	case VFIO_PCI_MSIX_IRQ_INDEX:
		return migdev_geom_nr_vectors(&mvdev->emul.geom);
	}
	return 0;
}

/**
 * migdev_irq_ioctl_get_info() - VFIO_DEVICE_GET_IRQ_INFO
 * @mvdev: device
 * @arg: user's struct vfio_irq_info
 *
 * Return: 0 or a negative errno.
 */
int migdev_irq_ioctl_get_info(struct migdev_device *mvdev, void __user *arg)
{
	unsigned long minsz = offsetofend(struct vfio_irq_info, count);
	struct vfio_irq_info info;

	if (copy_from_user(&info, arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz || info.index >= VFIO_PCI_NUM_IRQS)
		return -EINVAL;

	info.count = migdev_irq_count(mvdev, info.index);
	info.flags = info.count ? VFIO_IRQ_INFO_EVENTFD : 0;
	if (info.index == VFIO_PCI_INTX_IRQ_INDEX)
		info.flags |= VFIO_IRQ_INFO_MASKABLE | VFIO_IRQ_INFO_AUTOMASKED;
	else if (info.index == VFIO_PCI_MSIX_IRQ_INDEX)
		info.flags |= VFIO_IRQ_INFO_NORESIZE | VFIO_IRQ_INFO_MASKABLE;

	return copy_to_user(arg, &info, minsz) ? -EFAULT : 0;
}

static void migdev_irq_eventfd_replace(struct eventfd_ctx **slot,
				       struct eventfd_ctx *ctx)
{
	if (*slot)
		eventfd_ctx_put(*slot);
	*slot = ctx;
}

/* Signal INTx unless masked; auto-mask it. */
static void migdev_irq_intx_fire_locked(struct migdev_device *mvdev)
{
	lockdep_assert_held(&mvdev->irq.lock);
	if (mvdev->irq.intx_masked || !mvdev->irq.intx_trigger)
		return;
	mvdev->irq.intx_masked = true;
	eventfd_signal(mvdev->irq.intx_trigger);
}

/* Unmask INTx; a level the device still asserts fires again. */
static void migdev_irq_intx_unmask_locked(struct migdev_device *mvdev)
{
	lockdep_assert_held(&mvdev->irq.lock);
	mvdev->irq.intx_masked = false;
	if (mvdev->irq.intx_level && mvdev->irq.index == VFIO_PCI_INTX_IRQ_INDEX)
		migdev_irq_intx_fire_locked(mvdev);
}

/* Runs from the virqfd workqueue (process context) when the eventfd fires. */
static void migdev_irq_intx_unmask_thread(void *opaque, void *unused)
{
	struct migdev_device *mvdev = opaque;

	mutex_lock(&mvdev->irq.lock);
	migdev_irq_intx_unmask_locked(mvdev);
	mutex_unlock(&mvdev->irq.lock);
}

static void migdev_irq_intx_disable_locked(struct migdev_device *mvdev)
{
	lockdep_assert_held(&mvdev->irq.lock);
	migdev_irq_eventfd_replace(&mvdev->irq.intx_trigger, NULL);
	mvdev->irq.intx_masked = false;
	mvdev->irq.index = -1;
}

/* Vector @v's trigger becomes @ctx, from @file (both NULL: none). */
static void migdev_irq_msix_set_trigger_locked(struct migdev_device *mvdev,
					       unsigned int v,
					       struct eventfd_ctx *ctx,
					       struct file *file)
{
	lockdep_assert_held(&mvdev->irq.lock);
	migdev_irq_eventfd_replace(&mvdev->irq.msix_trigger[v], ctx);
	if (mvdev->irq.msix_file[v])
		fput(mvdev->irq.msix_file[v]);
	mvdev->irq.msix_file[v] = file;
}

static void migdev_irq_msix_disable_locked(struct migdev_device *mvdev)
{
	unsigned int i;

	lockdep_assert_held(&mvdev->irq.lock);
	for (i = 0; i < MIGDEV_MAX_VECTORS; i++)
		migdev_irq_msix_set_trigger_locked(mvdev, i, NULL, NULL);
	mvdev->irq.msix_masked = 0;
	mvdev->irq.msix_pending = 0;
	mvdev->irq.index = -1;
}

/* Deliver MSI-X @v, or hold it pending while masked. */
static void migdev_irq_msix_fire_locked(struct migdev_device *mvdev, unsigned int v)
{
	lockdep_assert_held(&mvdev->irq.lock);
	if (mvdev->irq.index != VFIO_PCI_MSIX_IRQ_INDEX || !mvdev->irq.msix_trigger[v])
		return;
	if (test_bit(v, &mvdev->irq.msix_masked))
		__set_bit(v, &mvdev->irq.msix_pending);
	else
		eventfd_signal(mvdev->irq.msix_trigger[v]);
}

static int migdev_irq_set_msix_mask(struct migdev_device *mvdev,
				    struct vfio_irq_set *hdr, void *data,
				    bool unmask)
{
	unsigned int i, v;

	if (mvdev->irq.index != VFIO_PCI_MSIX_IRQ_INDEX)
		return -EINVAL;
	if (hdr->flags & VFIO_IRQ_SET_DATA_EVENTFD)
		return -ENOTTY;
	for (i = 0; i < hdr->count; i++) {
		v = hdr->start + i;
		if ((hdr->flags & VFIO_IRQ_SET_DATA_BOOL) && !((u8 *)data)[i])
			continue;
		if (!unmask) {
			__set_bit(v, &mvdev->irq.msix_masked);
			continue;
		}
		__clear_bit(v, &mvdev->irq.msix_masked);
		if (__test_and_clear_bit(v, &mvdev->irq.msix_pending))
			migdev_irq_msix_fire_locked(mvdev, v);
	}
	return 0;
}

/*
 * Take a reference on the eventfd of user fd @fd (-1: none, NULL).  With
 * @file, also keep a reference on its file there (NULL with none): MSI-X
 * reads unread signals back through it (migdev_irq_reclaim()).
 */
static struct eventfd_ctx *migdev_irq_eventfd_get(s32 fd, struct file **file)
{
	struct eventfd_ctx *ctx;
	struct file *f;

	if (file)
		*file = NULL;
	if (fd == -1)
		return NULL;
	if (fd < 0)
		return ERR_PTR(-EINVAL);
	f = fget(fd);
	if (!f)
		return ERR_PTR(-EBADF);
	ctx = eventfd_ctx_fileget(f);
	if (IS_ERR(ctx) || !file)
		fput(f);
	else
		*file = f;
	return ctx;
}

static int migdev_irq_set_intx_trigger(struct migdev_device *mvdev,
				       struct vfio_irq_set *hdr, void *data)
{
	bool is_intx = mvdev->irq.index == VFIO_PCI_INTX_IRQ_INDEX;
	struct eventfd_ctx *ctx;

	if (is_intx && !hdr->count && (hdr->flags & VFIO_IRQ_SET_DATA_NONE)) {
		migdev_irq_intx_disable_locked(mvdev);
		return 0;
	}
	if (!(is_intx || mvdev->irq.index == -1) || hdr->start || hdr->count != 1)
		return -EINVAL;

	if (hdr->flags & VFIO_IRQ_SET_DATA_EVENTFD) {
		ctx = migdev_irq_eventfd_get(*(s32 *)data, NULL);
		if (IS_ERR(ctx))
			return PTR_ERR(ctx);
		if (!ctx && !is_intx)
			return 0;
		migdev_irq_eventfd_replace(&mvdev->irq.intx_trigger, ctx);
		mvdev->irq.index = ctx ? VFIO_PCI_INTX_IRQ_INDEX : -1;
		if (!ctx)
			mvdev->irq.intx_masked = false;
		return 0;
	}
	if (!is_intx)
		return -EINVAL;
	/* Loopback: fire as the device would. */
	if ((hdr->flags & VFIO_IRQ_SET_DATA_NONE) || *(u8 *)data)
		migdev_irq_intx_fire_locked(mvdev);
	return 0;
}

static int migdev_irq_set_intx_mask(struct migdev_device *mvdev,
				    struct vfio_irq_set *hdr, void *data,
				    bool unmask)
{
	if (mvdev->irq.index != VFIO_PCI_INTX_IRQ_INDEX || hdr->start ||
	    hdr->count != 1)
		return -EINVAL;

	/* An unmask eventfd is set up by migdev_irq_set_intx_unmask_fd(). */
	if (hdr->flags & VFIO_IRQ_SET_DATA_EVENTFD)
		return -ENOTTY;
	if ((hdr->flags & VFIO_IRQ_SET_DATA_NONE) || *(u8 *)data) {
		if (unmask)
			migdev_irq_intx_unmask_locked(mvdev);
		else
			mvdev->irq.intx_masked = true;
	}
	return 0;
}

/*
 * INTx unmask through an eventfd (virqfd), called without irq.lock: the
 * virqfd worker takes irq.lock, and vfio_virqfd_disable() waits for it.
 */
static int migdev_irq_set_intx_unmask_fd(struct migdev_device *mvdev,
					 struct vfio_irq_set *hdr, void *data)
{
	bool is_intx;
	s32 fd;

	/* Before @data: with count 0 there is none (it is NULL). */
	if (hdr->start || hdr->count != 1)
		return -EINVAL;
	fd = *(s32 *)data;
	mutex_lock(&mvdev->irq.lock);
	is_intx = mvdev->irq.index == VFIO_PCI_INTX_IRQ_INDEX;
	mutex_unlock(&mvdev->irq.lock);
	if (!is_intx)
		return -EINVAL;
	/* A kernel without vfio-pci may lack virqfd: no unmask eventfd. */
	if (!IS_ENABLED(CONFIG_VFIO_VIRQFD))
		return -ENOTTY;
	if (fd >= 0)
		return vfio_virqfd_enable(mvdev, NULL, migdev_irq_intx_unmask_thread,
					  NULL, &mvdev->irq.intx_unmask, fd);
	if (fd != -1)
		return -EINVAL;
	vfio_virqfd_disable(&mvdev->irq.intx_unmask);
	return 0;
}

static int migdev_irq_set_msix_trigger(struct migdev_device *mvdev,
				       struct vfio_irq_set *hdr, void *data)
{
	bool is_msix = mvdev->irq.index == VFIO_PCI_MSIX_IRQ_INDEX;
	struct eventfd_ctx *ctx[MIGDEV_MAX_VECTORS] = {};
	struct file *file[MIGDEV_MAX_VECTORS] = {};
	unsigned int i;

	if (is_msix && !hdr->count && (hdr->flags & VFIO_IRQ_SET_DATA_NONE)) {
		migdev_irq_msix_disable_locked(mvdev);
		return 0;
	}
	if (!(is_msix || mvdev->irq.index == -1))
		return -EINVAL;

	if (hdr->flags & VFIO_IRQ_SET_DATA_EVENTFD) {
		s32 *fds = data;

		/* Take every reference first, so a bad fd changes nothing. */
		for (i = 0; i < hdr->count; i++) {
			ctx[i] = migdev_irq_eventfd_get(fds[i], &file[i]);
			if (IS_ERR(ctx[i])) {
				int ret = PTR_ERR(ctx[i]);

				while (i--) {
					if (ctx[i])
						eventfd_ctx_put(ctx[i]);
					if (file[i])
						fput(file[i]);
				}
				return ret;
			}
		}
		for (i = 0; i < hdr->count; i++)
			migdev_irq_msix_set_trigger_locked(mvdev, hdr->start + i,
							   ctx[i], file[i]);
		mvdev->irq.index = VFIO_PCI_MSIX_IRQ_INDEX;
		return 0;
	}
	if (!is_msix)
		return -EINVAL;
	for (i = 0; i < hdr->count; i++)
		if ((hdr->flags & VFIO_IRQ_SET_DATA_NONE) || ((u8 *)data)[i])
			migdev_irq_msix_fire_locked(mvdev, hdr->start + i);
	return 0;
}

/* The request and error indexes: one eventfd each, signalled by the host. */
static int migdev_irq_set_signal(struct eventfd_ctx **slot,
				 struct vfio_irq_set *hdr, void *data)
{
	struct eventfd_ctx *ctx;

	if (hdr->flags & VFIO_IRQ_SET_DATA_NONE) {
		if (!*slot)
			return -EINVAL;
		if (hdr->count)
			eventfd_signal(*slot);
		else
			migdev_irq_eventfd_replace(slot, NULL);
		return 0;
	}
	if (!hdr->count)
		return -EINVAL;
	if (hdr->flags & VFIO_IRQ_SET_DATA_BOOL) {
		if (*(u8 *)data && *slot)
			eventfd_signal(*slot);
		return 0;
	}
	ctx = migdev_irq_eventfd_get(*(s32 *)data, NULL);
	if (IS_ERR(ctx))
		return PTR_ERR(ctx);
	migdev_irq_eventfd_replace(slot, ctx);
	return 0;
}

static int migdev_irq_set_irqs_locked(struct migdev_device *mvdev,
				      struct vfio_irq_set *hdr, void *data)
{
	u32 action = hdr->flags & VFIO_IRQ_SET_ACTION_TYPE_MASK;

	lockdep_assert_held(&mvdev->irq.lock);
	switch (hdr->index) {
	case VFIO_PCI_INTX_IRQ_INDEX:
		if (action == VFIO_IRQ_SET_ACTION_TRIGGER)
			return migdev_irq_set_intx_trigger(mvdev, hdr, data);
		if (action == VFIO_IRQ_SET_ACTION_MASK)
			return migdev_irq_set_intx_mask(mvdev, hdr, data, false);
		if (action == VFIO_IRQ_SET_ACTION_UNMASK)
			return migdev_irq_set_intx_mask(mvdev, hdr, data, true);
		break;
	case VFIO_PCI_MSIX_IRQ_INDEX:
		if (action == VFIO_IRQ_SET_ACTION_TRIGGER)
			return migdev_irq_set_msix_trigger(mvdev, hdr, data);
		if (action == VFIO_IRQ_SET_ACTION_MASK)
			return migdev_irq_set_msix_mask(mvdev, hdr, data, false);
		if (action == VFIO_IRQ_SET_ACTION_UNMASK)
			return migdev_irq_set_msix_mask(mvdev, hdr, data, true);
		break;
	case VFIO_PCI_ERR_IRQ_INDEX:
		if (action == VFIO_IRQ_SET_ACTION_TRIGGER)
			return migdev_irq_set_signal(&mvdev->irq.err_trigger,
						     hdr, data);
		break;
	case VFIO_PCI_REQ_IRQ_INDEX:
		if (action == VFIO_IRQ_SET_ACTION_TRIGGER)
			return migdev_irq_set_signal(&mvdev->irq.req_trigger,
						     hdr, data);
		break;
	}
	return -ENOTTY;
}

/**
 * migdev_irq_ioctl_set() - VFIO_DEVICE_SET_IRQS
 * @mvdev: device
 * @arg: user's struct vfio_irq_set and its data
 *
 * Return: 0 or a negative errno; on error nothing changed.
 */
int migdev_irq_ioctl_set(struct migdev_device *mvdev, void __user *arg)
{
	unsigned long minsz = offsetofend(struct vfio_irq_set, count);
	struct vfio_irq_set hdr;
	size_t data_size = 0;
	void *data = NULL;
	int ret;

	if (copy_from_user(&hdr, arg, minsz))
		return -EFAULT;
	/* Validates argsz, index, flags, start and count against the index. */
	ret = vfio_set_irqs_validate_and_prepare(&hdr,
						 hdr.index < VFIO_PCI_NUM_IRQS ?
						 migdev_irq_count(mvdev, hdr.index) : 0,
						 VFIO_PCI_NUM_IRQS, &data_size);
	if (ret)
		return ret;
	if (data_size) {
		data = memdup_user(arg + minsz, data_size);
		if (IS_ERR(data))
			return PTR_ERR(data);
	}

	if (hdr.index == VFIO_PCI_INTX_IRQ_INDEX &&
	    (hdr.flags & VFIO_IRQ_SET_ACTION_TYPE_MASK) ==
	    VFIO_IRQ_SET_ACTION_UNMASK &&
	    (hdr.flags & VFIO_IRQ_SET_DATA_EVENTFD)) {
		ret = migdev_irq_set_intx_unmask_fd(mvdev, &hdr, data);
	} else {
		mutex_lock(&mvdev->irq.lock);
		ret = migdev_irq_set_irqs_locked(mvdev, &hdr, data);
		mutex_unlock(&mvdev->irq.lock);
	}
	kfree(data);
	return ret;
}

/**
 * migdev_irq_disable_all() - drop every eventfd (the user closed the device)
 * @mvdev: device
 */
void migdev_irq_disable_all(struct migdev_device *mvdev)
{
	if (IS_ENABLED(CONFIG_VFIO_VIRQFD))
		vfio_virqfd_disable(&mvdev->irq.intx_unmask);
	mutex_lock(&mvdev->irq.lock);
	migdev_irq_intx_disable_locked(mvdev);
	migdev_irq_msix_disable_locked(mvdev);
	migdev_irq_eventfd_replace(&mvdev->irq.req_trigger, NULL);
	migdev_irq_eventfd_replace(&mvdev->irq.err_trigger, NULL);
	mutex_unlock(&mvdev->irq.lock);
}

/**
 * migdev_request() - the core asks the user to release the device
 * @vdev: VFIO device being removed
 * @count: how many times it has asked
 *
 * Signals the request eventfd if the user set one; QEMU then unplugs the
 * device from its guest.  Without one, the removal waits for the user.
 */
void migdev_request(struct vfio_device *vdev, unsigned int count)
{
	struct migdev_device *mvdev = vdev_to_migdev(vdev);

	mutex_lock(&mvdev->irq.lock);
	if (mvdev->irq.req_trigger) {
		if (!(count % 10))
			dev_notice_ratelimited(vdev->dev,
					       "relaying device request to user (#%u)\n",
					       count);
		eventfd_signal(mvdev->irq.req_trigger);
	} else if (count == 0) {
		dev_notice_ratelimited(vdev->dev,
				       "no device request channel registered: removal blocked until the user releases the device\n");
	}
	mutex_unlock(&mvdev->irq.lock);
}

/**
 * migdev_irq_notify_user() - fire the request or error interrupt, if the
 * user set one (a fault rule's req_irq, as if the device were being
 * removed; its err_irq, as if the device had an uncorrectable error)
 * @mvdev: device
 * @index: VFIO_PCI_REQ_IRQ_INDEX or VFIO_PCI_ERR_IRQ_INDEX
 */
void migdev_irq_notify_user(struct migdev_device *mvdev, unsigned int index)
{
	struct eventfd_ctx *ctx;

	mutex_lock(&mvdev->irq.lock);
	ctx = index == VFIO_PCI_ERR_IRQ_INDEX ? mvdev->irq.err_trigger :
						mvdev->irq.req_trigger;
	if (ctx)
		eventfd_signal(ctx);
	mutex_unlock(&mvdev->irq.lock);
}

/**
 * migdev_irq_msix() - the device sends an edge on MSI-X @vector
 * @mvdev: device
 * @vector: vector, below the MSI-X count
 *
 * Delivered if the user enabled MSI-X with an eventfd for @vector; held
 * pending while the vector is masked; dropped otherwise, as on hardware
 * whose MSI-X is off.
 */
void migdev_irq_msix(struct migdev_device *mvdev, unsigned int vector)
{
	mutex_lock(&mvdev->irq.lock);
	migdev_irq_msix_fire_locked(mvdev, vector);
	mutex_unlock(&mvdev->irq.lock);
}

/**
 * migdev_irq_msix_hold() - the device raised MSI-X @vector but may not
 * send it now (bus mastering off, held by migration)
 * @mvdev: device
 * @vector: vector, below the MSI-X count
 *
 * Pending, as on a masked vector, if the user enabled MSI-X with an
 * eventfd for @vector: migdev_irq_resume() or an unmask sends it.
 */
void migdev_irq_msix_hold(struct migdev_device *mvdev, unsigned int vector)
{
	mutex_lock(&mvdev->irq.lock);
	if (mvdev->irq.index == VFIO_PCI_MSIX_IRQ_INDEX &&
	    mvdev->irq.msix_trigger[vector])
		__set_bit(vector, &mvdev->irq.msix_pending);
	mutex_unlock(&mvdev->irq.lock);
}

/**
 * migdev_irq_intx() - the device asserts or deasserts INTx#
 * @mvdev: device
 * @level: asserted
 */
void migdev_irq_intx(struct migdev_device *mvdev, bool level)
{
	mutex_lock(&mvdev->irq.lock);
	mvdev->irq.intx_level = level;
	if (level && mvdev->irq.index == VFIO_PCI_INTX_IRQ_INDEX)
		migdev_irq_intx_fire_locked(mvdev);
	mutex_unlock(&mvdev->irq.lock);
}

/**
 * migdev_irq_msix_pending() - the MSI-X pending bits, for the PBA
 * @mvdev: device
 *
 * Return: bit v set if vector v fired while masked.
 */
u64 migdev_irq_msix_pending(struct migdev_device *mvdev)
{
	u64 pending;

	mutex_lock(&mvdev->irq.lock);
	pending = mvdev->irq.msix_pending;
	mutex_unlock(&mvdev->irq.lock);
	return pending;
}

/**
 * migdev_irq_set_msix_pending() - pending MSI-X bits, from a migration
 * @mvdev: device
 * @pending: bit v: vector v fired while masked on the source
 */
void migdev_irq_set_msix_pending(struct migdev_device *mvdev, u64 pending)
{
	mutex_lock(&mvdev->irq.lock);
	mvdev->irq.msix_pending = pending;
	mutex_unlock(&mvdev->irq.lock);
}

/* Read @file, an eventfd, without waiting: true if it had a count. */
static bool migdev_irq_eventfd_take(struct file *file)
{
	u64 cnt;
	struct kvec kv = { .iov_base = &cnt, .iov_len = sizeof(cnt) };
	struct iov_iter iter;
	struct kiocb kiocb;

	init_sync_kiocb(&kiocb, file);
	kiocb.ki_flags |= IOCB_NOWAIT;
	iov_iter_kvec(&iter, ITER_DEST, &kv, 1, sizeof(cnt));
	return file->f_op->read_iter(&kiocb, &iter) == sizeof(cnt);
}

/**
 * migdev_irq_reclaim() - the device stopped: take back the MSI-X signals
 * the user has not read yet
 * @mvdev: device
 *
 * An edge the device sent just before it stopped may still sit unread in
 * its eventfd.  A VMM that reads its eventfds in a thread the stop holds
 * off would deliver it only after it saved its guest: QEMU without KVM
 * does, its main loop waiting for the lock its migration holds, so the
 * guest on the destination never saw the interrupt (seen about once in
 * 200 hops with QEMU 10, and on a first hop with QEMU 7.2).  Each unread
 * signal becomes a pending bit again: it travels in the stream and is
 * delivered when the device runs, on the destination or here after a
 * cancel.  Exactly once: the user reads either the signal or nothing.
 * (With KVM's irqfd the kernel consumes the signal at once, and nothing
 * is left to take.)
 */
void migdev_irq_reclaim(struct migdev_device *mvdev)
{
	unsigned int v, n;

	mutex_lock(&mvdev->irq.lock);
	if (mvdev->irq.index == VFIO_PCI_MSIX_IRQ_INDEX) {
		for (v = 0; v < MIGDEV_MAX_VECTORS; v++) {
			if (!mvdev->irq.msix_file[v])
				continue;
			/* A semaphore-mode eventfd gives one per read. */
			for (n = 0; n < 64 && migdev_irq_eventfd_take(mvdev->irq.msix_file[v]); n++)
				__set_bit(v, &mvdev->irq.msix_pending);
		}
	}
	mutex_unlock(&mvdev->irq.lock);
}

/**
 * migdev_irq_resume() - the device runs again: deliver what is pending on
 * vectors that are not masked (a migrated device's held edges, and those
 * it raised while it could not send them)
 * @mvdev: device
 */
void migdev_irq_resume(struct migdev_device *mvdev)
{
	unsigned int v;

	mutex_lock(&mvdev->irq.lock);
	for (v = 0; v < MIGDEV_MAX_VECTORS; v++)
		if (test_bit(v, &mvdev->irq.msix_pending) &&
		    !test_bit(v, &mvdev->irq.msix_masked) && mvdev->irq.msix_trigger[v] &&
		    mvdev->irq.index == VFIO_PCI_MSIX_IRQ_INDEX) {
			__clear_bit(v, &mvdev->irq.msix_pending);
			eventfd_signal(mvdev->irq.msix_trigger[v]);
		}
	mutex_unlock(&mvdev->irq.lock);
}
