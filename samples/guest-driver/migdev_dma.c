// SPDX-License-Identifier: GPL-2.0-only
/*
 * migdev_dma: a Linux guest driver for the migdev device, registered as a
 * dmaengine provider, so that any dmaengine client (Linux's own dmatest,
 * async_tx) drives the device's DMA queues.
 *
 * Each of the device's queues is a memcpy channel.  A transaction is one
 * MIGDEV_OP_COPY descriptor (with an interrupt) in the queue's ring; the
 * completion records come back in ring order, each one on the queue's
 * MSI-X vector, which completes the oldest transactions in order.
 * Errors (a descriptor the device refused) complete the transaction with
 * DMA_TRANS_ABORTED and a log line.  Under QEMU without a vIOMMU, DMA
 * addresses are guest-physical, as the device expects.
 */
#include <linux/dmaengine.h>
#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/io-64-nonatomic-lo-hi.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/spinlock.h>

#include <linux/migdev.h>	/* include/uapi, the device's ABI */

#define MGD_RING	64	/* descriptors per queue */

struct mgd_tx {
	struct dma_async_tx_descriptor txd;
	struct migdev_desc hw;
	u32 status;
	struct list_head node;
};

struct mgd_chan {
	struct dma_chan chan;
	struct mgd_dev *md;
	unsigned int q;
	spinlock_t lock; /* protects everything below */
	struct migdev_desc *ring;
	dma_addr_t ring_dma;
	struct migdev_completion *compl;
	dma_addr_t compl_dma;
	struct mgd_tx *active[MGD_RING];	/* by ring slot */
	u32 tail;				/* next slot to fill */
	u32 head;				/* next slot to complete */
	struct list_head submitted;		/* not in the ring yet */
};

struct mgd_dev {
	struct pci_dev *pdev;
	void __iomem *bar0;
	unsigned int nr_queues;
	struct dma_device dma;
	struct mgd_chan chans[MIGDEV_MAX_QUEUES];
};

static void __iomem *mgd_qreg(struct mgd_chan *mc, unsigned int off)
{
	return mc->md->bar0 + MIGDEV_REG_QUEUE(mc->q) + off;
}

static struct mgd_chan *to_mgd_chan(struct dma_chan *c)
{
	return container_of(c, struct mgd_chan, chan);
}

static dma_cookie_t mgd_tx_submit(struct dma_async_tx_descriptor *txd)
{
	struct mgd_tx *tx = container_of(txd, struct mgd_tx, txd);
	struct mgd_chan *mc = to_mgd_chan(txd->chan);
	struct dma_chan *c = &mc->chan;
	unsigned long flags;
	dma_cookie_t cookie;

	spin_lock_irqsave(&mc->lock, flags);
	cookie = c->cookie + 1;
	if (cookie < DMA_MIN_COOKIE)
		cookie = DMA_MIN_COOKIE;
	c->cookie = cookie;
	txd->cookie = cookie;
	list_add_tail(&tx->node, &mc->submitted);
	spin_unlock_irqrestore(&mc->lock, flags);
	return cookie;
}

static struct dma_async_tx_descriptor *
mgd_prep_memcpy(struct dma_chan *c, dma_addr_t dst, dma_addr_t src,
		size_t len, unsigned long flags)
{
	struct mgd_tx *tx;

	if (!len || len > MIGDEV_MAX_XFER)
		return NULL;
	tx = kzalloc(sizeof(*tx), GFP_NOWAIT);
	if (!tx)
		return NULL;
	tx->hw.opcode = cpu_to_le16(MIGDEV_OP_COPY);
	tx->hw.flags = cpu_to_le16(MIGDEV_DESC_F_IRQ);
	tx->hw.len = cpu_to_le32(len);
	tx->hw.src = cpu_to_le64(src);
	tx->hw.dst = cpu_to_le64(dst);
	dma_async_tx_descriptor_init(&tx->txd, c);
	tx->txd.tx_submit = mgd_tx_submit;
	tx->txd.flags = flags;
	INIT_LIST_HEAD(&tx->node);
	return &tx->txd;
}

/* Move submitted transactions into the ring and ring the doorbell. */
static void mgd_issue_locked(struct mgd_chan *mc)
{
	struct mgd_tx *tx, *n;
	u32 start = mc->tail;

	lockdep_assert_held(&mc->lock);
	list_for_each_entry_safe(tx, n, &mc->submitted, node) {
		u32 slot = mc->tail & (MGD_RING - 1);

		if (mc->tail - mc->head >= MGD_RING)
			break;
		list_del_init(&tx->node);
		tx->hw.cookie = cpu_to_le64(mc->tail);
		mc->compl[slot].status = 0;
		mc->ring[slot] = tx->hw;
		mc->active[slot] = tx;
		mc->tail++;
	}
	if (mc->tail != start) {
		/* Descriptors visible before the doorbell. */
		dma_wmb();
		writel(mc->tail, mgd_qreg(mc, MIGDEV_Q_TAIL));
	}
}

static void mgd_issue_pending(struct dma_chan *c)
{
	struct mgd_chan *mc = to_mgd_chan(c);
	unsigned long flags;

	spin_lock_irqsave(&mc->lock, flags);
	mgd_issue_locked(mc);
	spin_unlock_irqrestore(&mc->lock, flags);
}

static enum dma_status mgd_tx_status(struct dma_chan *c, dma_cookie_t cookie,
				     struct dma_tx_state *state)
{
	struct mgd_chan *mc = to_mgd_chan(c);
	dma_cookie_t used, done;
	unsigned long flags;

	spin_lock_irqsave(&mc->lock, flags);
	used = c->cookie;
	done = c->completed_cookie;
	spin_unlock_irqrestore(&mc->lock, flags);
	if (state) {
		state->last = done;
		state->used = used;
		state->residue = 0;
	}
	return dma_async_is_complete(cookie, done, used);
}

/* Completed transactions, in ring order; callbacks run outside the lock. */
static irqreturn_t mgd_queue_irq(int irq, void *data)
{
	struct mgd_chan *mc = data;
	struct dmaengine_result res;
	struct mgd_tx *tx, *n;
	unsigned long flags;
	LIST_HEAD(done);

	spin_lock_irqsave(&mc->lock, flags);
	while (mc->head != mc->tail) {
		u32 slot = mc->head & (MGD_RING - 1);
		u32 status = le32_to_cpu(READ_ONCE(mc->compl[slot].status));

		if (!status)
			break;
		dma_rmb();
		tx = mc->active[slot];
		mc->active[slot] = NULL;
		mc->head++;
		if (status != MIGDEV_STATUS_OK) {
			dev_err(&mc->md->pdev->dev,
				"queue %u: descriptor %u failed: status %u\n",
				mc->q, mc->head - 1, status);
		}
		tx->status = status;
		mc->chan.completed_cookie = tx->txd.cookie;
		list_add_tail(&tx->node, &done);
	}
	mgd_issue_locked(mc);
	spin_unlock_irqrestore(&mc->lock, flags);

	list_for_each_entry_safe(tx, n, &done, node) {
		res.result = tx->status == MIGDEV_STATUS_OK ? DMA_TRANS_NOERROR :
							      DMA_TRANS_ABORTED;
		res.residue = 0;
		if (tx->txd.callback_result)
			tx->txd.callback_result(tx->txd.callback_param, &res);
		else if (tx->txd.callback)
			tx->txd.callback(tx->txd.callback_param);
		dma_run_dependencies(&tx->txd);
		kfree(tx);
	}
	return IRQ_HANDLED;
}

/*
 * Abort everything on the channel, without callbacks: the device drops its
 * descriptor in flight when the queue is disabled (its ABORTED completion
 * lands in a slot that is cleared again before reuse), and the queue comes
 * back empty, at ring slot 0.  dmatest calls this after every round.
 */
static int mgd_terminate_all(struct dma_chan *c)
{
	struct mgd_chan *mc = to_mgd_chan(c);
	struct mgd_tx *tx, *n;
	unsigned long flags;
	LIST_HEAD(drop);

	spin_lock_irqsave(&mc->lock, flags);
	writel(0, mgd_qreg(mc, MIGDEV_Q_CTRL));
	for (; mc->head != mc->tail; mc->head++) {
		u32 slot = mc->head & (MGD_RING - 1);

		list_add_tail(&mc->active[slot]->node, &drop);
		mc->active[slot] = NULL;
	}
	list_splice_tail_init(&mc->submitted, &drop);
	mc->head = 0;
	mc->tail = 0;
	writel(MIGDEV_Q_CTRL_ENABLE, mgd_qreg(mc, MIGDEV_Q_CTRL));
	spin_unlock_irqrestore(&mc->lock, flags);

	list_for_each_entry_safe(tx, n, &drop, node)
		kfree(tx);
	return 0;
}

/* No completion handler still running for this channel. */
static void mgd_synchronize(struct dma_chan *c)
{
	struct mgd_chan *mc = to_mgd_chan(c);

	synchronize_irq(pci_irq_vector(mc->md->pdev, mc->q));
}

static irqreturn_t mgd_error_irq(int irq, void *data)
{
	struct mgd_dev *md = data;
	u32 st = readl(md->bar0 + MIGDEV_REG_ERROR_STATUS);
	u32 info = readl(md->bar0 + MIGDEV_REG_ERROR_INFO);

	writel(st, md->bar0 + MIGDEV_REG_ERROR_STATUS);
	writel(MIGDEV_INT_ERROR, md->bar0 + MIGDEV_REG_INT_STATUS);
	dev_warn_ratelimited(&md->pdev->dev, "device error %u on queue %u\n",
			     MIGDEV_ERROR_INFO_CODE(info),
			     MIGDEV_ERROR_INFO_QUEUE(info));
	return IRQ_HANDLED;
}

static int mgd_chan_init(struct mgd_dev *md, unsigned int q)
{
	struct mgd_chan *mc = &md->chans[q];
	struct device *dev = &md->pdev->dev;

	mc->md = md;
	mc->q = q;
	spin_lock_init(&mc->lock);
	INIT_LIST_HEAD(&mc->submitted);
	mc->ring = dmam_alloc_coherent(dev, MGD_RING * sizeof(*mc->ring),
				       &mc->ring_dma, GFP_KERNEL);
	mc->compl = dmam_alloc_coherent(dev, MGD_RING * sizeof(*mc->compl),
					&mc->compl_dma, GFP_KERNEL);
	if (!mc->ring || !mc->compl)
		return -ENOMEM;
	lo_hi_writeq(mc->ring_dma, mgd_qreg(mc, MIGDEV_Q_RING_BASE));
	writel(MGD_RING, mgd_qreg(mc, MIGDEV_Q_RING_SIZE));
	lo_hi_writeq(mc->compl_dma, mgd_qreg(mc, MIGDEV_Q_COMPL_BASE));
	writel(MIGDEV_Q_CTRL_ENABLE, mgd_qreg(mc, MIGDEV_Q_CTRL));
	if (!(readl(mgd_qreg(mc, MIGDEV_Q_STATUS)) & MIGDEV_Q_STATUS_ENABLED)) {
		dev_err(dev, "queue %u: the device refused its ring\n", q);
		return -EIO;
	}
	mc->chan.device = &md->dma;
	list_add_tail(&mc->chan.device_node, &md->dma.channels);
	return devm_request_irq(dev, pci_irq_vector(md->pdev, q), mgd_queue_irq,
				0, "migdev_dma", mc);
}

/*
 * Stop the queues before their rings are freed.  An ABORTED record the
 * device could not write at once is still due (STATUS.BUSY); clearing bus
 * mastering drops it, so nothing lands in the freed rings.
 */
static void mgd_disable_queues(struct mgd_dev *md)
{
	unsigned int q;

	for (q = 0; q < md->nr_queues; q++)
		writel(0, md->bar0 + MIGDEV_REG_QUEUE(q) + MIGDEV_Q_CTRL);
	pci_clear_master(md->pdev);
}

static int mgd_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct device *dev = &pdev->dev;
	struct mgd_dev *md;
	unsigned int q;
	u32 ver;
	int ret;

	md = devm_kzalloc(dev, sizeof(*md), GFP_KERNEL);
	if (!md)
		return -ENOMEM;
	md->pdev = pdev;
	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	md->bar0 = pcim_iomap_region(pdev, 0, "migdev_dma");
	if (IS_ERR(md->bar0))
		return PTR_ERR(md->bar0);
	ver = readl(md->bar0 + MIGDEV_REG_VERSION);
	if (readl(md->bar0 + MIGDEV_REG_ID) != MIGDEV_ID_MAGIC ||
	    ver >> 16 != MIGDEV_ABI_MAJOR ||
	    !(lo_hi_readq(md->bar0 + MIGDEV_REG_FEATURES) & MIGDEV_FEATURE_DMA)) {
		dev_err(dev, "not a migdev device with DMA, or ABI %u.%u\n",
			ver >> 16, ver & 0xffff);
		return -ENODEV;
	}
	md->nr_queues = readl(md->bar0 + MIGDEV_REG_NUM_QUEUES);
	if (!md->nr_queues || md->nr_queues > MIGDEV_MAX_QUEUES) {
		dev_err(dev, "%u queues\n", md->nr_queues);
		return -ENODEV;
	}
	ret = dma_set_mask_and_coherent(dev, DMA_BIT_MASK(64));
	if (ret)
		return ret;
	pci_set_master(pdev);
	ret = pci_alloc_irq_vectors(pdev, md->nr_queues + 1,
				    md->nr_queues + 1, PCI_IRQ_MSIX);
	if (ret < 0)
		return ret;

	INIT_LIST_HEAD(&md->dma.channels);
	for (q = 0; q < md->nr_queues; q++) {
		ret = mgd_chan_init(md, q);
		if (ret)
			goto out_queues;
	}
	ret = devm_request_irq(dev, pci_irq_vector(pdev, md->nr_queues),
			       mgd_error_irq, 0, "migdev_dma-err", md);
	if (ret)
		goto out_queues;

	md->dma.dev = dev;
	dma_cap_set(DMA_MEMCPY, md->dma.cap_mask);
	md->dma.device_prep_dma_memcpy = mgd_prep_memcpy;
	md->dma.device_issue_pending = mgd_issue_pending;
	md->dma.device_tx_status = mgd_tx_status;
	md->dma.device_terminate_all = mgd_terminate_all;
	md->dma.device_synchronize = mgd_synchronize;
	md->dma.copy_align = DMAENGINE_ALIGN_1_BYTE;
	ret = dma_async_device_register(&md->dma);
	if (ret)
		goto out_queues;
	pci_set_drvdata(pdev, md);
	dev_info(dev, "migdev ABI %u.%u, %u DMA channels\n", ver >> 16,
		 ver & 0xffff, md->nr_queues);
	return 0;

out_queues:
	mgd_disable_queues(md);
	return ret;
}

static void mgd_remove(struct pci_dev *pdev)
{
	struct mgd_dev *md = pci_get_drvdata(pdev);

	dma_async_device_unregister(&md->dma);
	mgd_disable_queues(md);
}

static const struct pci_device_id mgd_ids[] = {
	{ PCI_DEVICE(MIGDEV_PCI_VENDOR_ID, MIGDEV_PCI_DEVICE_ID) },
	{ }
};
MODULE_DEVICE_TABLE(pci, mgd_ids);

static struct pci_driver mgd_driver = {
	.name = "migdev_dma",
	.id_table = mgd_ids,
	.probe = mgd_probe,
	.remove = mgd_remove,
};
module_pci_driver(mgd_driver);

MODULE_DESCRIPTION("migdev device as a dmaengine memcpy provider (guest driver)");
MODULE_LICENSE("GPL");
