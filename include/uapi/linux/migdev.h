/* SPDX-License-Identifier: GPL-2.0-only WITH Linux-syscall-note */
/*
 * migdev: the ABI of the emulated PCI device that every migdev mediated
 * device instance presents.  Everything here crosses the user/kernel or
 * guest/host boundary, so it is little-endian and fixed-width.
 *
 * A guest driver finds the device by its PCI IDs, then reads MIGDEV_REG_ID
 * and MIGDEV_REG_VERSION in BAR0 to tell revisions apart and
 * MIGDEV_REG_FEATURES for optional features.
 */
#ifndef _UAPI_LINUX_MIGDEV_H
#define _UAPI_LINUX_MIGDEV_H

#include <linux/types.h>

/*
 * PCI identity.  The vendor ID is Red Hat's (0x1b36), whose device IDs are
 * handed out by QEMU's docs/specs/pci-ids.rst; like the kernel's mdpy sample
 * (1b36:000f), migdev uses one from that space.  0x0110 is provisional and
 * not registered: treat the pair as a test device.  The subsystem device ID
 * is the type (profile) number, MIGDEV_TYPE_*, plus one.
 */
#define MIGDEV_PCI_VENDOR_ID		0x1b36
#define MIGDEV_PCI_DEVICE_ID		0x0110
#define MIGDEV_PCI_SUBSYS_VENDOR_ID	0x1b36
#define MIGDEV_PCI_REVISION		0x01
/* Class 0x0880: base class system peripheral, sub class "other". */
#define MIGDEV_PCI_CLASS		0x088000

/*
 * Config space: 4096 bytes (PCI Express).  Capabilities, in list order:
 * power management, MSI-X, PCI Express (endpoint, FLR capable).  There are
 * no extended capabilities: the header at 0x100 reads 0.
 */
#define MIGDEV_CFG_SIZE			0x1000
#define MIGDEV_CAP_PM			0x40
#define MIGDEV_CAP_MSIX			0x50
#define MIGDEV_CAP_EXP			0x60

/*
 * BAR0: 32-bit non-prefetchable memory, MIGDEV_BAR0_SIZE bytes, the
 * registers and the MSI-X table and pending-bit array.  Registers are 32 or
 * 64 bits wide and are accessed with naturally aligned 4- or 8-byte
 * accesses; any other width or alignment is refused.  An 8-byte access to a
 * 32-bit register pair reads or writes both.  Offsets without a register
 * read as 0 and ignore writes.
 *
 * BAR2 (with BAR3): 64-bit prefetchable memory, the device memory, whose
 * size is the type's (MIGDEV_REG_DEVMEM_SIZE).  Any width and alignment.
 */
#define MIGDEV_BAR0_SIZE		0x4000
#define MIGDEV_MSIX_TABLE_OFFSET	0x2000
#define MIGDEV_MSIX_PBA_OFFSET		0x3000
#define MIGDEV_MSIX_ENTRY_SIZE		16

/* No type has more DMA queues; MSI-X has one vector per queue plus one. */
#define MIGDEV_MAX_QUEUES		8

/*
 * Register map of BAR0.  RO: read only, writes ignored.  RW: read/write.
 */
/* RO 32: MIGDEV_ID_MAGIC. */
#define MIGDEV_REG_ID			0x000
/* RO 32: (major << 16) | minor of the register ABI. */
#define MIGDEV_REG_VERSION		0x004
/* RO 64: MIGDEV_FEATURE_* bits. */
#define MIGDEV_REG_FEATURES		0x008
/* RO 32: number of DMA queues of this instance. */
#define MIGDEV_REG_NUM_QUEUES		0x010
/* RO 32: number of MSI-X vectors: one per queue plus one for errors. */
#define MIGDEV_REG_NUM_VECTORS		0x014
/* RO 64: size of the device memory (BAR2) in bytes. */
#define MIGDEV_REG_DEVMEM_SIZE		0x018
/* RW 64: scratch register for drivers; cleared by reset. */
#define MIGDEV_REG_SCRATCH		0x020

/* "MIGD" in little-endian byte order. */
#define MIGDEV_ID_MAGIC			0x4447494dU
#define MIGDEV_ABI_MAJOR		1
#define MIGDEV_ABI_MINOR		0
#define MIGDEV_ABI_VERSION		((MIGDEV_ABI_MAJOR << 16) | MIGDEV_ABI_MINOR)

/* The device memory BAR exists (always set in this revision). */
#define MIGDEV_FEATURE_DEVMEM		(1ULL << 0)

/*
 * Types (profiles).  Each mediated device type gives its instances a number
 * of DMA queues and a device-memory size; the parent has a finite total of
 * both, which the types share.
 */
enum migdev_type_id {
	MIGDEV_TYPE_SMALL = 0,
	MIGDEV_TYPE_MEDIUM = 1,
	MIGDEV_TYPE_LARGE = 2,
	MIGDEV_TYPE_XLARGE = 3,
	MIGDEV_NUM_TYPES
};

#endif /* _UAPI_LINUX_MIGDEV_H */
