/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * libmigdev: open a migdev instance through the VFIO group/container uAPI
 * (or the vfio cdev + iommufd one) and reach its regions and interrupts.
 * Shared by the tests and samples.
 *
 * Convention (as in tools/testing/selftests/vfio): __mdl_foo() returns 0 or
 * a negative errno; mdl_foo() does the same work and exits the program with
 * a message on failure.
 */
#ifndef MIGDEV_LIB_H
#define MIGDEV_LIB_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>
#include <linux/migdev.h>

/*
 * Linux 7.1's uAPI, which the 6.12 headers the tests build with lack: the
 * user's opt-in to output flags in VFIO_MIG_GET_PRECOPY_INFO (the feature
 * VFIO_DEVICE_FEATURE_MIG_PRECOPY_INFOv2) and its one flag
 * (VFIO_PRECOPY_INFO_REINIT), with the values of include/uapi/linux/vfio.h.
 */
#define MDL_FEATURE_PRECOPY_INFO_V2	12
#define MDL_PRECOPY_INFO_REINIT		1u

#define MDL_UUID_LEN	37
#define MDL_REGION_SHIFT 40

struct mdl_dev {
	int container;	/* group/container path, else -1 */
	int group;
	int iommufd;	/* cdev path (/dev/iommu), else -1 */
	uint32_t ioas;	/* the IOAS the device is attached to */
	uint32_t devid;	/* from VFIO_DEVICE_BIND_IOMMUFD */
	int fd;
	char uuid[MDL_UUID_LEN];
	uint64_t next_iova;	/* bump allocator for mdl_dma_map() */
};

/* Guest memory for the device: anonymous memory mapped at an IOVA. */
struct mdl_dma {
	void *va;
	uint64_t iova;
	size_t size;
};

/* A DMA queue set up by mdl_queue_init(). */
struct mdl_queue {
	struct mdl_dev *dev;
	unsigned int index;
	uint32_t size;
	uint32_t tail;
	struct mdl_dma ring;
	struct mdl_dma compl;
	struct migdev_desc *descs;
	struct migdev_completion *cpl;
};

/* sysfs */
int mdl_sysfs_read(const char *path, char *buf, size_t len);
int mdl_sysfs_write(const char *path, const char *val);
long long mdl_sysfs_read_ll(const char *path);
/* The parent tests use: $MIGDEV_PARENT (a PCI parent), else "migdev0". */
const char *mdl_parent(void);
/*
 * Kernel bugs the suite found (Documentation/migdev.rst, "Kernel bugs
 * found"), by the names tests/run-guest.sh puts in $MIGDEV_KERNEL_FIXES
 * for a kernel that carries their fixes (kernel-patches/).
 */
#define MDL_FIX_CONTAINER_GROUP_LOCK	"vfio-container-group-lock"
#define MDL_FIX_TYPE1_LOCK_ORDER	"vfio-type1-lock-order"
/* Whether the running kernel is meant to carry fix @name. */
int mdl_kernel_has_fix(const char *name);
const char *mdl_type_name(unsigned int type);	/* "migdev-small"... */
long long mdl_available(const char *parent, unsigned int type);
void mdl_new_uuid(char uuid[MDL_UUID_LEN]);
int __mdl_create(const char *parent, unsigned int type, char uuid[MDL_UUID_LEN]);
void mdl_create(const char *parent, unsigned int type, char uuid[MDL_UUID_LEN]);
int __mdl_remove(const char *uuid);
void mdl_remove(const char *uuid);
int mdl_exists(const char *uuid);
long long mdl_attr(const char *uuid, const char *attr);

/* VFIO */
/* /dev/vfio/N, the group of instance @uuid: 0 or -errno. */
int mdl_group_path(const char *uuid, char *path, size_t len);
int __mdl_open(const char *uuid, struct mdl_dev *dev);
/* Open in a group container of IOMMU type @iommu (__mdl_open: type1 v2). */
int __mdl_open_iommu(const char *uuid, struct mdl_dev *dev,
		     unsigned long iommu);
/* /dev/vfio/devices/vfioN, the vfio cdev of @uuid: 0, -ENODEV or -errno. */
int mdl_cdev_path(const char *uuid, char *path, size_t len);
void mdl_open(const char *uuid, struct mdl_dev *dev);
/*
 * Open through /dev/vfio/devices/vfioN and bind to a new iommufd with one
 * IOAS (-ENODEV: the kernel has no vfio cdev).  With @attach 0 the device
 * is bound but not attached: mdl_attach_ioas() does that.
 */
int __mdl_open_cdev(const char *uuid, struct mdl_dev *dev, int attach);
/*
 * The IOMMU backends a test can run over, as its fixture's variants do:
 * a group in a type1 v2 container, or the vfio cdev bound to an iommufd.
 */
enum mdl_backend { MDL_GROUP, MDL_IOMMUFD };
#define MDL_NO_CDEV	"no vfio cdev: the kernel lacks CONFIG_VFIO_DEVICE_CDEV"
/* __mdl_open() or __mdl_open_cdev(attached): -ENODEV if there is none. */
int __mdl_open_backend(const char *uuid, struct mdl_dev *dev,
		       enum mdl_backend backend);
/*
 * A new instance of @type on mdl_parent(), opened over @backend; with no
 * such backend, removed again and -ENODEV.  0 or -errno.
 */
int __mdl_create_open(unsigned int type, enum mdl_backend backend,
		      char uuid[MDL_UUID_LEN], struct mdl_dev *dev);
int __mdl_attach_ioas(struct mdl_dev *dev, uint32_t pt_id);
int __mdl_detach_ioas(struct mdl_dev *dev);
void mdl_close(struct mdl_dev *dev);

static inline off_t mdl_region_off(unsigned int index)
{
	return (off_t)index << MDL_REGION_SHIFT;
}

int __mdl_region_info(struct mdl_dev *dev, unsigned int index,
		      struct vfio_region_info *info);
ssize_t mdl_pread(struct mdl_dev *dev, unsigned int index, uint64_t off,
		  void *buf, size_t len);
ssize_t mdl_pwrite(struct mdl_dev *dev, unsigned int index, uint64_t off,
		   const void *buf, size_t len);

uint32_t mdl_cfg_read(struct mdl_dev *dev, unsigned int off, unsigned int size);
void mdl_cfg_write(struct mdl_dev *dev, unsigned int off, unsigned int size,
		   uint32_t val);
uint32_t mdl_read32(struct mdl_dev *dev, unsigned int off);
uint64_t mdl_read64(struct mdl_dev *dev, unsigned int off);
void mdl_write32(struct mdl_dev *dev, unsigned int off, uint32_t val);
void mdl_write64(struct mdl_dev *dev, unsigned int off, uint64_t val);

int __mdl_set_irq_eventfds(struct mdl_dev *dev, unsigned int index,
			   unsigned int start, unsigned int count,
			   const int32_t *fds);
int __mdl_set_irqs(struct mdl_dev *dev, uint32_t flags, unsigned int index,
		   unsigned int start, unsigned int count, const void *data,
		   size_t data_len);
/* Guest memory. */
int __mdl_dma_map(struct mdl_dev *dev, size_t size, struct mdl_dma *m);
void mdl_dma_map(struct mdl_dev *dev, size_t size, struct mdl_dma *m);
int __mdl_dma_unmap_iova(struct mdl_dev *dev, struct mdl_dma *m);
void mdl_dma_free(struct mdl_dev *dev, struct mdl_dma *m);

/* The DMA engine. */
void mdl_bus_master(struct mdl_dev *dev, int on);
int __mdl_queue_init(struct mdl_dev *dev, unsigned int index, uint32_t size,
		     struct mdl_queue *q);
void mdl_queue_init(struct mdl_dev *dev, unsigned int index, uint32_t size,
		    struct mdl_queue *q);
void mdl_queue_fini(struct mdl_queue *q);
/*
 * Disable queue @index and wait up to @timeout_ms for the ABORTED record
 * of a descriptor in flight (STATUS.BUSY clear).  0, or -EBUSY.
 */
int mdl_queue_disable(struct mdl_dev *dev, unsigned int index,
		      unsigned int timeout_ms);
struct migdev_desc mdl_desc(uint16_t op, uint64_t src, uint64_t dst,
			    uint32_t len, uint16_t flags);
/* Queue @d and ring the doorbell; returns the descriptor's counter. */
uint32_t mdl_submit(struct mdl_queue *q, const struct migdev_desc *d);
/* Write @d into the ring without ringing; mdl_doorbell() rings. */
uint32_t mdl_post(struct mdl_queue *q, const struct migdev_desc *d);
void mdl_doorbell(struct mdl_queue *q);
/*
 * Wait up to @timeout_ms until descriptor @n is in flight (STATUS.BUSY) or
 * has completed: 1 if it was seen in flight, else 0.  A test that acts on
 * a descriptor in flight waits here, not for a fixed time: on a loaded
 * host the engine may take long to get its first turn.
 */
int mdl_wait_in_flight(struct mdl_queue *q, uint32_t n, int timeout_ms);
/* Wait for descriptor @n; its status, or 0 after @timeout_ms. */
uint32_t mdl_wait(struct mdl_queue *q, uint32_t n, int timeout_ms);
struct migdev_completion *mdl_cpl(struct mdl_queue *q, uint32_t n);
uint32_t mdl_qread32(struct mdl_dev *dev, unsigned int q, unsigned int reg);
void mdl_qwrite32(struct mdl_dev *dev, unsigned int q, unsigned int reg,
		  uint32_t val);
void mdl_qwrite64(struct mdl_dev *dev, unsigned int q, unsigned int reg,
		  uint64_t val);
/* Submit one descriptor and wait for it: its status. */
uint32_t mdl_run(struct mdl_queue *q, const struct migdev_desc *d);

/* CRC-32C as the device computes it. */
uint32_t mdl_crc32c(const void *buf, size_t len);
/* @n bytes (whole 32-bit words) of xorshift noise from @seed, at @p. */
void mdl_fill_random(void *p, size_t n, unsigned int seed);
/*
 * State worth migrating, from @seed: 24 pages of device memory, the
 * scratch register, BAR0's address and the cache line size.
 */
void mdl_dirty_device(struct mdl_dev *dev, unsigned int seed);

/* debugfs */
int mdl_pause(const char *uuid, int pause);
/* Write one fault rule (or "clear") to @uuid's faults file: 0 or -errno. */
int mdl_fault(const char *uuid, const char *text);
/* Write @text to @uuid's debugfs @file in one write(): 0 or -errno. */
int mdl_debugfs_write(const char *uuid, const char *file, const char *text);
/* One number of @uuid's debugfs stats, by name; -1 if absent. */
long long mdl_stat(const char *uuid, const char *name);
long long mdl_last_pause_ns(const char *uuid);
/* Collect the dirty bitmap into @bits (one bit per page); count or -errno. */
long mdl_collect_dirty(const char *uuid, uint64_t *bits, size_t nbits);
double mdl_now(void);

/* Migration (v2). */
int __mdl_mig_set(struct mdl_dev *dev, uint32_t state, int *data_fd);
uint32_t mdl_mig_get(struct mdl_dev *dev);
int __mdl_mig_flags(struct mdl_dev *dev, uint64_t *flags);
int __mdl_mig_data_size(struct mdl_dev *dev, uint64_t *bytes);
int __mdl_precopy_info(int fd, uint64_t *initial, uint64_t *dirty);
/* Read a data_fd until it returns 0 (or -errno) into a growing buffer. */
ssize_t mdl_read_all(int fd, uint8_t **buf, size_t *cap);
/* Write all of @len with writes of at most @chunk bytes: 0 or -errno. */
int mdl_write_all(int fd, const void *buf, size_t len, size_t chunk);
/* Save @src from STOP_COPY (it must be RUNNING): the stream's length. */
ssize_t mdl_save(struct mdl_dev *src, uint8_t **buf, size_t *cap);
/*
 * Map on @dst the guest memory of its source's queue @q and buffers @a and
 * @b, at the same addresses: as after QEMU migrated the guest's RAM.
 */
int __mdl_dma_mirror(struct mdl_dev *dst, const struct mdl_queue *q,
		     const struct mdl_dma *a, const struct mdl_dma *b);
/* Load a stream into @dst (RUNNING) and run it: 0 or -errno. */
int mdl_load(struct mdl_dev *dst, const void *buf, size_t len, size_t chunk);

/*
 * The v1 migration region (mig_v1.c), as a client drives it.  A stream
 * and the sizes of the segments it was read in:
 */
struct mdl_v1_segs {
	uint8_t *buf;
	size_t len, cap;
	uint32_t *sz;
	size_t n, ncap;
};

/* The fields of the region's header, struct vfio_device_migration_info. */
#define MDL_V1_STATE	offsetof(struct vfio_device_migration_info, device_state)
#define MDL_V1_RESERVED	offsetof(struct vfio_device_migration_info, reserved)
#define MDL_V1_PENDING	offsetof(struct vfio_device_migration_info, pending_bytes)
#define MDL_V1_OFFSET	offsetof(struct vfio_device_migration_info, data_offset)
#define MDL_V1_SIZE	offsetof(struct vfio_device_migration_info, data_size)

void mdl_v1_segs_free(struct mdl_v1_segs *s);
int mdl_v1_segs_add(struct mdl_v1_segs *s, size_t len);	/* 0 or -ENOMEM */
/* device_state, or ~0 if it cannot be read. */
uint32_t mdl_v1_state(struct mdl_dev *d);
/* Write device_state: 0 or -errno. */
int mdl_v1_set(struct mdl_dev *d, uint32_t v);
/* A 64-bit field of the header at @off (MDL_V1_*). */
int mdl_v1_get64(struct mdl_dev *d, unsigned int off, uint64_t *v);
int mdl_v1_set64(struct mdl_dev *d, unsigned int off, uint64_t v);
/* The v2 state a device_state value stands for. */
uint32_t mdl_v1_to_v2(uint32_t v);
/* While SAVING: segments until pending_bytes is 0 (or one is empty). */
int mdl_v1_drain(struct mdl_dev *d, struct mdl_v1_segs *s, size_t chunk);
/* While RESUMING: segments back, in order and size, @chunk bytes a write. */
int mdl_v1_put(struct mdl_dev *d, const uint8_t *buf, const uint32_t *sz,
	       size_t n, size_t chunk);
/* A stream in segments of @seg bytes, the last what is left. */
int mdl_v1_put_stream(struct mdl_dev *d, const uint8_t *buf, size_t len,
		      size_t seg);
/* Save from RUNNING, stop-copy only; resume from RUNNING and run. */
int mdl_v1_save(struct mdl_dev *d, struct mdl_v1_segs *s);
int mdl_v1_load(struct mdl_dev *d, const struct mdl_v1_segs *s);
int __mdl_dma_map_at(struct mdl_dev *dev, void *va, size_t size, uint64_t iova);

int mdl_eventfd(void);
/* Counter value of an eventfd, 0 if it has not fired (non-blocking). */
uint64_t mdl_eventfd_read(int fd);
/* Wait up to @ms for the eventfd; 1 if it fired. */
int mdl_eventfd_wait(int fd, int ms);
/*
 * Signals on @fd: read until @want arrived or @ms passed, then 10 ms more
 * so that an extra one is counted too. The engine signals just after it
 * writes the completion, so a test that saw the completion waits here, not
 * for a fixed time.
 */
uint64_t mdl_eventfd_count(int fd, uint64_t want, int ms);

/*
 * Stalled user memory, as a VMM whose buffers are userfaultfd- or
 * FUSE-backed makes it: one page registered for missing faults, so that
 * any access to it, the kernel's copy_from_user() included, blocks until
 * the test resolves the fault.
 */
struct mdl_fuse;

struct mdl_stall {
	int uffd;
	uint8_t *page;
	int owned;	/* mapped by mdl_stall_init() */
	uint32_t ptid;	/* the thread that took the last fault, or 0 */
	struct mdl_fuse *fuse;	/* FUSE-backed (mdl_stall_init_fuse_at()) */
};

/* 0, or -errno: the kernel has no userfaultfd for us. */
int mdl_stall_init(struct mdl_stall *s);
/* The same on @page, a page of the caller's that was never touched. */
int mdl_stall_init_at(struct mdl_stall *s, void *page);
/*
 * The same with a FUSE file instead of a userfaultfd: @page (or a new
 * page) becomes a private mapping of a page of a file whose daemon holds
 * the read (fuse_stall.c), which waits uninterruptibly, as on a hung
 * network file system.  mdl_stall_release() answers with zeros;
 * mdl_stall_release_with() is for userfaultfd stalls only.
 */
int mdl_stall_init_fuse_at(struct mdl_stall *s, void *page);
/* Wait until something faults on the page: 1, or 0 after @ms. */
int mdl_stall_wait_fault(struct mdl_stall *s, int ms);
/* Let the access go on: the page becomes zeros. */
void mdl_stall_release(struct mdl_stall *s);
/* Let the access go on with @data (a page) in the page. */
void mdl_stall_release_with(struct mdl_stall *s, const void *data);
void mdl_stall_fini(struct mdl_stall *s);

/*
 * Stalled user memory as a hung network file system makes it: a FUSE file
 * (fuse_stall.c) of @size bytes at @path, served by a daemon thread of
 * this process.  While frozen, the daemon holds every FUSE_READ it gets
 * unanswered: a thread that faults on a page of a MAP_SHARED mapping of
 * the file not yet in the page cache then waits, uninterruptibly once the
 * request has reached the daemon, until the read is answered.
 */
#define MDL_FUSE_HELD	16

struct mdl_fuse_read {
	uint64_t unique;
	uint64_t off;
	uint32_t size;
};

struct mdl_fuse {
	int fd;			/* /dev/fuse */
	char dir[64];		/* the mount */
	char path[80];		/* its one file */
	size_t size;
	uint8_t fill;		/* the file's every byte */
	pthread_t daemon;
	pthread_mutex_t lock;	/* protects frozen and the reads held */
	pthread_cond_t cond;	/* a read was held */
	int frozen;
	int mounted;
	int running;
	int stopping;		/* __atomic */
	unsigned int nheld;
	struct mdl_fuse_read held[MDL_FUSE_HELD];
	uint32_t held_tid;	/* the thread whose read was held last */
	unsigned long errors;
};

/* 0, -ENODEV (no FUSE in the kernel) or -errno. */
int mdl_fuse_start(struct mdl_fuse *f, size_t size);
/* Hold reads from now on (@on), or answer the held ones and stop holding. */
void mdl_fuse_freeze(struct mdl_fuse *f, int on);
/* Wait up to @ms until @want reads are held: how many are. */
int mdl_fuse_wait_held(struct mdl_fuse *f, unsigned int want, int ms);
/* Answer what is held, unmount, end the connection. */
void mdl_fuse_stop(struct mdl_fuse *f);
/*
 * End the file system without answering what is held: the daemon dies
 * (its /dev/fuse closed, @abort 0), or root aborts the connection through
 * fusectl (@abort 1, the daemon thread then finds it gone).  Held reads
 * fail; mdl_fuse_stop() cleans up after.  0 or -errno.
 */
int mdl_fuse_kill(struct mdl_fuse *f, int abort);

#endif /* MIGDEV_LIB_H */
