// Copyright WorldBridge. All Rights Reserved.

#include "WorldBridgeConvert.h"

#include "Math/Matrix.h"
#include "Math/Transform.h"
#include "WorldBridgeModule.h"
#include "WorldBridgeSettings.h"
#include <chrono>
#include <cmath>
#include <limits>

namespace WorldBridge
{
	worldbridge::Pose MakePose(const FVector& LocationCm, const FRotator& Rotation)
	{
		// Row-vector FMatrix (translation in M[3][0..2]); the core transposes it into the wire's
		// column-vector matrix. FMatrix::M is double[4][4] in UE5.
		const FMatrix CameraToWorld = FTransform(Rotation, LocationCm).ToMatrixNoScale();
		worldbridge::Pose Pose;
		Pose.camera_to_world = worldbridge::PackRowVectorMatrix(CameraToWorld.M);
		Pose.convention = worldbridge::Convention::Unreal;
		return Pose;
	}

	worldbridge::Intrinsics MakeIntrinsics(float HorizontalFovDeg, int32 Width, int32 Height)
	{
		return worldbridge::IntrinsicsFromHorizontalFov(HorizontalFovDeg, uint32_t(Width), uint32_t(Height));
	}

	worldbridge::Image MakeBgraImage(TArray64<uint8>&& Pixels, int32 Width, int32 Height)
	{
		worldbridge::Image Image;
		Image.width = uint32_t(Width);
		Image.height = uint32_t(Height);
		Image.format = worldbridge::TextureFormat::BGRA8;
		Image.row_order = worldbridge::RowOrder::TopDown;
		Image.data.assign(Pixels.GetData(), Pixels.GetData() + Pixels.Num());
		for (size_t Alpha = 3; Alpha < Image.data.size(); Alpha += 4)
		{
			Image.data[Alpha] = 255;
		}
		return Image;
	}

	worldbridge::DepthImage MakeDepthImage(const TArray64<uint8>& FloatPixelsCm, int32 Width, int32 Height, float SkyDepthCm)
	{
		const int64 Count = int64(Width) * Height;
		check(FloatPixelsCm.Num() == Count * int64(sizeof(float)));
		const float* Centimetres = reinterpret_cast<const float*>(FloatPixelsCm.GetData());
		TArray64<float> Metres;
		Metres.SetNumUninitialized(Count);
		const float Inf = std::numeric_limits<float>::infinity();
		for (int64 Index = 0; Index < Count; ++Index)
		{
			const float Cm = Centimetres[Index];
			Metres[Index] = (!std::isfinite(Cm) || Cm >= SkyDepthCm) ? Inf : (Cm <= 0.0f ? 0.0f : Cm * 0.01f);
		}
		return worldbridge::DepthFromFloat32(Metres.GetData(), uint32_t(Width), uint32_t(Height), worldbridge::DepthKind::PlanarZ);
	}

	worldbridge::ClientOptions MakeClientOptions(const FString& Address, const FString& Token)
	{
		const UWorldBridgeSettings* Settings = UWorldBridgeSettings::Get();
		worldbridge::ClientOptions Options;
		Options.target = ToStd(Address.IsEmpty() ? Settings->ServerAddress : Address);
		Options.token = ToStd(Token.IsEmpty() ? Settings->Token : Token);
		Options.use_tls = Settings->bUseTls;
		Options.client_name = ToStd(FWorldBridgeModule::ClientName());
		Options.connect_timeout = std::chrono::milliseconds(int64(Settings->ConnectTimeoutSeconds * 1000.0f));
		Options.call_timeout = std::chrono::milliseconds(int64(Settings->CallTimeoutSeconds * 1000.0f));
		Options.max_message_bytes = Settings->MaxMessageMiB << 20;
		return Options;
	}

	FString DescribeStatus(const worldbridge::Status& Status)
	{
		return FString::Printf(TEXT("%s (gRPC status %d)"), *ToFString(Status.message), Status.code);
	}
}
