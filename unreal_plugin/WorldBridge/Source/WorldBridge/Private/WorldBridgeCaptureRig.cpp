// Copyright WorldBridge. All Rights Reserved.

#include "WorldBridgeCaptureRig.h"

#include "Components/SceneCaptureComponent2D.h"
#include "Components/SceneComponent.h"
#include "Components/SplineComponent.h"
#include "CollisionQueryParams.h"
#include "CollisionShape.h"
#include "Engine/TextureRenderTarget2D.h"
#include "Engine/World.h"
#include "HAL/CriticalSection.h"
#include "HAL/Event.h"
#include "Kismet/GameplayStatics.h"
#include "Misc/DateTime.h"
#include "Misc/ScopeLock.h"
#include "WorldBridgeCaptureSetup.h"
#include "WorldBridgeConvert.h"
#include "WorldBridgeCore/Client.h"
#include "WorldBridgeLog.h"
#include "WorldBridgeModule.h"
#include "WorldBridgeReadback.h"
#include "WorldBridgeTrajectory.h"
#include <atomic>
#include <memory>
#include <vector>

namespace
{
	/** A captured frame on its way to the recorder thread (pixels as read back; converted there). */
	struct FWorldBridgeCapturedPixels
	{
		worldbridge::Pose Pose;
		worldbridge::Intrinsics Intrinsics;
		TArray64<uint8> Color;
		TArray64<uint8> Depth;
		int32 Width = 0;
		int32 Height = 0;
	};

	/** Shared by the rig (game thread) and the recorder thread. */
	struct FWorldBridgeRecorderShared
	{
		FCriticalSection Mutex;
		TArray<FWorldBridgeCapturedPixels> Queue;
		bool bInputClosed = false;
		std::atomic<bool> bCancel{false};
		FEventRef WakeUp{EEventMode::AutoReset};

		std::atomic<bool> bFinished{false};
		// Written by the recorder thread before bFinished is set.
		bool bSuccess = false;
		FString Message;
		FString DatasetPath;
		int32 FramesWritten = 0;
		int32 FramesRejected = 0;

		int32 NumQueued()
		{
			FScopeLock Lock(&Mutex);
			return Queue.Num();
		}

		void Push(FWorldBridgeCapturedPixels&& Frame)
		{
			{
				FScopeLock Lock(&Mutex);
				Queue.Add(MoveTemp(Frame));
			}
			WakeUp->Trigger();
		}

		void CloseInput()
		{
			{
				FScopeLock Lock(&Mutex);
				bInputClosed = true;
			}
			WakeUp->Trigger();
		}
	};

	using FRecorderSharedRef = TSharedRef<FWorldBridgeRecorderShared, ESPMode::ThreadSafe>;

	/** Recorder thread: handshake, RecordTrajectory, one Write per captured frame, Finish. */
	void RunRecorder(FRecorderSharedRef Shared, worldbridge::ClientOptions Options, std::string DatasetName,
		std::string Description, float SkyDepthCm)
	{
		worldbridge::Client Client(Options);
		worldbridge::ServerInfo Info;
		const worldbridge::Status Connected = Client.Connect(&Info);
		if (!Connected.ok())
		{
			Shared->Message = TEXT("Cannot connect: ") + WorldBridge::DescribeStatus(Connected);
			Shared->bCancel = true;
			{
				FScopeLock Lock(&Shared->Mutex);
				Shared->Queue.Empty();
			}
			Shared->bFinished.store(true, std::memory_order_release);
			return;
		}

		std::unique_ptr<worldbridge::Recorder> Recorder = Client.StartRecording(DatasetName, Description);
		bool bBroken = false;
		for (;;)
		{
			TOptional<FWorldBridgeCapturedPixels> Next;
			bool bClosed = false;
			{
				FScopeLock Lock(&Shared->Mutex);
				if (Shared->Queue.Num() > 0)
				{
					Next.Emplace(MoveTemp(Shared->Queue[0]));
					Shared->Queue.RemoveAt(0);
				}
				bClosed = Shared->bInputClosed;
			}
			if (!Next.IsSet())
			{
				if (bClosed || Shared->bCancel)
				{
					break;
				}
				Shared->WakeUp->Wait(100);
				continue;
			}
			if (bBroken || Shared->bCancel)
			{
				continue;  // Drain without sending; Finish() reports why the call broke.
			}
			FWorldBridgeCapturedPixels& Pixels = Next.GetValue();
			worldbridge::CapturedFrame Frame;
			Frame.pose = Pixels.Pose;
			Frame.intrinsics = Pixels.Intrinsics;
			Frame.rgb = WorldBridge::MakeBgraImage(MoveTemp(Pixels.Color), Pixels.Width, Pixels.Height);
			Frame.depth = WorldBridge::MakeDepthImage(Pixels.Depth, Pixels.Width, Pixels.Height, SkyDepthCm);
			bBroken = !Recorder->Write(Frame);
		}

		worldbridge::RecordingSummary Summary;
		const worldbridge::Status Finished = Recorder->Finish(&Summary);
		Shared->bSuccess = Finished.ok();
		Shared->FramesWritten = int32(Summary.frames_written);
		Shared->FramesRejected = int32(Summary.rejected.size());
		Shared->DatasetPath = WorldBridge::ToFString(Summary.path);
		if (Finished.ok())
		{
			Shared->Message = FString::Printf(TEXT("Dataset %s: %d frames written, %d rejected in %.1f s"),
				*WorldBridge::ToFString(Summary.dataset_name), Shared->FramesWritten, Shared->FramesRejected, Summary.duration_s);
			for (const worldbridge::RejectedFrame& Rejected : Summary.rejected)
			{
				UE_LOG(LogWorldBridge, Warning, TEXT("Frame %llu rejected: %s (gRPC status %d)"), Rejected.sequence,
					*WorldBridge::ToFString(Rejected.message), Rejected.code);
			}
		}
		else
		{
			Shared->Message = TEXT("Recording failed: ") + WorldBridge::DescribeStatus(Finished);
		}
		Shared->bFinished.store(true, std::memory_order_release);
	}

	/** A capture step whose readbacks are still on their way. */
	struct FWorldBridgeInFlightFrame
	{
		worldbridge::Pose Pose;
		worldbridge::Intrinsics Intrinsics;
		TUniquePtr<FWorldBridgeReadback> Color;
		TUniquePtr<FWorldBridgeReadback> Depth;
	};

	bool IsValidDatasetName(const FString& Name)
	{
		if (Name.IsEmpty() || Name.Len() > 128 || !FChar::IsAlnum(Name[0]))
		{
			return false;
		}
		for (const TCHAR Character : Name)
		{
			if (!(FChar::IsAlnum(Character) || Character == TEXT('.') || Character == TEXT('_') || Character == TEXT('-')) || Character > 127)
			{
				return false;
			}
		}
		return true;
	}

	FVector ToFVector(const worldbridge::trajectory::Vec3& V) { return FVector(V.x, V.y, V.z); }
	worldbridge::trajectory::Vec3 ToVec3(const FVector& V) { return {V.X, V.Y, V.Z}; }
}

struct FWorldBridgeCaptureSession
{
	std::vector<worldbridge::trajectory::CameraKey> Keys;
	int32 NextKey = 0;
	int32 FramesCaptured = 0;
	int32 FramesBlocked = 0;
	int32 FramesFailed = 0;
	bool bInputClosed = false;
	TArray<FWorldBridgeInFlightFrame> InFlight;
	TSharedPtr<FWorldBridgeRecorderShared, ESPMode::ThreadSafe> Shared;
};

AWorldBridgeCaptureRig::AWorldBridgeCaptureRig()
{
	PrimaryActorTick.bCanEverTick = true;
	PrimaryActorTick.bStartWithTickEnabled = true;

	RootComponent = CreateDefaultSubobject<USceneComponent>(TEXT("Root"));
	CameraMount = CreateDefaultSubobject<USceneComponent>(TEXT("CameraMount"));
	CameraMount->SetupAttachment(RootComponent);

	// Several trajectory steps are captured per tick, each at a different pose: no view history may
	// carry from one into the next (see ConfigurePoseCapture).
	ColorCapture = CreateDefaultSubobject<USceneCaptureComponent2D>(TEXT("ColorCapture"));
	ColorCapture->SetupAttachment(CameraMount);
	WorldBridge::ConfigurePoseCapture(ColorCapture, SCS_FinalColorLDR);
	DepthCapture = CreateDefaultSubobject<USceneCaptureComponent2D>(TEXT("DepthCapture"));
	DepthCapture->SetupAttachment(CameraMount);
	WorldBridge::ConfigurePoseCapture(DepthCapture, SCS_SceneDepth);

	WalkSpline = CreateDefaultSubobject<USplineComponent>(TEXT("WalkSpline"));
	WalkSpline->SetupAttachment(RootComponent);
}

FString AWorldBridgeCaptureRig::MakeDatasetName() const
{
	FString Name = FString::Printf(TEXT("%s-%s"), *UGameplayStatics::GetCurrentLevelName(this, true),
		*FDateTime::Now().ToString(TEXT("%Y%m%d-%H%M%S")));
	for (TCHAR& Character : Name)
	{
		if (!(FChar::IsAlnum(Character) || Character == TEXT('.') || Character == TEXT('_') || Character == TEXT('-')) || Character > 127)
		{
			Character = TEXT('-');
		}
	}
	if (Name.IsEmpty() || !FChar::IsAlnum(Name[0]))
	{
		Name = TEXT("ue") + Name;
	}
	return Name.Left(128);
}

bool AWorldBridgeCaptureRig::PlanTrajectory(FString& OutError)
{
	namespace T = worldbridge::trajectory;
	UWorld* World = GetWorld();
	if (!World)
	{
		OutError = TEXT("the rig is not in a world");
		return false;
	}

	FCollisionQueryParams Params(SCENE_QUERY_STAT(WorldBridgeCaptureRig), /*bTraceComplex=*/false, this);
	const FCollisionShape Sphere = FCollisionShape::MakeSphere(CollisionRadiusCm);
	const ECollisionChannel Channel = CollisionChannel;
	// Free: no blocking hit sweeping a sphere from one camera position to the next (or, for a single
	// point, no blocking overlap of the sphere there).
	const T::SegmentFreeFn IsFree = [World, Params, Sphere, Channel](const T::Vec3& From, const T::Vec3& To)
	{
		const FVector Start = ToFVector(From);
		const FVector End = ToFVector(To);
		if (Start.Equals(End))
		{
			return !World->OverlapBlockingTestByChannel(Start, FQuat::Identity, Channel, Sphere, Params);
		}
		FHitResult Hit;
		return !World->SweepSingleByChannel(Hit, Start, End, FQuat::Identity, Channel, Sphere, Params);
	};

	const FTransform RigTransform = GetActorTransform();
	std::vector<T::CameraKey> Keys;
	std::string Error;
	bool bOk = false;
	switch (Trajectory)
	{
	case EWorldBridgeTrajectory::Orbit:
	{
		const FVector Center = RigTransform.TransformPosition(OrbitCenterOffset);
		bOk = T::Orbit(ToVec3(Center), OrbitRadiusCm, OrbitHeightCm, OrbitStartDeg, OrbitArcDeg, FramesPerPath, ToVec3(Center), &Keys, &Error);
		break;
	}
	case EWorldBridgeTrajectory::Dolly:
		bOk = T::Dolly(ToVec3(GetActorLocation()), ToVec3(RigTransform.TransformPosition(DollyEnd)), FramesPerPath, bDollyEase,
			bDollyLooksAtPoint, ToVec3(RigTransform.TransformPosition(DollyLookAt)), &Keys, &Error);
		break;
	case EWorldBridgeTrajectory::Walk:
	{
		std::vector<T::Vec3> Waypoints;
		for (int32 Point = 0; Point < WalkSpline->GetNumberOfSplinePoints(); ++Point)
		{
			Waypoints.push_back(ToVec3(WalkSpline->GetLocationAtSplinePoint(Point, ESplineCoordinateSpace::World)));
		}
		bOk = T::Walk(Waypoints, FramesPerPath, WalkEyeHeightCm, WalkPitchDeg, WalkSpline->IsClosedLoop(), WalkSwayDeg, 1.0, &Keys, &Error);
		break;
	}
	case EWorldBridgeTrajectory::Random:
	{
		T::RandomPathOptions Options;
		const FVector Center = GetActorLocation();
		Options.bounds_min = ToVec3(Center - RandomExtentCm.GetAbs());
		Options.bounds_max = ToVec3(Center + RandomExtentCm.GetAbs());
		Options.n_paths = RandomPathCount;
		Options.frames_per_path = FramesPerPath;
		Options.step_min_cm = RandomStepCm.X;
		Options.step_max_cm = RandomStepCm.Y;
		Options.seed = uint64_t(uint32(RandomSeed));
		std::vector<std::vector<T::CameraKey>> Paths;
		bOk = T::RandomPaths(Options, IsFree, &Paths, &Error);
		for (const std::vector<T::CameraKey>& Path : Paths)
		{
			Keys.insert(Keys.end(), Path.begin(), Path.end());
		}
		break;
	}
	}
	if (!bOk)
	{
		OutError = WorldBridge::ToFString(Error);
		return false;
	}

	// Templates ignore the level: drop the camera positions that are blocked (random paths avoided them).
	if (Trajectory != EWorldBridgeTrajectory::Random)
	{
		std::vector<T::CameraKey> Free;
		for (const T::CameraKey& Key : Keys)
		{
			if (IsFree(Key.location_cm, Key.location_cm))
			{
				Free.push_back(Key);
			}
			else
			{
				++Session->FramesBlocked;
			}
		}
		Keys = MoveTemp(Free);
	}
	if (Keys.empty())
	{
		OutError = TEXT("every camera position of the trajectory is blocked");
		return false;
	}
	Session->Keys = MoveTemp(Keys);
	return true;
}

bool AWorldBridgeCaptureRig::StartCapture()
{
	if (bCapturing)
	{
		UE_LOG(LogWorldBridge, Warning, TEXT("%s: a capture is already running"), *GetName());
		return false;
	}
	const FString Dataset = DatasetName.IsEmpty() ? MakeDatasetName() : DatasetName;
	if (!IsValidDatasetName(Dataset))
	{
		UE_LOG(LogWorldBridge, Error, TEXT("%s: dataset name '%s' must match [A-Za-z0-9][A-Za-z0-9._-]{0,127}"), *GetName(), *Dataset);
		return false;
	}

	Session = MakeShared<FWorldBridgeCaptureSession>();
	FString Error;
	if (!PlanTrajectory(Error))
	{
		UE_LOG(LogWorldBridge, Error, TEXT("%s: cannot plan the trajectory: %s"), *GetName(), *Error);
		Session.Reset();
		return false;
	}

	// New targets for every capture (the size may have changed); the previous ones are garbage collected.
	ColorTarget = WorldBridge::MakeCaptureTarget(this, TEXT("WorldBridgeRigColor"), Width, Height, PF_B8G8R8A8, RTF_RGBA8);
	DepthTarget = WorldBridge::MakeCaptureTarget(this, TEXT("WorldBridgeRigDepth"), Width, Height, PF_R32_FLOAT, RTF_R32f);
	ColorCapture->TextureTarget = ColorTarget;
	DepthCapture->TextureTarget = DepthTarget;
	ColorCapture->FOVAngle = FieldOfViewDeg;
	DepthCapture->FOVAngle = FieldOfViewDeg;

	Session->Shared = MakeShared<FWorldBridgeRecorderShared, ESPMode::ThreadSafe>();
	FRecorderSharedRef Shared = Session->Shared.ToSharedRef();
	worldbridge::ClientOptions Options = WorldBridge::MakeClientOptions(ServerAddress, Token);
	const FString Target = WorldBridge::ToFString(Options.target);
	FWorldBridgeModule::Get().RunInBackground(
		[Shared, Options = MoveTemp(Options), Name = WorldBridge::ToStd(Dataset), Text = WorldBridge::ToStd(Description), Sky = SkyDepthCm]()
		{
			RunRecorder(Shared, Options, Name, Text, Sky);
		});

	bCapturing = true;
	UE_LOG(LogWorldBridge, Log, TEXT("%s: recording %d frames (%d blocked positions dropped) into dataset '%s' on %s"), *GetName(),
		int32(Session->Keys.size()), Session->FramesBlocked, *Dataset, *Target);
	return true;
}

void AWorldBridgeCaptureRig::StopCapture()
{
	if (!bCapturing || !Session.IsValid())
	{
		return;
	}
	// No further steps; frames already captured are still sent, then the dataset is finished.
	Session->NextKey = int32(Session->Keys.size());
	Session->InFlight.Empty();
}

void AWorldBridgeCaptureRig::Tick(float DeltaSeconds)
{
	Super::Tick(DeltaSeconds);
	if (!bCapturing || !Session.IsValid())
	{
		return;
	}
	if (Session->Shared->bFinished.load(std::memory_order_acquire))
	{
		Finish();
		return;
	}
	if (Session->Shared->bCancel)
	{
		return;  // The recorder failed to connect; Finish() follows.
	}
	CollectReadbacks();
	IssueCaptures();
	if (!Session->bInputClosed && Session->NextKey >= int32(Session->Keys.size()) && Session->InFlight.Num() == 0)
	{
		Session->bInputClosed = true;
		Session->Shared->CloseInput();
	}
}

void AWorldBridgeCaptureRig::IssueCaptures()
{
	const int32 Total = int32(Session->Keys.size());
	int32 Issued = 0;
	while (Session->NextKey < Total && Session->InFlight.Num() < MaxFramesInFlight && Issued < MaxFramesInFlight &&
		Session->Shared->NumQueued() + Session->InFlight.Num() < MaxQueuedFrames)
	{
		const worldbridge::trajectory::CameraKey& Key = Session->Keys[Session->NextKey++];
		const FVector Location = ToFVector(Key.location_cm);
		const FRotator Rotation(Key.pitch_deg, Key.yaw_deg, 0.0);
		CameraMount->SetWorldLocationAndRotation(Location, Rotation);
		// Each copy is enqueued right after its capture, so the render targets can be reused within a tick.
		ColorCapture->CaptureScene();
		DepthCapture->CaptureScene();

		FWorldBridgeInFlightFrame Frame;
		Frame.Pose = WorldBridge::MakePose(Location, Rotation);
		Frame.Intrinsics = WorldBridge::MakeIntrinsics(FieldOfViewDeg, Width, Height);
		Frame.Color = MakeUnique<FWorldBridgeReadback>(ColorTarget, 4);
		Frame.Depth = MakeUnique<FWorldBridgeReadback>(DepthTarget, 4);
		Session->InFlight.Add(MoveTemp(Frame));
		++Issued;
	}
}

void AWorldBridgeCaptureRig::CollectReadbacks()
{
	for (FWorldBridgeInFlightFrame& Frame : Session->InFlight)
	{
		Frame.Color->Poll();
		Frame.Depth->Poll();
	}
	const int32 Total = int32(Session->Keys.size());
	// In capture order: the recorder assigns sequence numbers as frames arrive.
	while (Session->InFlight.Num() > 0 && Session->InFlight[0].Color->Poll() && Session->InFlight[0].Depth->Poll())
	{
		FWorldBridgeInFlightFrame Frame = MoveTemp(Session->InFlight[0]);
		Session->InFlight.RemoveAt(0);
		if (Frame.Color->Failed() || Frame.Depth->Failed())
		{
			++Session->FramesFailed;
			UE_LOG(LogWorldBridge, Warning, TEXT("%s: a capture could not be read back from the GPU; skipped"), *GetName());
			continue;
		}
		FWorldBridgeCapturedPixels Pixels;
		Pixels.Pose = Frame.Pose;
		Pixels.Intrinsics = Frame.Intrinsics;
		Pixels.Width = Frame.Color->GetWidth();
		Pixels.Height = Frame.Color->GetHeight();
		Pixels.Color = Frame.Color->TakePixels();
		Pixels.Depth = Frame.Depth->TakePixels();
		Session->Shared->Push(MoveTemp(Pixels));
		++Session->FramesCaptured;
		OnCaptureProgress.Broadcast(Session->FramesCaptured, Total);
	}
}

void AWorldBridgeCaptureRig::Finish()
{
	TSharedPtr<FWorldBridgeCaptureSession> Ended = MoveTemp(Session);
	Session.Reset();
	bCapturing = false;
	CameraMount->SetRelativeLocationAndRotation(FVector::ZeroVector, FRotator::ZeroRotator);

	const FWorldBridgeRecorderShared& Result = *Ended->Shared;
	FString Message = Result.Message;
	if (Ended->FramesBlocked > 0 || Ended->FramesFailed > 0)
	{
		Message += FString::Printf(TEXT(" (%d blocked positions dropped, %d readbacks failed)"), Ended->FramesBlocked, Ended->FramesFailed);
	}
	UE_LOG(LogWorldBridge, Log, TEXT("%s: %s"), *GetName(), *Message);
	OnCaptureFinished.Broadcast(Result.bSuccess, Result.FramesWritten, Result.FramesRejected, Result.DatasetPath, Message);
}

void AWorldBridgeCaptureRig::EndPlay(const EEndPlayReason::Type EndPlayReason)
{
	if (bCapturing && Session.IsValid())
	{
		// The recorder thread finishes the dataset on its own; nobody is left to notify.
		Session->Shared->CloseInput();
		Session.Reset();
		bCapturing = false;
	}
	Super::EndPlay(EndPlayReason);
}

void AWorldBridgeCaptureRig::Destroyed()
{
	if (bCapturing && Session.IsValid())
	{
		Session->Shared->CloseInput();
		Session.Reset();
		bCapturing = false;
	}
	Super::Destroyed();
}
