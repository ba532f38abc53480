// Copyright WorldBridge. All Rights Reserved.

// Camera path planning for the capture rig, free of Unreal types so it can be read (and compiled) on
// its own. Mirrors worldbridge.recording.trajectory_planner on the Python side: templates (orbit,
// dolly, walk through waypoints) and random smooth paths that avoid blocked places (InSpatio-WorldFM
// section 2.4.2: "stochastic motion sampling or pre-defined motion templates" with "collision
// avoidance to guarantee viewpoint validity").
//
// World: Unreal's (left-handed, X forward, Y right, Z up), centimetres. A camera key is a position and
// a level view direction given as Unreal's pitch and yaw in degrees (FRotator(Pitch, Yaw, 0)); yaw is
// measured from +X towards +Y, pitch is positive looking up. No roll.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace worldbridge::trajectory {

struct Vec3 {
  double x = 0, y = 0, z = 0;
};

struct CameraKey {
  Vec3 location_cm;
  double pitch_deg = 0;
  double yaw_deg = 0;
};

// Pitch and yaw (degrees) of a view direction, as FVector::Rotation() computes them. A zero vector
// gives 0, 0.
void DirectionToPitchYaw(const Vec3& direction, double* pitch_deg, double* yaw_deg);

// A camera at `eye` looking at `target`.
CameraKey LookAt(const Vec3& eye, const Vec3& target);

// `n` cameras on a horizontal circular arc around `center` looking at `look_at`: camera i sits at
// center + radius (cos a_i, sin a_i, 0) + (0, 0, height) with a_i = start + arc * i / (n - 1) degrees.
// Returns false with `error` set for radius <= 0 or n < 1.
bool Orbit(const Vec3& center, double radius_cm, double height_cm, double start_deg, double arc_deg,
           int n, const Vec3& look_at, std::vector<CameraKey>* out, std::string* error);

// `n` cameras evenly spaced from `start` to `end` (smoothstep spacing with `ease`), looking at
// `look_at` when `has_look_at`, otherwise along the track. Fails for n < 1 or start == end without a
// look-at point.
bool Dolly(const Vec3& start, const Vec3& end, int n, bool ease, bool has_look_at,
           const Vec3& look_at, std::vector<CameraKey>* out, std::string* error);

// `n` arc-length-equidistant samples (positions and unit tangents) of the centripetal Catmull-Rom
// spline through `points` (Yuksel et al. 2011; consecutive duplicates dropped; open curves extended by
// reflection). With `closed` the curve loops and the last sample is not the first. Fails for fewer
// than 2 distinct points or n < 1.
bool CatmullRom(const std::vector<Vec3>& points, int n, bool closed, std::vector<Vec3>* positions,
                std::vector<Vec3>* tangents, std::string* error);

// A walk through `waypoints` at constant speed, looking along the horizontal direction of travel,
// tilted by `pitch_deg` (clamped to +-85) and swaying left and right by `sway_deg` (sinusoidal,
// `sway_cycles` periods over the walk). `eye_height_cm` is added to every waypoint's Z.
bool Walk(const std::vector<Vec3>& waypoints, int n, double eye_height_cm, double pitch_deg,
          bool closed, double sway_deg, double sway_cycles, std::vector<CameraKey>* out,
          std::string* error);

// The engine's collision check between two camera positions (centimetres). from == to asks whether a
// camera may be at that point. True means free.
using SegmentFreeFn = std::function<bool(const Vec3& from, const Vec3& to)>;

struct RandomPathOptions {
  Vec3 bounds_min, bounds_max;   // axis-aligned box, cm
  int n_paths = 1;
  int frames_per_path = 40;      // >= 2
  double step_min_cm = 3.0;      // camera travel per frame
  double step_max_cm = 12.0;
  int num_controls = 4;          // spline control points per path, >= 2
  double turn_deg = 30.0;        // largest heading change per leg
  double climb_deg = 10.0;       // largest leg angle above / below the horizontal
  double pitch_min_deg = -25.0;  // view pitch of travel-looking paths
  double pitch_max_deg = 10.0;
  double look_at_prob = 0.3;     // probability that a path looks at a fixed point
  int checks_per_step = 4;       // extra collision checks between consecutive frames
  int max_tries = 200;           // rejected draws allowed per path
  uint64_t seed = 0;             // the only source of randomness
};

// Random smooth paths inside the box: a free start point, a speed, a random walk of legs turning by up
// to turn_deg and climbing by up to climb_deg, a Catmull-Rom spline through them at constant speed.
// The camera looks along the travel direction (pitch drawn from the range, slow sway of up to 10
// degrees) or, with probability look_at_prob, at a random point of the box at least 20 steps from
// every camera. A draw is rejected when a sample (frames and checks_per_step points between them)
// leaves the box, a sample's position is blocked, or a segment between consecutive samples is blocked.
// Fails (with counts of why draws were rejected) after max_tries rejected draws for one path, or for
// invalid options.
bool RandomPaths(const RandomPathOptions& options, const SegmentFreeFn& is_free,
                 std::vector<std::vector<CameraKey>>* paths, std::string* error);

}  // namespace worldbridge::trajectory
