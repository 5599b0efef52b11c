// SPDX-License-Identifier: GPL-2.0-only
/*
 * migdev-pingpong: live-migrate a device back and forth without QEMU.
 *
 *   migdev-pingpong [-n HOPS] [-t small|medium|large|xlarge] [-r ROUNDS] [-q]
 *   migdev-pingpong -t TYPE --save FILE      (run a workload, save the device)
 *   migdev-pingpong -t TYPE --restore FILE   (restore it and verify it)
 *
 * Creates instances A and B of one type, both opened through VFIO, with
 * the same "guest memory" mapped into both containers at the same IOVAs,
 * as after QEMU moved the guest's RAM.  A workload runs on the current
 * device: copies, fills and checksums whose every result is checked, and
 * writes to device memory mirrored in a shadow copy.  Each hop migrates
 * the device to the other instance: pre-copy rounds while the workload
 * keeps running, stop-copy with a large copy left in flight, resume, and
 * then everything is verified: the copy in flight finished correctly, the
 * device memory equals the shadow, the registers and clock moved with it.
 * Prints per hop: pre-copy rounds and bytes, stop-copy bytes and the
 * time from stop to running on the other side (downtime).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "migdev_lib.h"

#define WBUF		(4u << 20)	/* workload buffers */
#define INFLIGHT	(2u << 20)	/* the copy left in flight at each hop */
#define MAX_TOUCHED	1024

struct side {
	char uuid[MDL_UUID_LEN];
	struct mdl_dev d;
};

struct world {
	struct side s[2];
	int cur;
	unsigned int type;
	uint64_t devmem_size;
	struct mdl_queue q;		/* its memory is shared by both sides */
	struct mdl_dma src, dst, infl_dst;
	uint8_t *shadow;		/* device memory as it must be */
	uint64_t touched[MAX_TOUCHED];	/* pages written since the last check */
	unsigned int ntouched;
	uint64_t scratch;
	uint32_t seq;
	uint32_t inflight;		/* descriptor counter, or ~0 */
	uint64_t clock;
	uint8_t *stream;
	size_t cap;
	int quiet;
};

/* The instances exist until teardown(); one that fails removes them too. */
static struct world *the_world;
static void teardown(struct world *w);

static void die(const char *what)
{
	fprintf(stderr, "migdev-pingpong: %s\n", what);
	if (the_world)
		teardown(the_world);
	exit(1);
}

static void check(int ok, const char *what, unsigned int hop)
{
	if (!ok) {
		fprintf(stderr, "migdev-pingpong: MISMATCH after hop %u: %s\n", hop, what);
		if (the_world)
			teardown(the_world);
		exit(1);
	}
}

static struct mdl_dev *cur(struct world *w)
{
	return &w->s[w->cur].d;
}

static void touch(struct world *w, uint64_t pg)
{
	if (w->ntouched < MAX_TOUCHED)
		w->touched[w->ntouched++] = pg;
}

/* One step of the workload on the current device, every result checked. */
static void workload_step(struct world *w, unsigned int hop)
{
	struct mdl_dev *d = cur(w);
	static uint8_t page[4096];
	uint32_t seq = ++w->seq, off = (seq % 32) * 65536, st;
	uint64_t pg = (seq * 2654435761u) % (w->devmem_size >> 12);
	struct migdev_desc desc;

	/* Device memory through the region, mirrored in the shadow. */
	mdl_fill_random(page, sizeof(page), seq);
	if (mdl_pwrite(d, VFIO_PCI_BAR2_REGION_INDEX, pg << 12, page, 4096) != 4096)
		die("device memory write failed");
	memcpy(w->shadow + (pg << 12), page, 4096);
	touch(w, pg);

	/* Copy, checked. */
	mdl_fill_random((char *)w->src.va + off, 65536, seq + 1);
	desc = mdl_desc(MIGDEV_OP_COPY, w->src.iova + off, w->dst.iova + off, 65536,
			MIGDEV_DESC_F_IRQ);
	st = mdl_run(&w->q, &desc);
	check(st == MIGDEV_STATUS_OK, "copy status", hop);
	check(!memcmp((char *)w->src.va + off, (char *)w->dst.va + off, 65536),
	      "copied data", hop);

	/* Checksum, checked against the CPU. */
	desc = mdl_desc(MIGDEV_OP_CRC32C, w->src.iova + off, 0, 65536, 0);
	st = mdl_wait(&w->q, mdl_submit(&w->q, &desc), 60000);
	check(st == MIGDEV_STATUS_OK &&
	      le64toh(mdl_cpl(&w->q, w->q.tail - 1)->result) ==
	      mdl_crc32c((char *)w->src.va + off, 65536), "checksum", hop);

	/* Guest -> device memory -> guest, and the shadow follows. */
	pg = (pg + 7) % (w->devmem_size >> 12);
	desc = mdl_desc(MIGDEV_OP_TO_DEV, w->src.iova + off, pg << 12, 4096, 0);
	check(mdl_run(&w->q, &desc) == MIGDEV_STATUS_OK, "to-dev status", hop);
	memcpy(w->shadow + (pg << 12), (char *)w->src.va + off, 4096);
	touch(w, pg);
	desc = mdl_desc(MIGDEV_OP_FROM_DEV, pg << 12, w->dst.iova + off, 4096, 0);
	check(mdl_run(&w->q, &desc) == MIGDEV_STATUS_OK, "from-dev status", hop);
	check(!memcmp((char *)w->dst.va + off, w->shadow + (pg << 12), 4096),
	      "device memory through DMA", hop);

	w->scratch = ((uint64_t)seq << 32) | hop;
	mdl_write64(d, MIGDEV_REG_SCRATCH, w->scratch);
}

/*
 * What the device must hold, checked on the current side: the pages the
 * workload wrote since the last check, or (@full) all of device memory.
 */
static void verify(struct world *w, unsigned int hop, int full)
{
	struct mdl_dev *d = cur(w);
	static uint8_t chunk[1 << 20];
	uint64_t off, clock;

	if (w->inflight != ~0U) {
		check(mdl_wait(&w->q, w->inflight, 120000) == MIGDEV_STATUS_OK,
		      "the copy in flight did not complete", hop);
		check(!memcmp(w->src.va, w->infl_dst.va, INFLIGHT),
		      "the copy in flight", hop);
		w->inflight = ~0U;
	}
	check(mdl_read64(d, MIGDEV_REG_SCRATCH) == w->scratch, "scratch register", hop);
	clock = mdl_read64(d, MIGDEV_REG_CLOCK);
	check(clock >= w->clock, "the clock went back", hop);
	w->clock = clock;
	for (off = 0; full && off < w->devmem_size; off += sizeof(chunk)) {
		size_t n = w->devmem_size - off < sizeof(chunk) ?
			   w->devmem_size - off : sizeof(chunk);

		if (mdl_pread(d, VFIO_PCI_BAR2_REGION_INDEX, off, chunk, n) != (ssize_t)n)
			die("device memory read failed");
		check(!memcmp(chunk, w->shadow + off, n), "device memory", hop);
	}
	for (; !full && w->ntouched; w->ntouched--) {
		off = w->touched[w->ntouched - 1] << 12;
		if (mdl_pread(d, VFIO_PCI_BAR2_REGION_INDEX, off, chunk, 4096) != 4096)
			die("device memory read failed");
		check(!memcmp(chunk, w->shadow + off, 4096), "device memory", hop);
	}
	w->ntouched = 0;
}

static ssize_t read_some(int fd, struct world *w, size_t *len)
{
	ssize_t n, total = 0;

	for (;;) {
		if (*len + (1 << 20) > w->cap) {
			w->cap = w->cap * 2 + (4 << 20);
			w->stream = realloc(w->stream, w->cap);
			if (!w->stream)
				die("out of memory");
		}
		n = read(fd, w->stream + *len, 1 << 20);
		if (n <= 0)
			return n < 0 && errno != ENOMSG ? -errno : total;
		*len += n;
		total += n;
	}
}

/* Move the device to the other side. */
static void migrate(struct world *w, unsigned int n, int rounds)
{
	struct mdl_dev *src = cur(w), *dst = &w->s[!w->cur].d;
	size_t len = 0, pre;
	double t_stop, t_run;
	int fd, rfd, r, nrounds = 0;
	struct migdev_desc desc;
	ssize_t got;

	if (__mdl_mig_set(src, VFIO_DEVICE_STATE_PRE_COPY, &fd))
		die("PRE_COPY refused");
	for (r = 0; r < rounds; r++) {
		got = read_some(fd, w, &len);
		if (got < 0)
			die("pre-copy read failed");
		if (got)
			nrounds++;
		workload_step(w, n);	/* the device keeps running */
	}
	got = read_some(fd, w, &len);
	pre = len;
	/* A large copy is in flight when the device stops. */
	desc = mdl_desc(MIGDEV_OP_COPY, w->src.iova, w->infl_dst.iova, INFLIGHT, 0);
	memset(w->infl_dst.va, 0, INFLIGHT);
	w->inflight = mdl_submit(&w->q, &desc);
	t_stop = mdl_now();
	if (__mdl_mig_set(src, VFIO_DEVICE_STATE_STOP_COPY, NULL))
		die("STOP_COPY refused");
	for (;;) {
		if (len + (1 << 20) > w->cap) {
			w->cap = w->cap * 2 + (4 << 20);
			w->stream = realloc(w->stream, w->cap);
		}
		got = read(fd, w->stream + len, 1 << 20);
		if (got < 0)
			die("stop-copy read failed");
		if (!got)
			break;
		len += got;
	}
	close(fd);
	/* The source is done: it must not touch shared memory again. */
	if (__mdl_mig_set(src, VFIO_DEVICE_STATE_STOP, NULL) ||
	    ioctl(src->fd, VFIO_DEVICE_RESET))
		die("stopping the source failed");

	if (__mdl_mig_set(dst, VFIO_DEVICE_STATE_RESUMING, &rfd))
		die("RESUMING refused");
	if (mdl_write_all(rfd, w->stream, len, 32 << 10))
		die("the destination refused the stream");
	close(rfd);
	if (__mdl_mig_set(dst, VFIO_DEVICE_STATE_RUNNING, NULL))
		die("the destination did not start");
	t_run = mdl_now();
	w->cur = !w->cur;
	w->q.dev = cur(w);	/* the driver now rings the other side */
	verify(w, n, !(n % 100));
	if (!w->quiet)
		printf("hop %u %c->%c: pre-copy %d rounds %zu B, stop-copy %zu B, down %.1f ms\n",
		       n, "AB"[!w->cur], "AB"[w->cur], nrounds, pre, len - pre,
		       (t_run - t_stop) * 1e3);
}

static void map_shared(struct world *w)
{
	struct mdl_dma *m[] = { &w->q.ring, &w->q.compl, &w->src, &w->dst, &w->infl_dst };
	unsigned int i;

	for (i = 0; i < 5; i++)
		if (__mdl_dma_map_at(&w->s[1].d, m[i]->va, m[i]->size, m[i]->iova))
			die("mapping guest memory into B");
}

static void setup(struct world *w, int two)
{
	int i;

	the_world = w;
	for (i = 0; i < (two ? 2 : 1); i++) {
		mdl_create(mdl_parent(), w->type, w->s[i].uuid);
		mdl_open(w->s[i].uuid, &w->s[i].d);
		mdl_bus_master(&w->s[i].d, 1);
	}
	w->devmem_size = MIGDEV_TYPE_DEVMEM_SIZE(w->type);
	w->shadow = calloc(1, w->devmem_size);
	if (!w->shadow)
		die("out of memory for the shadow of device memory");
	mdl_queue_init(&w->s[0].d, 0, 64, &w->q);
	mdl_dma_map(&w->s[0].d, WBUF, &w->src);
	mdl_dma_map(&w->s[0].d, WBUF, &w->dst);
	mdl_dma_map(&w->s[0].d, INFLIGHT, &w->infl_dst);
	if (two)
		map_shared(w);
	w->inflight = ~0U;
}

static void teardown(struct world *w)
{
	int i;

	the_world = NULL;
	for (i = 0; i < 2; i++) {
		if (!w->s[i].uuid[0])
			continue;
		mdl_close(&w->s[i].d);
		__mdl_remove(w->s[i].uuid);
		w->s[i].uuid[0] = 0;
	}
}

/* CRC-32C of all device memory, read through the region. */
static uint32_t devmem_crc(struct world *w, struct mdl_dev *d)
{
	uint64_t off;

	for (off = 0; off < w->devmem_size; off += 1 << 20)
		if (mdl_pread(d, VFIO_PCI_BAR2_REGION_INDEX, off,
			      w->shadow + off, 1 << 20) != 1 << 20)
			die("device memory read failed");
	return mdl_crc32c(w->shadow, w->devmem_size);
}

/*
 * --save FILE: run the workload, drain it, and save the device to FILE,
 * with FILE.check holding what the restored device must show.
 * --restore FILE: restore it into a new instance and check that.
 */
static int file_mode(struct world *w, const char *save, const char *restore)
{
	char check_path[4096];
	unsigned long long scratch;
	unsigned int i, crc;
	ssize_t len;
	FILE *f;

	snprintf(check_path, sizeof(check_path), "%s.check", save ? save : restore);
	setup(w, 0);
	if (save) {
		for (i = 0; i < 16; i++)
			workload_step(w, 0);
		verify(w, 0, 1);
		/* The restoring process has none of this guest memory. */
		mdl_qwrite32(cur(w), 0, MIGDEV_Q_CTRL, 0);
		len = mdl_save(cur(w), &w->stream, &w->cap);
		if (len <= 0)
			die("saving failed");
		f = fopen(save, "w");
		if (!f || fwrite(w->stream, 1, len, f) != (size_t)len || fclose(f))
			die("writing the file failed");
		f = fopen(check_path, "w");
		if (!f)
			die("writing the check file failed");
		fprintf(f, "%u %llu\n", devmem_crc(w, cur(w)),
			(unsigned long long)mdl_read64(cur(w), MIGDEV_REG_SCRATCH));
		fclose(f);
		printf("saved a %s instance: %zd bytes to %s\n",
		       MIGDEV_TYPE_SUFFIX(w->type), len, save);
	} else {
		f = fopen(restore, "r");
		if (!f)
			die("cannot open the file");
		w->cap = w->devmem_size + (8 << 20);
		w->stream = malloc(w->cap);
		len = fread(w->stream, 1, w->cap, f);
		fclose(f);
		f = fopen(check_path, "r");
		if (!f || fscanf(f, "%u %llu", &crc, &scratch) != 2)
			die("cannot read the check file");
		fclose(f);
		if (mdl_load(cur(w), w->stream, len, 32 << 10))
			die("the device refused the file");
		if (devmem_crc(w, cur(w)) != crc ||
		    mdl_read64(cur(w), MIGDEV_REG_SCRATCH) != scratch)
			die("the restored device differs from the saved one");
		printf("restored %s from %s (%zd bytes): memory and registers verified\n",
		       MIGDEV_TYPE_SUFFIX(w->type), restore, len);
	}
	teardown(w);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "save", required_argument, NULL, 'S' },
		{ "restore", required_argument, NULL, 'R' },
		{ NULL, 0, NULL, 0 },
	};
	static struct world w = { .type = MIGDEV_TYPE_SMALL };
	const char *save = NULL, *restore = NULL;
	unsigned int hops = 10, i, k;
	int c, rounds = 2;
	double t0;

	while ((c = getopt_long(argc, argv, "n:t:r:q", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			hops = strtoul(optarg, NULL, 0);
			break;
		case 't':
			for (k = 0; k < 4 && strcmp(optarg, MIGDEV_TYPE_SUFFIX(k)); k++)
				;
			if (k == 4)
				die("type: small, medium, large or xlarge");
			w.type = k;
			break;
		case 'r':
			rounds = atoi(optarg);
			break;
		case 'q':
			w.quiet = 1;
			break;
		case 'S':
			save = optarg;
			break;
		case 'R':
			restore = optarg;
			break;
		default:
			fprintf(stderr, "%s [-n N] [-t T] [-r R] [-q] [--save|--restore F]\n",
				argv[0]);
			return 2;
		}
	}

	if (save || restore)
		return file_mode(&w, save, restore);

	setup(&w, 1);
	for (i = 0; i < 8; i++)
		workload_step(&w, 0);
	verify(&w, 0, 1);
	t0 = mdl_now();
	for (i = 1; i <= hops; i++) {
		migrate(&w, i, rounds);
		if (w.quiet && !(i % 100))
			printf("%u hops, %.1f s, all verified\n", i, mdl_now() - t0);
	}
	verify(&w, hops, 1);
	printf("migdev-pingpong: %u hops of a %s instance in %.1f s, every hop verified\n",
	       hops, MIGDEV_TYPE_SUFFIX(w.type), mdl_now() - t0);
	teardown(&w);
	free(w.shadow);
	free(w.stream);
	return 0;
}
