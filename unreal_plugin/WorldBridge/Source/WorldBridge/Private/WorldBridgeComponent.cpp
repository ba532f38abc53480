// Copyright WorldBridge. All Rights Reserved.

#include "WorldBridgeComponent.h"

#include "Camera/CameraComponent.h"
#include "Camera/CameraTypes.h"
#include "Camera/PlayerCameraManager.h"
#include "Components/SceneCaptureComponent2D.h"
#include "Engine/Texture2D.h"
#include "Engine/TextureRenderTarget2D.h"
#include "Engine/World.h"
#include "GameFramework/Actor.h"
#include "Kismet/GameplayStatics.h"
#include "RHITypes.h"
#include "WorldBridgeCaptureSetup.h"
#include "WorldBridgeConvert.h"
#include "WorldBridgeCore/LiveBridge.h"
#include "WorldBridgeLog.h"
#include "WorldBridgeModule.h"
#include "WorldBridgeReadback.h"
#include <vector>

/** One reference view being captured: the pose it was taken at and its two readbacks. */
struct FWorldBridgePendingView
{
	worldbridge::Pose Pose;
	worldbridge::Intrinsics Intrinsics;
	TUniquePtr<FWorldBridgeReadback> Color;
	TUniquePtr<FWorldBridgeReadback> Depth;
};

/** One live depth capture in flight: sent with its pose when the readback arrives. */
struct FWorldBridgePendingDepth
{
	FVector Location = FVector::ZeroVector;
	FRotator Rotation = FRotator::ZeroRotator;
	worldbridge::Pose Pose;
	worldbridge::Intrinsics Intrinsics;
	TUniquePtr<FWorldBridgeReadback> Depth;
};

struct FWorldBridgeLiveState
{
	TUniquePtr<worldbridge::LiveBridge> Bridge;
	TArray<FWorldBridgePendingView> PendingViews;
	TOptional<FWorldBridgePendingDepth> PendingDepth;
	std::vector<worldbridge::BridgeEvent> Events;
	std::vector<worldbridge::ReferenceView> ReferenceViews;
	int64 DepthRequests = 0;
	bool bHaveKeyframe = false;
	FVector LastKeyframeLocation = FVector::ZeroVector;
	FQuat LastKeyframeRotation = FQuat::Identity;
};

UWorldBridgeComponent::UWorldBridgeComponent()
{
	PrimaryComponentTick.bCanEverTick = true;
	PrimaryComponentTick.bStartWithTickEnabled = true;
	// After the camera has moved this frame.
	PrimaryComponentTick.TickGroup = TG_PostUpdateWork;
}

void UWorldBridgeComponent::BeginPlay()
{
	Super::BeginPlay();
	Live = MakeShared<FWorldBridgeLiveState>();
	if (bAutoConnect)
	{
		Connect();
	}
}

void UWorldBridgeComponent::EndPlay(const EEndPlayReason::Type EndPlayReason)
{
	Disconnect();
	Super::EndPlay(EndPlayReason);
}

void UWorldBridgeComponent::Connect()
{
	if (!Live.IsValid())
	{
		Live = MakeShared<FWorldBridgeLiveState>();
	}
	if (Live->Bridge.IsValid() || Live->PendingViews.Num() > 0)
	{
		UE_LOG(LogWorldBridge, Verbose, TEXT("%s: Connect() ignored, already connecting or connected"), *GetPathName());
		return;
	}
	FramesReceived = 0;
	Live->DepthRequests = 0;
	Live->bHaveKeyframe = false;

	if (ReferenceViewCount <= 0)
	{
		StartBridge();
		return;
	}

	FVector Location;
	FRotator Rotation;
	float FovDeg = 90.0f;
	if (!GetCameraView(0.0f, Location, Rotation, FovDeg))
	{
		ReportError(TEXT("No camera to capture reference views from (no UCameraComponent on the owner and no player camera)"));
		return;
	}
	EnsureCaptures();
	for (int32 ViewIndex = 0; ViewIndex < ReferenceViewCount; ++ViewIndex)
	{
		// 0, +step, -step, +2 step, -2 step, ...
		const int32 Ring = (ViewIndex + 1) / 2;
		const float Sign = (ViewIndex % 2 == 1) ? 1.0f : -1.0f;
		const FRotator ViewRotation(Rotation.Pitch, Rotation.Yaw + Sign * Ring * ReferenceYawStepDeg, 0.0f);

		FWorldBridgePendingView View;
		View.Pose = WorldBridge::MakePose(Location, ViewRotation);
		View.Intrinsics = WorldBridge::MakeIntrinsics(FovDeg, OutputWidth, OutputHeight);
		CaptureAt(ColorCapture, Location, ViewRotation, FovDeg);
		View.Color = MakeUnique<FWorldBridgeReadback>(ColorTarget, 4);
		CaptureAt(DepthCapture, Location, ViewRotation, FovDeg);
		View.Depth = MakeUnique<FWorldBridgeReadback>(DepthTarget, 4);
		Live->PendingViews.Add(MoveTemp(View));
	}
}

void UWorldBridgeComponent::Disconnect()
{
	if (!Live.IsValid())
	{
		return;
	}
	Live->PendingViews.Empty();
	Live->PendingDepth.Reset();
	Live->Events.clear();
	if (Live->Bridge.IsValid())
	{
		// Stop() closes the session and joins the worker within the call deadline: not on the game thread.
		FWorldBridgeModule::Get().RunInBackground([Bridge = MoveTemp(Live->Bridge)]() mutable
		{
			Bridge->Stop();
			Bridge.Reset();
		});
	}
	bConnected = false;
}

void UWorldBridgeComponent::TickComponent(float DeltaTime, ELevelTick TickType, FActorComponentTickFunction* ThisTickFunction)
{
	Super::TickComponent(DeltaTime, TickType, ThisTickFunction);
	if (!Live.IsValid())
	{
		return;
	}
	if (Live->PendingViews.Num() > 0)
	{
		PollReferenceViews();
	}
	if (Live->Bridge.IsValid())
	{
		SubmitLivePose(DeltaTime);
		DrainBridgeEvents();
	}
}

bool UWorldBridgeComponent::GetCameraView(float DeltaTime, FVector& OutLocation, FRotator& OutRotation, float& OutFovDeg) const
{
	if (const AActor* Owner = GetOwner())
	{
		if (UCameraComponent* Camera = Owner->FindComponentByClass<UCameraComponent>())
		{
			FMinimalViewInfo View;
			Camera->GetCameraView(DeltaTime, View);
			OutLocation = View.Location;
			OutRotation = View.Rotation;
			OutFovDeg = View.FOV;
			return true;
		}
	}
	if (const APlayerCameraManager* CameraManager = UGameplayStatics::GetPlayerCameraManager(this, 0))
	{
		CameraManager->GetCameraViewPoint(OutLocation, OutRotation);
		OutFovDeg = CameraManager->GetFOVAngle();
		return true;
	}
	return false;
}

void UWorldBridgeComponent::EnsureCaptures()
{
	auto MakeCapture = [this](ESceneCaptureSource Source, UTextureRenderTarget2D* Target, const TCHAR* BaseName)
	{
		// Unique under the owner: two WorldBridge components on one actor each make their own captures.
		AActor* Owner = GetOwner();
		const FName Name = MakeUniqueObjectName(Owner, USceneCaptureComponent2D::StaticClass(), FName(BaseName));
		USceneCaptureComponent2D* Capture = NewObject<USceneCaptureComponent2D>(Owner, Name, RF_Transient);
		// Reference views turn between captures and live depth follows the camera: each capture is its own
		// pose, with no history from the previous one (see ConfigurePoseCapture).
		WorldBridge::ConfigurePoseCapture(Capture, Source);
		Capture->TextureTarget = Target;
		Capture->SetUsingAbsoluteLocation(true);
		Capture->SetUsingAbsoluteRotation(true);
		Capture->SetUsingAbsoluteScale(true);
		Capture->RegisterComponent();
		return Capture;
	};

	const bool bSizeChanged = ColorTarget && (ColorTarget->SizeX != OutputWidth || ColorTarget->SizeY != OutputHeight);
	if (!ColorTarget || bSizeChanged)
	{
		ColorTarget = WorldBridge::MakeCaptureTarget(this, TEXT("WorldBridgeColorTarget"), OutputWidth, OutputHeight, PF_B8G8R8A8, RTF_RGBA8);
		DepthTarget = WorldBridge::MakeCaptureTarget(this, TEXT("WorldBridgeDepthTarget"), OutputWidth, OutputHeight, PF_R32_FLOAT, RTF_R32f);
	}
	if (!ColorCapture)
	{
		ColorCapture = MakeCapture(SCS_FinalColorLDR, ColorTarget, TEXT("WorldBridgeColorCapture"));
		DepthCapture = MakeCapture(SCS_SceneDepth, DepthTarget, TEXT("WorldBridgeDepthCapture"));
	}
	ColorCapture->TextureTarget = ColorTarget;
	DepthCapture->TextureTarget = DepthTarget;
}

void UWorldBridgeComponent::CaptureAt(USceneCaptureComponent2D* Capture, const FVector& Location, const FRotator& Rotation, float FovDeg)
{
	Capture->FOVAngle = FovDeg;
	Capture->SetWorldLocationAndRotation(Location, Rotation);
	Capture->CaptureScene();
}

void UWorldBridgeComponent::PollReferenceViews()
{
	bool bAllReady = true;
	for (FWorldBridgePendingView& View : Live->PendingViews)
	{
		// Poll both every tick: each call queues at most one render-thread check.
		const bool bColorReady = View.Color->Poll();
		const bool bDepthReady = View.Depth->Poll();
		bAllReady &= bColorReady && bDepthReady;
	}
	if (!bAllReady)
	{
		return;
	}
	TArray<FWorldBridgePendingView> Views = MoveTemp(Live->PendingViews);
	Live->PendingViews.Reset();

	Live->ReferenceViews.clear();
	for (FWorldBridgePendingView& View : Views)
	{
		if (View.Color->Failed() || View.Depth->Failed())
		{
			ReportError(TEXT("A reference view capture could not be read back from the GPU"));
			return;
		}
		worldbridge::ReferenceView Reference;
		Reference.pose = View.Pose;
		Reference.intrinsics = View.Intrinsics;
		Reference.rgb = WorldBridge::MakeBgraImage(View.Color->TakePixels(), View.Color->GetWidth(), View.Color->GetHeight());
		Reference.depth = WorldBridge::MakeDepthImage(View.Depth->TakePixels(), View.Depth->GetWidth(), View.Depth->GetHeight(), SkyDepthCm);
		Live->ReferenceViews.push_back(MoveTemp(Reference));
	}
	StartBridge();
}

/** The core's anchor lock for the component's setting. */
static worldbridge::AnchorLock ToCoreAnchorLock(EWorldBridgeAnchorLock Value)
{
	switch (Value)
	{
	case EWorldBridgeAnchorLock::On:
		return worldbridge::AnchorLock::On;
	case EWorldBridgeAnchorLock::Off:
		return worldbridge::AnchorLock::Off;
	default:
		return worldbridge::AnchorLock::ServerDefault;
	}
}

void UWorldBridgeComponent::StartBridge()
{
	worldbridge::LiveBridgeOptions Options;
	Options.client = WorldBridge::MakeClientOptions(ServerAddress, Token);
	Options.session.generator = WorldBridge::ToStd(Generator);
	Options.session.seed = uint64_t(uint32(Seed));
	Options.session.anchor_lock = ToCoreAnchorLock(AnchorLock);
	Options.session.bundle = WorldBridge::ToStd(Bundle);
	Options.session.output.width = uint32_t(OutputWidth);
	Options.session.output.height = uint32_t(OutputHeight);
	Options.session.output.format = worldbridge::TextureFormat::BGRA8;
	Options.session.output.row_order = worldbridge::RowOrder::TopDown;
	Options.reference_views = MoveTemp(Live->ReferenceViews);
	Live->ReferenceViews.clear();

	UE_LOG(LogWorldBridge, Log, TEXT("%s: connecting to %s with %d reference view(s), %dx%d frames, anchor lock %s"), *GetPathName(),
		*WorldBridge::ToFString(Options.client.target), int32(Options.reference_views.size()), OutputWidth, OutputHeight,
		*UEnum::GetDisplayValueAsText(AnchorLock).ToString());
	Live->Bridge = MakeUnique<worldbridge::LiveBridge>(MoveTemp(Options));
	Live->Bridge->Start();
}

void UWorldBridgeComponent::SubmitLivePose(float DeltaTime)
{
	FVector Location;
	FRotator Rotation;
	float FovDeg = 90.0f;
	if (!GetCameraView(DeltaTime, Location, Rotation, FovDeg))
	{
		return;
	}

	if (!bSendDepth)
	{
		worldbridge::FrameRequest Request;
		Request.pose = WorldBridge::MakePose(Location, Rotation);
		Request.intrinsics = WorldBridge::MakeIntrinsics(FovDeg, OutputWidth, OutputHeight);
		Live->Bridge->SubmitPose(MoveTemp(Request));
		return;
	}

	// With depth: one capture in flight; its pose leaves when its depth has been read back.
	if (Live->PendingDepth.IsSet())
	{
		FWorldBridgePendingDepth& Pending = Live->PendingDepth.GetValue();
		if (!Pending.Depth->Poll())
		{
			return;
		}
		if (!Pending.Depth->Failed())
		{
			worldbridge::FrameRequest Request;
			Request.pose = Pending.Pose;
			Request.intrinsics = Pending.Intrinsics;
			Request.depth = WorldBridge::MakeDepthImage(Pending.Depth->TakePixels(), Pending.Depth->GetWidth(), Pending.Depth->GetHeight(), SkyDepthCm);

			const int64 Index = Live->DepthRequests++;
			bool bKeyframe = KeyframeEveryNFrames > 0 && Index % KeyframeEveryNFrames == 0;
			if (Live->bHaveKeyframe)
			{
				const double Moved = FVector::Dist(Pending.Location, Live->LastKeyframeLocation);
				const double TurnedDeg = FMath::RadiansToDegrees(Live->LastKeyframeRotation.AngularDistance(Pending.Rotation.Quaternion()));
				bKeyframe |= (KeyframeDistanceCm > 0.0f && Moved >= KeyframeDistanceCm) || (KeyframeAngleDeg > 0.0f && TurnedDeg >= KeyframeAngleDeg);
			}
			Request.keyframe = bKeyframe;
			// Motion is measured from the last keyframe (or from the first pose sent with depth).
			if (bKeyframe || !Live->bHaveKeyframe)
			{
				Live->bHaveKeyframe = true;
				Live->LastKeyframeLocation = Pending.Location;
				Live->LastKeyframeRotation = Pending.Rotation.Quaternion();
			}
			Live->Bridge->SubmitPose(MoveTemp(Request));
		}
		else
		{
			ReportError(TEXT("A depth capture could not be read back from the GPU"));
		}
		Live->PendingDepth.Reset();
	}

	EnsureCaptures();
	FWorldBridgePendingDepth Pending;
	Pending.Location = Location;
	Pending.Rotation = Rotation;
	Pending.Pose = WorldBridge::MakePose(Location, Rotation);
	Pending.Intrinsics = WorldBridge::MakeIntrinsics(FovDeg, OutputWidth, OutputHeight);
	CaptureAt(DepthCapture, Location, Rotation, FovDeg);
	Pending.Depth = MakeUnique<FWorldBridgeReadback>(DepthTarget, 4);
	Live->PendingDepth.Emplace(MoveTemp(Pending));
}

void UWorldBridgeComponent::DrainBridgeEvents()
{
	std::vector<worldbridge::BridgeEvent>& Events = Live->Events;
	Events.clear();
	Live->Bridge->DrainEvents(&Events);

	// Only the newest successful frame of this tick is uploaded: older ones would be overwritten anyway.
	int32 NewestFrame = INDEX_NONE;
	for (int32 Index = 0; Index < int32(Events.size()); ++Index)
	{
		const worldbridge::BridgeEvent& Event = Events[Index];
		if (Event.type == worldbridge::BridgeEventType::Frame && Event.frame.error_code == 0)
		{
			NewestFrame = Index;
		}
	}

	for (int32 Index = 0; Index < int32(Events.size()); ++Index)
	{
		worldbridge::BridgeEvent& Event = Events[Index];
		switch (Event.type)
		{
		case worldbridge::BridgeEventType::Connected:
		{
			bConnected = true;
			const FString SessionId = WorldBridge::ToFString(Event.session.session_id);
			UE_LOG(LogWorldBridge, Log, TEXT("%s: session %s on worker %s (server %s, %llu anchor points)"), *GetPathName(), *SessionId,
				*WorldBridge::ToFString(Event.session.worker_id), *WorldBridge::ToFString(Event.server.server_version), Event.session.anchor_points);
			for (const std::string& Warning : Event.server.warnings)
			{
				UE_LOG(LogWorldBridge, Warning, TEXT("Server: %s"), *WorldBridge::ToFString(Warning));
			}
			for (const std::string& Warning : Event.session.warnings)
			{
				UE_LOG(LogWorldBridge, Warning, TEXT("Session: %s"), *WorldBridge::ToFString(Warning));
			}
			OnConnected.Broadcast(SessionId);
			break;
		}
		case worldbridge::BridgeEventType::Frame:
		{
			worldbridge::FrameResult& Frame = Event.frame;
			if (Frame.error_code != 0)
			{
				ReportError(FString::Printf(TEXT("Frame %llu: %s (gRPC status %d)"), Frame.sequence, *WorldBridge::ToFString(Frame.error_message), Frame.error_code));
				break;
			}
			++FramesReceived;
			LastRoundTripMs = float(Frame.round_trip_ms);
			if (Index != NewestFrame)
			{
				break;
			}
			const worldbridge::Image& Image = Frame.texture;
			if (Image.format != worldbridge::TextureFormat::BGRA8 || Image.data.size() != size_t(Image.width) * Image.height * 4)
			{
				ReportError(FString::Printf(TEXT("Frame %llu is not %ux%u BGRA8 (format %d, %llu bytes)"), Frame.sequence,
					Image.width, Image.height, int32(Image.format), uint64(Image.data.size())));
				break;
			}
			WorldBridge::UploadBgraFrame(this, OutputTexture, MoveTemp(Frame.texture.data), int32(Image.width), int32(Image.height));
			OnFrameReceived.Broadcast(OutputTexture);
			break;
		}
		case worldbridge::BridgeEventType::Error:
			ReportError(WorldBridge::DescribeStatus(Event.status));
			break;
		case worldbridge::BridgeEventType::Disconnected:
		{
			bConnected = false;
			const FString Reason = WorldBridge::DescribeStatus(Event.status);
			UE_LOG(LogWorldBridge, Warning, TEXT("%s: disconnected: %s"), *GetPathName(), *Reason);
			OnDisconnected.Broadcast(Reason);
			break;
		}
		}
	}
	Events.clear();
}

void UWorldBridgeComponent::ReportError(const FString& Message)
{
	UE_LOG(LogWorldBridge, Warning, TEXT("%s: %s"), *GetPathName(), *Message);
	OnError.Broadcast(Message);
}
