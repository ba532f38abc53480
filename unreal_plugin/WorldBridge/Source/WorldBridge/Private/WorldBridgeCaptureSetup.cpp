// Copyright WorldBridge. All Rights Reserved.

#include "WorldBridgeCaptureSetup.h"

#include "Components/SceneCaptureComponent2D.h"
#include "UObject/UObjectGlobals.h"

namespace WorldBridge
{
	void ConfigurePoseCapture(USceneCaptureComponent2D* Capture, ESceneCaptureSource Source)
	{
		Capture->CaptureSource = Source;
		Capture->bCaptureEveryFrame = false;
		Capture->bCaptureOnMovement = false;
		Capture->bAlwaysPersistRenderingState = false;
		Capture->ShowFlags.SetAntiAliasing(false);
		Capture->ShowFlags.SetTemporalAA(false);
		Capture->ShowFlags.SetMotionBlur(false);
		Capture->ShowFlags.SetEyeAdaptation(false);
		// ShowFlags itself is not saved: the component rebuilds it from its archetype and ShowFlagSettings
		// when loaded or edited. Recording the same four flags there keeps them off in every case.
		for (const TCHAR* FlagName : {TEXT("AntiAliasing"), TEXT("TemporalAA"), TEXT("MotionBlur"), TEXT("EyeAdaptation")})
		{
			FEngineShowFlagsSetting* Setting = Capture->ShowFlagSettings.FindByPredicate(
				[FlagName](const FEngineShowFlagsSetting& Existing) { return Existing.ShowFlagName == FlagName; });
			if (!Setting)
			{
				Setting = &Capture->ShowFlagSettings.AddDefaulted_GetRef();
				Setting->ShowFlagName = FlagName;
			}
			Setting->Enabled = false;
		}
		// The same through the post-process settings, which a post-process volume could otherwise override.
		Capture->PostProcessSettings.bOverride_MotionBlurAmount = true;
		Capture->PostProcessSettings.MotionBlurAmount = 0.0f;
	}

	UTextureRenderTarget2D* MakeCaptureTarget(UObject* Outer, const TCHAR* BaseName, int32 Width, int32 Height,
		EPixelFormat Format, ETextureRenderTargetFormat TargetFormat)
	{
		const FName Name = MakeUniqueObjectName(Outer, UTextureRenderTarget2D::StaticClass(), FName(BaseName));
		UTextureRenderTarget2D* Target = NewObject<UTextureRenderTarget2D>(Outer, Name, RF_Transient);
		Target->RenderTargetFormat = TargetFormat;
		Target->bAutoGenerateMips = false;
		Target->ClearColor = FLinearColor::Black;
		Target->InitCustomFormat(Width, Height, Format, /*bInForceLinearGamma=*/true);
		Target->UpdateResourceImmediate(true);
		return Target;
	}
}
