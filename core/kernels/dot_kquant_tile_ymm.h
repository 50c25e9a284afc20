/* dot_kquant_tile_ymm.h: the ymm K-quant tiles (8 tokens a pass), included by dot_kquant_tile.c
 * once per ISA with YMM_TARGET (its target attribute), YMM_NAME (the suffix of its names) and
 * YMM_VNNI (1 where vpdpbusd on ymm exists); no include guard, on purpose. */

/* Rows [r0, r0 + RS) of t (RS <= 4: 16 ymm registers) against 8 tokens, part their 8 partials
 * each. AVX2: vpmaddubsw of the codes (unsigned, broadcast) and x into int16 pairs, summed over
 * as many 4-value lanes as int16 holds (Q4_K 8, Q6_K 2: |sum| <= 2 lanes x 4 x 63 x 128; the
 * others a group's 4 or 8), then vpmaddwd by the group's scale into int32, and vpmaddwd of the
 * pairs against the activation sums. AVX-VNNI: vpdpbusd over the group, vpmulld by its scale
 * (vpdpwssd where the sum fits int16), vpdpwssd for the pairs. The float terms as the AVX-512 tile.
 */
YMM_TARGET static inline __attribute__((always_inline)) void
YMM_NAME(tile_set)(const TileRows *t, int r0, const int RS, const TileKind kind, int b,
		   const int8_t *xs, const float *xd, const int16_t *xb, __m256 (*part)[8])
{
	const int G = TILE_G16(kind) ? 16 : 32;
	__m256i isum[4], psum[4];
	for (int r = 0; r < RS; r++)
		isum[r] = psum[r] = _mm256_setzero_si256();
#if YMM_VNNI
	for (int k = 0; k < QK_K / G; k++) {
		__m256i p[4];
		for (int r = 0; r < RS; r++)
			p[r] = _mm256_setzero_si256();
		_Pragma("GCC unroll 8") for (int l = 0; l < G / 4; l++)
		{
			__m256i xv = _mm256_loadu_si256(
			    (const __m256i *)(const void *)(xs + (G / 4 * k + l) * 64));
			for (int r = 0; r < RS; r++) {
				int32_t wl;
				__builtin_memcpy(&wl, t->codes[r0 + r] + G * k + 4 * l, 4);
				p[r] = _mm256_dpbusd_avx_epi32(p[r], _mm256_set1_epi32(wl), xv);
				TILE_KEEP(p[r]);
			}
		}
		for (int r = 0; r < RS; r++)
			isum[r] =
			    TILE_SUM16(kind)
				? _mm256_dpwssd_avx_epi32(
				      isum[r], p[r], _mm256_set1_epi32(t->sc[r0 + r][k] & 0xffff))
				: _mm256_add_epi32(isum[r],
						   _mm256_mullo_epi32(
						       p[r], _mm256_set1_epi32(t->sc[r0 + r][k])));
	}
	for (int q = 0; q < 8; q++) {
		__m256i xv = _mm256_loadu_si256(
		    (const __m256i *)(const void *)(xb + ((size_t)b * 8 + (size_t)q) * 2 *
							     KTILE_TOKENS));
		for (int r = 0; r < RS; r++)
			psum[r] = _mm256_dpwssd_avx_epi32(psum[r], xv,
							  _mm256_set1_epi32(t->pair[r0 + r][q]));
	}
#else
	const int RUN = kind == TILE_Q4_K ? 8 : kind == TILE_Q6_K ? 2 : 4;
	for (int k = 0; k < QK_K / G; k++)
		_Pragma("GCC unroll 4") for (int l0 = 0; l0 < G / 4; l0 += RUN)
		{
			__m256i acc[4];
			for (int r = 0; r < RS; r++)
				acc[r] = _mm256_setzero_si256();
			_Pragma("GCC unroll 8") for (int l = l0; l < l0 + RUN; l++)
			{
				__m256i xv = _mm256_loadu_si256(
				    (const __m256i *)(const void *)(xs + (G / 4 * k + l) * 64));
				for (int r = 0; r < RS; r++) {
					int32_t wl;
					__builtin_memcpy(&wl, t->codes[r0 + r] + G * k + 4 * l, 4);
					acc[r] = _mm256_add_epi16(
					    acc[r],
					    _mm256_maddubs_epi16(_mm256_set1_epi32(wl), xv));
					TILE_KEEP(acc[r]);
				}
			}
			for (int r = 0; r < RS; r++)
				isum[r] = _mm256_add_epi32(
				    isum[r],
				    _mm256_madd_epi16(acc[r],
						      _mm256_set1_epi16((short)t->sc[r0 + r][k])));
		}
	for (int q = 0; q < 8; q++) {
		__m256i xv = _mm256_loadu_si256(
		    (const __m256i *)(const void *)(xb + ((size_t)b * 8 + (size_t)q) * 2 *
							     KTILE_TOKENS));
		for (int r = 0; r < RS; r++)
			psum[r] = _mm256_add_epi32(
			    psum[r], _mm256_madd_epi16(xv, _mm256_set1_epi32(t->pair[r0 + r][q])));
	}
#endif
	__m256 vdx = _mm256_loadu_ps(xd + (size_t)b * KTILE_TOKENS);
	for (int r = 0; r < RS; r++) {
		__m256 term;
		if (!TILE_KMIN(kind))
			term = _mm256_mul_ps(
			    _mm256_cvtepi32_ps(_mm256_sub_epi32(
				isum[r], _mm256_slli_epi32(psum[r], TILE_OFFSET_SHIFT(kind)))),
			    _mm256_mul_ps(_mm256_set1_ps(t->d[r0 + r]), vdx));
		else
			term = _mm256_sub_ps(
			    _mm256_mul_ps(_mm256_cvtepi32_ps(isum[r]),
					  _mm256_mul_ps(_mm256_set1_ps(t->d[r0 + r]), vdx)),
			    _mm256_mul_ps(_mm256_cvtepi32_ps(psum[r]),
					  _mm256_mul_ps(_mm256_set1_ps(t->dmin[r0 + r]), vdx)));
		part[r0 + r][b % 8] = _mm256_add_ps(part[r0 + r][b % 8], term);
	}
}

/* R rows against one half (8 tokens) of a group: xq, xd, xb already at the half's bytes. */
YMM_TARGET static inline __attribute__((always_inline)) void
YMM_NAME(tile_half)(const uint8_t *w, size_t row_bytes, const int R, const TileKind kind, int nb,
		    const TileRows *pre, const int8_t *xq, const float *xd, const int16_t *xb,
		    float *y, size_t y_stride, int ntok)
{
	TileRows own;
	__m256 part[KTILE_ROWS][8];
	for (int r = 0; r < R; r++)
		for (int p = 0; p < 8; p++)
			part[r][p] = _mm256_setzero_ps();
	for (int b = 0; b < nb; b++) {
		if (!pre)
			unpack_rows(w, row_bytes, R, kind, b, &own);
		const TileRows *t = pre ? &pre[b] : &own;
		const int8_t *xs = xq + (size_t)b * KTILE_BLOCK_BYTES;
		if (R == 1)
			YMM_NAME(tile_set)(t, 0, 1, kind, b, xs, xd, xb, part);
		else
			for (int r0 = 0; r0 < R; r0 += 4)
				YMM_NAME(tile_set)(t, r0, 4, kind, b, xs, xd, xb, part);
	}
	for (int r = 0; r < R; r++) {
		float a[8][8];
		for (int p = 0; p < 8; p++)
			_mm256_storeu_ps(a[p], part[r][p]);
		for (int i = 0; i < ntok; i++) {
			float v[QDOT_LANES];
			for (int p = 0; p < 8; p++)
				v[p] = a[p][i];
			y[(size_t)i * y_stride + (size_t)r] = qdot_tree(v);
		}
	}
}

YMM_TARGET static inline __attribute__((always_inline)) void
YMM_NAME(tile_rows)(const uint8_t *w, size_t row_bytes, const int R, const TileKind kind, int nb,
		    const KTileAct *x, int ntok, float *y, size_t y_stride)
{
	TileRows pre[TILE_PRE_NB];
	bool once = nb <= TILE_PRE_NB;
	for (int b = 0; once && b < nb; b++)
		unpack_rows(w, row_bytes, R, kind, b, &pre[b]);
	for (int h = 0; h * 8 < ntok; h++) { /* halves of groups: 8 tokens each */
		int n = ntok - h * 8 < 8 ? ntok - h * 8 : 8;
		size_t o = (size_t)(h / 2) * (size_t)nb;
		int half = h % 2;
		YMM_NAME(tile_half)
		(w, row_bytes, R, kind, nb, once ? pre : NULL,
		 x->q + o * KTILE_BLOCK_BYTES + 32 * half, x->d + o * KTILE_TOKENS + 8 * half,
		 x->bs + o * 8 * 2 * KTILE_TOKENS + 16 * half, y + (size_t)h * 8 * y_stride,
		 y_stride, n);
	}
}

YMM_TARGET static inline __attribute__((always_inline)) void
YMM_NAME(tile)(const uint8_t *w, size_t row_bytes, int nrows, const TileKind kind, int nb,
	       const KTileAct *x, int ntok, float *y, size_t y_stride)
{
	int r = 0;
	for (; r + KTILE_ROWS <= nrows; r += KTILE_ROWS)
		YMM_NAME(tile_rows)
	(w + (size_t)r * row_bytes, row_bytes, KTILE_ROWS, kind, nb, x, ntok, y + r, y_stride);
	for (; r < nrows; r++)
		YMM_NAME(tile_rows)
	(w + (size_t)r * row_bytes, row_bytes, 1, kind, nb, x, ntok, y + r, y_stride);
}

/* The registry's entries, one per type (kquant.h's KTileFn). */
#define YMM_ENTRY(T, KIND)                                                                         \
	YMM_TARGET void YMM_NAME(kdot_##T##_tile)(const void *w, size_t row_bytes, int nrows,      \
						  int nb, const KTileAct *x, int ntok, float *y,   \
						  size_t y_stride)                                 \
	{                                                                                          \
		YMM_NAME(tile)(w, row_bytes, nrows, KIND, nb, x, ntok, y, y_stride);               \
	}
YMM_ENTRY(q2_k, TILE_Q2_K)
YMM_ENTRY(q3_k, TILE_Q3_K)
YMM_ENTRY(q4_k, TILE_Q4_K)
YMM_ENTRY(q5_k, TILE_Q5_K)
YMM_ENTRY(q6_k, TILE_Q6_K)
#undef YMM_ENTRY
