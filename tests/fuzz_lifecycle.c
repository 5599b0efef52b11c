// SPDX-License-Identifier: GPL-2.0-only
/*
 * uapi_fuzz's lifecycle arena.  The fuzzer's own instances are reopened
 * only under a write lock, so nothing it did ever overlapped the close of
 * a group or container with another use of it; the kernel's legacy
 * container use-after-free (Documentation/migdev.rst, "Kernel bugs found")
 * hid there.  Here VFIO's objects are shared by all threads with no lock
 * of ours around their use: containers, groups, device fds, and where the
 * kernel has them iommufds, IOASes and vfio cdevs, opened, attached,
 * detached, used and closed in any order, on two instances of the arena's
 * own that share containers.
 *
 * Each object lives in a slot.  A thread uses a private dup() of the
 * slot's fd, so that a close by another thread drops the slot's
 * reference, not the number under the user (the kernel objects still go
 * away when the last reference does, which is the race wanted), and no
 * fd number is ever reused under a thread.  IOAS ids are shared plainly:
 * another thread may destroy one while it is used.
 *
 * One sequence is left out where the kernel is known to break on it:
 * VFIO_IOMMU_* ioctls on a container whose last group another thread can
 * close ("lc_iommu"), which oopses a kernel without the container fix.
 * It unmaps, too, while devices in the container hold pins and other
 * threads open and close devices there, which deadlocks a kernel without
 * type1's lock-order fix; so it runs only where MIGDEV_KERNEL_FIXES names
 * both.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/iommufd.h>

#include "fuzz_lifecycle.h"
#include "migdev_lib.h"

#define LC_NINST		2
#define LC_NCONT		2
#define LC_NDEV		4
#define LC_NIOMMUFD	2
#define LC_NIOAS	4
#define LC_NCDEV	2
#define LC_MEM		(256u << 10)
/* Guest memory of the arena: rings and buffers, away from uapi_fuzz's. */
#define LC_IOVA		0x200000000000ULL

static struct {
	pthread_mutex_t lock;	/* the slots below */
	char uuid[LC_NINST][MDL_UUID_LEN];
	char group_path[LC_NINST][PATH_MAX];
	char cdev_path[LC_NINST][PATH_MAX];	/* "" without the cdev */
	int cont[LC_NCONT];
	int group[LC_NINST];
	int dev[LC_NDEV];
	int iommufd[LC_NIOMMUFD];
	uint32_t ioas[LC_NIOMMUFD][LC_NIOAS];
	int cdev[LC_NCDEV];
	uint8_t *mem;		/* LC_MEM, mapped at LC_IOVA by lc_iommu */
	int have_iommufd;
	int iommu_ops_safe;
} lc = { .lock = PTHREAD_MUTEX_INITIALIZER };

static long long sret(long long ret)
{
	return ret < 0 ? -errno : ret;
}

/* A private reference to a slot's object, or -1. */
static int slot_get(int *slot)
{
	int fd = -1;

	pthread_mutex_lock(&lc.lock);
	if (*slot >= 0)
		fd = dup(*slot);
	pthread_mutex_unlock(&lc.lock);
	return fd;
}

/* Put @fd in @slot (its old object, if any, is closed): 0 or -errno. */
static long long slot_put(int *slot, int fd)
{
	int old;

	if (fd < 0)
		return -errno;
	pthread_mutex_lock(&lc.lock);
	old = *slot;
	*slot = fd;
	pthread_mutex_unlock(&lc.lock);
	if (old >= 0)
		close(old);
	return 0;
}

static long long slot_close(int *slot)
{
	int fd;

	pthread_mutex_lock(&lc.lock);
	fd = *slot;
	*slot = -1;
	pthread_mutex_unlock(&lc.lock);
	if (fd < 0)
		return -EBADF;
	return close(fd) ? -errno : 0;
}

static uint32_t ioas_get(uint32_t i, uint32_t k)
{
	uint32_t id;

	pthread_mutex_lock(&lc.lock);
	id = lc.ioas[i % LC_NIOMMUFD][k % LC_NIOAS];
	pthread_mutex_unlock(&lc.lock);
	return id;
}

static void ioas_set(uint32_t i, uint32_t k, uint32_t id)
{
	pthread_mutex_lock(&lc.lock);
	lc.ioas[i % LC_NIOMMUFD][k % LC_NIOAS] = id;
	pthread_mutex_unlock(&lc.lock);
}

int lc_enabled(unsigned int kind)
{
	if (kind == LC_IOMMU)
		return lc.iommu_ops_safe;
	if (kind >= LC_IOMMUFD && kind <= LC_CDEV)
		return lc.have_iommufd;
	return kind < NR_LC_OPS;
}

int lc_init(const char **left_out)
{
	unsigned int i;
	int ret;

	lc.iommu_ops_safe = mdl_kernel_has_fix(MDL_FIX_CONTAINER_GROUP_LOCK) &&
			     mdl_kernel_has_fix(MDL_FIX_TYPE1_LOCK_ORDER);
	*left_out = lc.iommu_ops_safe ? NULL : "lc_iommu";
	for (i = 0; i < LC_NCONT; i++)
		lc.cont[i] = -1;
	for (i = 0; i < LC_NDEV; i++)
		lc.dev[i] = -1;
	for (i = 0; i < LC_NIOMMUFD; i++)
		lc.iommufd[i] = -1;
	for (i = 0; i < LC_NCDEV; i++)
		lc.cdev[i] = -1;
	lc.mem = mmap(NULL, LC_MEM, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (lc.mem == MAP_FAILED)
		return -ENOMEM;
	for (i = 0; i < LC_NINST; i++) {
		lc.group[i] = -1;
		ret = __mdl_create(mdl_parent(), MIGDEV_TYPE_SMALL, lc.uuid[i]);
		if (!ret)
			ret = mdl_group_path(lc.uuid[i], lc.group_path[i],
					     sizeof(lc.group_path[i]));
		if (ret)
			return ret;
		if (mdl_cdev_path(lc.uuid[i], lc.cdev_path[i],
				  sizeof(lc.cdev_path[i])))
			lc.cdev_path[i][0] = 0;
	}
	lc.have_iommufd = !access("/dev/iommu", R_OK | W_OK) &&
			  lc.cdev_path[0][0] && !access(lc.cdev_path[0], F_OK);
	return 0;
}

/* A container: open one, close one, or ask it what it supports. */
static long long lc_container(const struct lc_args *o)
{
	int *slot = &lc.cont[o->a % LC_NCONT], fd;
	long long ret;

	if (o->b % 3 == 0)
		return slot_close(slot);
	fd = slot_get(slot);
	if (fd < 0)
		return slot_put(slot, open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC));
	ret = sret(ioctl(fd, o->c % 2 ? VFIO_CHECK_EXTENSION : VFIO_GET_API_VERSION,
			 o->d % 4 ? VFIO_TYPE1v2_IOMMU : o->d));
	close(fd);
	return ret;
}

/* A group: open it (once at a time: EBUSY), close it, or its status. */
static long long lc_group(const struct lc_args *o)
{
	unsigned int i = o->a % LC_NINST;
	struct vfio_group_status st = { .argsz = sizeof(st) };
	long long ret;
	int fd;

	if (o->b % 3 == 0)
		return slot_close(&lc.group[i]);
	fd = slot_get(&lc.group[i]);
	if (fd < 0) {
		fd = open(lc.group_path[i], O_RDWR | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		/* Half the time, as a VMM would: into a container, type1. */
		if (o->b % 2) {
			int c = slot_get(&lc.cont[o->c % LC_NCONT]);

			if (c >= 0 && !ioctl(fd, VFIO_GROUP_SET_CONTAINER, &c))
				ioctl(c, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU);
			if (c >= 0)
				close(c);
		}
		return slot_put(&lc.group[i], fd);
	}
	ret = sret(ioctl(fd, VFIO_GROUP_GET_STATUS, &st));
	close(fd);
	return ret ? ret : st.flags;
}

/* VFIO_GROUP_SET_CONTAINER (sometimes with a wrong fd) or UNSET. */
static long long lc_set_container(const struct lc_args *o)
{
	int g = slot_get(&lc.group[o->a % LC_NINST]), c;
	long long ret;

	if (g < 0)
		return -EBADF;
	if (o->b % 3 == 0) {
		ret = sret(ioctl(g, VFIO_GROUP_UNSET_CONTAINER));
	} else {
		c = o->c % 8 ? slot_get(&lc.cont[o->d % LC_NCONT]) : dup(g);
		ret = sret(ioctl(g, VFIO_GROUP_SET_CONTAINER, &c));
		if (c >= 0)
			close(c);
	}
	close(g);
	return ret;
}

static long long lc_set_iommu(const struct lc_args *o)
{
	static const unsigned long types[] = {
		VFIO_TYPE1v2_IOMMU, VFIO_TYPE1v2_IOMMU, VFIO_TYPE1_IOMMU,
		VFIO_NOIOMMU_IOMMU,
	};
	int c = slot_get(&lc.cont[o->a % LC_NCONT]);
	long long ret;

	if (c < 0)
		return -EBADF;
	ret = sret(ioctl(c, VFIO_SET_IOMMU, o->b % 8 ? types[o->c % 4] : o->x));
	close(c);
	return ret;
}

/*
 * The IOMMU driver's ioctls on a container whose groups come and go: the
 * sequence that oopses a kernel without the fix.
 */
static long long lc_iommu(const struct lc_args *o)
{
	int c = slot_get(&lc.cont[o->a % LC_NCONT]);
	uint64_t off = (o->x % LC_MEM) & ~4095ULL;
	long long ret;

	if (c < 0)
		return -EBADF;
	switch (o->b % 5) {
	case 0: {
		struct vfio_iommu_type1_info info = {
			.argsz = o->c % 4 ? sizeof(info) : o->c % 64,
		};

		ret = sret(ioctl(c, VFIO_IOMMU_GET_INFO, &info));
		break;
	}
	case 1:
	case 2: {
		struct vfio_iommu_type1_dma_map m = {
			.argsz = sizeof(m),
			.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
			.vaddr = (uintptr_t)lc.mem, .iova = LC_IOVA, .size = LC_MEM,
		};

		if (o->b % 5 == 2) {	/* a part of it */
			m.vaddr += off;
			m.iova += off;
			m.size = 4096;
		}
		ret = sret(ioctl(c, VFIO_IOMMU_MAP_DMA, &m));
		break;
	}
	case 3: {
		struct vfio_iommu_type1_dma_unmap u = {
			.argsz = sizeof(u), .iova = LC_IOVA, .size = LC_MEM,
		};

		if (o->c % 4 == 0) {
			u.flags = VFIO_DMA_UNMAP_FLAG_ALL;
			u.iova = 0;
			u.size = 0;
		} else if (o->c % 4 == 1) {
			u.iova += off;
			u.size = 4096;
		}
		ret = sret(ioctl(c, VFIO_IOMMU_UNMAP_DMA, &u));
		break;
	}
	default: {
		struct vfio_iommu_type1_dirty_bitmap db = {
			.argsz = sizeof(db),
			.flags = o->c % 2 ? VFIO_IOMMU_DIRTY_PAGES_FLAG_START :
					    VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP,
		};

		ret = sret(ioctl(c, VFIO_IOMMU_DIRTY_PAGES, &db));
		break;
	}
	}
	close(c);
	return ret;
}

/* Take a device fd from a group (sometimes by a wrong name), or close one. */
static long long lc_device(const struct lc_args *o)
{
	unsigned int i = o->a % LC_NINST;
	int *slot = &lc.dev[o->b % LC_NDEV], g;
	long long ret;

	if (o->c % 3 == 0)
		return slot_close(slot);
	g = slot_get(&lc.group[i]);
	if (g < 0)
		return -EBADF;
	ret = slot_put(slot, ioctl(g, VFIO_GROUP_GET_DEVICE_FD,
				   o->d % 8 ? lc.uuid[i] : "migdev-nonesuch"));
	close(g);
	return ret;
}

/* What a driver does first: info, config space, queue 0, a copy, reset. */
static long long lc_device_io(const struct lc_args *o)
{
	struct mdl_dev d;
	long long ret = 0;
	uint32_t v = 0;

	memset(&d, 0, sizeof(d));
	d.container = -1;
	d.group = -1;
	d.iommufd = -1;
	d.fd = slot_get(o->a % 2 ? &lc.dev[o->b % LC_NDEV] : &lc.cdev[o->b % LC_NCDEV]);
	if (d.fd < 0)
		return -EBADF;
	switch (o->c % 6) {
	case 0: {
		struct vfio_device_info info = { .argsz = sizeof(info) };

		ret = sret(ioctl(d.fd, VFIO_DEVICE_GET_INFO, &info));
		break;
	}
	case 1:
		ret = mdl_pread(&d, VFIO_PCI_CONFIG_REGION_INDEX, PCI_VENDOR_ID,
				&v, 4);
		ret = ret < 0 ? ret : v;
		break;
	case 2:
		v = PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
		ret = mdl_pwrite(&d, VFIO_PCI_CONFIG_REGION_INDEX, PCI_COMMAND,
				 &v, 2);
		break;
	case 3: {
		/* Queue 0's ring at the arena's memory; a copy within it. */
		struct migdev_desc *ring = (void *)lc.mem;
		uint32_t n = o->d % 16;

		ring[n] = mdl_desc(MIGDEV_OP_COPY, LC_IOVA + LC_MEM / 2,
				   LC_IOVA + LC_MEM / 4, 4096, 0);
		ret = mdl_pwrite(&d, VFIO_PCI_BAR0_REGION_INDEX,
				 MIGDEV_REG_QUEUE(0) + MIGDEV_Q_TAIL, &n, 4);
		if (o->d % 4 == 0) {
			uint64_t base = LC_IOVA;
			uint32_t size = 16, ctrl = MIGDEV_Q_CTRL_ENABLE;

			mdl_pwrite(&d, VFIO_PCI_BAR0_REGION_INDEX,
				   MIGDEV_REG_QUEUE(0) + MIGDEV_Q_RING_BASE, &base, 8);
			mdl_pwrite(&d, VFIO_PCI_BAR0_REGION_INDEX,
				   MIGDEV_REG_QUEUE(0) + MIGDEV_Q_RING_SIZE, &size, 4);
			base = LC_IOVA + LC_MEM - 4096;
			mdl_pwrite(&d, VFIO_PCI_BAR0_REGION_INDEX,
				   MIGDEV_REG_QUEUE(0) + MIGDEV_Q_COMPL_BASE, &base, 8);
			ret = mdl_pwrite(&d, VFIO_PCI_BAR0_REGION_INDEX,
					 MIGDEV_REG_QUEUE(0) + MIGDEV_Q_CTRL, &ctrl, 4);
		}
		break;
	}
	case 4:
		ret = sret(ioctl(d.fd, VFIO_DEVICE_RESET));
		break;
	default: {
		int dfd = -1;

		ret = __mdl_mig_set(&d, o->d % 2 ? VFIO_DEVICE_STATE_STOP :
				    VFIO_DEVICE_STATE_RUNNING, &dfd);
		if (dfd >= 0)
			close(dfd);
		break;
	}
	}
	close(d.fd);
	return ret;
}

/* An iommufd: open, close, allocate an IOAS or destroy one. */
static long long lc_iommufd(const struct lc_args *o)
{
	unsigned int i = o->a % LC_NIOMMUFD;
	long long ret;
	int fd;

	if (o->b % 4 == 0)
		return slot_close(&lc.iommufd[i]);
	fd = slot_get(&lc.iommufd[i]);
	if (fd < 0)
		return slot_put(&lc.iommufd[i], open("/dev/iommu", O_RDWR | O_CLOEXEC));
	if (o->b % 4 == 1) {
		struct iommu_destroy de = {
			.size = sizeof(de), .id = ioas_get(i, o->c),
		};

		ret = sret(ioctl(fd, IOMMU_DESTROY, &de));
	} else {
		struct iommu_ioas_alloc al = { .size = sizeof(al) };

		ret = sret(ioctl(fd, IOMMU_IOAS_ALLOC, &al));
		if (!ret)
			ioas_set(i, o->c, al.out_ioas_id);
	}
	close(fd);
	return ret;
}

/* IOMMU_IOAS_MAP / UNMAP of the arena's memory on a shared IOAS. */
static long long lc_ioas(const struct lc_args *o)
{
	unsigned int i = o->a % LC_NIOMMUFD;
	int fd = slot_get(&lc.iommufd[i]);
	long long ret;

	if (fd < 0)
		return -EBADF;
	if (o->b % 2) {
		struct iommu_ioas_map m = {
			.size = sizeof(m),
			.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
				 IOMMU_IOAS_MAP_WRITEABLE,
			.ioas_id = ioas_get(i, o->c), .user_va = (uintptr_t)lc.mem,
			.length = LC_MEM, .iova = LC_IOVA,
		};

		ret = sret(ioctl(fd, IOMMU_IOAS_MAP, &m));
	} else {
		struct iommu_ioas_unmap u = {
			.size = sizeof(u), .ioas_id = ioas_get(i, o->c),
			.iova = o->d % 2 ? LC_IOVA : 0,
			.length = o->d % 2 ? LC_MEM : UINT64_MAX,
		};

		ret = sret(ioctl(fd, IOMMU_IOAS_UNMAP, &u));
	}
	close(fd);
	return ret;
}

/* A vfio cdev: open, close, bind to an iommufd, attach to an IOAS, detach. */
static long long lc_cdev(const struct lc_args *o)
{
	int *slot = &lc.cdev[o->a % LC_NCDEV], fd, ifd;
	long long ret;

	switch (o->b % 5) {
	case 0:
		return slot_close(slot);
	case 1:
		return slot_put(slot, open(lc.cdev_path[o->c % LC_NINST],
					   O_RDWR | O_CLOEXEC));
	default:
		break;
	}
	fd = slot_get(slot);
	if (fd < 0)
		return -EBADF;
	if (o->b % 5 == 2) {
		struct vfio_device_bind_iommufd b = { .argsz = sizeof(b) };

		ifd = slot_get(&lc.iommufd[o->c % LC_NIOMMUFD]);
		b.iommufd = ifd;
		ret = sret(ioctl(fd, VFIO_DEVICE_BIND_IOMMUFD, &b));
		if (ifd >= 0)
			close(ifd);
	} else if (o->b % 5 == 3) {
		struct vfio_device_attach_iommufd_pt at = {
			.argsz = sizeof(at), .pt_id = ioas_get(o->c, o->d),
		};

		ret = sret(ioctl(fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at));
	} else {
		struct vfio_device_detach_iommufd_pt de = { .argsz = sizeof(de) };

		ret = sret(ioctl(fd, VFIO_DEVICE_DETACH_IOMMUFD_PT, &de));
	}
	close(fd);
	return ret;
}

long long lc_exec(unsigned int kind, const struct lc_args *o)
{
	if (!lc_enabled(kind))
		return -EOPNOTSUPP;
	switch (kind) {
	case LC_CONTAINER:
		return lc_container(o);
	case LC_GROUP:
		return lc_group(o);
	case LC_SET_CONTAINER:
		return lc_set_container(o);
	case LC_SET_IOMMU:
		return lc_set_iommu(o);
	case LC_IOMMU:
		return lc_iommu(o);
	case LC_DEVICE:
		return lc_device(o);
	case LC_DEVICE_IO:
		return lc_device_io(o);
	case LC_IOMMUFD:
		return lc_iommufd(o);
	case LC_IOAS:
		return lc_ioas(o);
	default:
		return lc_cdev(o);
	}
}

int lc_fini(void)
{
	unsigned int i;
	int ret = 0;

	/* Devices first: each holds its group. */
	for (i = 0; i < LC_NDEV; i++)
		slot_close(&lc.dev[i]);
	for (i = 0; i < LC_NCDEV; i++)
		slot_close(&lc.cdev[i]);
	for (i = 0; i < LC_NINST; i++)
		slot_close(&lc.group[i]);
	for (i = 0; i < LC_NCONT; i++)
		slot_close(&lc.cont[i]);
	for (i = 0; i < LC_NIOMMUFD; i++)
		slot_close(&lc.iommufd[i]);
	/* Each instance opens anew, and its config space answers. */
	for (i = 0; i < LC_NINST; i++) {
		struct mdl_dev d;
		int r = __mdl_open(lc.uuid[i], &d);

		if (!r && mdl_cfg_read(&d, PCI_VENDOR_ID, 2) != MIGDEV_PCI_VENDOR_ID)
			r = -EIO;
		if (!r)
			mdl_close(&d);
		if (r) {
			printf("# lifecycle arena: instance %s: %s\n", lc.uuid[i],
			       strerror(-r));
			ret = r;
		}
		if (__mdl_remove(lc.uuid[i]) && !ret)
			ret = -EBUSY;
	}
	munmap(lc.mem, LC_MEM);
	return ret;
}
