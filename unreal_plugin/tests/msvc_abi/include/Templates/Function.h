// Stand-in for Unreal's Templates/Function.h (see CoreMinimal.h here): TFunction is copyable,
// TUniqueFunction move-only, as in the engine.
#pragma once

#include "CoreMinimal.h"

template <typename FuncType> class TFunction;
template <typename FuncType> class TUniqueFunction;

template <typename Ret, typename... ParamTypes>
class TFunction<Ret(ParamTypes...)>
{
public:
	TFunction() = default;
	TFunction(const TFunction&) = default;
	TFunction& operator=(const TFunction&) = default;

private:
	Ret (*Callable)(ParamTypes...) = nullptr;
};

template <typename Ret, typename... ParamTypes>
class TUniqueFunction<Ret(ParamTypes...)>
{
public:
	TUniqueFunction() = default;
	TUniqueFunction(TUniqueFunction&&) = default;
	TUniqueFunction& operator=(TUniqueFunction&&) = default;
	TUniqueFunction(const TUniqueFunction&) = delete;
	TUniqueFunction& operator=(const TUniqueFunction&) = delete;

private:
	Ret (*Callable)(ParamTypes...) = nullptr;
};
