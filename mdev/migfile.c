// SPDX-License-Identifier: GPL-2.0-only
/*
 * migdev: the migration data_fd files: saving (read) and resuming (write).
 *
 * Saving produces the stream a record at a time into a buffer of one
 * record, from the header through device memory to the device state and
 * END.  In pre-copy it first sends every page ever written (the initial
 * pass) and then, each time it runs dry, collects the dirty bitmap and
 * sends what changed since; with nothing new, read() returns -ENOMSG.
 * Stop-copy takes the device state when the device stops, sends the pages
 * dirtied since the last collection, the state, END, and then read()
 * returns 0.
 *
 * Resuming feeds what is written to the stream decoder; pages go to
 * staging memory and the device state stays in the decoder, so nothing
 * touches the device until RESUMING -> STOP commits a whole, valid stream.
 *
 * Each file has its own lock, so read() may come from any thread; the
 * state machine takes state_mutex and then a file's lock.  Once a file is
 * disabled (the state moved on, a reset, the device closed) every call
 * returns -ENODEV and the file holds nothing of the device.
 */
#include <linux/anon_inodes.h>
#include <linux/bitmap.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/uio.h>
#include <linux/vmalloc.h>

#include "migdev.h"
#include "../emul/stream.h"

#define MIGDEV_REC	sizeof(struct migdev_stream_record)
/* One record at a time: the biggest is a full DEVMEM record. */
#define MIGDEV_SAVE_BUF	(MIGDEV_REC + MIGDEV_STREAM_MAX_PAYLOAD)
/* Bytes one page costs in the stream, records' headers spread over it. */
#define MIGDEV_PAGE_COST \
	(PAGE_SIZE + (MIGDEV_REC + sizeof(struct migdev_rec_devmem)) / \
	 MIGDEV_REC_MAX_PAGES + 1)

/**
 * struct migdev_save - a saving data_fd
 * @filp: the file
 * @mdev: its device; not touched once @disabled
 * @lock: serialises everything below, and reads
 * @wq: poll()
 * @disabled: the file is dead: -ENODEV
 * @precopy: opened in a PRE_COPY state
 * @stop_copy: the device stopped: @state holds its state
 * @buf: the record being handed out
 * @len: bytes in @buf
 * @pos: bytes of @buf already read
 * @header_sent: the stream header went out
 * @cursor: the initial pass's next page index
 * @initial_done: every page present at the start was sent
 * @dirty: collected dirty bits still to send
 * @dirty_pending: bits set in @dirty
 * @stop_collected: the last collection after the device stopped happened
 * @state: the device-state records, taken when the device stopped
 * @state_len: bytes in @state
 * @state_sent: they went out
 * @end_sent: END went out: read() returns 0 from now on
 * @minor: stream minor version emitted
 * @rounds: dirty collections that found pages
 * @sent: bytes read so far
 * @precopy_sent: bytes read before stop-copy
 */
struct migdev_save {
	struct file *filp;
	struct migdev_device *mdev;
	struct mutex lock; /* protects all of this file, see above */
	wait_queue_head_t wq;
	bool disabled;
	bool precopy;
	bool stop_copy;
	u8 *buf;
	size_t len;
	size_t pos;
	bool header_sent;
	u64 cursor;
	bool initial_done;
	unsigned long *dirty;
	u64 dirty_pending;
	bool stop_collected;
	u8 *state;
	size_t state_len;
	bool state_sent;
	bool end_sent;
	u16 minor;
	u32 rounds;
	u64 sent;
	u64 precopy_sent;
};

/**
 * struct migdev_resume - a resuming data_fd
 * @filp: the file
 * @mdev: its device; not touched once @disabled
 * @lock: serialises everything below, and writes
 * @disabled: the file is dead: -ENODEV
 * @dec: the stream decoder
 * @payload: the decoder's payload buffer
 * @bounce: user data on its way to the decoder
 * @staged: device memory as the stream has it so far
 * @received: bytes written so far
 * @logged: the refusal was logged
 */
struct migdev_resume {
	struct file *filp;
	struct migdev_device *mdev;
	struct mutex lock; /* protects all of this file, see above */
	bool disabled;
	struct migdev_stream_dec *dec;
	u8 *payload;
	u8 *bounce;
	struct migdev_devmem staged;
	u64 received;
	bool logged;
};

#define MIGDEV_RESUME_BOUNCE	(64 * 1024)

/* Pages present at or after @from: what the initial pass has left. */
static u64 migdev_pages_from(struct migdev_devmem *dm, u64 from)
{
	struct page *page;
	unsigned long idx;
	u64 n = 0;

	down_read(&dm->lock);
	xa_for_each_start(&dm->pages, idx, page, from)
		n++;
	up_read(&dm->lock);
	return n;
}

/* Put a DEVMEM record for pages [first, first + count) into s->buf. */
static void migdev_save_put_pages(struct migdev_save *s, u64 first, u32 count)
{
	struct migdev_devmem *dm = &s->mdev->emul.devmem;
	struct migdev_rec_devmem *r = (void *)(s->buf + MIGDEV_REC);

	r->first = cpu_to_le64(first);
	r->count = cpu_to_le32(count);
	r->reserved = 0;
	migdev_devmem_read(dm, first << PAGE_SHIFT, r + 1,
			   (size_t)count << PAGE_SHIFT);
	s->len = migdev_stream_put_record(s->buf, MIGDEV_TAG_DEVMEM, 0, NULL,
					  sizeof(*r) + ((size_t)count << PAGE_SHIFT));
	s->pos = 0;
}

/* The next run of present pages from the cursor, up to a record's worth. */
static bool migdev_save_initial(struct migdev_save *s)
{
	struct migdev_devmem *dm = &s->mdev->emul.devmem;
	unsigned long idx = s->cursor, first;
	u32 count = 0;
	struct page *page;

	down_read(&dm->lock);
	page = xa_find(&dm->pages, &idx, ULONG_MAX, XA_PRESENT);
	first = idx;
	while (page && count < MIGDEV_REC_MAX_PAGES && idx == first + count) {
		count++;
		idx++;
		page = xa_find(&dm->pages, &idx, ULONG_MAX, XA_PRESENT);
	}
	up_read(&dm->lock);
	if (!count) {
		s->initial_done = true;
		return false;
	}
	s->cursor = first + count;
	migdev_save_put_pages(s, first, count);
	return true;
}

/* The next run of collected dirty pages. */
static bool migdev_save_dirty(struct migdev_save *s)
{
	unsigned long nbits = migdev_devmem_nr_pfns(&s->mdev->emul.devmem);
	unsigned long first, end;
	u32 count;

	if (!s->dirty_pending)
		return false;
	first = find_first_bit(s->dirty, nbits);
	end = find_next_zero_bit(s->dirty, nbits, first);
	count = min_t(unsigned long, end - first, MIGDEV_REC_MAX_PAGES);
	bitmap_clear(s->dirty, first, count);
	s->dirty_pending -= count;
	migdev_save_put_pages(s, first, count);
	return true;
}

/*
 * Fill s->buf with the next piece of the stream.  Returns 0, -ENOMSG when
 * pre-copy has nothing new, or 1 at the end of the stream.
 */
static int migdev_save_refill(struct migdev_save *s)
{
	struct migdev_devmem *dm = &s->mdev->emul.devmem;

	if (!s->header_sent) {
		struct migdev_emul *e = &s->mdev->emul;

		migdev_stream_header_init((void *)s->buf, e->geom.type_id,
					  e->geom.nr_queues, e->geom.devmem_size,
					  s->minor);
		s->len = sizeof(struct migdev_stream_header);
		s->pos = 0;
		s->header_sent = true;
		return 0;
	}
	if (!s->initial_done && migdev_save_initial(s))
		return 0;
	if (migdev_save_dirty(s))
		return 0;
	if (!s->stop_copy || !s->stop_collected) {
		/* Pages written since the last collection, if saving began
		 * while the device ran; a stopped device changes nothing.
		 */
		if (s->precopy)
			s->dirty_pending = migdev_devmem_collect_dirty(dm, s->dirty);
		if (s->stop_copy)
			s->stop_collected = true;
		if (s->dirty_pending) {
			s->rounds++;
			migdev_save_dirty(s);
			return 0;
		}
		if (!s->stop_copy)
			return -ENOMSG;
	}
	if (!s->state_sent) {
		memcpy(s->buf, s->state, s->state_len);
		s->len = s->state_len;
		s->pos = 0;
		s->state_sent = true;
		return 0;
	}
	if (!s->end_sent) {
		s->len = migdev_stream_put_record(s->buf, MIGDEV_TAG_END, 0,
						  NULL, 0);
		s->pos = 0;
		s->end_sent = true;
		return 0;
	}
	return 1;
}

/* Hand out the stream into @to, as far as it goes now. */
static ssize_t migdev_save_copy(struct migdev_save *s, struct iov_iter *to)
{
	size_t len = iov_iter_count(to);
	ssize_t done = 0;
	int ret = 0;

	mutex_lock(&s->lock);
	if (s->disabled) {
		done = -ENODEV;
		goto out_unlock;
	}
	while (len) {
		size_t n, c;

		if (s->pos == s->len) {
			ret = migdev_save_refill(s);
			if (ret)
				break;
		}
		n = min(len, s->len - s->pos);
		c = copy_to_iter(s->buf + s->pos, n, to);
		s->pos += c;
		done += c;
		len -= c;
		if (c != n) {
			ret = -EFAULT;
			break;
		}
	}
	s->sent += done;
	if (!s->stop_copy)
		s->precopy_sent += done;
	/* Bytes read count; an error or ENOMSG is for the next call. */
	if (!done && ret < 0)
		done = ret;
out_unlock:
	mutex_unlock(&s->lock);
	return done;
}

static ssize_t migdev_save_read(struct file *filp, char __user *ubuf,
				size_t len, loff_t *pos)
{
	struct migdev_save *s = filp->private_data;
	struct iov_iter to;
	int ret;

	if (pos)
		return -ESPIPE;
	ret = import_ubuf(ITER_DEST, ubuf, len, &to);
	if (ret)
		return ret;
	return migdev_save_copy(s, &to);
}

/**
 * migdev_save_read_kernel() - read the stream into kernel memory
 * @s: saving file
 * @buf: destination
 * @len: its size
 *
 * For the v1 migration region, which hands the stream out in segments.
 *
 * Return: bytes read, 0 at the end of the stream, -ENOMSG when pre-copy
 * has nothing new, -ENODEV once the file is disabled.
 */
ssize_t migdev_save_read_kernel(struct migdev_save *s, void *buf, size_t len)
{
	struct kvec kv = { .iov_base = buf, .iov_len = len };
	struct iov_iter to;

	iov_iter_kvec(&to, ITER_DEST, &kv, 1, len);
	return migdev_save_copy(s, &to);
}

/* What saving has left to send, the device state excluded. */
static u64 migdev_save_left_locked(struct migdev_save *s, u64 *initial)
{
	struct migdev_devmem *dm = &s->mdev->emul.devmem;
	u64 init = 0, dirty;

	lockdep_assert_held(&s->lock);
	if (!s->header_sent)
		init += sizeof(struct migdev_stream_header);
	if (!s->initial_done)
		init += migdev_pages_from(dm, s->cursor) * MIGDEV_PAGE_COST;
	dirty = s->dirty_pending * MIGDEV_PAGE_COST;
	if (s->precopy && !s->stop_collected)
		dirty += migdev_devmem_dirty_count(dm) * MIGDEV_PAGE_COST;
	dirty += s->len - s->pos;
	if (initial)
		*initial = init;
	return init + dirty;
}

/**
 * migdev_save_pending() - what is left to read now
 * @s: saving file, state_mutex held
 *
 * In pre-copy the bytes available before the device stops (0: nothing
 * new now); after stop-copy all that is left, the device state and END
 * included, so 0 means the end of the stream.
 *
 * Return: bytes, an estimate.
 */
u64 migdev_save_pending(struct migdev_save *s)
{
	u64 left = 0;

	mutex_lock(&s->lock);
	if (s->disabled)
		goto out_unlock;
	left = migdev_save_left_locked(s, NULL);
	if (s->stop_copy && !s->state_sent)
		left += s->state_len;
	if (s->stop_copy && !s->end_sent)
		left += MIGDEV_REC;
out_unlock:
	mutex_unlock(&s->lock);
	return left;
}

static long migdev_save_ioctl(struct file *filp, unsigned int cmd,
			      unsigned long arg)
{
	struct migdev_save *s = filp->private_data;
	unsigned long minsz = offsetofend(struct vfio_precopy_info, dirty_bytes);
	struct vfio_precopy_info info = {};
	struct migdev_device *mdev;
	u64 initial, all;
	int ret = 0;

	if (cmd != VFIO_MIG_GET_PRECOPY_INFO)
		return -ENOTTY;
	if (copy_from_user(&info, (void __user *)arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz)
		return -EINVAL;

	mutex_lock(&s->lock);
	mdev = s->disabled ? NULL : s->mdev;
	mutex_unlock(&s->lock);
	if (!mdev)
		return -ENODEV;
	mutex_lock(&mdev->state_mutex);
	if (mdev->save != s ||
	    (mdev->mig_state != VFIO_DEVICE_STATE_PRE_COPY &&
	     mdev->mig_state != VFIO_DEVICE_STATE_PRE_COPY_P2P)) {
		ret = -EINVAL;
		goto out_unlock;
	}
	mutex_lock(&s->lock);
	all = migdev_save_left_locked(s, &initial);
	mutex_unlock(&s->lock);
	info.initial_bytes = initial;
	info.dirty_bytes = all - initial;
out_unlock:
	migdev_state_mutex_unlock(mdev);
	if (ret)
		return ret;
	return copy_to_user((void __user *)arg, &info, minsz) ? -EFAULT : 0;
}

static __poll_t migdev_save_poll(struct file *filp, poll_table *wait)
{
	struct migdev_save *s = filp->private_data;
	__poll_t mask = 0;

	poll_wait(filp, &s->wq, wait);
	mutex_lock(&s->lock);
	if (s->disabled)
		mask = EPOLLERR;
	else if (s->stop_copy || migdev_save_left_locked(s, NULL))
		mask = EPOLLIN | EPOLLRDNORM;
	mutex_unlock(&s->lock);
	return mask;
}

static void migdev_save_free(struct migdev_save *s)
{
	kvfree(s->buf);
	kvfree(s->state);
	bitmap_free(s->dirty);
	s->buf = NULL;
	s->state = NULL;
	s->dirty = NULL;
}

static int migdev_save_release(struct inode *inode, struct file *filp)
{
	struct migdev_save *s = filp->private_data;

	migdev_save_free(s);
	mutex_destroy(&s->lock);
	kfree(s);
	return 0;
}

static const struct file_operations migdev_save_fops = {
	.owner = THIS_MODULE,
	.read = migdev_save_read,
	.unlocked_ioctl = migdev_save_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.poll = migdev_save_poll,
	.release = migdev_save_release,
};

/**
 * migdev_save_open() - a data_fd that saves the device
 * @mdev: device, state_mutex held
 * @precopy: saving starts while the device runs
 *
 * Return: the file (one reference for the caller to hand out; the device
 * keeps another in mdev->save), or an ERR_PTR.
 */
struct file *migdev_save_open(struct migdev_device *mdev, bool precopy)
{
	unsigned long nbits = migdev_devmem_nr_pfns(&mdev->emul.devmem);
	struct migdev_save *s;
	struct file *filp;

	lockdep_assert_held(&mdev->state_mutex);
	s = kzalloc(sizeof(*s), GFP_KERNEL_ACCOUNT);
	if (!s)
		return ERR_PTR(-ENOMEM);
	mutex_init(&s->lock);
	init_waitqueue_head(&s->wq);
	s->mdev = mdev;
	s->precopy = precopy;
	s->minor = mdev->mig_minor;
	s->buf = kvmalloc(MIGDEV_SAVE_BUF, GFP_KERNEL_ACCOUNT);
	s->dirty = bitmap_zalloc(nbits, GFP_KERNEL_ACCOUNT);
	if (!s->buf || !s->dirty)
		goto out_free;

	filp = anon_inode_getfile("[migdev-save]", &migdev_save_fops, s, O_RDONLY);
	if (IS_ERR(filp)) {
		migdev_save_free(s);
		kfree(s);
		return filp;
	}
	stream_open(filp->f_inode, filp);
	s->filp = filp;
	/* Everything present goes in the initial pass: start tracking now. */
	if (precopy)
		migdev_devmem_collect_dirty(&mdev->emul.devmem, s->dirty);
	bitmap_zero(s->dirty, nbits);
	get_file(filp);
	mdev->save = s;
	return filp;

out_free:
	migdev_save_free(s);
	kfree(s);
	return ERR_PTR(-ENOMEM);
}

/**
 * migdev_save_stop_copy() - the device stopped: take its state
 * @s: saving file, state_mutex held
 *
 * Return: 0 or -ENOMEM.
 */
int migdev_save_stop_copy(struct migdev_save *s)
{
	struct migdev_device *mdev = s->mdev;
	struct migdev_emul *e = &mdev->emul;
	size_t cap = migdev_emul_state_size(e) + MIGDEV_REC +
		     sizeof(struct migdev_rec_source_info);
	u8 *state = kvmalloc(cap, GFP_KERNEL_ACCOUNT);
	size_t n;

	lockdep_assert_held(&mdev->state_mutex);
	if (!state)
		return -ENOMEM;
	n = migdev_emul_save_state(e, state, migdev_irq_msix_pending(mdev),
				   s->minor);

	mutex_lock(&s->lock);
	if (s->minor >= 1) {
		struct migdev_rec_source_info info = {
			.precopy_rounds = cpu_to_le32(s->rounds),
			.precopy_bytes = cpu_to_le64(s->precopy_sent),
		};

		n += migdev_stream_put_record(state + n, MIGDEV_TAG_SOURCE_INFO,
					      MIGDEV_REC_F_OPTIONAL, &info,
					      sizeof(info));
	}
	s->state = state;
	s->state_len = n;
	s->stop_copy = true;
	mutex_unlock(&s->lock);
	wake_up_interruptible(&s->wq);
	return 0;
}

/**
 * migdev_save_disable() - the file stops working and drops the device
 * @s: saving file, state_mutex held; the device's reference is dropped
 */
void migdev_save_disable(struct migdev_save *s)
{
	mutex_lock(&s->lock);
	s->disabled = true;
	migdev_save_free(s);
	s->len = 0;
	s->pos = 0;
	mutex_unlock(&s->lock);
	wake_up_interruptible(&s->wq);
	fput(s->filp);
}

/**
 * migdev_save_estimate() - VFIO_DEVICE_FEATURE_MIG_DATA_SIZE
 * @mdev: device, state_mutex held
 * @s: its saving file, or NULL
 *
 * Return: the bytes stop-copy still has to send, in any state.
 */
u64 migdev_save_estimate(struct migdev_device *mdev, struct migdev_save *s)
{
	struct migdev_emul *e = &mdev->emul;
	u64 tail = MIGDEV_REC + sizeof(struct migdev_rec_source_info) +
		   MIGDEV_REC;	/* SOURCE_INFO and END */
	u64 left;

	lockdep_assert_held(&mdev->state_mutex);
	if (!s)
		return sizeof(struct migdev_stream_header) +
		       migdev_pages_from(&e->devmem, 0) * MIGDEV_PAGE_COST +
		       migdev_emul_state_size(e) + tail;
	mutex_lock(&s->lock);
	left = migdev_save_left_locked(s, NULL);
	if (!s->state_sent)
		left += migdev_emul_state_size(e) + tail;
	else if (!s->end_sent)
		left += MIGDEV_REC;
	mutex_unlock(&s->lock);
	return left;
}

static int migdev_resume_stage(void *priv, u64 first, u32 count,
			       const void *data)
{
	struct migdev_resume *r = priv;

	return migdev_devmem_stage(&r->staged, first, count, data);
}

/* Feed @n bytes to the decoder; log the first refusal of the session. */
static int migdev_resume_feed_locked(struct migdev_resume *r, const void *buf,
				     size_t n)
{
	int ret;

	lockdep_assert_held(&r->lock);
	ret = migdev_stream_dec_write(r->dec, buf, n);
	if (ret < 0) {
		/* Once per session: later writes get the same error. */
		if (!r->logged)
			dev_err(r->mdev->vdev.dev,
				"migration stream refused at byte %llu: %s\n",
				r->dec->offset, r->dec->err);
		r->logged = true;
		return ret;
	}
	r->received += n;
	return 0;
}

static ssize_t migdev_resume_write(struct file *filp, const char __user *ubuf,
				   size_t len, loff_t *pos)
{
	struct migdev_resume *r = filp->private_data;
	size_t done = 0;
	ssize_t ret = 0;

	if (pos)
		return -ESPIPE;
	mutex_lock(&r->lock);
	if (r->disabled) {
		ret = -ENODEV;
		goto out_unlock;
	}
	while (done < len) {
		size_t n = min_t(size_t, len - done, MIGDEV_RESUME_BOUNCE);

		if (copy_from_user(r->bounce, ubuf + done, n)) {
			ret = -EFAULT;
			break;
		}
		ret = migdev_resume_feed_locked(r, r->bounce, n);
		if (ret < 0)
			break;
		done += n;
	}
out_unlock:
	mutex_unlock(&r->lock);
	return ret < 0 ? ret : done;
}

/**
 * migdev_resume_write_kernel() - feed stream bytes from kernel memory
 * @r: resuming file
 * @buf: the bytes
 * @len: how many
 *
 * For the v1 migration region, which receives the stream in segments.
 * @buf may change meanwhile (the user can map it): it is copied out in
 * pieces, and the decoder sees only the copy.
 *
 * Return: 0, the stream's error, or -ENODEV once the file is disabled.
 */
int migdev_resume_write_kernel(struct migdev_resume *r, const void *buf,
			       size_t len)
{
	const u8 *p = buf;
	int ret;

	mutex_lock(&r->lock);
	ret = r->disabled ? -ENODEV : 0;
	while (!ret && len) {
		size_t n = min_t(size_t, len, MIGDEV_RESUME_BOUNCE);

		/* @buf may be mapped by the user: each byte is read once. */
		memcpy(r->bounce, p, n);
		ret = migdev_resume_feed_locked(r, r->bounce, n);
		p += n;
		len -= n;
	}
	mutex_unlock(&r->lock);
	return ret;
}

static void migdev_resume_free(struct migdev_resume *r)
{
	if (r->dec)
		migdev_devmem_fini(&r->staged);
	kvfree(r->payload);
	kvfree(r->bounce);
	kfree(r->dec);
	r->payload = NULL;
	r->bounce = NULL;
	r->dec = NULL;
}

static int migdev_resume_release(struct inode *inode, struct file *filp)
{
	struct migdev_resume *r = filp->private_data;

	migdev_resume_free(r);
	mutex_destroy(&r->lock);
	kfree(r);
	return 0;
}

static const struct file_operations migdev_resume_fops = {
	.owner = THIS_MODULE,
	.write = migdev_resume_write,
	.release = migdev_resume_release,
};

/**
 * migdev_resume_open() - a data_fd to write a stream into
 * @mdev: device, state_mutex held
 *
 * Return: the file (one reference for the caller, one in mdev->resume),
 * or an ERR_PTR.
 */
struct file *migdev_resume_open(struct migdev_device *mdev)
{
	struct migdev_emul *e = &mdev->emul;
	struct migdev_resume *r;
	struct file *filp;

	lockdep_assert_held(&mdev->state_mutex);
	r = kzalloc(sizeof(*r), GFP_KERNEL_ACCOUNT);
	if (!r)
		return ERR_PTR(-ENOMEM);
	mutex_init(&r->lock);
	r->mdev = mdev;
	r->dec = kzalloc(sizeof(*r->dec), GFP_KERNEL_ACCOUNT);
	r->payload = kvmalloc(MIGDEV_STREAM_MAX_PAYLOAD, GFP_KERNEL_ACCOUNT);
	r->bounce = kvmalloc(MIGDEV_RESUME_BOUNCE, GFP_KERNEL_ACCOUNT);
	if (!r->dec || !r->payload || !r->bounce ||
	    migdev_devmem_init(&r->staged, e->geom.devmem_size, NULL, NULL)) {
		kfree(r->dec);
		r->dec = NULL;
		goto out_free;
	}
	migdev_stream_dec_init(r->dec, e->geom.type_id, e->geom.nr_queues,
			       e->geom.devmem_size, mdev->mig_minor, r->payload);
	r->dec->devmem = migdev_resume_stage;
	r->dec->priv = r;

	filp = anon_inode_getfile("[migdev-resume]", &migdev_resume_fops, r,
				  O_WRONLY);
	if (IS_ERR(filp)) {
		migdev_resume_free(r);
		kfree(r);
		return filp;
	}
	stream_open(filp->f_inode, filp);
	r->filp = filp;
	get_file(filp);
	mdev->resume = r;
	return filp;

out_free:
	migdev_resume_free(r);
	kfree(r);
	return ERR_PTR(-ENOMEM);
}

/**
 * migdev_resume_commit() - apply a whole, valid stream to the device
 * @r: resuming file, state_mutex held
 *
 * Return: 0, or a negative errno with the device unchanged.
 */
int migdev_resume_commit(struct migdev_resume *r)
{
	struct migdev_device *mdev = r->mdev;
	int ret;

	mutex_lock(&r->lock);
	ret = migdev_stream_dec_finish(r->dec);
	if (ret) {
		if (!r->logged)
			dev_err(mdev->vdev.dev,
				"migration stream refused after %llu bytes: %s\n",
				r->received, r->dec->err);
		r->logged = true;
		goto out_unlock;
	}
	ret = migdev_devmem_replace(&mdev->emul.devmem, &r->staged);
	if (ret) {
		dev_err(mdev->vdev.dev,
			"migration: no memory to take %llu pages of device memory\n",
			r->dec->pages);
		goto out_unlock;
	}
	migdev_irq_set_msix_pending(mdev,
				    migdev_emul_load_state(&mdev->emul, r->dec));
	if (r->dec->have_source_info)
		dev_dbg(mdev->vdev.dev,
			"migrated: stream 1.%u, %llu bytes, source pre-copied %llu bytes in %u rounds\n",
			r->dec->minor, r->received,
			le64_to_cpu(r->dec->source_info.precopy_bytes),
			le32_to_cpu(r->dec->source_info.precopy_rounds));
out_unlock:
	mutex_unlock(&r->lock);
	return ret;
}

/**
 * migdev_resume_disable() - the file stops working and drops the device
 * @r: resuming file, state_mutex held; the device's reference is dropped
 */
void migdev_resume_disable(struct migdev_resume *r)
{
	mutex_lock(&r->lock);
	r->disabled = true;
	migdev_resume_free(r);
	mutex_unlock(&r->lock);
	fput(r->filp);
}
