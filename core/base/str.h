/* str.h: memory and string helpers core needs instead of libc's,
 * and strict number parsing (the whole text must be a number). */
#ifndef STR_H
#define STR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

void mem_copy(void *dst, const void *src, size_t n);
void mem_set(void *dst, int c, size_t n);
int mem_cmp(const void *a, const void *b, size_t n);
size_t str_len(const char *s);
bool str_eq(const char *a, const char *b);
/* True when s starts with prefix. */
bool str_starts(const char *s, const char *prefix);
/* Equal as byte strings of length n and NUL-terminated b. */
bool str_eq_n(const char *a, size_t n, const char *b);

/* Strict parsers: 0 on success, -1 on malformed text or overflow. */
int parse_i64(const char *s, int64_t *out);
int parse_int(const char *s, int *out);
int parse_u64(const char *s, uint64_t *out);
int parse_float(const char *s, float *out);
/* A size with an optional K/M/G suffix (powers of 1024). */
int parse_size(const char *s, uint64_t *out);

/* Little-endian loads from possibly unaligned bytes. */
static inline uint16_t load_u16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}
static inline uint32_t load_u32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
	       ((uint32_t)p[3] << 24);
}
static inline uint64_t load_u64(const uint8_t *p)
{
	return (uint64_t)load_u32(p) | ((uint64_t)load_u32(p + 4) << 32);
}

#endif
