/* mutate.c: the binary-file editor tests/corrupt.sh uses (no Python needed):
 *   mutate info FILE                      GGUF field offsets, one "name offset width" a line
 *   mutate set FILE OFFSET WIDTH VALUE    writes VALUE (decimal, 0x hex or negative) as a
 *                                         little-endian integer of WIDTH (1, 2, 4, 8) bytes
 * info names: magic version n_tensors n_kv, kv.<key>.{keylen,type,strlen,arrtype,arrlen,
 * elem0len,value}, tensor.<name>.{namelen,ndims,ne0..ne3,type,offset}, data_offset. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint8_t *buf;
static size_t size, pos;

static void fail(const char *what)
{
	fprintf(stderr, "mutate: %s at offset %zu\n", what, pos);
	exit(2);
}

static uint64_t rd(int width)
{
	if (pos + (size_t)width > size)
		fail("truncated");
	uint64_t v = 0;
	for (int i = width - 1; i >= 0; i--)
		v = v << 8 | buf[pos + (size_t)i];
	pos += (size_t)width;
	return v;
}

static void field(const char *prefix, const char *name, int width)
{
	printf("%s%s %zu %d\n", prefix, name, pos, width);
}

/* Reads a string; returns a pointer to a NUL-terminated copy (static, truncated at 200). */
static const char *rd_str(const char *prefix, const char *name)
{
	static char s[201];
	if (prefix)
		field(prefix, name, 8);
	uint64_t n = rd(8);
	if (n > size - pos)
		fail("string past the end");
	size_t k = n < 200 ? (size_t)n : 200;
	memcpy(s, buf + pos, k);
	s[k] = 0;
	pos += (size_t)n;
	return s;
}

static int scalar_width(uint32_t type)
{
	static const int w[] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};
	return type < 13 ? w[type] : -1;
}

static void info(void)
{
	field("", "magic", 4);
	if (rd(4) != 0x46554747u)
		fail("not GGUF");
	field("", "version", 4);
	rd(4);
	field("", "n_tensors", 8);
	uint64_t nt = rd(8);
	field("", "n_kv", 8);
	uint64_t nkv = rd(8);
	uint64_t align = 32;
	for (uint64_t i = 0; i < nkv; i++) {
		char prefix[256];
		size_t keypos = pos;
		const char *key = rd_str(NULL, NULL);
		snprintf(prefix, sizeof prefix, "kv.%s.", key);
		printf("%skeylen %zu 8\n", prefix, keypos);
		field(prefix, "type", 4);
		uint32_t type = (uint32_t)rd(4);
		if (type == 8) {
			rd_str(prefix, "strlen");
		} else if (type == 9) {
			field(prefix, "arrtype", 4);
			uint32_t at = (uint32_t)rd(4);
			field(prefix, "arrlen", 8);
			uint64_t n = rd(8);
			for (uint64_t j = 0; j < n; j++) {
				if (at == 8)
					rd_str(j == 0 ? prefix : NULL, "elem0len");
				else if (scalar_width(at) > 0)
					pos += (size_t)scalar_width(at);
				else
					fail("unknown array type");
			}
		} else if (scalar_width(type) > 0) {
			field(prefix, "value", scalar_width(type));
			uint64_t v = rd(scalar_width(type));
			if (!strcmp(key, "general.alignment"))
				align = v;
		} else {
			fail("unknown kv type");
		}
	}
	for (uint64_t i = 0; i < nt; i++) {
		char prefix[256];
		size_t namepos = pos;
		const char *name = rd_str(NULL, NULL);
		snprintf(prefix, sizeof prefix, "tensor.%s.", name);
		printf("%snamelen %zu 8\n", prefix, namepos);
		field(prefix, "ndims", 4);
		uint32_t nd = (uint32_t)rd(4);
		if (nd > 4)
			fail("too many dimensions");
		for (uint32_t d = 0; d < nd; d++) {
			char ne[8];
			snprintf(ne, sizeof ne, "ne%u", d);
			field(prefix, ne, 8);
			rd(8);
		}
		field(prefix, "type", 4);
		rd(4);
		field(prefix, "offset", 8);
		rd(8);
	}
	printf("data_offset %zu 0\n", (size_t)((pos + align - 1) / align * align));
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: mutate info FILE | mutate set FILE OFFSET WIDTH VALUE\n");
		return 2;
	}
	FILE *f = fopen(argv[2], "r+b");
	if (!f) {
		perror(argv[2]);
		return 2;
	}
	fseek(f, 0, SEEK_END);
	size = (size_t)ftell(f);
	rewind(f);
	buf = malloc(size ? size : 1);
	if (!buf || fread(buf, 1, size, f) != size)
		fail("cannot read");
	if (!strcmp(argv[1], "info")) {
		info();
	} else if (!strcmp(argv[1], "set") && argc == 6) {
		size_t off = (size_t)strtoull(argv[3], NULL, 0);
		int width = atoi(argv[4]);
		uint64_t v = argv[5][0] == '-' ? (uint64_t)strtoll(argv[5], NULL, 0)
					       : strtoull(argv[5], NULL, 0);
		if ((width != 1 && width != 2 && width != 4 && width != 8) ||
		    off + (size_t)width > size)
			fail("bad offset or width");
		for (int i = 0; i < width; i++)
			buf[off + (size_t)i] = (uint8_t)(v >> (8 * i));
		rewind(f);
		if (fwrite(buf, 1, size, f) != size)
			fail("cannot write");
	} else {
		fprintf(stderr, "mutate: unknown command %s\n", argv[1]);
		return 2;
	}
	fclose(f);
	free(buf);
	return 0;
}
