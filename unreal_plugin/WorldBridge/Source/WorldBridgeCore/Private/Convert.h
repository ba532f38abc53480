// Conversions between the client core's value types (Types.h) and the wire messages
// (protos/worldbridge/v1). Enum values are the same numbers on both sides; a wire value the
// client does not know maps to the closest safe default and is noted where it matters.
#pragma once

#include <string>
#include <vector>

#include <grpcpp/support/status.h>

#include "WorldBridgeCore/Types.h"
#include "worldbridge/v1/frames.pb.h"
#include "worldbridge/v1/handshake.pb.h"
#include "worldbridge/v1/recording.pb.h"
#include "worldbridge/v1/session.pb.h"

namespace worldbridge {
namespace convert {

// ClientHello with this client's protocol version (kProtocolMajor.kProtocolMinor).
v1::ClientHello MakeHello(const std::string& client_name);

void ToProto(const Pose& pose, v1::CameraPose* out);
void ToProto(const Intrinsics& intrinsics, v1::Intrinsics* out);
void ToProto(const Image& image, v1::Texture* out);
void ToProto(const DepthImage& depth, v1::DepthImage* out);
void ToProto(const TextureSpec& spec, v1::TextureSpec* out);
void ToProto(const ReferenceView& view, v1::ReferenceView* out);
// Session id, pose, optional intrinsics and depth, keyframe; the caller sets the sequence and
// timestamp.
void ToProto(const FrameRequest& request, const std::string& session_id,
             v1::FrameRequest* out);
// Pose, intrinsics, rgb, optional depth; the caller sets the sequence and timestamp.
void ToProto(const CapturedFrame& frame, v1::CapturedFrame* out);
// The wire AnchorLock; ServerDefault (and any value outside the enum) is UNSPECIFIED.
v1::AnchorLock ToProto(AnchorLock lock);
// Generator, output spec, seed and generator options (anchor lock); leaves hello and the
// reference views alone.
void ToProto(const SessionOptions& options, v1::OpenSessionRequest* out);
// The whole OpenSession request: this client's hello, the views in order, and `options`.
v1::OpenSessionRequest MakeOpenSessionRequest(const std::vector<ReferenceView>& views,
                                              const SessionOptions& options,
                                              const std::string& client_name);

void FromProto(const v1::ServerInfo& info, ServerInfo* out);
void FromProto(const v1::Texture& texture, Image* out);
// Everything but round_trip_ms, which only the stream knows.
void FromProto(const v1::Frame& frame, FrameResult* out);
void FromProto(const v1::RecordingSummary& summary, RecordingSummary* out);

// Upper-case gRPC code name, e.g. "INVALID_ARGUMENT"; "UNKNOWN_CODE" for other values.
const char* StatusCodeName(int code);

// A gRPC status as a client Status whose message reads "<what>: <CODE_NAME>: <details>".
Status FromGrpc(const grpc::Status& status, const std::string& what);

}  // namespace convert
}  // namespace worldbridge
