// SPDX-License-Identifier: GPL-2.0-only
/*
 * migdev: the thread that runs an open device's DMA engine.
 *
 * The engine reads and writes its user's memory, and a user's memory may
 * take as long as the user likes (a FUSE- or userfaultfd-backed buffer
 * nobody serves).  So the engine runs in a thread of the user: a
 * vhost_task that open_device() creates in the opening process, as vhost
 * and KVM do.  Only that process's threads ever wait for its memory; the
 * thread is charged to its cgroups (memory and CPU); it dies with the
 * process, a killed user's faults end at once, and nothing the user
 * leaves behind can block anybody else.  No kworker touches user memory.
 *
 * The worker also runs the device's writer (writer.c), when its timer says
 * blocks are due: the writer is part of the device, and what it allocates
 * is the user's, as the engine's is.
 *
 * The worker sleeps until the device kicks it.  Then, for each step, it
 * pins the guest memory the step needs (pins.c), holding nothing: that
 * is where it may wait for the user's memory.  Then it takes an engine of
 * the parent (engines.c), executes the step, which only copies, and gives
 * the engine back.  The device's close stops it, after the pinning or step
 * in progress: if the pinning waits for the user's memory, the closing
 * thread (the user's own) waits with it, killably, as a read of the
 * user's own stalled file would; the user serves the memory, or dies (its
 * worker's fault then ends at once).  A fault can only be ended by a fatal signal:
 * the kernel retries a kernel-mode userfaultfd fault on any other.  If the
 * opening process exits while another keeps the device open (a passed fd),
 * the worker is gone with it and the device executes no more descriptors:
 * its registers and migration work on.
 */
#include <linux/sched.h>
#include <linux/sched/vhost_task.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "migdev.h"
#include "migdev_compat.h"

enum {
	MIGDEV_WORKER_PENDING,	/* the device has work */
	MIGDEV_WORKER_PREPARED,	/* its next step's memory is pinned */
	MIGDEV_WORKER_FLUSH,	/* idle for a while: unpin */
	MIGDEV_WORKER_WRITE,	/* the device's writer has blocks due */
};

/*
 * An engine with no work for this long unpins its guest memory: type1
 * reports pinned pages dirty, and a migration of an idle device should
 * not resend what it once moved.
 */
#define MIGDEV_WORKER_IDLE_MS	100

static void migdev_worker_turn_wake(struct migdev_engine_turn *turn)
{
	struct migdev_worker *w = container_of(turn, struct migdev_worker, turn);

	spin_lock(&w->lock);
	if (w->vtsk)
		vhost_task_wake(w->vtsk);
	spin_unlock(&w->lock);
}

/* Enter or leave a stretch that may wait for the user's memory or copy. */
static bool migdev_worker_enter(struct migdev_worker *w)
{
	bool running;

	spin_lock(&w->lock);
	running = !!w->vtsk;
	w->in_step = running;
	spin_unlock(&w->lock);
	return running;
}

static void migdev_worker_leave(struct migdev_worker *w)
{
	spin_lock(&w->lock);
	w->in_step = false;
	spin_unlock(&w->lock);
	wake_up(&w->idle);
}

/* Out of work: unpin if it stays so (migdev_worker_idle()). */
static void migdev_worker_idle_later(struct migdev_worker *w)
{
	mod_delayed_work(migdev_system_wq, &w->idle_work,
			 msecs_to_jiffies(MIGDEV_WORKER_IDLE_MS));
}

static void migdev_worker_idle(struct work_struct *work)
{
	struct migdev_worker *w = container_of(to_delayed_work(work),
					       struct migdev_worker, idle_work);

	spin_lock(&w->lock);
	if (w->vtsk) {
		set_bit(MIGDEV_WORKER_FLUSH, &w->flags);
		vhost_task_wake(w->vtsk);
	}
	spin_unlock(&w->lock);
}

static bool migdev_worker_fn(void *data)
{
	struct migdev_device *mvdev = data;
	struct migdev_worker *w = &mvdev->worker;
	struct migdev_engines *eng = &mvdev->parent->engines;
	bool more;

	/*
	 * Still TASK_INTERRUPTIBLE: returning false sleeps until a kick, a
	 * grant, the idle timer or the stop.  A stopping device starts
	 * nothing.
	 */
	if (!READ_ONCE(w->vtsk))
		return false;
	if (test_and_clear_bit(MIGDEV_WORKER_WRITE, &w->flags)) {
		__set_current_state(TASK_RUNNING);
		if (migdev_worker_enter(w)) {
			migdev_writer_run(mvdev);
			migdev_worker_leave(w);
		}
		return true;
	}
	if (test_and_clear_bit(MIGDEV_WORKER_FLUSH, &w->flags) &&
	    !test_bit(MIGDEV_WORKER_PENDING, &w->flags) &&
	    !test_bit(MIGDEV_WORKER_PREPARED, &w->flags)) {
		__set_current_state(TASK_RUNNING);
		if (migdev_worker_enter(w)) {
			migdev_pins_release(mvdev);
			migdev_worker_leave(w);
		}
		return true;
	}
	if (!test_bit(MIGDEV_WORKER_PREPARED, &w->flags)) {
		if (!test_bit(MIGDEV_WORKER_PENDING, &w->flags))
			return false;
		__set_current_state(TASK_RUNNING);
		/* A kick from here on sets it again. */
		clear_bit(MIGDEV_WORKER_PENDING, &w->flags);
		/* Pin what the next step needs: no engine held, no lock. */
		if (!migdev_worker_enter(w))
			return true;
		if (migdev_engine_prepare(&mvdev->emul))
			set_bit(MIGDEV_WORKER_PREPARED, &w->flags);
		else
			migdev_worker_idle_later(w);
		migdev_worker_leave(w);
		return true;
	}
	if (!migdev_engines_get(eng, &w->turn))
		return false;	/* in line: woken when an engine is ours */
	__set_current_state(TASK_RUNNING);
	if (!migdev_worker_enter(w)) {
		/* Stopping: the engine goes back. */
		migdev_engines_put(eng, &w->turn);
		return true;
	}
	more = migdev_engine_step(&mvdev->emul);
	clear_bit(MIGDEV_WORKER_PREPARED, &w->flags);
	migdev_worker_leave(w);
	migdev_engines_put(eng, &w->turn);
	if (more)
		set_bit(MIGDEV_WORKER_PENDING, &w->flags);
	else
		migdev_worker_idle_later(w);
	cond_resched();
	return true;
}

/* The process died: the worker is gone, and so is its place in line. */
static void migdev_worker_killed(void *data)
{
	struct migdev_device *mvdev = data;

	migdev_engines_put(&mvdev->parent->engines, &mvdev->worker.turn);
}

/**
 * migdev_worker_init() - a device with no worker yet
 * @mvdev: device
 */
void migdev_worker_init(struct migdev_device *mvdev)
{
	struct migdev_worker *w = &mvdev->worker;

	spin_lock_init(&w->lock);
	init_waitqueue_head(&w->idle);
	INIT_DELAYED_WORK(&w->idle_work, migdev_worker_idle);
	w->vtsk = NULL;
	w->in_step = false;
	w->flags = 0;
	migdev_engine_turn_init(&w->turn, migdev_worker_turn_wake);
}

/**
 * migdev_worker_start() - the device's user opened it: its worker, a
 * thread of the calling process
 * @mvdev: device
 *
 * Return: 0 or a negative errno.
 */
int migdev_worker_start(struct migdev_device *mvdev)
{
	struct migdev_worker *w = &mvdev->worker;
	char name[TASK_COMM_LEN];
	struct vhost_task *vtsk;

	snprintf(name, sizeof(name), "migdev-%.8s", dev_name(mvdev->vdev.dev));
	vtsk = vhost_task_create(migdev_worker_fn, migdev_worker_killed, mvdev,
				 name);
	if (IS_ERR(vtsk))
		return PTR_ERR(vtsk);
	w->flags = 0;
	w->in_step = false;
	spin_lock(&w->lock);
	w->vtsk = vtsk;
	spin_unlock(&w->lock);
	vhost_task_start(vtsk);
	migdev_writer_open(mvdev);
	return 0;
}

/**
 * migdev_worker_write_due() - the device's writer has blocks to write
 * (its timer)
 * @mvdev: device
 *
 * Return: whether the worker runs (else nothing is due until it does).
 */
bool migdev_worker_write_due(struct migdev_device *mvdev)
{
	struct migdev_worker *w = &mvdev->worker;
	bool running;

	spin_lock(&w->lock);
	running = !!w->vtsk;
	if (running) {
		set_bit(MIGDEV_WORKER_WRITE, &w->flags);
		vhost_task_wake(w->vtsk);
	}
	spin_unlock(&w->lock);
	return running;
}

/**
 * migdev_worker_kick() - the device has work for its engine
 * @mvdev: device
 *
 * Any context that may take a spinlock; the device's lock is held.
 */
void migdev_worker_kick(struct migdev_device *mvdev)
{
	struct migdev_worker *w = &mvdev->worker;

	set_bit(MIGDEV_WORKER_PENDING, &w->flags);
	spin_lock(&w->lock);
	if (w->vtsk)
		vhost_task_wake(w->vtsk);
	spin_unlock(&w->lock);
}

/**
 * migdev_worker_stop() - the device closes: its worker ends
 * @mvdev: device
 *
 * Returns once the worker has exited and its engine is back.  A chunk in
 * execution ends first; the caller waits for it killably (it may wait for
 * the user's memory), and a killed caller is the user dying, whose worker
 * dies too.
 */
void migdev_worker_stop(struct migdev_device *mvdev)
{
	struct migdev_worker *w = &mvdev->worker;
	struct vhost_task *vtsk;

	spin_lock(&w->lock);
	vtsk = w->vtsk;
	w->vtsk = NULL;
	spin_unlock(&w->lock);
	if (!vtsk)
		return;
	if (wait_event_killable(w->idle, !READ_ONCE(w->in_step)))
		dev_dbg(mvdev->vdev.dev, "closed by a dying user in a chunk\n");
	vhost_task_stop(vtsk);
	/* The worker is gone: nothing arms the idle timer again. */
	cancel_delayed_work_sync(&w->idle_work);
	migdev_engines_put(&mvdev->parent->engines, &w->turn);
}
