// IEEE 754 binary32 -> binary16, round to nearest even (the conversion GPUs and numpy use).
#include <cstring>

#include "WorldBridgeCore/Math.h"

namespace worldbridge {

uint16_t FloatToHalf(float value) {
  uint32_t bits = 0;
  std::memcpy(&bits, &value, sizeof bits);
  const uint16_t sign = static_cast<uint16_t>((bits >> 16) & 0x8000u);
  const uint32_t exponent = (bits >> 23) & 0xffu;
  const uint32_t mantissa = bits & 0x7fffffu;

  if (exponent == 0xffu) {  // inf stays inf; NaN stays a quiet NaN with its top payload bits
    if (mantissa == 0) return static_cast<uint16_t>(sign | 0x7c00u);
    return static_cast<uint16_t>(sign | 0x7e00u | (mantissa >> 13));
  }
  // Unbiased exponent re-biased for half (bias 15).
  const int half_exponent = static_cast<int>(exponent) - 127 + 15;
  if (half_exponent >= 31) return static_cast<uint16_t>(sign | 0x7c00u);  // overflow -> inf

  if (half_exponent <= 0) {
    // Subnormal half (or zero): shift the full 24-bit significand right and round.
    if (exponent == 0) return sign;  // float zero or float subnormal (< 2^-126): rounds to 0
    const uint32_t significand = mantissa | 0x800000u;
    const int shift = 14 - half_exponent;  // 14 .. ; 24 or more leaves less than half an ulp
    if (shift > 24) return sign;
    uint32_t half = significand >> shift;
    const uint32_t remainder = significand & ((1u << shift) - 1u);
    const uint32_t halfway = 1u << (shift - 1);
    if (remainder > halfway || (remainder == halfway && (half & 1u))) ++half;
    return static_cast<uint16_t>(sign | half);  // a carry into 0x400 is the smallest normal
  }

  uint32_t half = (static_cast<uint32_t>(half_exponent) << 10) | (mantissa >> 13);
  const uint32_t remainder = mantissa & 0x1fffu;
  if (remainder > 0x1000u || (remainder == 0x1000u && (half & 1u))) ++half;  // may carry to inf
  return static_cast<uint16_t>(sign | half);
}

}  // namespace worldbridge
