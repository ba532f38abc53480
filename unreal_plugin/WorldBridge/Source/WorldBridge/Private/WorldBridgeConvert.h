// Copyright WorldBridge. All Rights Reserved.

// Unreal values -> the engine-free core's types. Private: the core's headers use std types.
#pragma once

#include "CoreMinimal.h"
#include "UObject/ObjectPtr.h"
#include "WorldBridgeCore/Client.h"
#include "WorldBridgeCore/Math.h"
#include "WorldBridgeCore/Types.h"
#include <cstdint>
#include <string>
#include <vector>

class UTexture2D;

namespace WorldBridge
{
	/** Camera-to-world of a camera at LocationCm with Rotation, Unreal convention (centimetres, camera looks along +X). */
	worldbridge::Pose MakePose(const FVector& LocationCm, const FRotator& Rotation);

	/** Pinhole intrinsics in pixels from Unreal's horizontal field of view (degrees). */
	worldbridge::Intrinsics MakeIntrinsics(float HorizontalFovDeg, int32 Width, int32 Height);

	/** BGRA8 rows top-down from a PF_B8G8R8A8 readback; alpha forced to 255 (scene captures leave it undefined). */
	worldbridge::Image MakeBgraImage(TArray64<uint8>&& Pixels, int32 Width, int32 Height);

	/**
	 * Planar depth in metres (FLOAT32_M, PLANAR_Z) from an SCS_SceneDepth readback of a PF_R32_FLOAT target
	 * (centimetres): values >= SkyDepthCm or non-finite become +inf (sky), values <= 0 become 0 (invalid).
	 */
	worldbridge::DepthImage MakeDepthImage(const TArray64<uint8>& FloatPixelsCm, int32 Width, int32 Height, float SkyDepthCm);

	/**
	 * Uploads Width x Height BGRA8 pixels (rows top-down, bytes B, G, R, A: the wire's BGRA8 / TopDown) into
	 * Texture, a PF_B8G8R8A8 sRGB texture recreated under Outer (with a unique name) when it is missing or of
	 * another size. Takes the pixels; the render thread frees them after the copy. Game thread.
	 */
	void UploadBgraFrame(UObject* Outer, TObjectPtr<UTexture2D>& Texture, std::vector<uint8_t>&& Pixels, int32 Width, int32 Height);

	/** Client options from explicit values, falling back to UWorldBridgeSettings for empty ones. */
	worldbridge::ClientOptions MakeClientOptions(const FString& Address, const FString& Token);

	inline std::string ToStd(const FString& Value) { return std::string(TCHAR_TO_UTF8(*Value)); }
	inline FString ToFString(const std::string& Value) { return FString(UTF8_TO_TCHAR(Value.c_str())); }

	/** "<message> (gRPC status <code>)". */
	FString DescribeStatus(const worldbridge::Status& Status);
}
