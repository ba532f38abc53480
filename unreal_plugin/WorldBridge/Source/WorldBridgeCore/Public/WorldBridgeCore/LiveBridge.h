// WorldBridge engine-free client core: a live preview that never blocks the caller.
//
// A worker thread connects (handshake, OpenSession from the reference views), streams the
// newest submitted pose and reconnects with exponential backoff when the server goes away,
// reopening the session from the same reference views. The game thread only calls
// SubmitPose() and DrainEvents(), both O(1) apart from moving buffers.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "WorldBridgeCore/Client.h"
#include "WorldBridgeCore/Types.h"

namespace worldbridge {

struct BackoffPolicy {
  std::chrono::milliseconds initial{250};
  std::chrono::milliseconds max{5000};
  double multiplier = 2.0;
  double jitter = 0.2;   // +- fraction of each delay
  int max_attempts = 0;  // 0: retry forever
};

// Delay before reconnect attempt `attempt` (0-based) without jitter:
// min(max, initial * multiplier^attempt). A multiplier below 1 counts as 1, a negative
// attempt as 0; large attempts saturate at `max`. The LiveBridge scales each delay by a
// random factor in [1 - jitter, 1 + jitter].
std::chrono::milliseconds BackoffDelay(const BackoffPolicy& policy, int attempt);

struct LiveBridgeOptions {
  ClientOptions client;
  SessionOptions session;
  std::vector<ReferenceView> reference_views;
  BackoffPolicy backoff;
  // Requests sent but not yet answered before newer poses wait (newest pose wins).
  int max_in_flight = 2;
  // Frame events kept for DrainEvents(); when more arrive undrained, the oldest queued frame
  // is dropped (newest frame wins). Connected, Error and Disconnected events are always kept.
  int max_queued_frames = 16;
};

enum class BridgeEventType { Connected, Frame, Error, Disconnected };

struct BridgeEvent {
  BridgeEventType type = BridgeEventType::Error;
  FrameResult frame;        // Frame (and per-request errors, error_code != 0)
  ServerInfo server;        // Connected
  SessionInfo session;      // Connected
  Status status;            // Error / Disconnected
};

enum class BridgeState { Stopped, Connecting, Streaming, Backoff, Failed };

class LiveBridge {
 public:
  explicit LiveBridge(LiveBridgeOptions options);
  ~LiveBridge();  // Stop()
  LiveBridge(const LiveBridge&) = delete;
  LiveBridge& operator=(const LiveBridge&) = delete;

  // Returns at once; the worker thread connects. Connection failures arrive as Error events
  // (then state Backoff), a lost stream as a Disconnected event; after
  // backoff.max_attempts consecutive failures the state is Failed and Start() may be called
  // again.
  void Start();
  // Cancels the stream or a pending connect, closes the session (best effort, at most about
  // 2 s before its call is cancelled too) and joins the worker. Queued events stay drainable.
  void Stop();

  // Replaces any pose not yet sent (newest pose wins). Never blocks on the network.
  void SubmitPose(FrameRequest request);

  // Moves all pending events into `out` (appending). Never blocks on the network.
  void DrainEvents(std::vector<BridgeEvent>* out);

  BridgeState state() const;
  // Frames with a texture received since construction (per-request errors not counted).
  uint64_t frames_received() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace worldbridge
