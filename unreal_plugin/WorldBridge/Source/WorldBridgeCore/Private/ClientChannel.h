// The state every call of a Client shares: the options, the gRPC channel and stub, and the
// calls in progress (so that CancelAll() reaches them). Streams and recorders keep it alive
// through a shared_ptr, so they may outlive the Client that started them.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include <grpcpp/grpcpp.h>

#include "WorldBridgeCore/Client.h"
#include "worldbridge/v1/service.grpc.pb.h"

namespace worldbridge {
namespace detail {

// Microseconds on the steady clock; the client timestamps of frames and recordings use it,
// so only differences between them are meaningful.
int64_t SteadyMicros();

class ClientChannel {
 public:
  // Creates the channel (lazily connecting): cleartext HTTP/2 or TLS, max_message_bytes in
  // both directions, its own subchannel pool (a new Client reconnects at once instead of
  // inheriting another channel's reconnect backoff).
  explicit ClientChannel(ClientOptions options);
  virtual ~ClientChannel() = default;

  const ClientOptions& options() const { return options_; }
  grpc::Channel* channel() const { return channel_.get(); }
  v1::WorldBridge::Stub* stub() const { return stub_.get(); }

  // Adds "authorization: Bearer <token>" when a token is set and, when `timeout` is
  // positive, a deadline `timeout` from now.
  void PrepareContext(grpc::ClientContext* context, std::chrono::milliseconds timeout) const;

  // Cancels every registered call; calls registered later are cancelled as they start.
  void CancelAll();
  bool cancelled() const;

  // Keeps `context` in the set CancelAll() reaches for the lifetime of this object.
  class Registration {
   public:
    Registration(ClientChannel* owner, grpc::ClientContext* context);
    ~Registration();
    Registration(const Registration&) = delete;
    Registration& operator=(const Registration&) = delete;

   private:
    ClientChannel* owner_;
    grpc::ClientContext* context_;
  };

 private:
  ClientOptions options_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::WorldBridge::Stub> stub_;
  mutable std::mutex mu_;
  std::set<grpc::ClientContext*> active_;
  bool cancelled_ = false;
};

// Factories for the call objects (FrameStream.cpp, Recorder.cpp).
std::unique_ptr<FrameStream> MakeFrameStream(std::shared_ptr<ClientChannel> channel,
                                             const std::string& session_id);
std::unique_ptr<Recorder> MakeRecorder(std::shared_ptr<ClientChannel> channel,
                                       const std::string& dataset_name,
                                       const std::string& description);

}  // namespace detail
}  // namespace worldbridge
