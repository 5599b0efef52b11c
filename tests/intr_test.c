// SPDX-License-Identifier: GPL-2.0-only
/*
 * Interrupts raised by the DMA engine: exactly one MSI-X edge per
 * completion that asks for one, on its queue's vector; errors on the
 * error vector; masked vectors held pending and delivered once, and so
 * are edges the function may not send (bus mastering off, quiesced or
 * stopped for migration); INTx as a
 * level that follows MIGDEV_REG_INT_STATUS.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "dma_fixture.h"

static void msix_on(struct __test_metadata *_metadata, struct mdl_dev *d,
		    unsigned int nvec, int32_t *fds)
{
	unsigned int i;

	for (i = 0; i < nvec; i++)
		fds[i] = mdl_eventfd();
	ASSERT_EQ(0, __mdl_set_irq_eventfds(d, VFIO_PCI_MSIX_IRQ_INDEX, 0,
					    nvec, fds));
}

TEST_F(dma, one_msix_per_completion)
{
	unsigned int nvec = self->nr_queues + 1, i;
	int32_t fds[MIGDEV_MAX_QUEUES + 1];
	struct migdev_desc bad;
	uint32_t n = 0;

	msix_on(_metadata, &self->d, nvec, fds);
	for (i = 0; i < 30; i++) {
		struct migdev_desc d = mdl_desc(MIGDEV_OP_COPY,
						self->a.iova + i * 64,
						self->b.iova + i * 64, 64,
						i % 3 ? MIGDEV_DESC_F_IRQ : 0);

		n = mdl_post(&self->q, &d);
	}
	mdl_doorbell(&self->q);
	ASSERT_EQ(MIGDEV_STATUS_OK, mdl_wait(&self->q, n, 60000));
	/* 20 of the 30 asked for one. */
	EXPECT_EQ(20, mdl_eventfd_count(fds[0], 20, 5000));
	EXPECT_EQ(0, mdl_eventfd_read(fds[nvec - 1]));
	EXPECT_EQ(1, mdl_read32(&self->d, MIGDEV_REG_INT_STATUS));

	/* An error raises the error vector, once. */
	bad = mdl_desc(77, 0, 0, 0, 0);
	EXPECT_EQ(MIGDEV_STATUS_BAD_OPCODE, mdl_run(&self->q, &bad));
	EXPECT_EQ(1, mdl_eventfd_count(fds[nvec - 1], 1, 5000));
	EXPECT_EQ(0, mdl_eventfd_read(fds[0]));
	EXPECT_EQ(1 | MIGDEV_INT_ERROR, mdl_read32(&self->d, MIGDEV_REG_INT_STATUS));
	mdl_write32(&self->d, MIGDEV_REG_INT_STATUS, 1 | MIGDEV_INT_ERROR);
	EXPECT_EQ(0, mdl_read32(&self->d, MIGDEV_REG_INT_STATUS));
	for (i = 0; i < nvec; i++)
		close(fds[i]);
}

/* Each queue interrupts on its own vector. */
TEST_F(dma, vector_per_queue)
{
	unsigned int nvec = self->nr_queues + 1, i;
	struct mdl_queue qs[MIGDEV_MAX_QUEUES];
	int32_t fds[MIGDEV_MAX_QUEUES + 1];

	mdl_queue_fini(&self->q);
	msix_on(_metadata, &self->d, nvec, fds);
	for (i = 0; i < self->nr_queues; i++) {
		struct migdev_desc d = mdl_desc(MIGDEV_OP_NOP, 0, 0, 0,
						MIGDEV_DESC_F_IRQ);
		unsigned int k;

		ASSERT_EQ(0, __mdl_queue_init(&self->d, i, 8, &qs[i]));
		for (k = 0; k <= i; k++)
			ASSERT_EQ(MIGDEV_STATUS_OK, mdl_run(&qs[i], &d));
	}
	for (i = 0; i < self->nr_queues; i++)
		EXPECT_EQ(i + 1, mdl_eventfd_count(fds[i], i + 1, 5000))
			TH_LOG("queue %u", i);
	EXPECT_EQ(0, mdl_eventfd_read(fds[nvec - 1]));
}

/* A masked vector is held pending (PBA) and delivered once on unmask. */
TEST_F(dma, msix_mask_holds_pending)
{
	unsigned int nvec = self->nr_queues + 1;
	int32_t fds[MIGDEV_MAX_QUEUES + 1];
	struct migdev_desc d = mdl_desc(MIGDEV_OP_NOP, 0, 0, 0, MIGDEV_DESC_F_IRQ);

	msix_on(_metadata, &self->d, nvec, fds);
	ASSERT_EQ(0, __mdl_set_irqs(&self->d, VFIO_IRQ_SET_ACTION_MASK |
				    VFIO_IRQ_SET_DATA_NONE,
				    VFIO_PCI_MSIX_IRQ_INDEX, 0, 1, NULL, 0));
	ASSERT_EQ(MIGDEV_STATUS_OK, mdl_run(&self->q, &d));
	ASSERT_EQ(MIGDEV_STATUS_OK, mdl_run(&self->q, &d));
	usleep(10000);
	EXPECT_EQ(0, mdl_eventfd_read(fds[0]));
	EXPECT_EQ(1, mdl_read32(&self->d, MIGDEV_MSIX_PBA_OFFSET) & 1);
	ASSERT_EQ(0, __mdl_set_irqs(&self->d, VFIO_IRQ_SET_ACTION_UNMASK |
				    VFIO_IRQ_SET_DATA_NONE,
				    VFIO_PCI_MSIX_IRQ_INDEX, 0, 1, NULL, 0));
	EXPECT_EQ(1, mdl_eventfd_read(fds[0]));
	EXPECT_EQ(0, mdl_read32(&self->d, MIGDEV_MSIX_PBA_OFFSET));
	ASSERT_EQ(MIGDEV_STATUS_OK, mdl_run(&self->q, &d));
	EXPECT_EQ(1, mdl_eventfd_count(fds[0], 1, 5000));
}

/*
 * An error the user causes by MMIO (a TAIL past the ring) is recorded at
 * once; its MSI-X edge is a memory write, which a function may not send
 * with bus mastering off, nor while migration holds it quiesced (P2P) or
 * stopped.  The edge is held pending (PBA) and sent once when the device
 * may send again.
 */
TEST_F(dma, error_msix_held_while_device_may_not_send)
{
	static const uint32_t quiet[] = { VFIO_DEVICE_STATE_RUNNING_P2P,
					  VFIO_DEVICE_STATE_STOP };
	unsigned int nvec = self->nr_queues + 1, ev = self->nr_queues, i;
	struct migdev_desc nop = mdl_desc(MIGDEV_OP_NOP, 0, 0, 0, MIGDEV_DESC_F_IRQ);
	int32_t fds[MIGDEV_MAX_QUEUES + 1];

	msix_on(_metadata, &self->d, nvec, fds);
	mdl_bus_master(&self->d, 0);
	mdl_qwrite32(&self->d, 0, MIGDEV_Q_TAIL, 1000);
	EXPECT_EQ(MIGDEV_INT_ERROR, mdl_read32(&self->d, MIGDEV_REG_INT_STATUS));
	EXPECT_EQ(MIGDEV_ERR_RING_OVERRUN, mdl_qread32(&self->d, 0, MIGDEV_Q_ERROR));
	usleep(10000);
	EXPECT_EQ(0, mdl_eventfd_read(fds[ev]));
	EXPECT_EQ(1, mdl_read32(&self->d, MIGDEV_MSIX_PBA_OFFSET) >> ev & 1);
	mdl_bus_master(&self->d, 1);
	EXPECT_EQ(1, mdl_eventfd_count(fds[ev], 1, 5000));
	EXPECT_EQ(0, mdl_read32(&self->d, MIGDEV_MSIX_PBA_OFFSET));

	for (i = 0; i < ARRAY_SIZE(quiet); i++) {
		mdl_qwrite32(&self->d, 0, MIGDEV_Q_CTRL, 0);
		mdl_qwrite32(&self->d, 0, MIGDEV_Q_CTRL, MIGDEV_Q_CTRL_ENABLE);
		mdl_write32(&self->d, MIGDEV_REG_INT_STATUS, MIGDEV_INT_ERROR);
		ASSERT_EQ(0, __mdl_mig_set(&self->d, quiet[i], NULL));
		mdl_qwrite32(&self->d, 0, MIGDEV_Q_TAIL, 1000);
		EXPECT_EQ(MIGDEV_INT_ERROR,
			  mdl_read32(&self->d, MIGDEV_REG_INT_STATUS)) TH_LOG("state %u", quiet[i]);
		usleep(10000);
		EXPECT_EQ(0, mdl_eventfd_read(fds[ev])) TH_LOG("state %u", quiet[i]);
		ASSERT_EQ(0, __mdl_mig_set(&self->d, VFIO_DEVICE_STATE_RUNNING, NULL));
		EXPECT_EQ(1, mdl_eventfd_count(fds[ev], 1, 5000)) TH_LOG("state %u", quiet[i]);
	}
	/* And the device works on. */
	mdl_qwrite32(&self->d, 0, MIGDEV_Q_CTRL, 0);
	mdl_queue_fini(&self->q);
	ASSERT_EQ(0, __mdl_queue_init(&self->d, 0, 64, &self->q));
	EXPECT_EQ(MIGDEV_STATUS_OK, mdl_run(&self->q, &nop));
	EXPECT_EQ(1, mdl_eventfd_count(fds[0], 1, 5000));
	EXPECT_EQ(0, mdl_eventfd_read(fds[ev]));
	for (i = 0; i < nvec; i++)
		close(fds[i]);
}

/* INTx is a level: it fires, auto-masks, and fires again on unmask only
 * while the device still has a cause set.
 */
TEST_F(dma, intx_level)
{
	int efd = mdl_eventfd();
	struct migdev_desc d = mdl_desc(MIGDEV_OP_NOP, 0, 0, 0, MIGDEV_DESC_F_IRQ);
	uint32_t unmask_flags = VFIO_IRQ_SET_ACTION_UNMASK | VFIO_IRQ_SET_DATA_NONE;

	ASSERT_EQ(0, __mdl_set_irq_eventfds(&self->d, VFIO_PCI_INTX_IRQ_INDEX, 0, 1, &efd));
	ASSERT_EQ(MIGDEV_STATUS_OK, mdl_run(&self->q, &d));
	EXPECT_EQ(1, mdl_eventfd_count(efd, 1, 5000));
	EXPECT_TRUE(mdl_cfg_read(&self->d, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	/* Unmask with the cause still set: it fires again. */
	ASSERT_EQ(0, __mdl_set_irqs(&self->d, unmask_flags, VFIO_PCI_INTX_IRQ_INDEX,
				    0, 1, NULL, 0));
	EXPECT_EQ(1, mdl_eventfd_read(efd));
	/* The driver clears the cause, then unmasks: quiet. */
	mdl_write32(&self->d, MIGDEV_REG_INT_STATUS, 1);
	EXPECT_FALSE(mdl_cfg_read(&self->d, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	ASSERT_EQ(0, __mdl_set_irqs(&self->d, unmask_flags, VFIO_PCI_INTX_IRQ_INDEX,
				    0, 1, NULL, 0));
	EXPECT_EQ(0, mdl_eventfd_read(efd));
	/* The next completion fires once more. */
	ASSERT_EQ(MIGDEV_STATUS_OK, mdl_run(&self->q, &d));
	EXPECT_EQ(1, mdl_eventfd_count(efd, 1, 5000));
	/* INTx disabled in the command register: no edge while it is. */
	mdl_write32(&self->d, MIGDEV_REG_INT_STATUS, 1);
	ASSERT_EQ(0, __mdl_set_irqs(&self->d, unmask_flags, VFIO_PCI_INTX_IRQ_INDEX,
				    0, 1, NULL, 0));
	mdl_cfg_write(&self->d, PCI_COMMAND, 2,
		      mdl_cfg_read(&self->d, PCI_COMMAND, 2) | PCI_COMMAND_INTX_DISABLE);
	ASSERT_EQ(MIGDEV_STATUS_OK, mdl_run(&self->q, &d));
	usleep(10000);
	EXPECT_EQ(0, mdl_eventfd_read(efd));
	mdl_cfg_write(&self->d, PCI_COMMAND, 2,
		      mdl_cfg_read(&self->d, PCI_COMMAND, 2) & ~PCI_COMMAND_INTX_DISABLE);
	EXPECT_EQ(1, mdl_eventfd_read(efd));
	close(efd);
}

TEST_HARNESS_MAIN
