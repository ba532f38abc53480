// Client: handshake, sessions, and the factories for streams and recordings.
#include "WorldBridgeCore/Client.h"

#include <algorithm>  // (std::min) / (std::max) in parentheses: safe from Windows macros
#include <utility>

#include "ClientChannel.h"
#include "Convert.h"

namespace worldbridge {

struct Client::Impl : detail::ClientChannel {
  using ClientChannel::ClientChannel;
};

namespace {

const char* ChannelStateName(grpc_connectivity_state state) {
  switch (state) {
    case GRPC_CHANNEL_IDLE: return "IDLE";
    case GRPC_CHANNEL_CONNECTING: return "CONNECTING";
    case GRPC_CHANNEL_READY: return "READY";
    case GRPC_CHANNEL_TRANSIENT_FAILURE: return "TRANSIENT_FAILURE";
    case GRPC_CHANNEL_SHUTDOWN: return "SHUTDOWN";
  }
  return "UNKNOWN";
}

// How long one wait for a channel state change may block before CancelAll() is rechecked.
constexpr std::chrono::milliseconds kConnectPollSlice{50};

}  // namespace

Client::Client(ClientOptions options) : impl_(std::make_shared<Impl>(std::move(options))) {}

Client::~Client() = default;

const ClientOptions& Client::options() const { return impl_->options(); }

void Client::CancelAll() { impl_->CancelAll(); }

Status Client::Connect(ServerInfo* info) {
  const ClientOptions& opts = impl_->options();
  const auto start = std::chrono::steady_clock::now();
  const auto deadline = start + opts.connect_timeout;
  grpc::Channel* channel = impl_->channel();
  grpc_connectivity_state state = channel->GetState(/*try_to_connect=*/true);
  while (state != GRPC_CHANNEL_READY) {
    if (impl_->cancelled()) {
      return Status{static_cast<int>(grpc::StatusCode::CANCELLED),
                    "connect to " + opts.target + ": cancelled"};
    }
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) {
      return Status{static_cast<int>(grpc::StatusCode::UNAVAILABLE),
                    "cannot reach WorldBridge server at " + opts.target + " within " +
                        std::to_string(opts.connect_timeout.count()) + " ms (channel " +
                        ChannelStateName(state) + ")"};
    }
    const auto slice = (std::min<std::chrono::steady_clock::duration>)(deadline - now,
                                                                     kConnectPollSlice);
    channel->WaitForStateChange(state, std::chrono::system_clock::now() + slice);
    state = channel->GetState(/*try_to_connect=*/true);
  }

  v1::GetServerInfoRequest request;
  *request.mutable_hello() = convert::MakeHello(opts.client_name);
  v1::ServerInfo reply;
  grpc::ClientContext context;
  detail::ClientChannel::Registration registration(impl_.get(), &context);
  impl_->PrepareContext(&context, opts.call_timeout);
  Status status = convert::FromGrpc(impl_->stub()->GetServerInfo(&context, request, &reply),
                                    "GetServerInfo on " + opts.target);
  if (!status.ok()) return status;

  ServerInfo parsed;
  convert::FromProto(reply, &parsed);
  const std::string server_version =
      std::to_string(parsed.protocol_major) + "." + std::to_string(parsed.protocol_minor);
  const std::string client_version =
      std::to_string(kProtocolMajor) + "." + std::to_string(kProtocolMinor);
  if (parsed.protocol_major != kProtocolMajor) {
    return Status{static_cast<int>(grpc::StatusCode::FAILED_PRECONDITION),
                  "protocol major version mismatch: server " + server_version + " at " +
                      opts.target + ", client " + client_version};
  }
  if (parsed.protocol_minor != kProtocolMinor && parsed.warnings.empty()) {
    parsed.warnings.push_back("protocol minor version differs: server " + server_version +
                              ", client " + client_version);
  }
  if (info != nullptr) *info = std::move(parsed);
  return Status::Ok();
}

Status Client::OpenSession(const std::vector<ReferenceView>& views,
                           const SessionOptions& options, SessionInfo* session) {
  const ClientOptions& opts = impl_->options();
  const v1::OpenSessionRequest request =
      convert::MakeOpenSessionRequest(views, options, opts.client_name);

  v1::OpenSessionResponse reply;
  grpc::ClientContext context;
  detail::ClientChannel::Registration registration(impl_.get(), &context);
  impl_->PrepareContext(&context, opts.call_timeout);
  Status status = convert::FromGrpc(impl_->stub()->OpenSession(&context, request, &reply),
                                    "OpenSession on " + opts.target);
  if (!status.ok()) return status;
  if (session != nullptr) {
    session->session_id = reply.session_id();
    session->worker_id = reply.worker_id();
    session->anchor_points = reply.anchor_points();
    session->warnings.assign(reply.warnings().begin(), reply.warnings().end());
  }
  return Status::Ok();
}

Status Client::CloseSession(const std::string& session_id, uint64_t* frames_served) {
  const ClientOptions& opts = impl_->options();
  v1::CloseSessionRequest request;
  request.set_session_id(session_id);
  v1::CloseSessionResponse reply;
  grpc::ClientContext context;
  detail::ClientChannel::Registration registration(impl_.get(), &context);
  impl_->PrepareContext(&context, opts.call_timeout);
  Status status = convert::FromGrpc(impl_->stub()->CloseSession(&context, request, &reply),
                                    "CloseSession '" + session_id + "' on " + opts.target);
  if (status.ok() && frames_served != nullptr) *frames_served = reply.frames_served();
  return status;
}

std::unique_ptr<FrameStream> Client::StartStream(const std::string& session_id) {
  return detail::MakeFrameStream(impl_, session_id);
}

std::unique_ptr<Recorder> Client::StartRecording(const std::string& dataset_name,
                                                 const std::string& description) {
  return detail::MakeRecorder(impl_, dataset_name, description);
}

}  // namespace worldbridge
