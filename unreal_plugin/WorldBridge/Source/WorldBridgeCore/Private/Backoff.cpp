// Reconnect delays: exponential growth capped at a maximum.
#include <algorithm>  // (std::min) / (std::max) in parentheses: safe from Windows macros
#include <cmath>
#include <cstdint>

#include "WorldBridgeCore/LiveBridge.h"

namespace worldbridge {

std::chrono::milliseconds BackoffDelay(const BackoffPolicy& policy, int attempt) {
  const double initial = static_cast<double>((std::max<int64_t>)(0, policy.initial.count()));
  const double cap = static_cast<double>((std::max<int64_t>)(0, policy.max.count()));
  const double multiplier = (std::max)(1.0, policy.multiplier);
  const int n = (std::max)(0, attempt);
  // Grow step by step so that a large attempt count saturates at the cap instead of
  // overflowing.
  double delay = initial;
  for (int i = 0; i < n && delay < cap; ++i) delay *= multiplier;
  return std::chrono::milliseconds(static_cast<int64_t>(std::llround((std::min)(delay, cap))));
}

}  // namespace worldbridge
