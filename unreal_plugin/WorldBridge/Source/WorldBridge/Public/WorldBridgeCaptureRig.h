// Copyright WorldBridge. All Rights Reserved.

#pragma once

#include "CoreMinimal.h"
#include "Engine/EngineTypes.h"
#include "GameFramework/Actor.h"
#include "WorldBridgeCaptureRig.generated.h"

class USceneCaptureComponent2D;
class USceneComponent;
class USplineComponent;
class UTextureRenderTarget2D;
struct FWorldBridgeCaptureSession;

/** How the rig's camera moves. Positions are in the world, centimetres; see each field's comment. */
UENUM(BlueprintType)
enum class EWorldBridgeTrajectory : uint8
{
	/** A horizontal arc around the rig (plus OrbitCenterOffset), looking at the centre. */
	Orbit,
	/** A straight track from the rig to DollyEnd, looking along it or at DollyLookAt. */
	Dolly,
	/** A smooth walk through the points of WalkSpline at constant speed, looking along the path. */
	Walk,
	/** RandomPathCount random smooth paths in the box RandomExtentCm around the rig, avoiding collisions. */
	Random,
};

/** Frames captured so far (handed to the recorder) out of the planned total. */
DECLARE_DYNAMIC_MULTICAST_DELEGATE_TwoParams(FWorldBridgeCaptureProgressSignature, int32, FramesCaptured, int32, FramesTotal);
/**
 * The recording ended. bSuccess: the server wrote the dataset. FramesWritten / FramesRejected: the server's
 * counts. DatasetPath: the dataset folder on the server's disk. Message: what went wrong, or a summary.
 */
DECLARE_DYNAMIC_MULTICAST_DELEGATE_FiveParams(FWorldBridgeCaptureFinishedSignature, bool, bSuccess, int32, FramesWritten, int32, FramesRejected, const FString&, DatasetPath, const FString&, Message);

/**
 * Records a camera trajectory through the level as a WorldBridge training dataset.
 *
 * StartCapture() plans the trajectory (template or random paths; positions checked with sphere sweeps
 * against CollisionChannel, blocked ones are dropped or redrawn), then moves the rig's camera along it one
 * step per capture: colour (SCS_FinalColorLDR, BGRA8) and planar scene depth (SCS_SceneDepth, metres on the
 * wire) are captured and read back asynchronously, and a worker thread streams each frame with its pose
 * (Unreal convention, centimetres) and intrinsics to the server's RecordTrajectory call. At most
 * MaxFramesInFlight readbacks and MaxQueuedFrames unsent frames exist at once: when the network is slower
 * than capturing, the rig simply captures less often. Works in play sessions and in the editor world.
 */
UCLASS(Blueprintable, ClassGroup = (WorldBridge), hidecategories = (Input, Replication, Collision, HLOD, Physics, Networking))
class WORLDBRIDGE_API AWorldBridgeCaptureRig : public AActor
{
	GENERATED_BODY()

public:
	AWorldBridgeCaptureRig();

	/** host:port of the WorldBridge server; empty: Project Settings > Plugins > WorldBridge. */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "WorldBridge|Connection")
	FString ServerAddress;

	/** Bearer token; empty: the project setting. */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "WorldBridge|Connection")
	FString Token;

	/** Dataset folder name under the server's data directory ([A-Za-z0-9][A-Za-z0-9._-]*); empty: "<map>-<date>-<time>". Existing datasets are never overwritten. */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "WorldBridge|Dataset")
	FString DatasetName;

	/** Free text stored with the dataset. */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "WorldBridge|Dataset")
	FString Description;

	/** Image width in pixels. */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "WorldBridge|Camera", meta = (ClampMin = "16", ClampMax = "4096"))
	int32 Width = 512;

	/** Image height in pixels. */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "WorldBridge|Camera", meta = (ClampMin = "16", ClampMax = "4096"))
	int32 Height = 512;

	/** Horizontal field of view, degrees. */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "WorldBridge|Camera", meta = (ClampMin = "5", ClampMax = "170", Units = "deg"))
	float FieldOfViewDeg = 90.0f;

	/** Scene depth at or beyond this distance (centimetres) is recorded as +inf: sky and background. */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "WorldBridge|Camera", AdvancedDisplay, meta = (ClampMin = "100", Units = "cm"))
	float SkyDepthCm = 1.0e6f;

	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "WorldBridge|Trajectory")
	EWorldBridgeTrajectory Trajectory = EWorldBridgeTrajectory::Orbit;

	/** Frames of a template trajectory, or of each random path. */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "WorldBridge|Trajectory", meta = (ClampMin = "2", ClampMax = "100000"))
	int32 FramesPerPath = 120;

	/** Orbit centre relative to the rig, centimetres (rig space). */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "WorldBridge|Trajectory|Orbit", meta = (MakeEditWidget, EditCondition = "Trajectory == EWorldBridgeTrajectory::Orbit"))
	FVector OrbitCenterOffset = FVector::ZeroVector;

	/** Orbit radius, centimetres. */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "WorldBridge|Trajectory|Orbit", meta = (ClampMin = "1", Units = "cm", EditCondition = "Trajectory == EWorldBridgeTrajectory::Orbit"))
	float OrbitRadiusCm = 500.0f;

	/** Camera height above the orbit centre, centimetres. */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "WorldBridge|Trajectory|Orbit", meta = (Units = "cm", EditCondition = "Trajectory == EWorldBridgeTrajectory::Orbit"))
	float OrbitHeightCm = 150.0f;

	/** Angle of the first camera, degrees from world +X towards +Y. */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "WorldBridge|Trajectory|Orbit", meta = (Units = "deg", EditCondition = "Trajectory == EWorldBridgeTrajectory::Orbit"))
	float OrbitStartDeg = 0.0f;

	/** Angle swept from the first to the last camera, degrees. */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "WorldBridge|Trajectory|Orbit", meta = (Units = "deg", EditCondition = "Trajectory == EWorldBridgeTrajectory::Orbit"))
	float OrbitArcDeg = 360.0f;

	/** End of the dolly track relative to the rig (rig space), centimetres; the track starts at the rig. */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "WorldBridge|Trajectory|Dolly", meta = (MakeEditWidget, EditCondition = "Trajectory == EWorldBridgeTrajectory::Dolly"))
	FVector DollyEnd = FVector(1000.0, 0.0, 0.0);

	/** Look at DollyLookAt instead of along the track. */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "WorldBridge|Trajectory|Dolly", meta = (EditCondition = "Trajectory == EWorldBridgeTrajectory::Dolly"))
	bool bDollyLooksAtPoint = false;

	/** Point the dolly camera looks at, relative to the rig (rig space), centimetres. */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "WorldBridge|Trajectory|Dolly", meta = (MakeEditWidget, EditCondition = "Trajectory == EWorldBridgeTrajectory::Dolly && bDollyLooksAtPoint"))
	FVector DollyLookAt = FVector(500.0, 500.0, 0.0);

	/** Slow in and out at the ends of the dolly track. */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "WorldBridge|Trajectory|Dolly", meta = (EditCondition = "Trajectory == EWorldBridgeTrajectory::Dolly"))
	bool bDollyEase = true;

	/** Height of the camera above each spline point, centimetres (0 when the spline is drawn at eye level). */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "WorldBridge|Trajectory|Walk", meta = (Units = "cm", EditCondition = "Trajectory == EWorldBridgeTrajectory::Walk"))
	float WalkEyeHeightCm = 0.0f;

	/** View tilt while walking, degrees (negative looks down). */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "WorldBridge|Trajectory|Walk", meta = (ClampMin = "-85", ClampMax = "85", Units = "deg", EditCondition = "Trajectory == EWorldBridgeTrajectory::Walk"))
	float WalkPitchDeg = 0.0f;

	/** Amplitude of the side-to-side look while walking, degrees. */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "WorldBridge|Trajectory|Walk", meta = (ClampMin = "0", ClampMax = "90", Units = "deg", EditCondition = "Trajectory == EWorldBridgeTrajectory::Walk"))
	float WalkSwayDeg = 0.0f;

	/** Half size of the box (around the rig) that random paths stay in, centimetres. */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "WorldBridge|Trajectory|Random", meta = (EditCondition = "Trajectory == EWorldBridgeTrajectory::Random"))
	FVector RandomExtentCm = FVector(1000.0, 1000.0, 150.0);

	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "WorldBridge|Trajectory|Random", meta = (ClampMin = "1", ClampMax = "10000", EditCondition = "Trajectory == EWorldBridgeTrajectory::Random"))
	int32 RandomPathCount = 8;

	/** Camera travel per frame, centimetres (min, max). */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "WorldBridge|Trajectory|Random", meta = (EditCondition = "Trajectory == EWorldBridgeTrajectory::Random"))
	FVector2D RandomStepCm = FVector2D(3.0, 12.0);

	/** Seed of the random paths: the same seed plans the same paths. */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "WorldBridge|Trajectory|Random", meta = (EditCondition = "Trajectory == EWorldBridgeTrajectory::Random"))
	int32 RandomSeed = 0;

	/** Radius of the sphere swept between camera positions and tested at each one, centimetres. */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "WorldBridge|Collision", meta = (ClampMin = "0", Units = "cm"))
	float CollisionRadiusCm = 20.0f;

	/** Channel of the collision sweeps. */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "WorldBridge|Collision")
	TEnumAsByte<ECollisionChannel> CollisionChannel = ECC_Camera;

	/** Readbacks in flight at once (GPU memory: two staging textures each). */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "WorldBridge|Throughput", AdvancedDisplay, meta = (ClampMin = "1", ClampMax = "16"))
	int32 MaxFramesInFlight = 4;

	/** Captured frames waiting for the network at most; capturing pauses while the queue is full. */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "WorldBridge|Throughput", AdvancedDisplay, meta = (ClampMin = "1", ClampMax = "256"))
	int32 MaxQueuedFrames = 16;

	/** The camera: moved along the trajectory; the two captures are attached to it. */
	UPROPERTY(VisibleAnywhere, BlueprintReadOnly, Category = "WorldBridge")
	TObjectPtr<USceneComponent> CameraMount;

	UPROPERTY(VisibleAnywhere, BlueprintReadOnly, Category = "WorldBridge")
	TObjectPtr<USceneCaptureComponent2D> ColorCapture;

	UPROPERTY(VisibleAnywhere, BlueprintReadOnly, Category = "WorldBridge")
	TObjectPtr<USceneCaptureComponent2D> DepthCapture;

	/** Path of the Walk trajectory (world positions of its points; closed loops stay closed). */
	UPROPERTY(VisibleAnywhere, BlueprintReadOnly, Category = "WorldBridge")
	TObjectPtr<USplineComponent> WalkSpline;

	UPROPERTY(BlueprintAssignable, Category = "WorldBridge")
	FWorldBridgeCaptureProgressSignature OnCaptureProgress;

	UPROPERTY(BlueprintAssignable, Category = "WorldBridge")
	FWorldBridgeCaptureFinishedSignature OnCaptureFinished;

	/**
	 * Plans the trajectory and starts capturing and recording. Returns false (and logs why) when a capture is
	 * already running or the trajectory cannot be planned; connection errors arrive in OnCaptureFinished.
	 */
	UFUNCTION(BlueprintCallable, Category = "WorldBridge")
	bool StartCapture();

	/** Stops capturing; the frames already sent are kept and the dataset is finished. OnCaptureFinished follows. */
	UFUNCTION(BlueprintCallable, Category = "WorldBridge")
	void StopCapture();

	UFUNCTION(BlueprintPure, Category = "WorldBridge")
	bool IsCapturing() const { return bCapturing; }

	virtual void Tick(float DeltaSeconds) override;
	virtual bool ShouldTickIfViewportsOnly() const override { return bCapturing; }
	virtual void EndPlay(const EEndPlayReason::Type EndPlayReason) override;
	virtual void Destroyed() override;

private:
	bool PlanTrajectory(FString& OutError);
	void IssueCaptures();
	void CollectReadbacks();
	void Finish();
	FString MakeDatasetName() const;

	UPROPERTY(Transient)
	TObjectPtr<UTextureRenderTarget2D> ColorTarget;

	UPROPERTY(Transient)
	TObjectPtr<UTextureRenderTarget2D> DepthTarget;

	/** Planned camera keys, readbacks in flight and the recorder worker's shared state. */
	TSharedPtr<FWorldBridgeCaptureSession> Session;

	bool bCapturing = false;
};
