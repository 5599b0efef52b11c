// SPDX-License-Identifier: GPL-2.0-only
/*
 * migdev-compat: the pre-flight compatibility check, before a migration.
 *
 *   migdev-compat show TARGET             TARGET's description
 *   migdev-compat check TARGET [FILE|-]   would TARGET take the source
 *                                         described in FILE (default:
 *                                         standard input)?
 *   migdev-compat SOURCE DESTINATION      both on this host: SOURCE to
 *                                         DESTINATION, and back
 *
 * TARGET is an instance's UUID, a type's name (migdev-small, ...; on the
 * parent -p PARENT, default migdev0) for a destination with no instance
 * yet, or the directory of its migration_compat (the description) and
 * migration_compat_check (the question) files.  Across two hosts:
 *
 *   ssh src migdev-compat show UUID | ssh dst migdev-compat check UUID
 *
 * Exit status: 0 it would, 1 it would not (with the errno and the
 * kernel's reason: the module logs what differs, and this reads it back
 * from /dev/kmsg where it may), 2 a usage or system error.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DESC_MAX 4096

static const char *parent = "migdev0";

static void die_usage(void)
{
	fprintf(stderr,
		"usage: migdev-compat [-p PARENT] show TARGET\n"
		"       migdev-compat [-p PARENT] check TARGET [FILE|-]\n"
		"       migdev-compat [-p PARENT] SOURCE DESTINATION\n"
		"TARGET: an instance's UUID, a type (migdev-small...), or the directory of its\n"
		"        migration_compat and migration_compat_check files\n");
	exit(2);
}

/* TARGET's file @name: migration_compat or migration_compat_check. */
static void target_path(const char *target, const char *name, char *path,
			size_t len)
{
	if (strchr(target, '/'))
		snprintf(path, len, "%s/%s", target, name);
	else if (!strncmp(target, "migdev-", 7))
		snprintf(path, len,
			 "/sys/class/mdev_bus/%s/mdev_supported_types/%s/migdev/%s",
			 parent, target, name);
	else
		snprintf(path, len, "/sys/bus/mdev/devices/%s/migdev/%s",
			 target, name);
}

/* All of @fd, at most DESC_MAX - 1 bytes, NUL-terminated: its length. */
static ssize_t read_all(int fd, char *buf)
{
	size_t n = 0;
	ssize_t r;

	while (n < DESC_MAX - 1) {
		r = read(fd, buf + n, DESC_MAX - 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (!r)
			break;
		n += r;
	}
	buf[n] = 0;
	return n;
}

static int describe(const char *target, char *buf)
{
	char path[PATH_MAX];
	int fd;
	ssize_t n;

	target_path(target, "migration_compat", path, sizeof(path));
	fd = open(path, O_RDONLY);
	if (fd < 0) {
		fprintf(stderr, "migdev-compat: %s: %s\n", path, strerror(errno));
		return -1;
	}
	n = read_all(fd, buf);
	if (n < 0)
		fprintf(stderr, "migdev-compat: %s: %s\n", path, strerror(errno));
	close(fd);
	return n < 0 ? -1 : 0;
}

/* The kernel's reason, from the log records added since @kmsg's open. */
static void print_reason(int kmsg)
{
	char rec[1024];
	ssize_t n;
	int found = 0;

	if (kmsg < 0) {
		printf("  (the kernel log says why)\n");
		return;
	}
	for (;;) {
		char *msg;

		n = read(kmsg, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)
			continue;	/* records overwritten: go on */
		if (n <= 0)
			break;
		rec[n] = 0;
		msg = strchr(rec, ';');
		if (!msg || !strstr(msg, "migration_compat"))
			continue;
		msg[strcspn(msg, "\n")] = 0;
		printf("  kernel: %s\n", msg + 1);
		found = 1;
	}
	if (!found)
		printf("  (the kernel log says why, unless rate-limited)\n");
}

/* Would @target take the source @desc describes?  0 yes, 1 no, 2 error. */
static int check(const char *target, const char *desc, const char *what)
{
	char path[PATH_MAX];
	int fd, kmsg, err = 0;
	ssize_t n;

	target_path(target, "migration_compat_check", path, sizeof(path));
	fd = open(path, O_WRONLY);
	if (fd < 0) {
		fprintf(stderr, "migdev-compat: %s: %s\n", path, strerror(errno));
		return 2;
	}
	kmsg = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);
	if (kmsg >= 0)
		lseek(kmsg, 0, SEEK_END);
	n = write(fd, desc, strlen(desc));
	if (n < 0)
		err = errno;
	close(fd);
	if (!err) {
		printf("%s: %s would take it\n", what, target);
	} else {
		printf("%s: %s would not take it: %s (%d)\n", what, target,
		       strerror(err), err);
		print_reason(kmsg);
	}
	if (kmsg >= 0)
		close(kmsg);
	if (err == EINVAL || err == ENODEV || err == EPROTONOSUPPORT)
		return 1;
	return err ? 2 : 0;
}

int main(int argc, char **argv)
{
	char desc[DESC_MAX], back[DESC_MAX];
	int opt, ret;

	while ((opt = getopt(argc, argv, "p:h")) != -1) {
		if (opt != 'p')
			die_usage();
		parent = optarg;
	}
	argc -= optind;
	argv += optind;
	if (argc == 2 && !strcmp(argv[0], "show")) {
		if (describe(argv[1], desc))
			return 2;
		fputs(desc, stdout);
		return 0;
	}
	if ((argc == 2 || argc == 3) && !strcmp(argv[0], "check")) {
		int fd = STDIN_FILENO;

		if (argc == 3 && strcmp(argv[2], "-")) {
			fd = open(argv[2], O_RDONLY);
			if (fd < 0) {
				fprintf(stderr, "migdev-compat: %s: %s\n",
					argv[2], strerror(errno));
				return 2;
			}
		}
		if (read_all(fd, desc) < 0) {
			fprintf(stderr, "migdev-compat: reading the description: %s\n",
				strerror(errno));
			return 2;
		}
		return check(argv[1], desc, "source");
	}
	if (argc != 2)
		die_usage();
	if (describe(argv[0], desc) || describe(argv[1], back))
		return 2;
	ret = check(argv[1], desc, argv[0]);
	if (ret == 2)
		return 2;
	opt = check(argv[0], back, argv[1]);
	return opt == 2 ? 2 : ret | opt;
}
