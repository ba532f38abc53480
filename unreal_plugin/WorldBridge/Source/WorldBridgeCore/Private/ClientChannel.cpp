#include "ClientChannel.h"

#include <utility>

namespace worldbridge {
namespace detail {

int64_t SteadyMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

namespace {

std::shared_ptr<grpc::ChannelCredentials> MakeChannelCredentials(const ClientOptions& options) {
  if (!options.use_tls) return grpc::InsecureChannelCredentials();
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = options.root_certs_pem;
  return grpc::SslCredentials(ssl);
}

}  // namespace

ClientChannel::ClientChannel(ClientOptions options) : options_(std::move(options)) {
  grpc::ChannelArguments args;
  args.SetMaxSendMessageSize(options_.max_message_bytes);
  args.SetMaxReceiveMessageSize(options_.max_message_bytes);
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  // Reconnect quickly after a server restart; the LiveBridge has its own backoff on top.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 250);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 250);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 2000);
  args.SetString(GRPC_ARG_PRIMARY_USER_AGENT_STRING, options_.client_name);
  channel_ = grpc::CreateCustomChannel(options_.target, MakeChannelCredentials(options_), args);
  stub_ = v1::WorldBridge::NewStub(channel_);
}

void ClientChannel::PrepareContext(grpc::ClientContext* context,
                                   std::chrono::milliseconds timeout) const {
  if (!options_.token.empty()) {
    context->AddMetadata("authorization", "Bearer " + options_.token);
  }
  if (timeout.count() > 0) {
    context->set_deadline(std::chrono::system_clock::now() + timeout);
  }
}

void ClientChannel::CancelAll() {
  std::lock_guard<std::mutex> lock(mu_);
  cancelled_ = true;
  for (grpc::ClientContext* context : active_) context->TryCancel();
}

bool ClientChannel::cancelled() const {
  std::lock_guard<std::mutex> lock(mu_);
  return cancelled_;
}

ClientChannel::Registration::Registration(ClientChannel* owner, grpc::ClientContext* context)
    : owner_(owner), context_(context) {
  std::lock_guard<std::mutex> lock(owner_->mu_);
  owner_->active_.insert(context_);
  // A context cancelled before its call starts cancels the call as soon as it starts.
  if (owner_->cancelled_) context_->TryCancel();
}

ClientChannel::Registration::~Registration() {
  std::lock_guard<std::mutex> lock(owner_->mu_);
  owner_->active_.erase(context_);
}

}  // namespace detail
}  // namespace worldbridge
