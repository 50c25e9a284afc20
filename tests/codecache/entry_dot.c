/* entry_dot.c: a compiled kernel for the code cache tests, built as an ELF relocatable object
 * (no-PIC small code model, and PIC): the "dot_f32" slot's signature, specialised to n == 64.
 * The activations go through memcpy and a lane table into a buffer, then to tl_fallback (the
 * slot's previous entry), so the result has the reference's bits. n < 0 is the tests' probe:
 * the number of specialised calls served plus a table value (-n % 4 picks it), which reaches
 * .data, .bss, .rodata and an absolute pointer: the relocation kinds compilers emit. */
#include <stddef.h>

float tl_fallback(const float *w, const float *x, int n);
void *memcpy(void *dst, const void *src, size_t n);

static const volatile int lane[8] = {0, 1, 2, 3, 4, 5, 6, 7};
static const float base[4] = {0.0f, 1000.0f, 2000.0f, 3000.0f};
static const float *volatile table = base; /* a pointer in .data: R_X86_64_64 */
int tl_test_calls;			   /* global: PIC code reaches it through the GOT */

float tl_entry(const float *w, const float *x, int n)
{
	if (n < 0)
		return table[(-n) & 3] + (float)tl_test_calls;
	if (n != 64)
		return tl_fallback(w, x, n);
	float copy[64], buf[64];
	memcpy(copy, x, (size_t)n * sizeof(float));
	for (int i = 0; i < 64; i++)
		buf[i] = copy[(i & ~7) + lane[i & 7]];
	tl_test_calls++;
	return tl_fallback(w, buf, n);
}
