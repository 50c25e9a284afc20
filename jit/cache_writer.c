/* cache_writer.c: lays out and writes a code cache file; see cache_writer.h. */
#define _GNU_SOURCE
#include "jit/cache_writer.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Objects start on 16-byte boundaries, so that a reader may map them in place. */
#define OBJECT_ALIGN 16u

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static size_t align_up(size_t n)
{
	return (n + OBJECT_ALIGN - 1) & ~(size_t)(OBJECT_ALIGN - 1);
}

/* The whole image in memory; NULL when it would not fit. */
static uint8_t *build_image(const CodeCacheEntryIn *entries, int count, size_t *size)
{
	size_t at = CODECACHE_HEADER_BYTES + (size_t)count * CODECACHE_ENTRY_BYTES;
	size_t total = align_up(at);
	for (int i = 0; i < count; i++) {
		if (entries[i].object_size > SIZE_MAX / 2 - total)
			return NULL;
		total = align_up(total + entries[i].object_size);
	}
	uint8_t *img = calloc(1, total);
	if (!img)
		return NULL;
	codecache_put_header(img, (uint32_t)count, total);
	size_t obj_at = align_up(at);
	for (int i = 0; i < count; i++) {
		codecache_put_entry(img + CODECACHE_HEADER_BYTES +
					(size_t)i * CODECACHE_ENTRY_BYTES,
				    &entries[i].key, obj_at, entries[i].object_size);
		memcpy(img + obj_at, entries[i].object, entries[i].object_size);
		obj_at = align_up(obj_at + entries[i].object_size);
	}
	codecache_put_checksum(img, total);
	*size = total;
	return img;
}

/* Writes all n bytes to a new temporary file beside path, then renames it onto path. */
static int write_replace(const char *path, const uint8_t *buf, size_t n, char *err, size_t errlen)
{
	static unsigned serial;
	char tmp[4096];
	int fd = -1;
	for (int tries = 0; fd < 0 && tries < 100; tries++) {
		if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp%ld-%u", path, (long)getpid(),
				     serial++) >= sizeof tmp)
			return fail(err, errlen, "%s: the name is too long", path);
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
		if (fd < 0 && errno != EEXIST)
			return fail(err, errlen, "%s: %s", path, strerror(errno));
	}
	if (fd < 0)
		return fail(err, errlen, "%s: no free temporary name beside it", path);
	int e = 0;
	for (size_t done = 0; done < n && !e;) {
		ssize_t w = write(fd, buf + done, n - done);
		if (w < 0 && errno != EINTR)
			e = errno;
		else if (w > 0)
			done += (size_t)w;
	}
	if (!e && fsync(fd) < 0)
		e = errno;
	if (close(fd) < 0 && !e)
		e = errno;
	if (!e && rename(tmp, path) < 0)
		e = errno;
	if (e) {
		unlink(tmp);
		return fail(err, errlen, "%s: %s", path, strerror(e));
	}
	return 0;
}

int code_cache_write(const char *path, const CodeCacheEntryIn *entries, int count, char *err,
		     size_t errlen)
{
	if (count < 0 || (uint32_t)count > CODECACHE_MAX_ENTRIES)
		return fail(err, errlen, "%s: %d entries (at most %u)", path, count,
			    CODECACHE_MAX_ENTRIES);
	for (int i = 0; i < count; i++)
		if (!entries[i].object || entries[i].object_size == 0)
			return fail(err, errlen, "%s: entry %d (%s) has no object", path, i,
				    entries[i].key.slot);
	size_t size;
	uint8_t *img = build_image(entries, count, &size);
	if (!img)
		return fail(err, errlen, "%s: out of memory for the cache image", path);
	int r = write_replace(path, img, size, err, errlen);
	free(img);
	return r;
}
