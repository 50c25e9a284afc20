/* files_host.c: files on Linux: model files mapped read-only behind a SIGBUS handler (a file
 * truncated under the mapping ends the run with one error line), and output files written
 * under a temporary name in their folder, renamed onto their name only when complete. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/base/error.h"
#include "shim/host/host.h"
#include "shim/platform.h"

/* --- Mapped files, known to the SIGBUS handler --- */

#define MAX_MAPS 4
static struct {
	char path[PATH_MAX];
	const uint8_t *start;
	size_t size;
	dev_t dev;
	ino_t ino;
} maps[MAX_MAPS];
static volatile sig_atomic_t n_maps;

/* --- Output files --- */

#define MAX_FILES 8
static struct {
	FILE *f;
	int failed;	     /* errno of the first failed write, or 0 */
	char tmp[PATH_MAX];  /* "" when written in place (a device or a FIFO) */
	char dest[PATH_MAX]; /* what the temporary file is renamed to */
	const char *path;    /* as the caller named it, for messages */
} files[MAX_FILES];

/* Async-signal-safe: only unlink(2). */
void host_files_discard(void)
{
	for (int h = 0; h < MAX_FILES; h++)
		if (files[h].f && files[h].tmp[0])
			unlink(files[h].tmp);
}

static void put(const char *s)
{
	ssize_t r = write(2, s, strlen(s));
	(void)r; /* nothing is left to tell if stderr fails too */
}

/* A read of a mapped file that is gone (truncated by another process) raises SIGBUS: end the
 * run with one line. Other SIGBUS faults take the default action when the handler returns. */
static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	const uint8_t *a = si->si_addr;
	for (int i = 0; i < n_maps; i++)
		if (a >= maps[i].start && a < maps[i].start + maps[i].size) {
			host_files_discard();
			put("error: ");
			put(maps[i].path);
			put(": the file was truncated while in use (its mapped data is gone)\n");
			_exit(1);
		}
	signal(sig, SIG_DFL);
}

/* Interrupted or killed by a broken pipe: no partial output file stays behind. */
static void on_fatal(int sig)
{
	host_files_discard();
	signal(sig, SIG_DFL);
	raise(sig);
}

void host_files_init(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_sigbus;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGBUS, &sa, NULL);
	static const int fatal[] = {SIGPIPE, SIGINT, SIGTERM, SIGHUP};
	for (size_t i = 0; i < sizeof fatal / sizeof fatal[0]; i++)
		signal(fatal[i], on_fatal);
	/* Past a file-size limit, writes fail with EFBIG (reported) instead of killing us. */
	signal(SIGXFSZ, SIG_IGN);
}

static const char *kind_of(mode_t m)
{
	return S_ISDIR(m)    ? "a directory"
	       : S_ISFIFO(m) ? "a FIFO"
	       : S_ISCHR(m)  ? "a character device"
	       : S_ISSOCK(m) ? "a socket"
			     : "not a regular file";
}

/* The file read-only, 2 MB pages allowed before the pages are touched (so that readahead may
 * fill the page cache in 2 MB folios), and populated now: generation would otherwise take a
 * page fault per 4 KB of weights on its first token. */
static void *map_populated(int fd, size_t n)
{
	void *p = mmap(NULL, n, PROT_READ, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED)
		return p;
	madvise(p, n, MADV_HUGEPAGE);
	/* before Linux 5.14 (EINVAL): touch every page; other errors leave the faults for later */
	if (madvise(p, n, MADV_POPULATE_READ) < 0 && errno == EINVAL)
		for (size_t i = 0; i < n; i += 4096)
			(void)*(volatile const uint8_t *)((const uint8_t *)p + i);
	return p;
}

/* The size of an open regular file or block device; 0 with an error set when there is
 * nothing to map. */
static size_t file_size(int fd, const struct stat *st, const char *path)
{
	if (S_ISBLK(st->st_mode)) {
		off_t end = lseek(fd, 0, SEEK_END);
		if (end <= 0)
			error_set("%s: the block device is empty or unreadable", path);
		return end > 0 ? (size_t)end : 0;
	}
	if (st->st_size > 0)
		return (size_t)st->st_size;
	char c;
	if (read(fd, &c, 1) == 1)
		error_set("%s: the file has data but reports a size of 0 (as files under /proc and "
			  "/sys do), so it cannot be mapped; copy it to a regular file",
			  path);
	else
		error_set("%s: the file is empty", path);
	return 0;
}

int plat_model_map(const char *path, const uint8_t **data, size_t *size)
{
	/* The type first: opening a FIFO for reading would wait for a writer. */
	struct stat st;
	if (stat(path, &st) < 0)
		return error_set("%s: %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
		return error_set("%s: %s, not a regular file or a block device", path,
				 kind_of(st.st_mode));
	/* O_NONBLOCK: if a FIFO replaced the file since, the open still returns at once. */
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return error_set("%s: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0 || (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))) {
		close(fd);
		return error_set("%s: changed while being opened", path);
	}
	size_t n = file_size(fd, &st, path);
	if (n == 0 || n_maps == MAX_MAPS) {
		close(fd);
		return n == 0 ? -1 : error_set("%s: more than %d files mapped", path, MAX_MAPS);
	}
	void *p = map_populated(fd, n);
	close(fd);
	if (p == MAP_FAILED)
		return error_set("%s: mmap: %s", path, strerror(errno));
	int i = n_maps;
	snprintf(maps[i].path, sizeof maps[i].path, "%s", path);
	maps[i].start = p;
	maps[i].size = n;
	maps[i].dev = st.st_dev;
	maps[i].ino = st.st_ino;
	n_maps = i + 1;
	*data = p;
	*size = n;
	return 0;
}

/* Devices and FIFOs are written in place (nothing to replace); O_NONBLOCK so that a FIFO
 * nobody reads is refused instead of waiting for a reader. */
static int open_in_place(int h, const char *path)
{
	int fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return error_set("%s: %s", path,
				 errno == ENXIO ? "no process is reading this FIFO"
						: strerror(errno));
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	files[h].tmp[0] = 0;
	files[h].f = fdopen(fd, "wb");
	if (!files[h].f) {
		close(fd);
		return error_set("%s: %s", path, strerror(errno));
	}
	return h;
}

int plat_file_create(const char *path)
{
	int h = 0;
	while (h < MAX_FILES && files[h].f)
		h++;
	if (h == MAX_FILES)
		return error_set("%s: too many open files", path);
	files[h].failed = 0;
	files[h].path = path;
	struct stat st;
	int exists = stat(path, &st) == 0;
	if (exists) {
		for (int i = 0; i < n_maps; i++)
			if (st.st_dev == maps[i].dev && st.st_ino == maps[i].ino)
				return error_set(
				    "%s: this is %s, which is being read; choose another "
				    "output file",
				    path, maps[i].path);
		if (!S_ISREG(st.st_mode))
			return open_in_place(h, path);
	}
	/* The rename replaces the file a symbolic link points to, not the link. */
	if (!exists || !realpath(path, files[h].dest))
		snprintf(files[h].dest, sizeof files[h].dest, "%s", path);
	static unsigned serial;
	int fd = -1;
	for (int tries = 0; fd < 0 && tries < 100; tries++) {
		if ((size_t)snprintf(files[h].tmp, sizeof files[h].tmp, "%s.tmp%ld-%u",
				     files[h].dest, (long)getpid(),
				     serial++) >= sizeof files[h].tmp)
			return error_set("%s: the name is too long", path);
		fd = open(files[h].tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
		if (fd < 0 && errno != EEXIST)
			return error_set("%s: %s", path, strerror(errno));
	}
	if (fd < 0)
		return error_set("%s: no free temporary name beside it", path);
	if (exists)
		fchmod(fd, st.st_mode & 07777); /* a replaced file keeps its permissions */
	files[h].f = fdopen(fd, "wb");
	if (!files[h].f) {
		int e = errno;
		close(fd);
		unlink(files[h].tmp);
		return error_set("%s: %s", path, strerror(e));
	}
	return h;
}

int plat_file_write(int h, const void *buf, size_t n)
{
	if (h < 0 || h >= MAX_FILES || !files[h].f)
		return -1;
	if (files[h].failed)
		return -1;
	if (fwrite(buf, 1, n, files[h].f) == n)
		return 0;
	files[h].failed = errno ? errno : EIO;
	return -1;
}

int plat_file_close(int h)
{
	if (h < 0 || h >= MAX_FILES || !files[h].f)
		return -1;
	int err = files[h].failed;
	if (fflush(files[h].f) != 0 && !err)
		err = errno;
	/* On disk before the rename names it (a crash then leaves the old file or the whole new
	 * one), and out of the page cache: the write left it in small folios, which a later
	 * mapping of the file (an exported model) cannot map in 2 MB pages; read again, it is
	 * (generation from a just-exported TinyLlama: ~10 % faster). */
	if (!err && fdatasync(fileno(files[h].f)) < 0)
		err = errno;
	if (!err)
		posix_fadvise(fileno(files[h].f), 0, 0, POSIX_FADV_DONTNEED);
	if (fclose(files[h].f) != 0 && !err)
		err = errno;
	files[h].f = NULL;
	if (files[h].tmp[0]) {
		if (!err && rename(files[h].tmp, files[h].dest) < 0)
			err = errno;
		if (err)
			unlink(files[h].tmp);
	}
	return err ? error_set("%s: %s", files[h].path, strerror(err)) : 0;
}
