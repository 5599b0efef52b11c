// SPDX-License-Identifier: GPL-2.0-only
/*
 * migdev: the migration data_fd files: saving (read) and resuming (write).
 *
 * Saving hands out the stream the encoder (emul/stream_enc.c) produces a
 * record at a time into a buffer of one record, from the header through
 * device memory to the device state and END.  A read() gets DEVMEM
 * records (from stream 1.4) without that buffer, as many pages in each
 * as it has room for: they go straight from device memory to the user,
 * copied and checksummed in one pass (sumcopy.c), and the record's header
 * after them.  In pre-copy it first sends
 * every page ever written (the initial pass) and then, each time it runs
 * dry, collects the dirty bitmap and sends what changed since; with
 * nothing new, read() returns -ENOMSG.  Stop-copy takes the device state
 * when the device stops and gives it to the encoder, which sends the pages
 * dirtied since the last collection, the state, END; then read() returns
 * 0.
 *
 * Resuming feeds what is written to the stream decoder; pages go to
 * staging memory and the device state stays in the decoder, so nothing
 * touches the device until RESUMING -> STOP commits a whole, valid stream.
 * Where a write() carries whole pages of a DEVMEM record (stream 1.4),
 * they go from the user's buffer straight into their staging pages,
 * copied and checksummed in one pass, and the decoder is told after;
 * the rest goes through a bounce buffer to the decoder.
 *
 * Each file has two locks.  Its lock guards the file's state and is held
 * only briefly, never across a user copy: the state machine takes
 * state_mutex and then a file's lock, so a user buffer that faults slowly
 * must not stall an arc (and every sysfs reader waiting on state_mutex).
 * Its I/O lock serialises read() (or write()) calls and owns the buffer
 * they copy through; it is held across the user copy, taken killably, and
 * the state machine never takes it.  So read() may come from any thread.
 *
 * Lifetime: the file reaches its device (s->mvdev, r->mvdev) only under its
 * lock and while not disabled.  The device disables its files under that
 * lock before it closes (migdev_mig_close()), and it cannot be freed while
 * open, so nothing a data_fd does can touch a device that is gone, however
 * long the user keeps the data_fd after closing the device or removing the
 * instance.  Once a file is disabled (the state moved on, a reset, the
 * device closed) every call returns -ENODEV and the file holds nothing of
 * the device; its buffers go with the file.
 */
#include <linux/anon_inodes.h>
#include <linux/bitmap.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/highmem.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/uio.h>
#include <linux/uuid.h>
#include <linux/vmalloc.h>
#include <linux/xxhash.h>

#include "migdev.h"
#include "migdev_vfio_compat.h"
#include "../emul/stream.h"
#include "trace.h"

/*
 * Device memory travels in stream pages, and is kept (and mapped, and
 * tracked dirty) in host pages: the two must be one.  A 16K or 64K page
 * kernel would need pages split into stream pages here and in the decoder.
 */
static_assert(PAGE_SIZE == MIGDEV_STREAM_PAGE_SIZE,
	      "migdev supports 4 KiB host pages only: PAGE_SIZE must equal the stream's page");

#define MIGDEV_REC	sizeof(struct migdev_stream_record)
/* Bytes one page costs in the stream, records' headers spread over it. */
#define MIGDEV_PAGE_COST \
	(PAGE_SIZE + (MIGDEV_REC + sizeof(struct migdev_rec_devmem)) / \
	 MIGDEV_REC_MAX_PAGES + 1)
/* Bytes one block of opaque state costs: a record of its own. */
#define MIGDEV_OPAQUE_COST	(MIGDEV_REC + MIGDEV_STREAM_OPAQUE_SIZE)

/**
 * struct migdev_save - a saving data_fd
 * @filp: the file
 * @mvdev: its device; touched only under @lock, and not once @disabled
 * @read_lock: serialises read() calls; owns @buf, @len, @pos and @run
 *	       (held across the copy to the user, never by the state
 *	       machine)
 * @lock: protects everything below
 * @wq: poll(); woken when the device dirties device memory, stops, or
 *	the file is disabled
 * @disabled: the file is dead: -ENODEV
 * @enc: the stream's encoder: what goes out, in which order
 * @buf: the record being handed out
 * @len: bytes in @buf
 * @pos: bytes of @buf already read
 * @run: the pages of a DEVMEM record going straight to the user
 * @dirty: the encoder's dirty bitmap
 * @state: the device-state records, taken when the device stopped
 * @sent: bytes read so far
 * @precopy_sent: bytes read before stop-copy
 * @quiesced: the device is in PRE_COPY_P2P (migdev_save_quiesce())
 * @reinits_told: the encoder's restarts VFIO_MIG_GET_PRECOPY_INFO has
 *		  accounted for
 * @reinit_as_dirty: the last of them went out as dirty bytes, not with
 *		     VFIO_PRECOPY_INFO_REINIT
 * @name: the device's name, for tracepoints after it is gone
 */
struct migdev_save {
	struct file *filp;
	struct migdev_device *mvdev;
	struct mutex read_lock; /* serialises readers, owns buf, see above */
	struct mutex lock; /* protects the file's state, see above */
	wait_queue_head_t wq;
	bool disabled;
	struct migdev_stream_enc enc;
	u8 *buf;
	size_t len;
	size_t pos;
	struct page **run;
	unsigned long *dirty;
	u8 *state;
	u64 sent;
	u64 precopy_sent;
	bool quiesced;
	u32 reinits_told;
	bool reinit_as_dirty;
	char name[UUID_STRING_LEN + 1];
};

/* A resume write()'s bounce buffer, and the pages it copies in one go. */
#define MIGDEV_RESUME_BOUNCE	(64 * 1024)
#define MIGDEV_RESUME_DIRECT	64

/**
 * struct migdev_resume - a resuming data_fd
 * @filp: the file
 * @mvdev: its device; touched only under @lock, and not once @disabled
 * @write_lock: serialises write() calls and owns @bounce and @direct
 *		(held across the copy from the user, never by the state
 *		machine)
 * @bounce: user data on its way to the decoder
 * @direct: staging pages a write() copies into itself, held
 * @lock: protects everything below
 * @disabled: the file is dead: -ENODEV
 * @dec: the stream decoder
 * @payload: the decoder's payload buffer
 * @staged: device memory as the stream has it so far
 * @received: bytes written so far
 * @logged: the refusal was logged
 * @name: the device's name, for tracepoints after it is gone
 */
struct migdev_resume {
	struct file *filp;
	struct migdev_device *mvdev;
	struct mutex write_lock; /* serialises writers, owns bounce, direct */
	u8 *bounce;
	struct page *direct[MIGDEV_RESUME_DIRECT];
	struct mutex lock; /* protects the file's state, see above */
	bool disabled;
	struct migdev_stream_dec *dec;
	u8 *payload;
	struct migdev_devmem staged;
	u64 received;
	bool logged;
	char name[UUID_STRING_LEN + 1];
};

/*
 * Fill s->buf with the next piece of the stream.  Returns 0, -ENOMSG when
 * pre-copy has nothing new, or 1 at the end of the stream.
 */
static int migdev_save_refill(struct migdev_save *s)
{
	s->pos = 0;
	return migdev_stream_enc_next(&s->enc, s->buf, &s->len);
}

static void migdev_save_free(struct migdev_save *s)
{
	kvfree(s->buf);
	kvfree(s->state);
	bitmap_free(s->dirty);
	kfree(s->run);
	s->buf = NULL;
	s->state = NULL;
	s->dirty = NULL;
	s->run = NULL;
}

/* The room a read must have for a DEVMEM record of one page. */
#define MIGDEV_SAVE_RUN_MIN	(MIGDEV_STREAM_DEVMEM_HEAD + PAGE_SIZE)

/*
 * The next piece, with the user's buffer @to to fill: a DEVMEM record goes
 * straight to the user (*@run, its pages held in s->run) if the read is a
 * user's, with as many pages as it has room for; anything else, and a
 * record of one page where it has not room for that, in s->buf (so a read
 * is never short, and costs at most a page through the buffer).
 */
static int migdev_save_next(struct migdev_save *s, struct iov_iter *to,
			    struct migdev_stream_run *run)
{
	size_t room = iov_iter_count(to);
	int ret;

	lockdep_assert_held(&s->lock);
	run->count = 0;
	if (s->enc.minor < MIGDEV_STREAM_MINOR_XXH64 || !iter_is_ubuf(to))
		return migdev_save_refill(s);
	s->pos = 0;
	if (room < MIGDEV_SAVE_RUN_MIN)
		return migdev_stream_enc_next_run(&s->enc, s->buf, &s->len,
						  NULL, 1);
	ret = migdev_stream_enc_next_run(&s->enc, s->buf, &s->len, run,
					 (room - MIGDEV_STREAM_DEVMEM_HEAD) >>
					 PAGE_SHIFT);
	if (!ret && run->count)
		migdev_devmem_get_run(&s->mvdev->emul.devmem, run->first,
				      run->count, s->run);
	return ret;
}

/* The encoder's page reader, from the pages a run holds. */
static void migdev_save_run_read(void *priv, u64 first, u32 count, void *buf)
{
	struct page **pages = priv;
	u32 i;

	for (i = 0; i < count; i++, buf += PAGE_SIZE)
		if (pages[i])
			memcpy_from_page(buf, pages[i], 0, PAGE_SIZE);
		else
			memset(buf, 0, PAGE_SIZE);
}

/*
 * A DEVMEM record of @run's pages (held in s->run) to the user: the pages
 * after the headers' room, copied and checksummed in one pass, then the
 * headers.  Returns the record's size, or -EFAULT with the record made in
 * s->buf instead, from the same pages, for the bytes the user could take.
 */
static ssize_t migdev_save_run_to_user(struct migdev_save *s,
				       struct iov_iter *to,
				       const struct migdev_stream_run *run)
{
	struct migdev_stream_devmem_head head;
	u8 __user *ubuf = iter_iov_addr(to);
	size_t size = MIGDEV_STREAM_DEVMEM_HEAD +
		      ((size_t)run->count << PAGE_SHIFT);
	struct xxh64_state st;
	int ret = 0;
	u32 i;

	migdev_stream_devmem_head_init(&head, run->first, run->count);
	xxh64_reset(&st, 0);
	xxh64_update(&st, &head.devmem, sizeof(head.devmem));
	for (i = 0; i < run->count && !ret; i++) {
		u8 __user *dst = ubuf + MIGDEV_STREAM_DEVMEM_HEAD +
				 ((size_t)i << PAGE_SHIFT);
		struct page *page = s->run[i];
		void *src = page ? kmap_local_page(page) :
				   page_address(ZERO_PAGE(0));

		ret = migdev_sumcopy_to_user(&st, dst, src, PAGE_SIZE);
		if (page)
			kunmap_local(src);
	}
	if (!ret) {
		migdev_stream_record_sum(&head.rec, xxh64_digest(&st));
		if (copy_to_user(ubuf, &head, sizeof(head)))
			ret = -EFAULT;
	}
	if (ret) {
		s->len = migdev_stream_put_devmem(s->buf, s->enc.minor,
						  run->first, run->count,
						  migdev_save_run_read, s->run);
		s->pos = 0;
	} else {
		iov_iter_advance(to, size);
	}
	migdev_devmem_put_run(s->run, run->count);
	return ret ? ret : size;
}

/* @n more bytes read: the device's statistics (s->lock held, not disabled). */
static void migdev_save_account_locked(struct migdev_save *s, size_t n)
{
	struct migdev_mig_stats *st = &s->mvdev->mig.stats;

	lockdep_assert_held(&s->lock);
	atomic64_add(n, &st->saved);
	WRITE_ONCE(st->precopy_rounds, s->enc.rounds);
	WRITE_ONCE(st->stopcopy_bytes, s->sent - s->precopy_sent);
}

/*
 * Hand out the stream into @to, as far as it goes now.  The record in
 * s->buf changes only in migdev_save_next(), under read_lock, so it is
 * copied to the user without s->lock; so are a run's pages, which the
 * run holds.
 */
static ssize_t migdev_save_copy(struct migdev_save *s, struct iov_iter *to)
{
	size_t len = iov_iter_count(to);
	ssize_t done = 0;
	int ret = 0;

	if (mutex_lock_killable(&s->read_lock))
		return -EINTR;
	while (len) {
		struct migdev_stream_run run = {};
		size_t n, c;
		ssize_t r;

		mutex_lock(&s->lock);
		if (s->disabled)
			ret = -ENODEV;
		else if (s->pos == s->len)
			ret = migdev_save_next(s, to, &run);
		mutex_unlock(&s->lock);
		if (ret)
			break;

		r = run.count ? migdev_save_run_to_user(s, to, &run) : 0;
		if (r > 0) {
			n = r;
			c = r;
		} else {
			/* Also a run that faulted: it waits in s->buf. */
			n = min(len, s->len - s->pos);
			c = copy_to_iter(s->buf + s->pos, n, to);
			s->pos += c;
		}

		mutex_lock(&s->lock);
		s->sent += c;
		if (!s->enc.stop_copy)
			s->precopy_sent += c;
		if (!s->disabled)
			migdev_save_account_locked(s, c);
		mutex_unlock(&s->lock);
		done += c;
		len -= c;
		if (c != n) {
			ret = -EFAULT;
			break;
		}
	}
	/* A disabled file gives its buffers back now that no reader has them. */
	mutex_lock(&s->lock);
	if (s->disabled)
		migdev_save_free(s);
	mutex_unlock(&s->lock);
	/* Bytes read count; an error or ENOMSG is for the next call. */
	if (!done && ret < 0)
		done = ret;
	trace_migdev_save_read(s->name, len + (done > 0 ? done : 0), done,
			       s->sent);
	mutex_unlock(&s->read_lock);
	return done;
}

/*
 * A fault rule at a data_fd read (faults.c)?  At @point: MIGDEV_FP_READ
 * before the read, MIGDEV_FP_READ_DATA after one that returned @n bytes.
 */
static bool migdev_save_fault(struct migdev_save *s, u32 point, size_t n,
			      struct migdev_fault *f)
{
	bool fired = false;

	mutex_lock(&s->lock);
	if (!s->disabled)
		fired = migdev_fault_check(s->mvdev, point, 0, 0, s->sent - n,
					   f);
	mutex_unlock(&s->lock);
	return fired;
}

/* Change a byte of what a read returned: the stream no longer checks. */
static void migdev_save_corrupt(char __user *ubuf, ssize_t n)
{
	u8 b;

	if (!get_user(b, ubuf + n / 2))
		put_user(b ^ 0x5a, ubuf + n / 2);
}

static ssize_t migdev_save_read(struct file *filp, char __user *ubuf,
				size_t len, loff_t *pos)
{
	struct migdev_save *s = filp->private_data;
	struct migdev_fault f = {};
	struct iov_iter to;
	ssize_t n;
	int ret;

	if (pos)
		return -ESPIPE;
	if (migdev_save_fault(s, MIGDEV_FP_READ, 0, &f)) {
		if (f.action == MIGDEV_FA_EOF)
			return 0;
		if (f.action == MIGDEV_FA_SHORT)
			len = min_t(u64, len, f.arg);
		ret = migdev_fault_act(&f);
		if (ret)
			return ret;
	}
	ret = import_ubuf(ITER_DEST, ubuf, len, &to);
	if (ret)
		return ret;
	n = migdev_save_copy(s, &to);
	if (n > 0 && migdev_save_fault(s, MIGDEV_FP_READ_DATA, n, &f))
		migdev_save_corrupt(ubuf, n);
	return n;
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
	struct migdev_devmem *dm = &s->mvdev->emul.devmem;
	u64 init = 0, dirty;

	lockdep_assert_held(&s->lock);
	/* A discard of device memory since the last look restarts. */
	migdev_stream_enc_sync(&s->enc);
	if (!s->enc.header_sent)
		init += sizeof(struct migdev_stream_header);
	init += DIV_ROUND_UP(migdev_stream_enc_zero_left(&s->enc),
			     MIGDEV_REC_MAX_PAGES) *
		(MIGDEV_REC + sizeof(struct migdev_rec_devmem));
	if (!s->enc.initial_done)
		init += migdev_devmem_count_from(dm, s->enc.cursor) *
			MIGDEV_PAGE_COST;
	dirty = s->enc.dirty_pending * MIGDEV_PAGE_COST;
	if (s->enc.precopy && !s->enc.stop_collected)
		dirty += migdev_devmem_dirty_count(dm) * MIGDEV_PAGE_COST;
	/*
	 * The record being read comes first: after a restart, the reader
	 * gets through it on the way to the new initial data.
	 */
	if (s->enc.reinits && init)
		init += s->len - s->pos;
	else
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
	left += (u64)(s->enc.opaque_blocks - s->enc.opaque_sent) *
		MIGDEV_OPAQUE_COST;
	if (s->enc.stop_copy && !s->enc.state_sent)
		left += s->enc.state_len;
	if (s->enc.stop_copy && !s->enc.end_sent)
		left += MIGDEV_REC;
out_unlock:
	mutex_unlock(&s->lock);
	return left;
}

/*
 * VFIO_MIG_GET_PRECOPY_INFO.  Answered under the file's lock alone: a file
 * that is neither disabled nor stopped belongs to a device in PRE_COPY or
 * PRE_COPY_P2P (leaving those states stops or disables it under this
 * lock), and the device cannot go away while the file is not disabled.
 * It takes no state_mutex, so it never waits for an arc, and it never
 * reaches a device that a racing close and removal freed.
 */
static long migdev_save_ioctl(struct file *filp, unsigned int cmd,
			      unsigned long arg)
{
	struct migdev_save *s = filp->private_data;
	unsigned long minsz = offsetofend(struct vfio_precopy_info, dirty_bytes);
	struct vfio_precopy_info info = {};
	struct migdev_fault f;
	u64 initial, all;
	bool fired;
	int ret = 0;

	if (cmd != VFIO_MIG_GET_PRECOPY_INFO)
		return -ENOTTY;
	if (copy_from_user(&info, (void __user *)arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz)
		return -EINVAL;

	mutex_lock(&s->lock);
	fired = !s->disabled &&
		migdev_fault_check(s->mvdev, MIGDEV_FP_PRECOPY_INFO, 0, 0, 0, &f);
	mutex_unlock(&s->lock);
	ret = fired ? migdev_fault_act(&f) : 0;
	if (ret)
		return ret;

	mutex_lock(&s->lock);
	if (s->disabled) {
		ret = -ENODEV;
	} else if (!s->enc.precopy || s->enc.stop_copy) {
		ret = -EINVAL;	/* not in a PRE_COPY state */
	} else {
		bool v2 = migdev_precopy_info_v2(&s->mvdev->vdev);
		bool reinit = false;

		all = migdev_save_left_locked(s, &initial);
		/*
		 * A discard of device memory (a reconfiguration) restarted the
		 * initial data.  After the opt-in the flags are output, and it
		 * is VFIO_PRECOPY_INFO_REINIT, once, while the user can still
		 * wait for the new initial data.  Not in PRE_COPY_P2P: the
		 * switchover is under way (QEMU 11.1 fails a migration that
		 * reinitialises then), and what the discard brought goes out
		 * in stop-copy as any dirty data would; mlx5 reports no REINIT
		 * there either.  Before the opt-in the flags are reserved and
		 * go back as they came, and initial data only ever shrinks:
		 * the discard is dirty data too.
		 */
		if (s->enc.reinits != s->reinits_told) {
			s->reinits_told = s->enc.reinits;
			s->reinit_as_dirty = !v2 || s->quiesced;
			reinit = !s->reinit_as_dirty;
		}
		if (v2)
			info.flags = reinit ? VFIO_PRECOPY_INFO_REINIT : 0;
		if (s->enc.reinits && s->reinit_as_dirty)
			initial = 0;
		info.initial_bytes = initial;
		info.dirty_bytes = all - initial;
		/* A rule's wrong answer: too low, too high, never done. */
		if (fired && f.action == MIGDEV_FA_SCALE) {
			info.initial_bytes = migdev_fault_scale(initial, f.arg);
			info.dirty_bytes = migdev_fault_scale(all - initial, f.arg);
		} else if (fired && f.action == MIGDEV_FA_DIRTY) {
			info.dirty_bytes += f.arg;
		}
	}
	mutex_unlock(&s->lock);
	trace_migdev_precopy_info(s->name, info.initial_bytes, info.dirty_bytes,
				  info.flags, ret);
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
	else if (s->enc.stop_copy || migdev_save_left_locked(s, NULL))
		mask = EPOLLIN | EPOLLRDNORM;
	mutex_unlock(&s->lock);
	return mask;
}

static int migdev_save_release(struct inode *inode, struct file *filp)
{
	struct migdev_save *s = filp->private_data;

	migdev_save_free(s);
	mutex_destroy(&s->lock);
	mutex_destroy(&s->read_lock);
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
 * migdev_save_set_wq() - which poll() queue device memory wakes
 * @mvdev: device
 * @wq: the pre-copy data_fd's queue, or NULL
 *
 * The queue is the file's, and the file outlives the pointer: it is
 * cleared in migdev_save_disable() before the device lets go of the file.
 */
static void migdev_save_set_wq(struct migdev_device *mvdev,
			       wait_queue_head_t *wq)
{
	spin_lock(&mvdev->mig.save_wq_lock);
	mvdev->mig.save_wq = wq;
	spin_unlock(&mvdev->mig.save_wq_lock);
}

/**
 * migdev_save_open() - a data_fd that saves the device
 * @mvdev: device, state_mutex held
 * @precopy: saving starts while the device runs
 *
 * Return: the file (one reference for the caller to hand out; the device
 * keeps another in mvdev->mig.save), or an ERR_PTR.
 */
struct file *migdev_save_open(struct migdev_device *mvdev, bool precopy)
{
	unsigned long nbits = migdev_devmem_nr_pfns(&mvdev->emul.devmem);
	struct migdev_save *s;
	struct file *filp;

	lockdep_assert_held(&mvdev->mig.state_mutex);
	s = kzalloc(sizeof(*s), GFP_KERNEL_ACCOUNT);
	if (!s)
		return ERR_PTR(-ENOMEM);
	mutex_init(&s->read_lock);
	mutex_init(&s->lock);
	init_waitqueue_head(&s->wq);
	s->mvdev = mvdev;
	strscpy(s->name, dev_name(mvdev->vdev.dev));
	s->buf = kvmalloc(MIGDEV_STREAM_ENC_BUF, GFP_KERNEL_ACCOUNT);
	s->run = kcalloc(MIGDEV_REC_MAX_PAGES, sizeof(*s->run),
			 GFP_KERNEL_ACCOUNT);
	s->dirty = bitmap_zalloc(nbits, GFP_KERNEL_ACCOUNT);
	if (!s->buf || !s->run || !s->dirty)
		goto out_free;
	migdev_stream_enc_init(&s->enc, &migdev_devmem_src_ops,
			       &mvdev->emul.devmem, &mvdev->emul.geom,
			       mvdev->mig.minor, precopy, s->dirty);

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
		migdev_devmem_collect_dirty(&mvdev->emul.devmem, s->dirty);
	bitmap_zero(s->dirty, nbits);
	get_file(filp);
	mvdev->mig.save = s;
	mvdev->mig.save_seq++;
	if (precopy)
		migdev_save_set_wq(mvdev, &s->wq);
	return filp;

out_free:
	migdev_save_free(s);
	kfree(s);
	return ERR_PTR(-ENOMEM);
}

/**
 * migdev_save_quiesce() - the device entered or left PRE_COPY_P2P
 * @s: saving file, state_mutex held
 * @quiesced: it is in PRE_COPY_P2P now
 */
void migdev_save_quiesce(struct migdev_save *s, bool quiesced)
{
	if (!s)
		return;
	mutex_lock(&s->lock);
	s->quiesced = quiesced;
	mutex_unlock(&s->lock);
}

/**
 * migdev_save_stop_copy() - the device stopped: take its state
 * @s: saving file, state_mutex held
 *
 * Return: 0 or -ENOMEM.
 */
int migdev_save_stop_copy(struct migdev_save *s)
{
	struct migdev_device *mvdev = s->mvdev;
	struct migdev_emul *e = &mvdev->emul;
	size_t cap = migdev_emul_state_size(e) + MIGDEV_REC +
		     sizeof(struct migdev_rec_source_info);
	u8 *state = kvmalloc(cap, GFP_KERNEL_ACCOUNT);
	size_t n;

	lockdep_assert_held(&mvdev->mig.state_mutex);
	if (!state)
		return -ENOMEM;
	n = migdev_emul_save_state(e, state, s->enc.minor);

	mutex_lock(&s->lock);
	if (s->enc.minor >= 1)
		n += migdev_stream_put_source_info(state + n, s->enc.minor,
						   s->enc.rounds,
						   s->precopy_sent);
	s->state = state;
	migdev_stream_enc_opaque(&s->enc, mvdev->mig.opaque_blocks,
				 mvdev->mig.opaque_seed);
	migdev_stream_enc_stop(&s->enc, state, n);
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
	/* No reader: the buffers go now, else the reader frees them. */
	bool idle = mutex_trylock(&s->read_lock);

	migdev_save_set_wq(s->mvdev, NULL);
	mutex_lock(&s->lock);
	s->disabled = true;
	if (idle)
		migdev_save_free(s);
	mutex_unlock(&s->lock);
	if (idle)
		mutex_unlock(&s->read_lock);
	wake_up_interruptible(&s->wq);
	fput(s->filp);
}

/**
 * migdev_save_dirtied() - a page of device memory became dirty: a pre-copy
 * data_fd has data to read again
 * @mvdev: device
 */
void migdev_save_dirtied(struct migdev_device *mvdev)
{
	spin_lock(&mvdev->mig.save_wq_lock);
	if (mvdev->mig.save_wq)
		wake_up_interruptible(mvdev->mig.save_wq);
	spin_unlock(&mvdev->mig.save_wq_lock);
}

/**
 * migdev_save_estimate() - VFIO_DEVICE_FEATURE_MIG_DATA_SIZE
 * @mvdev: device, state_mutex held
 * @s: its saving file, or NULL
 *
 * Return: the bytes stop-copy still has to send, in any state.
 */
u64 migdev_save_estimate(struct migdev_device *mvdev, struct migdev_save *s)
{
	struct migdev_emul *e = &mvdev->emul;
	u64 tail = MIGDEV_REC + sizeof(struct migdev_rec_source_info) +
		   MIGDEV_REC;	/* SOURCE_INFO and END */
	u64 left, opaque;

	lockdep_assert_held(&mvdev->mig.state_mutex);
	/* Opaque state: what a stop-copy would send, or has still to. */
	opaque = mvdev->mig.minor < MIGDEV_STREAM_MINOR_XXH64 ? 0 :
		 (u64)mvdev->mig.opaque_blocks;
	if (!s)
		return sizeof(struct migdev_stream_header) +
		       migdev_devmem_count_from(&e->devmem, 0) * MIGDEV_PAGE_COST +
		       migdev_emul_state_size(e) + tail +
		       opaque * MIGDEV_OPAQUE_COST;
	mutex_lock(&s->lock);
	if (s->enc.minor < MIGDEV_STREAM_MINOR_XXH64)
		opaque = 0;
	else if (s->enc.stop_copy)
		opaque = s->enc.opaque_blocks - s->enc.opaque_sent;
	opaque *= MIGDEV_OPAQUE_COST;
	left = migdev_save_left_locked(s, NULL);
	if (!s->enc.state_sent)
		left += migdev_emul_state_size(e) + tail + opaque;
	else if (!s->enc.end_sent)
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

/*
 * The stream was refused: once per session, say why in the log, the
 * trace and the device's statistics.  r->lock held, not disabled.
 */
static void migdev_resume_refused_locked(struct migdev_resume *r, bool at_end)
{
	struct migdev_mig_stats *st = &r->mvdev->mig.stats;

	lockdep_assert_held(&r->lock);
	if (r->logged)
		return;
	r->logged = true;
	if (at_end)
		migdev_user_err(r->mvdev,
				"migration stream refused after %llu bytes: %s\n",
				r->received, r->dec->err);
	else
		migdev_user_err(r->mvdev,
				"migration stream refused at byte %llu: %s\n",
				r->dec->offset, r->dec->err);
	trace_migdev_resume_refused(r->name, r->dec->offset, r->dec->errno_,
				    r->dec->err);
	atomic64_inc(&st->refusals);
	spin_lock(&st->reason_lock);
	snprintf(st->reason, sizeof(st->reason), "at byte %llu: %s",
		 r->dec->offset, r->dec->err);
	spin_unlock(&st->reason_lock);
}

/* @n bytes were taken. r->lock held, not disabled. */
static void migdev_resume_took_locked(struct migdev_resume *r, size_t n)
{
	r->received += n;
	atomic64_add(n, &r->mvdev->mig.stats.loaded);
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
		migdev_resume_refused_locked(r, false);
		return ret;
	}
	migdev_resume_took_locked(r, n);
	return 0;
}

/* Feed @n bytes of r->bounce, unless the file was disabled meanwhile. */
static int migdev_resume_feed_bounce(struct migdev_resume *r, size_t n)
{
	int ret;

	lockdep_assert_held(&r->write_lock);
	mutex_lock(&r->lock);
	if (r->disabled)
		ret = -ENODEV;
	else
		ret = n ? migdev_resume_feed_locked(r, r->bounce, n) : 0;
	mutex_unlock(&r->lock);
	return ret;
}

/* After a copy of @n pages into r->direct: tell the decoder, if still live. */
static int migdev_resume_direct_done(struct migdev_resume *r, u32 n,
				     const struct xxh64_state *st)
{
	int ret;

	mutex_lock(&r->lock);
	if (r->disabled) {
		ret = -ENODEV;
	} else {
		ret = migdev_stream_dec_direct_done(r->dec, n, st);
		if (ret)
			migdev_resume_refused_locked(r, false);
		else
			migdev_resume_took_locked(r, (size_t)n << PAGE_SHIFT);
	}
	mutex_unlock(&r->lock);
	return ret;
}

/*
 * Whole pages of a DEVMEM record, from the user into the staging pages
 * held in r->direct, summed on the way.  Returns the bytes taken, or a
 * negative errno: -EFAULT if not even the first page could be read.
 */
static ssize_t migdev_resume_direct(struct migdev_resume *r,
				    const u8 __user *ubuf, u32 count,
				    struct xxh64_state *st)
{
	struct xxh64_state before;
	int ret = 0;
	u32 i;

	for (i = 0; i < count; i++) {
		void *dst = kmap_local_page(r->direct[i]);

		before = *st;
		ret = migdev_sumcopy_from_user(st, dst,
					       ubuf + ((size_t)i << PAGE_SHIFT),
					       PAGE_SIZE);
		kunmap_local(dst);
		if (ret) {
			/* The page is written again by the next attempt. */
			*st = before;
			break;
		}
	}
	if (i)
		ret = migdev_resume_direct_done(r, i, st);
	migdev_devmem_put_run(r->direct, count);
	return ret ? ret : (ssize_t)i << PAGE_SHIFT;
}

/*
 * One step of a write(): whole pages straight into staging memory where
 * the decoder is at them, else as many bytes as the decoder takes before
 * it could be, through the bounce buffer.  The user's memory is touched
 * under write_lock only: a buffer that faults slowly holds off this file's
 * writers, never an arc.  Returns the bytes taken, or a negative errno.
 */
static ssize_t migdev_resume_step(struct migdev_resume *r,
				  const u8 __user *ubuf, size_t len)
{
	struct xxh64_state st;
	u32 pages = 0;
	size_t n = 0;
	u64 first;
	int ret;

	mutex_lock(&r->lock);
	if (r->disabled) {
		mutex_unlock(&r->lock);
		return -ENODEV;
	}
	if (len >= PAGE_SIZE) {
		pages = migdev_stream_dec_direct(r->dec, &first, &st);
		pages = min_t(size_t, pages,
			      min_t(size_t, len >> PAGE_SHIFT,
				    MIGDEV_RESUME_DIRECT));
		/* Without memory, the decoder's own path says so. */
		if (pages && migdev_devmem_stage_get(&r->staged, first, pages,
						     r->direct))
			pages = 0;
	}
	if (!pages)
		n = min_t(size_t, len,
			  min_t(size_t, migdev_stream_dec_want(r->dec),
				MIGDEV_RESUME_BOUNCE));
	mutex_unlock(&r->lock);

	if (pages)
		return migdev_resume_direct(r, ubuf, pages, &st);
	if (copy_from_user(r->bounce, ubuf, n))
		return -EFAULT;
	ret = migdev_resume_feed_bounce(r, n);
	return ret ? ret : n;
}

/*
 * A refusal of the stream is returned however much of this write() went
 * before it (it is the answer to every later call too); a fault after
 * some bytes were taken returns how many were.
 */
static ssize_t migdev_resume_write(struct file *filp, const char __user *ubuf,
				   size_t len, loff_t *pos)
{
	struct migdev_resume *r = filp->private_data;
	struct migdev_fault f;
	size_t done = 0;
	ssize_t ret = 0;
	bool fired;

	if (pos)
		return -ESPIPE;
	mutex_lock(&r->lock);
	fired = !r->disabled &&
		migdev_fault_check(r->mvdev, MIGDEV_FP_WRITE, 0, 0, r->received,
				   &f);
	mutex_unlock(&r->lock);
	if (fired) {
		if (f.action == MIGDEV_FA_SHORT)
			len = min_t(u64, len, f.arg);
		ret = migdev_fault_act(&f);
		if (ret)
			return ret;
	}
	if (mutex_lock_killable(&r->write_lock))
		return -EINTR;
	if (!len)	/* still -ENODEV on a disabled file */
		ret = migdev_resume_feed_bounce(r, 0);
	while (done < len) {
		ret = migdev_resume_step(r, (const u8 __user *)ubuf + done,
					 len - done);
		if (ret < 0)
			break;
		done += ret;
	}
	if (ret >= 0 || (ret == -EFAULT && done))
		ret = done;
	trace_migdev_resume_write(r->name, len, ret, r->received);
	mutex_unlock(&r->write_lock);
	return ret;
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
	int ret = 0;

	mutex_lock(&r->write_lock);
	do {
		size_t n = min_t(size_t, len, MIGDEV_RESUME_BOUNCE);

		/* @buf may be mapped by the user: each byte is read once. */
		memcpy(r->bounce, p, n);
		ret = migdev_resume_feed_bounce(r, n);
		p += n;
		len -= n;
	} while (!ret && len);
	mutex_unlock(&r->write_lock);
	return ret;
}

static void migdev_resume_free(struct migdev_resume *r)
{
	if (r->dec)
		migdev_devmem_fini(&r->staged);
	kvfree(r->payload);
	kfree(r->dec);
	r->payload = NULL;
	r->dec = NULL;
}

static int migdev_resume_release(struct inode *inode, struct file *filp)
{
	struct migdev_resume *r = filp->private_data;

	migdev_resume_free(r);
	kvfree(r->bounce);
	mutex_destroy(&r->lock);
	mutex_destroy(&r->write_lock);
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
 * @mvdev: device, state_mutex held
 *
 * Return: the file (one reference for the caller, one in mvdev->mig.resume),
 * or an ERR_PTR.
 */
struct file *migdev_resume_open(struct migdev_device *mvdev)
{
	struct migdev_emul *e = &mvdev->emul;
	struct migdev_resume *r;
	struct file *filp;

	lockdep_assert_held(&mvdev->mig.state_mutex);
	r = kzalloc(sizeof(*r), GFP_KERNEL_ACCOUNT);
	if (!r)
		return ERR_PTR(-ENOMEM);
	mutex_init(&r->write_lock);
	mutex_init(&r->lock);
	r->mvdev = mvdev;
	strscpy(r->name, dev_name(mvdev->vdev.dev));
	r->dec = kzalloc(sizeof(*r->dec), GFP_KERNEL_ACCOUNT);
	r->payload = kvmalloc(MIGDEV_STREAM_DEC_BUF, GFP_KERNEL_ACCOUNT);
	r->bounce = kvmalloc(MIGDEV_RESUME_BOUNCE, GFP_KERNEL_ACCOUNT);
	if (!r->dec || !r->payload || !r->bounce ||
	    migdev_devmem_init(&r->staged, e->geom.devmem_size, NULL, NULL,
			       NULL)) {
		kfree(r->dec);
		r->dec = NULL;
		goto out_free;
	}
	migdev_stream_dec_init(r->dec, e->geom.type_id, e->geom.nr_queues,
			       e->geom.devmem_size, mvdev->mig.minor, r->payload);
	r->dec->devmem = migdev_resume_stage;
	r->dec->priv = r;

	filp = anon_inode_getfile("[migdev-resume]", &migdev_resume_fops, r,
				  O_WRONLY);
	if (IS_ERR(filp)) {
		migdev_resume_free(r);
		kvfree(r->bounce);
		kfree(r);
		return filp;
	}
	stream_open(filp->f_inode, filp);
	r->filp = filp;
	get_file(filp);
	mvdev->mig.resume = r;
	return filp;

out_free:
	migdev_resume_free(r);
	kvfree(r->bounce);
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
	struct migdev_device *mvdev = r->mvdev;
	int ret;

	mutex_lock(&r->lock);
	ret = migdev_stream_dec_finish(r->dec);
	if (ret) {
		migdev_resume_refused_locked(r, true);
		goto out_unlock;
	}
	migdev_emul_apply_state(&mvdev->emul, r->dec, &r->staged);
	WRITE_ONCE(mvdev->mig.stats.opaque_loaded,
		   (u64)r->dec->opaque_next * MIGDEV_STREAM_PAGE_SIZE);
	if (r->dec->have_source_info)
		dev_dbg(mvdev->vdev.dev,
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
