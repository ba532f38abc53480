// Copyright WorldBridge. All Rights Reserved.

#pragma once

#include "CoreMinimal.h"
#include "Logging/LogMacros.h"

/** Log category of the WorldBridge plugin (connection, frames, captures). */
WORLDBRIDGE_API DECLARE_LOG_CATEGORY_EXTERN(LogWorldBridge, Log, All);
