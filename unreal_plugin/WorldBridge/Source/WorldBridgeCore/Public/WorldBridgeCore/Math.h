// WorldBridge engine-free client core: pose packing, intrinsics and pixel helpers.
//
// These build what each engine already means (its own matrix, its own field of view); the
// conversion between conventions happens only on the server.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "WorldBridgeCore/Types.h"

namespace worldbridge {

// Intrinsics from a horizontal field of view in degrees (Unreal's FOVAngle):
// fx = fy = (width / 2) / tan(hfov / 2), principal point at the image centre.
Intrinsics IntrinsicsFromHorizontalFov(double hfov_deg, uint32_t width, uint32_t height);
// Intrinsics from a vertical field of view in degrees (Unity's Camera.fieldOfView).
Intrinsics IntrinsicsFromVerticalFov(double vfov_deg, uint32_t width, uint32_t height);

// Unreal's FMatrix is row-vector (p' = p * M, translation in row 3): its transpose is the
// wire's column-vector matrix. `m` is m[row][col] as FMatrix::M stores it.
std::array<double, 16> PackRowVectorMatrix(const double m[4][4]);

// Camera-to-world (convention Unreal) for a camera at `location_cm` with an FRotator
// (pitch, yaw, roll in degrees), computed as FRotationTranslationMatrix does.
Pose UnrealPose(const std::array<double, 3>& location_cm, double pitch_deg, double yaw_deg,
                double roll_deg);

// Reverses the row order of a tightly packed image in place (top-down <-> bottom-up). Data
// shorter than width * height * bytes_per_pixel is left unchanged.
void FlipRows(std::vector<uint8_t>* data, uint32_t width, uint32_t height,
              uint32_t bytes_per_pixel);

// Depth images from width * height float metres (rows top-down), written little-endian
// whatever the host byte order. Values are copied as given: 0 invalid, +inf sky (NaN and
// negative values are rejected by the server). A null `metres` gives an image without data.
DepthImage DepthFromFloat32(const float* metres, uint32_t width, uint32_t height,
                            DepthKind kind = DepthKind::PlanarZ);
DepthImage DepthFromFloat16(const float* metres, uint32_t width, uint32_t height,
                            DepthKind kind = DepthKind::PlanarZ);

// IEEE 754 half from float (round to nearest even; inf and overflow to inf).
uint16_t FloatToHalf(float value);

}  // namespace worldbridge
