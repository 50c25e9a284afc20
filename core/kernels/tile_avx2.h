/* tile_avx2.h: the AVX2 prompt-batch kernel (no VNNI) that passes 8 Q8_0 weight rows against
 * a group of tokens at once, each result with the bits of the one-token AVX2 kernel. */
#ifndef TILE_AVX2_H
#define TILE_AVX2_H

#include <stddef.h>
#include <stdint.h>

#include "core/kernels/dtype.h"

/* The AVX2 tile reads the batch in dot.h's transposed groups of QTILE_TOKENS, with
 * one difference: the values are stored as they are (signed), not as x + 128, because without
 * VNNI the products go through vpmaddubsw on |w| and x with w's sign (as qdot_q8_avx2 does).
 * Padding tokens hold x = 0 and scale 0. */
#define TILE2_X_OFFSET 0

/* Rows w + r nb (r < nrows <= QTILE_ROWS, any nb) against ntok tokens in groups (g at
 * xt + g nb QTILE_BLOCK_BYTES, xdt + g nb QTILE_TOKENS): y[t * y_stride + r] gets the bits of
 * qdot_q8_avx2 for that row and token. */
void qdot_q8_tile_avx2(const BlockQ8_0 *w, int nb, int nrows, const uint8_t *xt, const float *xdt,
		       int ntok, float *y, size_t y_stride);

#endif
