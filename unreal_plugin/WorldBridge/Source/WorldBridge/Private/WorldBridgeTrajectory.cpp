// Copyright WorldBridge. All Rights Reserved.

#include "WorldBridgeTrajectory.h"

#include <algorithm>
#include <cmath>
#include <random>

namespace worldbridge::trajectory {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kMaxPitchDeg = 85.0;

Vec3 Add(const Vec3& a, const Vec3& b) { return {a.x + b.x, a.y + b.y, a.z + b.z}; }
Vec3 Sub(const Vec3& a, const Vec3& b) { return {a.x - b.x, a.y - b.y, a.z - b.z}; }
Vec3 Scale(const Vec3& a, double s) { return {a.x * s, a.y * s, a.z * s}; }
double Length(const Vec3& a) { return std::sqrt(a.x * a.x + a.y * a.y + a.z * a.z); }
double Radians(double deg) { return deg * kPi / 180.0; }
double Degrees(double rad) { return rad * 180.0 / kPi; }

bool Fail(std::string* error, const std::string& message) {
  if (error) *error = message;
  return false;
}

bool Finite(const Vec3& v) { return std::isfinite(v.x) && std::isfinite(v.y) && std::isfinite(v.z); }

// Horizontal heading (yaw) of `direction`, keeping `previous` for (near) vertical directions.
double HeadingDeg(const Vec3& direction, double previous) {
  const double h = std::hypot(direction.x, direction.y);
  return h > 1e-9 ? Degrees(std::atan2(direction.y, direction.x)) : previous;
}

}  // namespace

void DirectionToPitchYaw(const Vec3& d, double* pitch_deg, double* yaw_deg) {
  *yaw_deg = Degrees(std::atan2(d.y, d.x));
  *pitch_deg = Degrees(std::atan2(d.z, std::hypot(d.x, d.y)));
}

CameraKey LookAt(const Vec3& eye, const Vec3& target) {
  CameraKey key;
  key.location_cm = eye;
  DirectionToPitchYaw(Sub(target, eye), &key.pitch_deg, &key.yaw_deg);
  return key;
}

bool Orbit(const Vec3& center, double radius_cm, double height_cm, double start_deg, double arc_deg,
           int n, const Vec3& look_at, std::vector<CameraKey>* out, std::string* error) {
  if (n < 1) return Fail(error, "orbit: frame count must be >= 1, got " + std::to_string(n));
  if (!(std::isfinite(radius_cm) && radius_cm > 0))
    return Fail(error, "orbit: radius must be > 0 cm, got " + std::to_string(radius_cm));
  if (!Finite(center) || !Finite(look_at) || !std::isfinite(height_cm) || !std::isfinite(start_deg) ||
      !std::isfinite(arc_deg))
    return Fail(error, "orbit: non-finite input");
  out->clear();
  for (int i = 0; i < n; ++i) {
    const double a = Radians(start_deg + arc_deg * (n > 1 ? double(i) / (n - 1) : 0.0));
    const Vec3 eye{center.x + radius_cm * std::cos(a), center.y + radius_cm * std::sin(a),
                   center.z + height_cm};
    if (Length(Sub(look_at, eye)) < 1e-9) return Fail(error, "orbit: a camera sits on the look-at point");
    out->push_back(LookAt(eye, look_at));
  }
  return true;
}

bool Dolly(const Vec3& start, const Vec3& end, int n, bool ease, bool has_look_at,
           const Vec3& look_at, std::vector<CameraKey>* out, std::string* error) {
  if (n < 1) return Fail(error, "dolly: frame count must be >= 1, got " + std::to_string(n));
  if (!Finite(start) || !Finite(end) || (has_look_at && !Finite(look_at)))
    return Fail(error, "dolly: non-finite input");
  const Vec3 track = Sub(end, start);
  if (!has_look_at && Length(track) < 1e-9)
    return Fail(error, "dolly: start equals end; give a look-at point");
  out->clear();
  for (int i = 0; i < n; ++i) {
    double t = n > 1 ? double(i) / (n - 1) : 0.0;
    if (ease) t = t * t * (3.0 - 2.0 * t);
    const Vec3 eye = Add(start, Scale(track, t));
    if (has_look_at) {
      if (Length(Sub(look_at, eye)) < 1e-9) return Fail(error, "dolly: a camera sits on the look-at point");
      out->push_back(LookAt(eye, look_at));
    } else {
      CameraKey key;
      key.location_cm = eye;
      DirectionToPitchYaw(track, &key.pitch_deg, &key.yaw_deg);
      out->push_back(key);
    }
  }
  return true;
}

bool CatmullRom(const std::vector<Vec3>& points, int n, bool closed, std::vector<Vec3>* positions,
                std::vector<Vec3>* tangents, std::string* error) {
  if (n < 1) return Fail(error, "spline: sample count must be >= 1, got " + std::to_string(n));
  std::vector<Vec3> p;
  for (const Vec3& q : points) {
    if (!Finite(q)) return Fail(error, "spline: non-finite point");
    if (p.empty() || Length(Sub(q, p.back())) > 1e-9) p.push_back(q);
  }
  if (closed && p.size() > 2 && Length(Sub(p.front(), p.back())) < 1e-9) p.pop_back();
  if (p.size() < 2) return Fail(error, "spline: needs at least 2 distinct points");

  std::vector<Vec3> ext;
  if (closed) {
    ext.push_back(p.back());
    ext.insert(ext.end(), p.begin(), p.end());
    ext.push_back(p[0]);
    ext.push_back(p[1]);
  } else {
    ext.push_back(Sub(Scale(p[0], 2.0), p[1]));
    ext.insert(ext.end(), p.begin(), p.end());
    ext.push_back(Sub(Scale(p.back(), 2.0), p[p.size() - 2]));
  }

  // Dense samples of the centripetal (alpha = 0.5) spline, segment by segment (Barry-Goldman).
  constexpr int kPerSegment = 64;
  std::vector<Vec3> curve;
  const size_t segments = ext.size() - 3;
  for (size_t s = 0; s < segments; ++s) {
    const Vec3 &p0 = ext[s], &p1 = ext[s + 1], &p2 = ext[s + 2], &p3 = ext[s + 3];
    const double t0 = 0.0;
    const double t1 = t0 + std::sqrt(std::max(Length(Sub(p1, p0)), 1e-12));
    const double t2 = t1 + std::sqrt(std::max(Length(Sub(p2, p1)), 1e-12));
    const double t3 = t2 + std::sqrt(std::max(Length(Sub(p3, p2)), 1e-12));
    for (int k = 0; k < kPerSegment; ++k) {
      const double t = t1 + (t2 - t1) * double(k) / kPerSegment;
      const Vec3 a1 = Add(Scale(p0, (t1 - t) / (t1 - t0)), Scale(p1, (t - t0) / (t1 - t0)));
      const Vec3 a2 = Add(Scale(p1, (t2 - t) / (t2 - t1)), Scale(p2, (t - t1) / (t2 - t1)));
      const Vec3 a3 = Add(Scale(p2, (t3 - t) / (t3 - t2)), Scale(p3, (t - t2) / (t3 - t2)));
      const Vec3 b1 = Add(Scale(a1, (t2 - t) / (t2 - t0)), Scale(a2, (t - t0) / (t2 - t0)));
      const Vec3 b2 = Add(Scale(a2, (t3 - t) / (t3 - t1)), Scale(a3, (t - t1) / (t3 - t1)));
      curve.push_back(Add(Scale(b1, (t2 - t) / (t2 - t1)), Scale(b2, (t - t1) / (t2 - t1))));
    }
  }
  curve.push_back(closed ? ext[1] : p.back());

  std::vector<double> arc(curve.size(), 0.0);
  for (size_t i = 1; i < curve.size(); ++i) arc[i] = arc[i - 1] + Length(Sub(curve[i], curve[i - 1]));
  const double total = arc.back();

  auto at = [&](double s) {
    s = std::clamp(s, 0.0, total);
    const size_t hi = std::min<size_t>(
        std::max<size_t>(std::lower_bound(arc.begin(), arc.end(), s) - arc.begin(), 1), arc.size() - 1);
    const size_t lo = hi - 1;
    const double span = arc[hi] - arc[lo];
    const double f = span > 0 ? (s - arc[lo]) / span : 0.0;
    return Add(curve[lo], Scale(Sub(curve[hi], curve[lo]), f));
  };

  positions->clear();
  tangents->clear();
  const double eps = std::max(total * 1e-3, 1e-9);
  for (int i = 0; i < n; ++i) {
    double s = 0.0;
    if (n > 1) s = closed ? total * double(i) / n : total * double(i) / (n - 1);
    positions->push_back(at(s));
    Vec3 tan = Sub(at(s + eps), at(s - eps));
    const double len = Length(tan);
    tangents->push_back(len > 0 ? Scale(tan, 1.0 / len) : Vec3{1, 0, 0});
  }
  return true;
}

bool Walk(const std::vector<Vec3>& waypoints, int n, double eye_height_cm, double pitch_deg,
          bool closed, double sway_deg, double sway_cycles, std::vector<CameraKey>* out,
          std::string* error) {
  std::vector<Vec3> raised;
  for (const Vec3& w : waypoints) raised.push_back({w.x, w.y, w.z + eye_height_cm});
  std::vector<Vec3> pos, tan;
  if (!CatmullRom(raised, n, closed, &pos, &tan, error)) return false;
  const double pitch = std::clamp(pitch_deg, -kMaxPitchDeg, kMaxPitchDeg);
  // Vertical travel has no heading: carry the last valid one (the first valid one before it).
  double first_heading = 0.0;
  for (const Vec3& t : tan) {
    if (std::hypot(t.x, t.y) > 1e-9) {
      first_heading = HeadingDeg(t, 0.0);
      break;
    }
  }
  out->clear();
  double heading = first_heading;
  for (size_t i = 0; i < pos.size(); ++i) {
    heading = HeadingDeg(tan[i], heading);
    const double u = pos.size() > 1 ? double(i) / (pos.size() - 1) : 0.0;
    CameraKey key;
    key.location_cm = pos[i];
    key.yaw_deg = heading + sway_deg * std::sin(2.0 * kPi * sway_cycles * u);
    key.pitch_deg = pitch;
    out->push_back(key);
  }
  return true;
}

bool RandomPaths(const RandomPathOptions& o, const SegmentFreeFn& is_free,
                 std::vector<std::vector<CameraKey>>* paths, std::string* error) {
  const Vec3 lo = o.bounds_min, hi = o.bounds_max;
  if (!Finite(lo) || !Finite(hi) || lo.x >= hi.x || lo.y >= hi.y || lo.z >= hi.z)
    return Fail(error, "random paths: bounds must be finite with min < max on every axis");
  if (o.n_paths < 1) return Fail(error, "random paths: path count must be >= 1");
  if (o.frames_per_path < 2) return Fail(error, "random paths: frames per path must be >= 2");
  if (o.num_controls < 2) return Fail(error, "random paths: control points must be >= 2");
  if (!(o.step_min_cm > 0 && o.step_min_cm <= o.step_max_cm))
    return Fail(error, "random paths: step range must be 0 < min <= max (cm)");
  if (!(o.look_at_prob >= 0.0 && o.look_at_prob <= 1.0))
    return Fail(error, "random paths: look-at probability must be in [0, 1]");
  if (o.max_tries < 1 || o.checks_per_step < 0)
    return Fail(error, "random paths: max tries must be >= 1 and checks per step >= 0");

  std::mt19937_64 rng(o.seed);
  auto uniform = [&rng](double a, double b) { return std::uniform_real_distribution<double>(a, b)(rng); };
  auto inside = [&](const Vec3& p) {
    return p.x >= lo.x && p.x <= hi.x && p.y >= lo.y && p.y <= hi.y && p.z >= lo.z && p.z <= hi.z;
  };
  const int frames = o.frames_per_path;
  const int dense_n = (frames - 1) * (o.checks_per_step + 1) + 1;

  paths->clear();
  for (int path_index = 0; path_index < o.n_paths; ++path_index) {
    int out_of_box = 0, blocked = 0;
    bool accepted = false;
    for (int attempt = 0; attempt < o.max_tries && !accepted; ++attempt) {
      const Vec3 start{uniform(lo.x, hi.x), uniform(lo.y, hi.y), uniform(lo.z, hi.z)};
      const double step = uniform(o.step_min_cm, o.step_max_cm);
      const double leg = step * (frames - 1) / (o.num_controls - 1);
      double heading = uniform(0.0, 2.0 * kPi);
      std::vector<Vec3> controls{start};
      for (int c = 1; c < o.num_controls; ++c) {
        heading += Radians(uniform(-o.turn_deg, o.turn_deg));
        const double climb = Radians(uniform(-o.climb_deg, o.climb_deg));
        const Vec3 d{std::cos(climb) * std::cos(heading), std::cos(climb) * std::sin(heading),
                     std::sin(climb)};
        controls.push_back(Add(controls.back(), Scale(d, leg)));
      }
      std::vector<Vec3> dense, dense_tan;
      if (!CatmullRom(controls, dense_n, false, &dense, &dense_tan, error)) return false;
      if (!std::all_of(dense.begin(), dense.end(), inside)) {
        ++out_of_box;
        continue;
      }
      bool free = is_free ? is_free(dense[0], dense[0]) : true;
      for (size_t i = 1; free && i < dense.size(); ++i) free = is_free ? is_free(dense[i - 1], dense[i]) : true;
      if (!free) {
        ++blocked;
        continue;
      }

      std::vector<Vec3> pos, tan;
      for (int f = 0; f < frames; ++f) pos.push_back(dense[size_t(f) * (o.checks_per_step + 1)]);
      std::vector<Vec3> unused;
      if (!CatmullRom(controls, frames, false, &unused, &tan, error)) return false;

      bool look_at = uniform(0.0, 1.0) < o.look_at_prob;
      Vec3 target;
      if (look_at) {
        look_at = false;
        for (int draw = 0; draw < 20 && !look_at; ++draw) {
          target = {uniform(lo.x, hi.x), uniform(lo.y, hi.y), uniform(lo.z, hi.z)};
          look_at = std::all_of(pos.begin(), pos.end(),
                                [&](const Vec3& p) { return Length(Sub(target, p)) >= 20.0 * step; });
        }
      }
      std::vector<CameraKey> keys;
      if (look_at) {
        for (const Vec3& p : pos) keys.push_back(LookAt(p, target));
      } else {
        const double pitch = std::clamp(uniform(o.pitch_min_deg, o.pitch_max_deg), -kMaxPitchDeg, kMaxPitchDeg);
        const double sway = uniform(-10.0, 10.0);
        const double phase = uniform(0.0, 2.0 * kPi);
        double h = 0.0;
        for (const Vec3& t : tan) {
          if (std::hypot(t.x, t.y) > 1e-9) {
            h = HeadingDeg(t, 0.0);
            break;
          }
        }
        for (int f = 0; f < frames; ++f) {
          h = HeadingDeg(tan[f], h);
          const double u = double(f) / (frames - 1);
          CameraKey key;
          key.location_cm = pos[f];
          key.yaw_deg = h + sway * std::sin(kPi * u + phase);
          key.pitch_deg = pitch;
          keys.push_back(key);
        }
      }
      paths->push_back(std::move(keys));
      accepted = true;
    }
    if (!accepted) {
      return Fail(error, "random paths: path " + std::to_string(path_index) + " was rejected " +
                             std::to_string(o.max_tries) + " times (" + std::to_string(out_of_box) +
                             " left the box, " + std::to_string(blocked) +
                             " were blocked); enlarge the box, shorten the paths or clear the area");
    }
  }
  return true;
}

}  // namespace worldbridge::trajectory
