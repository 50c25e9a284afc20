/* entry_undef.c: an object for the code cache tests that calls a function the loader does not
 * provide (tl_helper_elsewhere), so that loading it must be refused, naming the symbol. */
float tl_helper_elsewhere(const float *w, const float *x, int n);

float tl_entry(const float *w, const float *x, int n)
{
	return tl_helper_elsewhere(w, x, n) + 1.0f;
}
