// Recorder over the RecordTrajectory call: the header, sequence-numbered frames, the summary.
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

#include "ClientChannel.h"
#include "Convert.h"

namespace worldbridge {
namespace detail {
namespace {

class GrpcRecorder final : public Recorder {
 public:
  GrpcRecorder(std::shared_ptr<ClientChannel> channel, const std::string& dataset_name,
               const std::string& description)
      : channel_(std::move(channel)),
        what_("RecordTrajectory '" + dataset_name + "' on " + channel_->options().target),
        registration_(channel_.get(), &context_) {
    // No deadline on the call: a recording may run for as long as the engine captures.
    // Finish() bounds the wait for the summary by call_timeout.
    channel_->PrepareContext(&context_, std::chrono::milliseconds(0));
    call_ = channel_->stub()->RecordTrajectory(&context_, &summary_);
    v1::RecordRequest header;
    v1::RecordingHeader* h = header.mutable_header();
    *h->mutable_hello() = convert::MakeHello(channel_->options().client_name);
    h->set_dataset_name(dataset_name);
    h->set_description(description);
    if (!call_->Write(header)) broken_ = true;
  }

  ~GrpcRecorder() override {
    std::lock_guard<std::mutex> lock(mu_);
    if (!finished_) {
      context_.TryCancel();
      call_->Finish();
    }
  }

  bool Write(const CapturedFrame& frame, uint64_t* sequence) override {
    v1::RecordRequest request;
    convert::ToProto(frame, request.mutable_frame());
    std::lock_guard<std::mutex> lock(mu_);
    if (broken_ || finished_) return false;
    const uint64_t seq = next_sequence_++;
    request.mutable_frame()->set_sequence(seq);
    request.mutable_frame()->set_client_timestamp_us(SteadyMicros());
    if (!call_->Write(request)) {
      broken_ = true;
      return false;
    }
    if (sequence != nullptr) *sequence = seq;
    return true;
  }

  Status Finish(RecordingSummary* summary) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (finished_) {
      if (final_status_.ok() && summary != nullptr) convert::FromProto(summary_, summary);
      return final_status_;
    }
    if (!broken_) call_->WritesDone();

    // Wait for the summary at most call_timeout: a watchdog cancels the call after that.
    std::mutex watch_mu;
    std::condition_variable watch_cv;
    bool done = false;
    bool timed_out = false;
    const std::chrono::milliseconds timeout = channel_->options().call_timeout;
    std::thread watchdog([&] {
      std::unique_lock<std::mutex> watch_lock(watch_mu);
      if (!watch_cv.wait_for(watch_lock, timeout, [&] { return done; })) {
        timed_out = true;
        context_.TryCancel();
      }
    });
    const grpc::Status status = call_->Finish();
    {
      std::lock_guard<std::mutex> watch_lock(watch_mu);
      done = true;
    }
    watch_cv.notify_all();
    watchdog.join();
    finished_ = true;

    if (timed_out) {
      final_status_ = Status{static_cast<int>(grpc::StatusCode::DEADLINE_EXCEEDED),
                             what_ + ": no summary within " + std::to_string(timeout.count()) +
                                 " ms of the last frame"};
    } else {
      final_status_ = convert::FromGrpc(status, what_);
    }
    if (final_status_.ok() && summary != nullptr) convert::FromProto(summary_, summary);
    return final_status_;
  }

 private:
  std::shared_ptr<ClientChannel> channel_;
  const std::string what_;
  grpc::ClientContext context_;
  ClientChannel::Registration registration_;
  v1::RecordingSummary summary_;
  std::unique_ptr<grpc::ClientWriter<v1::RecordRequest>> call_;

  std::mutex mu_;
  uint64_t next_sequence_ = 0;
  bool broken_ = false;
  bool finished_ = false;
  Status final_status_;
};

}  // namespace

std::unique_ptr<Recorder> MakeRecorder(std::shared_ptr<ClientChannel> channel,
                                       const std::string& dataset_name,
                                       const std::string& description) {
  return std::make_unique<GrpcRecorder>(std::move(channel), dataset_name, description);
}

}  // namespace detail
}  // namespace worldbridge
