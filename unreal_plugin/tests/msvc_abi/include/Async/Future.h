// Stand-in for Unreal's Async/Future.h (see CoreMinimal.h here): TFuture is move-only, as in the engine.
#pragma once

#include "CoreMinimal.h"

template <typename ResultType>
class TFuture
{
public:
	TFuture() = default;
	TFuture(TFuture&&) = default;
	TFuture& operator=(TFuture&&) = default;
	TFuture(const TFuture&) = delete;
	TFuture& operator=(const TFuture&) = delete;

	bool IsReady() const { return true; }
	void Wait() const {}
};
