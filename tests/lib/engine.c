// SPDX-License-Identifier: GPL-2.0-only
/*
 * libmigdev (see migdev_lib.h): the DMA engine: bus mastering, queues,
 * descriptors, completions.
 */
#include "mdl_internal.h"

void mdl_bus_master(struct mdl_dev *dev, int on)
{
	uint32_t cmd = mdl_cfg_read(dev, PCI_COMMAND, 2);

	if (on)
		cmd |= PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	else
		cmd &= ~PCI_COMMAND_MASTER;
	mdl_cfg_write(dev, PCI_COMMAND, 2, cmd);
}

uint32_t mdl_qread32(struct mdl_dev *dev, unsigned int q, unsigned int reg)
{
	return mdl_read32(dev, MIGDEV_REG_QUEUE(q) + reg);
}

void mdl_qwrite32(struct mdl_dev *dev, unsigned int q, unsigned int reg,
		  uint32_t val)
{
	mdl_write32(dev, MIGDEV_REG_QUEUE(q) + reg, val);
}

void mdl_qwrite64(struct mdl_dev *dev, unsigned int q, unsigned int reg,
		  uint64_t val)
{
	mdl_write64(dev, MIGDEV_REG_QUEUE(q) + reg, val);
}

int __mdl_queue_init(struct mdl_dev *dev, unsigned int index, uint32_t size,
		     struct mdl_queue *q)
{
	int ret;

	memset(q, 0, sizeof(*q));
	q->dev = dev;
	q->index = index;
	q->size = size;
	ret = __mdl_dma_map(dev, size * sizeof(struct migdev_desc), &q->ring);
	if (ret)
		return ret;
	ret = __mdl_dma_map(dev, size * sizeof(struct migdev_completion),
			    &q->compl);
	if (ret) {
		mdl_dma_free(dev, &q->ring);
		return ret;
	}
	q->descs = q->ring.va;
	q->cpl = q->compl.va;
	ret = mdl_queue_disable(dev, index, 5000);
	if (ret) {
		mdl_dma_free(dev, &q->ring);
		mdl_dma_free(dev, &q->compl);
		return ret;
	}
	mdl_qwrite64(dev, index, MIGDEV_Q_RING_BASE, q->ring.iova);
	mdl_qwrite32(dev, index, MIGDEV_Q_RING_SIZE, size);
	mdl_qwrite64(dev, index, MIGDEV_Q_COMPL_BASE, q->compl.iova);
	mdl_qwrite32(dev, index, MIGDEV_Q_CTRL, MIGDEV_Q_CTRL_ENABLE);
	if (!(mdl_qread32(dev, index, MIGDEV_Q_STATUS) & MIGDEV_Q_STATUS_ENABLED))
		return -EIO;
	return 0;
}

int mdl_queue_disable(struct mdl_dev *dev, unsigned int index,
		      unsigned int timeout_ms)
{
	unsigned int i;

	mdl_qwrite32(dev, index, MIGDEV_Q_CTRL, 0);
	for (i = 0; i <= timeout_ms * 10; i++) {
		if (!(mdl_qread32(dev, index, MIGDEV_Q_STATUS) &
		      MIGDEV_Q_STATUS_BUSY))
			return 0;
		usleep(100);
	}
	return -EBUSY;
}

int mdl_wait_in_flight(struct mdl_queue *q, uint32_t n, int timeout_ms)
{
	double end = mdl_now() + timeout_ms / 1000.0;

	do {
		if (mdl_qread32(q->dev, q->index, MIGDEV_Q_STATUS) &
		    MIGDEV_Q_STATUS_BUSY)
			return 1;
		if (mdl_cpl(q, n)->status)
			return 0;
		usleep(100);
	} while (mdl_now() < end);
	return 0;
}

void mdl_queue_init(struct mdl_dev *dev, unsigned int index, uint32_t size,
		    struct mdl_queue *q)
{
	int ret = __mdl_queue_init(dev, index, size, q);

	if (ret)
		mdl_die("setting up queue %u: %s\n", index, strerror(-ret));
}

void mdl_queue_fini(struct mdl_queue *q)
{
	if (!q->dev)
		return;
	if (q->dev->fd >= 0)
		mdl_qwrite32(q->dev, q->index, MIGDEV_Q_CTRL, 0);
	mdl_dma_free(q->dev, &q->ring);
	mdl_dma_free(q->dev, &q->compl);
	q->dev = NULL;
}

struct migdev_desc mdl_desc(uint16_t op, uint64_t src, uint64_t dst,
			    uint32_t len, uint16_t flags)
{
	struct migdev_desc d;

	memset(&d, 0, sizeof(d));
	d.opcode = htole16(op);
	d.flags = htole16(flags);
	d.len = htole32(len);
	d.src = htole64(src);
	d.dst = htole64(dst);
	return d;
}

struct migdev_completion *mdl_cpl(struct mdl_queue *q, uint32_t n)
{
	return &q->cpl[n & (q->size - 1)];
}

uint32_t mdl_post(struct mdl_queue *q, const struct migdev_desc *d)
{
	uint32_t n = q->tail++;

	memset(mdl_cpl(q, n), 0, sizeof(struct migdev_completion));
	q->descs[n & (q->size - 1)] = *d;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return n;
}

void mdl_doorbell(struct mdl_queue *q)
{
	mdl_qwrite32(q->dev, q->index, MIGDEV_Q_TAIL, q->tail);
}

uint32_t mdl_submit(struct mdl_queue *q, const struct migdev_desc *d)
{
	uint32_t n = mdl_post(q, d);

	mdl_doorbell(q);
	return n;
}

uint32_t mdl_wait(struct mdl_queue *q, uint32_t n, int timeout_ms)
{
	uint32_t *st = &mdl_cpl(q, n)->status;
	double end = mdl_now() + timeout_ms / 1000.0;
	unsigned int spins = 0;
	uint32_t v;

	for (;;) {
		v = le32toh(__atomic_load_n(st, __ATOMIC_ACQUIRE));
		if (v)
			return v;
		if (mdl_now() > end)
			return 0;
		if (++spins > 1000)
			usleep(100);
	}
}

uint32_t mdl_run(struct mdl_queue *q, const struct migdev_desc *d)
{
	return mdl_wait(q, mdl_submit(q, d), 60000);
}
