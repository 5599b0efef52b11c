// SPDX-License-Identifier: GPL-2.0-only
/*
 * migdev-bench: the device's figures, printed, never judged.
 *
 * Creates an instance on migdev0, and measures:
 *  - DMA copy throughput against memcpy() of the same size, here (ratio),
 *    and of the first copy, which pins the buffers;
 *  - transfers to and from device memory;
 *  - per-descriptor latency (NOP, 4 KiB copy), submit to completion;
 *  - the cost of one trapped register access and one config read;
 *  - pause latency with a 4 KiB and with a 256 MiB descriptor in flight;
 *  - migration: data_fd read throughput in PRE_COPY (the initial pass)
 *    and in STOP_COPY, and write throughput in RESUMING, each against
 *    memcpy() (the write also against memcpy() into memory that faults
 *    in as it is written, as a destination's does); stop-copy bytes
 *    after pre-copy converged on an idle instance with 256 MiB of device
 *    memory all written; and the time of
 *    the RUNNING -> RUNNING_P2P arc (quiesce) with a 4 KiB and with a
 *    1 GiB descriptor in flight;
 *  - scale: the time to create the 1000th instance against the 10th (the
 *    medians of the ten around each), and the kernel memory an idle
 *    instance costs (slab objects, from /proc/slabinfo, over 1000 of
 *    them).
 *
 * "migdev-bench stream" measures the migration figures only (to profile
 * them: perf record -g -- migdev-bench stream), "migdev-bench scale" the
 * scale figures only, and "migdev-bench sweep" the curves that
 * scripts/plots.sh draws: DMA copy and memcpy() throughput against the
 * transfer size, quiesce time against the bytes of the descriptor in
 * flight, and data_fd read throughput against the read size.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "migdev_lib.h"

#define MB		(1024u * 1024)
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define COPY_SIZE	(64 * MB)
#define BIG		(256 * MB)

static int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return x < y ? -1 : x > y;
}

static double dma_rate(struct mdl_queue *q, struct migdev_desc d, int reps)
{
	double t0 = mdl_now();
	int i;

	for (i = 0; i < reps; i++)
		if (mdl_run(q, &d) != MIGDEV_STATUS_OK) {
			fprintf(stderr, "descriptor failed\n");
			exit(1);
		}
	return (double)le32toh(d.len) * reps / (mdl_now() - t0) / MB;
}

static void pause_figures(const char *what, long long *ns, int n)
{
	qsort(ns, n, sizeof(*ns), cmp_ll);
	printf("pause latency, %s in flight: median %lld us, max %lld us (%d pauses)\n",
	       what, ns[n / 2] / 1000, ns[n - 1] / 1000, n);
}

/* Read a data_fd until 0 or ENOMSG; bytes read. */
static size_t drain(int fd, void *buf, size_t len)
{
	size_t total = 0;
	ssize_t n;

	while ((n = read(fd, buf, len)) > 0)
		total += n;
	return total;
}

/* Read a data_fd into @dst until 0 or ENOMSG, 16 MiB at a time; bytes read. */
static size_t drain_into(int fd, uint8_t *dst, size_t cap)
{
	size_t total = 0;
	ssize_t n;

	while (total < cap &&
	       (n = read(fd, dst + total, cap - total < 16 * MB ?
				    cap - total : 16 * MB)) > 0)
		total += n;
	return total;
}

/* Time RUNNING -> RUNNING_P2P with @desc in flight, then go back. */
static double quiesce_us(struct mdl_dev *d, struct mdl_queue *q,
			 struct migdev_desc *desc)
{
	uint32_t n = mdl_submit(q, desc);
	double t0;

	while (!(mdl_qread32(d, 0, MIGDEV_Q_STATUS) & MIGDEV_Q_STATUS_BUSY) &&
	       !le32toh(mdl_cpl(q, n)->status))
		;
	t0 = mdl_now();
	if (__mdl_mig_set(d, VFIO_DEVICE_STATE_RUNNING_P2P, NULL))
		exit(1);
	t0 = mdl_now() - t0;
	__mdl_mig_set(d, VFIO_DEVICE_STATE_RUNNING, NULL);
	mdl_wait(q, n, 600000);
	return t0 * 1e6;
}

static void migration_figures(void)
{
	char ul[MDL_UUID_LEN], ur[MDL_UUID_LEN], ux[MDL_UUID_LEN];
	struct mdl_dev l, r, x;
	struct mdl_queue q;
	struct mdl_dma small;
	size_t devmem = 256 * MB, cap = devmem + 16 * MB, n, pre, len, done;
	uint8_t *buf = malloc(16 * MB), *copy = malloc(devmem);
	uint8_t *stream = malloc(cap);
	double t0, t1, t2, rate, mrate, t4k, t1g;
	struct migdev_desc desc;
	uint64_t off;
	ssize_t w;
	int fd;

	if (!buf || !copy || !stream)
		exit(1);
	/*
	 * Faulted in, as the memcpy() baseline's buffer is (not 0: malloc()
	 * and memset() to 0 may become calloc(), which faults nothing).
	 */
	memset(stream, 0xff, cap);
	/* memcpy of the same size here, in 16 MiB pieces, the baseline. */
	memset(copy, 1, devmem);
	memset(buf, 0, 16 * MB);	/* faulted in, as the reads find it */
	t0 = mdl_now();
	for (off = 0; off < devmem; off += 16 * MB)
		memcpy(buf, copy + off, 16 * MB);
	mrate = devmem / (mdl_now() - t0) / MB;
	free(copy);

	mdl_create(mdl_parent(), MIGDEV_TYPE_LARGE, ul);
	mdl_open(ul, &l);
	memset(buf, 0x3c, 16 * MB);
	for (off = 0; off < devmem; off += 16 * MB)
		mdl_pwrite(&l, VFIO_PCI_BAR2_REGION_INDEX, off, buf, 16 * MB);

	/* data_fd read throughput in STOP_COPY, against memcpy. */
	if (__mdl_mig_set(&l, VFIO_DEVICE_STATE_STOP_COPY, &fd))
		exit(1);
	t0 = mdl_now();
	n = drain(fd, buf, 16 * MB);
	rate = n / (mdl_now() - t0) / MB;
	close(fd);
	__mdl_mig_set(&l, VFIO_DEVICE_STATE_RUNNING, NULL);
	printf("data_fd read in STOP_COPY: %.0f MiB/s (%zu B), memcpy %.0f MiB/s, ratio %.2f\n",
	       rate, n, mrate, rate / mrate);

	/* Pre-copy's initial pass, timed, until it converges; then stop-copy. */
	if (__mdl_mig_set(&l, VFIO_DEVICE_STATE_PRE_COPY, &fd))
		exit(1);
	t0 = mdl_now();
	pre = drain_into(fd, stream, cap);
	rate = pre / (mdl_now() - t0) / MB;
	printf("data_fd read in PRE_COPY: %.0f MiB/s (%zu B), ratio %.2f\n",
	       rate, pre, rate / mrate);
	__mdl_mig_set(&l, VFIO_DEVICE_STATE_STOP_COPY, NULL);
	len = pre + drain_into(fd, stream + pre, cap - pre);
	printf("256 MiB of device memory written, idle: pre-copy %zu B, stop-copy %zu B\n",
	       pre, len - pre);
	close(fd);
	mdl_close(&l);
	mdl_remove(ul);

	/* That stream into a new instance: data_fd write throughput. */
	mdl_create(mdl_parent(), MIGDEV_TYPE_LARGE, ur);
	mdl_open(ur, &r);
	if (__mdl_mig_set(&r, VFIO_DEVICE_STATE_RESUMING, &fd))
		exit(1);
	t0 = mdl_now();
	for (done = 0; done < len; done += w) {
		w = write(fd, stream + done, len - done < 16 * MB ? len - done : 16 * MB);
		if (w <= 0) {
			perror("data_fd write");
			exit(1);
		}
	}
	t1 = mdl_now();
	if (__mdl_mig_set(&r, VFIO_DEVICE_STATE_STOP, NULL)) {
		fprintf(stderr, "the destination refused the stream\n");
		exit(1);
	}
	t2 = mdl_now();
	rate = len / (t2 - t0) / MB;
	close(fd);
	if (mdl_pread(&r, VFIO_PCI_BAR2_REGION_INDEX, devmem - 16 * MB, buf, 16 * MB) != 16 * MB ||
	    buf[0] != 0x3c || buf[16 * MB - 1] != 0x3c) {
		fprintf(stderr, "the destination's device memory differs\n");
		exit(1);
	}
	printf("data_fd write in RESUMING (to STOP): %.0f MiB/s (%zu B), ratio %.2f",
	       rate, len, rate / mrate);
	printf("; writes %.0f ms, commit (RESUMING -> STOP) %.1f ms",
	       (t1 - t0) * 1e3, (t2 - t1) * 1e3);
	/*
	 * A destination allocates the memory it receives into, and the
	 * kernel zeroes what it allocates (init_on_alloc, Debian's default):
	 * memcpy() into memory that faults in as it is written, beside it:
	 * in 4 KiB pages, as the module allocates, and in transparent huge
	 * pages, the cheapest new memory a user can have.
	 */
	{
		static const struct { int advice; const char *name; } kinds[] = {
			{ MADV_NOHUGEPAGE, "4 KiB pages" },
			{ MADV_HUGEPAGE, "huge pages" },
		};
		unsigned int k;

		printf("; memcpy into new memory:");
		for (k = 0; k < 2; k++) {
			uint8_t *fresh = mmap(NULL, devmem, PROT_READ | PROT_WRITE,
					      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			double frate;

			if (fresh == MAP_FAILED)
				exit(1);
			madvise(fresh, devmem, kinds[k].advice);
			t0 = mdl_now();
			for (off = 0; off < devmem; off += 16 * MB)
				memcpy(fresh + off, stream + off, 16 * MB);
			frate = devmem / (mdl_now() - t0) / MB;
			printf("%s %s %.0f MiB/s, ratio %.2f", k ? "," : "",
			       kinds[k].name, frate, rate / frate);
			munmap(fresh, devmem);
		}
		printf("\n");
	}
	mdl_close(&r);
	mdl_remove(ur);
	free(stream);

	/* Quiesce with a 4 KiB and with a 1 GiB descriptor in flight. */
	mdl_create(mdl_parent(), MIGDEV_TYPE_XLARGE, ux);
	mdl_open(ux, &x);
	mdl_bus_master(&x, 1);
	mdl_queue_init(&x, 0, 64, &q);
	mdl_dma_map(&x, 8192, &small);
	desc = mdl_desc(MIGDEV_OP_COPY, small.iova, small.iova + 4096, 4096, 0);
	t4k = quiesce_us(&x, &q, &desc);
	desc = mdl_desc(MIGDEV_OP_DEV_CRC32C, 0, 0, MIGDEV_MAX_XFER, 0);
	t1g = quiesce_us(&x, &q, &desc);
	printf("quiesce (RUNNING -> RUNNING_P2P): 4 KiB in flight %.0f us, 1 GiB %.0f us\n",
	       t4k, t1g);
	mdl_close(&x);
	mdl_remove(ux);
	free(buf);
}

/* One cache of /proc/slabinfo: its objects in use and their size. */
struct slab_cache {
	char name[64];
	long long objs;
	long long size;
	long long delta;	/* bytes of objects gained */
};

#define NR_CACHES	1024

/* /proc/slabinfo into @c; how many caches. */
static int slab_read(struct slab_cache *c)
{
	char line[512];
	int n = 0;
	FILE *f = fopen("/proc/slabinfo", "r");

	if (!f)
		return 0;
	while (n < NR_CACHES && fgets(line, sizeof(line), f))
		if (sscanf(line, "%63s %lld %*d %lld", c[n].name, &c[n].objs,
			   &c[n].size) == 3 && line[0] != '#')
			n++;
	fclose(f);
	return n;
}

static int cmp_delta(const void *a, const void *b)
{
	const struct slab_cache *x = a, *y = b;

	return x->delta < y->delta ? 1 : x->delta > y->delta ? -1 : 0;
}

/*
 * What instances took, from the slab caches: objects in use times their
 * size, before against after.  Unlike a SUnreclaim delta, it does not
 * depend on how full the caches' slabs were; it counts reclaimable
 * caches (inodes, dentries) too, which the top ones printed show.
 */
static void slab_figures(const struct slab_cache *before, int nb,
			 struct slab_cache *after, int na, int instances)
{
	long long total = 0;
	int i, k;

	for (i = 0; i < na; i++) {
		after[i].delta = after[i].objs * after[i].size;
		for (k = 0; k < nb; k++)
			if (!strcmp(before[k].name, after[i].name)) {
				after[i].delta -= before[k].objs * before[k].size;
				break;
			}
		total += after[i].delta;
	}
	qsort(after, na, sizeof(*after), cmp_delta);
	printf("kernel memory per idle instance: %.1f KiB of slab objects (",
	       (double)total / instances / 1024);
	for (i = 0; i < 5 && i < na && after[i].delta > 0; i++)
		printf("%s%s %.1f", i ? ", " : "", after[i].name,
		       (double)after[i].delta / instances / 1024);
	printf("; %d instances)\n", instances);
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The median of @n creation times from @t. */
static double median(const double *t, int n)
{
	double c[16];

	memcpy(c, t, n * sizeof(*t));
	qsort(c, n, sizeof(*c), cmp_d);
	return c[n / 2];
}

#define NR_SCALE	1000

/* Create 1000 small instances, timing each; then remove them. */
static void scale_figures(void)
{
	static char uuids[NR_SCALE][MDL_UUID_LEN];
	static struct slab_cache before[NR_CACHES], after[NR_CACHES];
	static double t[NR_SCALE];
	int i, made, nb, na;

	nb = slab_read(before);
	for (made = 0; made < NR_SCALE; made++) {
		double t0 = mdl_now();

		if (__mdl_create(mdl_parent(), MIGDEV_TYPE_SMALL, uuids[made]))
			break;
		t[made] = mdl_now() - t0;
	}
	na = slab_read(after);
	if (made == NR_SCALE) {
		printf("creating instances: the 10th %.0f us, the 1000th %.0f us, ratio %.2f\n",
		       median(t + 5, 10) * 1e6, median(t + NR_SCALE - 10, 10) * 1e6,
		       median(t + NR_SCALE - 10, 10) / median(t + 5, 10));
		slab_figures(before, nb, after, na, made);
	} else {
		printf("creating instances: stopped at %d\n", made);
	}
	for (i = 0; i < made; i++)
		mdl_remove(uuids[i]);
}

/* An open instance of @type with queue 0 and buffers @a (0x5a) and @b (0). */
static void bench_device(unsigned int type, char uuid[MDL_UUID_LEN],
			 struct mdl_dev *d, struct mdl_queue *q,
			 struct mdl_dma *a, struct mdl_dma *b)
{
	mdl_create(mdl_parent(), type, uuid);
	mdl_open(uuid, d);
	mdl_bus_master(d, 1);
	mdl_queue_init(d, 0, 64, q);
	mdl_dma_map(d, COPY_SIZE, a);
	mdl_dma_map(d, COPY_SIZE, b);
	memset(a->va, 0x5a, COPY_SIZE);
	memset(b->va, 0, COPY_SIZE);
}

/*
 * The curves, as columns for gnuplot (scripts/plots.sh): each section
 * starts with "# sweep NAME" and a "# " line naming its columns.
 */
static void sweep_figures(void)
{
	static const size_t rsizes[] = {
		4096, 16384, 65536, 262144, 1 << 20, 4 << 20, 16 << 20,
	};
	size_t size, devmem = 64 * MB, n, done;
	char uuid[MDL_UUID_LEN];
	struct mdl_dma a, b;
	struct mdl_queue q;
	struct mdl_dev d;
	struct migdev_desc desc;
	uint8_t *buf;
	double t0, dma, mem, t;
	unsigned int i;
	int reps, fd, k;

	bench_device(MIGDEV_TYPE_XLARGE, uuid, &d, &q, &a, &b);
	printf("# sweep dma\n# bytes dma_copy_MiBps memcpy_MiBps\n");
	for (size = 4096; size <= COPY_SIZE; size *= 4) {
		reps = COPY_SIZE / size;
		dma_rate(&q, mdl_desc(MIGDEV_OP_COPY, a.iova, b.iova, size, 0), 1);
		dma = dma_rate(&q, mdl_desc(MIGDEV_OP_COPY, a.iova, b.iova, size, 0),
			       reps);
		t0 = mdl_now();
		for (k = 0; k < reps; k++) {
			memcpy(b.va, a.va, size);
			__atomic_thread_fence(__ATOMIC_SEQ_CST);
		}
		mem = (double)size * reps / (mdl_now() - t0) / MB;
		printf("%zu %.1f %.1f\n", size, dma, mem);
	}

	/* Quiesce with descriptors of growing size in flight. */
	printf("\n\n# sweep quiesce\n# bytes_in_flight quiesce_us\n");
	for (size = 4096; size <= MIGDEV_MAX_XFER; size *= 8) {
		double us[5];

		for (k = 0; k < 5; k++) {
			desc = size <= COPY_SIZE ?
			       mdl_desc(MIGDEV_OP_COPY, a.iova, b.iova, size, 0) :
			       mdl_desc(MIGDEV_OP_DEV_CRC32C, 0, 0, size, 0);
			us[k] = quiesce_us(&d, &q, &desc);
		}
		printf("%zu %.1f\n", size, median(us, 5));
	}

	/* data_fd reads of growing size, STOP_COPY of 64 MiB written. */
	buf = malloc(16 * MB);
	if (!buf)
		exit(1);
	memset(buf, 0x3c, 16 * MB);
	for (n = 0; n < devmem; n += 16 * MB)
		mdl_pwrite(&d, VFIO_PCI_BAR2_REGION_INDEX, n, buf, 16 * MB);
	printf("\n\n# sweep data_fd\n# read_bytes read_MiBps memcpy_MiBps\n");
	for (i = 0; i < ARRAY_SIZE(rsizes); i++) {
		ssize_t r;

		if (__mdl_mig_set(&d, VFIO_DEVICE_STATE_STOP_COPY, &fd))
			exit(1);
		done = 0;
		t0 = mdl_now();
		while ((r = read(fd, buf, rsizes[i])) > 0)
			done += r;
		t = mdl_now() - t0;
		close(fd);
		__mdl_mig_set(&d, VFIO_DEVICE_STATE_RUNNING, NULL);
		t0 = mdl_now();
		for (n = 0; n + rsizes[i] <= COPY_SIZE; n += rsizes[i]) {
			memcpy(buf, (uint8_t *)a.va + n, rsizes[i]);
			__atomic_thread_fence(__ATOMIC_SEQ_CST);
		}
		mem = (double)n / (mdl_now() - t0) / MB;
		printf("%zu %.1f %.1f\n", rsizes[i], done / t / MB, mem);
	}
	free(buf);
	mdl_close(&d);
	mdl_remove(uuid);
}

int main(int argc, char **argv)
{
	struct mdl_dma a, b, big;
	struct mdl_queue q;
	struct mdl_dev d;
	char uuid[MDL_UUID_LEN];
	long long ns[20];
	double t0, t, memcpy_rate, copy_rate;
	uint32_t i, n;
	struct migdev_desc desc;
	int reps = 4;

	if (argc > 1 && !strcmp(argv[1], "stream")) {
		migration_figures();
		return 0;
	}
	if (argc > 1 && !strcmp(argv[1], "scale")) {
		scale_figures();
		return 0;
	}
	if (argc > 1 && !strcmp(argv[1], "sweep")) {
		sweep_figures();
		return 0;
	}
	if (argc > 1) {
		fprintf(stderr, "usage: %s [stream|scale|sweep]\n", argv[0]);
		return 2;
	}
	bench_device(MIGDEV_TYPE_MEDIUM, uuid, &d, &q, &a, &b);

	/* Throughput. */
	t0 = mdl_now();
	for (i = 0; i < (uint32_t)reps; i++) {
		memcpy(b.va, a.va, COPY_SIZE);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
	}
	memcpy_rate = (double)COPY_SIZE * reps / (mdl_now() - t0) / MB;
	/*
	 * The first copy pins the buffers' pages (the engine keeps up to
	 * pin_cache_mb pinned while it is busy); the others find them.
	 */
	t = dma_rate(&q, mdl_desc(MIGDEV_OP_COPY, a.iova, b.iova, COPY_SIZE, 0), 1);
	copy_rate = dma_rate(&q, mdl_desc(MIGDEV_OP_COPY, a.iova, b.iova,
					  COPY_SIZE, 0), reps);
	printf("copy %u MiB: DMA %.0f MiB/s, memcpy %.0f MiB/s, ratio %.2f",
	       COPY_SIZE / MB, copy_rate, memcpy_rate, copy_rate / memcpy_rate);
	printf(" (the first copy, which pins: %.0f MiB/s)\n", t);
	printf("to device memory: %.0f MiB/s; from device memory: %.0f MiB/s\n",
	       dma_rate(&q, mdl_desc(MIGDEV_OP_TO_DEV, a.iova, 0, COPY_SIZE, 0), reps),
	       dma_rate(&q, mdl_desc(MIGDEV_OP_FROM_DEV, 0, b.iova, COPY_SIZE, 0), reps));
	printf("CRC-32C: %.0f MiB/s\n",
	       dma_rate(&q, mdl_desc(MIGDEV_OP_CRC32C, a.iova, 0, COPY_SIZE, 0), reps));

	/* Latency: submit to completion, polling. */
	desc = mdl_desc(MIGDEV_OP_NOP, 0, 0, 0, 0);
	t0 = mdl_now();
	for (i = 0; i < 2000; i++)
		mdl_run(&q, &desc);
	t = (mdl_now() - t0) / 2000;
	desc = mdl_desc(MIGDEV_OP_COPY, a.iova, b.iova, 4096, 0);
	t0 = mdl_now();
	for (i = 0; i < 1000; i++)
		mdl_run(&q, &desc);
	printf("latency per descriptor: NOP %.1f us, 4 KiB copy %.1f us\n",
	       t * 1e6, (mdl_now() - t0) / 1000 * 1e6);

	/* Trapped accesses. */
	t0 = mdl_now();
	for (i = 0; i < 20000; i++)
		mdl_read32(&d, MIGDEV_REG_SCRATCH);
	t = (mdl_now() - t0) / 20000;
	t0 = mdl_now();
	for (i = 0; i < 20000; i++)
		mdl_cfg_read(&d, 0, 4);
	printf("trapped access: BAR0 register read %.2f us, config read %.2f us\n",
	       t * 1e6, (mdl_now() - t0) / 20000 * 1e6);

	/* Pause with a stream of 4 KiB descriptors in flight. */
	for (i = 0; i < 20; i++) {
		unsigned int k;

		for (k = 0; k < 63; k++) {
			desc = mdl_desc(MIGDEV_OP_COPY, a.iova + k * 4096,
					b.iova + k * 4096, 4096, 0);
			n = mdl_post(&q, &desc);
		}
		mdl_doorbell(&q);
		mdl_pause(uuid, 1);
		ns[i] = mdl_last_pause_ns(uuid);
		mdl_pause(uuid, 0);
		mdl_wait(&q, n, 60000);
	}
	pause_figures("4 KiB copies", ns, 20);

	/* Pause with one 256 MiB descriptor in flight, 20 times over. */
	mdl_dma_map(&d, BIG, &big);
	memset(big.va, 0, BIG);
	desc = mdl_desc(MIGDEV_OP_FILL, 0, big.iova, BIG, 0);
	desc.pattern = htole64(0x0101010101010101ULL);
	t0 = mdl_now();
	n = mdl_submit(&q, &desc);
	for (i = 0; i < 20; i++) {
		while (!(mdl_qread32(&d, 0, MIGDEV_Q_STATUS) & MIGDEV_Q_STATUS_BUSY))
			usleep(100);
		mdl_pause(uuid, 1);
		ns[i] = mdl_last_pause_ns(uuid);
		mdl_pause(uuid, 0);
		usleep(2000);
	}
	if (mdl_wait(&q, n, 600000) != MIGDEV_STATUS_OK ||
	    ((unsigned char *)big.va)[BIG - 1] != 1) {
		fprintf(stderr, "the 256 MiB fill went wrong\n");
		return 1;
	}
	t = mdl_now() - t0;
	pause_figures("a 256 MiB fill", ns, 20);
	/* A pause waits for the chunk in execution at most: beside it, a chunk's time. */
	printf("a chunk of that fill (128 KiB): %.0f us on average\n",
	       t / (BIG / (128 * 1024)) * 1e6);

	mdl_close(&d);
	mdl_remove(uuid);
	migration_figures();
	scale_figures();
	return 0;
}
