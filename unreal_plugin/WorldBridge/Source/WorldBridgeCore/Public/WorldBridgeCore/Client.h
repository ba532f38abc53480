// WorldBridge engine-free client core: blocking calls to the WorldBridge gRPC service.
//
// Thread-safe for concurrent calls. Every call has a deadline; none of them should run on an
// engine's game thread (LiveBridge wraps them on a worker thread). gRPC types stay behind the
// pimpl so that including this header never pulls in gRPC.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "WorldBridgeCore/Types.h"
#include "WorldBridgeCore/Version.h"

namespace worldbridge {

// The protocol this client speaks (protos/worldbridge/v1/handshake.proto).
constexpr uint32_t kProtocolMajor = 1;
constexpr uint32_t kProtocolMinor = 1;

struct ClientOptions {
  std::string target = "127.0.0.1:50051";  // host:port
  std::string token;                        // sent as "authorization: Bearer <token>"
  bool use_tls = false;                     // loopback defaults to cleartext HTTP/2
  std::string root_certs_pem;               // empty: system roots (TLS only)
  std::string client_name = std::string("worldbridge-cpp/") + kClientVersion;
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds call_timeout{30000};  // unary calls and recording
  int max_message_bytes = 64 << 20;              // both directions
};

class FrameStream;
class Recorder;

class Client {
 public:
  explicit Client(ClientOptions options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  const ClientOptions& options() const;

  // Waits for the channel (connect_timeout), then GetServerInfo. A protocol major mismatch
  // is FAILED_PRECONDITION naming both versions; a minor mismatch is OK with a warning.
  Status Connect(ServerInfo* info);

  Status OpenSession(const std::vector<ReferenceView>& views, const SessionOptions& options,
                     SessionInfo* session);
  Status CloseSession(const std::string& session_id, uint64_t* frames_served = nullptr);

  // Opens StreamFrames for a session. Never null; check FrameStream::Alive().
  std::unique_ptr<FrameStream> StartStream(const std::string& session_id);

  // Opens RecordTrajectory and sends the header. Never null; errors surface in Finish().
  std::unique_ptr<Recorder> StartRecording(const std::string& dataset_name,
                                           const std::string& description = "");

  // Cancels every call in progress on this client (a blocked Connect, OpenSession, stream or
  // recording returns CANCELLED) and makes later calls fail with CANCELLED. For shutting down
  // from another thread.
  void CancelAll();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

// A StreamFrames call. Send() and Read() may be used from two different threads (one
// writer, one reader), as gRPC allows.
class FrameStream {
 public:
  virtual ~FrameStream() = default;
  // Assigns the next sequence number and a client timestamp; false once the stream is broken.
  virtual bool Send(const FrameRequest& request, uint64_t* sequence = nullptr) = 0;
  // Blocks for the next Frame; false when the stream has ended (then call Finish()).
  virtual bool Read(FrameResult* frame) = 0;
  // Half-closes, drains the frames still coming (discarding them), and returns the call's
  // final status. Not while another thread is inside Read(): let the reader end first (read
  // until every sent sequence is answered, or Cancel()).
  virtual Status Finish() = 0;
  // Cancels the call; a blocked Read() returns false.
  virtual void Cancel() = 0;
  // False once a Send() failed, Read() returned false, or the call was cancelled or finished.
  virtual bool Alive() const = 0;
};

// A RecordTrajectory call.
class Recorder {
 public:
  virtual ~Recorder() = default;
  // Assigns the next sequence number; false once the call is broken.
  virtual bool Write(const CapturedFrame& frame, uint64_t* sequence = nullptr) = 0;
  // Half-closes and waits for the summary (call_timeout).
  virtual Status Finish(RecordingSummary* summary) = 0;
};

}  // namespace worldbridge
