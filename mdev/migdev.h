/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * migdev: the mediation layer: parents, types, and VFIO devices.
 */
#ifndef MIGDEV_MDEV_H
#define MIGDEV_MDEV_H

#include <linux/device.h>
#include <linux/eventfd.h>
#include <linux/kref.h>
#include <linux/mdev.h>
#include <linux/math64.h>
#include <linux/mutex.h>
#include <linux/ratelimit.h>
#include <linux/vfio.h>
#include <uapi/linux/migdev.h>

#include "../emul/device.h"
#include "engines.h"

/**
 * DOC: lock order
 *
 * Outermost first; a lock is only taken while holding locks above it.
 *
 * - type1's device_list_lock, held by its unmap notifier around our
 *   dma_unmap().
 * - the pins' lock (struct migdev_pins): pinning, held across
 *   vfio_pin_pages() (type1's iommu->lock, the user's mmap_lock and page
 *   faults) and by the user's dma_unmap; it takes emul.lock to remove
 *   pins, and unpins (iommu->lock again) only after dropping it.  Nothing
 *   takes it under another lock of the device.  type1 itself takes
 *   iommu->lock before device_list_lock (a second unmap, a device opened
 *   in the container): the two deadlock with a pin being dropped, a
 *   kernel bug (Documentation, "Kernel bugs found"; the fix in
 *   kernel-patches/6.12/ makes device_list_lock outermost, as here).
 * - the writer's lock (writer.c): its settings, and a run of it, which
 *   takes emul.lock for each block it writes.
 * - state_mutex (struct migdev_device): the migration state machine.
 *   - the I/O lock of a data_fd (read_lock, write_lock in migfile.c):
 *     under state_mutex only for the v1 region's segments, which no user
 *     reads or writes; a user's read() or write() takes it without
 *     state_mutex and holds it across the copy (so: I/O lock, then
 *     mmap_lock through a page fault)
 *     - the data_fd's lock (migfile.c): never held across a user copy
 *       - devmem lock (emul/devmem.c), then save_wq_lock
 *   - emul.lock (struct migdev_emul): registers, queues, a chunk; held
 *     only across copies through pinned pages, never a wait for user
 *     memory (but with a type1 v1 container, pins.c)
 *     - devmem lock, then save_wq_lock (a page became dirty)
 *     - irq.lock (interrupts the device raises)
 *     - the worker's lock (a kick, worker.c)
 *     (the device's writes are logged under RCU, not dma_log.lock)
 * - the engines' lock (struct migdev_engines), then a worker's lock (an
 *   engine handed to a waiting turn wakes its worker); a worker holds an
 *   engine while it executes a chunk, so the engines come before emul.lock
 *   in time, but no lock is held across: the engine is a token.
 * - mmap_lock, then devmem lock (BAR2 faults, mmap.c); nothing here takes
 *   state_mutex or emul.lock under mmap_lock.
 * - dma_log.lock: a user's DMA logging start, stop or report; held across
 *   faults on the report's bitmap (mmap_lock), so nothing that the device
 *   or a control path needs is taken under it, nor it under them.
 * - cap_lock (struct migdev_parent) takes nothing else, and neither does
 *   irq.lock, nor the migration statistics' reason_lock (taken under
 *   state_mutex or a data_fd's lock), nor faults.lock (taken under any of
 *   the device's locks where a fault may fire).
 */

/**
 * struct migdev_worker - the thread that runs an open device's engine
 * (worker.c)
 * @lock: protects @vtsk and @in_step
 * @vtsk: the worker, a thread of the process that opened the device, or
 *	  NULL while the device is closed or closing
 * @in_step: a chunk executes (and may wait for the user's memory)
 * @idle: woken when a chunk ends, for the close
 * @idle_work: wakes the worker to unpin once the engine has been idle
 * @flags: what the worker has to do (worker.c)
 * @turn: its place at the parent's engines
 */
struct migdev_worker {
	spinlock_t lock; /* protects vtsk, in_step */
	struct vhost_task *vtsk;
	bool in_step;
	wait_queue_head_t idle;
	struct delayed_work idle_work;
	unsigned long flags;
	struct migdev_engine_turn turn;
};

/**
 * struct migdev_pins - the guest pages an open device has pinned (pins.c)
 * @lock: serialises pinning and unpinning; held across vfio_pin_pages(),
 *	  which may wait for the user's memory
 * @pages: IOVA page number -> its pinned struct page; entries are added
 *	   under @lock, removed under @lock and emul.lock, read under either
 * @nr: entries in @pages
 * @no_pin: the container refuses pinning (type1 v1): vfio_dma_rw()
 */
struct migdev_pins {
	struct mutex lock; /* pinning and unpinning, see above */
	struct xarray pages;
	unsigned long nr;
	bool no_pin;
};

/**
 * struct migdev_profile - a type's fixed shape
 * @sysfs_name: directory name under mdev_supported_types (after "migdev-")
 * @pretty_name: the type's "name" attribute
 * @nr_queues: DMA queues per instance
 * @devmem_size: device memory per instance, bytes
 */
struct migdev_profile {
	const char *sysfs_name;
	const char *pretty_name;
	u32 nr_queues;
	u64 devmem_size;
};

extern const struct migdev_profile migdev_profiles[MIGDEV_NUM_TYPES];

/**
 * struct migdev_type - a type as registered with one parent
 * @mtype: the mdev core's type object
 * @profile: its shape
 * @id: enum migdev_type_id
 * @preflight: its "migdev" directory (migration_compat; preflight.c)
 */
struct migdev_type {
	struct mdev_type mtype;
	const struct migdev_profile *profile;
	u32 id;
	struct kobject *preflight;
};

/**
 * struct migdev_parent - one emulated physical device (parent.c)
 * @ref: one for its registration, one per instance
 * @dev: the device it is: /sys/class/migdev/migdev<N> or a PCI function
 * @mparent: the mdev core's parent object
 * @types: this parent's types
 * @type_ptrs: @types as the array mdev_register_parent() takes
 * @engines: the execution engines its instances share
 * @cap_lock: serialises reservations of capacity
 * @devmem_total: device memory the parent has, bytes
 * @devmem_used: device memory reserved by instances, bytes
 * @queues_total: DMA queues the parent has
 * @queues_used: DMA queues reserved by instances
 * @nr_instances: instances alive
 */
struct migdev_parent {
	struct kref ref;
	struct device *dev;
	struct mdev_parent mparent;
	struct migdev_type types[MIGDEV_NUM_TYPES];
	struct mdev_type *type_ptrs[MIGDEV_NUM_TYPES];
	struct migdev_engines engines;
	struct mutex cap_lock; /* protects the *_used fields, nr_instances */
	u64 devmem_total;
	u64 devmem_used;
	u32 queues_total;
	u32 queues_used;
	u32 nr_instances;
};

#define MIGDEV_V1_PAGES	(MIGDEV_MIG_DATA_SIZE / PAGE_SIZE)

/**
 * struct migdev_v1_section - the v1 region's data section
 * @va: its kernel mapping
 * @pages: its pages, charged to the user (mapped into its mmap()s)
 */
struct migdev_v1_section {
	u8 *va;
	struct page *pages[MIGDEV_V1_PAGES];
};

/**
 * struct migdev_mig_v1 - the v1 migration region of an instance
 * @active: the v1 region owns migration: device_state was written and the
 *	    device is not back to RUNNING
 * @state: device_state as last written (valid while @active)
 * @sec: the data section, from its first use until the device is closed;
 *	 set without a lock (migdev_v1_section())
 * @seg_seq: the saving session (its save_seq) @seg_len belongs to, or 0:
 *	     no segment is handed out (data_offset not read since it was
 *	     collected).  A number, not the session's pointer, which a later
 *	     session may reuse
 * @seg_len: bytes of the segment in @buf (saving)
 * @data_size: data_size as last written (resuming)
 *
 * All protected by the device's state_mutex.
 */
struct migdev_mig_v1 {
	bool active;
	u32 state;
	struct migdev_v1_section *sec;
	u64 seg_seq;
	u64 seg_len;
	u64 data_size;
};

/**
 * struct migdev_irq - a device's interrupts as VFIO delivers them (irq.c)
 * @lock: serialises interrupt configuration and delivery: everything below
 * @index: VFIO_PCI_*_IRQ_INDEX whose triggers are set, or -1
 * @intx_trigger: INTx eventfd
 * @intx_unmask: virqfd that unmasks INTx when its eventfd fires
 * @intx_masked: INTx is masked (auto-masked when it fires)
 * @intx_level: the device asserts INTx#
 * @msix_trigger: MSI-X eventfds, one per vector, NULL where unset
 * @msix_file: the file of each @msix_trigger, to take back unread signals
 * @msix_masked: vectors masked with VFIO_IRQ_SET_ACTION_MASK
 * @msix_pending: masked vectors that fired: delivered on unmask
 * @req_trigger: device request eventfd (VFIO_PCI_REQ_IRQ_INDEX)
 * @err_trigger: error eventfd (VFIO_PCI_ERR_IRQ_INDEX)
 */
struct migdev_irq {
	struct mutex lock; /* protects everything below */
	int index;
	struct eventfd_ctx *intx_trigger;
	struct virqfd *intx_unmask;
	bool intx_masked;
	bool intx_level;
	struct eventfd_ctx *msix_trigger[MIGDEV_MAX_VECTORS];
	struct file *msix_file[MIGDEV_MAX_VECTORS];
	unsigned long msix_masked;
	unsigned long msix_pending;
	struct eventfd_ctx *req_trigger;
	struct eventfd_ctx *err_trigger;
};

struct migdev_device;

/**
 * struct migdev_mig_iface - an interface to the state machine besides the
 * v2 uAPI, which keeps migration state of its own (the v1 region,
 * mig_v1.c); the machine calls it, so that it does not depend on it
 * @reset_locked: the machine is back to RUNNING with no migration (a
 *		  reset, an open): forget that state; state_mutex held
 * @close_locked: the user let go of the device: free what it held too;
 *		  state_mutex held, no mapping of the device left
 */
struct migdev_mig_iface {
	void (*reset_locked)(struct migdev_device *mvdev);
	void (*close_locked)(struct migdev_device *mvdev);
};

/**
 * struct migdev_mig_stats - what an instance's migrations did, for its
 * debugfs file "stats" (debugfs.c); read at any time without a lock, each
 * field on its own (READ_ONCE(), atomic64_read())
 * @saved: data_fd bytes users read, all sessions
 * @loaded: data_fd bytes users wrote that the device took
 * @refusals: streams refused
 * @faults: faults injected
 * @arcs: arcs taken (under state_mutex, as the rest but @reason)
 * @arcs_failed: arcs that failed
 * @quiesce_ns: how long the last quiesce took (RUNNING -> RUNNING_P2P,
 *		PRE_COPY -> PRE_COPY_P2P)
 * @stopcopy_ns: how long the last stop-copy lasted, from the arc into
 *		 STOP_COPY to the arc out of it
 * @stopcopy_start: when the current stop-copy began (ktime ns), or 0
 * @precopy_rounds: the last saving session's pre-copy rounds that found
 *		    pages (written under the data_fd's lock)
 * @stopcopy_bytes: what it sent in stop-copy (also)
 * @opaque_loaded: bytes of opaque state the last stream loaded brought,
 *		   each checked (under the resuming data_fd's lock)
 * @reason_lock: protects @reason, a leaf lock
 * @reason: why the last stream was refused, and at which byte
 */
struct migdev_mig_stats {
	atomic64_t saved;
	atomic64_t loaded;
	atomic64_t refusals;
	atomic64_t faults;
	u64 arcs;
	u64 arcs_failed;
	u64 quiesce_ns;
	u64 stopcopy_ns;
	u64 stopcopy_start;
	u64 precopy_rounds;
	u64 stopcopy_bytes;
	u64 opaque_loaded;
	spinlock_t reason_lock; /* protects reason */
	char reason[192];
};

/**
 * struct migdev_mig - a device's migration (migration.c, migfile.c,
 * mig_v1.c)
 * @state_mutex: serialises migration: everything below but @save_wq
 * @state: the VFIO migration state
 * @save: the saving data_fd, if any
 * @save_seq: counts saving sessions; the current one's number
 * @resume: the resuming data_fd, if any
 * @minor: stream minor version emitted and accepted at most
 * @save_wq_lock: protects @save_wq
 * @save_wq: the poll() queue of the pre-copy data_fd, or NULL: woken when
 *	     device memory gets dirty (migdev_save_dirtied())
 * @fail_skip: fault injection: arcs that still succeed before @fail_count
 * @fail_count: fault injection: arcs that fail after @fail_skip
 * @opaque_blocks: blocks of opaque state a stop-copy sends (debugfs
 *		   opaque); 0: none
 * @opaque_seed: their seed
 * @iface: the second interface to the state machine (the v1 region), told
 *	   when the machine starts over; set once at init, or NULL
 * @v1: the v1 migration region's state
 * @stats: what its migrations did
 */
struct migdev_mig {
	struct mutex state_mutex; /* protects migration state, see above */
	enum vfio_device_mig_state state;
	struct migdev_save *save;
	u64 save_seq;
	struct migdev_resume *resume;
	u16 minor;
	spinlock_t save_wq_lock; /* protects save_wq */
	wait_queue_head_t *save_wq;
	u32 fail_skip;
	u32 fail_count;
	u32 opaque_blocks;
	u64 opaque_seed;
	const struct migdev_mig_iface *iface;
	struct migdev_mig_v1 v1;
	struct migdev_mig_stats stats;
};

/**
 * struct migdev_debug - an instance's debugfs files (debugfs.c)
 * @dir: its directory
 * @last_pause_ns: how long the last pause through engine_pause took;
 *		   written and read with WRITE_ONCE() and READ_ONCE()
 */
struct migdev_debug {
	struct dentry *dir;
	u64 last_pause_ns;
};

/* Where a fault rule may fire (faults.c). */
enum migdev_fault_point {
	MIGDEV_FP_ARC,
	MIGDEV_FP_READ,
	MIGDEV_FP_WRITE,
	MIGDEV_FP_PRECOPY_INFO,
	MIGDEV_FP_DATA_SIZE,
	MIGDEV_FP_COMMIT,
	MIGDEV_FP_QUIESCE,
	MIGDEV_FP_V1_STATE,
	MIGDEV_FP_V1_PENDING,
	MIGDEV_FP_V1_DATA_SIZE,
	MIGDEV_FP_DMA_LOG_START,
	MIGDEV_FP_DMA_LOG_REPORT,
	MIGDEV_FP_NOW,
	/* internal: "read ... corrupt" counts only reads that returned data */
	MIGDEV_FP_READ_DATA,
};

/* What a fired rule does (faults.c). */
enum migdev_fault_action {
	MIGDEV_FA_FAIL = 1,	/* fail with errno @arg */
	MIGDEV_FA_ERROR,	/* (arc) fail, and the device goes to ERROR */
	MIGDEV_FA_DELAY,	/* wait @arg ms, then go on */
	MIGDEV_FA_SHORT,	/* (read, write) move at most @arg bytes */
	MIGDEV_FA_EOF,		/* (read) the stream ends here */
	MIGDEV_FA_CORRUPT,	/* (read) a byte of what is read changes */
	MIGDEV_FA_RESET,	/* the device resets, as a guest reboot does */
	MIGDEV_FA_REQ_IRQ,	/* the request interrupt fires */
	MIGDEV_FA_SCALE,	/* (precopy_info, data_size) answer @arg % */
	MIGDEV_FA_DIRTY,	/* (precopy_info) @arg more dirty bytes */
	MIGDEV_FA_ERR_IRQ,	/* the error interrupt fires */
};

/* An answer of @v bytes, scaled to @pct percent by a fault rule. */
static inline u64 migdev_fault_scale(u64 v, u64 pct)
{
	return mul_u64_u64_div_u64(v, pct, 100);
}

/**
 * struct migdev_fault - a fault that fired: what to do
 * @action: MIGDEV_FA_*
 * @arg: its number (errno, milliseconds, bytes)
 */
struct migdev_fault {
	u32 action;
	u64 arg;
};

struct migdev_fault_rule;
struct migdev_writer;

/**
 * struct migdev_faults - an instance's fault rules (faults.c)
 * @lock: protects the rules; a leaf, taken under any other lock
 * @rules: MIGDEV_FAULT_MAX rules, allocated with the first, or NULL
 * @nr: rules armed (read without @lock to skip the lock when 0)
 * @work: carries out a reset or interrupt action outside the locks of
 *	  the point that fired it; cancelled when the device closes
 * @pending: BIT(MIGDEV_FA_RESET), BIT(MIGDEV_FA_REQ_IRQ),
 *	     BIT(MIGDEV_FA_ERR_IRQ): what @work does
 * @open: a user has the device open: @work may be queued
 */
struct migdev_faults {
	spinlock_t lock; /* protects rules, nr and open */
	struct migdev_fault_rule *rules;
	unsigned int nr;
	bool open;
	struct work_struct work;
	unsigned long pending;
};

/**
 * struct migdev_dma_logging - the device's DMA logging (dma_log.c)
 * @lock: serialises the user's start, stop and reports; may be held
 *	  across a fault on the user's report bitmap, so the device never
 *	  takes it
 * @log: the pages the device wrote, per tracked range, or NULL; changed
 *	 under @lock, read by the device under RCU, freed after a grace
 *	 period
 */
struct migdev_dma_logging {
	struct mutex lock; /* serialises log changes and reports */
	struct migdev_dma_log __rcu *log;
};

/**
 * struct migdev_device - one mediated device instance
 * @vdev: the VFIO device; its lifetime is this structure's
 * @parent: owning parent
 * @type: type it was created with
 * @emul: the emulated PCI function
 * @worker: the thread that runs @emul's engine while the device is open
 * @pins: the guest pages it has pinned (pins.c)
 * @irq: its interrupts as VFIO delivers them (irq.c)
 * @debug: its debugfs files (debugfs.c)
 * @mig: its migration (migration.c, migfile.c, mig_v1.c)
 * @faults: its fault rules (faults.c)
 * @log_rs: the rate limit of the lines its user can cause
 * @dma_log: DMA logging (dma_log.c, only with CONFIG_IOMMUFD_DRIVER)
 * @writer: its writer (writer.c), allocated with its first settings
 *
 * Named mvdev throughout mdev/; mdev is the mdev core's struct mdev_device.
 */
struct migdev_device {
	struct vfio_device vdev;
	struct migdev_parent *parent;
	struct migdev_type *type;
	struct migdev_emul emul;
	struct migdev_worker worker;
	struct migdev_pins pins;

	struct migdev_irq irq;
	struct migdev_debug debug;
	struct migdev_mig mig;
	struct migdev_faults faults;
	struct migdev_writer *writer;
	struct ratelimit_state log_rs;
#if IS_ENABLED(CONFIG_IOMMUFD_DRIVER)
	struct migdev_dma_logging dma_log;
#endif
};

/*
 * Lines the user of a device can cause (refusals, failed arcs), at most
 * MIGDEV_LOG_BURST every 5 s per device: a user that loops on its own
 * device neither floods the log nor silences the lines of other devices,
 * as one rate limit per call site shared by all devices would.
 */
#define MIGDEV_LOG_BURST	50

#define migdev_user_log(mvdev, level, fmt, ...)				\
	do {								\
		struct migdev_device *__md = (mvdev);			\
									\
		if (__ratelimit(&__md->log_rs))				\
			dev_printk(level, migdev_dev(__md), fmt,	\
				   ##__VA_ARGS__);			\
	} while (0)
#define migdev_user_err(mvdev, fmt, ...) \
	migdev_user_log(mvdev, KERN_ERR, fmt, ##__VA_ARGS__)
#define migdev_user_warn(mvdev, fmt, ...) \
	migdev_user_log(mvdev, KERN_WARNING, fmt, ##__VA_ARGS__)
#define migdev_user_info(mvdev, fmt, ...) \
	migdev_user_log(mvdev, KERN_INFO, fmt, ##__VA_ARGS__)

/* VFIO_PCI_* regions, then the v1 migration region. */
#define MIGDEV_NUM_REGIONS	(MIGDEV_MIG_REGION_INDEX + 1)

/* Region N of the device fd starts at N << MIGDEV_REGION_SHIFT. */
#define MIGDEV_REGION_SHIFT	40

static inline u64 migdev_region_offset(unsigned int index)
{
	return (u64)index << MIGDEV_REGION_SHIFT;
}

static inline struct migdev_device *vdev_to_migdev(struct vfio_device *vdev)
{
	return container_of(vdev, struct migdev_device, vdev);
}

static inline struct device *migdev_dev(struct migdev_device *mvdev)
{
	return mvdev->vdev.dev;
}

/* types.c */
void migdev_types_init(struct migdev_parent *parent);
int migdev_capacity_reserve(struct migdev_parent *parent,
			    const struct migdev_profile *profile);
void migdev_capacity_release(struct migdev_parent *parent,
			     const struct migdev_profile *profile);
unsigned int migdev_types_available(struct mdev_type *mtype);
ssize_t migdev_types_description(struct mdev_type *mtype, char *buf);

/* parent.c */
int migdev_parent_params_check(void);
void migdev_parent_params_show(unsigned int nr_virtual);
struct migdev_parent *migdev_parent_add(struct device *dev);
void migdev_parent_remove(struct migdev_parent *parent);
void migdev_parent_get(struct migdev_parent *parent);
void migdev_parent_put(struct migdev_parent *parent);

/* pci.c */
int migdev_pci_register(void);
void migdev_pci_unregister(void);

/* main.c: the stream_minor module parameter */
extern unsigned short migdev_stream_minor;

/* vfio_dev.c */
extern struct mdev_driver migdev_driver;

/* host.c */
extern const struct migdev_host_ops migdev_host_ops;
void migdev_host_dma_unmap(struct vfio_device *vdev, u64 iova, u64 length);

/* pins.c */
extern unsigned int migdev_pin_cache_mb;
void migdev_pins_init(struct migdev_pins *pins);
void migdev_pins_fini(struct migdev_pins *pins);
void migdev_pins_prepare(struct migdev_device *mvdev,
			 const struct migdev_dma_range *r, unsigned int n);
bool migdev_pins_ready(struct migdev_device *mvdev,
		       const struct migdev_dma_range *r, unsigned int n);
int migdev_pins_rw(struct migdev_device *mvdev, u64 iova, void *buf,
		   size_t len, bool write);
int migdev_pins_copy(struct migdev_device *mvdev, u64 dst, u64 src,
		     size_t len);
int migdev_pins_each(struct migdev_device *mvdev, u64 iova, size_t len,
		     bool write, int (*fn)(void *arg, void *p, size_t n),
		     void *arg);
void migdev_pins_unmap(struct migdev_device *mvdev, u64 iova, u64 len);
void migdev_pins_flush(struct migdev_device *mvdev);
void migdev_pins_release(struct migdev_device *mvdev);

/* worker.c */
void migdev_worker_init(struct migdev_device *mvdev);
int migdev_worker_start(struct migdev_device *mvdev);
void migdev_worker_kick(struct migdev_device *mvdev);
bool migdev_worker_write_due(struct migdev_device *mvdev);
void migdev_worker_stop(struct migdev_device *mvdev);

/* migration.c */
void migdev_mig_init(struct migdev_device *mvdev);
void migdev_mig_open(struct migdev_device *mvdev);
void migdev_mig_close(struct migdev_device *mvdev);
int migdev_mig_reset(struct migdev_device *mvdev, enum migdev_reset_kind kind);
struct file *migdev_mig_set_state_locked(struct migdev_device *mvdev,
					 enum vfio_device_mig_state new);
void migdev_mig_error_locked(struct migdev_device *mvdev);

/* migfile.c */
struct migdev_save;
struct migdev_resume;
struct file *migdev_save_open(struct migdev_device *mvdev, bool precopy);
ssize_t migdev_save_read_kernel(struct migdev_save *s, void *buf, size_t len);
u64 migdev_save_pending(struct migdev_save *s);
int migdev_save_stop_copy(struct migdev_save *s);
void migdev_save_quiesce(struct migdev_save *s, bool quiesced);
void migdev_save_disable(struct migdev_save *s);
void migdev_save_dirtied(struct migdev_device *mvdev);
u64 migdev_save_estimate(struct migdev_device *mvdev, struct migdev_save *s);
struct file *migdev_resume_open(struct migdev_device *mvdev);
int migdev_resume_commit(struct migdev_resume *r);
int migdev_resume_write_kernel(struct migdev_resume *r, const void *buf,
			       size_t len);
void migdev_resume_disable(struct migdev_resume *r);

/* faults.c */
bool migdev_fault_check(struct migdev_device *mvdev, u32 point, u32 from,
			u32 to, u64 offset, struct migdev_fault *f);
int migdev_fault_act(const struct migdev_fault *f);
int migdev_fault_here(struct migdev_device *mvdev, u32 point, u32 from, u32 to);
void migdev_faults_init(struct migdev_device *mvdev);
void migdev_faults_open(struct migdev_device *mvdev);
/* writer.c */
void migdev_writer_run(struct migdev_device *mvdev);
void migdev_writer_open(struct migdev_device *mvdev);
void migdev_writer_debugfs(struct migdev_device *mvdev, struct dentry *dir);
void migdev_writer_fini(struct migdev_device *mvdev);
void migdev_faults_close(struct migdev_device *mvdev);
void migdev_faults_fini(struct migdev_device *mvdev);
void migdev_faults_debugfs(struct migdev_device *mvdev, struct dentry *dir);

/* sumcopy.c */
struct xxh64_state;
int migdev_sumcopy_to_user(struct xxh64_state *st, void __user *dst,
			   const void *src, size_t len);
int migdev_sumcopy_from_user(struct xxh64_state *st, void *dst,
			     const void __user *src, size_t len);

/* mig_v1.c: the v1 migration region */
int migdev_v1_region_info_caps(struct migdev_device *mvdev,
			       struct vfio_region_info *info,
			       struct vfio_info_cap *caps);
ssize_t migdev_v1_rw(struct migdev_device *mvdev, char __user *ubuf,
		     size_t count, u64 off, bool write);
int migdev_v1_mmap(struct migdev_device *mvdev, struct vm_area_struct *vma,
		   u64 off);
void migdev_v1_init(struct migdev_device *mvdev);

/* dma_log.c: DMA logging, only where the kernel has IOMMUFD_DRIVER. */
#if IS_ENABLED(CONFIG_IOMMUFD_DRIVER)
void migdev_dma_log_init(struct migdev_device *mvdev);
void migdev_dma_log_fini(struct migdev_device *mvdev);
void migdev_dma_log_close(struct migdev_device *mvdev);
void migdev_dma_log_record(struct migdev_device *mvdev, u64 iova, size_t len);
#else
static inline void migdev_dma_log_init(struct migdev_device *mvdev) {}
static inline void migdev_dma_log_fini(struct migdev_device *mvdev) {}
static inline void migdev_dma_log_close(struct migdev_device *mvdev) {}
static inline void migdev_dma_log_record(struct migdev_device *mvdev, u64 iova,
					 size_t len) {}
#endif

/* mmap.c */
int migdev_mmap(struct vfio_device *vdev, struct vm_area_struct *vma);

/* debugfs.c */
void migdev_debugfs_init(void);
void migdev_debugfs_exit(void);
void migdev_debugfs_add(struct migdev_device *mvdev);
void migdev_debugfs_remove(struct migdev_device *mvdev);

/* region.c */
int migdev_region_get_info_caps(struct vfio_device *vdev,
				struct vfio_region_info *info,
				struct vfio_info_cap *caps);
int migdev_region_ioctl_get_info(struct migdev_device *mvdev, void __user *arg);
ssize_t migdev_read(struct vfio_device *vdev, char __user *buf, size_t count,
		    loff_t *ppos);
ssize_t migdev_write(struct vfio_device *vdev, const char __user *buf,
		     size_t count, loff_t *ppos);

/* irq.c */
void migdev_irq_init(struct migdev_device *mvdev);
void migdev_irq_disable_all(struct migdev_device *mvdev);
int migdev_irq_ioctl_get_info(struct migdev_device *mvdev, void __user *arg);
int migdev_irq_ioctl_set(struct migdev_device *mvdev, void __user *arg);
void migdev_request(struct vfio_device *vdev, unsigned int count);
void migdev_irq_notify_user(struct migdev_device *mvdev, unsigned int index);
void migdev_irq_msix_hold(struct migdev_device *mvdev, unsigned int vector);
void migdev_irq_msix(struct migdev_device *mvdev, unsigned int vector);
void migdev_irq_intx(struct migdev_device *mvdev, bool level);
u64 migdev_irq_msix_pending(struct migdev_device *mvdev);
void migdev_irq_set_msix_pending(struct migdev_device *mvdev, u64 pending);
void migdev_irq_reclaim(struct migdev_device *mvdev);
void migdev_irq_resume(struct migdev_device *mvdev);

/* sysfs.c */
extern const struct attribute_group *migdev_dev_groups[];

/* preflight.c */
ssize_t migdev_preflight_instance_show(struct migdev_device *mvdev, char *buf);
ssize_t migdev_preflight_instance_store(struct migdev_device *mvdev,
					const char *buf, size_t count);
int migdev_preflight_add_types(struct migdev_parent *parent);
void migdev_preflight_remove_types(struct migdev_parent *parent);

#endif /* MIGDEV_MDEV_H */
