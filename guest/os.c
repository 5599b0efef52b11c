// SPDX-License-Identifier: GPL-2.0
/*
 * migdev-guest: the small machine the workload (main.c) runs on: a serial
 * console with print(), PCI configuration space (mechanism #1), the IDT
 * and the local APIC, and CRC-32C.  32-bit protected mode, no paging, no
 * libc and no libgcc.
 */
#include <linux/types.h>

#include "guest.h"
#include "os.h"

#define COM1		0x3f8
#define PCI_ADDR	0xcf8
#define PCI_DATA	0xcfc

static u32 crc_table[256];
static u64 idt[256] __aligned(8);
static unsigned long lapic;

/* *n /= d; returns the remainder (no libgcc for 64-bit division here). */
u32 div64(u64 *n, u32 d)
{
	u32 hi = *n >> 32, lo = (u32)*n, qhi, qlo, rem;

	qhi = hi / d;
	hi %= d;
	asm("divl %4" : "=a"(qlo), "=d"(rem) : "a"(lo), "d"(hi), "rm"(d));
	*n = (u64)qhi << 32 | qlo;
	return rem;
}

/* ---- serial console ---- */

u32 cmdline_u32(const char *cmdline, const char *key)
{
	const char *p = cmdline, *k;
	u32 v = 0;

	while (p && *p) {
		/* A word starts at the beginning or after a space. */
		for (k = key; *k && *p == *k; k++)
			p++;
		if (!*k) {
			while (*p >= '0' && *p <= '9')
				v = v * 10 + (u32)(*p++ - '0');
			return v;
		}
		while (*p && *p != ' ')
			p++;
		while (*p == ' ')
			p++;
	}
	return 0;
}

void serial_init(void)
{
	port_w8(COM1 + 1, 0x00);	/* no interrupts */
	port_w8(COM1 + 3, 0x80);	/* DLAB */
	port_w8(COM1 + 0, 0x01);	/* 115200 baud */
	port_w8(COM1 + 1, 0x00);
	port_w8(COM1 + 3, 0x03);	/* 8N1 */
	port_w8(COM1 + 2, 0xc7);	/* FIFO on, cleared */
	port_w8(COM1 + 4, 0x03);	/* DTR, RTS */
}

static void putc(char c)
{
	int n = 100000;

	while (!(port_r8(COM1 + 5) & 0x20) && --n)
		;
	port_w8(COM1, c);
}

static void put_num(u64 v, u32 base, int width, char pad)
{
	char buf[24];
	int i = 0;

	do {
		buf[i++] = "0123456789abcdef"[div64(&v, base)];
	} while (v);
	while (i < width--)
		putc(pad);
	while (i)
		putc(buf[--i]);
}

/* printf for %s %c %u %x %llu %llx, with an optional width and 0 pad. */
void print(const char *fmt, ...)
{
	__builtin_va_list ap;
	const char *s;

	__builtin_va_start(ap, fmt);
	for (; *fmt; fmt++) {
		int width = 0, is64 = 0;
		char pad = ' ';

		if (*fmt != '%') {
			if (*fmt == '\n')
				putc('\r');
			putc(*fmt);
			continue;
		}
		fmt++;
		if (*fmt == '0')
			pad = '0';
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + *fmt++ - '0';
		while (*fmt == 'l') {
			is64 = 1;
			fmt++;
		}
		switch (*fmt) {
		case 's':
			for (s = __builtin_va_arg(ap, const char *); *s; s++)
				putc(*s);
			break;
		case 'c':
			putc(__builtin_va_arg(ap, int));
			break;
		case 'u':
		case 'x':
			put_num(is64 ? __builtin_va_arg(ap, u64) :
				__builtin_va_arg(ap, u32),
				*fmt == 'u' ? 10 : 16, width, pad);
			break;
		default:
			putc('%');
			putc(*fmt);
		}
	}
	__builtin_va_end(ap);
}

void __noreturn halt(void)
{
	for (;;)
		asm volatile("cli; hlt");
}

void __noreturn fatal(const char *what)
{
	print("migdev-guest: FATAL %s\n", what);
	halt();
}

/* ---- CRC-32C ---- */

void crc_init(void)
{
	u32 i, j, c;

	for (i = 0; i < 256; i++) {
		c = i;
		for (j = 0; j < 8; j++)
			c = c & 1 ? (c >> 1) ^ 0x82f63b78 : c >> 1;
		crc_table[i] = c;
	}
}

u32 crc32c(const u8 *p, u32 len)
{
	u32 c = 0xffffffff;

	while (len--)
		c = crc_table[(c ^ *p++) & 0xff] ^ (c >> 8);
	return c ^ 0xffffffff;
}

/* ---- PCI configuration space, mechanism #1 ---- */

static u32 pci_addr(u32 bdf, u32 off)
{
	return 0x80000000 | bdf << 8 | (off & 0xfc);
}

u32 pci_read32(u32 bdf, u32 off)
{
	port_w32(PCI_ADDR, pci_addr(bdf, off));
	return port_r32(PCI_DATA);
}

void pci_write32(u32 bdf, u32 off, u32 v)
{
	port_w32(PCI_ADDR, pci_addr(bdf, off));
	port_w32(PCI_DATA, v);
}

u16 pci_read16(u32 bdf, u32 off)
{
	return pci_read32(bdf, off) >> ((off & 2) * 8);
}

void pci_write16(u32 bdf, u32 off, u16 v)
{
	port_w32(PCI_ADDR, pci_addr(bdf, off));
	port_w16(PCI_DATA + (off & 2), v);
}

u32 pci_find_cap(u32 bdf, u8 id)
{
	u32 pos = pci_read32(bdf, 0x34) & 0xfc;
	int n = 48;

	while (pos && n--) {
		u32 hdr = pci_read32(bdf, pos);

		if ((hdr & 0xff) == id)
			return pos;
		pos = (hdr >> 8) & 0xfc;
	}
	return 0;
}

/* ---- interrupts ---- */

void idt_init(void)
{
	struct {
		u16 limit;
		u32 base;
	} __packed desc = { sizeof(idt) - 1, (u32)idt };
	u32 i, h;

	for (i = 0; i < 256; i++) {
		h = (u32)isr_stubs + i * 16;
		/* present, DPL 0, 32-bit interrupt gate, code selector 0x08 */
		idt[i] = (u64)(h >> 16) << 48 | 0x8e00ULL << 32 |
			 0x08 << 16 | (h & 0xffff);
	}
	asm volatile("lidt %0" : : "m"(desc));
	/* Mask the 8259s: only the local APIC delivers here. */
	port_w8(0x21, 0xff);
	port_w8(0xa1, 0xff);
}

/*
 * Enable the local APIC with @spurious as its spurious vector, accepting
 * every priority.  Returns its ID, for MSI addresses.
 */
u32 lapic_enable(u8 spurious)
{
	lapic = rdmsr(0x1b) & 0xfffff000;
	wrmsr(0x1b, rdmsr(0x1b) | 1 << 11);		/* APIC global enable */
	mmio_w32(lapic + 0xf0, 0x100 | spurious);	/* software enable */
	mmio_w32(lapic + 0x80, 0);			/* TPR: accept all */
	return mmio_r32(lapic + 0x20) >> 24;
}

unsigned long lapic_base(void)
{
	return lapic;
}

void lapic_eoi(void)
{
	mmio_w32(lapic + 0xb0, 0);
}
