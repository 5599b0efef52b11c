// SPDX-License-Identifier: GPL-2.0-only
/*
 * An instance as a VFIO device: device, region and IRQ info (with short
 * and over-long argsz), registers, reset, reopen, unknown ioctls, and the
 * request to release a device that is being removed.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "dev_fixture.h"

TEST_F(dev, device_info)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };

	ASSERT_EQ(0, ioctl(self->d.fd, VFIO_DEVICE_GET_INFO, &info));
	EXPECT_TRUE(info.flags & VFIO_DEVICE_FLAGS_PCI);
	EXPECT_TRUE(info.flags & VFIO_DEVICE_FLAGS_RESET);
	EXPECT_GE(info.num_regions, VFIO_PCI_NUM_REGIONS);
	EXPECT_EQ(VFIO_PCI_NUM_IRQS, info.num_irqs);
}

/* argsz: too short is refused; longer than the struct is fine. */
TEST_F(dev, device_info_argsz)
{
	struct { struct vfio_device_info info; char pad[64]; } big;
	struct vfio_device_info info;
	unsigned int minsz = offsetof(struct vfio_device_info, num_irqs) + 4;

	memset(&info, 0, sizeof(info));
	info.argsz = minsz - 1;
	EXPECT_EQ(-1, ioctl(self->d.fd, VFIO_DEVICE_GET_INFO, &info));
	EXPECT_EQ(EINVAL, errno);
	info.argsz = 0;
	EXPECT_EQ(-1, ioctl(self->d.fd, VFIO_DEVICE_GET_INFO, &info));
	EXPECT_EQ(EINVAL, errno);
	info.argsz = minsz;
	EXPECT_EQ(0, ioctl(self->d.fd, VFIO_DEVICE_GET_INFO, &info));
	EXPECT_EQ(VFIO_PCI_NUM_IRQS, info.num_irqs);
	memset(&big, 0xa5, sizeof(big));
	big.info.argsz = sizeof(big);
	EXPECT_EQ(0, ioctl(self->d.fd, VFIO_DEVICE_GET_INFO, &big));
	EXPECT_EQ(VFIO_PCI_NUM_IRQS, big.info.num_irqs);
	/* Nothing written past the struct. */
	EXPECT_EQ(0xa5, (unsigned char)big.pad[0]);
	EXPECT_EQ(-1, ioctl(self->d.fd, VFIO_DEVICE_GET_INFO, NULL));
	EXPECT_EQ(EFAULT, errno);
}

TEST_F(dev, region_info)
{
	struct vfio_region_info ri;
	unsigned int i;

	for (i = 0; i < VFIO_PCI_NUM_REGIONS; i++) {
		ASSERT_EQ(0, __mdl_region_info(&self->d, i, &ri));
		EXPECT_EQ(mdl_region_off(i), (off_t)ri.offset);
		switch (i) {
		case VFIO_PCI_CONFIG_REGION_INDEX:
			EXPECT_EQ(MIGDEV_CFG_SIZE, ri.size);
			break;
		case VFIO_PCI_BAR0_REGION_INDEX:
			EXPECT_EQ(MIGDEV_BAR0_SIZE, ri.size);
			break;
		case VFIO_PCI_BAR2_REGION_INDEX:
			EXPECT_EQ(self->devmem_size, ri.size);
			break;
		default:
			EXPECT_EQ(0, ri.size) TH_LOG("region %u", i);
			EXPECT_EQ(0, ri.flags) TH_LOG("region %u", i);
			continue;
		}
		EXPECT_EQ(VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE,
			  ri.flags & (VFIO_REGION_INFO_FLAG_READ |
				      VFIO_REGION_INFO_FLAG_WRITE));
	}
}

TEST_F(dev, region_info_bad)
{
	struct vfio_region_info ri;

	EXPECT_EQ(-EINVAL, __mdl_region_info(&self->d, VFIO_PCI_NUM_REGIONS + 7, &ri));
	EXPECT_EQ(-EINVAL, __mdl_region_info(&self->d, 0xffffffffu, &ri));
	memset(&ri, 0, sizeof(ri));
	ri.argsz = offsetof(struct vfio_region_info, offset);
	ri.index = VFIO_PCI_BAR0_REGION_INDEX;
	EXPECT_EQ(-1, ioctl(self->d.fd, VFIO_DEVICE_GET_REGION_INFO, &ri));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(dev, irq_info)
{
	struct vfio_irq_info ii;
	unsigned int i;

	for (i = 0; i < VFIO_PCI_NUM_IRQS; i++) {
		memset(&ii, 0, sizeof(ii));
		ii.argsz = sizeof(ii);
		ii.index = i;
		ASSERT_EQ(0, ioctl(self->d.fd, VFIO_DEVICE_GET_IRQ_INFO, &ii));
		switch (i) {
		case VFIO_PCI_INTX_IRQ_INDEX:
			EXPECT_EQ(1, ii.count);
			EXPECT_EQ(VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_MASKABLE |
				  VFIO_IRQ_INFO_AUTOMASKED, ii.flags);
			break;
		case VFIO_PCI_MSIX_IRQ_INDEX:
			EXPECT_EQ(self->nr_queues + 1, ii.count);
			EXPECT_TRUE(ii.flags & VFIO_IRQ_INFO_EVENTFD);
			break;
		case VFIO_PCI_ERR_IRQ_INDEX:
		case VFIO_PCI_REQ_IRQ_INDEX:
			EXPECT_EQ(1, ii.count) TH_LOG("index %u", i);
			EXPECT_EQ(VFIO_IRQ_INFO_EVENTFD, ii.flags);
			break;
		default:	/* MSI: not offered */
			EXPECT_EQ(0, ii.count) TH_LOG("index %u", i);
		}
	}
	ii.index = VFIO_PCI_NUM_IRQS;
	EXPECT_EQ(-1, ioctl(self->d.fd, VFIO_DEVICE_GET_IRQ_INFO, &ii));
	EXPECT_EQ(EINVAL, errno);
	ii.index = 0;
	ii.argsz = offsetof(struct vfio_irq_info, count);
	EXPECT_EQ(-1, ioctl(self->d.fd, VFIO_DEVICE_GET_IRQ_INFO, &ii));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(dev, registers)
{
	EXPECT_EQ(MIGDEV_ID_MAGIC, mdl_read32(&self->d, MIGDEV_REG_ID));
	EXPECT_EQ(MIGDEV_ABI_VERSION, mdl_read32(&self->d, MIGDEV_REG_VERSION));
	EXPECT_TRUE(mdl_read64(&self->d, MIGDEV_REG_FEATURES) &
		    MIGDEV_FEATURE_DEVMEM);
	EXPECT_EQ(self->nr_queues, mdl_read32(&self->d, MIGDEV_REG_NUM_QUEUES));
	EXPECT_EQ(self->nr_queues + 1, mdl_read32(&self->d, MIGDEV_REG_NUM_VECTORS));
	EXPECT_EQ(self->devmem_size, mdl_read64(&self->d, MIGDEV_REG_DEVMEM_SIZE));

	/* Read-only registers ignore writes. */
	mdl_write32(&self->d, MIGDEV_REG_ID, 0);
	mdl_write64(&self->d, MIGDEV_REG_DEVMEM_SIZE, 1);
	EXPECT_EQ(MIGDEV_ID_MAGIC, mdl_read32(&self->d, MIGDEV_REG_ID));
	EXPECT_EQ(self->devmem_size, mdl_read64(&self->d, MIGDEV_REG_DEVMEM_SIZE));

	/* Scratch: 64-bit, and its halves as 32-bit registers. */
	mdl_write64(&self->d, MIGDEV_REG_SCRATCH, 0x0123456789abcdefULL);
	EXPECT_EQ(0x0123456789abcdefULL, mdl_read64(&self->d, MIGDEV_REG_SCRATCH));
	EXPECT_EQ(0x89abcdefu, mdl_read32(&self->d, MIGDEV_REG_SCRATCH));
	mdl_write32(&self->d, MIGDEV_REG_SCRATCH + 4, 0xfeedf00d);
	EXPECT_EQ(0xfeedf00d89abcdefULL, mdl_read64(&self->d, MIGDEV_REG_SCRATCH));

	/* A hole reads 0 and ignores writes. */
	mdl_write32(&self->d, 0xf00, 0xffffffff);
	EXPECT_EQ(0, mdl_read32(&self->d, 0xf00));
}

/* VFIO_DEVICE_RESET clears the device but keeps programmed config space. */
TEST_F(dev, reset)
{
	char byte = 0x5a, back = 0;

	mdl_write64(&self->d, MIGDEV_REG_SCRATCH, 42);
	mdl_cfg_write(&self->d, PCI_COMMAND, 2, 0x6);
	mdl_cfg_write(&self->d, 0x10, 4, 0xfebf0000);
	ASSERT_EQ(1, mdl_pwrite(&self->d, VFIO_PCI_BAR2_REGION_INDEX, 100, &byte, 1));
	EXPECT_EQ(4096, mdl_attr(self->uuid, "devmem_resident"));

	ASSERT_EQ(0, ioctl(self->d.fd, VFIO_DEVICE_RESET));
	EXPECT_EQ(0, mdl_read64(&self->d, MIGDEV_REG_SCRATCH));
	EXPECT_EQ(0x6, mdl_cfg_read(&self->d, PCI_COMMAND, 2));
	EXPECT_EQ(0xfebf0000, mdl_cfg_read(&self->d, 0x10, 4));
	ASSERT_EQ(1, mdl_pread(&self->d, VFIO_PCI_BAR2_REGION_INDEX, 100, &back, 1));
	EXPECT_EQ(0, back);
	EXPECT_EQ(0, mdl_attr(self->uuid, "devmem_resident"));
	/* Still works afterwards. */
	mdl_write64(&self->d, MIGDEV_REG_SCRATCH, 7);
	EXPECT_EQ(7, mdl_read64(&self->d, MIGDEV_REG_SCRATCH));
}

/* A new user sees a device fresh from power-on, not the last user's. */
TEST_F(dev, reopen_is_fresh)
{
	char byte = 1;

	mdl_write64(&self->d, MIGDEV_REG_SCRATCH, 99);
	mdl_cfg_write(&self->d, PCI_COMMAND, 2, 0x6);
	ASSERT_EQ(1, mdl_pwrite(&self->d, VFIO_PCI_BAR2_REGION_INDEX, 0, &byte, 1));
	mdl_close(&self->d);
	EXPECT_EQ(0, mdl_attr(self->uuid, "devmem_resident"));
	ASSERT_EQ(0, __mdl_open(self->uuid, &self->d));
	EXPECT_EQ(0, mdl_read64(&self->d, MIGDEV_REG_SCRATCH));
	EXPECT_EQ(0, mdl_cfg_read(&self->d, PCI_COMMAND, 2));
}

/* Only one user at a time: a second open of the same device fails. */
TEST_F(dev, single_user)
{
	struct mdl_dev other;

	EXPECT_NE(0, __mdl_open(self->uuid, &other));
}

TEST_F(dev, unknown_ioctl)
{
	EXPECT_EQ(-1, ioctl(self->d.fd, VFIO_DEVICE_GET_INFO + 50, NULL));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(self->d.fd, _IO('x', 1), NULL));
	EXPECT_EQ(ENOTTY, errno);
	/* The device still answers. */
	EXPECT_EQ(MIGDEV_ID_MAGIC, mdl_read32(&self->d, MIGDEV_REG_ID));
}

static int remove_done;	/* set by remove_thread when the removal returns */

static void *remove_thread(void *uuid)
{
	long ret = __mdl_remove(uuid);

	__atomic_store_n(&remove_done, 1, __ATOMIC_SEQ_CST);
	return (void *)ret;
}

/*
 * Removing an instance that is open asks its user to let go through the
 * request eventfd; the removal finishes when the user closes it.
 */
TEST_F_TIMEOUT(dev, remove_in_use, 60)
{
	int efd = mdl_eventfd();
	pthread_t th;
	void *ret;

	ASSERT_EQ(0, __mdl_set_irq_eventfds(&self->d, VFIO_PCI_REQ_IRQ_INDEX,
					    0, 1, &efd));
	__atomic_store_n(&remove_done, 0, __ATOMIC_SEQ_CST);
	ASSERT_EQ(0, pthread_create(&th, NULL, remove_thread, self->uuid));
	ASSERT_EQ(1, mdl_eventfd_wait(efd, 20000))
		TH_LOG("no device request within 20 s");
	EXPECT_GE(mdl_eventfd_read(efd), 1);
	/* The removal waits, and the device works, until we let go. */
	usleep(200000);
	EXPECT_EQ(0, __atomic_load_n(&remove_done, __ATOMIC_SEQ_CST));
	EXPECT_EQ(MIGDEV_ID_MAGIC, mdl_read32(&self->d, MIGDEV_REG_ID));
	mdl_close(&self->d);
	ASSERT_EQ(0, pthread_join(th, &ret));
	EXPECT_EQ(0, (long)ret);
	EXPECT_FALSE(mdl_exists(self->uuid));
	close(efd);
}

/* Two instances do not share state. */
TEST_F(dev, instances_independent)
{
	char uuid[MDL_UUID_LEN];
	struct mdl_dev other;

	ASSERT_EQ(0, __mdl_create(mdl_parent(), MIGDEV_TYPE_SMALL, uuid));
	ASSERT_EQ(0, __mdl_open(uuid, &other));
	mdl_write64(&self->d, MIGDEV_REG_SCRATCH, 0x1111);
	mdl_write64(&other, MIGDEV_REG_SCRATCH, 0x2222);
	EXPECT_EQ(0x1111, mdl_read64(&self->d, MIGDEV_REG_SCRATCH));
	EXPECT_EQ(0x2222, mdl_read64(&other, MIGDEV_REG_SCRATCH));
	mdl_close(&other);
	EXPECT_EQ(0, __mdl_remove(uuid));
	EXPECT_EQ(0x1111, mdl_read64(&self->d, MIGDEV_REG_SCRATCH));
}

TEST_HARNESS_MAIN
