// Copyright WorldBridge. All Rights Reserved.

#pragma once

#include "CoreMinimal.h"

class UTextureRenderTarget2D;

/**
 * Asynchronous GPU -> CPU copy of a render target (FRHIGPUTextureReadback), polled without waiting.
 *
 * Request() enqueues the copy on the render thread after everything already enqueued (so after a
 * USceneCaptureComponent2D::CaptureScene() issued just before). Poll() enqueues one render-thread check
 * per call at most: when the GPU fence has passed, the staging texture is mapped (render thread only),
 * its rows are copied tightly packed into Pixels and Poll() starts returning true. The game thread
 * never blocks on the GPU.
 */
class FWorldBridgeReadback
{
public:
	/** Game thread. BytesPerPixel: 4 for PF_B8G8R8A8 and PF_R32_FLOAT targets. */
	FWorldBridgeReadback(UTextureRenderTarget2D* Target, int32 BytesPerPixel);
	~FWorldBridgeReadback();

	FWorldBridgeReadback(const FWorldBridgeReadback&) = delete;
	FWorldBridgeReadback& operator=(const FWorldBridgeReadback&) = delete;

	/** Game thread. True once the pixels (or a failure) are in. Never waits. */
	bool Poll();

	/** True when the copy could not be made (no render target resource, or the map failed). */
	bool Failed() const;

	int32 GetWidth() const { return Width; }
	int32 GetHeight() const { return Height; }

	/** Rows top-down, Width * BytesPerPixel bytes each. Valid after Poll() returned true; moves them out. */
	TArray64<uint8> TakePixels();

private:
	struct FState;
	TSharedPtr<FState, ESPMode::ThreadSafe> State;
	int32 Width = 0;
	int32 Height = 0;
};
