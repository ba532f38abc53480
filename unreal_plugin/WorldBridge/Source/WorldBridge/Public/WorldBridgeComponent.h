// Copyright WorldBridge. All Rights Reserved.

#pragma once

#include "CoreMinimal.h"
#include "Components/ActorComponent.h"
#include "WorldBridgeComponent.generated.h"

class UTexture2D;
class UTextureRenderTarget2D;
class USceneCaptureComponent2D;
struct FWorldBridgeLiveState;

/** How the frame model may use the anchors: the world memory rendered at the camera (wire: AnchorLock). */
UENUM(BlueprintType)
enum class EWorldBridgeAnchorLock : uint8
{
	/** The server's default (worldbridge serve --anchor-lock; on unless changed there). */
	ServerDefault UMETA(DisplayName = "Server Default"),
	/** Every pixel the anchors cover is kept exactly; the frame model fills only the holes. */
	On UMETA(DisplayName = "On"),
	/** The frame model regenerates every pixel (restyling). */
	Off UMETA(DisplayName = "Off"),
};

/** The session is open and frames will follow. SessionId names it in the server's logs. */
DECLARE_DYNAMIC_MULTICAST_DELEGATE_OneParam(FWorldBridgeConnectedSignature, const FString&, SessionId);
/** A new generated frame is in Texture (the component's OutputTexture). */
DECLARE_DYNAMIC_MULTICAST_DELEGATE_OneParam(FWorldBridgeFrameReceivedSignature, UTexture2D*, Texture);
/** Something failed: a connection attempt, one frame request, or a reference view capture. The bridge keeps trying. */
DECLARE_DYNAMIC_MULTICAST_DELEGATE_OneParam(FWorldBridgeErrorSignature, const FString&, Message);
/** The connection was lost; the bridge reconnects with backoff and reopens the session. */
DECLARE_DYNAMIC_MULTICAST_DELEGATE_OneParam(FWorldBridgeDisconnectedSignature, const FString&, Reason);

/**
 * Live preview of a WorldBridge world at the owner's camera.
 *
 * Add it to an actor with a UCameraComponent (otherwise the local player's camera is used). On Connect()
 * (or BeginPlay with bAutoConnect) it captures ReferenceViewCount posed views (colour + scene depth) with
 * scene captures and opens a session from them; then every tick it sends the camera's pose (Unreal
 * convention: camera-to-world in centimetres, camera looking along +X; the server converts) with pinhole
 * intrinsics from the horizontal field of view, optionally with ground-truth depth, and shows each
 * returned frame in OutputTexture (BGRA8, rows top-down). Networking runs on the core's worker thread,
 * GPU readbacks are asynchronous: the game thread never waits on either.
 */
UCLASS(ClassGroup = (WorldBridge), meta = (BlueprintSpawnableComponent), hidecategories = (Activation, Cooking, Collision))
class WORLDBRIDGE_API UWorldBridgeComponent : public UActorComponent
{
	GENERATED_BODY()

public:
	UWorldBridgeComponent();

	/** host:port of the WorldBridge server; empty: Project Settings > Plugins > WorldBridge. */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "WorldBridge|Connection")
	FString ServerAddress;

	/** Bearer token; empty: the project setting. */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "WorldBridge|Connection")
	FString Token;

	/** Connect at BeginPlay. */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "WorldBridge|Connection")
	bool bAutoConnect = true;

	/** Width in pixels of the generated frames (and of the reference views and depth sent). */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "WorldBridge|Output", meta = (ClampMin = "16", ClampMax = "4096"))
	int32 OutputWidth = 512;

	/** Height in pixels of the generated frames (and of the reference views and depth sent). */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "WorldBridge|Output", meta = (ClampMin = "16", ClampMax = "4096"))
	int32 OutputHeight = 512;

	/** Generator name from the server's list ("anchor", "frame-model", ...); empty: the server's default. */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "WorldBridge|Output")
	FString Generator;

	/**
	 * Anchor lock of the frame model. On: pixels the world memory covers are kept exactly and only the holes
	 * (disocclusions, unseen regions) are generated. Off: every pixel is regenerated (restyling). Server
	 * Default: the server's setting, which is on unless changed. The "anchor" generator ignores it.
	 */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "WorldBridge|Output")
	EWorldBridgeAnchorLock AnchorLock = EWorldBridgeAnchorLock::ServerDefault;

	/**
	 * Frame-model bundle the server knows by name (for example one `worldbridge adapt` made for this
	 * level); empty: the server's default. Applies to the "frame-model" generator.
	 */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "WorldBridge|Output")
	FString Bundle;

	/** Seed of the generator's noise; 0 derives it from the session. */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "WorldBridge|Output", AdvancedDisplay)
	int32 Seed = 0;

	/**
	 * Posed views (colour + depth) captured when connecting; they build the session's point cloud and the
	 * first is the generator's reference view. View 0 looks where the camera looks; the others turn by
	 * multiples of ReferenceYawStepDeg, alternating right and left.
	 */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "WorldBridge|World", meta = (ClampMin = "0", ClampMax = "16"))
	int32 ReferenceViewCount = 3;

	/** Yaw between reference views, degrees. */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "WorldBridge|World", meta = (ClampMin = "0", ClampMax = "180", Units = "deg"))
	float ReferenceYawStepDeg = 45.0f;

	/**
	 * Send ground-truth depth with every pose (planar depth from a scene capture, metres on the wire). Poses
	 * then leave a frame or two later, when the depth readback has arrived.
	 */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "WorldBridge|World")
	bool bSendDepth = false;

	/** With depth: mark every Nth request a keyframe (its frame is lifted into the world memory); 0: never by count. */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "WorldBridge|World", meta = (ClampMin = "0", EditCondition = "bSendDepth"))
	int32 KeyframeEveryNFrames = 0;

	/** With depth: keyframe when the camera moved this far since the last keyframe, centimetres; 0: off. */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "WorldBridge|World", meta = (ClampMin = "0", Units = "cm", EditCondition = "bSendDepth"))
	float KeyframeDistanceCm = 150.0f;

	/** With depth: keyframe when the camera turned this far since the last keyframe, degrees; 0: off. */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "WorldBridge|World", meta = (ClampMin = "0", Units = "deg", EditCondition = "bSendDepth"))
	float KeyframeAngleDeg = 20.0f;

	/** Scene depth at or beyond this distance (centimetres) is sent as +inf: sky and background. */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "WorldBridge|World", AdvancedDisplay, meta = (ClampMin = "100", Units = "cm"))
	float SkyDepthCm = 1.0e6f;

	/** The latest generated frame (PF_B8G8R8A8, sRGB). Null until the first frame; recreated when the size changes. */
	UPROPERTY(BlueprintReadOnly, Transient, Category = "WorldBridge")
	TObjectPtr<UTexture2D> OutputTexture;

	UPROPERTY(BlueprintAssignable, Category = "WorldBridge")
	FWorldBridgeConnectedSignature OnConnected;

	UPROPERTY(BlueprintAssignable, Category = "WorldBridge")
	FWorldBridgeFrameReceivedSignature OnFrameReceived;

	UPROPERTY(BlueprintAssignable, Category = "WorldBridge")
	FWorldBridgeErrorSignature OnError;

	UPROPERTY(BlueprintAssignable, Category = "WorldBridge")
	FWorldBridgeDisconnectedSignature OnDisconnected;

	/** Captures the reference views, then connects and opens a session (with retries). Returns at once. */
	UFUNCTION(BlueprintCallable, Category = "WorldBridge")
	void Connect();

	/** Stops streaming; the session is closed on a worker thread. Returns at once. */
	UFUNCTION(BlueprintCallable, Category = "WorldBridge")
	void Disconnect();

	/** True between OnConnected and a disconnect. */
	UFUNCTION(BlueprintPure, Category = "WorldBridge")
	bool IsConnected() const { return bConnected; }

	/** Frames received since Connect(). */
	UFUNCTION(BlueprintPure, Category = "WorldBridge")
	int64 GetFramesReceived() const { return FramesReceived; }

	/** Pose-sent to frame-received time of the latest frame, milliseconds (includes transport and encoding). */
	UFUNCTION(BlueprintPure, Category = "WorldBridge")
	float GetLastRoundTripMs() const { return LastRoundTripMs; }

	virtual void BeginPlay() override;
	virtual void EndPlay(const EEndPlayReason::Type EndPlayReason) override;
	virtual void TickComponent(float DeltaTime, ELevelTick TickType, FActorComponentTickFunction* ThisTickFunction) override;

private:
	bool GetCameraView(float DeltaTime, FVector& OutLocation, FRotator& OutRotation, float& OutFovDeg) const;
	void EnsureCaptures();
	void CaptureAt(USceneCaptureComponent2D* Capture, const FVector& Location, const FRotator& Rotation, float FovDeg);
	void PollReferenceViews();
	void StartBridge();
	void SubmitLivePose(float DeltaTime);
	void DrainBridgeEvents();
	void ReportError(const FString& Message);

	UPROPERTY(Transient)
	TObjectPtr<USceneCaptureComponent2D> ColorCapture;

	UPROPERTY(Transient)
	TObjectPtr<USceneCaptureComponent2D> DepthCapture;

	UPROPERTY(Transient)
	TObjectPtr<UTextureRenderTarget2D> ColorTarget;

	UPROPERTY(Transient)
	TObjectPtr<UTextureRenderTarget2D> DepthTarget;

	/** Core objects and pending readbacks (std types stay out of this header). */
	TSharedPtr<FWorldBridgeLiveState> Live;

	bool bConnected = false;
	int64 FramesReceived = 0;
	float LastRoundTripMs = 0.0f;
};
