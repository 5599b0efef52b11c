// SPDX-License-Identifier: GPL-2.0-only
/*
 * VFIO_DEVICE_SET_IRQS: every malformed request refused with nothing
 * changed; INTx and MSI-X eventfds, loopback triggers, masking, and the
 * rule that only one of them is active at a time.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "dev_fixture.h"

#define TRIGGER	VFIO_IRQ_SET_ACTION_TRIGGER
#define NONE	VFIO_IRQ_SET_DATA_NONE
#define BOOL	VFIO_IRQ_SET_DATA_BOOL
#define EVENTFD	VFIO_IRQ_SET_DATA_EVENTFD

TEST_F(dev, set_irqs_bad)
{
	unsigned int nvec = self->nr_queues + 1;
	int32_t fds[MIGDEV_MAX_QUEUES + 2];
	struct vfio_irq_set set;
	int efd = mdl_eventfd();
	unsigned int i;

	for (i = 0; i < MIGDEV_MAX_QUEUES + 2; i++)
		fds[i] = efd;
	/* Index, start and count out of range. */
	EXPECT_EQ(-EINVAL, __mdl_set_irq_eventfds(&self->d, VFIO_PCI_NUM_IRQS, 0, 1, fds));
	EXPECT_EQ(-EINVAL, __mdl_set_irq_eventfds(&self->d, VFIO_PCI_MSIX_IRQ_INDEX,
						  0, nvec + 1, fds));
	EXPECT_EQ(-EINVAL, __mdl_set_irq_eventfds(&self->d, VFIO_PCI_MSIX_IRQ_INDEX,
						  nvec, 1, fds));
	EXPECT_EQ(-EINVAL, __mdl_set_irqs(&self->d, TRIGGER | NONE,
					  VFIO_PCI_MSIX_IRQ_INDEX, 1, 0xffffffff,
					  NULL, 0));
	EXPECT_EQ(-EINVAL, __mdl_set_irq_eventfds(&self->d, VFIO_PCI_INTX_IRQ_INDEX, 0, 2, fds));
	/* Indexes the device does not offer. */
	EXPECT_EQ(-EINVAL, __mdl_set_irq_eventfds(&self->d, VFIO_PCI_MSI_IRQ_INDEX, 0, 1, fds));
	/* The error and request indexes: one trigger, no masking. */
	EXPECT_EQ(-EINVAL, __mdl_set_irq_eventfds(&self->d, VFIO_PCI_ERR_IRQ_INDEX, 0, 2, fds));
	EXPECT_EQ(-ENOTTY, __mdl_set_irqs(&self->d, VFIO_IRQ_SET_ACTION_MASK | NONE,
					  VFIO_PCI_ERR_IRQ_INDEX, 0, 1, NULL, 0));
	/* Two data types, unknown flags. */
	EXPECT_EQ(-EINVAL, __mdl_set_irqs(&self->d, TRIGGER | EVENTFD | BOOL,
					  VFIO_PCI_INTX_IRQ_INDEX, 0, 1, fds, 4));
	EXPECT_EQ(-EINVAL, __mdl_set_irqs(&self->d, TRIGGER | EVENTFD | (1u << 20),
					  VFIO_PCI_INTX_IRQ_INDEX, 0, 1, fds, 4));
	/* Two actions at once is no action migdev knows. */
	EXPECT_EQ(-ENOTTY, __mdl_set_irqs(&self->d, TRIGGER | VFIO_IRQ_SET_ACTION_MASK | NONE,
					  VFIO_PCI_INTX_IRQ_INDEX, 0, 1, NULL, 0));
	/* MSI-X masking needs MSI-X enabled, and takes no eventfd. */
	EXPECT_EQ(-EINVAL, __mdl_set_irqs(&self->d, VFIO_IRQ_SET_ACTION_MASK | NONE,
					  VFIO_PCI_MSIX_IRQ_INDEX, 0, 1, NULL, 0));

	/* Not an eventfd; not an fd. */
	fds[0] = 0;
	EXPECT_NE(0, __mdl_set_irq_eventfds(&self->d, VFIO_PCI_INTX_IRQ_INDEX, 0, 1, fds));
	fds[0] = 9999;
	EXPECT_EQ(-EBADF, __mdl_set_irq_eventfds(&self->d, VFIO_PCI_INTX_IRQ_INDEX, 0, 1, fds));
	fds[0] = -7;
	EXPECT_EQ(-EINVAL, __mdl_set_irq_eventfds(&self->d, VFIO_PCI_INTX_IRQ_INDEX, 0, 1, fds));
	/* argsz shorter than the data it claims. */
	memset(&set, 0, sizeof(set));
	set.argsz = sizeof(set) + 2;
	set.flags = TRIGGER | EVENTFD;
	set.index = VFIO_PCI_INTX_IRQ_INDEX;
	set.count = 1;
	EXPECT_EQ(-1, ioctl(self->d.fd, VFIO_DEVICE_SET_IRQS, &set));
	EXPECT_EQ(EINVAL, errno);
	set.argsz = 4;
	EXPECT_EQ(-1, ioctl(self->d.fd, VFIO_DEVICE_SET_IRQS, &set));
	EXPECT_EQ(EINVAL, errno);
	/* Loopback with nothing set up. */
	EXPECT_EQ(-EINVAL, __mdl_set_irqs(&self->d, TRIGGER | NONE,
					  VFIO_PCI_INTX_IRQ_INDEX, 0, 1, NULL, 0));
	EXPECT_EQ(-EINVAL, __mdl_set_irqs(&self->d, TRIGGER | NONE,
					  VFIO_PCI_REQ_IRQ_INDEX, 0, 1, NULL, 0));
	EXPECT_EQ(-EINVAL, __mdl_set_irqs(&self->d, TRIGGER | NONE,
					  VFIO_PCI_ERR_IRQ_INDEX, 0, 1, NULL, 0));
	/* After all that, nothing is set up and the eventfd never fired. */
	EXPECT_EQ(0, mdl_eventfd_read(efd));
	fds[0] = efd;
	EXPECT_EQ(0, __mdl_set_irq_eventfds(&self->d, VFIO_PCI_MSIX_IRQ_INDEX, 0, 1, fds));
	close(efd);
}

/* A bad fd in the middle of a block leaves the earlier vectors unset. */
TEST_F(dev, msix_block_all_or_nothing)
{
	int a = mdl_eventfd();
	int32_t fds[2] = { a, 9999 };

	if (self->nr_queues < 1)
		SKIP(return, "needs two vectors");
	EXPECT_EQ(-EBADF, __mdl_set_irq_eventfds(&self->d, VFIO_PCI_MSIX_IRQ_INDEX,
						 0, 2, fds));
	/* MSI-X did not get enabled: loopback is refused, INTx is free. */
	EXPECT_EQ(-EINVAL, __mdl_set_irqs(&self->d, TRIGGER | NONE,
					  VFIO_PCI_MSIX_IRQ_INDEX, 0, 1, NULL, 0));
	EXPECT_EQ(0, __mdl_set_irq_eventfds(&self->d, VFIO_PCI_INTX_IRQ_INDEX, 0, 1, &a));
	close(a);
}

TEST_F(dev, msix_loopback)
{
	unsigned int nvec = self->nr_queues + 1, i;
	int32_t fds[MIGDEV_MAX_QUEUES + 1];
	uint8_t bools[MIGDEV_MAX_QUEUES + 1];

	for (i = 0; i < nvec; i++)
		fds[i] = mdl_eventfd();
	ASSERT_EQ(0, __mdl_set_irq_eventfds(&self->d, VFIO_PCI_MSIX_IRQ_INDEX,
					    0, nvec, fds));
	ASSERT_EQ(0, __mdl_set_irqs(&self->d, TRIGGER | NONE,
				    VFIO_PCI_MSIX_IRQ_INDEX, 0, nvec, NULL, 0));
	for (i = 0; i < nvec; i++)
		EXPECT_EQ(1, mdl_eventfd_read(fds[i])) TH_LOG("vector %u", i);

	for (i = 0; i < nvec; i++)
		bools[i] = i & 1;
	ASSERT_EQ(0, __mdl_set_irqs(&self->d, TRIGGER | BOOL,
				    VFIO_PCI_MSIX_IRQ_INDEX, 0, nvec, bools, nvec));
	for (i = 0; i < nvec; i++)
		EXPECT_EQ(i & 1, mdl_eventfd_read(fds[i])) TH_LOG("vector %u", i);

	/* While MSI-X is on, INTx cannot be; MSI-X unmask takes no eventfd. */
	EXPECT_EQ(-EINVAL, __mdl_set_irq_eventfds(&self->d, VFIO_PCI_INTX_IRQ_INDEX,
						  0, 1, fds));
	EXPECT_EQ(-ENOTTY, __mdl_set_irqs(&self->d, VFIO_IRQ_SET_ACTION_UNMASK | EVENTFD,
					  VFIO_PCI_MSIX_IRQ_INDEX, 0, 1, fds, 4));
	/* Unset one vector with -1; the others still fire. */
	fds[0] = -1;
	ASSERT_EQ(0, __mdl_set_irq_eventfds(&self->d, VFIO_PCI_MSIX_IRQ_INDEX,
					    0, 1, fds));
	ASSERT_EQ(0, __mdl_set_irqs(&self->d, TRIGGER | NONE,
				    VFIO_PCI_MSIX_IRQ_INDEX, nvec - 1, 1, NULL, 0));
	EXPECT_EQ(1, mdl_eventfd_read(fds[nvec - 1]));

	/* Disable: count 0, DATA_NONE; then INTx is allowed. */
	ASSERT_EQ(0, __mdl_set_irqs(&self->d, TRIGGER | NONE,
				    VFIO_PCI_MSIX_IRQ_INDEX, 0, 0, NULL, 0));
	fds[0] = fds[1 % nvec];
	EXPECT_EQ(0, __mdl_set_irq_eventfds(&self->d, VFIO_PCI_INTX_IRQ_INDEX,
					    0, 1, fds));
	for (i = 1; i < nvec; i++)
		close(fds[i]);
}

TEST_F(dev, intx_automask)
{
	int efd = mdl_eventfd();
	uint8_t one = 1;

	ASSERT_EQ(0, __mdl_set_irq_eventfds(&self->d, VFIO_PCI_INTX_IRQ_INDEX,
					    0, 1, &efd));
	ASSERT_EQ(0, __mdl_set_irqs(&self->d, TRIGGER | NONE,
				    VFIO_PCI_INTX_IRQ_INDEX, 0, 1, NULL, 0));
	EXPECT_EQ(1, mdl_eventfd_read(efd));
	/* Auto-masked: a second trigger is held back. */
	ASSERT_EQ(0, __mdl_set_irqs(&self->d, TRIGGER | NONE,
				    VFIO_PCI_INTX_IRQ_INDEX, 0, 1, NULL, 0));
	EXPECT_EQ(0, mdl_eventfd_read(efd));
	ASSERT_EQ(0, __mdl_set_irqs(&self->d, VFIO_IRQ_SET_ACTION_UNMASK | NONE,
				    VFIO_PCI_INTX_IRQ_INDEX, 0, 1, NULL, 0));
	ASSERT_EQ(0, __mdl_set_irqs(&self->d, TRIGGER | BOOL,
				    VFIO_PCI_INTX_IRQ_INDEX, 0, 1, &one, 1));
	EXPECT_EQ(1, mdl_eventfd_read(efd));
	/* Explicit mask, then unmask with DATA_BOOL. */
	ASSERT_EQ(0, __mdl_set_irqs(&self->d, VFIO_IRQ_SET_ACTION_UNMASK | BOOL,
				    VFIO_PCI_INTX_IRQ_INDEX, 0, 1, &one, 1));
	ASSERT_EQ(0, __mdl_set_irqs(&self->d, VFIO_IRQ_SET_ACTION_MASK | NONE,
				    VFIO_PCI_INTX_IRQ_INDEX, 0, 1, NULL, 0));
	ASSERT_EQ(0, __mdl_set_irqs(&self->d, TRIGGER | NONE,
				    VFIO_PCI_INTX_IRQ_INDEX, 0, 1, NULL, 0));
	EXPECT_EQ(0, mdl_eventfd_read(efd));
	/* While INTx is on, MSI-X cannot be. */
	EXPECT_EQ(-EINVAL, __mdl_set_irq_eventfds(&self->d, VFIO_PCI_MSIX_IRQ_INDEX,
						  0, 1, &efd));
	ASSERT_EQ(0, __mdl_set_irqs(&self->d, TRIGGER | NONE,
				    VFIO_PCI_INTX_IRQ_INDEX, 0, 0, NULL, 0));
	EXPECT_EQ(0, __mdl_set_irq_eventfds(&self->d, VFIO_PCI_MSIX_IRQ_INDEX,
					    0, 1, &efd));
	close(efd);
}

/* An unmask eventfd (as QEMU with KVM uses) unmasks INTx when signalled. */
TEST_F(dev, intx_unmask_eventfd)
{
	int efd = mdl_eventfd(), unmask = mdl_eventfd(), i;
	uint64_t one = 1;

	ASSERT_EQ(0, __mdl_set_irq_eventfds(&self->d, VFIO_PCI_INTX_IRQ_INDEX,
					    0, 1, &efd));
	i = __mdl_set_irqs(&self->d, VFIO_IRQ_SET_ACTION_UNMASK | EVENTFD,
			   VFIO_PCI_INTX_IRQ_INDEX, 0, 1, &unmask, 4);
	if (i == -ENOTTY)
		SKIP(return, "the kernel has no virqfd (CONFIG_VFIO_VIRQFD)");
	ASSERT_EQ(0, i);
	ASSERT_EQ(0, __mdl_set_irqs(&self->d, TRIGGER | NONE,
				    VFIO_PCI_INTX_IRQ_INDEX, 0, 1, NULL, 0));
	EXPECT_EQ(1, mdl_eventfd_read(efd));
	ASSERT_EQ(8, write(unmask, &one, 8));
	/* The unmask runs from a worker: give it a moment. */
	for (i = 0; i < 100; i++) {
		ASSERT_EQ(0, __mdl_set_irqs(&self->d, TRIGGER | NONE,
					    VFIO_PCI_INTX_IRQ_INDEX, 0, 1, NULL, 0));
		if (mdl_eventfd_wait(efd, 20))
			break;
	}
	EXPECT_EQ(1, mdl_eventfd_read(efd));
	i = -1;
	EXPECT_EQ(0, __mdl_set_irqs(&self->d, VFIO_IRQ_SET_ACTION_UNMASK | EVENTFD,
				    VFIO_PCI_INTX_IRQ_INDEX, 0, 1, &i, 4));
	close(efd);
	close(unmask);
}

/* The request and error indexes each signal their own eventfd only. */
static void signal_loopback(struct __test_metadata *_metadata,
			    struct mdl_dev *d, unsigned int index)
{
	unsigned int other = index == VFIO_PCI_REQ_IRQ_INDEX ?
			     VFIO_PCI_ERR_IRQ_INDEX : VFIO_PCI_REQ_IRQ_INDEX;
	int efd = mdl_eventfd(), efd2 = mdl_eventfd();
	uint8_t yes = 1, no = 0;
	int32_t off = -1;

	ASSERT_EQ(0, __mdl_set_irq_eventfds(d, index, 0, 1, &efd));
	ASSERT_EQ(0, __mdl_set_irq_eventfds(d, other, 0, 1, &efd2));
	ASSERT_EQ(0, __mdl_set_irqs(d, TRIGGER | NONE, index, 0, 1, NULL, 0));
	EXPECT_EQ(1, mdl_eventfd_read(efd));
	EXPECT_EQ(0, __mdl_set_irqs(d, TRIGGER | BOOL, index, 0, 1, &no, 1));
	EXPECT_EQ(0, mdl_eventfd_read(efd));
	EXPECT_EQ(0, __mdl_set_irqs(d, TRIGGER | BOOL, index, 0, 1, &yes, 1));
	EXPECT_EQ(1, mdl_eventfd_read(efd));
	EXPECT_EQ(0, mdl_eventfd_read(efd2));
	/* Count 0 with DATA_NONE tears it down, as -1 does. */
	ASSERT_EQ(0, __mdl_set_irqs(d, TRIGGER | NONE, index, 0, 0, NULL, 0));
	EXPECT_EQ(-EINVAL, __mdl_set_irqs(d, TRIGGER | NONE, index, 0, 1, NULL, 0));
	ASSERT_EQ(0, __mdl_set_irq_eventfds(d, index, 0, 1, &efd));
	ASSERT_EQ(0, __mdl_set_irq_eventfds(d, index, 0, 1, &off));
	EXPECT_EQ(-EINVAL, __mdl_set_irqs(d, TRIGGER | NONE, index, 0, 1, NULL, 0));
	EXPECT_EQ(0, mdl_eventfd_read(efd));
	/* The other index is still set. */
	EXPECT_EQ(0, __mdl_set_irqs(d, TRIGGER | NONE, other, 0, 1, NULL, 0));
	EXPECT_EQ(1, mdl_eventfd_read(efd2));
	close(efd);
	close(efd2);
}

TEST_F(dev, req_loopback)
{
	signal_loopback(_metadata, &self->d, VFIO_PCI_REQ_IRQ_INDEX);
}

TEST_F(dev, err_loopback)
{
	signal_loopback(_metadata, &self->d, VFIO_PCI_ERR_IRQ_INDEX);
}

/* Closing the device drops its eventfds: a new user starts with none. */
TEST_F(dev, close_drops_eventfds)
{
	int efd = mdl_eventfd();

	ASSERT_EQ(0, __mdl_set_irq_eventfds(&self->d, VFIO_PCI_INTX_IRQ_INDEX,
					    0, 1, &efd));
	ASSERT_EQ(0, __mdl_set_irq_eventfds(&self->d, VFIO_PCI_ERR_IRQ_INDEX,
					    0, 1, &efd));
	mdl_close(&self->d);
	ASSERT_EQ(0, __mdl_open(self->uuid, &self->d));
	EXPECT_EQ(-EINVAL, __mdl_set_irqs(&self->d, TRIGGER | NONE,
					  VFIO_PCI_INTX_IRQ_INDEX, 0, 1, NULL, 0));
	EXPECT_EQ(-EINVAL, __mdl_set_irqs(&self->d, TRIGGER | NONE,
					  VFIO_PCI_ERR_IRQ_INDEX, 0, 1, NULL, 0));
	EXPECT_EQ(0, mdl_eventfd_read(efd));
	close(efd);
}

TEST_HARNESS_MAIN
