// Client against a running server: handshake, token, sessions, frame streams, bad requests.
#include <algorithm>
#include <chrono>
#include <future>
#include <map>
#include <set>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "LiveSupport.h"
#include "WorldBridgeCore/Client.h"

namespace worldbridge {
namespace {

using testing_support::Env;
using testing_support::ExpectBgraTexture;
using testing_support::FractionClose;
using testing_support::LiveClientOptions;
using testing_support::PlaneScene;
using testing_support::PlaneSessionOptions;

constexpr int kInvalidArgument = 3;

bool Contains(const std::vector<std::string>& items, const std::string& item) {
  return std::find(items.begin(), items.end(), item) != items.end();
}

TEST(LiveClient, ConnectHandshake) {
  WB_REQUIRE_LIVE_SERVER();
  Client client(LiveClientOptions());
  ServerInfo info;
  const Status status = client.Connect(&info);
  ASSERT_TRUE(status.ok()) << status.message;
  EXPECT_FALSE(info.server_version.empty());
  EXPECT_EQ(info.protocol_major, 1u);
  EXPECT_TRUE(info.warnings.empty());  // same minor version
  EXPECT_TRUE(Contains(info.capabilities, "pacing.newest_wins"));
  EXPECT_TRUE(Contains(info.capabilities, "recording"));
  EXPECT_GE(info.max_message_bytes, 64u << 20);
  EXPECT_GT(info.max_texture_width, 0u);
  bool anchor = false;
  for (const GeneratorInfo& g : info.generators) {
    anchor = anchor || (g.name == "anchor" && g.available);
  }
  EXPECT_TRUE(anchor);
}

TEST(LiveClient, WrongTokenIsUnauthenticated) {
  WB_REQUIRE_LIVE_SERVER();
  if (Env("WORLDBRIDGE_TOKEN").empty()) GTEST_SKIP() << "the server runs without a token";
  ClientOptions options = LiveClientOptions();
  options.token = "not-the-token";
  Client client(options);
  const auto start = std::chrono::steady_clock::now();
  const Status status = client.Connect(nullptr);
  EXPECT_EQ(status.code, 16) << status.message;  // UNAUTHENTICATED
  EXPECT_NE(status.message.find("UNAUTHENTICATED"), std::string::npos) << status.message;
  EXPECT_NE(status.message.find("token"), std::string::npos) << status.message;
  EXPECT_LT(std::chrono::steady_clock::now() - start, options.connect_timeout);
}

TEST(LiveClient, OpenSessionErrorsNameTheProblem) {
  WB_REQUIRE_LIVE_SERVER();
  Client client(LiveClientOptions());
  ASSERT_TRUE(client.Connect(nullptr).ok());
  PlaneScene scene;
  SessionOptions options = PlaneSessionOptions();
  options.generator = "no-such-generator";
  SessionInfo session;
  Status status = client.OpenSession({scene.View()}, options, &session);
  EXPECT_EQ(status.code, kInvalidArgument);
  EXPECT_NE(status.message.find("no-such-generator"), std::string::npos) << status.message;
  status = client.CloseSession("no-such-session");
  EXPECT_EQ(status.code, 5) << status.message;  // NOT_FOUND
}

TEST(LiveClient, AnchorLockOffSessionStreamsFrames) {
  WB_REQUIRE_LIVE_SERVER();
  Client client(LiveClientOptions());
  ASSERT_TRUE(client.Connect(nullptr).ok());
  PlaneScene scene;
  SessionOptions options = PlaneSessionOptions();
  options.anchor_lock = AnchorLock::Off;  // full regeneration, with the server's generator
  SessionInfo session;
  Status status = client.OpenSession({scene.View()}, options, &session);
  ASSERT_TRUE(status.ok()) << status.message;
  ASSERT_FALSE(session.session_id.empty());
  std::unique_ptr<FrameStream> stream = client.StartStream(session.session_id);
  for (int i = 0; i < 3; ++i) {
    FrameRequest request;
    request.pose = PlaneScene::Moving(i);
    uint64_t sequence = 0;
    ASSERT_TRUE(stream->Send(request, &sequence));
    FrameResult frame;
    ASSERT_TRUE(stream->Read(&frame)) << "frame " << i;
    EXPECT_EQ(frame.sequence, sequence);
    ASSERT_EQ(frame.error_code, 0) << frame.error_message;
    ExpectBgraTexture(frame.texture, PlaneScene::kSize, PlaneScene::kSize);
  }
  status = stream->Finish();
  EXPECT_TRUE(status.ok()) << status.message;
  uint64_t frames_served = 0;
  status = client.CloseSession(session.session_id, &frames_served);
  EXPECT_TRUE(status.ok()) << status.message;
  EXPECT_EQ(frames_served, 3u);
}

class LiveStream : public ::testing::Test {
 protected:
  void SetUp() override {
    WB_REQUIRE_LIVE_SERVER();
    client_ = std::make_unique<Client>(LiveClientOptions());
    Status status = client_->Connect(nullptr);
    ASSERT_TRUE(status.ok()) << status.message;
    status = client_->OpenSession({scene_.View()}, PlaneSessionOptions(), &session_);
    ASSERT_TRUE(status.ok()) << status.message;
    EXPECT_EQ(session_.anchor_points, uint64_t{PlaneScene::kSize} * PlaneScene::kSize);
  }

  void TearDown() override {
    if (client_ && !session_.session_id.empty()) {
      const Status status = client_->CloseSession(session_.session_id);
      EXPECT_TRUE(status.ok()) << status.message;
    }
  }

  FrameRequest At(const Pose& pose) const {
    FrameRequest request;
    request.pose = pose;
    return request;
  }

  // Sends one request and reads its answer (nothing else in flight, so nothing is skipped).
  FrameResult RoundTrip(FrameStream* stream, const FrameRequest& request) {
    uint64_t sequence = 0;
    EXPECT_TRUE(stream->Send(request, &sequence));
    FrameResult frame;
    EXPECT_TRUE(stream->Read(&frame));
    EXPECT_EQ(frame.sequence, sequence);
    EXPECT_TRUE(frame.skipped_sequences.empty());
    return frame;
  }

  PlaneScene scene_;
  std::unique_ptr<Client> client_;
  SessionInfo session_;
};

TEST_F(LiveStream, EverySequenceIsAnsweredOrSkipped) {
  std::unique_ptr<FrameStream> stream = client_->StartStream(session_.session_id);
  ASSERT_TRUE(stream->Alive());
  constexpr int kFrames = 120;
  std::vector<FrameResult> frames;
  std::promise<void> all_answered;
  std::thread reader([&] {
    // Reads until every sequence is accounted for (the stream stays open until Finish()).
    size_t answered = 0;
    FrameResult frame;
    while (answered < kFrames && stream->Read(&frame)) {
      answered += 1 + frame.skipped_sequences.size();
      frames.push_back(std::move(frame));
    }
    all_answered.set_value();
  });
  std::vector<uint64_t> sent;
  for (int i = 0; i < kFrames; ++i) {
    uint64_t sequence = 0;
    EXPECT_TRUE(stream->Send(At(PlaneScene::Moving(i)), &sequence));
    sent.push_back(sequence);
  }
  if (all_answered.get_future().wait_for(std::chrono::seconds(120)) !=
      std::future_status::ready) {
    stream->Cancel();  // ends the blocked Read(); the checks below report what is missing
    ADD_FAILURE() << "not every sequence was answered within 120 s";
  }
  reader.join();
  const Status status = stream->Finish();
  EXPECT_TRUE(status.ok()) << status.message;

  for (size_t i = 0; i < sent.size(); ++i) EXPECT_EQ(sent[i], i);
  std::map<uint64_t, int> accounted;
  uint64_t last_rendered = 0;
  for (const FrameResult& f : frames) {
    ASSERT_EQ(f.error_code, 0) << f.error_message;
    ++accounted[f.sequence];
    for (uint64_t s : f.skipped_sequences) ++accounted[s];
    EXPECT_GE(f.sequence, last_rendered);
    last_rendered = f.sequence;
    ExpectBgraTexture(f.texture, PlaneScene::kSize, PlaneScene::kSize);
    EXPECT_GT(f.timings.server_total_ms, 0.0);
    EXPECT_GE(f.round_trip_ms, f.timings.server_total_ms * 0.5);
    EXPECT_GT(f.anchor_coverage, 0.5f);
  }
  ASSERT_EQ(accounted.size(), static_cast<size_t>(kFrames));
  for (const auto& [sequence, count] : accounted) {
    EXPECT_LT(sequence, static_cast<uint64_t>(kFrames));
    EXPECT_EQ(count, 1) << "sequence " << sequence;
  }
  EXPECT_EQ(frames.back().sequence, static_cast<uint64_t>(kFrames - 1));  // newest is rendered
}

TEST_F(LiveStream, ReferencePoseReproducesTheReferenceColours) {
  std::unique_ptr<FrameStream> stream = client_->StartStream(session_.session_id);
  const FrameResult frame = RoundTrip(stream.get(), At(scene_.pose));
  ASSERT_EQ(frame.error_code, 0) << frame.error_message;
  ExpectBgraTexture(frame.texture, PlaneScene::kSize, PlaneScene::kSize);
  EXPECT_GE(FractionClose(frame.texture, scene_.bgra, 2), 0.99);
  EXPECT_NEAR(frame.anchor_coverage, 1.0f, 0.01f);
  // A still camera gives a still image.
  const FrameResult again = RoundTrip(stream.get(), At(scene_.pose));
  EXPECT_EQ(again.texture.data, frame.texture.data);
  EXPECT_TRUE(stream->Finish().ok());
}

TEST_F(LiveStream, BadRequestGetsAnErrorAndTheStreamLivesOn) {
  std::unique_ptr<FrameStream> stream = client_->StartStream(session_.session_id);
  FrameResult frame = RoundTrip(stream.get(), At(PlaneScene::Moving(3)));
  ASSERT_EQ(frame.error_code, 0) << frame.error_message;

  FrameRequest scaled = At(scene_.pose);
  for (int axis = 0; axis < 3; ++axis) scaled.pose.camera_to_world[axis * 4 + axis] = 2.0;
  frame = RoundTrip(stream.get(), scaled);
  EXPECT_EQ(frame.error_code, kInvalidArgument);
  EXPECT_NE(frame.error_message.find("not rigid"), std::string::npos) << frame.error_message;
  EXPECT_TRUE(frame.texture.data.empty());

  FrameRequest wrong_depth = At(scene_.pose);
  wrong_depth.intrinsics = scene_.intrinsics;
  const std::vector<float> half_height(PlaneScene::kSize * PlaneScene::kSize / 2, 3.0f);
  wrong_depth.depth = DepthFromFloat32(half_height.data(), PlaneScene::kSize,
                                       PlaneScene::kSize / 2);
  frame = RoundTrip(stream.get(), wrong_depth);
  EXPECT_EQ(frame.error_code, kInvalidArgument);
  EXPECT_NE(frame.error_message.find("64x32"), std::string::npos) << frame.error_message;

  ASSERT_TRUE(stream->Alive());
  for (int i = 0; i < 3; ++i) {
    frame = RoundTrip(stream.get(), At(scene_.pose));
    ASSERT_EQ(frame.error_code, 0) << frame.error_message;
    ExpectBgraTexture(frame.texture, PlaneScene::kSize, PlaneScene::kSize);
    EXPECT_GE(FractionClose(frame.texture, scene_.bgra, 2), 0.99);
  }
  const Status status = stream->Finish();
  EXPECT_TRUE(status.ok()) << status.message;
  EXPECT_FALSE(stream->Alive());
}

TEST_F(LiveStream, CancelEndsABlockedRead) {
  std::unique_ptr<FrameStream> stream = client_->StartStream(session_.session_id);
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // let Read() block first
    stream->Cancel();
  });
  FrameResult frame;
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(stream->Read(&frame));  // nothing was sent: only the cancel ends this
  canceller.join();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  EXPECT_EQ(stream->Finish().code, 1);  // CANCELLED
}

}  // namespace
}  // namespace worldbridge
