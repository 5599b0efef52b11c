// SPDX-License-Identifier: GPL-2.0-only
/*
 * emul_unit: the emulated device (every file of emul/, unmodified) in
 * userspace, without VFIO or a VM, over a fake host: guest memory is a
 * buffer, interrupts are counters, and the engine runs when the test says
 * (as the host's worker would after a kick).  Config space, BAR0's
 * registers, the DMA engine's opcodes and descriptor rules, device
 * memory, a queue disabled with a descriptor in flight whose record must
 * wait for its memory, and a working device saved, encoded, decoded and
 * applied to another (which then encodes to the same bytes, and finishes
 * the descriptor the source left in flight).
 *
 * Prints KTAP-style "ok N name" lines and a "# Totals:" line; exits 1 if
 * any test failed.  Built with ASan and UBSan (fuzz/Makefile).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/bitmap.h>
#include <linux/kernel.h>
#include <linux/pci_regs.h>

#include "device.h"
#include "ktap.h"
#include "stream.h"

/* ---- the fake host ---------------------------------------------------- */

#define GMEM_BASE	0x100000ULL
#define GMEM_SIZE	(2u << 20)
#define RING_IOVA	GMEM_BASE
#define COMPL_IOVA	(GMEM_BASE + 0x1000)
#define DATA_IOVA	(GMEM_BASE + 0x10000)
#define RING_SLOTS	16

struct host {
	u8 *gmem;
	bool not_ready;		/* dma_ready() says no */
	unsigned int prepares;
	unsigned int kicks;
	unsigned int msix[MIGDEV_MAX_VECTORS];
	u64 held;
	bool intx;
	unsigned int devmem_unmaps;
	unsigned int dirtied;
};

/* The buffer's address for [@iova, @iova + @len), or NULL if not all mapped. */
static u8 *gva(struct host *h, u64 iova, size_t len)
{
	if (iova < GMEM_BASE || len > GMEM_SIZE ||
	    iova - GMEM_BASE > GMEM_SIZE - len)
		return NULL;
	return h->gmem + (iova - GMEM_BASE);
}

static void h_dma_prepare(void *priv, const struct migdev_dma_range *r,
			  unsigned int n)
{
	((struct host *)priv)->prepares++;
}

static bool h_dma_ready(void *priv, const struct migdev_dma_range *r,
			unsigned int n)
{
	return !((struct host *)priv)->not_ready;
}

static int h_dma_read(void *priv, u64 iova, void *buf, size_t len)
{
	u8 *p = gva(priv, iova, len);

	if (!p)
		return -EFAULT;
	memcpy(buf, p, len);
	return 0;
}

static int h_dma_write(void *priv, u64 iova, const void *buf, size_t len)
{
	u8 *p = gva(priv, iova, len);

	if (!p)
		return -EFAULT;
	memcpy(p, buf, len);
	return 0;
}

static int h_dma_copy(void *priv, u64 dst, u64 src, size_t len)
{
	u8 *d = gva(priv, dst, len), *s = gva(priv, src, len);

	if (!d || !s)
		return -EFAULT;
	memcpy(d, s, len);
	return 0;
}

/* In pieces that end at 4 KiB boundaries, as pinned pages would come. */
static int h_dma_each(void *priv, u64 iova, size_t len, bool write,
		      int (*fn)(void *arg, void *p, size_t n), void *arg)
{
	u8 *p = gva(priv, iova, len);
	size_t n;
	int ret;

	if (!p)
		return -EFAULT;
	while (len) {
		n = min_t(size_t, len, 4096 - (iova & 4095));
		ret = fn(arg, p, n);
		if (ret)
			return ret;
		p += n;
		iova += n;
		len -= n;
	}
	return 0;
}

static void h_msix(void *priv, unsigned int vector)
{
	((struct host *)priv)->msix[vector]++;
}

static void h_msix_hold(void *priv, unsigned int vector)
{
	((struct host *)priv)->held |= 1ULL << vector;
}

static void h_msix_release(void *priv)
{
	struct host *h = priv;
	unsigned int v;

	for (v = 0; v < MIGDEV_MAX_VECTORS; v++)
		if (h->held & (1ULL << v))
			h->msix[v]++;
	h->held = 0;
}

static void h_intx(void *priv, bool level)
{
	((struct host *)priv)->intx = level;
}

static u64 h_msix_pending(void *priv)
{
	return ((struct host *)priv)->held;
}

static void h_msix_set_pending(void *priv, u64 pending)
{
	((struct host *)priv)->held = pending;
}

static void h_devmem_unmap(void *priv, u64 off, u64 len)
{
	((struct host *)priv)->devmem_unmaps++;
}

static void h_devmem_dirtied(void *priv)
{
	((struct host *)priv)->dirtied++;
}

static void h_kick(void *priv)
{
	((struct host *)priv)->kicks++;
}

static const struct migdev_host_ops host_ops = {
	.dma_prepare = h_dma_prepare,
	.dma_ready = h_dma_ready,
	.dma_read = h_dma_read,
	.dma_write = h_dma_write,
	.dma_copy = h_dma_copy,
	.dma_each = h_dma_each,
	.msix = h_msix,
	.msix_hold = h_msix_hold,
	.msix_release = h_msix_release,
	.intx = h_intx,
	.msix_pending = h_msix_pending,
	.msix_set_pending = h_msix_set_pending,
	.devmem_unmap = h_devmem_unmap,
	.devmem_dirtied = h_devmem_dirtied,
	.kick = h_kick,
};

/* ---- a device and its driver ------------------------------------------ */

struct dev {
	struct migdev_emul e;
	struct host h;
	u32 tail;
};

static void dev_init(struct dev *d, u32 nr_queues, u64 devmem_size)
{
	struct migdev_geom g = {
		.type_id = 0, .nr_queues = nr_queues, .devmem_size = devmem_size,
	};

	memset(d, 0, sizeof(*d));
	d->h.gmem = calloc(1, GMEM_SIZE);
	if (!d->h.gmem || migdev_emul_init(&d->e, &g, &host_ops, &d->h) ||
	    migdev_emul_open(&d->e)) {
		fprintf(stderr, "emul_unit: no memory\n");
		exit(1);
	}
}

static void dev_fini(struct dev *d)
{
	migdev_emul_close(&d->e);
	migdev_emul_fini(&d->e);
	free(d->h.gmem);
}

static u32 reg_read(struct dev *d, unsigned int off)
{
	u64 v = ~0ULL;

	if (migdev_emul_bar0_read(&d->e, off, 4, &v))
		return ~0U;
	return v;
}

static int reg_write(struct dev *d, unsigned int off, u32 v)
{
	return migdev_emul_bar0_write(&d->e, off, 4, v);
}

static u32 q_read(struct dev *d, unsigned int q, unsigned int reg)
{
	return reg_read(d, MIGDEV_REG_QUEUE(q) + reg);
}

static void q_write(struct dev *d, unsigned int q, unsigned int reg, u32 v)
{
	reg_write(d, MIGDEV_REG_QUEUE(q) + reg, v);
}

static void bus_master(struct dev *d, bool on)
{
	u32 cmd = migdev_emul_cfg_read(&d->e, PCI_COMMAND, 2);

	cmd = on ? cmd | PCI_COMMAND_MASTER : cmd & ~PCI_COMMAND_MASTER;
	migdev_emul_cfg_write(&d->e, PCI_COMMAND, 2, cmd);
}

/* Queue 0 over the ring and completions at RING_IOVA, COMPL_IOVA. */
static bool queue_enable(struct dev *d)
{
	q_write(d, 0, MIGDEV_Q_RING_BASE, lower_32_bits(RING_IOVA));
	q_write(d, 0, MIGDEV_Q_RING_BASE + 4, upper_32_bits(RING_IOVA));
	q_write(d, 0, MIGDEV_Q_RING_SIZE, RING_SLOTS);
	q_write(d, 0, MIGDEV_Q_COMPL_BASE, lower_32_bits(COMPL_IOVA));
	q_write(d, 0, MIGDEV_Q_COMPL_BASE + 4, upper_32_bits(COMPL_IOVA));
	q_write(d, 0, MIGDEV_Q_CTRL, MIGDEV_Q_CTRL_ENABLE);
	d->tail = 0;
	return q_read(d, 0, MIGDEV_Q_STATUS) & MIGDEV_Q_STATUS_ENABLED;
}

static struct migdev_completion *cpl(struct dev *d, u32 n)
{
	return (void *)gva(&d->h, COMPL_IOVA + (n % RING_SLOTS) * 32, 32);
}

/* Write a descriptor into the ring (no doorbell); its counter. */
static u32 post(struct dev *d, u16 op, u64 src, u64 dst, u32 len, u64 pattern)
{
	struct migdev_desc *desc = (void *)gva(&d->h, RING_IOVA +
					       (d->tail % RING_SLOTS) * 64, 64);

	memset(desc, 0, sizeof(*desc));
	desc->opcode = cpu_to_le16(op);
	desc->flags = cpu_to_le16(MIGDEV_DESC_F_IRQ);
	desc->len = cpu_to_le32(len);
	desc->src = cpu_to_le64(src);
	desc->dst = cpu_to_le64(dst);
	desc->pattern = cpu_to_le64(pattern);
	desc->cookie = cpu_to_le64(0xc00c1e00ULL + d->tail);
	memset(cpl(d, d->tail), 0, 32);
	return d->tail++;
}

static void doorbell(struct dev *d)
{
	q_write(d, 0, MIGDEV_Q_TAIL, d->tail);
}

/* What the host's worker does after a kick: steps until the engine idles. */
static unsigned int run_engine(struct dev *d, unsigned int max_steps)
{
	unsigned int steps = 0;

	while (steps < max_steps && migdev_engine_prepare(&d->e)) {
		steps++;
		if (!migdev_engine_step(&d->e))
			break;
	}
	return steps;
}

static u32 status(struct dev *d, u32 n)
{
	return le32_to_cpu(cpl(d, n)->status);
}

static void fill_random(u8 *p, size_t n, unsigned int seed)
{
	size_t i;

	for (i = 0; i < n; i++) {
		seed = seed * 1103515245 + 12345;
		p[i] = seed >> 16;
	}
}

/* ---- tests ------------------------------------------------------------ */

static void test_power_on(void)
{
	struct dev d;

	dev_init(&d, 2, 1 << 20);
	result(migdev_emul_cfg_read(&d.e, PCI_VENDOR_ID, 2) == MIGDEV_PCI_VENDOR_ID &&
	       migdev_emul_cfg_read(&d.e, PCI_DEVICE_ID, 2) == MIGDEV_PCI_DEVICE_ID,
	       "power on: config space has migdev's IDs");
	result(reg_read(&d, MIGDEV_REG_ID) == MIGDEV_ID_MAGIC &&
	       reg_read(&d, MIGDEV_REG_NUM_QUEUES) == 2 &&
	       reg_read(&d, MIGDEV_REG_NUM_VECTORS) == 3,
	       "power on: BAR0 identifies the device and its geometry");
	result(!(migdev_emul_cfg_read(&d.e, PCI_COMMAND, 2) & PCI_COMMAND_MASTER) &&
	       !(q_read(&d, 0, MIGDEV_Q_STATUS) & MIGDEV_Q_STATUS_ENABLED),
	       "power on: no bus mastering, queues disabled");
	reg_write(&d, MIGDEV_REG_SCRATCH, 0x5a5a1234);
	result(reg_read(&d, MIGDEV_REG_SCRATCH) == 0x5a5a1234,
	       "scratch register keeps what is written");
	migdev_emul_reset(&d.e, MIGDEV_RESET_DEVICE);
	result(reg_read(&d, MIGDEV_REG_SCRATCH) == 0,
	       "a device reset clears the scratch register");
	dev_fini(&d);
}

static void test_opcodes(void)
{
	static const char digits[] = "123456789";
	u8 *src, *dst, *fill, *back;
	u32 n_copy, n_fill, n_crc, n_to, n_from, n_dcrc;
	struct dev d;
	bool ok;

	dev_init(&d, 1, 1 << 20);
	bus_master(&d, true);
	result(queue_enable(&d), "queue 0 enables over a valid ring");
	src = gva(&d.h, DATA_IOVA, 200000);
	dst = gva(&d.h, DATA_IOVA + 0x40000, 200000);
	fill = gva(&d.h, DATA_IOVA + 0x80000, 5000);
	back = gva(&d.h, DATA_IOVA + 0xc0000, 70000);
	fill_random(src, 200000, 1);
	memcpy(gva(&d.h, DATA_IOVA + 0xf0000, 9), digits, 9);

	/* A copy longer than a chunk, unaligned: several steps. */
	n_copy = post(&d, MIGDEV_OP_COPY, DATA_IOVA + 3, DATA_IOVA + 0x40000 + 3,
		      200000 - 3, 0);
	n_fill = post(&d, MIGDEV_OP_FILL, 0, DATA_IOVA + 0x80000 + 1, 4099,
		      0x0807060504030201ULL);
	n_crc = post(&d, MIGDEV_OP_CRC32C, DATA_IOVA + 0xf0000, 0, 9, 0);
	n_to = post(&d, MIGDEV_OP_TO_DEV, DATA_IOVA, 4096 + 5, 70000, 0);
	n_from = post(&d, MIGDEV_OP_FROM_DEV, 4096 + 5, DATA_IOVA + 0xc0000, 70000, 0);
	n_dcrc = post(&d, MIGDEV_OP_DEV_CRC32C, 4096 + 5 + 70000 - 9, 0, 9, 0);
	d.h.kicks = 0;
	doorbell(&d);
	result(d.h.kicks > 0 && status(&d, n_copy) == 0,
	       "the doorbell kicks the host and executes nothing by itself");
	run_engine(&d, 1000);

	result(status(&d, n_copy) == MIGDEV_STATUS_OK &&
	       le64_to_cpu(cpl(&d, n_copy)->bytes) == 200000 - 3 &&
	       le64_to_cpu(cpl(&d, n_copy)->cookie) == 0xc00c1e00ULL + n_copy &&
	       !memcmp(src + 3, dst + 3, 200000 - 3) && dst[2] == 0,
	       "COPY of 195 KiB, unaligned: every byte, no byte more");
	ok = status(&d, n_fill) == MIGDEV_STATUS_OK && fill[0] == 0 && fill[4100] == 0;
	for (unsigned int i = 0; i < 4099; i++)
		ok = ok && fill[1 + i] == 1 + i % 8;
	result(ok, "FILL repeats its 8 bytes from dst, and stops at len");
	result(status(&d, n_crc) == MIGDEV_STATUS_OK &&
	       le64_to_cpu(cpl(&d, n_crc)->result) == 0xe3069283,
	       "CRC32C of \"123456789\" is 0xe3069283");
	result(status(&d, n_to) == MIGDEV_STATUS_OK &&
	       status(&d, n_from) == MIGDEV_STATUS_OK && !memcmp(back, src, 70000),
	       "TO_DEV then FROM_DEV brings the bytes back");
	{
		u32 want;

		memcpy(gva(&d.h, DATA_IOVA + 0xf0000, 9), src + 70000 - 9, 9);
		n_crc = post(&d, MIGDEV_OP_CRC32C, DATA_IOVA + 0xf0000, 0, 9, 0);
		doorbell(&d);
		run_engine(&d, 100);
		want = le64_to_cpu(cpl(&d, n_crc)->result);
		result(status(&d, n_dcrc) == MIGDEV_STATUS_OK &&
		       le64_to_cpu(cpl(&d, n_dcrc)->result) == want,
		       "DEV_CRC32C of device memory equals CRC32C of the same bytes");
	}
	result(q_read(&d, 0, MIGDEV_Q_HEAD) == d.tail &&
	       q_read(&d, 0, MIGDEV_Q_COMPLETED) == d.tail &&
	       !(q_read(&d, 0, MIGDEV_Q_STATUS) & MIGDEV_Q_STATUS_BUSY),
	       "HEAD and COMPLETED reach TAIL, and the queue is idle");
	result((reg_read(&d, MIGDEV_REG_INT_STATUS) & 1) && d.h.intx,
	       "completions asked for an interrupt: INT_STATUS and INTx (no MSI-X)");
	result(d.h.dirtied > 0 && migdev_devmem_resident(&d.e.devmem) >= 70000,
	       "device memory was allocated and reported dirty");
	dev_fini(&d);
}

static void test_rules(void)
{
	u8 *dst, before[4096];
	u32 n[6], n_ok;
	struct migdev_desc *desc;
	struct dev d;
	bool ok = true;
	int i;

	dev_init(&d, 1, 1 << 20);
	bus_master(&d, true);
	queue_enable(&d);
	dst = gva(&d.h, DATA_IOVA + 0x1000, 4096);
	fill_random(dst, 4096, 2);
	memcpy(before, dst, 4096);
	n[0] = post(&d, 99, DATA_IOVA, DATA_IOVA + 0x1000, 16, 0);
	n[1] = post(&d, MIGDEV_OP_COPY, DATA_IOVA, DATA_IOVA + 0x1000, 0, 0);
	n[2] = post(&d, MIGDEV_OP_COPY, GMEM_BASE + GMEM_SIZE - 8,
		    DATA_IOVA + 0x1000, 4096, 0);
	n[3] = post(&d, MIGDEV_OP_COPY, DATA_IOVA + 0x1000 - 100,
		    DATA_IOVA + 0x1000, 4096, 0);
	n[4] = post(&d, MIGDEV_OP_COPY, DATA_IOVA, DATA_IOVA + 0x1000, 16, 0);
	desc = (void *)gva(&d.h, RING_IOVA + (n[4] % RING_SLOTS) * 64, 64);
	desc->reserved[1] = cpu_to_le64(1);
	n[5] = post(&d, MIGDEV_OP_TO_DEV, DATA_IOVA, (1 << 20) - 8, 16, 0);
	n_ok = post(&d, MIGDEV_OP_NOP, 0, 0, 0, 0);
	doorbell(&d);
	run_engine(&d, 100);
	{
		static const u32 want[6] = {
			MIGDEV_STATUS_BAD_OPCODE, MIGDEV_STATUS_BAD_LENGTH,
			MIGDEV_STATUS_BAD_ADDRESS, MIGDEV_STATUS_OVERLAP,
			MIGDEV_STATUS_RESERVED, MIGDEV_STATUS_BAD_ADDRESS,
		};

		for (i = 0; i < 6; i++) {
			if (status(&d, n[i]) != want[i]) {
				printf("# descriptor %d: status %u, want %u\n", i,
				       status(&d, n[i]), want[i]);
				ok = false;
			}
		}
	}
	result(ok, "bad opcode, length, address, overlap, reserved field, past BAR2: each refused");
	result(!memcmp(before, dst, 4096) &&
	       migdev_devmem_resident(&d.e.devmem) == 0,
	       "refused descriptors moved nothing");
	result(status(&d, n_ok) == MIGDEV_STATUS_OK &&
	       !(q_read(&d, 0, MIGDEV_Q_STATUS) & MIGDEV_Q_STATUS_HALTED),
	       "the queue goes on after per-descriptor errors");

	/* A ring the device cannot read halts the queue. */
	q_write(&d, 0, MIGDEV_Q_CTRL, 0);
	q_write(&d, 0, MIGDEV_Q_RING_BASE, 0x40);
	q_write(&d, 0, MIGDEV_Q_RING_BASE + 4, 0);
	q_write(&d, 0, MIGDEV_Q_CTRL, MIGDEV_Q_CTRL_ENABLE);
	q_write(&d, 0, MIGDEV_Q_TAIL, 1);
	run_engine(&d, 100);
	result((q_read(&d, 0, MIGDEV_Q_STATUS) & MIGDEV_Q_STATUS_HALTED) &&
	       q_read(&d, 0, MIGDEV_Q_ERROR) == MIGDEV_ERR_RING_FETCH,
	       "an unreadable ring halts the queue with RING_FETCH");
	dev_fini(&d);
}

static void test_bus_master(void)
{
	struct dev d;
	u8 *dst;
	u32 n;

	dev_init(&d, 1, 1 << 20);
	queue_enable(&d);
	dst = gva(&d.h, DATA_IOVA, 64);
	n = post(&d, MIGDEV_OP_FILL, 0, DATA_IOVA, 64, 0xffffffffffffffffULL);
	doorbell(&d);
	run_engine(&d, 100);
	result(status(&d, n) == 0 && dst[0] == 0,
	       "without bus mastering the engine moves nothing");
	bus_master(&d, true);
	run_engine(&d, 100);
	result(status(&d, n) == MIGDEV_STATUS_OK && dst[63] == 0xff,
	       "with it set, the waiting descriptor runs");
	dev_fini(&d);
}

static void test_abort_waits_for_memory(void)
{
	struct dev d;
	u32 n, st;

	dev_init(&d, 1, 1 << 20);
	bus_master(&d, true);
	queue_enable(&d);
	/* Several chunks: one step leaves it in flight. */
	n = post(&d, MIGDEV_OP_COPY, DATA_IOVA, DATA_IOVA + 0x100000, 4 * MIGDEV_CHUNK, 0);
	doorbell(&d);
	run_engine(&d, 1);
	st = q_read(&d, 0, MIGDEV_Q_STATUS);
	result((st & MIGDEV_Q_STATUS_BUSY) && status(&d, n) == 0,
	       "after one step a long COPY is in flight");
	d.h.not_ready = true;
	q_write(&d, 0, MIGDEV_Q_CTRL, 0);
	st = q_read(&d, 0, MIGDEV_Q_STATUS);
	result(!(st & MIGDEV_Q_STATUS_ENABLED) && (st & MIGDEV_Q_STATUS_BUSY) &&
	       status(&d, n) == 0,
	       "disabled while its record's memory is not ready: BUSY, no record yet");
	q_write(&d, 0, MIGDEV_Q_RING_SIZE, 4);
	result(q_read(&d, 0, MIGDEV_Q_RING_SIZE) == RING_SLOTS,
	       "the ring registers stay fixed while the record is due");
	d.h.not_ready = false;
	run_engine(&d, 10);
	st = q_read(&d, 0, MIGDEV_Q_STATUS);
	result(status(&d, n) == MIGDEV_STATUS_ABORTED && !(st & MIGDEV_Q_STATUS_BUSY) &&
	       le64_to_cpu(cpl(&d, n)->bytes) < 4 * MIGDEV_CHUNK,
	       "the engine's next step writes the ABORTED record, part done");
	dev_fini(&d);
}

/* What migdev_devmem_map() asked of its host's fault handler. */
struct map_call {
	struct migdev_devmem *dm;
	bool stale;
	unsigned int calls;
	u64 dirty_during;
	struct page *page;
};

static bool map_cb(void *arg, struct page *page)
{
	struct map_call *m = arg;

	m->calls++;
	m->page = page;
	m->dirty_during = migdev_devmem_dirty_count(m->dm);
	return !m->stale;
}

static void test_devmem_map(void)
{
	struct map_call m = { 0 };
	u64 before;
	struct dev d;
	int ret;

	dev_init(&d, 1, 1 << 20);
	m.dm = &d.e.devmem;
	before = migdev_devmem_dirty_count(m.dm);
	ret = migdev_devmem_map(m.dm, 7, false, map_cb, &m);
	result(ret == 0 && m.calls == 1 && m.page &&
	       migdev_devmem_resident(m.dm) == 4096 &&
	       migdev_devmem_dirty_count(m.dm) == before,
	       "a read fault maps a new zeroed page and dirties nothing");
	ret = migdev_devmem_map(m.dm, 7, true, map_cb, &m);
	result(ret == 0 && m.dirty_during == before &&
	       migdev_devmem_dirty_count(m.dm) == before + 1 &&
	       migdev_devmem_resident(m.dm) == 4096,
	       "a write fault: the same page, dirty only after it is mapped");
	m.stale = true;
	ret = migdev_devmem_map(m.dm, 9, true, map_cb, &m);
	result(ret == 1 && migdev_devmem_dirty_count(m.dm) == before + 1,
	       "a stale fault dirties nothing");
	dev_fini(&d);
}

/* ---- migration: save -> stream -> apply ------------------------------- */

/* The stop-copy stream of a stopped device, as migfile.c makes it. */
static u8 *encode(struct dev *d, size_t *len)
{
	u64 pfns = d->e.geom.devmem_size >> PAGE_SHIFT;
	unsigned long *dirty = calloc(BITS_TO_LONGS(pfns), sizeof(long));
	u8 *state = malloc(migdev_emul_state_size(&d->e));
	size_t cap = 1 << 20, n = 0, piece;
	u8 *out = malloc(cap), *buf = malloc(MIGDEV_STREAM_ENC_BUF);
	struct migdev_stream_enc enc;
	int ret;

	if (!dirty || !state || !out || !buf)
		exit(1);
	migdev_stream_enc_init(&enc, &migdev_devmem_src_ops, &d->e.devmem,
			       &d->e.geom, MIGDEV_STREAM_MINOR, false, dirty);
	migdev_stream_enc_stop(&enc, state,
			       migdev_emul_save_state(&d->e, state,
						      MIGDEV_STREAM_MINOR));
	while (!(ret = migdev_stream_enc_next(&enc, buf, &piece))) {
		if (n + piece > cap) {
			cap *= 2;
			out = realloc(out, cap);
			if (!out)
				exit(1);
		}
		memcpy(out + n, buf, piece);
		n += piece;
	}
	free(buf);
	free(state);
	free(dirty);
	*len = ret == 1 ? n : 0;
	return out;
}

static int stage(void *priv, u64 first, u32 count, const void *data)
{
	return migdev_devmem_stage(priv, first, count, data);
}

/* Feed @len bytes of stream to stopped device @d: 0, or the refusal's errno. */
static int apply(struct dev *d, const u8 *s, size_t len)
{
	struct migdev_stream_dec *dec = calloc(1, sizeof(*dec));
	u8 *payload = malloc(MIGDEV_STREAM_DEC_BUF);
	struct migdev_devmem staged;
	ssize_t n;
	int ret;

	if (!dec || !payload ||
	    migdev_devmem_init(&staged, d->e.geom.devmem_size, NULL, NULL, NULL))
		exit(1);
	migdev_stream_dec_init(dec, d->e.geom.type_id, d->e.geom.nr_queues,
			       d->e.geom.devmem_size, MIGDEV_STREAM_MINOR, payload);
	dec->devmem = stage;
	dec->priv = &staged;
	n = migdev_stream_dec_write(dec, s, len);
	ret = n < 0 ? (int)n : migdev_stream_dec_finish(dec);
	if (!ret)
		migdev_emul_apply_state(&d->e, dec, &staged);
	else
		printf("# refused at byte %llu: %s\n",
		       (unsigned long long)dec->offset, dec->err);
	migdev_devmem_fini(&staged);
	free(payload);
	free(dec);
	return ret;
}

/* RUNNING -> RUNNING_P2P -> STOP, as migration.c does it. */
static void stop(struct dev *d)
{
	migdev_engine_pause(&d->e);
	migdev_emul_freeze_clock(&d->e);
}

static void test_migrate(void)
{
	u8 *s1, *s2, *src, *dst;
	size_t l1, l2;
	struct dev a, b, c;
	u32 n_long, n_fill;
	bool ok;

	dev_init(&a, 2, 1 << 20);
	bus_master(&a, true);
	queue_enable(&a);
	reg_write(&a, MIGDEV_REG_SCRATCH, 0x13572468);
	src = gva(&a.h, DATA_IOVA, 4 * MIGDEV_CHUNK);
	fill_random(src, 4 * MIGDEV_CHUNK, 3);
	post(&a, MIGDEV_OP_TO_DEV, DATA_IOVA, 3 * 4096 + 7, 70000, 0);
	n_fill = post(&a, MIGDEV_OP_FILL, 0, DATA_IOVA + 0x180000, 100, 0xabULL);
	n_long = post(&a, MIGDEV_OP_COPY, DATA_IOVA, DATA_IOVA + 0x100000,
		      4 * MIGDEV_CHUNK, 0);
	doorbell(&a);
	/* Step until TO_DEV and FILL are done and the COPY is part way. */
	for (int i = 0; i < 20 && !(status(&a, n_fill) &&
				    (q_read(&a, 0, MIGDEV_Q_STATUS) & MIGDEV_Q_STATUS_BUSY)); i++)
		run_engine(&a, 1);
	stop(&a);
	a.h.held = 0x5;	/* MSI-X the host held for the device */
	s1 = encode(&a, &l1);
	result(l1 > 70000 && status(&a, n_fill) == MIGDEV_STATUS_OK &&
	       status(&a, n_long) == 0 &&
	       (q_read(&a, 0, MIGDEV_Q_STATUS) & MIGDEV_Q_STATUS_BUSY),
	       "a stopped source with a COPY in flight encodes (%zu bytes)", l1);

	dev_init(&b, 2, 1 << 20);
	stop(&b);
	result(apply(&b, s1, l1) == 0, "the destination decodes and applies it");
	s2 = encode(&b, &l2);
	result(l1 == l2 && !memcmp(s1, s2, l1) && b.h.held == 0x5,
	       "the destination encodes to the same bytes, MSI-X pending bits too");
	ok = reg_read(&b, MIGDEV_REG_SCRATCH) == 0x13572468 &&
	     q_read(&b, 0, MIGDEV_Q_TAIL) == a.tail &&
	     q_read(&b, 0, MIGDEV_Q_HEAD) == q_read(&a, 0, MIGDEV_Q_HEAD) &&
	     migdev_emul_cfg_read(&b.e, PCI_COMMAND, 2) ==
	     migdev_emul_cfg_read(&a.e, PCI_COMMAND, 2);
	result(ok, "registers, queue counters and config space arrived");

	/* Guest memory moves with the VMM; the device goes on there. */
	memcpy(b.h.gmem, a.h.gmem, GMEM_SIZE);
	migdev_emul_run(&b.e);
	run_engine(&b, 100);
	dst = gva(&b.h, DATA_IOVA + 0x100000, 4 * MIGDEV_CHUNK);
	result(status(&b, n_long) == MIGDEV_STATUS_OK &&
	       le64_to_cpu(cpl(&b, n_long)->bytes) == 4 * MIGDEV_CHUNK &&
	       !memcmp(dst, gva(&b.h, DATA_IOVA, 4 * MIGDEV_CHUNK), 4 * MIGDEV_CHUNK),
	       "the destination finishes the COPY the source left in flight");
	{
		u8 back[70000];
		u32 n;

		b.tail = a.tail;
		n = post(&b, MIGDEV_OP_FROM_DEV, 3 * 4096 + 7, DATA_IOVA + 0x1c0000,
			 70000, 0);
		doorbell(&b);
		run_engine(&b, 100);
		memcpy(back, gva(&b.h, DATA_IOVA + 0x1c0000, 70000), 70000);
		result(status(&b, n) == MIGDEV_STATUS_OK &&
		       !memcmp(back, src, 70000),
		       "device memory arrived: FROM_DEV reads the source's bytes");
	}

	/* A corrupted stream: refused, the device unchanged. */
	dev_init(&c, 2, 1 << 20);
	stop(&c);
	s1[l1 / 2] ^= 0x40;
	result(apply(&c, s1, l1) < 0 && reg_read(&c, MIGDEV_REG_SCRATCH) == 0 &&
	       migdev_devmem_resident(&c.e.devmem) == 0,
	       "a stream with one bit flipped is refused, and the device is unchanged");
	free(s1);
	free(s2);
	dev_fini(&a);
	dev_fini(&b);
	dev_fini(&c);
}

int main(void)
{
	test_power_on();
	test_opcodes();
	test_rules();
	test_bus_master();
	test_abort_waits_for_memory();
	test_devmem_map();
	test_migrate();
	return ktap_totals();
}
