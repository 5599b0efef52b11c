// SPDX-License-Identifier: GPL-2.0-only
/*
 * migdev: the v1 migration region, the protocol of QEMU before 8.0.
 *
 * A second front end to the one migration state machine (migration.c) and
 * the one stream (migfile.c): the region's device_state bitfield maps onto
 * the v2 states, and its data section carries the data_fd stream in
 * segments.  The protocol is the one written down by the RFC "vfio:
 * Update/Clarify migration uAPI, add NDMA state" (Alex Williamson,
 * kvm@vger.kernel.org, December 2021), whose NDMA bit it also offers.
 *
 *   device_state                 v2 state
 *   0, NDMA                      STOP
 *   RUNNING                      RUNNING
 *   RUNNING | NDMA               RUNNING_P2P
 *   SAVING | RUNNING             PRE_COPY
 *   SAVING | RUNNING | NDMA      PRE_COPY_P2P
 *   SAVING, SAVING | NDMA        STOP_COPY
 *   RESUMING, RESUMING | NDMA    RESUMING
 *   SAVING | RESUMING            ERROR (reads only)
 *
 * A write is carried out as single-bit steps, bits cleared before bits are
 * set, as the RFC thread settled (Cornelia Huck and Alex Williamson,
 * 2021-12-13/14): set NDMA, clear RUNNING, clear SAVING, clear RESUMING,
 * set RESUMING, set SAVING, set RUNNING, clear NDMA.  So RUNNING is
 * cleared first and set last, no step passes through an invalid value,
 * and undoing a failed write is the same walk from where the device is
 * back to where it was.  Each step goes to its value's v2 state through
 * migdev_mig_set_state_locked(), with one exception: SAVING without
 * RUNNING that is only a step on the way (to a value with RUNNING, or
 * without SAVING) is quiesced pre-copy, PRE_COPY_P2P (no DMA, no
 * interrupt), not STOP_COPY: a stop-copy session can never run again, and
 * its snapshot would be thrown away.  So 0 -> SAVING | RUNNING starts
 * saving before the device runs, and leaving pre-copy for STOP or
 * RESUMING takes no snapshot.
 *
 * One interface at a time: the region takes device_state writes only while
 * the v2 state is RUNNING or it owns the migration itself (v1.active), and
 * migration.c refuses v2 state changes while it does.
 *
 * Everything here runs under state_mutex.
 */
#include <linux/file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>

#include "migdev.h"

#define MIGDEV_V1_RUNNING	VFIO_DEVICE_STATE_V1_RUNNING
#define MIGDEV_V1_SAVING	VFIO_DEVICE_STATE_V1_SAVING
#define MIGDEV_V1_RESUMING	VFIO_DEVICE_STATE_V1_RESUMING
#define MIGDEV_V1_NDMA		MIGDEV_MIG_STATE_V1_NDMA
#define MIGDEV_V1_ERROR		(MIGDEV_V1_SAVING | MIGDEV_V1_RESUMING)
#define MIGDEV_V1_BITS		(MIGDEV_V1_RUNNING | MIGDEV_V1_SAVING | \
				 MIGDEV_V1_RESUMING | MIGDEV_V1_NDMA)

#define MIGDEV_V1_OFF(field)	offsetof(struct vfio_device_migration_info, field)

static_assert(MIGDEV_MIG_REGION_INDEX == VFIO_PCI_NUM_REGIONS);
static_assert(sizeof(struct vfio_device_migration_info) == 32);
static_assert(MIGDEV_V1_OFF(device_state) == 0);
static_assert(MIGDEV_V1_OFF(reserved) == 4);
static_assert(MIGDEV_V1_OFF(pending_bytes) == 8);
static_assert(MIGDEV_V1_OFF(data_offset) == 16);
static_assert(MIGDEV_V1_OFF(data_size) == 24);
static_assert(sizeof(struct vfio_device_migration_info) <= MIGDEV_MIG_DATA_OFFSET);
static_assert(MIGDEV_MIG_DATA_OFFSET % PAGE_SIZE == 0);

/* The steps of a write, in order. */
static const struct {
	u32 bit;
	bool set;
} migdev_v1_steps[] = {
	{ MIGDEV_V1_NDMA, true },
	{ MIGDEV_V1_RUNNING, false },
	{ MIGDEV_V1_SAVING, false },
	{ MIGDEV_V1_RESUMING, false },
	{ MIGDEV_V1_RESUMING, true },
	{ MIGDEV_V1_SAVING, true },
	{ MIGDEV_V1_RUNNING, true },
	{ MIGDEV_V1_NDMA, false },
};

/* What device_state reads for a v2 state. */
static u32 migdev_v1_image(enum vfio_device_mig_state s)
{
	switch (s) {
	case VFIO_DEVICE_STATE_STOP:
		return 0;
	case VFIO_DEVICE_STATE_RUNNING:
		return MIGDEV_V1_RUNNING;
	case VFIO_DEVICE_STATE_RUNNING_P2P:
		return MIGDEV_V1_RUNNING | MIGDEV_V1_NDMA;
	case VFIO_DEVICE_STATE_PRE_COPY:
		return MIGDEV_V1_SAVING | MIGDEV_V1_RUNNING;
	case VFIO_DEVICE_STATE_PRE_COPY_P2P:
		return MIGDEV_V1_SAVING | MIGDEV_V1_RUNNING | MIGDEV_V1_NDMA;
	case VFIO_DEVICE_STATE_STOP_COPY:
		return MIGDEV_V1_SAVING;
	case VFIO_DEVICE_STATE_RESUMING:
		return MIGDEV_V1_RESUMING;
	default:
		return MIGDEV_V1_ERROR;
	}
}

/* The v2 state for value @v, on a walk that ends at @to. */
static enum vfio_device_mig_state migdev_v1_to_v2(u32 v, u32 to)
{
	bool ndma = v & MIGDEV_V1_NDMA;

	if (v & MIGDEV_V1_RESUMING)
		return VFIO_DEVICE_STATE_RESUMING;
	if (v & MIGDEV_V1_SAVING) {
		if (v & MIGDEV_V1_RUNNING)
			return ndma ? VFIO_DEVICE_STATE_PRE_COPY_P2P :
				      VFIO_DEVICE_STATE_PRE_COPY;
		/* Only a step on the way: quiesced pre-copy, see the top. */
		if ((to & MIGDEV_V1_RUNNING) || !(to & MIGDEV_V1_SAVING))
			return VFIO_DEVICE_STATE_PRE_COPY_P2P;
		return VFIO_DEVICE_STATE_STOP_COPY;
	}
	if (v & MIGDEV_V1_RUNNING)
		return ndma ? VFIO_DEVICE_STATE_RUNNING_P2P :
			      VFIO_DEVICE_STATE_RUNNING;
	return VFIO_DEVICE_STATE_STOP;
}

/* One step: reach @v's v2 state.  A data_fd it opens stays the device's. */
static int migdev_v1_reach_locked(struct migdev_device *mvdev, u32 v, u32 to)
{
	enum vfio_device_mig_state target = migdev_v1_to_v2(v, to);
	struct file *f;

	/* A stop-copy session stays one until SAVING clears. */
	if (target == VFIO_DEVICE_STATE_PRE_COPY_P2P && !(v & MIGDEV_V1_RUNNING) &&
	    mvdev->mig.state == VFIO_DEVICE_STATE_STOP_COPY)
		target = VFIO_DEVICE_STATE_STOP_COPY;
	f = migdev_mig_set_state_locked(mvdev, target);
	if (IS_ERR(f))
		return PTR_ERR(f);
	if (f)
		fput(f);
	return 0;
}

/* Walk from @from to @to a bit at a time. */
static int migdev_v1_walk_locked(struct migdev_device *mvdev, u32 from, u32 to)
{
	u32 cur = from;
	unsigned int i;
	int ret;

	lockdep_assert_held(&mvdev->mig.state_mutex);
	for (i = 0; i < ARRAY_SIZE(migdev_v1_steps); i++) {
		u32 bit = migdev_v1_steps[i].bit;
		bool set = migdev_v1_steps[i].set;

		if (!!(cur & bit) == set || !!(to & bit) != set)
			continue;
		cur ^= bit;
		ret = migdev_v1_reach_locked(mvdev, cur, to);
		if (ret)
			return ret;
	}
	/* Steps that change nothing in v2 (NDMA while stopped) end here. */
	return migdev_v1_reach_locked(mvdev, to, to);
}

static bool migdev_v1_saving(struct migdev_device *mvdev)
{
	return mvdev->mig.v1.active && (mvdev->mig.v1.state & MIGDEV_V1_SAVING) &&
	       mvdev->mig.save;
}

static bool migdev_v1_resuming(struct migdev_device *mvdev)
{
	return mvdev->mig.v1.active && (mvdev->mig.v1.state & MIGDEV_V1_RESUMING) &&
	       mvdev->mig.resume;
}

/* After device_state changed: drop what the new state has no use for. */
static void migdev_v1_settle_locked(struct migdev_device *mvdev)
{
	struct migdev_mig_v1 *v1 = &mvdev->mig.v1;

	v1->active = mvdev->mig.state != VFIO_DEVICE_STATE_RUNNING;
	if (v1->seg_seq != mvdev->mig.save_seq || !migdev_v1_saving(mvdev)) {
		v1->seg_seq = 0;
		v1->seg_len = 0;
	}
	if (!migdev_v1_resuming(mvdev))
		v1->data_size = 0;
}

/*
 * The data section, allocated on first use (a session, or an mmap of it)
 * and kept until the device is closed: a mapping of it stays valid across
 * sessions, as QEMU expects.  Lockless: mmap() allocates it under
 * mmap_lock, a device_state write under state_mutex.
 *
 * It is the user's memory, charged to its memory cgroup: pages of its own
 * (vmalloc_user() cannot charge, and the allocator that could is not
 * exported), vmap()ed for the kernel and inserted into user mappings.
 */
static void migdev_v1_section_free(struct migdev_v1_section *sec)
{
	unsigned int i;

	if (!sec)
		return;
	if (sec->va)
		vunmap(sec->va);
	for (i = 0; i < MIGDEV_V1_PAGES; i++)
		if (sec->pages[i])
			put_page(sec->pages[i]);
	kfree(sec);
}

static struct migdev_v1_section *migdev_v1_section(struct migdev_mig_v1 *v1)
{
	struct migdev_v1_section *sec = READ_ONCE(v1->sec), *old;
	unsigned int i;

	if (sec)
		return sec;
	sec = kzalloc(sizeof(*sec), GFP_KERNEL_ACCOUNT);
	if (!sec)
		return NULL;
	for (i = 0; i < MIGDEV_V1_PAGES; i++) {
		sec->pages[i] = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO |
					   __GFP_RETRY_MAYFAIL | __GFP_NOWARN);
		if (!sec->pages[i])
			goto out_free;
	}
	sec->va = vmap(sec->pages, MIGDEV_V1_PAGES, VM_MAP, PAGE_KERNEL);
	if (!sec->va)
		goto out_free;
	old = cmpxchg(&v1->sec, NULL, sec);
	if (old) {
		migdev_v1_section_free(sec);
		return old;
	}
	return sec;

out_free:
	migdev_v1_section_free(sec);
	return NULL;
}

static int migdev_v1_write_state_locked(struct migdev_device *mvdev, u32 new)
{
	struct migdev_mig_v1 *v1 = &mvdev->mig.v1;
	int ret, uret;
	u32 old;

	lockdep_assert_held(&mvdev->mig.state_mutex);
	if (mvdev->mig.state == VFIO_DEVICE_STATE_ERROR) {
		migdev_user_warn(mvdev, "migration region: device_state 0x%x refused: the device is in ERROR until VFIO_DEVICE_RESET\n",
				 new);
		return -EINVAL;
	}
	if (!v1->active && mvdev->mig.state != VFIO_DEVICE_STATE_RUNNING) {
		migdev_user_warn(mvdev, "migration region: device_state 0x%x refused: a v2 migration is in progress (state %d)\n",
				 new, mvdev->mig.state);
		return -EBUSY;
	}
	if (new & ~MIGDEV_V1_BITS) {
		migdev_user_warn(mvdev, "migration region: device_state 0x%x refused: reserved bits 0x%x set\n",
				 new, new & ~MIGDEV_V1_BITS);
		return -EINVAL;
	}
	if ((new & MIGDEV_V1_RESUMING) &&
	    (new & (MIGDEV_V1_SAVING | MIGDEV_V1_RUNNING))) {
		migdev_user_warn(mvdev, "migration region: device_state 0x%x refused: RESUMING goes with neither SAVING nor RUNNING\n",
				 new);
		return -EINVAL;
	}
	old = v1->active ? v1->state : MIGDEV_V1_RUNNING;
	if ((old & (MIGDEV_V1_SAVING | MIGDEV_V1_RUNNING)) == MIGDEV_V1_SAVING &&
	    (new & (MIGDEV_V1_SAVING | MIGDEV_V1_RUNNING)) ==
	    (MIGDEV_V1_SAVING | MIGDEV_V1_RUNNING)) {
		migdev_user_warn(mvdev, "migration region: device_state 0x%x -> 0x%x refused: stop-and-copy cannot go back to pre-copy; clear SAVING first\n",
				 old, new);
		return -EINVAL;
	}
	if ((new & (MIGDEV_V1_SAVING | MIGDEV_V1_RESUMING)) &&
	    !migdev_v1_section(v1))
		return -ENOMEM;

	ret = migdev_v1_walk_locked(mvdev, old, new);
	if (!ret) {
		v1->state = new;
		migdev_v1_settle_locked(mvdev);
		return 0;
	}

	/* Undo: the same walk from where the device stands back to @old. */
	uret = migdev_v1_walk_locked(mvdev, migdev_v1_image(mvdev->mig.state),
				     old);
	if (uret) {
		migdev_user_err(mvdev, "migration region: device_state 0x%x -> 0x%x failed (%pe), and going back failed too (%pe)\n",
				old, new, ERR_PTR(ret), ERR_PTR(uret));
		migdev_mig_error_locked(mvdev);
		v1->state = MIGDEV_V1_ERROR;
		v1->active = true;
		migdev_v1_settle_locked(mvdev);
		return ret;
	}
	migdev_user_warn(mvdev, "migration region: device_state 0x%x -> 0x%x failed (%pe); back to 0x%x\n",
			 old, new, ERR_PTR(ret), old);
	v1->state = old;
	migdev_v1_settle_locked(mvdev);
	return ret;
}

static u32 migdev_v1_read_state_locked(struct migdev_device *mvdev)
{
	if (mvdev->mig.state == VFIO_DEVICE_STATE_ERROR)
		return MIGDEV_V1_ERROR;
	if (mvdev->mig.v1.active)
		return mvdev->mig.v1.state;
	return migdev_v1_image(mvdev->mig.state);
}

/* pending_bytes: reading it means the handed-out segment was collected. */
static u64 migdev_v1_pending_locked(struct migdev_device *mvdev)
{
	if (!migdev_v1_saving(mvdev))
		return 0;
	mvdev->mig.v1.seg_seq = 0;
	mvdev->mig.v1.seg_len = 0;
	return migdev_save_pending(mvdev->mig.save);
}

/* data_offset: while saving, commits the user to a segment. */
static int migdev_v1_data_offset_locked(struct migdev_device *mvdev, u64 *val)
{
	struct migdev_mig_v1 *v1 = &mvdev->mig.v1;
	ssize_t n;

	*val = MIGDEV_MIG_DATA_OFFSET;
	if (!migdev_v1_saving(mvdev) || v1->seg_seq == mvdev->mig.save_seq)
		return 0;
	n = migdev_save_read_kernel(mvdev->mig.save, v1->sec->va,
				    MIGDEV_MIG_DATA_SIZE);
	if (n == -ENOMSG)
		n = 0;	/* pre-copy has nothing new: an empty segment */
	if (n < 0) {
		migdev_user_warn(mvdev, "migration region: no segment: %pe\n",
				 ERR_PTR(n));
		return n;
	}
	v1->seg_seq = mvdev->mig.save_seq;
	v1->seg_len = n;
	return 0;
}

static u64 migdev_v1_data_size_locked(struct migdev_device *mvdev)
{
	if (migdev_v1_saving(mvdev))
		return mvdev->mig.v1.seg_seq == mvdev->mig.save_seq ? mvdev->mig.v1.seg_len : 0;
	if (migdev_v1_resuming(mvdev))
		return mvdev->mig.v1.data_size;
	return 0;
}

/* data_size written while resuming: the segment goes to the stream. */
static int migdev_v1_set_data_size_locked(struct migdev_device *mvdev, u64 val)
{
	int ret;

	if (!migdev_v1_resuming(mvdev)) {
		migdev_user_warn(mvdev, "migration region: data_size write refused: the region is not RESUMING\n");
		return -EINVAL;
	}
	if (val > MIGDEV_MIG_DATA_SIZE) {
		migdev_user_warn(mvdev, "migration region: data_size %llu refused: the data section holds %u bytes\n",
				 val, MIGDEV_MIG_DATA_SIZE);
		return -EINVAL;
	}
	ret = migdev_resume_write_kernel(mvdev->mig.resume, mvdev->mig.v1.sec->va, val);
	if (ret)
		return ret;
	mvdev->mig.v1.data_size = val;
	return 0;
}

/* The fields of struct vfio_device_migration_info. */
static ssize_t migdev_v1_field_rw(struct migdev_device *mvdev,
				  char __user *ubuf, size_t count,
				  unsigned int off, bool write)
{
	const char *op = write ? "write" : "read";
	unsigned int width;
	u64 val = 0;
	u32 val32 = 0;
	int ret = 0;

	switch (off) {
	case MIGDEV_V1_OFF(device_state):
	case MIGDEV_V1_OFF(reserved):
		width = 4;
		break;
	case MIGDEV_V1_OFF(pending_bytes):
	case MIGDEV_V1_OFF(data_offset):
	case MIGDEV_V1_OFF(data_size):
		width = 8;
		break;
	default:
		migdev_user_warn(mvdev, "migration region: %s of %zu bytes at 0x%x refused: not the start of a field\n",
				 op, count, off);
		return -EINVAL;
	}
	if (count != width) {
		migdev_user_warn(mvdev, "migration region: %s of %zu bytes at 0x%x refused: the field takes %u-byte accesses\n",
				 op, count, off, width);
		return -EINVAL;
	}
	if (write && (off == MIGDEV_V1_OFF(pending_bytes) ||
		      off == MIGDEV_V1_OFF(data_offset))) {
		migdev_user_warn(mvdev, "migration region: write at 0x%x refused: %s is read-only\n",
				 off, off == MIGDEV_V1_OFF(data_offset) ?
				 "data_offset" : "pending_bytes");
		return -EINVAL;
	}
	if (write && copy_from_user(width == 4 ? (void *)&val32 : (void *)&val,
				    ubuf, width))
		return -EFAULT;

	if (mutex_lock_killable(&mvdev->mig.state_mutex))
		return -EINTR;
	switch (off) {
	case MIGDEV_V1_OFF(device_state):
		if (write)
			ret = migdev_v1_write_state_locked(mvdev, val32);
		else
			val32 = migdev_v1_read_state_locked(mvdev);
		break;
	case MIGDEV_V1_OFF(reserved):
		val32 = 0;	/* reads 0, writes ignored */
		break;
	case MIGDEV_V1_OFF(pending_bytes):
		val = migdev_v1_pending_locked(mvdev);
		break;
	case MIGDEV_V1_OFF(data_offset):
		ret = migdev_v1_data_offset_locked(mvdev, &val);
		break;
	case MIGDEV_V1_OFF(data_size):
		if (write)
			ret = migdev_v1_set_data_size_locked(mvdev, val);
		else
			val = migdev_v1_data_size_locked(mvdev);
		break;
	}
	mutex_unlock(&mvdev->mig.state_mutex);
	if (ret)
		return ret;
	if (!write && copy_to_user(ubuf, width == 4 ? (void *)&val32 : (void *)&val,
				   width))
		return -EFAULT;
	return width;
}

/*
 * The data section: any width, inside the segment (saving) or section.
 * The state is checked under state_mutex, the bytes are copied without it:
 * a user buffer that faults slowly (userfaultfd, FUSE) must not hold
 * state_mutex, which arcs and sysfs readers wait for.  That is safe
 * because the section is the user's to change at any time anyway (it can
 * be mapped: the kernel copies a segment out once before decoding it),
 * and it lives until the device is closed, which cannot happen during an
 * access through the device's file.
 */
static ssize_t migdev_v1_data_rw(struct migdev_device *mvdev,
				 char __user *ubuf, size_t count, u64 off,
				 bool write)
{
	struct migdev_mig_v1 *v1 = &mvdev->mig.v1;
	ssize_t ret = count;
	u8 *p = NULL;

	if (mutex_lock_killable(&mvdev->mig.state_mutex))
		return -EINTR;
	if (write) {
		if (!migdev_v1_resuming(mvdev)) {
			migdev_user_warn(mvdev, "migration region: data write refused: the region is not RESUMING\n");
			ret = -EINVAL;
		} else {
			p = v1->sec->va + off;
		}
	} else {
		if (!migdev_v1_saving(mvdev) || v1->seg_seq != mvdev->mig.save_seq) {
			migdev_user_warn(mvdev, "migration region: data read refused: no segment handed out (read data_offset while SAVING)\n");
			ret = -EINVAL;
		} else if (off >= v1->seg_len || count > v1->seg_len - off) {
			migdev_user_warn(mvdev, "migration region: data read of %zu bytes at 0x%llx refused: the segment has %llu bytes\n",
					 count, off, v1->seg_len);
			ret = -EINVAL;
		} else {
			p = v1->sec->va + off;
		}
	}
	mutex_unlock(&mvdev->mig.state_mutex);
	if (!p)
		return ret;
	if (write ? copy_from_user(p, ubuf, count) : copy_to_user(ubuf, p, count))
		return -EFAULT;
	return ret;
}

/*
 * A fault rule (faults.c) at a field a VMM drives the region by: 0 to go
 * on, or the access's error.  No lock is held: a delay holds nothing.
 */
static int migdev_v1_fault(struct migdev_device *mvdev, u64 off, bool write)
{
	u32 point;

	if (off == MIGDEV_V1_OFF(device_state) && write)
		point = MIGDEV_FP_V1_STATE;
	else if (off == MIGDEV_V1_OFF(pending_bytes) && !write)
		point = MIGDEV_FP_V1_PENDING;
	else if (off == MIGDEV_V1_OFF(data_size))
		point = MIGDEV_FP_V1_DATA_SIZE;
	else
		return 0;
	return migdev_fault_here(mvdev, point, 0, 0);
}

/**
 * migdev_v1_rw() - an access to the v1 migration region
 * @mvdev: device
 * @ubuf: user buffer
 * @count: bytes, at least 1
 * @off: offset in the region; @off + @count is inside it (region.c)
 * @write: write, not read
 *
 * Return: @count or a negative errno.
 */
ssize_t migdev_v1_rw(struct migdev_device *mvdev, char __user *ubuf,
		     size_t count, u64 off, bool write)
{
	int ret = migdev_v1_fault(mvdev, off, write);

	if (ret)
		return ret;
	if (off >= MIGDEV_MIG_DATA_OFFSET)
		return migdev_v1_data_rw(mvdev, ubuf, count,
					 off - MIGDEV_MIG_DATA_OFFSET, write);
	return migdev_v1_field_rw(mvdev, ubuf, count, off, write);
}

/**
 * migdev_v1_region_info_caps() - the migration region's info and
 * capabilities (VFIO_DEVICE_GET_REGION_INFO)
 * @mvdev: device
 * @info: the user's struct, its index the migration region's
 * @caps: the capabilities go here
 *
 * The region has three capabilities: its type, NDMA support, and the
 * sparse mmap of its data section.
 *
 * Return: 0 or a negative errno.
 */
int migdev_v1_region_info_caps(struct migdev_device *mvdev,
			       struct vfio_region_info *info,
			       struct vfio_info_cap *caps)
{
	struct vfio_region_info_cap_type type = {
		.header.id = VFIO_REGION_INFO_CAP_TYPE,
		.header.version = 1,
		.type = VFIO_REGION_TYPE_MIGRATION_DEPRECATED,
		.subtype = VFIO_REGION_SUBTYPE_MIGRATION_DEPRECATED,
	};
	struct vfio_info_cap_header ndma = {
		.id = VFIO_REGION_INFO_CAP_MIG_NDMA,
		.version = 1,
	};
	struct vfio_region_info_cap_sparse_mmap *sparse;
	size_t sparse_size = struct_size(sparse, areas, 1);
	int ret;

	info->flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE |
		      VFIO_REGION_INFO_FLAG_MMAP | VFIO_REGION_INFO_FLAG_CAPS;

	sparse = kzalloc(sparse_size, GFP_KERNEL);
	if (!sparse)
		return -ENOMEM;
	sparse->header.id = VFIO_REGION_INFO_CAP_SPARSE_MMAP;
	sparse->header.version = 1;
	sparse->nr_areas = 1;
	sparse->areas[0].offset = MIGDEV_MIG_DATA_OFFSET;
	sparse->areas[0].size = MIGDEV_MIG_DATA_SIZE;

	ret = vfio_info_add_capability(caps, &type.header, sizeof(type));
	if (!ret)
		ret = vfio_info_add_capability(caps, &ndma, sizeof(ndma));
	if (!ret)
		ret = vfio_info_add_capability(caps, &sparse->header,
					       sparse_size);
	kfree(sparse);
	return ret;
}

/**
 * migdev_v1_mmap() - mmap() of the region: the data section only
 * @mvdev: device
 * @vma: the new mapping
 * @off: its offset in the region
 *
 * What the sparse mmap capability offers: a shared mapping inside the data
 * section.  QEMU then copies segments with memcpy() instead of a pread()
 * of 8 bytes at a time.  The kernel copies each segment out of the
 * section once before decoding it (migdev_resume_write_kernel()), so a
 * user writing into the mapping meanwhile only changes its own stream.
 *
 * Return: 0 or a negative errno.
 */
int migdev_v1_mmap(struct migdev_device *mvdev, struct vm_area_struct *vma,
		   u64 off)
{
	u64 size = vma->vm_end - vma->vm_start;
	struct migdev_v1_section *sec;
	unsigned long num;

	if (off < MIGDEV_MIG_DATA_OFFSET ||
	    off - MIGDEV_MIG_DATA_OFFSET >= MIGDEV_MIG_DATA_SIZE ||
	    size > MIGDEV_MIG_DATA_SIZE - (off - MIGDEV_MIG_DATA_OFFSET)) {
		migdev_user_err(mvdev,
				"mmap of 0x%llx bytes at 0x%llx of the migration region refused: only the data section (0x%x bytes at 0x%x) can be mapped\n",
				size, off, MIGDEV_MIG_DATA_SIZE,
				MIGDEV_MIG_DATA_OFFSET);
		return -EINVAL;
	}
	if (!(vma->vm_flags & VM_SHARED)) {
		migdev_user_err(mvdev,
				"private mmap of the migration region refused: map it MAP_SHARED\n");
		return -EINVAL;
	}
	sec = migdev_v1_section(&mvdev->mig.v1);
	if (!sec)
		return -ENOMEM;
	num = vma_pages(vma);
	vm_flags_set(vma, VM_DONTEXPAND | VM_DONTDUMP);
	return vm_insert_pages(vma, vma->vm_start,
			       sec->pages + ((off - MIGDEV_MIG_DATA_OFFSET) >> PAGE_SHIFT),
			       &num);
}

/**
 * migdev_v1_reset_locked() - the region starts over (reset, open)
 * @mvdev: device, state_mutex held
 *
 * The data section stays: the user may have it mapped.
 */
static void migdev_v1_reset_locked(struct migdev_device *mvdev)
{
	struct migdev_v1_section *sec = mvdev->mig.v1.sec;

	lockdep_assert_held(&mvdev->mig.state_mutex);
	memset(&mvdev->mig.v1, 0, sizeof(mvdev->mig.v1));
	mvdev->mig.v1.sec = sec;
}

/**
 * migdev_v1_close_locked() - the user let go: the data section goes too
 * @mvdev: device, state_mutex held; no mapping of the device is left
 */
static void migdev_v1_close_locked(struct migdev_device *mvdev)
{
	migdev_v1_reset_locked(mvdev);
	migdev_v1_section_free(mvdev->mig.v1.sec);
	mvdev->mig.v1.sec = NULL;
}

static const struct migdev_mig_iface migdev_v1_iface = {
	.reset_locked = migdev_v1_reset_locked,
	.close_locked = migdev_v1_close_locked,
};

/**
 * migdev_v1_init() - the v1 region hears when the state machine starts over
 * @mvdev: device, being initialised
 */
void migdev_v1_init(struct migdev_device *mvdev)
{
	mvdev->mig.iface = &migdev_v1_iface;
}
