// BackoffDelay: exponential growth, the cap, and odd inputs.
#include <chrono>
#include <limits>

#include <gtest/gtest.h>

#include "WorldBridgeCore/LiveBridge.h"

namespace worldbridge {
namespace {

using std::chrono::milliseconds;

TEST(BackoffDelay, GrowsExponentiallyUpToTheCap) {
  BackoffPolicy p;  // 250 ms, x2, cap 5000 ms
  EXPECT_EQ(BackoffDelay(p, 0), milliseconds(250));
  EXPECT_EQ(BackoffDelay(p, 1), milliseconds(500));
  EXPECT_EQ(BackoffDelay(p, 2), milliseconds(1000));
  EXPECT_EQ(BackoffDelay(p, 3), milliseconds(2000));
  EXPECT_EQ(BackoffDelay(p, 4), milliseconds(4000));
  EXPECT_EQ(BackoffDelay(p, 5), milliseconds(5000));
  EXPECT_EQ(BackoffDelay(p, 6), milliseconds(5000));
}

TEST(BackoffDelay, LargeAttemptsSaturate) {
  BackoffPolicy p;
  EXPECT_EQ(BackoffDelay(p, 1000), p.max);
  EXPECT_EQ(BackoffDelay(p, std::numeric_limits<int>::max()), p.max);
}

TEST(BackoffDelay, OddInputs) {
  BackoffPolicy p;
  p.initial = milliseconds(100);
  p.multiplier = 1.5;
  p.max = milliseconds(1000);
  EXPECT_EQ(BackoffDelay(p, -3), milliseconds(100));
  EXPECT_EQ(BackoffDelay(p, 2), milliseconds(225));
  p.multiplier = 0.5;  // counts as 1: never shrinks
  EXPECT_EQ(BackoffDelay(p, 4), milliseconds(100));
  p.initial = milliseconds(3000);  // initial above the cap
  EXPECT_EQ(BackoffDelay(p, 0), milliseconds(1000));
}

}  // namespace
}  // namespace worldbridge
