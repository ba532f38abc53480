// The wire messages the client core builds, checked without a server.
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "Convert.h"
#include "WorldBridgeCore/Client.h"
#include "WorldBridgeCore/Types.h"

namespace worldbridge {
namespace {

ReferenceView TinyView(double x) {
  ReferenceView view;
  view.rgb.width = 2;
  view.rgb.height = 1;
  view.rgb.format = TextureFormat::BGRA8;
  view.rgb.data = {1, 2, 3, 255, 4, 5, 6, 255};
  view.pose.camera_to_world[3] = x;
  view.intrinsics = Intrinsics{1.0, 1.0, 1.0, 0.5, 2, 1};
  return view;
}

TEST(ConvertOpenSession, DefaultLeavesAnchorLockUnspecified) {
  const SessionOptions options;
  EXPECT_EQ(options.anchor_lock, AnchorLock::ServerDefault);
  const v1::OpenSessionRequest request = convert::MakeOpenSessionRequest({}, options, "t");
  EXPECT_EQ(request.generator_options().anchor_lock(), v1::ANCHOR_LOCK_UNSPECIFIED);
  // The server reads the same value back from the bytes.
  v1::OpenSessionRequest parsed;
  ASSERT_TRUE(parsed.ParseFromString(request.SerializeAsString()));
  EXPECT_EQ(parsed.generator_options().anchor_lock(), v1::ANCHOR_LOCK_UNSPECIFIED);
  EXPECT_EQ(parsed.generator_options().bundle(), "");  // the server's default bundle
}

TEST(ConvertOpenSession, CarriesTheBundleName) {
  SessionOptions options;
  options.bundle = "my_level";
  v1::OpenSessionRequest parsed;
  ASSERT_TRUE(parsed.ParseFromString(convert::MakeOpenSessionRequest({}, options, "t").SerializeAsString()));
  EXPECT_EQ(parsed.generator_options().bundle(), "my_level");
}

TEST(ConvertOpenSession, CarriesEachAnchorLock) {
  const std::pair<AnchorLock, v1::AnchorLock> cases[] = {
      {AnchorLock::ServerDefault, v1::ANCHOR_LOCK_UNSPECIFIED},
      {AnchorLock::On, v1::ANCHOR_LOCK_ON},
      {AnchorLock::Off, v1::ANCHOR_LOCK_OFF},
  };
  for (const auto& [lock, wire] : cases) {
    SessionOptions options;
    options.anchor_lock = lock;
    const v1::OpenSessionRequest request = convert::MakeOpenSessionRequest({}, options, "t");
    v1::OpenSessionRequest parsed;
    ASSERT_TRUE(parsed.ParseFromString(request.SerializeAsString()));
    EXPECT_EQ(parsed.generator_options().anchor_lock(), wire)
        << "AnchorLock " << static_cast<int>(lock);
    // Same numbers on both sides, as for the other enums.
    EXPECT_EQ(static_cast<int>(wire), static_cast<int>(lock));
  }
  // A value cast from outside the enum falls back to the server's default.
  EXPECT_EQ(convert::ToProto(static_cast<AnchorLock>(7)), v1::ANCHOR_LOCK_UNSPECIFIED);
}

TEST(ConvertOpenSession, CarriesHelloViewsAndTheOtherOptions) {
  SessionOptions options;
  options.generator = "frame-model";
  options.seed = 42;
  options.output.width = 320;
  options.output.height = 240;
  options.output.format = TextureFormat::JPEG;
  options.output.row_order = RowOrder::BottomUp;
  options.output.jpeg_quality = 85;
  options.anchor_lock = AnchorLock::Off;
  const v1::OpenSessionRequest request =
      convert::MakeOpenSessionRequest({TinyView(1.0), TinyView(2.0)}, options, "cpp-test");
  EXPECT_EQ(request.hello().protocol().major(), kProtocolMajor);
  EXPECT_EQ(request.hello().protocol().minor(), kProtocolMinor);
  EXPECT_EQ(request.hello().client_name(), "cpp-test");
  ASSERT_EQ(request.reference_views_size(), 2);
  EXPECT_EQ(request.reference_views(0).pose().camera_to_world(3), 1.0);
  EXPECT_EQ(request.reference_views(1).pose().camera_to_world(3), 2.0);
  EXPECT_EQ(request.reference_views(0).rgb().data().size(), 8u);
  EXPECT_EQ(request.generator(), "frame-model");
  EXPECT_EQ(request.seed(), 42u);
  EXPECT_EQ(request.output().width(), 320u);
  EXPECT_EQ(request.output().height(), 240u);
  EXPECT_EQ(request.output().format(), v1::TEXTURE_FORMAT_JPEG);
  EXPECT_EQ(request.output().row_order(), v1::ROW_ORDER_BOTTOM_UP);
  EXPECT_EQ(request.output().jpeg_quality(), 85u);
  EXPECT_EQ(request.generator_options().anchor_lock(), v1::ANCHOR_LOCK_OFF);
}

}  // namespace
}  // namespace worldbridge
