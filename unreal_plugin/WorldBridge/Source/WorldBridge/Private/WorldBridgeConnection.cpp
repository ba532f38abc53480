// Copyright WorldBridge. All Rights Reserved.

#include "WorldBridgeConnection.h"

#include "Async/Async.h"
#include "WorldBridgeConvert.h"
#include "WorldBridgeLog.h"
#include "WorldBridgeModule.h"

namespace WorldBridge
{
	void TestConnectionAsync(const FString& Address, const FString& Token,
		TFunction<void(const FWorldBridgeConnectionTestResult&)> OnDone)
	{
		check(IsInGameThread());
		worldbridge::ClientOptions Options = MakeClientOptions(Address, Token);
		FWorldBridgeModule::Get().RunInBackground([Options = MoveTemp(Options), OnDone = MoveTemp(OnDone)]()
		{
			FWorldBridgeConnectionTestResult Result;
			worldbridge::Client Client(Options);
			worldbridge::ServerInfo Info;
			const worldbridge::Status Status = Client.Connect(&Info);
			const FString Target = ToFString(Options.target);
			if (Status.ok())
			{
				TArray<FString> Generators;
				for (const worldbridge::GeneratorInfo& Generator : Info.generators)
				{
					Generators.Add(ToFString(Generator.name) + (Generator.available ? TEXT("") : TEXT(" (unavailable)")));
				}
				Result.bSuccess = true;
				Result.Message = FString::Printf(TEXT("%s: WorldBridge server %s, protocol %u.%u, generators: %s"),
					*Target, *ToFString(Info.server_version), Info.protocol_major, Info.protocol_minor,
					*FString::Join(Generators, TEXT(", ")));
				for (const std::string& Warning : Info.warnings)
				{
					Result.Message += TEXT("\nWarning: ") + ToFString(Warning);
				}
			}
			else
			{
				Result.Message = FString::Printf(TEXT("%s: %s"), *Target, *DescribeStatus(Status));
			}
			UE_LOG(LogWorldBridge, Log, TEXT("Connection test: %s"), *Result.Message);
			AsyncTask(ENamedThreads::GameThread, [OnDone, Result]() { OnDone(Result); });
		});
	}
}
