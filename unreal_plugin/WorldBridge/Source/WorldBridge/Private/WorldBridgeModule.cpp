// Copyright WorldBridge. All Rights Reserved.

#include "WorldBridgeModule.h"

#include "Async/Async.h"
#include "Interfaces/IPluginManager.h"
#include "Misc/EngineVersion.h"
#include "Modules/ModuleManager.h"
#include "WorldBridgeLog.h"

DEFINE_LOG_CATEGORY(LogWorldBridge);

void FWorldBridgeModule::StartupModule()
{
	UE_LOG(LogWorldBridge, Log, TEXT("%s loaded"), *ClientName());
}

void FWorldBridgeModule::ShutdownModule()
{
	// Every piece of background work ends within its gRPC deadline.
	for (TFuture<void>& Work : BackgroundWork)
	{
		Work.Wait();
	}
	BackgroundWork.Empty();
}

FWorldBridgeModule& FWorldBridgeModule::Get()
{
	return FModuleManager::LoadModuleChecked<FWorldBridgeModule>(TEXT("WorldBridge"));
}

void FWorldBridgeModule::RunInBackground(TUniqueFunction<void()> Work)
{
	check(IsInGameThread());
	BackgroundWork.RemoveAll([](const TFuture<void>& Future) { return Future.IsReady(); });
	BackgroundWork.Add(Async(EAsyncExecution::Thread, MoveTemp(Work)));
}

FString FWorldBridgeModule::ClientName()
{
	FString PluginVersion = TEXT("unknown");
	if (const TSharedPtr<IPlugin> Plugin = IPluginManager::Get().FindPlugin(TEXT("WorldBridge")))
	{
		PluginVersion = Plugin->GetDescriptor().VersionName;
	}
	const FEngineVersion& Engine = FEngineVersion::Current();
	return FString::Printf(TEXT("worldbridge-unreal/%s UE%d.%d"), *PluginVersion, Engine.GetMajor(), Engine.GetMinor());
}

IMPLEMENT_MODULE(FWorldBridgeModule, WorldBridge)
