// Intrinsics from a field of view, Unreal matrices, row flips and depth packing.
#include "WorldBridgeCore/Math.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <utility>

namespace worldbridge {
namespace {

constexpr double kPi = 3.14159265358979323846;

double DegreesToRadians(double degrees) { return degrees * (kPi / 180.0); }

Intrinsics CentredIntrinsics(double focal_px, uint32_t width, uint32_t height) {
  Intrinsics k;
  k.fx = focal_px;
  k.fy = focal_px;
  k.cx = width / 2.0;
  k.cy = height / 2.0;
  k.width = width;
  k.height = height;
  return k;
}

void AppendLittleEndian32(uint32_t bits, std::vector<uint8_t>* out) {
  out->push_back(static_cast<uint8_t>(bits & 0xffu));
  out->push_back(static_cast<uint8_t>((bits >> 8) & 0xffu));
  out->push_back(static_cast<uint8_t>((bits >> 16) & 0xffu));
  out->push_back(static_cast<uint8_t>((bits >> 24) & 0xffu));
}

}  // namespace

Intrinsics IntrinsicsFromHorizontalFov(double hfov_deg, uint32_t width, uint32_t height) {
  return CentredIntrinsics((width / 2.0) / std::tan(DegreesToRadians(hfov_deg) / 2.0), width,
                           height);
}

Intrinsics IntrinsicsFromVerticalFov(double vfov_deg, uint32_t width, uint32_t height) {
  return CentredIntrinsics((height / 2.0) / std::tan(DegreesToRadians(vfov_deg) / 2.0), width,
                           height);
}

std::array<double, 16> PackRowVectorMatrix(const double m[4][4]) {
  std::array<double, 16> out{};
  for (int row = 0; row < 4; ++row) {
    for (int col = 0; col < 4; ++col) out[row * 4 + col] = m[col][row];
  }
  return out;
}

Pose UnrealPose(const std::array<double, 3>& location_cm, double pitch_deg, double yaw_deg,
                double roll_deg) {
  const double sp = std::sin(DegreesToRadians(pitch_deg));
  const double cp = std::cos(DegreesToRadians(pitch_deg));
  const double sy = std::sin(DegreesToRadians(yaw_deg));
  const double cy = std::cos(DegreesToRadians(yaw_deg));
  const double sr = std::sin(DegreesToRadians(roll_deg));
  const double cr = std::cos(DegreesToRadians(roll_deg));
  // FRotationTranslationMatrix (row-vector): rows are the forward (X), right (Y) and up (Z)
  // axes, then the origin.
  const double m[4][4] = {
      {cp * cy, cp * sy, sp, 0.0},
      {sr * sp * cy - cr * sy, sr * sp * sy + cr * cy, -sr * cp, 0.0},
      {-(cr * sp * cy + sr * sy), cy * sr - cr * sp * sy, cr * cp, 0.0},
      {location_cm[0], location_cm[1], location_cm[2], 1.0},
  };
  Pose pose;
  pose.camera_to_world = PackRowVectorMatrix(m);
  pose.convention = Convention::Unreal;
  return pose;
}

void FlipRows(std::vector<uint8_t>* data, uint32_t width, uint32_t height,
              uint32_t bytes_per_pixel) {
  if (data == nullptr || height < 2) return;
  const size_t row_bytes = static_cast<size_t>(width) * bytes_per_pixel;
  if (row_bytes == 0 || data->size() < row_bytes * height) return;
  for (uint32_t top = 0, bottom = height - 1; top < bottom; ++top, --bottom) {
    std::swap_ranges(data->begin() + static_cast<std::ptrdiff_t>(top * row_bytes),
                     data->begin() + static_cast<std::ptrdiff_t>((top + 1) * row_bytes),
                     data->begin() + static_cast<std::ptrdiff_t>(bottom * row_bytes));
  }
}

namespace {

// A depth image of `width` x `height` whose pixels are `encode(value, &data)` in row order.
template <typename Encode>
DepthImage PackDepth(const float* metres, uint32_t width, uint32_t height, DepthEncoding encoding,
                     DepthKind kind, size_t bytes_per_pixel, Encode encode) {
  DepthImage depth;
  depth.width = width;
  depth.height = height;
  depth.encoding = encoding;
  depth.kind = kind;
  const size_t count = static_cast<size_t>(width) * height;
  if (metres == nullptr) return depth;
  depth.data.reserve(count * bytes_per_pixel);
  for (size_t i = 0; i < count; ++i) encode(metres[i], &depth.data);
  return depth;
}

}  // namespace

DepthImage DepthFromFloat32(const float* metres, uint32_t width, uint32_t height,
                            DepthKind kind) {
  return PackDepth(metres, width, height, DepthEncoding::Float32M, kind, 4,
                   [](float value, std::vector<uint8_t>* out) {
                     uint32_t bits = 0;
                     std::memcpy(&bits, &value, sizeof bits);
                     AppendLittleEndian32(bits, out);
                   });
}

DepthImage DepthFromFloat16(const float* metres, uint32_t width, uint32_t height,
                            DepthKind kind) {
  return PackDepth(metres, width, height, DepthEncoding::Float16M, kind, 2,
                   [](float value, std::vector<uint8_t>* out) {
                     const uint16_t half = FloatToHalf(value);
                     out->push_back(static_cast<uint8_t>(half & 0xffu));
                     out->push_back(static_cast<uint8_t>(half >> 8));
                   });
}

}  // namespace worldbridge
