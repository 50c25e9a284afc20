/* fp16.h: IEEE half precision to and from float, bit-exact with F16C. */
#ifndef FP16_H
#define FP16_H

#include <stdint.h>

uint16_t fp32_to_fp16(float f); /* round to nearest even, as F16C does */
float fp16_to_fp32(uint16_t h);

#endif
