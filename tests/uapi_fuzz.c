// SPDX-License-Identifier: GPL-2.0-only
/*
 * uapi_fuzz: a multi-threaded fuzzer of everything a user can do to a
 * migdev instance through VFIO, for the kernel's checkers (KASAN, lockdep,
 * UBSAN, ...) to find what goes wrong.
 *
 * It creates three instances (two migdev-small, one migdev-medium, so that
 * valid migrations between the smalls and refused ones across types both
 * happen) and runs T threads that each issue a seeded random sequence of
 * operations against any of them: migration state changes (valid and not),
 * data_fd reads, writes, polls, closes and ioctls from any thread (the
 * reads and writes also into and from memory that faults midway, that
 * userfaultfd or FUSE serve late, and mappings of BAR2), whole
 * v2 and v1 migrations with valid and corrupted streams, device resets,
 * DMA logging, region accesses at every boundary and width, mmap, munmap
 * and touching of BAR2 and the v1 data section, SET_IRQS, the info
 * ioctls with short and over-long argsz, MAP_DMA/UNMAP_DMA under running
 * descriptors, descriptors in guest-memory rings, closing and reopening
 * the device, removing and recreating instances, and arming fault rules
 * (debugfs faults) at every point of migration.  Two chunks of each
 * instance's guest memory are hostile: one userfaultfd-registered, one a
 * FUSE file whose daemon holds reads.  In a lifecycle arena
 * of its own (fuzz_lifecycle.c), VFIO's objects (containers, groups,
 * device fds, iommufds, IOASes, vfio cdevs) are opened, attached, used and
 * closed by any thread under the others, with no lock of the fuzzer's.
 *
 * On a kernel without type1's lock-order fix (MIGDEV_KERNEL_FIXES names
 * it), two UNMAP_DMAs on one container deadlock once the device holds pins
 * in both ranges (Documentation/migdev.rst, "Kernel bugs found"): there
 * the fuzzer's unmaps go one at a time, and it says so.
 *
 * Any result is accepted as long as it is success or an errno.  What is
 * checked: no operation may take longer than a bound (a watchdog fails
 * the run and prints the operation that hangs), and at the end every
 * instance, reset, must still migrate a verified device, and the arena's
 * instances must still open and answer.
 *
 * On a kernel with KCOV (the debug kernel instruments only migdev) each
 * thread collects the module's PCs after each operation; the operations
 * that led to new PCs go to a corpus, which later operations replay with
 * mutated arguments.  Without KCOV it runs unguided.
 *
 * Replay: tests/build/uapi_fuzz --seed N --ops M --threads T.  Each thread
 * draws its operations from seed + thread index, so one thread replays its
 * sequence exactly, but the interleaving of threads and the kernel's
 * timing (and hence the coverage feedback) are not reproducible: a replay
 * with --threads 1 is the deterministic one.
 *
 * Options: --seed N, --ops N (default: $MIGDEV_FUZZ_OPS, else 400000 on a
 * debug kernel, about 3 minutes under TCG, and 50000 on others, a few
 * seconds), --threads T (default 4), --bound SECONDS (default 20), -v.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/kcov.h>
#include <linux/userfaultfd.h>

#include "fuzz_lifecycle.h"
#include "migdev_lib.h"

#define NINST		3
#define MAXTHREADS	16
#define RINGLOG		64
#define SEQLEN		12
#define CORPUS_MAX	512
#define NFDS		16
#define NMAPS		4
#define NEVFD		8
#define GMEM_CHUNK	(64u << 10)
#define GMEM_CHUNKS	32
#define GMEM_SIZE	(GMEM_CHUNK * GMEM_CHUNKS)
#define GMEM_IOVA	0x100000000ULL
#define RING_SLOTS	64
#define KCOV_WORDS	65536u
#define PCSET_SIZE	0x100000u
#define IOBUF		(2u << 20)
#define STREAM_MAX	(16u << 20)
#define V1_INFO		sizeof(struct vfio_device_migration_info)

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#endif

enum {
	OP_SET_STATE, OP_GET_STATE, OP_FEATURE_RAW, OP_DATA_SIZE, OP_RESET,
	OP_DF_READ, OP_DF_WRITE, OP_DF_POLL, OP_DF_CLOSE, OP_DF_IOCTL,
	OP_DMA_LOG, OP_REGION_RW, OP_BAR0_REG, OP_CFG_WRITE, OP_MMAP,
	OP_MUNMAP, OP_TOUCH, OP_SET_IRQS, OP_GET_IRQ_INFO, OP_GET_REGION_INFO,
	OP_GET_INFO, OP_MAP_DMA, OP_UNMAP_DMA, OP_QUEUE_SETUP, OP_SUBMIT,
	OP_REOPEN, OP_RECREATE, OP_MIGRATE, OP_V1_STATE, OP_V1_FIELD,
	OP_V1_SAVE, OP_V1_LOAD, OP_DIRTY, OP_FAULT, OP_WRITER, OP_COMPAT,
	/* The lifecycle arena (fuzz_lifecycle.c), in LC_* order. */
	OP_LC_FIRST, OP_LC_LAST = OP_LC_FIRST + NR_LC_OPS - 1, NR_OPS
};

/* What one operation is: enough to print it, replay it and mutate it. */
struct op {
	uint8_t kind;
	uint8_t inst;
	uint8_t inst2;
	uint8_t pad;
	uint32_t a, b, c, d;
	uint64_t x, y;
	uint32_t seed;
};

struct inst {
	pthread_rwlock_t lock;
	unsigned int type;
	char uuid[MDL_UUID_LEN];
	struct mdl_dev dev;
	int valid;
	uint64_t devmem;
	unsigned int nq;
	uint8_t *gmem;			/* guest memory, GMEM_CHUNKS mappings */
	struct {
		void *va;
		size_t len;
	} map[NMAPS];
	pthread_mutex_t map_lock;
	uint32_t tail[MIGDEV_MAX_QUEUES];
};

struct dfd {
	int fd;
	int inst;
};

struct logent {
	struct op op;
	long long ret;
	double ms;
};

struct thread {
	pthread_t tid;
	unsigned int idx;
	uint64_t rng;
	uint64_t ops_done;
	struct logent ring[RINGLOG];
	unsigned int ring_pos;
	struct op cur;
	double started;		/* 0 when not in an operation */
	int kcov;
	unsigned long *cover;
	struct op seq[SEQLEN];
	unsigned int seq_len;
	int evfd[NEVFD];
	uint8_t *buf;
	uint8_t *guarded;	/* IOBUF bytes, then a PROT_NONE page */
	uint8_t *stream;
	size_t cap;
	unsigned long long new_pcs;
	unsigned long long n_ok[NR_OPS], n_err[NR_OPS];
	int last_err[NR_OPS];
};

static struct inst insts[NINST];
static const unsigned int inst_types[NINST] = {
	MIGDEV_TYPE_SMALL, MIGDEV_TYPE_SMALL, MIGDEV_TYPE_MEDIUM,
};

static struct thread threads[MAXTHREADS];
static unsigned int nthreads = 4;
static unsigned long long seed, total_ops;
static double bound_s = 20;
static int verbose;

static struct dfd dfds[NFDS];
static pthread_mutex_t dfd_lock = PTHREAD_MUTEX_INITIALIZER;

/* The last valid stream of each type, for loads and corruptions. */
static struct {
	pthread_mutex_t lock;
	uint8_t *buf;
	size_t len;
} saved[MIGDEV_NUM_TYPES];

/* KCOV: the set of PCs seen, and the corpus of sequences that found new. */
static int have_kcov;
static uint64_t *pcset;
static unsigned long long pcs_seen;
static struct {
	struct op ops[SEQLEN];
	unsigned int len;
} corpus[CORPUS_MAX];
static unsigned int corpus_len;
static unsigned long long replays;
static pthread_mutex_t corpus_lock = PTHREAD_MUTEX_INITIALIZER;

static int stop_all;		/* __atomic */
static __thread sigjmp_buf touch_jmp;
static __thread int touch_armed;	/* __atomic: the signal handler */

/* ---- PRNG ------------------------------------------------------------ */

static uint64_t rnext(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint32_t rnd(uint64_t *s, uint32_t n)
{
	return n ? rnext(s) % n : 0;
}

static void fill_bytes(void *p, size_t n, uint64_t s)
{
	uint8_t *b = p;
	size_t i = 0;

	while (i + 8 <= n) {
		uint64_t v = rnext(&s);

		memcpy(b + i, &v, 8);
		i += 8;
	}
	while (i < n)
		b[i++] = rnext(&s);
}

/* A length: small, a width, odd, a page, big or anything. */
static uint32_t pick_len(uint64_t *r, uint32_t max)
{
	static const uint32_t w[] = { 0, 1, 2, 3, 4, 5, 7, 8, 9, 16, 63, 64,
				      4095, 4096, 4097, 65536 };
	static const uint32_t widths[] = { 1, 2, 4, 8 };
	uint32_t v;

	switch (rnd(r, 6)) {
	case 0:
	case 1:
		v = widths[rnd(r, 4)];
		break;
	case 2:
		v = w[rnd(r, ARRAY_SIZE(w))];
		break;
	case 3:
		v = rnd(r, 8192);
		break;
	case 4:
		v = rnd(r, max + 1);
		break;
	default:
		v = 4 << rnd(r, 12);
		break;
	}
	return v > max ? max : v;
}

/* An offset at and around the boundaries of a region of @size bytes. */
static uint64_t pick_off(uint64_t *r, uint64_t size)
{
	switch (rnd(r, 10)) {
	case 0:
		return 0;
	case 1:
		return size ? size - 1 : 0;
	case 2:
		return size;
	case 3:
		return size + rnd(r, 16);
	case 4:
		return size ? size - (1 << rnd(r, 4)) : 0;
	case 5:
		return rnext(r);
	case 6:
		return (uint64_t)rnd(r, (size >> 12) + 1) << 12;
	default:
		return size ? rnext(r) % size : rnd(r, 64);
	}
}

/* ---- operations ------------------------------------------------------ */

static const char *const op_names[NR_OPS] = {
	"set_state", "get_state", "feature_raw", "data_size", "reset",
	"df_read", "df_write", "df_poll", "df_close", "df_ioctl",
	"dma_log", "region_rw", "bar0_reg", "cfg_write", "mmap",
	"munmap", "touch", "set_irqs", "get_irq_info", "get_region_info",
	"get_info", "map_dma", "unmap_dma", "queue_setup", "submit",
	"reopen", "recreate", "migrate", "v1_state", "v1_field",
	"v1_save", "v1_load", "dirty", "fault", "writer", "compat",
	"lc_container", "lc_group", "lc_set_container", "lc_set_iommu",
	"lc_iommu", "lc_device", "lc_device_io", "lc_iommufd", "lc_ioas",
	"lc_cdev",
};

/* Weights: valid, deep operations often; destructive ones rarely. */
static const unsigned int op_weight[NR_OPS] = {
	[OP_SET_STATE] = 60, [OP_GET_STATE] = 10, [OP_FEATURE_RAW] = 10,
	[OP_DATA_SIZE] = 10, [OP_RESET] = 8, [OP_DF_READ] = 40,
	[OP_DF_WRITE] = 30, [OP_DF_POLL] = 10, [OP_DF_CLOSE] = 10,
	[OP_DF_IOCTL] = 15, [OP_DMA_LOG] = 15, [OP_REGION_RW] = 50,
	[OP_BAR0_REG] = 50, [OP_CFG_WRITE] = 20, [OP_MMAP] = 8,
	[OP_MUNMAP] = 5, [OP_TOUCH] = 25, [OP_SET_IRQS] = 30,
	[OP_GET_IRQ_INFO] = 8, [OP_GET_REGION_INFO] = 10, [OP_GET_INFO] = 3,
	[OP_MAP_DMA] = 10, [OP_UNMAP_DMA] = 6, [OP_QUEUE_SETUP] = 25,
	[OP_SUBMIT] = 50, [OP_REOPEN] = 2, [OP_RECREATE] = 1,
	[OP_MIGRATE] = 12, [OP_V1_STATE] = 25, [OP_V1_FIELD] = 25,
	[OP_V1_SAVE] = 8, [OP_V1_LOAD] = 6, [OP_DIRTY] = 8, [OP_FAULT] = 4,
	[OP_WRITER] = 3, [OP_COMPAT] = 3,
	[OP_LC_FIRST + LC_CONTAINER] = 8, [OP_LC_FIRST + LC_GROUP] = 10,
	[OP_LC_FIRST + LC_SET_CONTAINER] = 12, [OP_LC_FIRST + LC_SET_IOMMU] = 8,
	[OP_LC_FIRST + LC_IOMMU] = 25, [OP_LC_FIRST + LC_DEVICE] = 10,
	[OP_LC_FIRST + LC_DEVICE_IO] = 15, [OP_LC_FIRST + LC_IOMMUFD] = 8,
	[OP_LC_FIRST + LC_IOAS] = 10, [OP_LC_FIRST + LC_CDEV] = 12,
};

/* Weights in force: an operation this kernel cannot run has none. */
static unsigned int weight[NR_OPS];

static unsigned int weight_sum;

static const uint32_t mig_states[] = {
	VFIO_DEVICE_STATE_STOP, VFIO_DEVICE_STATE_RUNNING,
	VFIO_DEVICE_STATE_STOP_COPY, VFIO_DEVICE_STATE_RESUMING,
	VFIO_DEVICE_STATE_RUNNING_P2P, VFIO_DEVICE_STATE_PRE_COPY,
	VFIO_DEVICE_STATE_PRE_COPY_P2P,
};

static uint32_t pick_state(uint64_t *r)
{
	switch (rnd(r, 10)) {
	case 0:
		return VFIO_DEVICE_STATE_ERROR;
	case 1:
		return 8 + rnd(r, 4) + (rnd(r, 4) ? 0 : rnext(r));
	default:
		return mig_states[rnd(r, 7)];
	}
}

/* Fill @o with a random operation. */
static void gen_op(uint64_t *r, struct op *o)
{
	uint32_t w = rnd(r, weight_sum);

	memset(o, 0, sizeof(*o));
	for (o->kind = 0; o->kind < NR_OPS - 1; o->kind++) {
		if (w < weight[o->kind])
			break;
		w -= weight[o->kind];
	}
	o->inst = rnd(r, NINST);
	o->inst2 = rnd(r, NINST);
	o->a = rnext(r);
	o->b = rnext(r);
	o->c = rnext(r);
	o->d = rnext(r);
	o->x = rnext(r);
	o->y = rnext(r);
	o->seed = rnext(r);
	/* Shape the arguments that matter so that valid ones are common. */
	switch (o->kind) {
	case OP_SET_STATE:
		o->a = pick_state(r);
		break;
	case OP_REGION_RW: {
		static const unsigned int idx[] = { 0, 0, 0, 2, 2, 9, 9, 1, 3,
						    7, 8, 10, 0xff };
		uint64_t size;

		o->a = idx[rnd(r, ARRAY_SIZE(idx))];
		size = o->a == 0 ? 0x4000 : o->a == 2 ? 4 << 20 :
		       o->a == 7 ? 0x1000 : o->a == 9 ? MIGDEV_MIG_REGION_SIZE : 0;
		o->x = pick_off(r, size);
		o->b = pick_len(r, 65536);
		break;
	}
	case OP_DF_READ:
	case OP_DF_WRITE:
		o->b = rnd(r, 4) ? pick_len(r, 1 << 20) : 1 << 20;
		break;
	default:
		break;
	}
}

static void op_str(const struct op *o, char *s, size_t n)
{
	snprintf(s, n, "%s inst=%u inst2=%u a=%#x b=%#x c=%#x d=%#x x=%#llx y=%#llx seed=%#x",
		 o->kind < NR_OPS ? op_names[o->kind] : "?", o->inst, o->inst2,
		 o->a, o->b, o->c, o->d, (unsigned long long)o->x,
		 (unsigned long long)o->y, o->seed);
}

static double now(void)
{
	return mdl_now();
}

/* ---- userfaultfd guest memory ----------------------------------------- */

/*
 * The last chunk of every instance's guest memory is registered with a
 * userfaultfd: the device's engine cannot pin it while it is missing (the
 * kernel refuses), so descriptors, rings and completions there must fail
 * at once and never wait; the fuzzer's own accesses, and the kernel's
 * copies of ioctl arguments placed there, are served by this thread after
 * a short random delay.  Every 50 ms the chunk is emptied again.
 */
#define UFFD_CHUNK	(GMEM_CHUNKS - 1)

static int uffd = -1;
static pthread_t uffd_tid;

static void *uffd_server(void *arg)
{
	unsigned int seed = 1, i;
	double last = 0;

	(void)arg;
	while (!__atomic_load_n(&stop_all, __ATOMIC_RELAXED)) {
		struct pollfd pfd = { .fd = uffd, .events = POLLIN };
		struct uffd_msg msg;

		if (now() - last > 0.05) {
			for (i = 0; i < NINST; i++)
				madvise(insts[i].gmem + UFFD_CHUNK * GMEM_CHUNK,
					GMEM_CHUNK, MADV_DONTNEED);
			last = now();
		}
		if (poll(&pfd, 1, 10) != 1 ||
		    read(uffd, &msg, sizeof(msg)) != sizeof(msg) ||
		    msg.event != UFFD_EVENT_PAGEFAULT)
			continue;
		usleep(rand_r(&seed) % 2000);
		ioctl(uffd, UFFDIO_ZEROPAGE, &(struct uffdio_zeropage){
			.range = { .start = msg.arg.pagefault.address & ~4095ULL,
				   .len = 4096 } });
	}
	return NULL;
}

/* Register the chunks and start the server; 0 or -errno. */
static int uffd_start(void)
{
	struct uffdio_api api = { .api = UFFD_API };
	unsigned int i;

	uffd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (uffd < 0)
		return -errno;
	if (ioctl(uffd, UFFDIO_API, &api))
		goto fail;
	for (i = 0; i < NINST; i++) {
		struct uffdio_register reg = {
			.range = { .start = (uintptr_t)insts[i].gmem +
					    UFFD_CHUNK * GMEM_CHUNK,
				   .len = GMEM_CHUNK },
			.mode = UFFDIO_REGISTER_MODE_MISSING,
		};

		madvise((void *)(uintptr_t)reg.range.start, GMEM_CHUNK, MADV_DONTNEED);
		if (ioctl(uffd, UFFDIO_REGISTER, &reg))
			goto fail;
	}
	return pthread_create(&uffd_tid, NULL, uffd_server, NULL) ? -EAGAIN : 0;
fail:
	close(uffd);
	uffd = -1;
	return -errno;
}

/* ---- FUSE guest memory ---------------------------------------------- */

/*
 * The chunk before the userfaultfd one is a private mapping of a FUSE
 * file (tests/lib/fuse_stall.c), a part of it per instance, whose daemon
 * holds every read for up to 20 ms at a time, as a slow network file
 * system would: memory the engine does pin, by reading the file, and
 * waits for in the user's own worker, with the device's locks free.
 * Every 50 ms the chunk is dropped and the file's cache evicted, so the
 * next pins read from the daemon again.  The daemon is a process of its
 * own: one of ours could fault on its own buffer behind an mmap_lock
 * writer that waits for a reader the daemon holds.
 */
#define FUSE_CHUNK	(GMEM_CHUNKS - 2)

static char gfs_dir[64];
static int gfs_fd = -1;
static pid_t gfs_pid = -1;
static pthread_t gfs_tid;

/* The daemon process: serve, freezing now and then, until the parent goes. */
static void fuse_daemon(int out)
{
	unsigned int seed = 7;
	struct mdl_fuse f;
	char msg[sizeof(f.dir)] = "";
	int ret;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() == 1)
		_exit(1);
	ret = mdl_fuse_start(&f, NINST * GMEM_CHUNK);
	if (!ret)
		snprintf(msg, sizeof(msg), "%s", f.dir);
	if (write(out, msg, sizeof(msg)) != sizeof(msg) || ret)
		_exit(1);
	close(out);
	for (;;) {
		mdl_fuse_freeze(&f, 1);
		usleep(rand_r(&seed) % 20000);
		mdl_fuse_freeze(&f, 0);
		usleep(rand_r(&seed) % 5000);
	}
}

static void *fuse_evictor(void *arg)
{
	unsigned int i;

	(void)arg;
	while (!__atomic_load_n(&stop_all, __ATOMIC_RELAXED)) {
		usleep(50000);
		for (i = 0; i < NINST; i++)
			madvise(insts[i].gmem + FUSE_CHUNK * GMEM_CHUNK,
				GMEM_CHUNK, MADV_DONTNEED);
		posix_fadvise(gfs_fd, 0, 0, POSIX_FADV_DONTNEED);
	}
	return NULL;
}

static void fuse_stop(void)
{
	if (gfs_pid > 0) {
		kill(gfs_pid, SIGKILL);
		waitpid(gfs_pid, NULL, 0);
	}
	gfs_pid = -1;
	if (gfs_fd >= 0)
		close(gfs_fd);
	gfs_fd = -1;
	if (gfs_dir[0]) {
		umount2(gfs_dir, MNT_DETACH);
		rmdir(gfs_dir);
	}
	gfs_dir[0] = 0;
}

/*
 * Start the daemon, first thing: a child of the fork must hold none of the
 * devices, nor anything else of ours (a device it held would never be
 * released).  0 or -errno.
 */
static int fuse_daemon_start(void)
{
	int p[2];

	if (pipe(p))
		return -errno;
	gfs_pid = fork();
	if (!gfs_pid) {
		close(p[0]);
		fuse_daemon(p[1]);
	}
	close(p[1]);
	if (gfs_pid < 0 || read(p[0], gfs_dir, sizeof(gfs_dir)) != sizeof(gfs_dir) ||
	    !gfs_dir[0]) {
		close(p[0]);
		gfs_dir[0] = 0;
		fuse_stop();
		return -ENODEV;
	}
	close(p[0]);
	gfs_dir[sizeof(gfs_dir) - 1] = 0;
	return 0;
}

/* Map the chunks over the daemon's file and start evicting; 0 or -errno. */
static int fuse_start(void)
{
	char path[sizeof(gfs_dir) + 2];
	unsigned int i;
	int ret;

	if (gfs_pid <= 0)
		return -ENODEV;
	snprintf(path, sizeof(path), "%s/f", gfs_dir);
	gfs_fd = open(path, O_RDWR | O_CLOEXEC);
	if (gfs_fd < 0)
		goto fail;
	/* Type1 resolves an mdev's IOVA to the address's mapping when it pins. */
	for (i = 0; i < NINST; i++)
		if (mmap(insts[i].gmem + FUSE_CHUNK * GMEM_CHUNK, GMEM_CHUNK,
			 PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, gfs_fd,
			 (off_t)i * GMEM_CHUNK) == MAP_FAILED)
			goto fail;
	if (!pthread_create(&gfs_tid, NULL, fuse_evictor, NULL))
		return 0;
	errno = EAGAIN;
fail:
	ret = -errno;
	/* The chunks are anonymous memory again. */
	for (i = 0; i < NINST; i++)
		mmap(insts[i].gmem + FUSE_CHUNK * GMEM_CHUNK, GMEM_CHUNK,
		     PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	fuse_stop();
	return ret;
}

/* ---- instances ------------------------------------------------------- */

static int map_gmem_chunk(struct inst *in, unsigned int k)
{
	return __mdl_dma_map_at(&in->dev, in->gmem + k * GMEM_CHUNK, GMEM_CHUNK,
				GMEM_IOVA + (uint64_t)k * GMEM_CHUNK);
}

/* Open @in's device and map its guest memory.  Called with the lock held. */
static int inst_open(struct inst *in)
{
	struct vfio_region_info ri;
	unsigned int k;
	int ret;

	ret = __mdl_open(in->uuid, &in->dev);
	if (ret)
		return ret;
	/* libmigdev's mdl_dma_map() allocates IOVAs above the guest memory. */
	in->dev.next_iova = 1ULL << 36;
	for (k = 0; k < GMEM_CHUNKS; k++)
		map_gmem_chunk(in, k);
	if (!__mdl_region_info(&in->dev, VFIO_PCI_BAR2_REGION_INDEX, &ri))
		in->devmem = ri.size;
	memset(in->tail, 0, sizeof(in->tail));
	in->valid = 1;
	return 0;
}

static void inst_close(struct inst *in)
{
	unsigned int i;

	pthread_mutex_lock(&in->map_lock);
	for (i = 0; i < NMAPS; i++) {
		if (in->map[i].va)
			munmap(in->map[i].va, in->map[i].len);
		in->map[i].va = NULL;
	}
	pthread_mutex_unlock(&in->map_lock);
	if (in->valid)
		mdl_close(&in->dev);
	in->valid = 0;
}

static int inst_create(struct inst *in)
{
	int ret, tries;

	for (tries = 0; tries < 20; tries++) {
		ret = __mdl_create(mdl_parent(), in->type, in->uuid);
		if (!ret)
			break;
		usleep(50000);
	}
	if (ret)
		return ret;
	return inst_open(in);
}

/* Take the write lock, bounded: readers may hold it for a while. */
static int inst_wrlock(struct inst *in)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 2;
	return pthread_rwlock_timedwrlock(&in->lock, &ts) ? -EBUSY : 0;
}

/* ---- data_fds -------------------------------------------------------- */

static void dfd_add(int fd, int inst)
{
	unsigned int i;
	int old = -1;

	pthread_mutex_lock(&dfd_lock);
	for (i = 0; i < NFDS; i++)
		if (dfds[i].fd < 0)
			break;
	if (i == NFDS) {
		i = (unsigned int)fd % NFDS;
		old = dfds[i].fd;
	}
	dfds[i].fd = fd;
	dfds[i].inst = inst;
	pthread_mutex_unlock(&dfd_lock);
	if (old >= 0)
		close(old);
}

/* A private reference to data_fd slot @slot: another thread may close it. */
static int dfd_get(unsigned int slot, int *inst)
{
	int fd = -1;

	pthread_mutex_lock(&dfd_lock);
	slot %= NFDS;
	if (dfds[slot].fd >= 0) {
		fd = dup(dfds[slot].fd);
		*inst = dfds[slot].inst;
	}
	pthread_mutex_unlock(&dfd_lock);
	return fd;
}

static long long dfd_close(unsigned int slot)
{
	int fd;

	pthread_mutex_lock(&dfd_lock);
	slot %= NFDS;
	fd = dfds[slot].fd;
	dfds[slot].fd = -1;
	pthread_mutex_unlock(&dfd_lock);
	if (fd < 0)
		return -EBADF;
	return close(fd) ? -errno : 0;
}

/* ---- helpers of the operations --------------------------------------- */

static long long sysret(long long ret)
{
	return ret < 0 ? -errno : ret;
}

static long long feature(int fd, uint32_t flags, void *data, size_t len,
			 uint32_t argsz)
{
	static __thread uint8_t fb[4096];
	struct vfio_device_feature *f = (void *)fb;
	long long ret;

	if (len > sizeof(fb) - sizeof(*f))
		len = sizeof(fb) - sizeof(*f);
	memset(fb, 0, sizeof(*f) + len);
	f->argsz = argsz ? argsz : sizeof(*f) + len;
	if (f->argsz > sizeof(fb))
		f->argsz = sizeof(fb);
	f->flags = flags;
	memcpy(f->data, data, len);
	ret = sysret(ioctl(fd, VFIO_DEVICE_FEATURE, f));
	memcpy(data, f->data, len);
	return ret;
}

/* An argsz: right most of the time, else short, long or anything. */
static uint32_t pick_argsz(uint32_t mode, uint32_t right)
{
	switch (mode % 16) {
	case 0:
		return 0;
	case 1:
		return right - 1;
	case 2:
		return right / 2;
	case 3:
		return right + 8;
	case 4:
		return 4096;
	default:
		return right;
	}
}

static long long set_state(struct inst *in, int idx, uint32_t state,
			   uint32_t mode)
{
	struct vfio_device_feature_mig_state st = { .device_state = state };
	uint32_t flags = VFIO_DEVICE_FEATURE_SET |
			 VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE;
	long long ret;

	if (mode % 23 == 1)
		flags |= VFIO_DEVICE_FEATURE_GET;
	if (mode % 23 == 2)
		flags |= VFIO_DEVICE_FEATURE_PROBE;
	if (mode % 23 == 3)
		flags |= 1u << (16 + mode % 15);
	st.data_fd = -1;
	ret = feature(in->dev.fd, flags, &st, sizeof(st),
		      pick_argsz(mode >> 8, sizeof(struct vfio_device_feature) +
				 sizeof(st)));
	if (!ret && st.data_fd >= 0 && !(flags & VFIO_DEVICE_FEATURE_PROBE))
		dfd_add(st.data_fd, idx);
	return ret;
}

static uint32_t get_state(struct inst *in)
{
	return mdl_mig_get(&in->dev);
}

/* Read a data_fd into @buf until the end or @cap bytes: the length or -errno. */
static long long drain_into(int fd, uint8_t *buf, size_t cap)
{
	size_t len = 0;

	while (len < cap) {
		size_t n = cap - len < (1 << 20) ? cap - len : 1 << 20;
		ssize_t r = read(fd, buf + len, n);

		if (r < 0)
			return -errno;
		if (!r)
			break;
		len += r;
	}
	return len;
}

static void corrupt(uint8_t *b, size_t *len, uint32_t mode, uint64_t s)
{
	unsigned int i, n;

	if (!*len)
		return;
	switch (mode % 16) {
	case 0:		/* flip a few bytes */
	case 1:
		n = 1 + rnd(&s, 4);
		for (i = 0; i < n; i++)
			b[rnd(&s, *len)] ^= 1 << rnd(&s, 8);
		break;
	case 2:		/* truncate */
		*len = rnd(&s, *len);
		break;
	case 3:		/* flip something in the header */
		b[rnd(&s, *len < 64 ? *len : 64)] ^= 1 << rnd(&s, 8);
		break;
	case 4:		/* random bytes over a range */
		i = rnd(&s, *len);
		fill_bytes(b + i, rnd(&s, *len - i), s);
		break;
	case 5:		/* a record length field */
		if (*len > 80)
			b[64 + 8 + rnd(&s, 8)] = rnext(&s);
		break;
	default:	/* valid */
		break;
	}
}

static long long write_stream(int fd, const uint8_t *b, size_t len,
			      uint64_t s)
{
	size_t done = 0;

	while (done < len) {
		size_t n = len - done;
		ssize_t w;

		switch (rnd(&s, 4)) {
		case 0:
			n = n < 1 + rnd(&s, 100) ? n : 1 + rnd(&s, 100);
			break;
		case 1:
			n = n < 4096 ? n : 4096;
			break;
		default:
			break;
		}
		w = write(fd, b + done, n);
		if (w < 0)
			return -errno;
		if (!w)
			return -EIO;
		done += w;
	}
	return 0;
}

static long long v1_rw(struct inst *in, uint64_t off, void *buf, size_t n,
		       int write)
{
	if (write)
		return mdl_pwrite(&in->dev, MIGDEV_MIG_REGION_INDEX, off, buf, n);
	return mdl_pread(&in->dev, MIGDEV_MIG_REGION_INDEX, off, buf, n);
}

/*
 * A whole v2 migration: @src, running, through pre-copy (maybe) and
 * stop-copy; the stream, maybe corrupted, into @dst; both back to RUNNING.
 * With other threads at work any step may fail: that is fine.
 */
static long long op_migrate(struct thread *t, struct op *o)
{
	struct inst *src = &insts[o->inst], *dst = &insts[o->inst2];
	uint64_t s = o->seed;
	long long ret, len = 0;
	int fd = -1, rfd = -1;
	size_t l;

	/* Mostly between instances of a type (or into itself): valid. */
	if (dst->type != src->type && rnd(&s, 4)) {
		o->inst2 = o->inst ^ (src->type == MIGDEV_TYPE_SMALL);
		dst = &insts[o->inst2];
	}
	pthread_rwlock_rdlock(&src->lock);
	if (dst != src)
		pthread_rwlock_rdlock(&dst->lock);
	ret = -ENODEV;
	if (!src->valid || !dst->valid)
		goto out;
	/* A v1 session in progress refuses v2 with -EBUSY: end it first. */
	if (o->d % 4) {
		mdl_v1_set(&src->dev, VFIO_DEVICE_STATE_V1_RUNNING);
		mdl_v1_set(&dst->dev, VFIO_DEVICE_STATE_V1_RUNNING);
	}
	__mdl_mig_set(&src->dev, VFIO_DEVICE_STATE_RUNNING, NULL);
	if (o->a & 1) {
		ret = __mdl_mig_set(&src->dev, VFIO_DEVICE_STATE_PRE_COPY, &fd);
		while (!ret && len < (1 << 22)) {
			uint64_t i, d;
			ssize_t n;

			__mdl_precopy_info(fd, &i, &d);
			n = read(fd, t->stream + len, 1 << 20);
			if (n <= 0 || !(o->a & 2))
				break;
			len += n;
		}
	}
	if (fd >= 0) {
		ret = __mdl_mig_set(&src->dev, VFIO_DEVICE_STATE_STOP_COPY, NULL);
	} else {
		len = 0;
		ret = __mdl_mig_set(&src->dev, VFIO_DEVICE_STATE_STOP_COPY, &fd);
	}
	if (ret)
		goto out_src;
	ret = drain_into(fd, t->stream + len, t->cap - len);
	if (ret < 0)
		goto out_src;
	len += ret;
	ret = 0;
	pthread_mutex_lock(&saved[src->type].lock);
	free(saved[src->type].buf);
	saved[src->type].buf = malloc(len ? len : 1);
	if (saved[src->type].buf)
		memcpy(saved[src->type].buf, t->stream, len);
	saved[src->type].len = saved[src->type].buf ? len : 0;
	pthread_mutex_unlock(&saved[src->type].lock);
	close(fd);
	fd = -1;
	__mdl_mig_set(&src->dev, VFIO_DEVICE_STATE_STOP, NULL);
	l = len;
	corrupt(t->stream, &l, o->b, o->seed);
	ret = __mdl_mig_set(&dst->dev, VFIO_DEVICE_STATE_STOP, NULL);
	ret = __mdl_mig_set(&dst->dev, VFIO_DEVICE_STATE_RESUMING, &rfd);
	if (ret)
		goto out_src;
	ret = write_stream(rfd, t->stream, l, o->seed);
	if (o->c % 8 == 0)
		dfd_add(dup(rfd), o->inst2);	/* leave it for others */
	close(rfd);
	if (!ret)
		ret = __mdl_mig_set(&dst->dev, o->c % 5 ? VFIO_DEVICE_STATE_RUNNING :
				    VFIO_DEVICE_STATE_STOP, NULL);
	if (ret)
		ioctl(dst->dev.fd, VFIO_DEVICE_RESET);
	__mdl_mig_set(&dst->dev, VFIO_DEVICE_STATE_RUNNING, NULL);
out_src:
	if (fd >= 0)
		close(fd);
	if (__mdl_mig_set(&src->dev, VFIO_DEVICE_STATE_RUNNING, NULL))
		ioctl(src->dev.fd, VFIO_DEVICE_RESET);
out:
	if (dst != src)
		pthread_rwlock_unlock(&dst->lock);
	pthread_rwlock_unlock(&src->lock);
	return ret ? ret : len;
}

/* A v1 save: SAVING (with RUNNING: pre-copy), segments out, back. */
static long long op_v1_save(struct thread *t, struct inst *in, struct op *o)
{
	uint32_t st = VFIO_DEVICE_STATE_V1_SAVING;
	unsigned int i, n = 1 + o->b % 64;
	long long ret, total = 0;

	if (o->a & 1)
		st |= VFIO_DEVICE_STATE_V1_RUNNING;
	if (o->a & 2)
		st |= MIGDEV_MIG_STATE_V1_NDMA;
	ret = mdl_v1_set(&in->dev, st);
	if (ret < 0)
		return ret;
	for (i = 0; i < n; i++) {
		uint64_t pend = 0, off = 0, size = 0;

		mdl_v1_get64(&in->dev, MDL_V1_PENDING, &pend);
		if (!pend && !(st & VFIO_DEVICE_STATE_V1_RUNNING))
			break;
		mdl_v1_get64(&in->dev, MDL_V1_OFFSET, &off);
		mdl_v1_get64(&in->dev, MDL_V1_SIZE, &size);
		if (size > IOBUF)
			size = IOBUF;
		if (o->c & 1)
			size += o->c % 3;	/* past the segment */
		ret = v1_rw(in, off, t->buf, size, 0);
		if (ret > 0)
			total += ret;
		if ((o->d & 3) == 0 && i == n / 2 && !(st & VFIO_DEVICE_STATE_V1_RUNNING))
			st |= VFIO_DEVICE_STATE_V1_RUNNING;	/* refused */
		if ((o->d & 7) == 1 && i == n / 2)
			mdl_v1_set(&in->dev, st & ~VFIO_DEVICE_STATE_V1_RUNNING);
	}
	mdl_v1_set(&in->dev, (o->d & 8) ? 0 : VFIO_DEVICE_STATE_V1_RUNNING);
	if ((o->d & 48) == 0)
		mdl_v1_set(&in->dev, VFIO_DEVICE_STATE_V1_RUNNING);
	return total;
}

/* A v1 load of the last saved stream of the type, maybe corrupted. */
static long long op_v1_load(struct thread *t, struct inst *in, struct op *o)
{
	size_t len = 0, done = 0, seg;
	long long ret;
	uint64_t sz;

	pthread_mutex_lock(&saved[in->type].lock);
	if (saved[in->type].buf && saved[in->type].len <= t->cap) {
		len = saved[in->type].len;
		memcpy(t->stream, saved[in->type].buf, len);
	}
	pthread_mutex_unlock(&saved[in->type].lock);
	corrupt(t->stream, &len, o->b, o->seed);
	ret = mdl_v1_set(&in->dev, 0);
	ret = mdl_v1_set(&in->dev, VFIO_DEVICE_STATE_V1_RESUMING);
	if (ret < 0)
		goto out;
	seg = o->c % 3 == 0 ? 1 + o->c % 8192 : MIGDEV_MIG_DATA_SIZE;
	while (done < len) {
		size_t n = len - done < seg ? len - done : seg;

		ret = v1_rw(in, MIGDEV_MIG_DATA_OFFSET, t->stream + done, n, 1);
		if (ret < 0)
			break;
		sz = n;
		if (o->d % 13 == 0)
			sz = o->x;
		ret = mdl_v1_set64(&in->dev, MDL_V1_SIZE, sz);
		if (ret < 0)
			break;
		done += n;
	}
out:
	mdl_v1_set(&in->dev, o->a & 1 ? 0 : VFIO_DEVICE_STATE_V1_RUNNING);
	if (mdl_v1_set(&in->dev, VFIO_DEVICE_STATE_V1_RUNNING) < 0)
		ioctl(in->dev.fd, VFIO_DEVICE_RESET);
	return ret < 0 ? ret : (long long)done;
}

static const unsigned int bar0_regs[] = {
	MIGDEV_REG_ID, MIGDEV_REG_VERSION, MIGDEV_REG_FEATURES,
	MIGDEV_REG_NUM_QUEUES, MIGDEV_REG_NUM_VECTORS, MIGDEV_REG_DEVMEM_SIZE,
	MIGDEV_REG_SCRATCH, MIGDEV_REG_CLOCK, MIGDEV_REG_CLOCK + 4,
	MIGDEV_REG_INT_STATUS, MIGDEV_REG_ERROR_STATUS, MIGDEV_REG_ERROR_INFO,
	MIGDEV_REG_ERROR_COUNT, MIGDEV_MSIX_TABLE_OFFSET,
	MIGDEV_REG_DEVMEM_CTRL, MIGDEV_MSIX_PBA_OFFSET, MIGDEV_BAR0_SIZE - 8,
	0x44, 0xfc,
};

static const unsigned int q_regs[] = {
	MIGDEV_Q_RING_BASE, MIGDEV_Q_RING_BASE + 4, MIGDEV_Q_RING_SIZE,
	MIGDEV_Q_CTRL, MIGDEV_Q_COMPL_BASE, MIGDEV_Q_COMPL_BASE + 4,
	MIGDEV_Q_TAIL, MIGDEV_Q_HEAD, MIGDEV_Q_STATUS, MIGDEV_Q_ERROR,
	MIGDEV_Q_COMPLETED, MIGDEV_Q_COMPLETED + 4, 0x2c, 0x3c,
};

static uint64_t pick_val(uint64_t *r)
{
	switch (rnd(r, 8)) {
	case 0:
		return 0;
	case 1:
		return ~0ULL;
	case 2:
		return 1;
	case 3:
		return 1ULL << rnd(r, 64);
	case 4:
		return rnd(r, 256);
	default:
		return rnext(r);
	}
}

static long long op_bar0(struct inst *in, struct op *o)
{
	uint64_t s = o->seed, v = pick_val(&s);
	unsigned int off, w;

	if (o->a % 3)
		off = MIGDEV_REG_QUEUE(o->b % (MIGDEV_MAX_QUEUES + 1)) +
		      q_regs[o->c % ARRAY_SIZE(q_regs)];
	else if (o->a % 5 == 0)
		off = MIGDEV_MSIX_TABLE_OFFSET + o->c % 0x1100;
	else
		off = bar0_regs[o->c % ARRAY_SIZE(bar0_regs)];
	if (o->d % 7 == 0)
		off += o->d % 8;
	w = (o->d >> 4) % 8 ? ((o->d >> 8) % 2 ? 4 : 8) : pick_len(&s, 16);
	if (o->x & 1)
		return mdl_pwrite(&in->dev, VFIO_PCI_BAR0_REGION_INDEX, off, &v, w);
	return mdl_pread(&in->dev, VFIO_PCI_BAR0_REGION_INDEX, off, &v, w);
}

static long long op_cfg(struct inst *in, struct op *o)
{
	static const unsigned int offs[] = {
		PCI_COMMAND, PCI_COMMAND, PCI_COMMAND, PCI_STATUS,
		PCI_BASE_ADDRESS_0, PCI_BASE_ADDRESS_2, PCI_BASE_ADDRESS_3,
		PCI_ROM_ADDRESS, PCI_INTERRUPT_LINE, PCI_CACHE_LINE_SIZE,
		MIGDEV_CAP_PM + PCI_PM_CTRL, MIGDEV_CAP_MSIX + PCI_MSIX_FLAGS,
		MIGDEV_CAP_EXP + PCI_EXP_DEVCTL, MIGDEV_CAP_EXP + PCI_EXP_DEVCTL2,
		0x100, 0xfff, 0xffe, 0xfc,
	};
	static const unsigned int widths[] = { 1, 2, 4, 2, 4, 8, 3 };
	uint64_t s = o->seed;
	unsigned int off = offs[o->a % ARRAY_SIZE(offs)];
	unsigned int w = widths[o->b % ARRAY_SIZE(widths)];
	uint32_t v = pick_val(&s);

	if (off == PCI_COMMAND && o->c % 4)
		v = PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
		    (o->c % 8 == 1 ? PCI_COMMAND_INTX_DISABLE : 0);
	if (off == MIGDEV_CAP_MSIX + PCI_MSIX_FLAGS && o->c % 2)
		v = PCI_MSIX_FLAGS_ENABLE | (o->c % 4 == 1 ? PCI_MSIX_FLAGS_MASKALL : 0);
	if (off == MIGDEV_CAP_EXP + PCI_EXP_DEVCTL && o->c % 9 == 0) {
		v = PCI_EXP_DEVCTL_BCR_FLR;
		w = 2;
	}
	if (off == MIGDEV_CAP_PM + PCI_PM_CTRL && o->c % 2)
		v = o->c % 4 == 1 ? 3 : 0;	/* D3hot, D0 */
	return mdl_pwrite(&in->dev, VFIO_PCI_CONFIG_REGION_INDEX, off, &v, w);
}

static long long op_region_rw(struct thread *t, struct inst *in, struct op *o)
{
	size_t n = o->b < IOBUF ? o->b : IOBUF;

	if (o->c & 1) {
		fill_bytes(t->buf, n, o->seed);
		return mdl_pwrite(&in->dev, o->a, o->x, t->buf, n);
	}
	return mdl_pread(&in->dev, o->a, o->x, t->buf, n);
}

static long long op_mmap(struct inst *in, struct op *o)
{
	unsigned int idx = o->a % 4 ? VFIO_PCI_BAR2_REGION_INDEX :
			   o->a % 8 ? MIGDEV_MIG_REGION_INDEX : o->a % 12;
	uint64_t off = 0, len = 1ULL << (12 + o->b % 10);
	int prot = PROT_READ | PROT_WRITE, flags = MAP_SHARED;
	unsigned int slot = o->d % NMAPS;
	void *va;

	if (idx == MIGDEV_MIG_REGION_INDEX) {
		off = MIGDEV_MIG_DATA_OFFSET;
		len = o->b % 3 ? MIGDEV_MIG_DATA_SIZE : len;
	}
	switch (o->c % 10) {
	case 0:
		off = o->x & ~4095ULL & ((1ULL << 30) - 1);
		break;
	case 1:
		off += o->x & 4095;	/* unaligned */
		break;
	case 2:
		flags = MAP_PRIVATE;
		break;
	case 3:
		prot = PROT_READ;
		break;
	case 4:
		len = in->devmem + 4096;
		break;
	case 5:
		off = in->devmem - 4096;
		len = 4096;
		break;
	default:
		break;
	}
	va = mmap(NULL, len, prot, flags, in->dev.fd, mdl_region_off(idx) + off);
	if (va == MAP_FAILED)
		return -errno;
	pthread_mutex_lock(&in->map_lock);
	if (in->map[slot].va)
		munmap(in->map[slot].va, in->map[slot].len);
	in->map[slot].va = va;
	in->map[slot].len = (prot & PROT_WRITE) ? len : 0;
	if (!(prot & PROT_WRITE)) {
		/* Read-only mappings are not kept: touches write. */
		munmap(va, len);
		in->map[slot].va = NULL;
	}
	pthread_mutex_unlock(&in->map_lock);
	return 0;
}

static void touch_signal(int sig)
{
	if (__atomic_load_n(&touch_armed, __ATOMIC_SEQ_CST))
		siglongjmp(touch_jmp, sig);
	signal(sig, SIG_DFL);
	raise(sig);
}

static long long op_touch(struct inst *in, struct op *o)
{
	unsigned int slot = o->a % NMAPS, i, n = 1 + o->b % 64;
	long long ret = 0;
	uint8_t *p;
	size_t len;
	int sig;

	/* The map lock keeps a concurrent munmap away from the touches. */
	pthread_mutex_lock(&in->map_lock);
	p = in->map[slot].va;
	if (!p && o->b % 4) {
		/* Nothing mapped in the slot: map some of BAR2 there. */
		struct op m = { .a = 1, .b = o->b % 6, .c = 9, .d = slot };

		pthread_mutex_unlock(&in->map_lock);
		op_mmap(in, &m);
		pthread_mutex_lock(&in->map_lock);
		p = in->map[slot].va;
	}
	len = in->map[slot].len;
	if (!p) {
		pthread_mutex_unlock(&in->map_lock);
		return -ENOENT;
	}
	sig = sigsetjmp(touch_jmp, 1);
	if (sig) {
		__atomic_store_n(&touch_armed, 0, __ATOMIC_SEQ_CST);
		pthread_mutex_unlock(&in->map_lock);
		return -1000 - sig;	/* a signal, not an errno */
	}
	__atomic_store_n(&touch_armed, 1, __ATOMIC_SEQ_CST);
	for (i = 0; i < n; i++) {
		size_t off = (o->x + (uint64_t)i * (o->c | 1) * 4096) % len;

		if (o->d & 1)
			__atomic_store_n(&p[off], o->seed + i, __ATOMIC_RELAXED);
		else
			ret += __atomic_load_n(&p[off], __ATOMIC_RELAXED);
		if (o->d & 2)
			memset(p + (off & ~4095UL), i, 4096);
	}
	__atomic_store_n(&touch_armed, 0, __ATOMIC_SEQ_CST);
	pthread_mutex_unlock(&in->map_lock);
	return ret;
}

static long long op_munmap(struct inst *in, struct op *o)
{
	unsigned int slot = o->a % NMAPS;
	long long ret = -ENOENT;

	pthread_mutex_lock(&in->map_lock);
	if (in->map[slot].va) {
		size_t len = in->map[slot].len;

		if (o->b & 1 && len > 4096)	/* a part of it first */
			munmap((uint8_t *)in->map[slot].va + 4096, 4096);
		ret = munmap(in->map[slot].va, len) ? -errno : 0;
		in->map[slot].va = NULL;
	}
	pthread_mutex_unlock(&in->map_lock);
	return ret;
}

static long long op_set_irqs(struct thread *t, struct inst *in, struct op *o)
{
	static const uint32_t dt[] = { VFIO_IRQ_SET_DATA_NONE,
				       VFIO_IRQ_SET_DATA_BOOL,
				       VFIO_IRQ_SET_DATA_EVENTFD };
	static const uint32_t act[] = { VFIO_IRQ_SET_ACTION_MASK,
					VFIO_IRQ_SET_ACTION_UNMASK,
					VFIO_IRQ_SET_ACTION_TRIGGER,
					VFIO_IRQ_SET_ACTION_TRIGGER };
	struct vfio_irq_set *set = (void *)t->buf;
	uint64_t s = o->seed;
	uint32_t count, esz, i;
	int32_t *fds;
	uint8_t *bools;

	memset(set, 0, 4096);
	set->index = o->a % 4 ? VFIO_PCI_MSIX_IRQ_INDEX : o->a % 8;
	if (o->a % 29 == 0)
		set->index = o->a;
	set->flags = dt[o->b % 3] | act[(o->b >> 4) % 4];
	if (o->b % 17 == 0)
		set->flags |= 1u << (o->b % 32);
	if (o->b % 19 == 0)
		set->flags = dt[o->b % 3] | dt[(o->b >> 8) % 3] | act[(o->b >> 4) % 4] |
			     act[(o->b >> 12) % 4];
	switch (o->c % 8) {
	case 0:
		set->start = 0;
		count = 0;
		break;
	case 1:
		set->start = o->c % 10;
		count = 1;
		break;
	case 2:
		set->start = o->x;
		count = o->y;
		break;
	case 3:
		set->start = 0;
		count = 0xffffffff - (o->c >> 8) % 4;
		break;
	case 4:
		set->start = (o->c >> 8) % 4;
		count = 1 + (o->c >> 12) % 9;
		break;
	default:
		set->start = (o->c >> 8) % 2;
		count = 1 + (o->c >> 12) % 2;
		break;
	}
	set->count = count;
	esz = (set->flags & VFIO_IRQ_SET_DATA_EVENTFD) ? 4 :
	      (set->flags & VFIO_IRQ_SET_DATA_BOOL) ? 1 : 0;
	fds = (int32_t *)set->data;
	bools = set->data;
	for (i = 0; i < 256; i++) {
		switch (rnd(&s, 5)) {
		case 0:
			fds[i] = -1;
			break;
		case 1:
			fds[i] = rnext(&s);
			break;
		default:
			fds[i] = t->evfd[rnd(&s, NEVFD)];
			break;
		}
	}
	if (esz == 1)
		for (i = 0; i < 1024; i++)
			bools[i] = rnd(&s, 4) ? rnd(&s, 2) : rnext(&s);
	set->argsz = sizeof(*set) + (count < 256 ? count : 1) * esz;
	switch (o->d % 8) {
	case 0:
		set->argsz = pick_argsz(o->d >> 3, set->argsz);
		break;
	case 1:
		set->argsz = sizeof(*set) + 1024;
		break;
	default:
		break;
	}
	for (i = 0; i < NEVFD; i++)
		mdl_eventfd_read(t->evfd[i]);
	return sysret(ioctl(in->dev.fd, VFIO_DEVICE_SET_IRQS, set));
}

static long long op_get_info(struct thread *t, struct inst *in, struct op *o)
{
	uint32_t *b = (uint32_t *)t->buf;

	memset(t->buf, 0, 8192);
	switch (o->kind) {
	case OP_GET_IRQ_INFO:
		b[0] = pick_argsz(o->b, sizeof(struct vfio_irq_info));
		b[2] = o->a % 3 ? o->a % 7 : o->a;
		return sysret(ioctl(in->dev.fd, VFIO_DEVICE_GET_IRQ_INFO, b));
	case OP_GET_REGION_INFO:
		b[0] = pick_argsz(o->b, sizeof(struct vfio_region_info));
		if (o->b % 16 > 12)
			b[0] = 64 + o->b % 4096;	/* room for caps */
		b[1] = o->c % 5 ? 0 : o->c;
		b[2] = o->a % 3 ? o->a % 12 : o->a;
		return sysret(ioctl(in->dev.fd, VFIO_DEVICE_GET_REGION_INFO, b));
	default:
		b[0] = pick_argsz(o->b, sizeof(struct vfio_device_info));
		if (o->b % 16 > 12)
			b[0] = 64 + o->b % 4096;
		return sysret(ioctl(in->dev.fd, VFIO_DEVICE_GET_INFO, b));
	}
}

static long long op_feature_raw(struct thread *t, struct inst *in,
				struct op *o)
{
	static const uint32_t fl[] = {
		VFIO_DEVICE_FEATURE_GET, VFIO_DEVICE_FEATURE_SET,
		VFIO_DEVICE_FEATURE_PROBE,
		VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_GET,
		VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_SET, 0,
	};
	uint64_t s = o->seed;
	uint32_t flags = (o->a % 4 ? o->a % 16 : o->a & 0xffff);

	flags |= fl[o->b % ARRAY_SIZE(fl)];
	fill_bytes(t->buf, 256, s);
	if (o->c % 3 == 0)
		memset(t->buf, 0, 256);
	return feature(in->dev.fd, flags, t->buf, 64 + o->d % 128,
		       o->d % 4 ? 0 : o->d % 512);
}

static long long op_dma_log(struct thread *t, struct inst *in, struct op *o)
{
	struct vfio_device_feature_dma_logging_range *rg = (void *)(t->buf + 4096);
	uint64_t s = o->seed;
	unsigned int i, n;

	switch (o->a % 4) {
	case 0:
	case 1: {
		struct vfio_device_feature_dma_logging_control c = { 0 };

		n = o->b % 5 ? 1 + o->b % 4 : o->b % 1000;
		for (i = 0; i < n && i < 64; i++) {
			rg[i].iova = rnd(&s, 4) ? GMEM_IOVA + rnd(&s, GMEM_CHUNKS) *
				     (uint64_t)GMEM_CHUNK : rnext(&s);
			rg[i].length = rnd(&s, 4) ? GMEM_CHUNK << rnd(&s, 5) : rnext(&s);
		}
		c.page_size = o->c % 4 ? 4096 : 1ULL << (o->c % 64);
		c.num_ranges = n;
		c.ranges = (uintptr_t)rg;
		return feature(in->dev.fd, VFIO_DEVICE_FEATURE_SET |
			       VFIO_DEVICE_FEATURE_DMA_LOGGING_START, &c, sizeof(c),
			       pick_argsz(o->d, sizeof(struct vfio_device_feature) +
					  sizeof(c)));
	}
	case 2: {
		struct vfio_device_feature_dma_logging_report r = { 0 };

		r.iova = o->c % 4 ? GMEM_IOVA + (o->x % GMEM_SIZE & ~4095ULL) : o->x;
		r.length = o->c % 5 ? GMEM_CHUNK << (o->y % 5) : o->y;
		r.page_size = o->b % 4 ? 4096 : 1ULL << (o->b % 64);
		r.bitmap = (uintptr_t)(t->buf + 65536);
		/* The bitmap must fit: length / page_size bits. */
		if (!r.page_size || r.length / r.page_size / 8 + 4096 > IOBUF - 65536)
			r.bitmap = o->d % 2 ? 0 : 1;
		return feature(in->dev.fd, VFIO_DEVICE_FEATURE_GET |
			       VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT, &r, sizeof(r),
			       pick_argsz(o->d, sizeof(struct vfio_device_feature) +
					  sizeof(r)));
	}
	default:
		return feature(in->dev.fd, VFIO_DEVICE_FEATURE_SET |
			       VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP, t->buf, 0, 0);
	}
}

/*
 * Unmaps one at a time where the kernel lacks type1's lock-order fix
 * (then set): not a limit of migdev, a deadlock of the kernel's own.
 */
static int unmap_serialized;
static pthread_mutex_t unmap_lock = PTHREAD_MUTEX_INITIALIZER;

static long long op_map_dma(struct inst *in, struct op *o)
{
	unsigned int k = o->a % GMEM_CHUNKS;

	if (o->b % 4) {
		if (o->b % 4 == 1) {
			for (k = 0; k < GMEM_CHUNKS; k++)
				map_gmem_chunk(in, k);
			return 0;
		}
		return map_gmem_chunk(in, k);
	}
	{
		struct vfio_iommu_type1_dma_map m = {
			.argsz = pick_argsz(o->d, sizeof(m)),
			.flags = o->c % 3 ? VFIO_DMA_MAP_FLAG_READ |
				 VFIO_DMA_MAP_FLAG_WRITE : o->c,
			.vaddr = (uintptr_t)in->gmem + (o->x % GMEM_SIZE & ~4095ULL),
			.iova = o->y % 2 ? GMEM_IOVA + GMEM_SIZE +
				(o->y % GMEM_SIZE & ~4095ULL) : o->y,
			.size = 4096 << (o->a % 5),
		};

		return sysret(ioctl(in->dev.container, VFIO_IOMMU_MAP_DMA, &m));
	}
}

static long long op_unmap_dma(struct inst *in, struct op *o)
{
	struct mdl_dma m = {
		.iova = GMEM_IOVA + (uint64_t)(o->a % GMEM_CHUNKS) * GMEM_CHUNK,
		.size = o->b % 8 == 1 ? GMEM_SIZE : GMEM_CHUNK,	/* or all of it */
	};
	struct vfio_iommu_type1_dma_unmap u = {
		.argsz = pick_argsz(o->d, sizeof(u)),
		.flags = o->c % 3 ? 0 : o->c,
		.iova = o->x % 3 ? GMEM_IOVA + (o->x & (GMEM_SIZE - 1)) : o->x,
		.size = o->y % 3 ? 4096 << (o->y % 8) : o->y,
	};
	long long ret;

	if (unmap_serialized)
		pthread_mutex_lock(&unmap_lock);
	if (o->b % 4)
		ret = __mdl_dma_unmap_iova(&in->dev, &m);
	else
		ret = sysret(ioctl(in->dev.container, VFIO_IOMMU_UNMAP_DMA, &u));
	if (unmap_serialized)
		pthread_mutex_unlock(&unmap_lock);
	return ret;
}

static uint32_t ring_sz(struct op *o)
{
	return o->b % 8 ? RING_SLOTS >> (o->b % 4) : o->b;
}

static long long op_queue_setup(struct inst *in, struct op *o)
{
	unsigned int q = o->a % 4 ? o->a % in->nq : o->a % (MIGDEV_MAX_QUEUES + 2);
	uint64_t rb = GMEM_IOVA + (uint64_t)q * 8192, cb = rb + 4096;
	uint32_t v;
	long long ret;

	if (o->c % 6 == 0)
		rb = o->x;
	if (o->c % 7 == 0)
		cb = o->y;
	if (o->c % 11 == 0)
		rb += 32;	/* misaligned */
	v = 0;
	mdl_pwrite(&in->dev, 0, MIGDEV_REG_QUEUE(q) + MIGDEV_Q_CTRL, &v, 4);
	mdl_pwrite(&in->dev, 0, MIGDEV_REG_QUEUE(q) + MIGDEV_Q_RING_BASE, &rb, 8);
	v = ring_sz(o);
	mdl_pwrite(&in->dev, 0, MIGDEV_REG_QUEUE(q) + MIGDEV_Q_RING_SIZE, &v, 4);
	mdl_pwrite(&in->dev, 0, MIGDEV_REG_QUEUE(q) + MIGDEV_Q_COMPL_BASE, &cb, 8);
	v = o->d % 9 ? MIGDEV_Q_CTRL_ENABLE : o->d;
	ret = mdl_pwrite(&in->dev, 0, MIGDEV_REG_QUEUE(q) + MIGDEV_Q_CTRL, &v, 4);
	if (q < MIGDEV_MAX_QUEUES)
		in->tail[q] = 0;
	return ret;
}

/* Descriptors into queue q's ring (as set up above), then the doorbell. */
static long long op_submit(struct inst *in, struct op *o)
{
	unsigned int q = o->a % in->nq, i, n = 1 + o->b % 8;
	struct migdev_desc *ring = (void *)(in->gmem + q * 8192);
	uint64_t s = o->seed, data = GMEM_IOVA + 16 * 8192;
	uint64_t dspace = GMEM_SIZE - 16 * 8192;
	uint32_t tail = 0, head = 0, size = 64;

	mdl_pread(&in->dev, 0, MIGDEV_REG_QUEUE(q) + MIGDEV_Q_TAIL, &tail, 4);
	mdl_pread(&in->dev, 0, MIGDEV_REG_QUEUE(q) + MIGDEV_Q_HEAD, &head, 4);
	mdl_pread(&in->dev, 0, MIGDEV_REG_QUEUE(q) + MIGDEV_Q_RING_SIZE, &size, 4);
	if (!size || size > RING_SLOTS || (size & (size - 1)))
		size = RING_SLOTS;
	for (i = 0; i < n; i++) {
		struct migdev_desc d;
		uint32_t len = rnd(&s, 4) ? 1 + rnd(&s, 65536) : 1 + rnd(&s, 1 << 20);
		uint16_t op = rnd(&s, 7);
		uint64_t a = data + rnd(&s, dspace / 2), b = data + dspace / 2 +
			     rnd(&s, dspace / 2);

		if (op == MIGDEV_OP_TO_DEV || op == MIGDEV_OP_FROM_DEV ||
		    op == MIGDEV_OP_DEV_CRC32C) {
			uint64_t dm = in->devmem ? rnext(&s) % in->devmem : 0;

			if (op == MIGDEV_OP_TO_DEV)
				b = dm;
			else
				a = dm;
			if (rnd(&s, 2))
				len = 1 + rnd(&s, in->devmem ? in->devmem : 1);
		}
		if (len > MIGDEV_MAX_XFER)
			len = MIGDEV_MAX_XFER;
		d = mdl_desc(op, a, b, op ? len : 0, rnd(&s, 2) ? MIGDEV_DESC_F_IRQ : 0);
		if (op == MIGDEV_OP_FILL)
			d.pattern = rnext(&s);
		switch (o->c % 10) {
		case 0:		/* garbage */
			fill_bytes(&d, sizeof(d), rnext(&s));
			break;
		case 1:		/* a bad field */
			switch (rnd(&s, 5)) {
			case 0:
				d.opcode = rnext(&s);
				break;
			case 1:
				d.len = rnd(&s, 2) ? 0 : rnext(&s);
				break;
			case 2:
				d.src = rnext(&s);
				break;
			case 3:
				d.reserved[rnd(&s, 3)] = 1;
				break;
			default:
				d.flags = rnext(&s);
				break;
			}
			break;
		case 2:		/* overlapping copy */
			d = mdl_desc(MIGDEV_OP_COPY, a, a + rnd(&s, 64), len, 0);
			break;
		default:
			break;
		}
		d.cookie = rnext(&s);
		ring[(tail + i) & (size - 1)] = d;
	}
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	tail += n;
	if (o->d % 17 == 0)
		tail = head + size + 1 + o->d % 100;	/* overrun */
	return mdl_pwrite(&in->dev, 0, MIGDEV_REG_QUEUE(q) + MIGDEV_Q_TAIL, &tail, 4);
}

/*
 * Where a data_fd read or write copies to or from, as hostile as a user
 * can make it: the thread's buffer; its end against an inaccessible page,
 * so the copy faults midway; guest memory that userfaultfd or the FUSE
 * daemon serves late; or a mapping of some instance's BAR2 (maybe the
 * data_fd's own device), whose fault takes that device memory's lock, and
 * which may reach past BAR2's end.  Up to *@n bytes; *@locked is the instance whose
 * map lock is held for the mapping (released by the caller), or NULL.
 * Stream bytes in @t->buf for a write are moved to where it reads them,
 * where that is memory of the thread's own.
 */
static uint8_t *df_buf(struct thread *t, const struct op *o, size_t *n,
		       bool write, struct inst **locked)
{
	struct inst *in = &insts[o->inst2 % NINST];
	uint8_t *p;
	size_t k;

	*locked = NULL;
	switch (o->d % 16) {
	case 12:
		/* Faults after k bytes: 0, a page's worth, or mid-page. */
		k = o->y % 3 == 0 ? 0 : o->y % 3 == 1 ? 4096 * (1 + o->y % 64) :
		    o->y % (*n + 1);
		k = k < *n ? k : *n;
		p = t->guarded + IOBUF - k;
		if (write)
			memcpy(p, t->buf, k);
		return p;
	case 13:
	case 14:
		if (*n > GMEM_CHUNK)
			*n = GMEM_CHUNK;
		return in->gmem + (o->d % 16 == 13 ? UFFD_CHUNK : FUSE_CHUNK) *
				  GMEM_CHUNK;
	case 15:
		pthread_mutex_lock(&in->map_lock);
		p = in->map[o->y % NMAPS].va;
		if (!p) {
			pthread_mutex_unlock(&in->map_lock);
			return t->buf;
		}
		/*
		 * Within the mapping: what follows it may be any memory of
		 * ours.  A mapping may reach past the end of BAR2 (op_mmap),
		 * which the copy finds as a fault.
		 */
		if (*n > in->map[o->y % NMAPS].len)
			*n = in->map[o->y % NMAPS].len;
		*locked = in;
		return p;
	default:
		return t->buf;
	}
}

static long long op_df(struct thread *t, struct op *o)
{
	long long ret;
	int inst = -1, fd = dfd_get(o->a, &inst);
	uint64_t s = o->seed;
	struct inst *locked;
	uint8_t *p;

	if (fd >= 0 && o->kind == OP_DF_CLOSE) {
		close(fd);
		return dfd_close(o->a);
	}
	if (fd < 0)
		return -EBADF;
	switch (o->kind) {
	case OP_DF_READ: {
		size_t n = o->b < IOBUF ? o->b : IOBUF;

		if (o->c % 16 == 0) {
			ret = sysret(pread(fd, t->buf, 16, 0));	/* ESPIPE */
			break;
		}
		p = df_buf(t, o, &n, false, &locked);
		ret = sysret(read(fd, p, n));
		if (locked)
			pthread_mutex_unlock(&locked->map_lock);
		break;
	}
	case OP_DF_WRITE: {
		size_t n = o->b < IOBUF ? o->b : IOBUF;
		size_t off = 0;
		int ty = inst >= 0 ? insts[inst].type : 0;

		fill_bytes(t->buf, n, s);
		if (o->c % 3) {
			pthread_mutex_lock(&saved[ty].lock);
			if (saved[ty].len) {
				if (o->c % 3 == 1)
					off = o->x % saved[ty].len;
				if (n > saved[ty].len - off)
					n = saved[ty].len - off;
				memcpy(t->buf, saved[ty].buf + off, n);
			}
			pthread_mutex_unlock(&saved[ty].lock);
		}
		p = df_buf(t, o, &n, true, &locked);
		ret = sysret(write(fd, p, n));
		if (locked)
			pthread_mutex_unlock(&locked->map_lock);
		break;
	}
	case OP_DF_POLL: {
		struct pollfd p = { .fd = fd, .events = o->b % 2 ? POLLIN : POLLOUT | POLLIN };

		ret = sysret(poll(&p, 1, o->c % 50));
		if (ret > 0)
			ret = p.revents;
		break;
	}
	default: {
		struct vfio_precopy_info *pi = (void *)t->buf;

		memset(pi, 0, sizeof(*pi));
		pi->argsz = pick_argsz(o->b, sizeof(*pi));
		pi->flags = o->c % 5 ? 0 : o->c;
		if (o->d % 7 == 0)
			ret = sysret(ioctl(fd, o->d, pi));
		else
			ret = sysret(ioctl(fd, VFIO_MIG_GET_PRECOPY_INFO, pi));
		break;
	}
	}
	close(fd);
	return ret;
}

static long long op_reopen(struct inst *in, struct op *o, int recreate)
{
	long long ret;

	if (inst_wrlock(in))
		return -EBUSY;
	inst_close(in);
	if (recreate) {
		ret = __mdl_remove(in->uuid);
		if (!ret || !mdl_exists(in->uuid))
			ret = inst_create(in);
		else
			ret = inst_open(in);
	} else {
		ret = inst_open(in);
	}
	pthread_rwlock_unlock(&in->lock);
	return ret;
}

static long long op_dirty(struct inst *in, struct op *o)
{
	static __thread uint8_t page[4096];
	unsigned int i, n = 1 + o->a % 16;
	long long ret = 0;

	if (!in->devmem)
		return -ENODEV;
	for (i = 0; i < n; i++) {
		uint64_t off = ((o->x >> 12) + i * 37) % (in->devmem >> 12) << 12;

		mdl_fill_random(page, sizeof(page), o->seed + i);
		ret = mdl_pwrite(&in->dev, VFIO_PCI_BAR2_REGION_INDEX, off, page,
				 sizeof(page));
	}
	return ret;
}

/* Write @text to instance @in's debugfs @file: 0 or -errno. */
static int debugfs_write(struct inst *in, const char *file, const char *text)
{
	char path[256];
	int fd, ret = 0;

	snprintf(path, sizeof(path), "/sys/kernel/debug/migdev/%s/%s",
		 in->uuid, file);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -errno;
	if (write(fd, text, strlen(text)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

static int fault_write(struct inst *in, const char *text)
{
	return debugfs_write(in, "faults", text);
}

/* The pre-flight file @name of @in, or without it of type @t % types. */
static void compat_file(char *path, size_t len, struct inst *in, uint64_t t,
			const char *name)
{
	if (in)
		snprintf(path, len, "/sys/bus/mdev/devices/%s/migdev/%s",
			 in->uuid, name);
	else
		snprintf(path, len, "/sys/class/mdev_bus/%s/mdev_supported_types/%s/migdev/%s",
			 mdl_parent(), mdl_type_name(t % MIGDEV_NUM_TYPES),
			 name);
}

/*
 * The pre-flight check: read the instance's or a type's description
 * (migration_compat), perhaps with a byte changed, a line cut or the
 * whole made of random bytes, and ask the instance or a type about it
 * (migration_compat_check): any answer will do, and nothing may change (the check at the end
 * finds out).  Or set the stream version the instance emits, which a
 * description reads without a lock.
 */
static long long op_compat(struct inst *in, struct op *o)
{
	char from[256], to[256], buf[512];
	size_t len;
	int fd, ret = 0;

	if (o->a % 7 == 0) {
		snprintf(to, sizeof(to),
			 "/sys/bus/mdev/devices/%s/migdev/migration_minor",
			 in->uuid);
		snprintf(buf, sizeof(buf), "%u", o->b % 6);
		return mdl_sysfs_write(to, buf);
	}
	compat_file(from, sizeof(from), o->b % 2 ? in : NULL, o->c,
		    "migration_compat");
	compat_file(to, sizeof(to), o->d % 3 ? in : NULL, o->x,
		    "migration_compat_check");
	fd = open(from, O_RDONLY);
	if (fd < 0)
		return -errno;
	ret = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (ret < 0)
		return -errno;
	len = ret;
	switch (o->a % 7) {
	case 1:		/* a byte changed */
		if (len)
			buf[o->y % len] ^= 1 + o->seed % 255;
		break;
	case 2:		/* cut short */
		len = len ? o->y % len : 0;
		break;
	case 3: {	/* random bytes */
		uint64_t r = o->y | 1;
		size_t i;

		len = o->seed % sizeof(buf);
		for (i = 0; i < len; i++) {
			r ^= r << 13, r ^= r >> 7, r ^= r << 17;
			buf[i] = r;
		}
		break;
	}
	}
	fd = open(to, O_WRONLY);
	if (fd < 0)
		return -errno;
	ret = write(fd, buf, len) < 0 ? -errno : 0;
	close(fd);
	return ret;
}

/*
 * Set the device's writer going (debugfs writer: any range, rate and
 * pattern, valid or not), or stop it, or read it (its digest reads all
 * of the range): it writes device memory under every other operation,
 * through migrations, resets, closes and removals.  Or give the device
 * opaque state, which every stop-copy then sends.  Rates stay low
 * enough not to starve the run; the check at the end stops it first.
 */
static long long op_writer(struct inst *in, struct op *o)
{
	static const char *const patterns[] = { "sweep", "random", "hot" };
	char text[160], path[256], buf[512];

	switch (o->a % 5) {
	case 0:
		return debugfs_write(in, "writer", "stop");
	case 4:
		/* Opaque state for the next stop-copies, up to 1 MiB. */
		snprintf(text, sizeof(text), "%u %u",
			 (unsigned int)(o->x % 257) << 12, o->seed);
		return debugfs_write(in, "opaque", text);
	case 1:
		snprintf(path, sizeof(path), "/sys/kernel/debug/migdev/%s/writer",
			 in->uuid);
		return mdl_sysfs_read(path, buf, sizeof(buf));
	}
	snprintf(text, sizeof(text), "off=%llu len=%llu rate=%u pattern=%s seed=%u",
		 (unsigned long long)(o->x % 8) << 12,
		 (unsigned long long)(o->y % 64) << 12,
		 (unsigned int)(o->b % 5000), patterns[o->c % 3], o->seed);
	if (o->c % 3 == 2)
		snprintf(text + strlen(text), sizeof(text) - strlen(text),
			 " hot=%u", 1 + (unsigned int)(o->d % 4));
	return debugfs_write(in, "writer", text);
}

/*
 * Arm a fault rule on the instance (debugfs faults, any point, action and
 * timing, sense or nonsense: the kernel refuses what does not parse), or
 * clear its rules: every error path the rules reach runs under the other
 * threads' operations.  Delays stay short; the check at the end clears
 * the rules first.
 */
static long long op_fault(struct inst *in, struct op *o)
{
	static const char *const points[] = {
		"arc * *", "arc RUNNING *", "arc * STOP_COPY",
		"arc PRE_COPY_P2P STOP_COPY", "arc RESUMING STOP", "arc STOP *",
		"read", "write", "precopy_info", "data_size", "commit",
		"quiesce", "arc NOWHERE *", "v1_state", "v1_pending",
		"v1_data_size", "dma_log_start", "dma_log_report", "now",
	};
	static const char *const actions[] = {
		"fail=EIO", "fail=EAGAIN", "fail=ENOMEM", "fail=4095", "error",
		"delay=1", "short=1", "short=4097", "eof", "corrupt", "reset",
		"req_irq", "scale=10", "scale=100000", "dirty=4096", "err_irq",
	};
	char text[128];

	if (o->a % 4 == 0)
		return fault_write(in, "clear");
	snprintf(text, sizeof(text), "%s %s", points[o->b % ARRAY_SIZE(points)],
		 actions[o->c % ARRAY_SIZE(actions)]);
	switch (o->d % 6) {
	case 1:
		snprintf(text + strlen(text), sizeof(text) - strlen(text),
			 " nth=%u", 1 + (unsigned int)(o->x % 8));
		break;
	case 2:
		snprintf(text + strlen(text), sizeof(text) - strlen(text),
			 " every=%u", 1 + (unsigned int)(o->x % 5));
		break;
	case 3:
		snprintf(text + strlen(text), sizeof(text) - strlen(text),
			 " prob=%u seed=%u", 1 + (unsigned int)(o->x % 100),
			 o->seed);
		break;
	case 4:
		snprintf(text + strlen(text), sizeof(text) - strlen(text),
			 " times=%u at=%u", 1 + (unsigned int)(o->x % 3),
			 (unsigned int)(o->y % 200000));
		break;
	case 5:
		snprintf(text + strlen(text), sizeof(text) - strlen(text),
			 " times=%u", 1 + (unsigned int)(o->x % 3));
		break;
	}
	return fault_write(in, text);
}

static long long exec_op(struct thread *t, struct op *o)
{
	struct inst *in = &insts[o->inst % NINST];
	long long ret;

	if (o->kind >= OP_LC_FIRST && o->kind <= OP_LC_LAST) {
		struct lc_args a = {
			.a = o->a, .b = o->b, .c = o->c, .d = o->d,
			.x = o->x, .y = o->y, .seed = o->seed,
		};

		return lc_exec(o->kind - OP_LC_FIRST, &a);
	}
	switch (o->kind) {
	case OP_MIGRATE:
		o->inst %= NINST;
		o->inst2 %= NINST;
		return op_migrate(t, o);
	case OP_REOPEN:
	case OP_RECREATE:
		return op_reopen(in, o, o->kind == OP_RECREATE);
	case OP_DF_READ:
	case OP_DF_WRITE:
	case OP_DF_POLL:
	case OP_DF_CLOSE:
	case OP_DF_IOCTL:
		return op_df(t, o);
	default:
		break;
	}
	pthread_rwlock_rdlock(&in->lock);
	if (!in->valid) {
		pthread_rwlock_unlock(&in->lock);
		return -ENODEV;
	}
	switch (o->kind) {
	case OP_SET_STATE:
		ret = set_state(in, o->inst % NINST, o->a, o->b);
		break;
	case OP_GET_STATE:
		ret = get_state(in);
		break;
	case OP_FEATURE_RAW:
		ret = op_feature_raw(t, in, o);
		break;
	case OP_DATA_SIZE: {
		uint64_t b;

		ret = __mdl_mig_data_size(&in->dev, &b);
		if (!ret)
			ret = b;
		break;
	}
	case OP_RESET:
		ret = sysret(ioctl(in->dev.fd, VFIO_DEVICE_RESET));
		break;
	case OP_DMA_LOG:
		ret = op_dma_log(t, in, o);
		break;
	case OP_REGION_RW:
		ret = op_region_rw(t, in, o);
		break;
	case OP_BAR0_REG:
		ret = op_bar0(in, o);
		break;
	case OP_CFG_WRITE:
		ret = op_cfg(in, o);
		break;
	case OP_MMAP:
		ret = op_mmap(in, o);
		break;
	case OP_MUNMAP:
		ret = op_munmap(in, o);
		break;
	case OP_TOUCH:
		ret = op_touch(in, o);
		break;
	case OP_SET_IRQS:
		ret = op_set_irqs(t, in, o);
		break;
	case OP_GET_IRQ_INFO:
	case OP_GET_REGION_INFO:
	case OP_GET_INFO:
		ret = op_get_info(t, in, o);
		break;
	case OP_MAP_DMA:
		ret = op_map_dma(in, o);
		break;
	case OP_UNMAP_DMA:
		ret = op_unmap_dma(in, o);
		break;
	case OP_QUEUE_SETUP:
		ret = op_queue_setup(in, o);
		break;
	case OP_SUBMIT:
		ret = op_submit(in, o);
		break;
	case OP_V1_STATE: {
		static const uint32_t v[] = { 0, 1, 2, 3, 4, 5, 6, 8, 9, 10, 11 };
		uint32_t st = o->a % 8 ? v[o->b % 11] : o->b;

		ret = mdl_v1_set(&in->dev, o->c % 2 ? st : VFIO_DEVICE_STATE_V1_RUNNING);
		break;
	}
	case OP_V1_FIELD: {
		static const uint32_t widths[] = { 4, 8, 8, 1, 2, 16 };
		uint64_t val[2] = { o->y, o->x };
		unsigned int off = o->a % 4 ? (o->a % 8) * 4 : o->a % (V1_INFO + 16);

		if (o->d % 5 == 0)
			off = MIGDEV_MIG_DATA_OFFSET + o->x % (MIGDEV_MIG_DATA_SIZE + 16);
		ret = v1_rw(in, off, val, widths[o->b % ARRAY_SIZE(widths)], o->c & 1);
		break;
	}
	case OP_V1_SAVE:
		ret = op_v1_save(t, in, o);
		break;
	case OP_V1_LOAD:
		ret = op_v1_load(t, in, o);
		break;
	case OP_DIRTY:
		ret = op_dirty(in, o);
		break;
	case OP_FAULT:
		ret = op_fault(in, o);
		break;
	case OP_WRITER:
		ret = op_writer(in, o);
		break;
	case OP_COMPAT:
		ret = op_compat(in, o);
		break;
	default:
		ret = -EINVAL;
		break;
	}
	pthread_rwlock_unlock(&in->lock);
	return ret;
}

/* ---- KCOV ------------------------------------------------------------ */

/* Insert @pc into the global set: 1 if it is new. */
static int pcset_add(uint64_t pc)
{
	uint64_t h = (pc * 0x9e3779b97f4a7c15ULL) >> 44, cur;
	unsigned int i;

	for (i = 0; i < PCSET_SIZE; i++) {
		uint64_t *slot = &pcset[(h + i) & (PCSET_SIZE - 1)];

		cur = __atomic_load_n(slot, __ATOMIC_RELAXED);
		if (cur == pc)
			return 0;
		if (!cur) {
			uint64_t zero = 0;

			if (__atomic_compare_exchange_n(slot, &zero, pc, 0,
							__ATOMIC_RELAXED,
							__ATOMIC_RELAXED)) {
				__atomic_add_fetch(&pcs_seen, 1, __ATOMIC_RELAXED);
				return 1;
			}
			if (zero == pc)
				return 0;
		}
	}
	return 0;
}

static void kcov_open(struct thread *t)
{
	t->kcov = -1;
	if (!have_kcov)
		return;
	t->kcov = open("/sys/kernel/debug/kcov", O_RDWR);
	if (t->kcov < 0)
		return;
	if (ioctl(t->kcov, KCOV_INIT_TRACE, KCOV_WORDS))
		goto fail;
	t->cover = mmap(NULL, KCOV_WORDS * sizeof(unsigned long),
			PROT_READ | PROT_WRITE, MAP_SHARED, t->kcov, 0);
	if (t->cover == MAP_FAILED)
		goto fail;
	if (ioctl(t->kcov, KCOV_ENABLE, KCOV_TRACE_PC))
		goto fail;
	return;
fail:
	printf("# thread %u: kcov: %s\n", t->idx, strerror(errno));
	close(t->kcov);
	t->kcov = -1;
}

/* The PCs of the last operation: how many were new. */
static unsigned int kcov_collect(struct thread *t)
{
	unsigned long n, i;
	unsigned int fresh = 0;

	if (t->kcov < 0)
		return 0;
	n = __atomic_load_n(&t->cover[0], __ATOMIC_RELAXED);
	if (n >= KCOV_WORDS)
		n = KCOV_WORDS - 1;
	for (i = 0; i < n; i++)
		fresh += pcset_add(t->cover[i + 1]);
	__atomic_store_n(&t->cover[0], 0, __ATOMIC_RELAXED);
	return fresh;
}

static void corpus_add(struct thread *t)
{
	unsigned int i, slot;

	pthread_mutex_lock(&corpus_lock);
	slot = corpus_len < CORPUS_MAX ? corpus_len++ : rnd(&t->rng, CORPUS_MAX);
	for (i = 0; i < t->seq_len; i++)
		corpus[slot].ops[i] = t->seq[(t->ops_done + SEQLEN - t->seq_len + i) % SEQLEN];
	corpus[slot].len = t->seq_len;
	pthread_mutex_unlock(&corpus_lock);
}

static void mutate(uint64_t *r, struct op *o)
{
	uint32_t *f[] = { &o->a, &o->b, &o->c, &o->d, &o->seed };

	switch (rnd(r, 5)) {
	case 0:
		gen_op(r, o);
		break;
	case 1:
		o->inst = rnd(r, NINST);
		break;
	case 2:
		*f[rnd(r, 5)] ^= 1u << rnd(r, 32);
		break;
	case 3:
		o->x = pick_off(r, 1ULL << rnd(r, 30));
		break;
	default:
		*f[rnd(r, 5)] = rnext(r);
		break;
	}
}

/* ---- threads, the log and the watchdog ------------------------------- */

static void print_log(struct thread *t)
{
	unsigned int i, n = t->ops_done < RINGLOG ? t->ops_done : RINGLOG;
	char s[256];

	printf("# thread %u: its last %u operations (oldest first):\n", t->idx, n);
	for (i = 0; i < n; i++) {
		struct logent *e = &t->ring[(t->ring_pos + RINGLOG - n + i) % RINGLOG];

		op_str(&e->op, s, sizeof(s));
		printf("#   %s -> %lld (%.1f ms)\n", s, e->ret, e->ms);
	}
}

static void replay_hint(void)
{
	printf("# replay: tests/build/uapi_fuzz --seed %llu --ops %llu --threads %u\n",
	       seed, total_ops, nthreads);
	printf("# (each thread's operations replay exactly, the interleaving does not:\n");
	printf("#  --threads 1 is deterministic)\n");
}

static void *watchdog(void *arg)
{
	unsigned int i;
	char s[256];

	while (!__atomic_load_n(&stop_all, __ATOMIC_RELAXED)) {
		sleep(1);
		for (i = 0; i < nthreads; i++) {
			struct thread *t = &threads[i];
			double st = t->started;

			if (!st || now() - st < bound_s)
				continue;
			op_str(&t->cur, s, sizeof(s));
			printf("# FAIL: thread %u in one operation for %.0f s (bound %.0f s): %s\n",
			       i, now() - st, bound_s, s);
			for (i = 0; i < nthreads; i++) {
				if (threads[i].started) {
					op_str(&threads[i].cur, s, sizeof(s));
					printf("#   thread %u in: %s (%.1f s)\n", i, s,
					       now() - threads[i].started);
				}
			}
			for (i = 0; i < nthreads; i++)
				print_log(&threads[i]);
			printf("# seed %llu\n", seed);
			replay_hint();
			printf("not ok 1 fuzz: no operation blocks longer than %.0f s\n", bound_s);
			printf("# Totals: pass:0 fail:1 xfail:0 xpass:0 skip:0 error:0\n");
			fflush(stdout);
			_exit(1);
		}
	}
	return NULL;
}

static void *worker(void *arg)
{
	struct thread *t = arg;
	unsigned long long mine = total_ops / nthreads + (t->idx < total_ops % nthreads);
	struct op replay[SEQLEN];
	unsigned int rlen = 0, rpos = 0, i;

	t->rng = seed * 0x100000001b3ULL + t->idx + 1;
	t->buf = malloc(IOBUF);
	t->cap = STREAM_MAX + (4 << 20);
	t->stream = malloc(t->cap);
	t->guarded = mmap(NULL, IOBUF + 4096, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!t->buf || !t->stream || t->guarded == MAP_FAILED ||
	    mprotect(t->guarded + IOBUF, 4096, PROT_NONE))
		return NULL;
	for (i = 0; i < NEVFD; i++)
		t->evfd[i] = mdl_eventfd();
	kcov_open(t);
	kcov_collect(t);
	while (t->ops_done < mine && !__atomic_load_n(&stop_all, __ATOMIC_RELAXED)) {
		struct logent *e;
		unsigned int fresh;
		double st;

		if (rpos < rlen) {
			t->cur = replay[rpos++];
			/* Sequences with a reopen are common, keep them rare. */
			if ((t->cur.kind == OP_REOPEN || t->cur.kind == OP_RECREATE) &&
			    rnd(&t->rng, 5))
				gen_op(&t->rng, &t->cur);
		} else if (corpus_len && rnd(&t->rng, 100) < 30) {
			pthread_mutex_lock(&corpus_lock);
			i = rnd(&t->rng, corpus_len);
			rlen = corpus[i].len;
			memcpy(replay, corpus[i].ops, sizeof(replay));
			pthread_mutex_unlock(&corpus_lock);
			for (i = 1 + rnd(&t->rng, 3); i; i--)
				mutate(&t->rng, &replay[rnd(&t->rng, rlen)]);
			__atomic_add_fetch(&replays, 1, __ATOMIC_RELAXED);
			rpos = 0;
			t->cur = replay[rpos++];
		} else {
			gen_op(&t->rng, &t->cur);
		}
		t->seq[t->ops_done % SEQLEN] = t->cur;
		if (t->seq_len < SEQLEN)
			t->seq_len++;
		e = &t->ring[t->ring_pos];
		e->op = t->cur;
		st = now();
		t->started = st;
		e->ret = exec_op(t, &t->cur);
		t->started = 0;
		e->ms = (now() - st) * 1000;
		t->ring_pos = (t->ring_pos + 1) % RINGLOG;
		t->ops_done++;
		if (e->ret >= 0) {
			t->n_ok[t->cur.kind % NR_OPS]++;
		} else {
			t->n_err[t->cur.kind % NR_OPS]++;
			t->last_err[t->cur.kind % NR_OPS] = e->ret;
		}
		fresh = kcov_collect(t);
		if (fresh) {
			t->new_pcs += fresh;
			corpus_add(t);
		}
		if (verbose) {
			char s[256];

			op_str(&t->cur, s, sizeof(s));
			printf("# t%u %s -> %lld\n", t->idx, s, e->ret);
		}
	}
	if (t->kcov >= 0) {
		ioctl(t->kcov, KCOV_DISABLE, 0);
		close(t->kcov);
	}
	for (i = 0; i < NEVFD; i++)
		close(t->evfd[i]);
	return NULL;
}

/* ---- the check at the end -------------------------------------------- */

static int compare(struct mdl_dev *a, struct mdl_dev *b, uint64_t devmem)
{
	static uint8_t pa[1 << 20], pb[1 << 20];
	uint64_t off, sa = 0, sb = 0;

	mdl_pread(a, 0, MIGDEV_REG_SCRATCH, &sa, 8);
	mdl_pread(b, 0, MIGDEV_REG_SCRATCH, &sb, 8);
	if (sa != sb) {
		printf("# scratch differs: %#llx vs %#llx\n", (unsigned long long)sa,
		       (unsigned long long)sb);
		return -1;
	}
	if (mdl_pread(a, 7, 0, pa, 256) != 256 || mdl_pread(b, 7, 0, pb, 256) != 256 ||
	    memcmp(pa, pb, 256)) {
		printf("# config space differs\n");
		return -1;
	}
	for (off = 0; off < devmem && off < (8u << 20); off += sizeof(pa)) {
		if (mdl_pread(a, 2, off, pa, sizeof(pa)) != sizeof(pa) ||
		    mdl_pread(b, 2, off, pb, sizeof(pb)) != sizeof(pb) ||
		    memcmp(pa, pb, sizeof(pa))) {
			printf("# device memory differs at %#llx\n", (unsigned long long)off);
			return -1;
		}
	}
	return 0;
}

/* Instance @in emits the module's stream version again. */
static int inst_default_minor(struct inst *in)
{
	char path[256], minor[16];
	int ret;

	ret = mdl_sysfs_read("/sys/module/migdev/parameters/stream_minor",
			     minor, sizeof(minor));
	if (ret)
		return ret;
	snprintf(path, sizeof(path),
		 "/sys/bus/mdev/devices/%s/migdev/migration_minor", in->uuid);
	return mdl_sysfs_write(path, minor);
}

/*
 * Instance @in, reopened and reset, with a known state and a DMA copy run
 * through it, migrated to a fresh instance of its type: they must match.
 */
static int final_check(struct inst *in, unsigned int n)
{
	char du[MDL_UUID_LEN];
	struct mdl_dev dst;
	struct mdl_queue q;
	struct mdl_dma a, b;
	struct migdev_desc d;
	uint8_t *stream = NULL;
	size_t cap = 0;
	ssize_t len;
	int ret = -1;
	uint32_t st;

	inst_close(in);
	if (!mdl_exists(in->uuid) ? inst_create(in) : inst_open(in)) {
		printf("# instance %u: cannot reopen\n", n);
		return -1;
	}
	/* Nor is the device's writer, nor its opaque state. */
	if (debugfs_write(in, "writer", "stop") ||
	    debugfs_write(in, "opaque", "0")) {
		printf("# instance %u: cannot stop its writer\n", n);
		return -1;
	}
	/* The fault rules the run armed are not for the check. */
	if (fault_write(in, "clear")) {
		printf("# instance %u: cannot clear its fault rules\n", n);
		return -1;
	}
	/* Nor the older stream version op_compat() may have set. */
	if (inst_default_minor(in)) {
		printf("# instance %u: cannot set its stream version back\n", n);
		return -1;
	}
	if (ioctl(in->dev.fd, VFIO_DEVICE_RESET)) {
		printf("# instance %u: VFIO_DEVICE_RESET: %s\n", n, strerror(errno));
		return -1;
	}
	if (mdl_mig_get(&in->dev) != VFIO_DEVICE_STATE_RUNNING) {
		printf("# instance %u: state %u after reset\n", n, mdl_mig_get(&in->dev));
		return -1;
	}
	mdl_dirty_device(&in->dev, 1000 + n);
	mdl_bus_master(&in->dev, 1);
	if (__mdl_queue_init(&in->dev, 0, 64, &q)) {
		printf("# instance %u: queue setup failed\n", n);
		return -1;
	}
	mdl_dma_map(&in->dev, 65536, &a);
	mdl_dma_map(&in->dev, 65536, &b);
	mdl_fill_random(a.va, 65536, n);
	d = mdl_desc(MIGDEV_OP_NOP, 0, 0, 0, 0);
	st = mdl_run(&q, &d);
	d = mdl_desc(MIGDEV_OP_COPY, a.iova, b.iova, 65536, 0);
	if (st == MIGDEV_STATUS_OK)
		st = mdl_run(&q, &d);
	if (st != MIGDEV_STATUS_OK || memcmp(a.va, b.va, 65536)) {
		printf("# instance %u: DMA copy after the fuzzing: status %u\n", n, st);
		goto out_q;
	}
	if (__mdl_create(mdl_parent(), in->type, du)) {
		printf("# instance %u: cannot create a destination\n", n);
		goto out_q;
	}
	if (__mdl_open(du, &dst)) {
		printf("# instance %u: cannot open the destination\n", n);
		goto out_rm;
	}
	len = mdl_save(&in->dev, &stream, &cap);
	if (len <= 0) {
		printf("# instance %u: save: %zd\n", n, len);
		goto out_close;
	}
	ret = mdl_load(&dst, stream, len, 1 << 20);
	if (ret) {
		printf("# instance %u: load: %s\n", n, strerror(-ret));
		goto out_close;
	}
	ret = compare(&in->dev, &dst, in->devmem);
	if (!ret)
		printf("# instance %u (%s): migrated %zd bytes, destination matches\n", n,
		       mdl_type_name(in->type), len);
out_close:
	__mdl_mig_set(&in->dev, VFIO_DEVICE_STATE_RUNNING, NULL);
	mdl_close(&dst);
out_rm:
	__mdl_remove(du);
out_q:
	free(stream);
	mdl_queue_fini(&q);
	mdl_dma_free(&in->dev, &a);
	mdl_dma_free(&in->dev, &b);
	return ret;
}

/* ---- main ------------------------------------------------------------ */

static int is_debug_kernel(void)
{
	struct utsname u;

	return !uname(&u) && strstr(u.release, "debug");
}

/*
 * The PCs seen, as offsets into the module's .text, one a line, to
 * $MIGDEV_RESULTS/uapi_fuzz.pcs: objdump -dr migdev.ko shows what they
 * are (a PC is the return address of a __sanitizer_cov_trace_pc call).
 */
static void dump_pcs(void)
{
	const char *dir = getenv("MIGDEV_RESULTS");
	unsigned long long base = 0;
	char path[4200];
	unsigned int i;
	FILE *f;

	if (!dir)
		return;
	f = fopen("/sys/module/migdev/sections/.text", "r");
	if (!f)
		return;
	if (fscanf(f, "%llx", &base) != 1)
		base = 0;
	fclose(f);
	if (!base)
		return;
	snprintf(path, sizeof(path), "%s/uapi_fuzz.pcs", dir);
	f = fopen(path, "w");
	if (!f)
		return;
	for (i = 0; i < PCSET_SIZE; i++)
		if (pcset[i] >= base && pcset[i] - base < (1ULL << 30))
			fprintf(f, "%llx\n", (unsigned long long)(pcset[i] - base));
	fclose(f);
}

/* Call sites of __sanitizer_cov_trace_pc in the module: its PCs. */
static long module_pcs(void)
{
	const char *ko = getenv("MIGDEV_KO");
	char cmd[4200];
	long n = -1;
	FILE *p;

	if (!ko || access(ko, R_OK))
		ko = "migdev.ko";
	if (access(ko, R_OK))
		return -1;
	snprintf(cmd, sizeof(cmd),
		 "objdump -r '%s' 2>/dev/null | grep -c '__sanitizer_cov_trace_pc\\b'", ko);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	if (fscanf(p, "%ld", &n) != 1)
		n = -1;
	pclose(p);
	return n;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "seed", required_argument, NULL, 's' },
		{ "ops", required_argument, NULL, 'o' },
		{ "threads", required_argument, NULL, 't' },
		{ "bound", required_argument, NULL, 'b' },
		{ "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned int i, pass = 0, fail = 0;
	pthread_t wd;
	double t0, el;
	int c, seeded = 0;
	const char *env = getenv("MIGDEV_FUZZ_OPS");
	struct sigaction sa = { .sa_handler = touch_signal, .sa_flags = SA_NODEFER };

	total_ops = env ? strtoull(env, NULL, 0) : is_debug_kernel() ? 400000 : 50000;
	while ((c = getopt_long(argc, argv, "s:o:t:b:v", lo, NULL)) != -1) {
		switch (c) {
		case 's':
			seed = strtoull(optarg, NULL, 0);
			seeded = 1;
			break;
		case 'o':
			total_ops = strtoull(optarg, NULL, 0);
			break;
		case 't':
			nthreads = atoi(optarg);
			break;
		case 'b':
			bound_s = atof(optarg);
			break;
		case 'v':
			verbose = 1;
			break;
		default:
			fprintf(stderr, "usage: %s [--seed N] [--ops N] [--threads T]",
				argv[0]);
			fprintf(stderr, " [--bound S] [-v]\n");
			return 2;
		}
	}
	if (!nthreads || nthreads > MAXTHREADS)
		nthreads = 4;
	if (!seeded)
		seed = (unsigned long long)time(NULL) ^ ((unsigned long long)getpid() << 16);
	setvbuf(stdout, NULL, _IOLBF, 0);
	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGSEGV, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	printf("TAP version 13\n1..%u\n", 2 + NINST);
	printf("# uapi_fuzz: seed %llu, %llu operations, %u threads, bound %.0f s\n",
	       seed, total_ops, nthreads, bound_s);
	replay_hint();
	fuse_daemon_start();

	if (access("/sys/kernel/debug/kcov", F_OK))
		mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL);
	have_kcov = !access("/sys/kernel/debug/kcov", R_OK | W_OK);
	if (have_kcov) {
		pcset = calloc(PCSET_SIZE, sizeof(*pcset));
		have_kcov = !!pcset;
	}
	printf("# coverage: %s\n", have_kcov ? "KCOV: guided by migdev's PCs" :
	       "no /sys/kernel/debug/kcov: unguided");

	for (i = 0; i < NFDS; i++)
		dfds[i].fd = -1;
	for (i = 0; i < MIGDEV_NUM_TYPES; i++)
		pthread_mutex_init(&saved[i].lock, NULL);
	for (i = 0; i < NINST; i++) {
		struct inst *in = &insts[i];
		int ret;

		pthread_rwlock_init(&in->lock, NULL);
		pthread_mutex_init(&in->map_lock, NULL);
		in->type = inst_types[i];
		in->nq = 1u << in->type;
		in->gmem = mmap(NULL, GMEM_SIZE, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		ret = in->gmem == MAP_FAILED ? -ENOMEM : inst_create(in);
		if (ret) {
			printf("# creating instance %u (%s): %s\n", i,
			       mdl_type_name(in->type), strerror(-ret));
			printf("Bail out! cannot create the instances\n");
			printf("# Totals: pass:0 fail:0 xfail:0 xpass:0 skip:%u error:1\n",
			       1 + NINST);
			return 1;
		}
		{
			uint32_t nq = 0;

			mdl_pread(&in->dev, 0, MIGDEV_REG_NUM_QUEUES, &nq, 4);
			if (nq && nq <= MIGDEV_MAX_QUEUES)
				in->nq = nq;
		}
	}

	{
		const char *left_out = NULL;
		int ret = lc_init(&left_out);

		if (ret) {
			printf("# creating the lifecycle arena: %s\n", strerror(-ret));
			printf("Bail out! cannot create the instances\n");
			printf("# Totals: pass:0 fail:0 xfail:0 xpass:0 skip:%u error:1\n",
			       2 + NINST);
			return 1;
		}
		if (left_out)
			printf("# left out: %s (breaks this kernel: a known bug)\n",
			       left_out);
	}
	unmap_serialized = !mdl_kernel_has_fix(MDL_FIX_TYPE1_LOCK_ORDER);
	if (unmap_serialized)
		printf("# unmaps one at a time (%s)\n",
		       "concurrent ones deadlock this kernel: a known bug");
	for (i = 0; i < NR_OPS; i++) {
		weight[i] = op_weight[i];
		if (i >= OP_LC_FIRST && i <= OP_LC_LAST && !lc_enabled(i - OP_LC_FIRST))
			weight[i] = 0;
		weight_sum += weight[i];
	}

	{
		int ret = fuse_start();

		printf("# FUSE guest memory: %s\n", ret ?
		       strerror(-ret) : "chunk 30 of each instance's");
		ret = uffd_start();
		printf("# userfaultfd guest memory: %s\n", ret ?
		       strerror(-ret) : "chunk 31 of each instance's");
	}
	t0 = now();
	pthread_create(&wd, NULL, watchdog, NULL);
	for (i = 0; i < nthreads; i++) {
		threads[i].idx = i;
		pthread_create(&threads[i].tid, NULL, worker, &threads[i]);
	}
	for (i = 0; i < nthreads; i++)
		pthread_join(threads[i].tid, NULL);
	__atomic_store_n(&stop_all, 1, __ATOMIC_RELAXED);
	pthread_join(wd, NULL);
	if (uffd >= 0)
		pthread_join(uffd_tid, NULL);
	if (gfs_pid > 0)
		pthread_join(gfs_tid, NULL);
	el = now() - t0;
	{
		unsigned long long done = 0;

		for (i = 0; i < nthreads; i++)
			done += threads[i].ops_done;
		printf("# %llu operations in %.1f s (%.0f/s)\n", done, el, done / el);
	}
	if (have_kcov) {
		long total = module_pcs();

		printf("# coverage: %llu distinct migdev PCs", pcs_seen);
		if (total > 0)
			printf(" of %ld instrumented (%.1f%%)", total, 100.0 * pcs_seen / total);
		printf("; corpus %u sequences, %llu replays\n", corpus_len, replays);
		dump_pcs();
	}
	for (i = 0; i < NR_OPS; i++) {
		unsigned long long ok = 0, err = 0;
		unsigned int k;
		int last = 0;

		for (k = 0; k < nthreads; k++) {
			ok += threads[k].n_ok[i];
			err += threads[k].n_err[i];
			if (threads[k].last_err[i])
				last = threads[k].last_err[i];
		}
		printf("#   %-16s %6llu ok %6llu failed (e.g. %d)\n", op_names[i], ok, err, last);
	}
	printf("ok 1 fuzz: no operation blocked longer than %.0f s\n", bound_s);
	pass++;

	pthread_mutex_lock(&dfd_lock);
	for (i = 0; i < NFDS; i++) {
		if (dfds[i].fd >= 0)
			close(dfds[i].fd);
		dfds[i].fd = -1;
	}
	pthread_mutex_unlock(&dfd_lock);
	for (i = 0; i < NINST; i++) {
		double s = now();
		int ret;

		threads[0].started = s;
		ret = final_check(&insts[i], i);
		threads[0].started = 0;
		if (ret) {
			printf("# seed %llu\n", seed);
			replay_hint();
		}
		printf("%s %u instance %u (%s) still migrates a verified device\n",
		       ret ? "not ok" : "ok", 2 + i, i, mdl_type_name(insts[i].type));
		if (ret)
			fail++;
		else
			pass++;
	}
	{
		int ret = lc_fini();

		printf("%s %u lifecycle arena: its instances open and answer after it\n",
		       ret ? "not ok" : "ok", 2 + NINST);
		if (ret)
			fail++;
		else
			pass++;
	}
	for (i = 0; i < NINST; i++) {
		inst_close(&insts[i]);
		__mdl_remove(insts[i].uuid);
	}
	fuse_stop();
	printf("# uapi_fuzz: elapsed %.1f s\n", now() - t0);
	printf("# Totals: pass:%u fail:%u xfail:0 xpass:0 skip:0 error:0\n", pass, fail);
	return fail ? 1 : 0;
}
