// FrameStream over the StreamFrames call: sequence numbers, client timestamps, round trips.
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "ClientChannel.h"
#include "Convert.h"

namespace worldbridge {
namespace detail {
namespace {

class GrpcFrameStream final : public FrameStream {
 public:
  GrpcFrameStream(std::shared_ptr<ClientChannel> channel, const std::string& session_id)
      : channel_(std::move(channel)),
        session_id_(session_id),
        what_("StreamFrames for session '" + session_id + "' on " +
              channel_->options().target),
        registration_(channel_.get(), &context_) {
    // No deadline: a live stream runs as long as the engine wants; Cancel() ends it.
    channel_->PrepareContext(&context_, std::chrono::milliseconds(0));
    call_ = channel_->stub()->StreamFrames(&context_);
  }

  ~GrpcFrameStream() override {
    std::lock_guard<std::mutex> lock(finish_mu_);
    if (!finished_) {
      context_.TryCancel();
      call_->Finish();
    }
  }

  bool Send(const FrameRequest& request, uint64_t* sequence) override {
    v1::FrameRequest message;
    convert::ToProto(request, session_id_, &message);
    std::lock_guard<std::mutex> lock(write_mu_);
    if (broken_ || writes_done_) return false;
    const uint64_t seq = next_sequence_++;
    message.set_sequence(seq);
    message.set_client_timestamp_us(SteadyMicros());
    if (!call_->Write(message)) {
      broken_ = true;
      alive_ = false;
      return false;
    }
    if (sequence != nullptr) *sequence = seq;
    return true;
  }

  bool Read(FrameResult* frame) override {
    v1::Frame message;
    if (read_ended_ || !call_->Read(&message)) {
      read_ended_ = true;
      alive_ = false;
      return false;
    }
    convert::FromProto(message, frame);
    // The timestamp is this client's own steady clock, echoed by the server.
    frame->round_trip_ms =
        static_cast<double>(SteadyMicros() - message.client_timestamp_us()) / 1000.0;
    return true;
  }

  Status Finish() override {
    {
      std::lock_guard<std::mutex> lock(write_mu_);
      if (!writes_done_) {
        writes_done_ = true;
        if (!broken_) call_->WritesDone();
      }
    }
    std::lock_guard<std::mutex> lock(finish_mu_);
    if (finished_) return final_status_;
    v1::Frame discarded;
    while (!read_ended_ && call_->Read(&discarded)) {
    }
    read_ended_ = true;
    alive_ = false;
    final_status_ = convert::FromGrpc(call_->Finish(), what_);
    finished_ = true;
    return final_status_;
  }

  void Cancel() override {
    alive_ = false;
    context_.TryCancel();
  }

  bool Alive() const override { return alive_; }

 private:
  std::shared_ptr<ClientChannel> channel_;
  const std::string session_id_;
  const std::string what_;
  grpc::ClientContext context_;
  ClientChannel::Registration registration_;
  std::unique_ptr<grpc::ClientReaderWriter<v1::FrameRequest, v1::Frame>> call_;

  std::mutex write_mu_;  // Send() and the half-close
  uint64_t next_sequence_ = 0;
  bool broken_ = false;
  bool writes_done_ = false;

  std::atomic<bool> read_ended_{false};
  std::atomic<bool> alive_{true};

  std::mutex finish_mu_;
  bool finished_ = false;
  Status final_status_;
};

}  // namespace

std::unique_ptr<FrameStream> MakeFrameStream(std::shared_ptr<ClientChannel> channel,
                                             const std::string& session_id) {
  return std::make_unique<GrpcFrameStream>(std::move(channel), session_id);
}

}  // namespace detail
}  // namespace worldbridge
