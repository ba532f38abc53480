// Copyright WorldBridge. All Rights Reserved.

#pragma once

#include "CoreMinimal.h"
#include "Templates/Function.h"

/** Outcome of a connection test: the handshake's result in words. */
struct FWorldBridgeConnectionTestResult
{
	/** True when the server answered GetServerInfo with a compatible protocol version. */
	bool bSuccess = false;
	/** Server version, protocol, generators and warnings on success; the gRPC status and message on failure. */
	FString Message;
};

namespace WorldBridge
{
	/**
	 * Connects to Address ("host:port"; empty: the project setting) with Token (empty: the project setting),
	 * performs the protocol handshake (GetServerInfo) on a worker thread and calls OnDone on the game thread.
	 * Never blocks the caller. Call from the game thread.
	 */
	WORLDBRIDGE_API void TestConnectionAsync(const FString& Address, const FString& Token,
		TFunction<void(const FWorldBridgeConnectionTestResult&)> OnDone);
}
