// Stand-in for Unreal's CoreMinimal.h: only what the WorldBridge engine-layer headers checked by
// check_exports.cpp use, written so that copying, moving and exporting behave as in the engine.
// It is not the engine's code and must never be used to build the plugin.
#pragma once

using int32 = int;
using uint8 = unsigned char;
using TCHAR = wchar_t;

template <typename T> T&& DeclVal();

template <typename T> struct TRemoveReference { using Type = T; };
template <typename T> struct TRemoveReference<T&> { using Type = T; };
template <typename T> struct TRemoveReference<T&&> { using Type = T; };

template <typename T>
typename TRemoveReference<T>::Type&& MoveTemp(T&& Value)
{
	return static_cast<typename TRemoveReference<T>::Type&&>(Value);
}

/**
 * Like the engine's TArray, the copy constructor and copy assignment are declared for every element
 * type and copy the elements: a class holding a TArray of a move-only type gets an implicit copy
 * constructor that is well-formed to declare and ill-formed to define.
 */
template <typename ElementType>
class TArray
{
public:
	TArray() = default;
	TArray(const TArray& Other) { CopyFrom(Other); }
	TArray(TArray&& Other) : Data(Other.Data), ArrayNum(Other.ArrayNum), ArrayMax(Other.ArrayMax)
	{
		Other.Data = nullptr;
		Other.ArrayNum = Other.ArrayMax = 0;
	}
	TArray& operator=(const TArray& Other)
	{
		if (this != &Other)
		{
			Empty();
			CopyFrom(Other);
		}
		return *this;
	}
	~TArray() { delete[] Data; }

	int32 Num() const { return ArrayNum; }
	ElementType* begin() { return Data; }
	ElementType* end() { return Data + ArrayNum; }
	const ElementType* begin() const { return Data; }
	const ElementType* end() const { return Data + ArrayNum; }

	void Add(const ElementType& Item) { Grow(); Data[ArrayNum++] = Item; }
	void Add(ElementType&& Item) { Grow(); Data[ArrayNum++] = MoveTemp(Item); }

	template <typename Predicate>
	int32 RemoveAll(Predicate Pred)
	{
		int32 Kept = 0;
		for (int32 Index = 0; Index < ArrayNum; ++Index)
		{
			if (!Pred(Data[Index]))
			{
				if (Kept != Index)
				{
					Data[Kept] = MoveTemp(Data[Index]);
				}
				++Kept;
			}
		}
		const int32 Removed = ArrayNum - Kept;
		ArrayNum = Kept;
		return Removed;
	}

	void Empty()
	{
		delete[] Data;
		Data = nullptr;
		ArrayNum = ArrayMax = 0;
	}

private:
	void CopyFrom(const TArray& Other)
	{
		for (const ElementType& Item : Other)
		{
			Add(Item);
		}
	}
	void Grow()
	{
		if (ArrayNum < ArrayMax)
		{
			return;
		}
		const int32 NewMax = ArrayMax ? ArrayMax * 2 : 4;
		ElementType* NewData = new ElementType[NewMax];
		for (int32 Index = 0; Index < ArrayNum; ++Index)
		{
			NewData[Index] = MoveTemp(Data[Index]);
		}
		delete[] Data;
		Data = NewData;
		ArrayMax = NewMax;
	}

	ElementType* Data = nullptr;
	int32 ArrayNum = 0;
	int32 ArrayMax = 0;
};

/** Copyable string, as the engine's FString. */
class FString
{
public:
	FString() = default;
	FString(const TCHAR* Text) : Chars(Text) {}
	FString(const FString&) = default;
	FString& operator=(const FString&) = default;
	const TCHAR* operator*() const { return Chars ? Chars : L""; }

private:
	const TCHAR* Chars = nullptr;
};

#define TEXT(x) L##x
