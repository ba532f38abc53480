// Copyright WorldBridge. All Rights Reserved.

#include "WorldBridgeConvert.h"

#include "Engine/Texture2D.h"
#include "Math/Matrix.h"
#include "Math/Transform.h"
#include "RHITypes.h"
#include "UObject/UObjectGlobals.h"
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

	void UploadBgraFrame(UObject* Outer, TObjectPtr<UTexture2D>& Texture, std::vector<uint8_t>&& Pixels, int32 Width, int32 Height)
	{
		check(Pixels.size() == size_t(Width) * size_t(Height) * 4);
		if (!Texture || Texture->GetSizeX() != Width || Texture->GetSizeY() != Height)
		{
			Texture = UTexture2D::CreateTransient(Width, Height, PF_B8G8R8A8, MakeUniqueObjectName(Outer, UTexture2D::StaticClass(), TEXT("WorldBridgeFrame")));
			Texture->SRGB = true;
			Texture->Filter = TF_Bilinear;
			Texture->AddressX = TA_Clamp;
			Texture->AddressY = TA_Clamp;
			Texture->NeverStream = true;
			Texture->UpdateResource();
		}
		// The buffer and the region must live until the render thread has copied them: the cleanup callback
		// (called on the render thread after the upload) owns and frees both. Row 0 of the buffer is the top
		// row of the texture, as the wire's TopDown order says.
		std::vector<uint8_t>* Buffer = new std::vector<uint8_t>(MoveTemp(Pixels));
		FUpdateTextureRegion2D* Region = new FUpdateTextureRegion2D(0, 0, 0, 0, uint32(Width), uint32(Height));
		Texture->UpdateTextureRegions(0, 1, Region, uint32(Width) * 4, 4, Buffer->data(),
			[Buffer](uint8*, const FUpdateTextureRegion2D* UploadedRegion)
			{
				delete Buffer;
				delete UploadedRegion;
			});
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
