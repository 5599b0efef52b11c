/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * migdev: tracepoints, /sys/kernel/tracing/events/migdev/.
 *
 * What an instance did, for the people who debug a VMM against it: every
 * migration arc with its result and duration, every data_fd read and
 * write, the answers to VFIO_MIG_GET_PRECOPY_INFO and
 * VFIO_DEVICE_FEATURE_MIG_DATA_SIZE, a refused stream and why, the
 * quiesce's latency, resets, injected faults, and the DMA engine's
 * descriptors.  Each event names the instance by its mdev's name (UUID).
 * Read them with trace-cmd or perf: "trace-cmd record -e migdev".
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM migdev

#if !defined(MIGDEV_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define MIGDEV_TRACE_H

#include <linux/tracepoint.h>
#include <linux/vfio.h>

#define migdev_show_state(s)						\
	__print_symbolic(s,						\
			 { VFIO_DEVICE_STATE_ERROR, "ERROR" },		\
			 { VFIO_DEVICE_STATE_STOP, "STOP" },		\
			 { VFIO_DEVICE_STATE_RUNNING, "RUNNING" },	\
			 { VFIO_DEVICE_STATE_STOP_COPY, "STOP_COPY" },	\
			 { VFIO_DEVICE_STATE_RESUMING, "RESUMING" },	\
			 { VFIO_DEVICE_STATE_RUNNING_P2P, "RUNNING_P2P" }, \
			 { VFIO_DEVICE_STATE_PRE_COPY, "PRE_COPY" },	\
			 { VFIO_DEVICE_STATE_PRE_COPY_P2P, "PRE_COPY_P2P" })

TRACE_EVENT(migdev_arc,
	TP_PROTO(const char *dev, u32 from, u32 to, int ret, u64 ns),
	TP_ARGS(dev, from, to, ret, ns),
	TP_STRUCT__entry(
		__string(dev, dev)
		__field(u32, from)
		__field(u32, to)
		__field(int, ret)
		__field(u64, ns)
	),
	TP_fast_assign(
		__assign_str(dev);
		__entry->from = from;
		__entry->to = to;
		__entry->ret = ret;
		__entry->ns = ns;
	),
	TP_printk("%s %s -> %s ret=%d ns=%llu", __get_str(dev),
		  migdev_show_state(__entry->from),
		  migdev_show_state(__entry->to), __entry->ret, __entry->ns)
);

DECLARE_EVENT_CLASS(migdev_data_io,
	TP_PROTO(const char *dev, size_t len, ssize_t ret, u64 total),
	TP_ARGS(dev, len, ret, total),
	TP_STRUCT__entry(
		__string(dev, dev)
		__field(size_t, len)
		__field(ssize_t, ret)
		__field(u64, total)
	),
	TP_fast_assign(
		__assign_str(dev);
		__entry->len = len;
		__entry->ret = ret;
		__entry->total = total;
	),
	TP_printk("%s len=%zu ret=%zd total=%llu", __get_str(dev),
		  __entry->len, __entry->ret, __entry->total)
);

/* A data_fd read: asked @len, got @ret; @total bytes of the stream so far. */
DEFINE_EVENT(migdev_data_io, migdev_save_read,
	TP_PROTO(const char *dev, size_t len, ssize_t ret, u64 total),
	TP_ARGS(dev, len, ret, total)
);

/* A data_fd write: @len given, @ret taken; @total taken so far. */
DEFINE_EVENT(migdev_data_io, migdev_resume_write,
	TP_PROTO(const char *dev, size_t len, ssize_t ret, u64 total),
	TP_ARGS(dev, len, ret, total)
);

TRACE_EVENT(migdev_precopy_info,
	TP_PROTO(const char *dev, u64 initial, u64 dirty, u64 flags,
		 int ret),
	TP_ARGS(dev, initial, dirty, flags, ret),
	TP_STRUCT__entry(
		__string(dev, dev)
		__field(u64, initial)
		__field(u64, dirty)
		__field(u64, flags)
		__field(int, ret)
	),
	TP_fast_assign(
		__assign_str(dev);
		__entry->initial = initial;
		__entry->dirty = dirty;
		__entry->flags = flags;
		__entry->ret = ret;
	),
	TP_printk("%s initial=%llu dirty=%llu flags=%#llx ret=%d",
		  __get_str(dev), __entry->initial, __entry->dirty,
		  __entry->flags, __entry->ret)
);

TRACE_EVENT(migdev_data_size,
	TP_PROTO(const char *dev, u64 stop_copy_length),
	TP_ARGS(dev, stop_copy_length),
	TP_STRUCT__entry(
		__string(dev, dev)
		__field(u64, stop_copy_length)
	),
	TP_fast_assign(
		__assign_str(dev);
		__entry->stop_copy_length = stop_copy_length;
	),
	TP_printk("%s stop_copy_length=%llu", __get_str(dev),
		  __entry->stop_copy_length)
);

TRACE_EVENT(migdev_resume_refused,
	TP_PROTO(const char *dev, u64 offset, int err,
		 const char *reason),
	TP_ARGS(dev, offset, err, reason),
	TP_STRUCT__entry(
		__string(dev, dev)
		__field(u64, offset)
		__field(int, err)
		__string(reason, reason)
	),
	TP_fast_assign(
		__assign_str(dev);
		__entry->offset = offset;
		__entry->err = err;
		__assign_str(reason);
	),
	TP_printk("%s at byte %llu err=%d: %s", __get_str(dev),
		  __entry->offset, __entry->err, __get_str(reason))
);

/* The engine paused for a P2P state: how long the arc waited for it. */
TRACE_EVENT(migdev_quiesce,
	TP_PROTO(const char *dev, u64 ns),
	TP_ARGS(dev, ns),
	TP_STRUCT__entry(
		__string(dev, dev)
		__field(u64, ns)
	),
	TP_fast_assign(
		__assign_str(dev);
		__entry->ns = ns;
	),
	TP_printk("%s ns=%llu", __get_str(dev), __entry->ns)
);

TRACE_EVENT(migdev_reset,
	TP_PROTO(const char *dev, int kind),
	TP_ARGS(dev, kind),
	TP_STRUCT__entry(
		__string(dev, dev)
		__field(int, kind)
	),
	TP_fast_assign(
		__assign_str(dev);
		__entry->kind = kind;
	),
	TP_printk("%s %s", __get_str(dev),
		  __print_symbolic(__entry->kind, { 0, "power-on" },
				   { 1, "FLR" }, { 2, "VFIO_DEVICE_RESET" }))
);

/* A fault was injected at @point (debugfs). */
TRACE_EVENT(migdev_fault,
	TP_PROTO(const char *dev, const char *point, int err),
	TP_ARGS(dev, point, err),
	TP_STRUCT__entry(
		__string(dev, dev)
		__string(point, point)
		__field(int, err)
	),
	TP_fast_assign(
		__assign_str(dev);
		__assign_str(point);
		__entry->err = err;
	),
	TP_printk("%s %s err=%d", __get_str(dev), __get_str(point),
		  __entry->err)
);

/* The engine fetched a descriptor on @queue. */
TRACE_EVENT(migdev_desc_start,
	TP_PROTO(const char *dev, u32 queue, u16 opcode, u32 len,
		 u64 cookie),
	TP_ARGS(dev, queue, opcode, len, cookie),
	TP_STRUCT__entry(
		__string(dev, dev)
		__field(u32, queue)
		__field(u16, opcode)
		__field(u32, len)
		__field(u64, cookie)
	),
	TP_fast_assign(
		__assign_str(dev);
		__entry->queue = queue;
		__entry->opcode = opcode;
		__entry->len = len;
		__entry->cookie = cookie;
	),
	TP_printk("%s queue=%u opcode=%u len=%u cookie=%#llx", __get_str(dev),
		  __entry->queue, __entry->opcode, __entry->len,
		  __entry->cookie)
);

/* The engine completed (or refused, or aborted) a descriptor. */
TRACE_EVENT(migdev_desc_done,
	TP_PROTO(const char *dev, u32 queue, u32 status, u64 bytes,
		 u64 cookie),
	TP_ARGS(dev, queue, status, bytes, cookie),
	TP_STRUCT__entry(
		__string(dev, dev)
		__field(u32, queue)
		__field(u32, status)
		__field(u64, bytes)
		__field(u64, cookie)
	),
	TP_fast_assign(
		__assign_str(dev);
		__entry->queue = queue;
		__entry->status = status;
		__entry->bytes = bytes;
		__entry->cookie = cookie;
	),
	TP_printk("%s queue=%u status=%u bytes=%llu cookie=%#llx",
		  __get_str(dev), __entry->queue, __entry->status,
		  __entry->bytes, __entry->cookie)
);

#endif /* MIGDEV_TRACE_H */

/* This part must be outside the include guard. */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
