// Copyright WorldBridge. All Rights Reserved.

#pragma once

#include "CoreMinimal.h"
#include "Async/Future.h"
#include "Modules/ModuleInterface.h"
#include "Templates/Function.h"

/**
 * WorldBridge runtime module. Owns the background work that may outlive the object that started it
 * (stopping a live bridge, which closes its session within the call deadline; connection tests;
 * finishing a recording) and waits for it at shutdown, so no worker thread runs module code after
 * the module is unloaded.
 *
 * Not copyable: the class is exported (WORLDBRIDGE_API), and MSVC instantiates every implicitly
 * declared member of a dllexport class, including a copy constructor, which would copy the
 * move-only TFuture<void> elements of BackgroundWork (error C2280). Deleting copy and assignment
 * explicitly keeps them from being generated at all (unreal_plugin/tests/msvc_abi checks this).
 */
class WORLDBRIDGE_API FWorldBridgeModule : public IModuleInterface
{
public:
	FWorldBridgeModule() = default;
	FWorldBridgeModule(const FWorldBridgeModule&) = delete;
	FWorldBridgeModule& operator=(const FWorldBridgeModule&) = delete;

	virtual void StartupModule() override;
	virtual void ShutdownModule() override;

	/** The loaded module (loads it if needed). Game thread. */
	static FWorldBridgeModule& Get();

	/** Runs Work on a new worker thread (never the game thread); ShutdownModule waits for it. Game thread. */
	void RunInBackground(TUniqueFunction<void()> Work);

	/** "worldbridge-unreal/<plugin version> UE<major>.<minor>", sent in the protocol handshake for server logs. */
	static FString ClientName();

private:
	TArray<TFuture<void>> BackgroundWork;
};
