// WorldBridge engine-free client core: plain value types shared by the client API.
//
// No gRPC, protobuf or engine headers here: these types are what the Unreal module and the
// CMake tests see. Conversions to and from the wire messages live in Private/.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace worldbridge {

// How a Pose matrix is to be read (protos/worldbridge/v1/camera.proto, Convention). The
// backend converts every convention to OpenCV camera-to-world in metres; clients only say
// which one they send.
enum class Convention : int { Unreal = 1, Unity = 2, OpenGL = 3, OpenCV = 4 };

// Camera-to-world, 16 values, row-major, column-vector convention (p_world = M * p_camera):
// translation in elements 3, 7, 11; bottom row 0 0 0 1. Unreal: centimetres, camera looks
// along local +X.
struct Pose {
  std::array<double, 16> camera_to_world{1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1};
  Convention convention = Convention::Unreal;
};

// Pinhole intrinsics in pixels; principal point measured from the top-left image corner.
struct Intrinsics {
  double fx = 0, fy = 0, cx = 0, cy = 0;
  uint32_t width = 0, height = 0;
};

enum class TextureFormat : int { RGBA8 = 1, BGRA8 = 2, RGB8 = 3, JPEG = 4, PNG = 5 };
enum class RowOrder : int { TopDown = 1, BottomUp = 2 };

// Colour image. Raw formats are tightly packed rows in `row_order`.
struct Image {
  uint32_t width = 0, height = 0;
  TextureFormat format = TextureFormat::BGRA8;
  RowOrder row_order = RowOrder::TopDown;
  std::vector<uint8_t> data;
};

enum class DepthEncoding : int { Float32M = 1, Float16M = 2, UInt16MM = 3 };
enum class DepthKind : int { PlanarZ = 1, RayDistance = 2 };

// Depth map, rows top-down, raw little-endian bytes. 0 marks an invalid pixel, +inf sky.
struct DepthImage {
  uint32_t width = 0, height = 0;
  DepthEncoding encoding = DepthEncoding::Float32M;
  DepthKind kind = DepthKind::PlanarZ;
  std::vector<uint8_t> data;
};

// What the server returns for every frame of a session.
struct TextureSpec {
  uint32_t width = 512, height = 512;
  TextureFormat format = TextureFormat::BGRA8;
  RowOrder row_order = RowOrder::TopDown;
  uint32_t jpeg_quality = 0;
};

// One posed view; views with depth are lifted into the session's point cloud.
struct ReferenceView {
  Image rgb;
  Pose pose;
  Intrinsics intrinsics;
  std::optional<DepthImage> depth;
};

// How the frame model may use the anchors, the session's memory rendered at the requested pose
// (protos/worldbridge/v1/session.proto, AnchorLock; same numbers). On: every pixel the anchors
// cover is served exactly and the model fills only the holes (disocclusions, unseen regions,
// splat cracks). Off: the model regenerates every pixel (restyling). ServerDefault sends
// ANCHOR_LOCK_UNSPECIFIED: the server's `--anchor-lock` setting, on unless changed. The
// "anchor" generator ignores it.
enum class AnchorLock : int { ServerDefault = 0, On = 1, Off = 2 };

struct SessionOptions {
  std::string generator;  // empty: the server's default ("anchor")
  TextureSpec output;
  uint64_t seed = 0;
  AnchorLock anchor_lock = AnchorLock::ServerDefault;
  // A frame-model bundle the server knows by name (ServerInfo.bundles), for example one
  // `worldbridge adapt` made for this level; empty: the server's default bundle.
  std::string bundle;
};

struct SessionInfo {
  std::string session_id;
  std::string worker_id;
  uint64_t anchor_points = 0;
  std::vector<std::string> warnings;
};

struct GeneratorInfo {
  std::string name;
  std::string description;
  bool available = false;
};

struct ServerInfo {
  uint32_t protocol_major = 0, protocol_minor = 0;
  std::string server_version;
  std::vector<std::string> capabilities;
  std::vector<GeneratorInfo> generators;
  uint64_t max_message_bytes = 0;
  uint32_t max_texture_width = 0, max_texture_height = 0;
  std::vector<std::string> warnings;
};

// One pose to render. Sequence numbers and timestamps are assigned by the stream.
struct FrameRequest {
  Pose pose;
  std::optional<Intrinsics> intrinsics;
  std::optional<DepthImage> depth;
  bool keyframe = false;  // lift the returned frame into memory with `depth` (required)
};

struct StageTimings {
  double queue_ms = 0, anchor_ms = 0, model_ms = 0, encode_ms = 0, server_total_ms = 0;
};

// A returned frame, or a per-request error (the stream lives on).
struct FrameResult {
  uint64_t sequence = 0;
  int64_t client_timestamp_us = 0;  // this client's steady clock when the request was sent
  Image texture;  // empty when error_code != 0
  StageTimings timings;
  std::vector<uint64_t> skipped_sequences;
  float anchor_coverage = 0;
  int error_code = 0;  // grpc::StatusCode value; 0 = OK
  std::string error_message;
  double round_trip_ms = 0;  // client send to receive, steady clock
};

// One frame of a recorded trajectory.
struct CapturedFrame {
  Pose pose;
  Intrinsics intrinsics;
  Image rgb;
  std::optional<DepthImage> depth;
};

struct RejectedFrame {
  uint64_t sequence = 0;
  int code = 0;
  std::string message;
};

struct RecordingSummary {
  std::string dataset_name;
  std::string path;
  uint64_t frames_written = 0;
  std::vector<RejectedFrame> rejected;
  double duration_s = 0;
};

// Result of a call: code is a grpc::StatusCode value (0 = OK), message names the problem.
struct Status {
  int code = 0;
  std::string message;
  bool ok() const { return code == 0; }
  static Status Ok() { return {}; }
};

}  // namespace worldbridge
