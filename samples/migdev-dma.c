// SPDX-License-Identifier: GPL-2.0-only
/*
 * migdev-dma: move a buffer through an instance's DMA engine and check it.
 *
 *   migdev-dma [-o copy|fill|crc|to-dev|from-dev] [-s SIZE[K|M]] [-n COUNT] UUID
 *
 * Opens the instance through VFIO, maps two buffers of SIZE bytes for DMA,
 * runs COUNT descriptors of the operation, verifies every result against
 * the CPU's, and prints the throughput.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "migdev_lib.h"

static unsigned long long parse_size(const char *s)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 0);

	if (*end == 'K' || *end == 'k')
		v <<= 10;
	else if (*end == 'M' || *end == 'm')
		v <<= 20;
	else if (*end == 'G' || *end == 'g')
		v <<= 30;
	return v;
}

#define PATTERN 0x0706050403020100ULL

/* Run one descriptor; 0 when it completed OK (its result in *@result). */
static int run(struct mdl_queue *q, struct migdev_desc desc, uint64_t *result)
{
	uint32_t n = mdl_submit(q, &desc), st = mdl_wait(q, n, 600000);

	if (st != MIGDEV_STATUS_OK) {
		fprintf(stderr, "descriptor %u: status %u\n", n, st);
		return 1;
	}
	if (result)
		*result = le64toh(mdl_cpl(q, n)->result);
	return 0;
}

static int print_usage(const char *me)
{
	fprintf(stderr,
		"usage: %s [-o copy|fill|crc|to-dev|from-dev] [-s SIZE] [-n COUNT] UUID\n",
		me);
	return 2;
}

int main(int argc, char **argv)
{
	const char *opname = "copy";
	unsigned long long size = 1 << 20, i, count = 16;
	struct mdl_dma a, b;
	struct mdl_queue q;
	struct mdl_dev d;
	uint64_t devmem, crc = 0;
	double t0, t;
	int c, bad = 0;
	uint16_t op;

	while ((c = getopt(argc, argv, "o:s:n:h")) != -1) {
		switch (c) {
		case 'o':
			opname = optarg;
			break;
		case 's':
			size = parse_size(optarg);
			break;
		case 'n':
			count = strtoull(optarg, NULL, 0);
			break;
		default:
			return print_usage(argv[0]);
		}
	}
	if (optind != argc - 1 || !size || size > MIGDEV_MAX_XFER)
		return print_usage(argv[0]);
	if (!strcmp(opname, "copy"))
		op = MIGDEV_OP_COPY;
	else if (!strcmp(opname, "fill"))
		op = MIGDEV_OP_FILL;
	else if (!strcmp(opname, "crc"))
		op = MIGDEV_OP_CRC32C;
	else if (!strcmp(opname, "to-dev"))
		op = MIGDEV_OP_TO_DEV;
	else if (!strcmp(opname, "from-dev"))
		op = MIGDEV_OP_FROM_DEV;
	else
		return print_usage(argv[0]);

	mdl_open(argv[optind], &d);
	devmem = mdl_read64(&d, MIGDEV_REG_DEVMEM_SIZE);
	if ((op == MIGDEV_OP_TO_DEV || op == MIGDEV_OP_FROM_DEV) && size > devmem) {
		fprintf(stderr,
			"%llu bytes do not fit the instance's %llu bytes of device memory\n",
			size, (unsigned long long)devmem);
		return 1;
	}
	mdl_bus_master(&d, 1);
	mdl_queue_init(&d, 0, 64, &q);
	mdl_dma_map(&d, size, &a);
	mdl_dma_map(&d, size, &b);
	for (i = 0; i < size / 4; i++)
		((uint32_t *)a.va)[i] = i * 2654435761u;
	memset(b.va, 0, size);

	/* from-dev needs data in device memory first (not timed). */
	if (op == MIGDEV_OP_FROM_DEV &&
	    run(&q, mdl_desc(MIGDEV_OP_TO_DEV, a.iova, 0, size, 0), NULL))
		return 1;

	t0 = mdl_now();
	for (i = 0; i < count; i++) {
		struct migdev_desc desc;

		switch (op) {
		case MIGDEV_OP_FILL:
			desc = mdl_desc(op, 0, b.iova, size, 0);
			desc.pattern = htole64(PATTERN + i);
			break;
		case MIGDEV_OP_CRC32C:
			desc = mdl_desc(op, a.iova, 0, size, 0);
			break;
		case MIGDEV_OP_TO_DEV:
			desc = mdl_desc(op, a.iova, 0, size, 0);
			break;
		case MIGDEV_OP_FROM_DEV:
			desc = mdl_desc(op, 0, b.iova, size, 0);
			break;
		default:
			desc = mdl_desc(op, a.iova, b.iova, size, 0);
			break;
		}
		if (run(&q, desc, &crc))
			return 1;
	}
	t = mdl_now() - t0;

	/* Check against the CPU (not timed). */
	if (op == MIGDEV_OP_TO_DEV &&
	    run(&q, mdl_desc(MIGDEV_OP_FROM_DEV, 0, b.iova, size, 0), NULL))
		return 1;
	if (op == MIGDEV_OP_CRC32C)
		bad = crc != mdl_crc32c(a.va, size);
	else if (op == MIGDEV_OP_FILL)
		for (i = 0; i < size && !bad; i++)
			bad = ((unsigned char *)b.va)[i] !=
			      (unsigned char)((PATTERN + count - 1) >> (8 * (i % 8)));
	else
		bad = memcmp(a.va, b.va, size) != 0;
	if (bad) {
		fprintf(stderr, "%s: the result does not match the CPU's\n", opname);
		return 1;
	}
	printf("%s: %llu x %llu bytes in %.3f s: %.1f MiB/s, %.1f us per descriptor, verified\n",
	       opname, count, size, t, count * size / t / (1 << 20), t / count * 1e6);
	mdl_queue_fini(&q);
	mdl_close(&d);
	return 0;
}
