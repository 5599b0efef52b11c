// SPDX-License-Identifier: GPL-2.0-only
/*
 * migdev-stream: look inside a saved migration stream.
 *
 *   migdev-stream [-q] [-t small|medium|large|xlarge] [-m MINOR] FILE
 *
 * Prints the stream's header, then every record at its offset: its tag,
 * flags, payload size, what it carries (pages, a queue's index) and
 * whether its checksum is right; then what a destination would say about
 * the whole stream, from the module's own decoder (emul/stream.c, built
 * here as fuzz/ and tests/ build it): accepted, or refused at which byte
 * and why, as the kernel would log it.  The destination is of the
 * stream's own type unless -t names another, and accepts stream minor
 * versions up to -m (default: this tree's newest).  -q prints only the
 * header and the verdict.  FILE is what migdev-pingpong --save writes, or
 * any data_fd's bytes saved by a VMM.
 *
 * Exit status: 0 if a destination would accept the stream, 1 if it would
 * refuse it, 2 if the file cannot be read or the arguments are wrong.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/kernel.h>
#include <linux/unaligned.h>

#include "stream.h"

#define HDR	sizeof(struct migdev_stream_header)
#define REC	sizeof(struct migdev_stream_record)

static const char *const type_names[MIGDEV_NUM_TYPES] = {
	"small", "medium", "large", "xlarge",
};

static const char *tag_name(u32 tag)
{
	switch (tag) {
	case MIGDEV_TAG_DEVMEM:		return "DEVMEM";
	case MIGDEV_TAG_DEVMEM_ZERO:	return "DEVMEM_ZERO";
	case MIGDEV_TAG_CONFIG:		return "CONFIG";
	case MIGDEV_TAG_REGS:		return "REGS";
	case MIGDEV_TAG_MSIX:		return "MSIX";
	case MIGDEV_TAG_QUEUE:		return "QUEUE";
	case MIGDEV_TAG_SOURCE_INFO:	return "SOURCE_INFO";
	case MIGDEV_TAG_OPAQUE:		return "OPAQUE";
	case MIGDEV_TAG_END:		return "END";
	}
	return "unknown";
}

static u8 *read_file(const char *path, size_t *len)
{
	size_t cap = 1 << 20, n;
	FILE *f = fopen(path, "rb");
	u8 *buf = malloc(cap);

	*len = 0;
	if (!f || !buf) {
		if (f)
			fclose(f);
		free(buf);
		return NULL;
	}
	while ((n = fread(buf + *len, 1, cap - *len, f)) > 0) {
		*len += n;
		if (*len == cap) {
			u8 *b = realloc(buf, cap * 2);

			if (!b)
				break;
			buf = b;
			cap *= 2;
		}
	}
	if (ferror(f)) {
		fclose(f);
		free(buf);
		return NULL;
	}
	fclose(f);
	return buf;
}

/* The header, as it claims itself to be; its minor. */
static u16 print_header(const u8 *s, size_t len)
{
	const struct migdev_stream_header *h = (const void *)s;
	u32 crc;

	if (len < HDR) {
		printf("header: %zu of %zu bytes: truncated\n", len, HDR);
		return 0;
	}
	crc = migdev_stream_crc(s, offsetof(struct migdev_stream_header, crc));
	printf("header: magic 0x%08x%s, stream %u.%u, ",
	       le32_to_cpu(h->magic),
	       le32_to_cpu(h->magic) == MIGDEV_STREAM_MAGIC ? "" : " (not migdev's)",
	       le16_to_cpu(h->major), le16_to_cpu(h->minor));
	printf("type %u (%s), %u queues, %llu bytes of device memory, ",
	       le32_to_cpu(h->type_id),
	       le32_to_cpu(h->type_id) < MIGDEV_NUM_TYPES ?
	       type_names[le32_to_cpu(h->type_id)] : "unknown",
	       le32_to_cpu(h->nr_queues),
	       (unsigned long long)le64_to_cpu(h->devmem_size));
	printf("register ABI %u.%u, checksum %s\n",
	       le32_to_cpu(h->abi_version) >> 16,
	       le32_to_cpu(h->abi_version) & 0xffff,
	       crc == le32_to_cpu(h->crc) ? "ok" : "BAD");
	return le16_to_cpu(h->minor);
}

struct counts {
	unsigned int records[10];	/* by tag_index() */
	unsigned long long pages, zero_pages, bad;
};

/* A known tag's own number, END 9, any other 0. */
static unsigned int tag_index(u32 tag)
{
	return tag == MIGDEV_TAG_END ? 9 :
	       tag >= MIGDEV_TAG_DEVMEM && tag <= MIGDEV_TAG_OPAQUE ? tag : 0;
}

/* Every record, as far as the file goes. */
static void print_records(const u8 *s, size_t len, u16 minor, bool quiet,
			  struct counts *c)
{
	size_t off = HDR;

	while (off < len) {
		struct migdev_stream_record r;
		u64 size, sum;
		u32 tag;
		char what[64] = "";

		if (len - off < REC) {
			printf("%10zu  truncated: %zu of %zu bytes of a record header\n",
			       off, len - off, REC);
			return;
		}
		memcpy(&r, s + off, REC);	/* records are not aligned */
		tag = le32_to_cpu(r.tag);
		size = le64_to_cpu(r.size);
		if (size > len - off - REC) {
			printf("%10zu  %-12s %10llu B  truncated: %zu bytes of it in the file\n",
			       off, tag_name(tag), (unsigned long long)size,
			       len - off - REC);
			return;
		}
		sum = migdev_stream_sum(minor, s + off + REC, size);
		if ((tag == MIGDEV_TAG_DEVMEM || tag == MIGDEV_TAG_DEVMEM_ZERO) &&
		    size >= sizeof(struct migdev_rec_devmem)) {
			u64 first = get_unaligned_le64(s + off + REC);
			u32 count = get_unaligned_le32(s + off + REC + 8);

			snprintf(what, sizeof(what), "pages %llu+%u",
				 (unsigned long long)first, count);
			if (tag == MIGDEV_TAG_DEVMEM)
				c->pages += count;
			else
				c->zero_pages += count;
		} else if (tag == MIGDEV_TAG_QUEUE && size >= 4) {
			snprintf(what, sizeof(what), "queue %u",
				 get_unaligned_le32(s + off + REC));
		} else if (tag_index(tag) == 0) {
			snprintf(what, sizeof(what), "tag %u", tag);
		}
		if (r.flags & cpu_to_le32(MIGDEV_REC_F_OPTIONAL))
			strncat(what, what[0] ? ", optional" : "optional",
				sizeof(what) - strlen(what) - 1);
		if (sum != ((u64)le32_to_cpu(r.crc_hi) << 32 | le32_to_cpu(r.crc)))
			c->bad++;
		c->records[tag_index(tag)]++;
		if (!quiet)
			printf("%10zu  %-12s %10llu B  %-24s %s %s\n", off,
			       tag_name(tag), (unsigned long long)size, what,
			       minor >= MIGDEV_STREAM_MINOR_XXH64 ? "xxh64" : "crc32c",
			       sum == ((u64)le32_to_cpu(r.crc_hi) << 32 |
				       le32_to_cpu(r.crc)) ? "ok" : "BAD");
		off += REC + size;
		if (tag == MIGDEV_TAG_END && off < len) {
			printf("%10zu  %zu bytes after END\n", off, len - off);
			return;
		}
	}
}

static int count_pages(void *priv, u64 first, u32 count, const void *data)
{
	return 0;
}

int main(int argc, char **argv)
{
	int type = -1, opt, minor = MIGDEV_STREAM_MINOR, ret;
	static struct migdev_stream_dec dec;
	static u8 payload[MIGDEV_STREAM_DEC_BUF];
	const struct migdev_stream_header *h;
	struct counts c = {};
	bool quiet = false;
	u32 nr_queues;
	u64 devmem;
	size_t len;
	ssize_t n;
	u16 sminor;
	u8 *s;

	while ((opt = getopt(argc, argv, "qt:m:")) != -1) {
		switch (opt) {
		case 'q':
			quiet = true;
			break;
		case 't':
			for (type = 0; type < MIGDEV_NUM_TYPES; type++)
				if (!strcmp(optarg, type_names[type]) ||
				    (!strncmp(optarg, "migdev-", 7) &&
				     !strcmp(optarg + 7, type_names[type])))
					break;
			if (type == MIGDEV_NUM_TYPES)
				goto usage;
			break;
		case 'm':
			minor = atoi(optarg);
			if (minor < 0 || minor > 0xffff)
				goto usage;
			break;
		default:
			goto usage;
		}
	}
	if (optind != argc - 1)
		goto usage;
	s = read_file(argv[optind], &len);
	if (!s) {
		fprintf(stderr, "migdev-stream: %s: %s\n", argv[optind],
			strerror(errno));
		return 2;
	}
	printf("%s: %zu bytes\n", argv[optind], len);
	sminor = print_header(s, len);
	print_records(s, len, sminor, quiet, &c);
	printf("records: DEVMEM %u (%llu pages), DEVMEM_ZERO %u (%llu pages), ",
	       c.records[tag_index(MIGDEV_TAG_DEVMEM)], c.pages,
	       c.records[tag_index(MIGDEV_TAG_DEVMEM_ZERO)], c.zero_pages);
	printf("CONFIG %u, REGS %u, MSIX %u, QUEUE %u, SOURCE_INFO %u, OPAQUE %u, END %u, ",
	       c.records[tag_index(MIGDEV_TAG_CONFIG)],
	       c.records[tag_index(MIGDEV_TAG_REGS)],
	       c.records[tag_index(MIGDEV_TAG_MSIX)],
	       c.records[tag_index(MIGDEV_TAG_QUEUE)],
	       c.records[tag_index(MIGDEV_TAG_SOURCE_INFO)],
	       c.records[tag_index(MIGDEV_TAG_OPAQUE)],
	       c.records[tag_index(MIGDEV_TAG_END)]);
	printf("unknown %u; %llu with a bad checksum\n", c.records[0], c.bad);

	/* The destination: of -t's type, else of the type the stream says. */
	h = (const void *)s;
	if (type < 0 && len >= HDR &&
	    le32_to_cpu(h->type_id) < MIGDEV_NUM_TYPES)
		type = le32_to_cpu(h->type_id);
	if (type >= 0) {
		nr_queues = MIGDEV_TYPE_NR_QUEUES(type);
		devmem = MIGDEV_TYPE_DEVMEM_SIZE(type);
	} else {
		/* No such type: one of the geometry the stream claims. */
		nr_queues = len >= HDR ? le32_to_cpu(h->nr_queues) : 1;
		devmem = len >= HDR ? le64_to_cpu(h->devmem_size) : 0;
		type = len >= HDR ? (int)le32_to_cpu(h->type_id) : 0;
	}
	migdev_stream_dec_init(&dec, type, nr_queues, devmem, minor, payload);
	dec.devmem = count_pages;
	n = migdev_stream_dec_write(&dec, s, len);
	ret = n < 0 ? (int)n : migdev_stream_dec_finish(&dec);
	printf("a destination of type %s (%u queues, %llu bytes of device memory) ",
	       type >= 0 && type < MIGDEV_NUM_TYPES ? type_names[type] : "unknown",
	       nr_queues, (unsigned long long)devmem);
	printf("accepting stream 1.0 to 1.%d: ", minor);
	if (!ret)
		printf("accepts it\n");
	else
		printf("refuses it at byte %llu: %s (%s)\n",
		       (unsigned long long)dec.offset, dec.err, strerror(-ret));
	free(s);
	return ret ? 1 : 0;

usage:
	fprintf(stderr,
		"usage: migdev-stream [-q] [-t small|medium|large|xlarge] [-m MINOR] FILE\n");
	return 2;
}
