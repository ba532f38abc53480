// Copyright WorldBridge. All Rights Reserved.

#pragma once

#include "CoreMinimal.h"
#include "Engine/DeveloperSettings.h"
#include "WorldBridgeSettings.generated.h"

/**
 * Project-wide WorldBridge defaults, under Project Settings > Plugins > WorldBridge (saved to
 * Config/DefaultGame.ini). Components and capture rigs use these when their own fields are empty.
 */
UCLASS(config = Game, defaultconfig, meta = (DisplayName = "WorldBridge"))
class WORLDBRIDGE_API UWorldBridgeSettings : public UDeveloperSettings
{
	GENERATED_BODY()

public:
	UWorldBridgeSettings();

	/** host:port of the WorldBridge server (`worldbridge serve` listens on 127.0.0.1:50051 by default). */
	UPROPERTY(config, EditAnywhere, Category = "Connection")
	FString ServerAddress = TEXT("127.0.0.1:50051");

	/**
	 * Bearer token sent as "authorization: Bearer <token>" when the server requires one. Stored in
	 * DefaultGame.ini, which is usually under source control: prefer a per-component token for secrets.
	 */
	UPROPERTY(config, EditAnywhere, Category = "Connection")
	FString Token;

	/** Use TLS (system root certificates). Off for the loopback server, which speaks cleartext HTTP/2. */
	UPROPERTY(config, EditAnywhere, Category = "Connection")
	bool bUseTls = false;

	/** Seconds to wait for the channel and the handshake before a connection attempt fails. */
	UPROPERTY(config, EditAnywhere, Category = "Connection", meta = (ClampMin = "0.5", UIMin = "0.5", Units = "s"))
	float ConnectTimeoutSeconds = 5.0f;

	/** Deadline in seconds of unary calls (OpenSession, CloseSession) and of finishing a recording. */
	UPROPERTY(config, EditAnywhere, Category = "Connection", meta = (ClampMin = "1.0", UIMin = "1.0", Units = "s"))
	float CallTimeoutSeconds = 30.0f;

	/** Largest gRPC message in either direction, MiB (reference views and captured frames are large). */
	UPROPERTY(config, EditAnywhere, Category = "Connection", meta = (ClampMin = "4", ClampMax = "1024"))
	int32 MaxMessageMiB = 64;

	/** The settings object (class default object). */
	static const UWorldBridgeSettings* Get() { return GetDefault<UWorldBridgeSettings>(); }

	virtual FName GetCategoryName() const override;
#if WITH_EDITOR
	virtual FText GetSectionText() const override;
	virtual FText GetSectionDescription() const override;
#endif
};
