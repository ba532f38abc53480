// Math.h against the shared convention vectors (tests/vectors/conventions.json) and by hand.
#include <cmath>
#include <cstdint>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "WorldBridgeCore/Math.h"

namespace worldbridge {
namespace {

nlohmann::json LoadVectors() {
  std::ifstream file(WORLDBRIDGE_VECTORS_FILE);
  EXPECT_TRUE(file.good()) << "cannot open " << WORLDBRIDGE_VECTORS_FILE;
  return nlohmann::json::parse(file);
}

TEST(ConventionVectors, UnrealPoseMatchesEngineC2w) {
  const nlohmann::json vectors = LoadVectors();
  int checked = 0;
  for (const auto& pose : vectors.at("poses")) {
    if (pose.at("convention") != "UNREAL") continue;
    const auto location = pose.at("unreal_location_cm").get<std::vector<double>>();
    const auto pyr = pose.at("unreal_rotator_pyr_deg").get<std::vector<double>>();
    const auto expected = pose.at("engine_c2w").get<std::vector<double>>();
    ASSERT_EQ(location.size(), 3u);
    ASSERT_EQ(pyr.size(), 3u);
    ASSERT_EQ(expected.size(), 16u);
    const Pose got = UnrealPose({location[0], location[1], location[2]}, pyr[0], pyr[1], pyr[2]);
    EXPECT_EQ(got.convention, Convention::Unreal);
    for (int i = 0; i < 16; ++i) {
      EXPECT_NEAR(got.camera_to_world[i], expected[i], 1e-12)
          << pose.at("name").get<std::string>() << " element " << i;
    }
    ++checked;
  }
  EXPECT_GE(checked, 4);
}

TEST(ConventionVectors, IntrinsicsFromFov) {
  const nlohmann::json vectors = LoadVectors();
  int checked = 0;
  for (const auto& c : vectors.at("intrinsics")) {
    const double fov = c.at("fov_deg").get<double>();
    const uint32_t w = c.at("width").get<uint32_t>();
    const uint32_t h = c.at("height").get<uint32_t>();
    const Intrinsics k = c.at("fov_axis") == "horizontal" ? IntrinsicsFromHorizontalFov(fov, w, h)
                                                           : IntrinsicsFromVerticalFov(fov, w, h);
    const auto& e = c.at("expected");
    const std::string name = c.at("name").get<std::string>();
    EXPECT_NEAR(k.fx, e.at("fx").get<double>(), 1e-9) << name;
    EXPECT_NEAR(k.fy, e.at("fy").get<double>(), 1e-9) << name;
    EXPECT_NEAR(k.cx, e.at("cx").get<double>(), 1e-12) << name;
    EXPECT_NEAR(k.cy, e.at("cy").get<double>(), 1e-12) << name;
    EXPECT_EQ(k.width, w) << name;
    EXPECT_EQ(k.height, h) << name;
    ++checked;
  }
  EXPECT_EQ(checked, 2);
}

TEST(UnrealPose, IsRigidForAnyRotator) {
  const Pose p = UnrealPose({12.5, -7.0, 300.0}, 23.0, -131.0, 47.0);
  const auto& m = p.camera_to_world;
  for (int a = 0; a < 3; ++a) {
    for (int b = 0; b < 3; ++b) {
      double dot = 0;
      for (int r = 0; r < 3; ++r) dot += m[r * 4 + a] * m[r * 4 + b];
      EXPECT_NEAR(dot, a == b ? 1.0 : 0.0, 1e-12);
    }
  }
  EXPECT_DOUBLE_EQ(m[3], 12.5);
  EXPECT_DOUBLE_EQ(m[7], -7.0);
  EXPECT_DOUBLE_EQ(m[11], 300.0);
  EXPECT_EQ(m[12], 0.0);
  EXPECT_EQ(m[13], 0.0);
  EXPECT_EQ(m[14], 0.0);
  EXPECT_EQ(m[15], 1.0);
}

TEST(PackRowVectorMatrix, TransposesFMatrixLayout) {
  double m[4][4];
  for (int r = 0; r < 4; ++r) {
    for (int c = 0; c < 4; ++c) m[r][c] = 10 * r + c;
  }
  const std::array<double, 16> packed = PackRowVectorMatrix(m);
  for (int r = 0; r < 4; ++r) {
    for (int c = 0; c < 4; ++c) EXPECT_EQ(packed[r * 4 + c], m[c][r]) << r << "," << c;
  }
  // FMatrix keeps the origin in row 3 (M[3][0..2]); the wire wants it in elements 3, 7, 11.
  const double translation[4][4] = {{1, 0, 0, 0}, {0, 1, 0, 0}, {0, 0, 1, 0}, {5, 6, 7, 1}};
  const std::array<double, 16> t = PackRowVectorMatrix(translation);
  EXPECT_EQ(t[3], 5);
  EXPECT_EQ(t[7], 6);
  EXPECT_EQ(t[11], 7);
  EXPECT_EQ(t[12], 0);
  EXPECT_EQ(t[15], 1);
}

TEST(FlipRows, ReversesRowsOfOddAndEvenHeights) {
  for (uint32_t height : {1u, 2u, 3u, 4u}) {
    const uint32_t width = 2, bpp = 3;
    std::vector<uint8_t> data(width * height * bpp);
    for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i);
    const std::vector<uint8_t> original = data;
    FlipRows(&data, width, height, bpp);
    const size_t row = width * bpp;
    for (uint32_t y = 0; y < height; ++y) {
      for (size_t x = 0; x < row; ++x) {
        EXPECT_EQ(data[y * row + x], original[(height - 1 - y) * row + x]) << height << " " << y;
      }
    }
    FlipRows(&data, width, height, bpp);
    EXPECT_EQ(data, original);
  }
}

TEST(FlipRows, LeavesShortDataUnchanged) {
  std::vector<uint8_t> data = {1, 2, 3, 4, 5};
  FlipRows(&data, 2, 2, 2);  // needs 8 bytes
  EXPECT_EQ(data, (std::vector<uint8_t>{1, 2, 3, 4, 5}));
  FlipRows(nullptr, 2, 2, 2);
}

TEST(DepthPacking, Float32IsLittleEndianMetres) {
  const float metres[4] = {1.0f, 0.0f, std::numeric_limits<float>::infinity(), 2.5f};
  const DepthImage d = DepthFromFloat32(metres, 2, 2, DepthKind::RayDistance);
  EXPECT_EQ(d.width, 2u);
  EXPECT_EQ(d.height, 2u);
  EXPECT_EQ(d.encoding, DepthEncoding::Float32M);
  EXPECT_EQ(d.kind, DepthKind::RayDistance);
  const std::vector<uint8_t> expected = {0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0x00,
                                         0x00, 0x00, 0x80, 0x7f, 0x00, 0x00, 0x20, 0x40};
  EXPECT_EQ(d.data, expected);
}

TEST(DepthPacking, Float16IsLittleEndianHalfMetres) {
  const float metres[3] = {1.0f, std::numeric_limits<float>::infinity(), 2.5f};
  const DepthImage d = DepthFromFloat16(metres, 3, 1);
  EXPECT_EQ(d.encoding, DepthEncoding::Float16M);
  EXPECT_EQ(d.kind, DepthKind::PlanarZ);
  const std::vector<uint8_t> expected = {0x00, 0x3c, 0x00, 0x7c, 0x00, 0x41};
  EXPECT_EQ(d.data, expected);
}

TEST(DepthPacking, NullInputGivesNoData) {
  EXPECT_TRUE(DepthFromFloat32(nullptr, 4, 4).data.empty());
  EXPECT_TRUE(DepthFromFloat16(nullptr, 4, 4).data.empty());
}

}  // namespace
}  // namespace worldbridge
