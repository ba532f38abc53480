// Shared pieces of the live tests: the server they talk to (environment) and a synthetic
// scene an Unreal camera sees.
//
// Environment:
//   WORLDBRIDGE_TARGET      host:port of a running server; live tests skip without it.
//   WORLDBRIDGE_TOKEN       the server's token, when it was started with --token.
//   WORLDBRIDGE_DATA_DIR    the server's --data-dir (recording checks).
//   WORLDBRIDGE_RESULTS_DIR where the recording test writes what it sent, for the Python side.
#pragma once

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "WorldBridgeCore/Client.h"
#include "WorldBridgeCore/Math.h"
#include "WorldBridgeCore/Types.h"

namespace worldbridge {
namespace testing_support {

inline std::string Env(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? std::string() : std::string(value);
}

// Generous deadlines: CI runs these on 2 shared cores next to a Python server.
inline ClientOptions LiveClientOptions(const std::string& target = Env("WORLDBRIDGE_TARGET")) {
  ClientOptions options;
  options.target = target;
  options.token = Env("WORLDBRIDGE_TOKEN");
  options.client_name = "worldbridge-cpp-tests";
  options.connect_timeout = std::chrono::milliseconds(20000);
  options.call_timeout = std::chrono::milliseconds(60000);
  return options;
}

#define WB_REQUIRE_LIVE_SERVER()                                              \
  do {                                                                        \
    if (::worldbridge::testing_support::Env("WORLDBRIDGE_TARGET").empty()) { \
      GTEST_SKIP() << "set WORLDBRIDGE_TARGET=host:port to run live tests";  \
    }                                                                         \
  } while (0)

// A textured plane 3 m in front of an Unreal camera at the origin looking along +X: 8x8
// pixel blocks of pseudo-random colours, planar depth 3 m everywhere.
struct PlaneScene {
  static constexpr uint32_t kSize = 64;
  static constexpr float kDistanceM = 3.0f;
  static constexpr double kHfovDeg = 90.0;

  Image bgra;                 // BGRA8, top-down, alpha 255
  std::vector<float> depth;   // metres, planar z
  Intrinsics intrinsics = IntrinsicsFromHorizontalFov(kHfovDeg, kSize, kSize);
  Pose pose = UnrealPose({0.0, 0.0, 0.0}, 0.0, 0.0, 0.0);

  PlaneScene() {
    bgra.width = kSize;
    bgra.height = kSize;
    bgra.format = TextureFormat::BGRA8;
    bgra.data.resize(kSize * kSize * 4);
    uint32_t state = 12345u;
    std::vector<uint8_t> blocks((kSize / 8) * (kSize / 8) * 3);
    for (uint8_t& b : blocks) {
      state = state * 1664525u + 1013904223u;  // LCG: deterministic block colours
      b = static_cast<uint8_t>(state >> 24);
    }
    for (uint32_t y = 0; y < kSize; ++y) {
      for (uint32_t x = 0; x < kSize; ++x) {
        const uint8_t* rgb = &blocks[((y / 8) * (kSize / 8) + x / 8) * 3];
        uint8_t* px = &bgra.data[(y * kSize + x) * 4];
        px[0] = rgb[2];
        px[1] = rgb[1];
        px[2] = rgb[0];
        px[3] = 255;
      }
    }
    depth.assign(kSize * kSize, kDistanceM);
  }

  ReferenceView View() const {
    ReferenceView view;
    view.rgb = bgra;
    view.pose = pose;
    view.intrinsics = intrinsics;
    view.depth = DepthFromFloat32(depth.data(), kSize, kSize);
    return view;
  }

  // A camera swaying sideways and turning a little around the reference pose.
  static Pose Moving(int i) {
    const double t = 0.07 * i;
    return UnrealPose({5.0 * std::sin(t), 20.0 * std::sin(t * 1.3), 3.0 * std::cos(t)},
                      2.0 * std::sin(t * 0.7), 4.0 * std::sin(t), 0.0);
  }
};

// The session options of the live tests: the plane's size, BGRA8 for Unreal, top-down.
inline SessionOptions PlaneSessionOptions() {
  SessionOptions options;
  options.output.width = PlaneScene::kSize;
  options.output.height = PlaneScene::kSize;
  options.output.format = TextureFormat::BGRA8;
  options.output.row_order = RowOrder::TopDown;
  return options;
}

// Checks a returned texture's size, format and alpha.
inline void ExpectBgraTexture(const Image& texture, uint32_t width, uint32_t height) {
  EXPECT_EQ(texture.width, width);
  EXPECT_EQ(texture.height, height);
  EXPECT_EQ(texture.format, TextureFormat::BGRA8);
  EXPECT_EQ(texture.row_order, RowOrder::TopDown);
  ASSERT_EQ(texture.data.size(), static_cast<size_t>(width) * height * 4);
  size_t opaque = 0;
  for (size_t i = 3; i < texture.data.size(); i += 4) opaque += texture.data[i] == 255;
  EXPECT_EQ(opaque, static_cast<size_t>(width) * height) << "alpha must be 255";
}

// Fraction of pixels whose B, G and R are all within `tolerance` of the reference.
inline double FractionClose(const Image& got, const Image& expected, int tolerance) {
  if (got.data.size() != expected.data.size() || got.data.empty()) return 0.0;
  size_t close = 0;
  const size_t pixels = got.data.size() / 4;
  for (size_t p = 0; p < pixels; ++p) {
    bool ok = true;
    for (int c = 0; c < 3; ++c) {
      ok = ok && std::abs(int(got.data[p * 4 + c]) - int(expected.data[p * 4 + c])) <= tolerance;
    }
    close += ok;
  }
  return static_cast<double>(close) / static_cast<double>(pixels);
}

}  // namespace testing_support
}  // namespace worldbridge
