/* entry_rms_norm.c: the code cache test object for the kernel target (tests/kcache.sh): an
 * rms_norm entry that calls tl_fallback, the tier-1 kernel, so a run with it loaded prints the
 * same bits; built freestanding, no red zone, small code model, as kernel-bound entries are. */
extern void tl_fallback(float *o, const float *x, const float *weight, int n, float eps);
void tl_entry(float *o, const float *x, const float *weight, int n, float eps);

void tl_entry(float *o, const float *x, const float *weight, int n, float eps)
{
	tl_fallback(o, x, weight, n, eps);
}
