/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * migdev: the pre-flight compatibility check.
 *
 * Before a migration, an orchestrator asks a destination (an instance, or
 * a type before any instance exists) whether it would take a source's
 * device, without starting one: it reads the source's description (the
 * migration_compat attribute) and writes it to the destination's
 * migration_compat_check.  The
 * description is text, one key=value per line, in this order:
 *
 *   migdev-compat=1         the description's format
 *   pci=1b36:0110           the PCI vendor and device IDs
 *   abi=1.2                 the device ABI (MIGDEV_ABI_MAJOR.MINOR)
 *   type=migdev-small       the mdev type
 *   queues=1                DMA queues
 *   devmem=4194304          device memory, bytes
 *   stream=1.4              the stream version it emits
 *   accept=1.0-1.4          the stream versions it takes
 *
 * A destination takes a source whose PCI IDs, type, queues and device
 * memory are its own (else -ENODEV), whose stream version it accepts
 * and whose device ABI is its own major and no newer (else
 * -EPROTONOSUPPORT, as its stream decoder would answer); a description
 * it cannot read is -EINVAL.  The rules are the stream decoder's
 * (emul/stream.c), checked before any stream exists.  Pure: no locks, no
 * allocation; fuzz/ tests it in userspace.
 */
#ifndef MIGDEV_EMUL_PREFLIGHT_H
#define MIGDEV_EMUL_PREFLIGHT_H

#include <linux/types.h>

#define MIGDEV_PREFLIGHT_FORMAT		1
#define MIGDEV_PREFLIGHT_TYPE_LEN	32
/* Room for what migdev_preflight_format() writes, and for a reason. */
#define MIGDEV_PREFLIGHT_MAX		256
#define MIGDEV_PREFLIGHT_WHY		160

/**
 * struct migdev_preflight - what a destination must match
 * @vendor: PCI vendor ID
 * @device: PCI device ID
 * @abi: device ABI, as MIGDEV_ABI_VERSION
 * @type: mdev type name, NUL-terminated
 * @nr_queues: DMA queues
 * @devmem_size: device memory, bytes
 * @major: stream major version
 * @minor: stream minor version it emits
 * @accept_min: oldest stream minor version it takes
 * @accept_max: newest stream minor version it takes
 */
struct migdev_preflight {
	u16 vendor;
	u16 device;
	u32 abi;
	char type[MIGDEV_PREFLIGHT_TYPE_LEN];
	u32 nr_queues;
	u64 devmem_size;
	u16 major;
	u16 minor;
	u16 accept_min;
	u16 accept_max;
};

void migdev_preflight_init(struct migdev_preflight *p, const char *type,
			   u32 nr_queues, u64 devmem_size, u16 minor,
			   u16 accept_max);
int migdev_preflight_format(const struct migdev_preflight *p, char *buf,
			    size_t size);
int migdev_preflight_parse(struct migdev_preflight *p, const char *text,
			   size_t len, char *why, size_t why_size);
int migdev_preflight_accepts(const struct migdev_preflight *dst,
			     const struct migdev_preflight *src, char *why,
			     size_t why_size);
int migdev_preflight_check(const struct migdev_preflight *dst,
			   const char *text, size_t len, char *why,
			   size_t why_size);

#endif /* MIGDEV_EMUL_PREFLIGHT_H */
