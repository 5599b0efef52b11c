// SPDX-License-Identifier: GPL-2.0
/*
 * migdev-guest: a freestanding guest program that drives a migdev device
 * the way a driver would and checks every result, forever, so that the
 * guest can be migrated back and forth while it runs.
 *
 * It runs in 32-bit protected mode without paging (multiboot v1, loaded by
 * QEMU's -kernel), so every address below 4 GiB is its own physical
 * address and, under QEMU, its own IOVA.  It finds the migdev functions
 * on PCI bus 0 (two at most), moves each BAR2 below 4 GiB if the firmware
 * put it above, enables MSI-X through the local APIC, and then loops,
 * iteration N driving device N modulo their number:
 *
 * - queue 0 runs a batch of copy, fill, CRC-32C, to-device, from-device
 *   and device CRC-32C descriptors (the last one asks for an interrupt);
 *   every status, cookie, byte count, checksum and buffer is checked;
 * - every 32nd batch also carries a bad descriptor, which must fail with
 *   MIGDEV_STATUS_BAD_OPCODE and raise the error interrupt;
 * - the CPU writes and reads device memory through BAR2 directly (QEMU
 *   maps the region, so these accesses go to the mmap), and a 64 KiB
 *   area of it must always equal a shadow copy in guest RAM;
 * - the scratch register must hold what the last iteration wrote;
 * - the device clock must never go back;
 * - each queue-0 interrupt must arrive, exactly once;
 * - with "discard_ms=N" on the command line (QEMU's -append), every N ms
 *   of its clock a device discards its memory (MIGDEV_REG_DEVMEM_CTRL),
 *   as a driver that reinitialises its use of the device does: BAR2 must
 *   read zeros at once, and the shadow copy starts again from zeros.  In
 *   a migration this is a reconfiguration (VFIO_PRECOPY_INFO_REINIT);
 * - with "fill_mb=N", it first writes N MiB of device 0's memory (past
 *   what the rest uses; at most what it has), and then checks a page of
 *   it each iteration: a guest that keeps that much device memory, for
 *   downtime against the memory a device holds (scripts/plots.sh);
 * - with "nodev=1", and no device, it loops over guest RAM alone (each
 *   iteration writes 64 KiB of a 1 MiB area and checks the 64 KiB written
 *   before): the same guest without the device, to compare migrations
 *   with and without one (pingpong.py --devices 0).
 *
 * The machine itself (serial console, PCI configuration space, the IDT
 * and local APIC, CRC-32C) is os.c's; this file is the workload.
 *
 * Output on COM1, one line each, greppable:
 *   migdev-guest: iter N ok ...          progress, about twice a second
 *                                        (with discards D: how many)
 *   migdev-guest: MISMATCH iter N ...    a check failed; the loop stops
 */
#include <linux/types.h>
#include <linux/migdev.h>

#include "guest.h"
#include "os.h"

#define RING		64		/* descriptors in queue 0's ring */
#define BUF		65536		/* each DMA buffer in guest RAM */
#define MAXLEN		16384		/* longest transfer of a batch */
#define SHADOW		65536		/* BAR2 bytes mirrored in RAM */
#define WINDOW		(2 << 20)	/* BAR2 bytes the DMA uses, at most */
#define MAX_DEVS	2		/* migdev functions driven, at most */
#define VEC_BASE	0x40		/* vector of device 0's MSI-X entry 0 */
#define VEC_STRIDE	0x10		/* vectors per device */
#define VEC_SPURIOUS	0xff
#define TIMEOUT_NS	(30ULL * 1000000000ULL)
#define IRQ_TIMEOUT_NS	(5ULL * 1000000000ULL)
#define PRINT_NS	(500ULL * 1000000ULL)

static struct migdev_desc rings[MAX_DEVS][RING] __aligned(64);
static struct migdev_completion compls[MAX_DEVS][RING] __aligned(64);
static u8 src[BUF] __aligned(4096);
static u8 dst[BUF] __aligned(4096);
static u8 fil[BUF] __aligned(4096);
static u8 back[BUF] __aligned(4096);
static u32 shadows[MAX_DEVS][SHADOW / 4] __aligned(4096);

/**
 * struct gdev - one migdev function and what the workload knows of it
 * @bdf: its PCI address on bus 0
 * @bar0: registers and MSI-X table
 * @bar2: device memory, below 4 GiB
 * @devmem_size: BAR2's size
 * @nr_queues: the device's queues (the workload uses queue 0)
 * @nr_vectors: MSI-X vectors: one per queue, then the error vector
 * @vec_base: the CPU vector of its MSI-X entry 0
 * @tail: queue 0's tail, as written to the device
 * @last_iter: the iteration it ran last (its scratch register), 0 if none
 * @last_clock: the last device clock read
 * @irq_count: interrupts received, per MSI-X entry
 * @want_irqs: queue 0 interrupts expected so far
 * @want_err_irqs: error interrupts expected so far
 * @err_count: errors the device should have counted
 * @ring: queue 0's descriptor ring
 * @compl: queue 0's completion area
 * @shadow: what the first SHADOW bytes of BAR2 must hold
 * @next_discard: the device clock at which it discards its memory next
 */
struct gdev {
	u32 bdf;
	unsigned long bar0, bar2;
	u64 devmem_size;
	u32 nr_queues, nr_vectors, vec_base, tail, last_iter;
	u64 last_clock;
	u32 irq_count[MIGDEV_MAX_QUEUES + 1];
	u32 want_irqs, want_err_irqs, err_count;
	struct migdev_desc *ring;
	struct migdev_completion *compl;
	u32 *shadow;
	u64 next_discard;
};

/* The devices found, and the one the workload drives now. */
static struct gdev devs[MAX_DEVS], *cur = &devs[0];
static u32 nr_devs;
static u32 iter, rng = 0x2545f491;
static u64 dma_bytes;
/* discard_ms= in ns (0: never), and the discards done. */
static u64 discard_ns;
static u32 discards;
/* Written by the interrupt handler: read after a barrier. */
static u32 stray_irqs, spurious_irqs;

/* ---- helpers ---- */

static u32 rand32(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return rng;
}

static u32 reg_read(u32 off)
{
	return mmio_r32(cur->bar0 + off);
}

static void reg_write(u32 off, u32 v)
{
	mmio_w32(cur->bar0 + off, v);
}

/* Low half first: that latches the high half. */
static u64 read_clock(void)
{
	u32 lo = reg_read(MIGDEV_REG_CLOCK);

	return (u64)reg_read(MIGDEV_REG_CLOCK + 4) << 32 | lo;
}

static u32 q_reg(u32 off)
{
	return MIGDEV_REG_QUEUE(0) + off;
}

/* The first migdev function on bus 0 at @from (devfn) or after it. */
static int pci_find(u32 from)
{
	u32 devfn, id;

	for (devfn = from; devfn < 256; devfn++) {
		id = pci_read32(devfn, 0);
		if (id == (MIGDEV_PCI_DEVICE_ID << 16 | MIGDEV_PCI_VENDOR_ID))
			return devfn;
	}
	return -1;
}

/*
 * BAR2 must be reachable without paging.  SeaBIOS may place a 64-bit BAR
 * above 4 GiB; then move it to the first naturally aligned place from
 * 1 GiB up that is above RAM (@ram_top), clears BAR0, and ends below
 * 0xb0000000: q35's MMCONFIG window starts there, and the firmware puts
 * the other 32-bit BARs above it.  QEMU routes what RAM does not claim
 * to PCI, so the BAR works anywhere in that range.
 */
/* Does [@base, @base + @size) overlap a BAR of the devices placed so far? */
static int bar_taken(u64 base, u64 size)
{
	u32 i;

	for (i = 0; i <= (u32)(cur - devs); i++) {
		const struct gdev *g = &devs[i];

		if (base < g->bar0 + MIGDEV_BAR0_SIZE && base + size > g->bar0)
			return 1;
		if (g != cur && base < g->bar2 + g->devmem_size &&
		    base + size > g->bar2)
			return 1;
	}
	return 0;
}

static void place_bar2(u32 bdf, u64 size, u64 ram_top)
{
	u32 lo = pci_read32(bdf, 0x18), hi = pci_read32(bdf, 0x1c);
	u64 base = (u64)hi << 32 | (lo & ~0xfU);
	u64 nb = 0x40000000ULL;
	u16 cmd;

	if (!hi && base && base + size <= 0xfec00000ULL) {
		cur->bar2 = base;
		return;
	}
	while (nb < ram_top || bar_taken(nb, size))
		nb += size;
	if (nb + size > 0xb0000000ULL)
		fatal("no room for BAR2 below 4 GiB");
	cmd = pci_read16(bdf, 0x04);
	pci_write16(bdf, 0x04, cmd & ~0x2);
	pci_write32(bdf, 0x18, (u32)nb);
	pci_write32(bdf, 0x1c, 0);
	pci_write16(bdf, 0x04, cmd);
	print("migdev-guest: bar2 moved from 0x%llx to 0x%llx\n", base, nb);
	cur->bar2 = nb;
}

/* ---- interrupts ---- */

void guest_interrupt(u32 vec, u32 err)
{
	u32 i;

	if (vec < 32) {
		print("migdev-guest: FATAL exception %u error 0x%x iter %u\n",
		      vec, err, iter);
		halt();
	}
	if (vec == VEC_SPURIOUS) {
		spurious_irqs++;
		return;
	}
	for (i = 0; i < nr_devs; i++) {
		struct gdev *g = &devs[i];

		if (vec >= g->vec_base && vec < g->vec_base + g->nr_vectors) {
			g->irq_count[vec - g->vec_base]++;
			break;
		}
	}
	if (i == nr_devs)
		stray_irqs++;
	lapic_eoi();
}

static void msix_init(u32 bdf)
{
	u32 cap = pci_find_cap(bdf, 0x11), tbl, i, apic_id;
	unsigned long table;
	u16 ctrl;

	if (!cap)
		fatal("no MSI-X capability");
	ctrl = pci_read16(bdf, cap + 2);
	tbl = pci_read32(bdf, cap + 4);
	if ((tbl & 7) != 0 || (ctrl & 0x7ffU) + 1 < cur->nr_vectors)
		fatal("MSI-X table not in BAR0, or too small");
	table = cur->bar0 + (tbl & ~7U);

	apic_id = lapic_enable(VEC_SPURIOUS);

	for (i = 0; i < cur->nr_vectors; i++) {
		unsigned long e = table + i * MIGDEV_MSIX_ENTRY_SIZE;

		mmio_w32(e + 0, 0xfee00000 | apic_id << 12);
		mmio_w32(e + 4, 0);
		mmio_w32(e + 8, cur->vec_base + i);	/* fixed, edge */
		mmio_w32(e + 12, 0);		/* unmasked */
	}
	/* enable, function not masked */
	pci_write16(bdf, cap + 2, (ctrl | 0x8000) & ~0x4000);
	asm volatile("sti");
}

/* ---- the workload ---- */

/* The descriptor whose completion is being checked, for the message. */
static const char *checking = "";

static void __noreturn fail_check(const char *what, u64 want, u64 got)
{
	print("migdev-guest: MISMATCH iter %u %s%s expected 0x%llx got 0x%llx\n",
	      iter, checking, what, want, got);
	print("migdev-guest: stopped after a mismatch\n");
	halt();
}

static void put_desc(u16 op, u16 flags, u32 len, u64 sa, u64 da, u64 pattern)
{
	u32 slot = cur->tail & (RING - 1);
	struct migdev_desc *p = &cur->ring[slot];

	p->opcode = op;
	p->flags = flags;
	p->len = len;
	p->src = sa;
	p->dst = da;
	p->pattern = pattern;
	p->cookie = (u64)iter << 32 | cur->tail;
	p->reserved[0] = 0;
	p->reserved[1] = 0;
	p->reserved[2] = 0;
	cur->compl[slot].status = 0;
	cur->tail++;
}

static void wait_slot(u32 slot)
{
	u64 start = read_clock(), now;
	u32 n = 0;

	while (!cur->compl[slot].status) {
		cpu_relax();
		if (++n % 256)
			continue;
		now = read_clock();
		if (now - start > TIMEOUT_NS)
			fail_check("no completion status in 30 s; tail vs head", cur->tail,
				   reg_read(q_reg(MIGDEV_Q_HEAD)));
	}
	barrier();
}

/* Check the completion of descriptor @t (a tail value). */
static void check_compl(const char *name, u32 t, u32 status, u64 bytes,
			u64 result)
{
	struct migdev_completion *c = &cur->compl[t & (RING - 1)];

	checking = name;
	if (c->status != status)
		fail_check("completion status", status, c->status);
	if (c->cookie != ((u64)iter << 32 | t))
		fail_check("completion cookie", (u64)iter << 32 | t, c->cookie);
	if (c->bytes != bytes)
		fail_check("completion bytes", bytes, c->bytes);
	if (c->result != result)
		fail_check("completion result", result, c->result);
	checking = "";
}

static void check_buf(const char *what, const u8 *got, const u8 *want,
		      u32 len)
{
	u32 i;

	for (i = 0; i < len; i++)
		if (got[i] != want[i])
			fail_check(what, want[i], got[i] | (u64)i << 32);
}

/* The same, for BAR2 at offset @off, read by the CPU. */
static void check_bar2(const char *what, u64 off, const u8 *want, u32 len)
{
	u32 i;
	u8 got;

	for (i = 0; i < len; i++) {
		got = mmio_r8(cur->bar2 + off + i);
		if (got != want[i])
			fail_check(what, want[i], got | (u64)i << 32);
	}
}

static void wait_irqs(void)
{
	u64 start = read_clock();

	while (cur->irq_count[0] != cur->want_irqs ||
	       cur->irq_count[cur->nr_queues] != cur->want_err_irqs) {
		if (cur->irq_count[0] > cur->want_irqs)
			fail_check("queue 0 interrupts (extra)", cur->want_irqs,
				   cur->irq_count[0]);
		if (cur->irq_count[cur->nr_queues] > cur->want_err_irqs)
			fail_check("error interrupts (extra)", cur->want_err_irqs,
				   cur->irq_count[cur->nr_queues]);
		if (read_clock() - start > IRQ_TIMEOUT_NS) {
			u32 q0 = cur->irq_count[0], err = cur->irq_count[cur->nr_queues];

			if (q0 != cur->want_irqs)
				fail_check("queue 0 interrupts (timeout)",
					   cur->want_irqs, q0);
			if (err != cur->want_err_irqs)
				fail_check("error interrupts (timeout)",
					   cur->want_err_irqs, err);
			fail_check("interrupts came after the timeout",
				   cur->want_irqs, q0);
		}
		cpu_relax();
	}
}

/* A few words of BAR2's shadowed area change; one page of it is checked. */
static void devmem_direct(void)
{
	u32 i, k, got, page = iter % (SHADOW / 4096);

	for (i = 0; i < 1024; i++) {
		k = page * 1024 + i;
		got = mmio_r32(cur->bar2 + 4 * k);
		if (got != cur->shadow[k])
			fail_check("BAR2 shadowed word", cur->shadow[k],
				   got | (u64)k << 32);
	}
	for (i = 0; i < 16; i++) {
		k = rand32() % (SHADOW / 4);
		cur->shadow[k] = rand32();
		mmio_w32(cur->bar2 + 4 * k, cur->shadow[k]);
	}
}

/*
 * The device discards its memory: BAR2 reads zeros at once, and what the
 * workload expects there starts again from zeros.
 */
static void devmem_discard(void)
{
	u32 k;

	reg_write(MIGDEV_REG_DEVMEM_CTRL, MIGDEV_DEVMEM_CTRL_DISCARD);
	for (k = 0; k < SHADOW / 4; k += 1021)
		if (mmio_r32(cur->bar2 + 4 * k))
			fail_check("BAR2 word after a discard", 0,
				   mmio_r32(cur->bar2 + 4 * k) | (u64)k << 32);
	for (k = 0; k < SHADOW / 4; k++)
		cur->shadow[k] = 0;
	discards++;
}

static void iteration(void)
{
	u32 len = rand32() % MAXLEN + 1, flen = rand32() % MAXLEN + 1;
	u32 so = rand32() % (BUF - len), dof = rand32() % (BUF - len);
	u32 fo = rand32() % (BUF - flen), bo = rand32() % (BUF - len);
	u32 win = cur->devmem_size - SHADOW < WINDOW ? cur->devmem_size - SHADOW : WINDOW;
	u64 dev = SHADOW + rand32() % (win - 2 * MAXLEN);
	u64 dev2 = dev + MAXLEN, pattern = (u64)rand32() << 32 | rand32();
	u32 first = cur->tail, crc, crc2, i, bad = iter / nr_devs % 32 == 0, st;
	u8 bytes[256];
	u64 clock;

	if (cur->last_iter) {
		u32 lo = reg_read(MIGDEV_REG_SCRATCH);
		u32 hi = reg_read(MIGDEV_REG_SCRATCH + 4);

		if (lo != cur->last_iter || hi != ~cur->last_iter)
			fail_check("scratch register", cur->last_iter,
				   (u64)hi << 32 | lo);
	}
	if (discard_ns && cur->last_clock >= cur->next_discard) {
		if (cur->next_discard)
			devmem_discard();
		cur->next_discard = cur->last_clock + discard_ns;
	}
	devmem_direct();

	for (i = 0; i < len; i++)
		src[so + i] = rand32();
	crc = crc32c(src + so, len);
	/* The CPU writes 256 bytes of BAR2; the device checksums them. */
	for (i = 0; i < 256; i++) {
		bytes[i] = rand32();
		mmio_w8(cur->bar2 + dev2 + i, bytes[i]);
	}
	crc2 = crc32c(bytes, 256);

	put_desc(MIGDEV_OP_COPY, 0, len, (u32)(src + so), (u32)(dst + dof), 0);
	put_desc(MIGDEV_OP_FILL, 0, flen, 0, (u32)(fil + fo), pattern);
	put_desc(MIGDEV_OP_CRC32C, 0, len, (u32)(src + so), 0, 0);
	put_desc(MIGDEV_OP_TO_DEV, 0, len, (u32)(src + so), dev, 0);
	put_desc(MIGDEV_OP_FROM_DEV, 0, len, dev, (u32)(back + bo), 0);
	put_desc(MIGDEV_OP_DEV_CRC32C, 0, 256, dev2, 0, 0);
	if (bad)
		put_desc(0x7f, 0, 0, 0, 0, 0);
	put_desc(MIGDEV_OP_DEV_CRC32C, MIGDEV_DESC_F_IRQ, len, dev, 0, 0);
	barrier();
	reg_write(q_reg(MIGDEV_Q_TAIL), cur->tail);

	for (i = first; i != cur->tail; i++)
		wait_slot(i & (RING - 1));
	check_compl("copy: ", first + 0, MIGDEV_STATUS_OK, len, 0);
	check_compl("fill: ", first + 1, MIGDEV_STATUS_OK, flen, 0);
	check_compl("crc32c: ", first + 2, MIGDEV_STATUS_OK, len, crc);
	check_compl("to-dev: ", first + 3, MIGDEV_STATUS_OK, len, 0);
	check_compl("from-dev: ", first + 4, MIGDEV_STATUS_OK, len, 0);
	check_compl("dev-crc32c of CPU-written BAR2: ", first + 5, MIGDEV_STATUS_OK, 256, crc2);
	if (bad)
		check_compl("bad opcode: ", first + 6, MIGDEV_STATUS_BAD_OPCODE, 0, 0);
	check_compl("dev-crc32c after to-dev: ", cur->tail - 1, MIGDEV_STATUS_OK, len, crc);
	dma_bytes += 4 * (u64)len + flen + 256;

	check_buf("copy destination", dst + dof, src + so, len);
	for (i = 0; i < flen; i++)
		if (fil[fo + i] != (u8)(pattern >> (i % 8 * 8)))
			fail_check("fill byte", (u8)(pattern >> (i % 8 * 8)),
				   fil[fo + i] | (u64)i << 32);
	check_buf("from-device destination", back + bo, src + so, len);
	check_bar2("BAR2 after to-device", dev, src + so, len);

	cur->want_irqs++;
	if (bad) {
		cur->want_err_irqs++;
		cur->err_count++;
	}
	wait_irqs();
	st = reg_read(MIGDEV_REG_INT_STATUS);
	if (st != (1U | (bad ? MIGDEV_INT_ERROR : 0)))
		fail_check("interrupt status", 1U | (bad ? MIGDEV_INT_ERROR : 0), st);
	reg_write(MIGDEV_REG_INT_STATUS, st);
	if (bad) {
		if (reg_read(MIGDEV_REG_ERROR_COUNT) != cur->err_count)
			fail_check("error count", cur->err_count,
				   reg_read(MIGDEV_REG_ERROR_COUNT));
		reg_write(MIGDEV_REG_ERROR_STATUS, 1);
	}
	if (stray_irqs)
		fail_check("stray interrupts", 0, stray_irqs);

	clock = read_clock();
	if (clock < cur->last_clock)
		fail_check("clock went back", cur->last_clock, clock);
	cur->last_clock = clock;

	reg_write(MIGDEV_REG_SCRATCH, iter);
	reg_write(MIGDEV_REG_SCRATCH + 4, ~iter);
	cur->last_iter = iter;
}

/* Interrupts of all devices: queue 0 (@err 0) or the error vector (1). */
static u32 irq_total(int err)
{
	u32 i, n = 0;

	for (i = 0; i < nr_devs; i++)
		n += devs[i].irq_count[err ? devs[i].nr_queues : 0];
	return n;
}

/* Set up device @cur at @bdf: BARs, MSI-X, queue 0. */
static void dev_init(u32 bdf, u64 ram_top)
{
	u32 n = cur - devs, ver;

	cur->bdf = bdf;
	cur->ring = rings[n];
	cur->compl = compls[n];
	cur->shadow = shadows[n];
	cur->vec_base = VEC_BASE + n * VEC_STRIDE;
	cur->bar0 = pci_read32(bdf, 0x10) & ~0xfU;
	if (!cur->bar0)
		fatal("BAR0 not assigned");
	/* memory space, bus master, INTx off */
	pci_write16(bdf, 0x04, pci_read16(bdf, 0x04) | 0x0406);
	if (reg_read(MIGDEV_REG_ID) != MIGDEV_ID_MAGIC)
		fatal("BAR0 ID register is not MIGD");
	ver = reg_read(MIGDEV_REG_VERSION);
	cur->nr_queues = reg_read(MIGDEV_REG_NUM_QUEUES);
	cur->nr_vectors = reg_read(MIGDEV_REG_NUM_VECTORS);
	cur->devmem_size = (u64)reg_read(MIGDEV_REG_DEVMEM_SIZE + 4) << 32 |
		      reg_read(MIGDEV_REG_DEVMEM_SIZE);
	if (!cur->nr_queues || cur->nr_queues > MIGDEV_MAX_QUEUES ||
	    cur->nr_vectors != cur->nr_queues + 1 ||
	    cur->nr_vectors > VEC_STRIDE || cur->devmem_size < SHADOW + 4 * MAXLEN)
		fatal("unexpected geometry");
	if (discard_ns && !(reg_read(MIGDEV_REG_FEATURES) &
			    (u32)MIGDEV_FEATURE_DEVMEM_DISCARD))
		fatal("discard_ms= given, but the device cannot discard");
	place_bar2(bdf, cur->devmem_size, ram_top);
	print("migdev-guest: device 00:%02x.%x abi 0x%x queues %u devmem %llu\n",
	      bdf >> 3, bdf & 7, ver, cur->nr_queues, cur->devmem_size);
	print("migdev-guest: bar0 0x%x bar2 0x%x\n", (u32)cur->bar0, (u32)cur->bar2);

	msix_init(bdf);

	reg_write(q_reg(MIGDEV_Q_RING_BASE), (u32)cur->ring);
	reg_write(q_reg(MIGDEV_Q_RING_BASE) + 4, 0);
	reg_write(q_reg(MIGDEV_Q_COMPL_BASE), (u32)cur->compl);
	reg_write(q_reg(MIGDEV_Q_COMPL_BASE) + 4, 0);
	reg_write(q_reg(MIGDEV_Q_RING_SIZE), RING);
	reg_write(q_reg(MIGDEV_Q_CTRL), MIGDEV_Q_CTRL_ENABLE);
	if (!(reg_read(q_reg(MIGDEV_Q_STATUS)) & MIGDEV_Q_STATUS_ENABLED))
		fatal("queue 0 did not enable");
	print("migdev-guest: ready, apic 0x%x, vectors 0x%x..0x%x\n",
	      (u32)lapic_base(), cur->vec_base, cur->vec_base + cur->nr_vectors - 1);
}

/* The progress line; pingpong.py parses it (qemu.py: ITER_RE, DISCARDS_RE). */
static const char progress[] =
	"migdev-guest: iter %u ok clock_ms %llu irqs %u errs %u dma %llu discards %u\n";

/* fill_mb=: device 0's pages past the shadow and the DMA window. */
#define FILL_BASE	(SHADOW + WINDOW)
static u32 fill_pages;

static u32 fill_word(u32 page, u32 i)
{
	return page * 0x9e3779b1u ^ i ^ 0xf111f111u;
}

static void fill_devmem(u32 mb)
{
	u64 room = (devs[0].devmem_size - FILL_BASE) >> 12;
	u32 p, i;

	if (devs[0].devmem_size <= FILL_BASE + 4096)
		fatal("fill_mb=: no device memory past what the workload uses");
	fill_pages = (u64)mb * 256 < room ? mb * 256 : (u32)room;
	for (p = 0; p < fill_pages; p++)
		for (i = 0; i < 1024; i++)
			mmio_w32(devs[0].bar2 + FILL_BASE + p * 4096 + 4 * i,
				 fill_word(p, i));
	print("migdev-guest: wrote %u KiB of device memory\n", fill_pages * 4);
}

/* One page of what fill_devmem() wrote, still there. */
static void fill_check(void)
{
	u32 p = iter % fill_pages, i, got;

	for (i = 0; i < 1024; i++) {
		got = mmio_r32(devs[0].bar2 + FILL_BASE + p * 4096 + 4 * i);
		if (got != fill_word(p, i))
			fail_check("filled device memory", fill_word(p, i),
				   got | (u64)p << 32);
	}
}

#define NODEV_AREA	0x100000
#define NODEV_CHUNK	65536
static u32 nodev_ram[NODEV_AREA / 4] __aligned(4096);

/* The word at @i of the chunk iteration @it wrote. */
static u32 nodev_word(u32 it, u32 i)
{
	return it * 2654435761u ^ i;
}

/*
 * No device: write a chunk of RAM, check the one written the iteration
 * before (it may have crossed a migration), forever.
 */
static void nodev_loop(void)
{
	const u32 words = NODEV_CHUNK / 4, chunks = NODEV_AREA / NODEV_CHUNK;
	u32 i, *c, *prev;

	print("migdev-guest: no device: guest RAM only\n");
	for (;;) {
		iter++;
		c = nodev_ram + (iter % chunks) * words;
		for (i = 0; i < words; i++)
			c[i] = nodev_word(iter, i);
		prev = nodev_ram + ((iter - 1) % chunks) * words;
		for (i = 0; iter > 1 && i < words; i++)
			if (prev[i] != nodev_word(iter - 1, i))
				fail_check("guest RAM", nodev_word(iter - 1, i),
					   prev[i]);
		if (iter % 64 == 0)
			print(progress, iter, 0ULL, 0, 0, 0ULL, 0);
	}
}

void guest_main(u32 mbi)
{
	u64 next_print = 0, ms, ram_top = 0x40000000ULL;
	u32 nodev = 0, fill_mb = 0;
	int bdf;

	serial_init();
	print("migdev-guest: starting\n");
	crc_init();
	idt_init();

	/* multiboot: flags bit 0 says mem_upper (KiB above 1 MiB) is valid */
	if (mbi && (*(u32 *)mbi & 1))
		ram_top = 0x100000ULL + ((u64)((u32 *)mbi)[2] << 10);
	/* bit 2: the command line (after the kernel's name, under QEMU) */
	if (mbi && (*(u32 *)mbi & 4)) {
		const char *cmdline = (const char *)((u32 *)mbi)[4];

		ms = cmdline_u32(cmdline, "discard_ms=");
		discard_ns = ms * 1000000ULL;
		if (ms)
			print("migdev-guest: discarding device memory every %llu ms\n",
			      ms);
		nodev = cmdline_u32(cmdline, "nodev=");
		fill_mb = cmdline_u32(cmdline, "fill_mb=");
	}
	for (bdf = pci_find(0); bdf >= 0 && nr_devs < MAX_DEVS;
	     bdf = pci_find(bdf + 1)) {
		cur = &devs[nr_devs++];
		dev_init(bdf, ram_top);
	}
	if (!nr_devs && nodev)
		nodev_loop();
	if (!nr_devs)
		fatal("no migdev device (1b36:0110) on bus 0");
	if (fill_mb && discard_ns)
		fatal("fill_mb= and discard_ms= together: a discard drops the fill");
	if (fill_mb)
		fill_devmem(fill_mb);

	/* Iteration N drives device N % nr_devs; progress by device 0's clock. */
	for (;;) {
		iter++;
		cur = &devs[iter % nr_devs];
		iteration();
		if (fill_pages && cur == &devs[0])
			fill_check();
		if (devs[0].last_clock >= next_print) {
			ms = devs[0].last_clock;
			div64(&ms, 1000000);
			print(progress, iter, ms, irq_total(0), irq_total(1), dma_bytes,
			      discards);
			next_print = devs[0].last_clock + PRINT_NS;
		}
	}
}
