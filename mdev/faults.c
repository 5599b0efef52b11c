// SPDX-License-Identifier: GPL-2.0-only
/*
 * migdev: faults on demand, per instance (debugfs migdev/<uuid>/faults).
 *
 * A VMM's migration error paths can only be tested against a device that
 * fails when told.  A rule names a point, an action, and when it fires;
 * each is one line written to the file:
 *
 *   POINT ACTION [nth=K] [every=N] [prob=P seed=S] [times=T] [at=BYTES]
 *
 * Points:
 *   arc FROM TO    an arc of the state machine (state names as in the uAPI
 *                  without VFIO_DEVICE_STATE_, or "*"), either interface
 *   read           a data_fd read (the saving side)
 *   write          a data_fd write (the resuming side)
 *   precopy_info   VFIO_MIG_GET_PRECOPY_INFO
 *   data_size      VFIO_DEVICE_FEATURE_MIG_DATA_SIZE
 *   commit         RESUMING -> STOP, before the stream is applied
 *   quiesce        the engine's pause, RUNNING -> RUNNING_P2P and
 *                  PRE_COPY -> PRE_COPY_P2P
 *   v1_state       a write of the v1 migration region's device_state
 *   v1_pending     a read of its pending_bytes
 *   v1_data_size   a read or write of its data_size
 *   dma_log_start  VFIO_DEVICE_FEATURE_DMA_LOGGING_START, once its
 *                  arguments passed (where the kernel offers DMA logging)
 *   dma_log_report VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT of a started log,
 *                  each window of the user's bitmap a hit (the core
 *                  reports a large range in windows)
 *   now            (reset, req_irq, err_irq; no when-clause) at once, when
 *                  the line is written: the device must be open (else
 *                  ENODEV), and the rule is not kept
 * Actions:
 *   fail=ERRNO     fail with ERRNO (a name such as EIO, or a number)
 *   error          (arc) fail with EIO and go to ERROR, left by a reset
 *   delay=MS       wait MS milliseconds (killably), then go on
 *   short=N        (read, write) move at most N bytes
 *   eof            (read) end the stream here: read() returns 0
 *   corrupt        (read) change a byte of what the read returns: the
 *                  destination must refuse the stream; only reads that
 *                  return data count as its hits
 *   reset          the device resets (as VFIO_DEVICE_RESET, or a guest's
 *                  reboot, would) at once, from a work item: the call
 *                  that fired it goes on, and may already see it
 *   req_irq        the request interrupt fires (as when the instance is
 *                  being removed), from the same work item
 *   err_irq        the error interrupt (VFIO_PCI_ERR_IRQ_INDEX) fires, as
 *                  an uncorrectable error of a real device would raise
 *                  it, from the same work item
 *   scale=PCT      (precopy_info, data_size) the answer is PCT percent of
 *                  the truth (1 to 100000): an estimate too low or too high
 *   dirty=BYTES    (precopy_info) BYTES more dirty bytes than there are:
 *                  fired every time, pre-copy never converges
 * When, counting the times the point is reached (its hits):
 *   nth=K          the K-th hit only
 *   every=N        every N-th hit
 *   prob=P         with probability P percent, from a generator seeded
 *                  with seed=S (default 1): the same rules and the same
 *                  calls fire the same way every time
 *   times=T        at most T times (default: no limit; 1 with nth=)
 *   at=BYTES       (read, write) only once the data_fd has moved BYTES
 * With none of nth=, every= and prob=, a rule fires at every hit.
 *
 * Writing "clear" removes every rule.  Reading the file lists the armed
 * rules, as written, each with its hits and how often it fired.  At most
 * MIGDEV_FAULT_MAX rules; the first that fires at a point is applied.
 * A fired rule counts in the statistics (faults) and traces migdev_fault.
 */
#include <linux/ctype.h>
#include <linux/debugfs.h>
#include <linux/errname.h>
#include <linux/fs.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/workqueue.h>

#include "migdev.h"
#include "migdev_compat.h"
#include "trace.h"
#include "../emul/xorshift.h"

#define MIGDEV_FAULT_MAX	16
#define MIGDEV_FAULT_ANY	(~0U)

static const char *const migdev_fault_points[] = {
	[MIGDEV_FP_ARC] = "arc",
	[MIGDEV_FP_READ] = "read",
	[MIGDEV_FP_WRITE] = "write",
	[MIGDEV_FP_PRECOPY_INFO] = "precopy_info",
	[MIGDEV_FP_DATA_SIZE] = "data_size",
	[MIGDEV_FP_COMMIT] = "commit",
	[MIGDEV_FP_QUIESCE] = "quiesce",
	[MIGDEV_FP_V1_STATE] = "v1_state",
	[MIGDEV_FP_V1_PENDING] = "v1_pending",
	[MIGDEV_FP_V1_DATA_SIZE] = "v1_data_size",
	[MIGDEV_FP_DMA_LOG_START] = "dma_log_start",
	[MIGDEV_FP_DMA_LOG_REPORT] = "dma_log_report",
	[MIGDEV_FP_NOW] = "now",
};

static const char *const migdev_fault_states[] = {
	[VFIO_DEVICE_STATE_ERROR] = "ERROR",
	[VFIO_DEVICE_STATE_STOP] = "STOP",
	[VFIO_DEVICE_STATE_RUNNING] = "RUNNING",
	[VFIO_DEVICE_STATE_STOP_COPY] = "STOP_COPY",
	[VFIO_DEVICE_STATE_RESUMING] = "RESUMING",
	[VFIO_DEVICE_STATE_RUNNING_P2P] = "RUNNING_P2P",
	[VFIO_DEVICE_STATE_PRE_COPY] = "PRE_COPY",
	[VFIO_DEVICE_STATE_PRE_COPY_P2P] = "PRE_COPY_P2P",
};

/* Errnos by name, for rules that say fail=EIO. */
static const struct {
	const char *name;
	int err;
} migdev_fault_errnos[] = {
	{ "EPERM", EPERM }, { "ENOENT", ENOENT }, { "EINTR", EINTR },
	{ "EIO", EIO }, { "ENXIO", ENXIO }, { "EBADF", EBADF },
	{ "EAGAIN", EAGAIN }, { "ENOMEM", ENOMEM }, { "EFAULT", EFAULT },
	{ "EBUSY", EBUSY }, { "ENODEV", ENODEV }, { "EINVAL", EINVAL },
	{ "ENOSPC", ENOSPC }, { "EPIPE", EPIPE }, { "ERANGE", ERANGE },
	{ "ENOMSG", ENOMSG }, { "EPROTO", EPROTO }, { "EBADMSG", EBADMSG },
	{ "EOVERFLOW", EOVERFLOW }, { "ENOTTY", ENOTTY },
	{ "ETIMEDOUT", ETIMEDOUT }, { "ECANCELED", ECANCELED },
	{ "EOPNOTSUPP", EOPNOTSUPP }, { "EPROTONOSUPPORT", EPROTONOSUPPORT },
};

/**
 * struct migdev_fault_rule - one armed rule
 * @point: MIGDEV_FP_*
 * @from: (arc) the state it leaves, or MIGDEV_FAULT_ANY
 * @to: (arc) the state it reaches, or MIGDEV_FAULT_ANY
 * @action: MIGDEV_FA_*
 * @arg: the action's number: errno, milliseconds, bytes
 * @nth: fire at this hit only (0: not so restricted)
 * @every: fire at every @every-th hit (0: ...)
 * @prob: fire with this probability, percent (0: ...)
 * @rng: the generator's state, from seed=
 * @times: fire at most this often (0: no limit)
 * @at: (read, write) fire only once the data_fd moved this many bytes
 * @hits: the point was reached (and @at passed)
 * @fired: the rule fired
 * @text: the rule as written
 */
struct migdev_fault_rule {
	u32 point;
	u32 from;
	u32 to;
	u32 action;
	u64 arg;
	u64 nth;
	u64 every;
	u32 prob;
	u64 rng;
	u64 times;
	u64 at;
	u64 hits;
	u64 fired;
	char text[96];
};

static int migdev_fault_state(const char *s, u32 *state)
{
	unsigned int i;

	if (!strcmp(s, "*")) {
		*state = MIGDEV_FAULT_ANY;
		return 0;
	}
	for (i = 0; i < ARRAY_SIZE(migdev_fault_states); i++) {
		if (!strcmp(s, migdev_fault_states[i])) {
			*state = i;
			return 0;
		}
	}
	return -EINVAL;
}

static int migdev_fault_errno(const char *s, u64 *err)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(migdev_fault_errnos); i++) {
		if (!strcmp(s, migdev_fault_errnos[i].name)) {
			*err = migdev_fault_errnos[i].err;
			return 0;
		}
	}
	if (kstrtou64(s, 0, err) || !*err || *err >= MAX_ERRNO)
		return -EINVAL;
	return 0;
}

/* Which actions make sense where. */
static bool migdev_fault_fits(u32 point, u32 action)
{
	switch (action) {
	case MIGDEV_FA_RESET:
	case MIGDEV_FA_REQ_IRQ:
	case MIGDEV_FA_ERR_IRQ:
		return true;
	case MIGDEV_FA_FAIL:
	case MIGDEV_FA_DELAY:
		return point != MIGDEV_FP_NOW;
	case MIGDEV_FA_ERROR:
		return point == MIGDEV_FP_ARC;
	case MIGDEV_FA_SHORT:
		return point == MIGDEV_FP_READ || point == MIGDEV_FP_WRITE;
	case MIGDEV_FA_EOF:
	case MIGDEV_FA_CORRUPT:
		return point == MIGDEV_FP_READ;
	case MIGDEV_FA_SCALE:
		return point == MIGDEV_FP_PRECOPY_INFO ||
		       point == MIGDEV_FP_DATA_SIZE;
	case MIGDEV_FA_DIRTY:
		return point == MIGDEV_FP_PRECOPY_INFO;
	}
	return false;
}

/* The actions that take no value. */
static const struct {
	const char *name;
	u32 action;
} migdev_fault_flags[] = {
	{ "error", MIGDEV_FA_ERROR }, { "eof", MIGDEV_FA_EOF },
	{ "corrupt", MIGDEV_FA_CORRUPT }, { "reset", MIGDEV_FA_RESET },
	{ "req_irq", MIGDEV_FA_REQ_IRQ }, { "err_irq", MIGDEV_FA_ERR_IRQ },
};

/* One line into @r; 0 or -EINVAL. */
static int migdev_fault_parse(char *line, struct migdev_fault_rule *r)
{
	bool have_action = false, have_seed = false;
	char *tok, *val;
	unsigned int i;
	u64 v;

	memset(r, 0, sizeof(*r));
	strscpy(r->text, strim(line));
	line = strim(line);
	tok = strsep(&line, " \t");
	for (i = 0; i < ARRAY_SIZE(migdev_fault_points); i++)
		if (tok && !strcmp(tok, migdev_fault_points[i]))
			break;
	if (i == ARRAY_SIZE(migdev_fault_points))
		return -EINVAL;
	r->point = i;
	r->from = MIGDEV_FAULT_ANY;
	r->to = MIGDEV_FAULT_ANY;
	r->rng = 1;
	if (r->point == MIGDEV_FP_ARC &&
	    (migdev_fault_state(strsep(&line, " \t") ?: "", &r->from) ||
	     migdev_fault_state(strsep(&line, " \t") ?: "", &r->to)))
		return -EINVAL;

	while ((tok = strsep(&line, " \t"))) {
		if (!*tok)
			continue;
		val = strchr(tok, '=');
		if (val)
			*val++ = 0;
		for (i = 0; i < ARRAY_SIZE(migdev_fault_flags); i++)
			if (!strcmp(tok, migdev_fault_flags[i].name))
				break;
		if (i < ARRAY_SIZE(migdev_fault_flags)) {
			if (val || have_action)
				return -EINVAL;
			r->action = migdev_fault_flags[i].action;
			have_action = true;
			continue;
		}
		if (!val)
			return -EINVAL;
		if (!strcmp(tok, "fail")) {
			if (have_action || migdev_fault_errno(val, &r->arg))
				return -EINVAL;
			r->action = MIGDEV_FA_FAIL;
			have_action = true;
			continue;
		}
		if (kstrtou64(val, 0, &v))
			return -EINVAL;
		if (!strcmp(tok, "scale") || !strcmp(tok, "dirty")) {
			if (have_action || !v || (tok[0] == 's' && v > 100000))
				return -EINVAL;
			r->action = tok[0] == 's' ? MIGDEV_FA_SCALE :
						    MIGDEV_FA_DIRTY;
			r->arg = v;
			have_action = true;
		} else if (!strcmp(tok, "delay") || !strcmp(tok, "short")) {
			/* A delay of up to a minute; a short move of 1 byte on. */
			if (have_action || (tok[0] == 'd' && v > 60000) ||
			    (tok[0] == 's' && !v))
				return -EINVAL;
			r->action = tok[0] == 'd' ? MIGDEV_FA_DELAY :
						    MIGDEV_FA_SHORT;
			r->arg = v;
			have_action = true;
		} else if (!strcmp(tok, "nth") && v) {
			r->nth = v;
		} else if (!strcmp(tok, "every") && v) {
			r->every = v;
		} else if (!strcmp(tok, "prob") && v && v <= 100) {
			r->prob = v;
		} else if (!strcmp(tok, "seed")) {
			r->rng = v ?: 1;
			have_seed = true;
		} else if (!strcmp(tok, "times") && v) {
			r->times = v;
		} else if (!strcmp(tok, "at") &&
			   (r->point == MIGDEV_FP_READ ||
			    r->point == MIGDEV_FP_WRITE)) {
			r->at = v;
		} else {
			return -EINVAL;
		}
	}
	if (!have_action || !migdev_fault_fits(r->point, r->action) ||
	    (have_seed && !r->prob) || (!!r->nth + !!r->every + !!r->prob > 1))
		return -EINVAL;
	if (r->point == MIGDEV_FP_NOW &&
	    (r->nth || r->every || r->prob || r->times))
		return -EINVAL;
	/* A read that returns nothing has nothing to corrupt. */
	if (r->action == MIGDEV_FA_CORRUPT)
		r->point = MIGDEV_FP_READ_DATA;
	if (r->nth && !r->times)
		r->times = 1;
	return 0;
}

/* Does @r fire at this hit?  Counts it.  faults.lock held. */
static bool migdev_fault_fires(struct migdev_fault_rule *r, u32 from, u32 to,
			       u64 offset)
{
	bool fire = true;

	if ((r->from != MIGDEV_FAULT_ANY && r->from != from) ||
	    (r->to != MIGDEV_FAULT_ANY && r->to != to) || offset < r->at)
		return false;
	r->hits++;
	if (r->nth)
		fire = r->hits == r->nth;
	else if (r->every)
		fire = !(r->hits % r->every);
	else if (r->prob)
		fire = migdev_xorshift64(&r->rng) % 100 < r->prob;
	if (!fire || (r->times && r->fired >= r->times))
		return false;
	r->fired++;
	return true;
}

static bool migdev_fault_deferred(u32 action)
{
	return action == MIGDEV_FA_RESET || action == MIGDEV_FA_REQ_IRQ ||
	       action == MIGDEV_FA_ERR_IRQ;
}

/*
 * A rule fired: count and trace it; queue what the work does.  A reset
 * takes state_mutex, which the point may hold or rank below, and the
 * interrupts irq.lock: they come from the work, at once, and the point
 * goes on as if nothing fired.  faults.lock held.
 *
 * Return: true if the work carries it out.
 */
static bool migdev_fault_fired(struct migdev_device *mvdev, const char *text,
			       const struct migdev_fault *f)
{
	struct migdev_faults *fs = &mvdev->faults;

	lockdep_assert_held(&fs->lock);
	atomic64_inc(&mvdev->mig.stats.faults);
	trace_migdev_fault(dev_name(mvdev->vdev.dev), text,
			   f->action == MIGDEV_FA_FAIL ? -(int)f->arg :
			   f->action == MIGDEV_FA_ERROR ? -EIO : 0);
	if (!migdev_fault_deferred(f->action))
		return false;
	set_bit(f->action, &fs->pending);
	queue_work(migdev_system_wq, &fs->work);
	return true;
}

/**
 * migdev_fault_check() - is a fault due here?
 * @mvdev: device
 * @point: MIGDEV_FP_*
 * @from: (arc) the state the arc leaves, else ignored
 * @to: (arc) the state it reaches, else ignored
 * @offset: (read, write) the data_fd's bytes so far, else 0
 * @f: what to do, if a rule fired
 *
 * Takes only faults.lock (a leaf): callable under any lock of the device.
 *
 * Return: true if a rule fired, with @f set; it is counted in the
 * statistics and traced.
 */
bool migdev_fault_check(struct migdev_device *mvdev, u32 point, u32 from,
			u32 to, u64 offset, struct migdev_fault *f)
{
	struct migdev_faults *fs = &mvdev->faults;
	const char *text = NULL;
	unsigned int i;

	if (!READ_ONCE(fs->nr))
		return false;
	spin_lock(&fs->lock);
	for (i = 0; i < fs->nr; i++) {
		struct migdev_fault_rule *r = &fs->rules[i];

		if (r->point == point && migdev_fault_fires(r, from, to, offset)) {
			f->action = r->action;
			f->arg = r->arg;
			text = r->text;
			break;
		}
	}
	if (text && migdev_fault_fired(mvdev, text, f))
		text = NULL;
	spin_unlock(&fs->lock);
	return text;
}

static void migdev_fault_work(struct work_struct *work)
{
	struct migdev_device *mvdev = container_of(work, struct migdev_device,
						   faults.work);

	if (test_and_clear_bit(MIGDEV_FA_REQ_IRQ, &mvdev->faults.pending))
		migdev_irq_notify_user(mvdev, VFIO_PCI_REQ_IRQ_INDEX);
	if (test_and_clear_bit(MIGDEV_FA_ERR_IRQ, &mvdev->faults.pending))
		migdev_irq_notify_user(mvdev, VFIO_PCI_ERR_IRQ_INDEX);
	if (test_and_clear_bit(MIGDEV_FA_RESET, &mvdev->faults.pending))
		migdev_mig_reset(mvdev, MIGDEV_RESET_DEVICE);
}

/**
 * migdev_fault_act() - carry out what every point does with a fault
 * @f: the fault that fired
 *
 * fail=ERRNO fails the call; delay=MS sleeps, killably.  The actions
 * proper to a point (short, eof, scale...) are its own: 0 for them here.
 *
 * Return: 0 to go on, the rule's errno, or -EINTR if a fatal signal cut
 * a delay short.
 */
int migdev_fault_act(const struct migdev_fault *f)
{
	switch (f->action) {
	case MIGDEV_FA_FAIL:
		return -(int)f->arg;
	case MIGDEV_FA_DELAY:
		if (schedule_timeout_killable(msecs_to_jiffies(f->arg)) &&
		    fatal_signal_pending(current))
			return -EINTR;
		return 0;
	}
	return 0;
}

/**
 * migdev_fault_here() - a point where a rule can only act as every point
 * does (migdev_fault_act()): check and act in one
 * @mvdev: device
 * @point: MIGDEV_FP_*
 * @from: (arc) the state the arc leaves, else ignored
 * @to: (arc) the state it reaches, else ignored
 *
 * Return: 0 to go on, the rule's errno, or -EINTR (as migdev_fault_act()).
 */
int migdev_fault_here(struct migdev_device *mvdev, u32 point, u32 from, u32 to)
{
	struct migdev_fault f;

	return migdev_fault_check(mvdev, point, from, to, 0, &f) ?
	       migdev_fault_act(&f) : 0;
}

static ssize_t migdev_fault_read(struct file *file, char __user *buf,
				 size_t count, loff_t *ppos)
{
	struct migdev_device *mvdev = file->private_data;
	struct migdev_faults *fs = &mvdev->faults;
	size_t cap = MIGDEV_FAULT_MAX * 160 + 1, len = 0;
	unsigned int i;
	ssize_t ret;
	char *text = kmalloc(cap, GFP_KERNEL);

	if (!text)
		return -ENOMEM;
	spin_lock(&fs->lock);
	for (i = 0; i < fs->nr; i++)
		len += scnprintf(text + len, cap - len,
				 "%u: %s hits=%llu fired=%llu\n", i,
				 fs->rules[i].text, fs->rules[i].hits,
				 fs->rules[i].fired);
	spin_unlock(&fs->lock);
	ret = simple_read_from_buffer(buf, count, ppos, text, len);
	kfree(text);
	return ret;
}

static ssize_t migdev_fault_write(struct file *file, const char __user *buf,
				  size_t count, loff_t *ppos)
{
	struct migdev_device *mvdev = file->private_data;
	struct migdev_faults *fs = &mvdev->faults;
	struct migdev_fault_rule *rules, r;
	char line[128];
	int ret = 0;

	if (!count || count >= sizeof(line))
		return -EINVAL;
	if (copy_from_user(line, buf, count))
		return -EFAULT;
	line[count] = 0;
	if (!strcmp(strim(line), "clear")) {
		spin_lock(&fs->lock);
		WRITE_ONCE(fs->nr, 0);
		spin_unlock(&fs->lock);
		return count;
	}
	if (migdev_fault_parse(line, &r))
		return -EINVAL;
	if (r.point == MIGDEV_FP_NOW) {
		struct migdev_fault f = { .action = r.action };

		spin_lock(&fs->lock);
		if (fs->open)
			migdev_fault_fired(mvdev, r.text, &f);
		else
			ret = -ENODEV;
		spin_unlock(&fs->lock);
		return ret ?: count;
	}

	/* The rules' memory comes with the first rule and stays. */
	rules = kcalloc(MIGDEV_FAULT_MAX, sizeof(*rules), GFP_KERNEL_ACCOUNT);
	if (!rules)
		return -ENOMEM;
	spin_lock(&fs->lock);
	if (!fs->rules) {
		fs->rules = rules;
		rules = NULL;
	}
	if (fs->nr == MIGDEV_FAULT_MAX) {
		ret = -ENOSPC;
	} else {
		fs->rules[fs->nr] = r;
		WRITE_ONCE(fs->nr, fs->nr + 1);
	}
	spin_unlock(&fs->lock);
	kfree(rules);
	return ret ?: count;
}

static const struct file_operations migdev_fault_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.read = migdev_fault_read,
	.write = migdev_fault_write,
	.llseek = default_llseek,
};

/**
 * migdev_faults_init() - no rules yet
 * @mvdev: device
 */
void migdev_faults_init(struct migdev_device *mvdev)
{
	spin_lock_init(&mvdev->faults.lock);
	mvdev->faults.rules = NULL;
	mvdev->faults.nr = 0;
	INIT_WORK(&mvdev->faults.work, migdev_fault_work);
	mvdev->faults.pending = 0;
	mvdev->faults.open = false;
}

/**
 * migdev_faults_open() - a user opened the device: "now" rules may fire
 * @mvdev: device
 */
void migdev_faults_open(struct migdev_device *mvdev)
{
	spin_lock(&mvdev->faults.lock);
	mvdev->faults.open = true;
	spin_unlock(&mvdev->faults.lock);
}

/**
 * migdev_faults_close() - the device closes: no deferred action outlives it
 * @mvdev: device, its data_fds disabled (no point can fire a reset or an
 *	   interrupt any more: they fire from the user's calls, and "now"
 *	   only while it is open)
 */
void migdev_faults_close(struct migdev_device *mvdev)
{
	spin_lock(&mvdev->faults.lock);
	mvdev->faults.open = false;
	spin_unlock(&mvdev->faults.lock);
	cancel_work_sync(&mvdev->faults.work);
	mvdev->faults.pending = 0;
}

/**
 * migdev_faults_fini() - free the rules
 * @mvdev: device, released
 */
void migdev_faults_fini(struct migdev_device *mvdev)
{
	kfree(mvdev->faults.rules);
	mvdev->faults.rules = NULL;
}

/**
 * migdev_faults_debugfs() - the instance's "faults" file
 * @mvdev: device
 * @dir: its debugfs directory
 */
void migdev_faults_debugfs(struct migdev_device *mvdev, struct dentry *dir)
{
	debugfs_create_file("faults", 0600, dir, mvdev, &migdev_fault_fops);
}
