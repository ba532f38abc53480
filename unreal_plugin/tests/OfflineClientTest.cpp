// Client and LiveBridge behaviour that needs no server: unreachable targets, prompt Stop().
#include <chrono>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "WorldBridgeCore/Client.h"
#include "WorldBridgeCore/LiveBridge.h"

namespace worldbridge {
namespace {

using Clock = std::chrono::steady_clock;

// Port 1 on loopback (tcpmux) is not served on any machine these tests run on.
constexpr const char* kClosedTarget = "127.0.0.1:1";

TEST(OfflineClient, UnreachableTargetFailsWithinConnectTimeout) {
  ClientOptions options;
  options.target = kClosedTarget;
  options.connect_timeout = std::chrono::milliseconds(800);
  Client client(options);
  const auto start = Clock::now();
  ServerInfo info;
  const Status status = client.Connect(&info);
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  EXPECT_EQ(status.code, 14);  // UNAVAILABLE
  EXPECT_NE(status.message.find(kClosedTarget), std::string::npos) << status.message;
  EXPECT_NE(status.message.find("800 ms"), std::string::npos) << status.message;
  EXPECT_GE(seconds, 0.7);
  EXPECT_LT(seconds, 5.0);
}

TEST(OfflineClient, CancelAllStopsAConnect) {
  ClientOptions options;
  options.target = kClosedTarget;
  options.connect_timeout = std::chrono::milliseconds(60000);
  Client client(options);
  client.CancelAll();
  const auto start = Clock::now();
  const Status status = client.Connect(nullptr);
  EXPECT_EQ(status.code, 1);  // CANCELLED
  EXPECT_LT(std::chrono::duration<double>(Clock::now() - start).count(), 2.0);
}

TEST(OfflineClient, StreamToUnreachableTargetEndsWithAStatus) {
  ClientOptions options;
  options.target = kClosedTarget;
  Client client(options);
  std::unique_ptr<FrameStream> stream = client.StartStream("none");
  ASSERT_NE(stream, nullptr);
  FrameResult frame;
  stream->Send(FrameRequest{});
  EXPECT_FALSE(stream->Read(&frame));
  EXPECT_FALSE(stream->Alive());
  const Status status = stream->Finish();
  EXPECT_EQ(status.code, 14) << status.message;
  EXPECT_NE(status.message.find("StreamFrames"), std::string::npos) << status.message;
}

TEST(OfflineLiveBridge, RetriesWithErrorsAndStopsPromptly) {
  LiveBridgeOptions options;
  options.client.target = kClosedTarget;
  options.client.connect_timeout = std::chrono::milliseconds(300);
  options.backoff.initial = std::chrono::milliseconds(50);
  options.backoff.max = std::chrono::milliseconds(200);
  LiveBridge bridge(options);
  bridge.Start();
  std::vector<BridgeEvent> events;
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  size_t errors = 0;
  while (errors < 2 && Clock::now() < deadline) {
    bridge.SubmitPose(FrameRequest{});
    bridge.DrainEvents(&events);
    errors = 0;
    for (const BridgeEvent& e : events) errors += e.type == BridgeEventType::Error;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_GE(errors, 2u);
  for (const BridgeEvent& e : events) {
    EXPECT_EQ(e.type, BridgeEventType::Error);
    EXPECT_EQ(e.status.code, 14) << e.status.message;
  }
  const BridgeState state = bridge.state();
  EXPECT_TRUE(state == BridgeState::Connecting || state == BridgeState::Backoff);
  const auto stop_start = Clock::now();
  bridge.Stop();
  EXPECT_LT(std::chrono::duration<double>(Clock::now() - stop_start).count(), 2.0);
  EXPECT_EQ(bridge.state(), BridgeState::Stopped);
  EXPECT_EQ(bridge.frames_received(), 0u);
}

TEST(OfflineLiveBridge, GivesUpAfterMaxAttempts) {
  LiveBridgeOptions options;
  options.client.target = kClosedTarget;
  options.client.connect_timeout = std::chrono::milliseconds(200);
  options.backoff.initial = std::chrono::milliseconds(10);
  options.backoff.max_attempts = 2;
  LiveBridge bridge(options);
  bridge.Start();
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  while (bridge.state() != BridgeState::Failed && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(bridge.state(), BridgeState::Failed);
  std::vector<BridgeEvent> events;
  bridge.DrainEvents(&events);
  ASSERT_EQ(events.size(), 3u);  // two failed attempts, then giving up
  EXPECT_NE(events.back().status.message.find("giving up"), std::string::npos);
}

}  // namespace
}  // namespace worldbridge
