// SPDX-License-Identifier: GPL-2.0-only
/*
 * migdev-info [UUID...]: open migdev instances through VFIO and print what
 * they are: PCI identity and capabilities from config space, regions,
 * interrupts, and the device's own registers.  Without arguments, every
 * migdev instance on the system.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "migdev_lib.h"

static const char *size_str(uint64_t n, char *buf, size_t len)
{
	if (n >= (1ULL << 30) && !(n & ((1ULL << 30) - 1)))
		snprintf(buf, len, "%llu GiB", (unsigned long long)(n >> 30));
	else if (n >= (1ULL << 20) && !(n & ((1ULL << 20) - 1)))
		snprintf(buf, len, "%llu MiB", (unsigned long long)(n >> 20));
	else if (n >= 1024 && !(n & 1023))
		snprintf(buf, len, "%llu KiB", (unsigned long long)(n >> 10));
	else
		snprintf(buf, len, "%llu B", (unsigned long long)n);
	return buf;
}

static void print_caps(struct mdl_dev *d)
{
	unsigned int pos = mdl_cfg_read(d, PCI_CAPABILITY_LIST, 1), n = 0;

	printf("  capabilities:");
	while (pos && n++ < 48) {
		unsigned int id = mdl_cfg_read(d, pos, 1);

		switch (id) {
		case PCI_CAP_ID_PM:
			printf(" [%02x] power management", pos);
			break;
		case PCI_CAP_ID_MSIX: {
			uint32_t t = mdl_cfg_read(d, pos + PCI_MSIX_TABLE, 4);

			printf(" [%02x] MSI-X %u vectors, table BAR%u+0x%x",
			       pos, (mdl_cfg_read(d, pos + PCI_MSIX_FLAGS, 2) &
				     PCI_MSIX_FLAGS_QSIZE) + 1,
			       t & PCI_MSIX_TABLE_BIR,
			       t & PCI_MSIX_TABLE_OFFSET);
			break;
		}
		case PCI_CAP_ID_EXP:
			printf(" [%02x] PCI Express endpoint%s", pos,
			       mdl_cfg_read(d, pos + PCI_EXP_DEVCAP, 4) &
			       PCI_EXP_DEVCAP_FLR ? " (FLR)" : "");
			break;
		default:
			printf(" [%02x] id 0x%02x", pos, id);
		}
		pos = mdl_cfg_read(d, pos + PCI_CAP_LIST_NEXT, 1);
		if (pos)
			printf(",");
	}
	printf("\n");
}

static void print_regions(struct mdl_dev *d)
{
	static const char *const names[VFIO_PCI_NUM_REGIONS] = {
		"BAR0", "BAR1", "BAR2", "BAR3", "BAR4", "BAR5", "ROM",
		"config", "VGA",
	};
	struct vfio_region_info ri;
	char buf[32];
	unsigned int i;

	printf("  regions:");
	for (i = 0; i < VFIO_PCI_NUM_REGIONS; i++) {
		if (__mdl_region_info(d, i, &ri) || !ri.size)
			continue;
		printf(" %s %s %s%s;", names[i], size_str(ri.size, buf, sizeof(buf)),
		       ri.flags & VFIO_REGION_INFO_FLAG_READ ? "r" : "",
		       ri.flags & VFIO_REGION_INFO_FLAG_WRITE ? "w" : "");
	}
	printf("\n");
}

static void print_irqs(struct mdl_dev *d)
{
	static const char *const names[VFIO_PCI_NUM_IRQS] = {
		"INTx", "MSI", "MSI-X", "ERR", "REQ",
	};
	struct vfio_irq_info ii;
	unsigned int i;

	printf("  interrupts:");
	for (i = 0; i < VFIO_PCI_NUM_IRQS; i++) {
		memset(&ii, 0, sizeof(ii));
		ii.argsz = sizeof(ii);
		ii.index = i;
		if (ioctl(d->fd, VFIO_DEVICE_GET_IRQ_INFO, &ii) || !ii.count)
			continue;
		printf(" %s x%u%s;", names[i], ii.count,
		       ii.flags & VFIO_IRQ_INFO_AUTOMASKED ? " (automasked)" : "");
	}
	printf("\n");
}

static int info(const char *uuid)
{
	uint32_t ver;
	struct mdl_dev d;
	char buf[32];
	int ret;

	ret = __mdl_open(uuid, &d);
	if (ret) {
		fprintf(stderr, "%s: cannot open through VFIO: %s\n", uuid,
			strerror(-ret));
		return 1;
	}
	printf("%s\n", uuid);
	printf("  PCI %04x:%04x subsystem %04x:%04x class %06x rev %02x\n",
	       mdl_cfg_read(&d, PCI_VENDOR_ID, 2), mdl_cfg_read(&d, PCI_DEVICE_ID, 2),
	       mdl_cfg_read(&d, PCI_SUBSYSTEM_VENDOR_ID, 2),
	       mdl_cfg_read(&d, PCI_SUBSYSTEM_ID, 2),
	       mdl_cfg_read(&d, PCI_CLASS_REVISION, 4) >> 8,
	       mdl_cfg_read(&d, PCI_REVISION_ID, 1));
	print_caps(&d);
	print_regions(&d);
	print_irqs(&d);
	ver = mdl_read32(&d, MIGDEV_REG_VERSION);
	printf("  device: id %s, ABI %u.%u, features 0x%llx, %u DMA queue(s), %s device memory\n",
	       mdl_read32(&d, MIGDEV_REG_ID) == MIGDEV_ID_MAGIC ? "MIGD" : "unknown",
	       ver >> 16, ver & 0xffff,
	       (unsigned long long)mdl_read64(&d, MIGDEV_REG_FEATURES),
	       mdl_read32(&d, MIGDEV_REG_NUM_QUEUES),
	       size_str(mdl_read64(&d, MIGDEV_REG_DEVMEM_SIZE), buf, sizeof(buf)));
	mdl_close(&d);
	return 0;
}

static int is_migdev(const char *uuid)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "/sys/bus/mdev/devices/%s/migdev", uuid);
	return access(path, F_OK) == 0;
}

int main(int argc, char **argv)
{
	struct dirent *e;
	int i, ret = 0, seen = 0;
	DIR *dir;

	if (argc > 1) {
		for (i = 1; i < argc; i++)
			ret |= info(argv[i]);
		return ret;
	}
	dir = opendir("/sys/bus/mdev/devices");
	if (!dir) {
		fprintf(stderr, "no mdev bus: is the mdev module loaded?\n");
		return 1;
	}
	while ((e = readdir(dir))) {
		if (e->d_name[0] == '.' || !is_migdev(e->d_name))
			continue;
		ret |= info(e->d_name);
		seen++;
	}
	closedir(dir);
	if (!seen)
		printf("no migdev instances\n");
	return ret;
}
