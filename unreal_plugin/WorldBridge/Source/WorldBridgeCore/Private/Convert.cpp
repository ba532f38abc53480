#include "Convert.h"

#include "WorldBridgeCore/Client.h"

namespace worldbridge {
namespace convert {

v1::ClientHello MakeHello(const std::string& client_name) {
  v1::ClientHello hello;
  hello.mutable_protocol()->set_major(kProtocolMajor);
  hello.mutable_protocol()->set_minor(kProtocolMinor);
  hello.set_client_name(client_name);
  return hello;
}

void ToProto(const Pose& pose, v1::CameraPose* out) {
  out->clear_camera_to_world();
  out->mutable_camera_to_world()->Reserve(16);
  for (double v : pose.camera_to_world) out->add_camera_to_world(v);
  out->set_convention(static_cast<v1::Convention>(static_cast<int>(pose.convention)));
}

void ToProto(const Intrinsics& intrinsics, v1::Intrinsics* out) {
  out->set_fx(intrinsics.fx);
  out->set_fy(intrinsics.fy);
  out->set_cx(intrinsics.cx);
  out->set_cy(intrinsics.cy);
  out->set_width(intrinsics.width);
  out->set_height(intrinsics.height);
}

void ToProto(const Image& image, v1::Texture* out) {
  out->set_width(image.width);
  out->set_height(image.height);
  out->set_format(static_cast<v1::TextureFormat>(static_cast<int>(image.format)));
  out->set_row_order(static_cast<v1::RowOrder>(static_cast<int>(image.row_order)));
  out->set_data(image.data.data(), image.data.size());
}

void ToProto(const DepthImage& depth, v1::DepthImage* out) {
  out->set_width(depth.width);
  out->set_height(depth.height);
  out->set_encoding(static_cast<v1::DepthEncoding>(static_cast<int>(depth.encoding)));
  out->set_kind(static_cast<v1::DepthKind>(static_cast<int>(depth.kind)));
  out->set_data(depth.data.data(), depth.data.size());
}

void ToProto(const TextureSpec& spec, v1::TextureSpec* out) {
  out->set_width(spec.width);
  out->set_height(spec.height);
  out->set_format(static_cast<v1::TextureFormat>(static_cast<int>(spec.format)));
  out->set_row_order(static_cast<v1::RowOrder>(static_cast<int>(spec.row_order)));
  out->set_jpeg_quality(spec.jpeg_quality);
}

void ToProto(const ReferenceView& view, v1::ReferenceView* out) {
  ToProto(view.rgb, out->mutable_rgb());
  ToProto(view.pose, out->mutable_pose());
  ToProto(view.intrinsics, out->mutable_intrinsics());
  if (view.depth) ToProto(*view.depth, out->mutable_depth());
}

void ToProto(const FrameRequest& request, const std::string& session_id,
             v1::FrameRequest* out) {
  out->set_session_id(session_id);
  ToProto(request.pose, out->mutable_pose());
  if (request.intrinsics) ToProto(*request.intrinsics, out->mutable_intrinsics());
  if (request.depth) ToProto(*request.depth, out->mutable_depth());
  out->set_keyframe(request.keyframe);
}

void ToProto(const CapturedFrame& frame, v1::CapturedFrame* out) {
  ToProto(frame.pose, out->mutable_pose());
  ToProto(frame.intrinsics, out->mutable_intrinsics());
  ToProto(frame.rgb, out->mutable_rgb());
  if (frame.depth) ToProto(*frame.depth, out->mutable_depth());
}

v1::AnchorLock ToProto(AnchorLock lock) {
  switch (lock) {
    case AnchorLock::On:
      return v1::ANCHOR_LOCK_ON;
    case AnchorLock::Off:
      return v1::ANCHOR_LOCK_OFF;
    case AnchorLock::ServerDefault:
      break;
  }
  return v1::ANCHOR_LOCK_UNSPECIFIED;  // ServerDefault, or a value cast from elsewhere
}

void ToProto(const SessionOptions& options, v1::OpenSessionRequest* out) {
  out->set_generator(options.generator);
  ToProto(options.output, out->mutable_output());
  out->set_seed(options.seed);
  out->mutable_generator_options()->set_anchor_lock(ToProto(options.anchor_lock));
  out->mutable_generator_options()->set_bundle(options.bundle);
}

v1::OpenSessionRequest MakeOpenSessionRequest(const std::vector<ReferenceView>& views,
                                              const SessionOptions& options,
                                              const std::string& client_name) {
  v1::OpenSessionRequest request;
  *request.mutable_hello() = MakeHello(client_name);
  request.mutable_reference_views()->Reserve(static_cast<int>(views.size()));
  for (const ReferenceView& view : views) ToProto(view, request.add_reference_views());
  ToProto(options, &request);
  return request;
}

void FromProto(const v1::ServerInfo& info, ServerInfo* out) {
  out->protocol_major = info.protocol().major();
  out->protocol_minor = info.protocol().minor();
  out->server_version = info.server_version();
  out->capabilities.assign(info.capabilities().begin(), info.capabilities().end());
  out->generators.clear();
  for (const auto& g : info.generators()) {
    out->generators.push_back(GeneratorInfo{g.name(), g.description(), g.available()});
  }
  out->max_message_bytes = info.limits().max_message_bytes();
  out->max_texture_width = info.limits().max_texture_width();
  out->max_texture_height = info.limits().max_texture_height();
  out->warnings.assign(info.warnings().begin(), info.warnings().end());
}

void FromProto(const v1::Texture& texture, Image* out) {
  out->width = texture.width();
  out->height = texture.height();
  // Formats this client does not know are passed through as their wire number.
  out->format = static_cast<TextureFormat>(static_cast<int>(texture.format()));
  out->row_order = texture.row_order() == v1::ROW_ORDER_BOTTOM_UP ? RowOrder::BottomUp
                                                                  : RowOrder::TopDown;
  const std::string& data = texture.data();
  out->data.assign(data.begin(), data.end());
}

void FromProto(const v1::Frame& frame, FrameResult* out) {
  out->sequence = frame.sequence();
  out->client_timestamp_us = frame.client_timestamp_us();
  if (frame.has_texture()) {
    FromProto(frame.texture(), &out->texture);
  } else {
    out->texture = Image{};
  }
  const auto& t = frame.timings();
  out->timings = StageTimings{t.queue_ms(), t.anchor_ms(), t.model_ms(), t.encode_ms(),
                              t.server_total_ms()};
  out->skipped_sequences.assign(frame.skipped_sequences().begin(),
                                frame.skipped_sequences().end());
  out->anchor_coverage = frame.anchor_coverage();
  out->error_code = frame.has_error() ? frame.error().code() : 0;
  out->error_message = frame.has_error() ? frame.error().message() : std::string();
}

void FromProto(const v1::RecordingSummary& summary, RecordingSummary* out) {
  out->dataset_name = summary.dataset_name();
  out->path = summary.path();
  out->frames_written = summary.frames_written();
  out->rejected.clear();
  for (const auto& r : summary.rejected()) {
    out->rejected.push_back(RejectedFrame{r.sequence(), r.code(), r.message()});
  }
  out->duration_s = summary.duration_s();
}

const char* StatusCodeName(int code) {
  static const char* const kNames[] = {
      "OK",          "CANCELLED",         "UNKNOWN",          "INVALID_ARGUMENT",
      "DEADLINE_EXCEEDED", "NOT_FOUND",   "ALREADY_EXISTS",   "PERMISSION_DENIED",
      "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
      "UNIMPLEMENTED", "INTERNAL",        "UNAVAILABLE",      "DATA_LOSS",
      "UNAUTHENTICATED"};
  if (code >= 0 && code < static_cast<int>(sizeof(kNames) / sizeof(kNames[0]))) {
    return kNames[code];
  }
  return "UNKNOWN_CODE";
}

Status FromGrpc(const grpc::Status& status, const std::string& what) {
  if (status.ok()) return Status::Ok();
  const int code = static_cast<int>(status.error_code());
  return Status{code, what + ": " + StatusCodeName(code) + ": " + status.error_message()};
}

}  // namespace convert
}  // namespace worldbridge
