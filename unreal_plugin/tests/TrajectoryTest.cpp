// The capture rig's Unreal-free trajectory planner (WorldBridge/Private/WorldBridgeTrajectory.h):
// templates keep their geometry, random paths respect bounds and the collision predicate.
#include <cmath>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "WorldBridgeTrajectory.h"

namespace worldbridge::trajectory {
namespace {

constexpr double kPi = 3.14159265358979323846;

Vec3 Sub(const Vec3& a, const Vec3& b) { return {a.x - b.x, a.y - b.y, a.z - b.z}; }
double Norm(const Vec3& v) { return std::sqrt(v.x * v.x + v.y * v.y + v.z * v.z); }

// Unit view direction of an FRotator(pitch, yaw, 0): X forward, Y right, Z up.
Vec3 Forward(const CameraKey& k) {
  const double p = k.pitch_deg * kPi / 180, y = k.yaw_deg * kPi / 180;
  return {std::cos(p) * std::cos(y), std::cos(p) * std::sin(y), std::sin(p)};
}

void ExpectLooksAt(const CameraKey& k, const Vec3& target) {
  const Vec3 to = Sub(target, k.location_cm);
  const Vec3 f = Forward(k);
  const double cos_angle = (f.x * to.x + f.y * to.y + f.z * to.z) / Norm(to);
  EXPECT_NEAR(cos_angle, 1.0, 1e-9);
}

TEST(Trajectory, DirectionToPitchYawFollowsUnrealAxes) {
  double pitch = 1, yaw = 1;
  DirectionToPitchYaw({0, 1, 0}, &pitch, &yaw);
  EXPECT_NEAR(pitch, 0, 1e-12);
  EXPECT_NEAR(yaw, 90, 1e-12);
  DirectionToPitchYaw({0, 0, -5}, &pitch, &yaw);
  EXPECT_NEAR(pitch, -90, 1e-12);
}

TEST(Trajectory, OrbitKeepsRadiusHeightAndLooksAtTarget) {
  const Vec3 center{100, -200, 50}, target{100, -200, 80};
  std::vector<CameraKey> keys;
  std::string error;
  ASSERT_TRUE(Orbit(center, 300, 120, 0, 270, 10, target, &keys, &error)) << error;
  ASSERT_EQ(keys.size(), 10u);
  for (const CameraKey& k : keys) {
    const Vec3 d = Sub(k.location_cm, center);
    EXPECT_NEAR(std::hypot(d.x, d.y), 300, 1e-9);
    EXPECT_NEAR(d.z, 120, 1e-9);
    ExpectLooksAt(k, target);
  }
  // Last camera at start + arc.
  EXPECT_NEAR(keys.back().location_cm.x, center.x + 300 * std::cos(270 * kPi / 180), 1e-9);
  EXPECT_NEAR(keys.back().location_cm.y, center.y + 300 * std::sin(270 * kPi / 180), 1e-9);
  EXPECT_FALSE(Orbit(center, 0, 0, 0, 360, 10, target, &keys, &error));
  EXPECT_NE(error.find("radius"), std::string::npos) << error;
}

TEST(Trajectory, DollyIsEvenlySpacedBetweenItsEnds) {
  const Vec3 a{0, 0, 100}, b{1000, 0, 100};
  std::vector<CameraKey> keys;
  std::string error;
  ASSERT_TRUE(Dolly(a, b, 11, /*ease=*/false, /*has_look_at=*/false, {}, &keys, &error)) << error;
  ASSERT_EQ(keys.size(), 11u);
  for (size_t i = 0; i < keys.size(); ++i) {
    EXPECT_NEAR(keys[i].location_cm.x, 100.0 * static_cast<double>(i), 1e-9);
    EXPECT_NEAR(keys[i].yaw_deg, 0, 1e-9);  // looks along the track (+X)
  }
  EXPECT_FALSE(Dolly(a, a, 5, false, false, {}, &keys, &error));
}

TEST(Trajectory, WalkMovesAtConstantSpeed) {
  const std::vector<Vec3> waypoints{{0, 0, 0}, {500, 0, 0}, {500, 500, 0}, {0, 800, 0}};
  std::vector<CameraKey> keys;
  std::string error;
  ASSERT_TRUE(Walk(waypoints, 40, 170, 0, false, 0, 0, &keys, &error)) << error;
  ASSERT_EQ(keys.size(), 40u);
  std::vector<double> steps;
  for (size_t i = 1; i < keys.size(); ++i) {
    steps.push_back(Norm(Sub(keys[i].location_cm, keys[i - 1].location_cm)));
    EXPECT_NEAR(keys[i].location_cm.z, 170, 1e-6);
  }
  const double mean = [&] { double s = 0; for (double v : steps) s += v; return s / steps.size(); }();
  for (double s : steps) EXPECT_NEAR(s, mean, 0.05 * mean);
}

TEST(Trajectory, RandomPathsStayInBoundsAndOutOfWalls) {
  RandomPathOptions o;
  o.bounds_min = {-1000, -1000, 50};
  o.bounds_max = {1000, 1000, 300};
  o.n_paths = 3;
  o.frames_per_path = 30;
  o.seed = 7;
  // A wall at x = 0: nothing may cross or touch it.
  int calls = 0;
  const SegmentFreeFn free_of_wall = [&calls](const Vec3& a, const Vec3& b) {
    ++calls;
    return (a.x > 20 && b.x > 20) || (a.x < -20 && b.x < -20);
  };
  std::vector<std::vector<CameraKey>> paths;
  std::string error;
  ASSERT_TRUE(RandomPaths(o, free_of_wall, &paths, &error)) << error;
  ASSERT_EQ(paths.size(), 3u);
  EXPECT_GT(calls, 3 * 30);
  for (const auto& path : paths) {
    ASSERT_EQ(path.size(), 30u);
    const bool positive = path.front().location_cm.x > 0;
    for (const CameraKey& k : path) {
      EXPECT_EQ(k.location_cm.x > 0, positive);
      EXPECT_GE(k.location_cm.x, o.bounds_min.x);
      EXPECT_LE(k.location_cm.x, o.bounds_max.x);
      EXPECT_GE(k.location_cm.z, o.bounds_min.z);
      EXPECT_LE(k.location_cm.z, o.bounds_max.z);
    }
  }
  // Same seed, same paths; another seed, other paths.
  std::vector<std::vector<CameraKey>> again, other;
  ASSERT_TRUE(RandomPaths(o, free_of_wall, &again, &error));
  EXPECT_EQ(again[1][5].location_cm.x, paths[1][5].location_cm.x);
  o.seed = 8;
  ASSERT_TRUE(RandomPaths(o, free_of_wall, &other, &error));
  EXPECT_NE(other[1][5].location_cm.x, paths[1][5].location_cm.x);
}

TEST(Trajectory, RandomPathsFailClearlyWhenEverythingIsBlocked) {
  RandomPathOptions o;
  o.bounds_min = {0, 0, 0};
  o.bounds_max = {500, 500, 500};
  o.max_tries = 20;
  std::vector<std::vector<CameraKey>> paths;
  std::string error;
  EXPECT_FALSE(RandomPaths(o, [](const Vec3&, const Vec3&) { return false; }, &paths, &error));
  EXPECT_FALSE(error.empty());
}

}  // namespace
}  // namespace worldbridge::trajectory
