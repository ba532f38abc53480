// Recording a trajectory through the Recorder: frames written, a bad frame rejected, and (for
// tests/test_cpp_core.py) a record of exactly what was sent, so that Python can load the
// dataset and compare.
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "LiveSupport.h"
#include "WorldBridgeCore/Client.h"
#include "WorldBridgeCore/Math.h"

namespace worldbridge {
namespace {

using testing_support::Env;
using testing_support::LiveClientOptions;

constexpr uint32_t kWidth = 32;
constexpr uint32_t kHeight = 24;

struct SentFrame {
  std::string name;  // the convention vector's name, or "orbit-<k>"
  CapturedFrame frame;
  uint64_t sequence = 0;
};

// Colour that differs per pixel and per frame; BGRA8 on even frames, RGB8 on odd ones.
Image MakeRgb(int index) {
  Image image;
  image.width = kWidth;
  image.height = kHeight;
  image.format = index % 2 == 0 ? TextureFormat::BGRA8 : TextureFormat::RGB8;
  const uint32_t channels = image.format == TextureFormat::BGRA8 ? 4 : 3;
  image.data.resize(kWidth * kHeight * channels);
  for (uint32_t y = 0; y < kHeight; ++y) {
    for (uint32_t x = 0; x < kWidth; ++x) {
      const uint8_t r = static_cast<uint8_t>(x * 8 + index * 7);
      const uint8_t g = static_cast<uint8_t>(y * 10 + index * 13);
      const uint8_t b = static_cast<uint8_t>((x ^ y) * 5 + index * 29);
      uint8_t* px = &image.data[(y * kWidth + x) * channels];
      if (channels == 4) {
        px[0] = b, px[1] = g, px[2] = r, px[3] = 255;
      } else {
        px[0] = r, px[1] = g, px[2] = b;
      }
    }
  }
  return image;
}

DepthImage MakeDepth(int index) {
  std::vector<float> metres(kWidth * kHeight);
  for (uint32_t y = 0; y < kHeight; ++y) {
    for (uint32_t x = 0; x < kWidth; ++x) {
      metres[y * kWidth + x] = 1.5f + 0.25f * static_cast<float>(index) + 0.01f * x + 0.02f * y;
    }
  }
  return DepthFromFloat32(metres.data(), kWidth, kHeight);
}

// The Unreal convention vectors (FRotator + location), then a camera orbiting a point 3 m
// ahead of the origin at 1 m height, looking slightly down.
std::vector<SentFrame> Trajectory() {
  std::vector<SentFrame> frames;
  std::ifstream file(WORLDBRIDGE_VECTORS_FILE);
  const nlohmann::json vectors = nlohmann::json::parse(file);
  for (const auto& pose : vectors.at("poses")) {
    if (pose.at("convention") != "UNREAL") continue;
    const auto location = pose.at("unreal_location_cm").get<std::vector<double>>();
    const auto pyr = pose.at("unreal_rotator_pyr_deg").get<std::vector<double>>();
    SentFrame sent;
    sent.name = pose.at("name").get<std::string>();
    sent.frame.pose = UnrealPose({location[0], location[1], location[2]}, pyr[0], pyr[1], pyr[2]);
    frames.push_back(sent);
  }
  const double kPi = 3.14159265358979323846;
  for (int k = 0; frames.size() < 20; ++k) {
    const double yaw_deg = -30.0 + 4.0 * k;  // the camera looks at the centre
    const double yaw = yaw_deg * kPi / 180.0;
    SentFrame sent;
    sent.name = "orbit-" + std::to_string(k);
    sent.frame.pose = UnrealPose({300.0 - 300.0 * std::cos(yaw), -300.0 * std::sin(yaw), 100.0},
                                 -10.0, yaw_deg, 0.0);
    frames.push_back(sent);
  }
  for (size_t i = 0; i < frames.size(); ++i) {
    frames[i].frame.intrinsics = IntrinsicsFromHorizontalFov(90.0, kWidth, kHeight);
    frames[i].frame.rgb = MakeRgb(static_cast<int>(i));
    frames[i].frame.depth = MakeDepth(static_cast<int>(i));
  }
  return frames;
}

void WriteBytes(const std::filesystem::path& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
}

// What was sent, for tests/test_cpp_core.py: recording.json plus the raw colour and depth.
void WriteResults(const std::filesystem::path& dir, const RecordingSummary& summary,
                  const std::vector<SentFrame>& frames, uint64_t rejected_sequence) {
  std::filesystem::create_directories(dir);
  nlohmann::json out;
  out["dataset_name"] = summary.dataset_name;
  out["path"] = summary.path;
  out["rejected_sequence"] = rejected_sequence;
  for (const SentFrame& sent : frames) {
    const std::string stem = "frame_" + std::to_string(sent.sequence);
    const bool bgra = sent.frame.rgb.format == TextureFormat::BGRA8;
    WriteBytes(dir / (stem + (bgra ? ".bgra" : ".rgb")), sent.frame.rgb.data);
    WriteBytes(dir / (stem + ".f32"), sent.frame.depth->data);
    nlohmann::json f;
    f["name"] = sent.name;
    f["sequence"] = sent.sequence;
    f["engine_c2w"] = sent.frame.pose.camera_to_world;
    f["format"] = bgra ? "BGRA8" : "RGB8";
    f["width"] = sent.frame.rgb.width;
    f["height"] = sent.frame.rgb.height;
    f["rgb_file"] = stem + (bgra ? ".bgra" : ".rgb");
    f["depth_file"] = stem + ".f32";
    out["frames"].push_back(f);
  }
  std::ofstream(dir / "recording.json") << out.dump(2);
}

TEST(LiveRecorder, RecordsATrajectoryAndRejectsABadFrame) {
  WB_REQUIRE_LIVE_SERVER();
  Client client(LiveClientOptions());
  ASSERT_TRUE(client.Connect(nullptr).ok());
  const std::string name =
      "cpp-core-" + std::to_string(std::chrono::duration_cast<std::chrono::microseconds>(
                                       std::chrono::system_clock::now().time_since_epoch())
                                       .count());
  std::vector<SentFrame> frames = Trajectory();
  ASSERT_EQ(frames.size(), 20u);

  std::unique_ptr<Recorder> recorder = client.StartRecording(name, "C++ client core test");
  uint64_t rejected_sequence = 0;
  for (size_t i = 0; i < frames.size(); ++i) {
    if (i == 10) {  // the intrinsics say 40x30, the colour is 32x24
      CapturedFrame bad = frames[i].frame;
      bad.intrinsics = IntrinsicsFromHorizontalFov(90.0, 40, 30);
      bad.depth.reset();
      ASSERT_TRUE(recorder->Write(bad, &rejected_sequence));
    }
    ASSERT_TRUE(recorder->Write(frames[i].frame, &frames[i].sequence));
  }
  RecordingSummary summary;
  const Status status = recorder->Finish(&summary);
  ASSERT_TRUE(status.ok()) << status.message;
  EXPECT_EQ(summary.dataset_name, name);
  EXPECT_EQ(summary.frames_written, frames.size());
  ASSERT_EQ(summary.rejected.size(), 1u);
  EXPECT_EQ(summary.rejected[0].sequence, rejected_sequence);
  EXPECT_EQ(summary.rejected[0].code, 3);  // INVALID_ARGUMENT
  EXPECT_FALSE(summary.rejected[0].message.empty());
  EXPECT_EQ(rejected_sequence, 10u);
  EXPECT_EQ(frames.back().sequence, frames.size());  // the rejected frame took one number
  EXPECT_GT(summary.duration_s, 0.0);

  const std::string data_dir = Env("WORLDBRIDGE_DATA_DIR");
  if (!data_dir.empty()) {
    namespace fs = std::filesystem;
    const fs::path path = fs::weakly_canonical(summary.path);
    EXPECT_EQ(path, fs::weakly_canonical(fs::path(data_dir) / name));
    EXPECT_TRUE(fs::exists(path / "transforms.json")) << path;
  }
  const std::string results = Env("WORLDBRIDGE_RESULTS_DIR");
  if (!results.empty()) WriteResults(results, summary, frames, rejected_sequence);

  // An existing dataset is never overwritten.
  std::unique_ptr<Recorder> again = client.StartRecording(name);
  again->Write(frames[0].frame);
  const Status exists = again->Finish(&summary);
  EXPECT_EQ(exists.code, 6) << exists.message;  // ALREADY_EXISTS
  EXPECT_NE(exists.message.find(name), std::string::npos) << exists.message;
}

}  // namespace
}  // namespace worldbridge
