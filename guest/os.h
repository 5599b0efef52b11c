/* SPDX-License-Identifier: GPL-2.0 */
/* migdev-guest: the machine (os.c), as the workload (main.c) uses it. */
#ifndef _MIGDEV_GUEST_OS_H
#define _MIGDEV_GUEST_OS_H

#include <linux/types.h>

static inline void barrier(void)
{
	asm volatile("" : : : "memory");
}

static inline void cpu_relax(void)
{
	asm volatile("pause" : : : "memory");
}

static inline void port_w8(u16 port, u8 v)
{
	asm volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline u8 port_r8(u16 port)
{
	u8 v;

	asm volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline void port_w16(u16 port, u16 v)
{
	asm volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

static inline void port_w32(u16 port, u32 v)
{
	asm volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline u32 port_r32(u16 port)
{
	u32 v;

	asm volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

/* MMIO: one access of exactly this width, never merged or elided. */
static inline u32 mmio_r32(unsigned long addr)
{
	u32 v;

	asm volatile("movl %1, %0" : "=r"(v) : "m"(*(u32 *)addr) : "memory");
	return v;
}

static inline void mmio_w32(unsigned long addr, u32 v)
{
	asm volatile("movl %1, %0" : "=m"(*(u32 *)addr) : "r"(v) : "memory");
}

static inline u8 mmio_r8(unsigned long addr)
{
	u8 v;

	asm volatile("movb %1, %0" : "=q"(v) : "m"(*(u8 *)addr) : "memory");
	return v;
}

static inline void mmio_w8(unsigned long addr, u8 v)
{
	asm volatile("movb %1, %0" : "=m"(*(u8 *)addr) : "q"(v) : "memory");
}

static inline u64 rdmsr(u32 msr)
{
	u32 lo, hi;

	asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return (u64)hi << 32 | lo;
}

static inline void wrmsr(u32 msr, u64 v)
{
	asm volatile("wrmsr" : : "c"(msr), "a"((u32)v), "d"((u32)(v >> 32)));
}

/* *n /= d; returns the remainder (no libgcc for 64-bit division here). */
u32 div64(u64 *n, u32 d);
/* The decimal number after @key in the words of @cmdline; 0 if none. */
u32 cmdline_u32(const char *cmdline, const char *key);

/* The serial console, COM1 at 115200 8N1. */
void serial_init(void);
/* printf for %s %c %u %x %llu %llx, with an optional width and 0 pad. */
void print(const char *fmt, ...);
void __noreturn halt(void);
void __noreturn fatal(const char *what);

void crc_init(void);
u32 crc32c(const u8 *p, u32 len);

/* PCI configuration space of @bdf on bus 0, mechanism #1. */
u32 pci_read32(u32 bdf, u32 off);
void pci_write32(u32 bdf, u32 off, u32 v);
u16 pci_read16(u32 bdf, u32 off);
void pci_write16(u32 bdf, u32 off, u16 v);
/* The offset of capability @id of @bdf, 0 if it has none. */
u32 pci_find_cap(u32 bdf, u8 id);

/* Every vector to guest_interrupt(), the 8259s masked. */
void idt_init(void);
u32 lapic_enable(u8 spurious);
unsigned long lapic_base(void);
void lapic_eoi(void);

#endif
