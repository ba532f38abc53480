// Copyright WorldBridge. All Rights Reserved.

#include "WorldBridgeReadback.h"

#include "Engine/TextureRenderTarget2D.h"
#include "RHIAccess.h"
#include "RHICommandList.h"
#include "RHIGPUReadback.h"
#include "RHITransition.h"
#include "RenderingThread.h"
#include "TextureResource.h"
#include <atomic>

struct FWorldBridgeReadback::FState
{
	/** Created, used and destroyed on the render thread only. */
	TUniquePtr<FRHIGPUTextureReadback> Readback;
	TArray64<uint8> Pixels;
	int32 Width = 0;
	int32 Height = 0;
	int32 BytesPerPixel = 4;
	std::atomic<bool> bPollQueued{false};
	std::atomic<bool> bDone{false};
	std::atomic<bool> bFailed{false};
};

FWorldBridgeReadback::FWorldBridgeReadback(UTextureRenderTarget2D* Target, int32 BytesPerPixel)
	: State(MakeShared<FState, ESPMode::ThreadSafe>())
{
	State->BytesPerPixel = BytesPerPixel;
	FTextureRenderTargetResource* Resource = Target ? Target->GameThread_GetRenderTargetResource() : nullptr;
	if (!Resource)
	{
		State->bFailed = true;
		State->bDone = true;
		return;
	}
	Width = Target->SizeX;
	Height = Target->SizeY;
	State->Width = Width;
	State->Height = Height;

	ENQUEUE_RENDER_COMMAND(WorldBridgeReadbackCopy)(
		[State = State, Resource](FRHICommandListImmediate& RHICmdList)
		{
			FRHITexture* Texture = Resource->GetRenderTargetTexture();
			if (!Texture)
			{
				State->bFailed = true;
				State->bDone = true;
				return;
			}
			State->Readback = MakeUnique<FRHIGPUTextureReadback>(TEXT("WorldBridgeReadback"));
			// This copy runs outside the render graph, so nothing tracks the target's state for it: the
			// scene capture's graph leaves it readable by shaders (SRVMask, the graph's final state for
			// external textures), and a copy needs CopySrc. Transition explicitly (from Unknown: the RHI
			// does not have to trust a guessed previous state), copy, then hand the target back in the
			// state the next capture and any material sampling it expect.
			RHICmdList.Transition(FRHITransitionInfo(Texture, ERHIAccess::Unknown, ERHIAccess::CopySrc));
			State->Readback->EnqueueCopy(RHICmdList, Texture);
			RHICmdList.Transition(FRHITransitionInfo(Texture, ERHIAccess::CopySrc, ERHIAccess::SRVMask));
		});
}

FWorldBridgeReadback::~FWorldBridgeReadback()
{
	// Release the staging texture where it was created.
	ENQUEUE_RENDER_COMMAND(WorldBridgeReadbackRelease)(
		[State = MoveTemp(State)](FRHICommandListImmediate&)
		{
			State->Readback.Reset();
		});
}

bool FWorldBridgeReadback::Poll()
{
	if (State->bDone.load(std::memory_order_acquire))
	{
		return true;
	}
	if (!State->bPollQueued.exchange(true))
	{
		ENQUEUE_RENDER_COMMAND(WorldBridgeReadbackPoll)(
			[State = State](FRHICommandListImmediate&)
			{
				if (State->Readback && State->Readback->IsReady())
				{
					int32 RowPitchInPixels = 0;
					int32 BufferHeight = 0;
					const uint8* Source = static_cast<const uint8*>(State->Readback->Lock(RowPitchInPixels, &BufferHeight));
					if (Source && RowPitchInPixels >= State->Width)
					{
						const int64 RowBytes = int64(State->Width) * State->BytesPerPixel;
						const int64 PitchBytes = int64(RowPitchInPixels) * State->BytesPerPixel;
						State->Pixels.SetNumUninitialized(RowBytes * State->Height);
						for (int32 Row = 0; Row < State->Height; ++Row)
						{
							FMemory::Memcpy(State->Pixels.GetData() + Row * RowBytes, Source + Row * PitchBytes, RowBytes);
						}
					}
					else
					{
						State->bFailed = true;
					}
					if (Source)
					{
						State->Readback->Unlock();
					}
					State->Readback.Reset();
					State->bDone.store(true, std::memory_order_release);
				}
				State->bPollQueued = false;
			});
	}
	return false;
}

bool FWorldBridgeReadback::Failed() const
{
	return State->bFailed.load(std::memory_order_acquire);
}

TArray64<uint8> FWorldBridgeReadback::TakePixels()
{
	check(State->bDone.load(std::memory_order_acquire));
	return MoveTemp(State->Pixels);
}
