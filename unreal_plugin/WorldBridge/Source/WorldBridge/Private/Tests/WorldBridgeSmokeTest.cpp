// Copyright WorldBridge. All Rights Reserved.

// Engine smoke tests of the WorldBridge runtime module: the first things to run after the plugin built.
//
// They need the engine and cannot run in the repository's CI, which compiles only the engine-free core
// (unreal_plugin/CMakeLists.txt) and checks the exported headers in MSVC mode
// (unreal_plugin/tests/msvc_abi). Run them from a project that has the plugin in Plugins/WorldBridge:
//
//   UnrealEditor-Cmd <Project>.uproject -ExecCmds="Automation RunTests WorldBridge" \
//       -TestExit="Automation Test Queue Empty" -unattended -nosplash -log
//
// or Session Frontend > Automation in the editor (filter "WorldBridge"). With -nullrhi nothing is
// rendered: WorldBridge.Smoke.PlanarDepth and the GPU half of WorldBridge.Smoke.FrameLayout need a real
// RHI (on a headless Linux machine use -RenderOffScreen instead of -nullrhi); under the null RHI they say
// so and pass without checking. WorldBridge.Smoke.LiveSession needs a running server: start
// `worldbridge serve` and pass its address in the environment variable WORLDBRIDGE_TEST_SERVER (host:port,
// token in WORLDBRIDGE_TEST_TOKEN) or the console variable WorldBridge.Test.Server; without one it is
// skipped with a message.

#include "Components/SceneCaptureComponent2D.h"
#include "Components/StaticMeshComponent.h"
#include "Engine/Engine.h"
#include "Engine/StaticMesh.h"
#include "Engine/StaticMeshActor.h"
#include "Engine/Texture2D.h"
#include "Engine/TextureRenderTarget2D.h"
#include "Engine/World.h"
#include "HAL/IConsoleManager.h"
#include "HAL/PlatformMisc.h"
#include "HAL/PlatformProcess.h"
#include "HAL/PlatformTime.h"
#include "Misc/App.h"
#include "Misc/AutomationTest.h"
#include "RHICommandList.h"
#include "RHIGPUReadback.h"
#include "RHITransition.h"
#include "RenderingThread.h"
#include "TextureResource.h"
#include "UObject/Package.h"
#include "WorldBridgeCaptureRig.h"
#include "WorldBridgeCaptureSetup.h"
#include "WorldBridgeConvert.h"
#include "WorldBridgeCore/LiveBridge.h"
#include "WorldBridgeReadback.h"
#include <atomic>
#include <cstring>
#include <vector>

#if WITH_DEV_AUTOMATION_TESTS

// A macro, not a typed constant: EAutomationTestFlags is an unscoped enum inside a namespace in older
// engine versions and an enum class in newer ones; the expression is valid for both.
#define WORLDBRIDGE_SMOKE_TEST_FLAGS (EAutomationTestFlags::EditorContext | EAutomationTestFlags::EngineFilter)

namespace WorldBridgeSmokeTest
{
	TAutoConsoleVariable<FString> CVarTestServer(TEXT("WorldBridge.Test.Server"), TEXT(""),
		TEXT("host:port of a running `worldbridge serve` for the WorldBridge.Smoke.LiveSession automation test ")
		TEXT("(WORLDBRIDGE_TEST_SERVER in the environment takes precedence)."));

	/** False under -nullrhi (and in commandlets and servers): scene captures and readbacks produce nothing. */
	bool CanRender(FAutomationTestBase& Test)
	{
		if (FApp::CanEverRender())
		{
			return true;
		}
		Test.AddInfo(TEXT("Skipped: nothing renders under the null RHI. Run without -nullrhi (-RenderOffScreen on a headless machine)."));
		return false;
	}

	/** Polls a readback on the game thread, flushing the render thread in between; false after TimeoutSeconds. */
	bool WaitForReadback(FWorldBridgeReadback& Readback, double TimeoutSeconds)
	{
		const double Deadline = FPlatformTime::Seconds() + TimeoutSeconds;
		while (!Readback.Poll())
		{
			FlushRenderingCommands();
			if (FPlatformTime::Seconds() > Deadline)
			{
				return false;
			}
			FPlatformProcess::Sleep(0.005f);
		}
		return true;
	}

	/** A world of its own (not the editor's), destroyed with the scope. */
	struct FScopedTestWorld
	{
		UWorld* World = nullptr;

		FScopedTestWorld()
		{
			World = UWorld::CreateWorld(EWorldType::Game, /*bInformEngineOfWorld=*/false);
		}
		~FScopedTestWorld()
		{
			if (World)
			{
				World->DestroyWorld(/*bInformEngineOfWorld=*/false);
				World->RemoveFromRoot();
			}
		}
	};
}

/**
 * A plane 500 cm in front of the rig's depth capture, facing it, filling the view: the planar depth the rig
 * records (WorldBridge::MakeDepthImage of the SCS_SceneDepth readback, metres) is 5.0 m at the centre and at
 * the four corners. Planar (z) depth is the same over the whole plane; a ray distance would grow towards the
 * corners (by 1/cos of the angle off the axis, 1.73 at the corners of a 90-degree view).
 */
IMPLEMENT_SIMPLE_AUTOMATION_TEST(FWorldBridgePlanarDepthTest, "WorldBridge.Smoke.PlanarDepth", WORLDBRIDGE_SMOKE_TEST_FLAGS)

bool FWorldBridgePlanarDepthTest::RunTest(const FString& Parameters)
{
	using namespace WorldBridgeSmokeTest;
	if (!CanRender(*this))
	{
		return true;
	}
	FScopedTestWorld TestWorld;
	UWorld* World = TestWorld.World;
	if (!TestNotNull(TEXT("test world"), World))
	{
		return false;
	}

	UStaticMesh* PlaneMesh = LoadObject<UStaticMesh>(nullptr, TEXT("/Engine/BasicShapes/Plane.Plane"));
	if (!TestNotNull(TEXT("/Engine/BasicShapes/Plane"), PlaneMesh))
	{
		return false;
	}
	// The engine's plane is 100 x 100 cm in XY facing +Z. Scaled to 40 m it covers a 90-degree view from 5 m
	// (half width 5 m) with room to spare. The camera looks straight down at it from 500 cm.
	const double DistanceCm = 500.0;
	AStaticMeshActor* Plane = World->SpawnActor<AStaticMeshActor>(FVector::ZeroVector, FRotator::ZeroRotator);
	Plane->GetStaticMeshComponent()->SetMobility(EComponentMobility::Movable);
	Plane->GetStaticMeshComponent()->SetStaticMesh(PlaneMesh);
	Plane->SetActorScale3D(FVector(40.0, 40.0, 1.0));

	AWorldBridgeCaptureRig* Rig = World->SpawnActor<AWorldBridgeCaptureRig>(FVector(0.0, 0.0, DistanceCm), FRotator::ZeroRotator);
	if (!TestNotNull(TEXT("capture rig"), Rig))
	{
		return false;
	}
	const int32 Size = 64;
	UTextureRenderTarget2D* Target = WorldBridge::MakeCaptureTarget(Rig, TEXT("WorldBridgeTestDepth"), Size, Size, PF_R32_FLOAT, RTF_R32f);
	Rig->DepthCapture->TextureTarget = Target;
	Rig->DepthCapture->FOVAngle = 90.0f;
	Rig->CameraMount->SetWorldLocationAndRotation(FVector(0.0, 0.0, DistanceCm), FRotator(-90.0, 0.0, 0.0));
	World->SendAllEndOfFrameUpdates();

	Rig->DepthCapture->CaptureScene();
	FWorldBridgeReadback Readback(Target, 4);
	if (!TestTrue(TEXT("depth readback arrives within 30 s"), WaitForReadback(Readback, 30.0)) ||
		!TestFalse(TEXT("depth readback failed"), Readback.Failed()))
	{
		return false;
	}
	const worldbridge::DepthImage Depth = WorldBridge::MakeDepthImage(Readback.TakePixels(), Size, Size, Rig->SkyDepthCm);
	TestEqual(TEXT("depth encoding"), int32(Depth.encoding), int32(worldbridge::DepthEncoding::Float32M));
	TestEqual(TEXT("depth kind"), int32(Depth.kind), int32(worldbridge::DepthKind::PlanarZ));
	std::vector<float> Metres(size_t(Size) * Size);
	if (!TestEqual(TEXT("depth bytes"), int64(Depth.data.size()), int64(Metres.size() * sizeof(float))))
	{
		return false;
	}
	std::memcpy(Metres.data(), Depth.data.data(), Depth.data.size());

	const float ExpectedMetres = float(DistanceCm / 100.0);
	const float ToleranceMetres = 0.02f;
	const FIntPoint Samples[] = {{Size / 2, Size / 2}, {0, 0}, {Size - 1, 0}, {0, Size - 1}, {Size - 1, Size - 1}};
	for (const FIntPoint& Pixel : Samples)
	{
		const float Value = Metres[size_t(Pixel.Y) * Size + Pixel.X];
		TestEqual(FString::Printf(TEXT("planar depth at pixel (%d, %d), metres"), Pixel.X, Pixel.Y), Value, ExpectedMetres, ToleranceMetres);
	}
	return true;
}

/**
 * Row and channel order of frames. On the CPU: MakeBgraImage (readback -> wire) keeps bytes B, G, R, A and rows
 * top-down and forces alpha to 255. On the GPU: UploadBgraFrame (wire -> the component's OutputTexture) puts
 * byte 0 of row 0 into texel (0, 0), the top-left of the texture, as B, G, R, A of a PF_B8G8R8A8 texture.
 */
IMPLEMENT_SIMPLE_AUTOMATION_TEST(FWorldBridgeFrameLayoutTest, "WorldBridge.Smoke.FrameLayout", WORLDBRIDGE_SMOKE_TEST_FLAGS)

bool FWorldBridgeFrameLayoutTest::RunTest(const FString& Parameters)
{
	using namespace WorldBridgeSmokeTest;
	// Every byte tells where it came from: B = 10 x + 1, G = 10 y + 2, R = 100 + x + y, A = 7.
	const int32 Width = 4;
	const int32 Height = 3;
	auto PatternByte = [](int32 X, int32 Y, int32 Channel) -> uint8
	{
		switch (Channel)
		{
		case 0: return uint8(10 * X + 1);
		case 1: return uint8(10 * Y + 2);
		case 2: return uint8(100 + X + Y);
		default: return 7;
		}
	};
	TArray64<uint8> Pattern;
	for (int32 Y = 0; Y < Height; ++Y)
	{
		for (int32 X = 0; X < Width; ++X)
		{
			for (int32 Channel = 0; Channel < 4; ++Channel)
			{
				Pattern.Add(PatternByte(X, Y, Channel));
			}
		}
	}

	const worldbridge::Image Image = WorldBridge::MakeBgraImage(TArray64<uint8>(Pattern), Width, Height);
	TestEqual(TEXT("wire format"), int32(Image.format), int32(worldbridge::TextureFormat::BGRA8));
	TestEqual(TEXT("wire row order"), int32(Image.row_order), int32(worldbridge::RowOrder::TopDown));
	for (int32 Y = 0; Y < Height; ++Y)
	{
		for (int32 X = 0; X < Width; ++X)
		{
			const size_t At = (size_t(Y) * Width + X) * 4;
			TestEqual(FString::Printf(TEXT("wire B at (%d, %d)"), X, Y), int32(Image.data[At + 0]), int32(PatternByte(X, Y, 0)));
			TestEqual(FString::Printf(TEXT("wire G at (%d, %d)"), X, Y), int32(Image.data[At + 1]), int32(PatternByte(X, Y, 1)));
			TestEqual(FString::Printf(TEXT("wire R at (%d, %d)"), X, Y), int32(Image.data[At + 2]), int32(PatternByte(X, Y, 2)));
			TestEqual(FString::Printf(TEXT("wire A at (%d, %d)"), X, Y), int32(Image.data[At + 3]), 255);
		}
	}

	if (!CanRender(*this))
	{
		return true;
	}
	TObjectPtr<UTexture2D> Texture;
	WorldBridge::UploadBgraFrame(GetTransientPackage(), Texture, std::vector<uint8_t>(Image.data), Width, Height);
	if (!TestNotNull(TEXT("uploaded texture"), Texture.Get()))
	{
		return false;
	}
	FlushRenderingCommands();

	// Read the texture back exactly as uploaded (no sampling): copy to a staging texture on the GPU.
	struct FTextureCopy
	{
		TUniquePtr<FRHIGPUTextureReadback> Readback;
		TArray<uint8> Pixels;
		std::atomic<bool> bDone{false};
	};
	TSharedRef<FTextureCopy, ESPMode::ThreadSafe> Copy = MakeShared<FTextureCopy, ESPMode::ThreadSafe>();
	FTextureResource* Resource = Texture->GetResource();
	ENQUEUE_RENDER_COMMAND(WorldBridgeTestCopy)([Copy, Resource](FRHICommandListImmediate& RHICmdList)
	{
		FRHITexture* RHITexture = Resource ? Resource->TextureRHI.GetReference() : nullptr;
		if (!RHITexture)
		{
			Copy->bDone = true;
			return;
		}
		Copy->Readback = MakeUnique<FRHIGPUTextureReadback>(TEXT("WorldBridgeTestCopy"));
		RHICmdList.Transition(FRHITransitionInfo(RHITexture, ERHIAccess::Unknown, ERHIAccess::CopySrc));
		Copy->Readback->EnqueueCopy(RHICmdList, RHITexture);
		RHICmdList.Transition(FRHITransitionInfo(RHITexture, ERHIAccess::CopySrc, ERHIAccess::SRVMask));
	});
	const double Deadline = FPlatformTime::Seconds() + 30.0;
	while (!Copy->bDone && FPlatformTime::Seconds() < Deadline)
	{
		ENQUEUE_RENDER_COMMAND(WorldBridgeTestPoll)([Copy, Width, Height](FRHICommandListImmediate&)
		{
			if (Copy->bDone || !Copy->Readback || !Copy->Readback->IsReady())
			{
				return;
			}
			int32 RowPitchInPixels = 0;
			const uint8* Source = static_cast<const uint8*>(Copy->Readback->Lock(RowPitchInPixels));
			if (Source)
			{
				for (int32 Row = 0; Row < Height; ++Row)
				{
					Copy->Pixels.Append(Source + size_t(Row) * RowPitchInPixels * 4, Width * 4);
				}
				Copy->Readback->Unlock();
			}
			Copy->Readback.Reset();
			Copy->bDone = true;
		});
		FlushRenderingCommands();
		FPlatformProcess::Sleep(0.005f);
	}
	if (!TestTrue(TEXT("texture readback arrives within 30 s"), bool(Copy->bDone)) ||
		!TestEqual(TEXT("texture bytes"), Copy->Pixels.Num(), Width * Height * 4))
	{
		return false;
	}
	for (int32 Y = 0; Y < Height; ++Y)
	{
		for (int32 X = 0; X < Width; ++X)
		{
			const int32 At = (Y * Width + X) * 4;
			for (int32 Channel = 0; Channel < 3; ++Channel)
			{
				TestEqual(FString::Printf(TEXT("texel (%d, %d) byte %d (B, G, R)"), X, Y, Channel), int32(Copy->Pixels[At + Channel]), int32(PatternByte(X, Y, Channel)));
			}
		}
	}
	return true;
}

/**
 * A live session against a running `worldbridge serve`: connects, opens a session without reference views and
 * receives frames of the requested size and format for poses submitted from the game thread.
 */
IMPLEMENT_SIMPLE_AUTOMATION_TEST(FWorldBridgeLiveSessionTest, "WorldBridge.Smoke.LiveSession", WORLDBRIDGE_SMOKE_TEST_FLAGS)

bool FWorldBridgeLiveSessionTest::RunTest(const FString& Parameters)
{
	using namespace WorldBridgeSmokeTest;
	FString Address = FPlatformMisc::GetEnvironmentVariable(TEXT("WORLDBRIDGE_TEST_SERVER"));
	if (Address.IsEmpty())
	{
		Address = CVarTestServer.GetValueOnGameThread();
	}
	if (Address.IsEmpty())
	{
		AddInfo(TEXT("Skipped: no server. Start `worldbridge serve` and set WORLDBRIDGE_TEST_SERVER=host:port (or WorldBridge.Test.Server)."));
		return true;
	}

	const uint32_t Size = 64;
	worldbridge::LiveBridgeOptions Options;
	Options.client = WorldBridge::MakeClientOptions(Address, FPlatformMisc::GetEnvironmentVariable(TEXT("WORLDBRIDGE_TEST_TOKEN")));
	Options.session.output.width = Size;
	Options.session.output.height = Size;
	Options.session.output.format = worldbridge::TextureFormat::BGRA8;
	Options.session.output.row_order = worldbridge::RowOrder::TopDown;
	Options.backoff.max_attempts = 3;
	worldbridge::LiveBridge Bridge(MoveTemp(Options));
	Bridge.Start();

	bool bConnected = false;
	int32 Frames = 0;
	FString LastError;
	std::vector<worldbridge::BridgeEvent> Events;
	const double Deadline = FPlatformTime::Seconds() + 60.0;
	double Yaw = 0.0;
	while (Frames < 3 && FPlatformTime::Seconds() < Deadline && Bridge.state() != worldbridge::BridgeState::Failed)
	{
		worldbridge::FrameRequest Request;
		Request.pose = WorldBridge::MakePose(FVector(0.0, 0.0, 150.0), FRotator(0.0, Yaw, 0.0));
		Request.intrinsics = WorldBridge::MakeIntrinsics(90.0f, int32(Size), int32(Size));
		Bridge.SubmitPose(MoveTemp(Request));
		Yaw += 5.0;

		Events.clear();
		Bridge.DrainEvents(&Events);
		for (const worldbridge::BridgeEvent& Event : Events)
		{
			switch (Event.type)
			{
			case worldbridge::BridgeEventType::Connected:
				bConnected = true;
				break;
			case worldbridge::BridgeEventType::Frame:
				if (Event.frame.error_code != 0)
				{
					LastError = WorldBridge::ToFString(Event.frame.error_message);
					break;
				}
				++Frames;
				TestEqual(TEXT("frame width"), int64(Event.frame.texture.width), int64(Size));
				TestEqual(TEXT("frame height"), int64(Event.frame.texture.height), int64(Size));
				TestEqual(TEXT("frame format"), int32(Event.frame.texture.format), int32(worldbridge::TextureFormat::BGRA8));
				TestEqual(TEXT("frame bytes"), int64(Event.frame.texture.data.size()), int64(Size) * Size * 4);
				break;
			case worldbridge::BridgeEventType::Error:
			case worldbridge::BridgeEventType::Disconnected:
				LastError = WorldBridge::DescribeStatus(Event.status);
				break;
			}
		}
		FPlatformProcess::Sleep(0.05f);
	}
	Bridge.Stop();

	TestTrue(FString::Printf(TEXT("connected to %s (last error: %s)"), *Address, *LastError), bConnected);
	TestTrue(FString::Printf(TEXT("3 frames within 60 s, got %d (last error: %s)"), Frames, *LastError), Frames >= 3);
	return true;
}

#endif  // WITH_DEV_AUTOMATION_TESTS
