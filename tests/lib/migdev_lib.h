/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * libmigdev: open a migdev instance through the VFIO group/container uAPI
 * and reach its regions and interrupts.  Shared by the tests and samples.
 *
 * Convention (as in tools/testing/selftests/vfio): __mdl_foo() returns 0 or
 * a negative errno; mdl_foo() does the same work and exits the program with
 * a message on failure.
 */
#ifndef MIGDEV_LIB_H
#define MIGDEV_LIB_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>
#include <linux/migdev.h>

#define MDL_UUID_LEN	37
#define MDL_REGION_SHIFT 40

struct mdl_dev {
	int container;
	int group;
	int fd;
	char uuid[MDL_UUID_LEN];
};

/* sysfs */
int mdl_sysfs_read(const char *path, char *buf, size_t len);
int mdl_sysfs_write(const char *path, const char *val);
long long mdl_sysfs_read_ll(const char *path);
const char *mdl_parent(void);	/* first parent, "migdev0" */
const char *mdl_type_name(unsigned int type);	/* "migdev-small"... */
long long mdl_available(const char *parent, unsigned int type);
void mdl_new_uuid(char uuid[MDL_UUID_LEN]);
int __mdl_create(const char *parent, unsigned int type, char uuid[MDL_UUID_LEN]);
void mdl_create(const char *parent, unsigned int type, char uuid[MDL_UUID_LEN]);
int __mdl_remove(const char *uuid);
void mdl_remove(const char *uuid);
int mdl_exists(const char *uuid);
long long mdl_attr(const char *uuid, const char *attr);

/* VFIO */
int __mdl_open(const char *uuid, struct mdl_dev *dev);
void mdl_open(const char *uuid, struct mdl_dev *dev);
void mdl_close(struct mdl_dev *dev);

static inline off_t mdl_region_off(unsigned int index)
{
	return (off_t)index << MDL_REGION_SHIFT;
}

int __mdl_region_info(struct mdl_dev *dev, unsigned int index,
		      struct vfio_region_info *info);
ssize_t mdl_pread(struct mdl_dev *dev, unsigned int index, uint64_t off,
		  void *buf, size_t len);
ssize_t mdl_pwrite(struct mdl_dev *dev, unsigned int index, uint64_t off,
		   const void *buf, size_t len);

uint32_t mdl_cfg_read(struct mdl_dev *dev, unsigned int off, unsigned int size);
void mdl_cfg_write(struct mdl_dev *dev, unsigned int off, unsigned int size,
		   uint32_t val);
uint32_t mdl_read32(struct mdl_dev *dev, unsigned int off);
uint64_t mdl_read64(struct mdl_dev *dev, unsigned int off);
void mdl_write32(struct mdl_dev *dev, unsigned int off, uint32_t val);
void mdl_write64(struct mdl_dev *dev, unsigned int off, uint64_t val);

int __mdl_set_irq_eventfds(struct mdl_dev *dev, unsigned int index,
			   unsigned int start, unsigned int count,
			   const int32_t *fds);
int __mdl_set_irqs(struct mdl_dev *dev, uint32_t flags, unsigned int index,
		   unsigned int start, unsigned int count, const void *data,
		   size_t data_len);
int mdl_eventfd(void);
/* Counter value of an eventfd, 0 if it has not fired (non-blocking). */
uint64_t mdl_eventfd_read(int fd);
/* Wait up to @ms for the eventfd; 1 if it fired. */
int mdl_eventfd_wait(int fd, int ms);

#endif /* MIGDEV_LIB_H */
