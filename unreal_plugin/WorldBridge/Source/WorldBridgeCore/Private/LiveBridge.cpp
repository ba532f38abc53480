// LiveBridge: a worker thread that connects, streams the newest pose and reconnects.
//
// Threads: the caller (game thread) only touches `pending` and the event queue under short
// locks. The worker thread connects, opens the session and writes requests; a reader thread
// per stream receives frames. `mu` guards the hand-over between them and is never held
// across a network call.
#include "WorldBridgeCore/LiveBridge.h"

#include <algorithm>  // (std::min) / (std::max) in parentheses: safe from Windows macros
#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <random>
#include <thread>
#include <utility>

namespace worldbridge {
namespace {

// How long Stop() lets the worker close its session before cancelling every call.
constexpr std::chrono::milliseconds kStopGracePeriod{2000};

// A stream that lasted this long counts as a working connection even without frames.
constexpr std::chrono::milliseconds kHealthyStream{1000};

constexpr int kCancelledCode = 1;    // grpc::StatusCode::CANCELLED
constexpr int kUnavailableCode = 14;  // grpc::StatusCode::UNAVAILABLE

BridgeEvent MakeStatusEvent(BridgeEventType type, Status status) {
  BridgeEvent event;
  event.type = type;
  event.status = std::move(status);
  return event;
}

}  // namespace

struct LiveBridge::Impl {
  explicit Impl(LiveBridgeOptions opts) : options(std::move(opts)), rng(std::random_device{}()) {}

  const LiveBridgeOptions options;

  // Hand-over between the caller, the worker and the reader.
  std::mutex mu;
  std::condition_variable cv;
  bool stopping = false;
  bool worker_exited = true;
  std::optional<FrameRequest> pending;
  int in_flight = 0;
  bool reader_done = false;
  std::shared_ptr<Client> client;  // the current attempt's client, for Stop()
  FrameStream* stream = nullptr;   // the open stream, for Stop()
  std::thread worker;

  std::mutex events_mu;
  std::deque<BridgeEvent> events;
  size_t queued_frames = 0;

  std::atomic<BridgeState> state{BridgeState::Stopped};
  std::atomic<uint64_t> frames_received{0};
  std::mt19937 rng;  // worker thread only

  void PushEvent(BridgeEvent event) {
    std::lock_guard<std::mutex> lock(events_mu);
    if (event.type == BridgeEventType::Frame) {
      const size_t limit = static_cast<size_t>((std::max)(1, options.max_queued_frames));
      if (queued_frames >= limit) {  // newest frame wins: drop the oldest queued frame
        auto oldest = std::find_if(events.begin(), events.end(), [](const BridgeEvent& e) {
          return e.type == BridgeEventType::Frame;
        });
        if (oldest != events.end()) {
          events.erase(oldest);
          --queued_frames;
        }
      }
      ++queued_frames;
    }
    events.push_back(std::move(event));
  }

  // Waits `delay` or until Stop(); false when stopping.
  bool WaitOrStop(std::chrono::milliseconds delay) {
    std::unique_lock<std::mutex> lock(mu);
    return !cv.wait_for(lock, delay, [this] { return stopping; });
  }

  bool Stopping() {
    std::lock_guard<std::mutex> lock(mu);
    return stopping;
  }

  std::chrono::milliseconds JitteredDelay(int attempt) {
    const std::chrono::milliseconds base = BackoffDelay(options.backoff, attempt);
    const double jitter = std::clamp(options.backoff.jitter, 0.0, 1.0);
    std::uniform_real_distribution<double> factor(1.0 - jitter, 1.0 + jitter);
    return std::chrono::milliseconds(
        static_cast<int64_t>(static_cast<double>(base.count()) * factor(rng)));
  }

  // True (state Failed, an Error event pushed) once `failures` reaches max_attempts.
  bool GiveUp(int failures, const Status& last) {
    if (options.backoff.max_attempts <= 0 || failures < options.backoff.max_attempts) {
      return false;
    }
    state = BridgeState::Failed;
    PushEvent(MakeStatusEvent(
        BridgeEventType::Error,
        Status{kUnavailableCode, "giving up on " + options.client.target + " after " +
                                     std::to_string(failures) + " failed attempts; last: " +
                                     last.message}));
    return true;
  }

  void Run();
  Status StreamSession(Client* active, const std::string& session_id);
};

void LiveBridge::Impl::Run() {
  int failures = 0;  // consecutive failed attempts (connect, open, or a stream dying at once)
  while (true) {
    state = BridgeState::Connecting;
    auto attempt_client = std::make_shared<Client>(options.client);
    {
      std::lock_guard<std::mutex> lock(mu);
      if (stopping) break;
      client = attempt_client;
    }
    ServerInfo server;
    SessionInfo session;
    Status status = attempt_client->Connect(&server);
    if (status.ok()) {
      status = attempt_client->OpenSession(options.reference_views, options.session, &session);
    }
    if (!status.ok()) {
      {
        std::lock_guard<std::mutex> lock(mu);
        client.reset();
        if (stopping) break;
      }
      PushEvent(MakeStatusEvent(BridgeEventType::Error, status));
      ++failures;
      if (GiveUp(failures, status)) break;
      state = BridgeState::Backoff;
      if (!WaitOrStop(JitteredDelay(failures - 1))) break;
      continue;
    }

    BridgeEvent connected;
    connected.type = BridgeEventType::Connected;
    connected.server = server;
    connected.session = session;
    PushEvent(std::move(connected));
    state = BridgeState::Streaming;

    const uint64_t frames_before = frames_received;
    const auto stream_start = std::chrono::steady_clock::now();
    const Status ended = StreamSession(attempt_client.get(), session.session_id);
    if (Stopping()) {
      // Best effort: free the server's session. Stop() cancels this after its grace period.
      attempt_client->CloseSession(session.session_id);
      PushEvent(MakeStatusEvent(BridgeEventType::Disconnected,
                                Status{kCancelledCode, "LiveBridge stopped"}));
      break;
    }
    // The next attempt opens a new session: close this one so that it does not hold one of
    // the server's session slots until its idle timeout (best effort; a server that went away
    // answers at once, and Stop() cancels the call).
    attempt_client->CloseSession(session.session_id);
    {
      std::lock_guard<std::mutex> lock(mu);
      client.reset();
    }
    PushEvent(MakeStatusEvent(
        BridgeEventType::Disconnected,
        ended.ok() ? Status{kUnavailableCode, "the server ended the frame stream of session '" +
                                                  session.session_id + "'"}
                   : ended));
    // A stream that delivered frames or ran a while starts the backoff afresh; one that died
    // at once without a frame counts as a failed attempt, so that a server accepting and
    // dropping every stream is not hammered.
    const bool healthy = frames_received > frames_before ||
                         std::chrono::steady_clock::now() - stream_start >= kHealthyStream;
    failures = healthy ? 0 : failures + 1;
    if (GiveUp(failures, ended)) break;
    state = BridgeState::Backoff;
    if (!WaitOrStop(JitteredDelay((std::max)(0, failures - 1)))) break;
  }
  {
    std::lock_guard<std::mutex> lock(mu);
    client.reset();
    worker_exited = true;
  }
  if (state != BridgeState::Failed) state = BridgeState::Stopped;
  cv.notify_all();
}

Status LiveBridge::Impl::StreamSession(Client* active, const std::string& session_id) {
  std::unique_ptr<FrameStream> frame_stream = active->StartStream(session_id);
  const int max_in_flight = (std::max)(1, options.max_in_flight);
  {
    std::lock_guard<std::mutex> lock(mu);
    if (stopping) frame_stream->Cancel();
    stream = frame_stream.get();
    in_flight = 0;
    reader_done = false;
  }

  std::thread reader([this, &frame_stream] {
    FrameResult frame;
    while (frame_stream->Read(&frame)) {
      const int answered = 1 + static_cast<int>(frame.skipped_sequences.size());
      if (frame.error_code == 0) ++frames_received;
      {
        std::lock_guard<std::mutex> lock(mu);
        in_flight = (std::max)(0, in_flight - answered);
      }
      cv.notify_all();
      BridgeEvent event;
      event.type = BridgeEventType::Frame;
      event.frame = std::move(frame);
      PushEvent(std::move(event));
      frame = FrameResult{};
    }
    {
      std::lock_guard<std::mutex> lock(mu);
      reader_done = true;
    }
    cv.notify_all();
  });

  while (true) {
    FrameRequest request;
    {
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] {
        return stopping || reader_done || (pending.has_value() && in_flight < max_in_flight);
      });
      if (stopping || reader_done) break;
      request = std::move(*pending);
      pending.reset();
      ++in_flight;
    }
    // A failed write means the call is over; the reader sees its end and stops.
    if (!frame_stream->Send(request)) break;
  }
  reader.join();
  {
    std::lock_guard<std::mutex> lock(mu);
    stream = nullptr;
  }
  return frame_stream->Finish();
}

LiveBridge::LiveBridge(LiveBridgeOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

LiveBridge::~LiveBridge() { Stop(); }

void LiveBridge::Start() {
  std::thread finished;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    if (!impl_->worker_exited) return;  // already running
    finished = std::move(impl_->worker);  // a worker that gave up (Failed) is joined below
    impl_->stopping = false;
    impl_->worker_exited = false;
  }
  if (finished.joinable()) finished.join();
  impl_->state = BridgeState::Connecting;
  impl_->worker = std::thread([impl = impl_.get()] { impl->Run(); });
}

void LiveBridge::Stop() {
  std::shared_ptr<Client> connecting;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    if (!impl_->worker.joinable()) return;
    impl_->stopping = true;
    if (impl_->stream != nullptr) {
      impl_->stream->Cancel();
    } else {
      connecting = impl_->client;  // in Connect / OpenSession / CloseSession: cancel now
    }
  }
  impl_->cv.notify_all();
  if (connecting) connecting->CancelAll();
  {
    std::unique_lock<std::mutex> lock(impl_->mu);
    if (!impl_->cv.wait_for(lock, kStopGracePeriod, [this] { return impl_->worker_exited; })) {
      if (impl_->client) impl_->client->CancelAll();  // the session close is taking too long
    }
  }
  impl_->worker.join();
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->pending.reset();
  impl_->state = BridgeState::Stopped;
}

void LiveBridge::SubmitPose(FrameRequest request) {
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->pending = std::move(request);
  }
  impl_->cv.notify_all();
}

void LiveBridge::DrainEvents(std::vector<BridgeEvent>* out) {
  if (out == nullptr) return;
  std::lock_guard<std::mutex> lock(impl_->events_mu);
  for (BridgeEvent& event : impl_->events) out->push_back(std::move(event));
  impl_->events.clear();
  impl_->queued_frames = 0;
}

BridgeState LiveBridge::state() const { return impl_->state; }

uint64_t LiveBridge::frames_received() const { return impl_->frames_received; }

}  // namespace worldbridge
