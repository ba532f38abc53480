// Copyright WorldBridge. All Rights Reserved.

#pragma once

#include "CoreMinimal.h"
#include "Engine/EngineTypes.h"
#include "Engine/TextureRenderTarget2D.h"
#include "PixelFormat.h"

class USceneCaptureComponent2D;

namespace WorldBridge
{
	/**
	 * Configures a scene capture that renders one independent pose per CaptureScene() call (the live
	 * component's reference views and depth, the capture rig's trajectory steps): no automatic captures,
	 * and nothing carried from one pose to the next.
	 *
	 * - bAlwaysPersistRenderingState off: the capture gets no view state between CaptureScene() calls,
	 *   so no temporal history (TAA / TSR history, previous-frame transforms for motion vectors, eye
	 *   adaptation, temporally accumulated lighting such as Lumen's) survives from one pose into the
	 *   next. The cost: effects that converge over frames render as a single frame (noisier Lumen GI
	 *   and reflections). Depth is unaffected.
	 * - Anti-aliasing off (ShowFlags AntiAliasing and TemporalAA: no FXAA, TAA or TSR), motion blur off,
	 *   eye adaptation (auto exposure) off: each image is a function of its pose alone, so neighbouring
	 *   poses cannot ghost into it and its brightness does not drift along a trajectory. With eye
	 *   adaptation off the engine uses a fixed exposure.
	 */
	void ConfigurePoseCapture(USceneCaptureComponent2D* Capture, ESceneCaptureSource Source);

	/**
	 * A transient render target of Width x Height pixels in Format under Outer, named BaseName plus a
	 * number that is unique under Outer (a fixed name would collide when the target is recreated, or when
	 * two components or rigs create targets under the same outer). Linear storage: the bytes are exactly
	 * what the capture wrote (display-encoded LDR colour, scene depth in centimetres).
	 */
	UTextureRenderTarget2D* MakeCaptureTarget(UObject* Outer, const TCHAR* BaseName, int32 Width, int32 Height,
		EPixelFormat Format, ETextureRenderTargetFormat TargetFormat);
}
