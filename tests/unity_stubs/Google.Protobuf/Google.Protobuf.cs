// API-surface stub of Google.Protobuf 3.21 (NuGet Google.Protobuf 3.21.12, the runtime the
// protoc 3.21 code in Runtime/Generated targets): only the members that code and the
// package's own scripts use. Every signature is copied from the source file named above it,
// at tag v21.12 of github.com/protocolbuffers/protobuf, directory csharp/src/Google.Protobuf.
// Bodies never run: the stub is compiled only to type-check the package.
using System;
using System.Collections;
using System.Collections.Generic;
using Google.Protobuf.Collections;
using Google.Protobuf.Reflection;

namespace Google.Protobuf
{
    // protobuf v21.12 csharp/src/Google.Protobuf/IMessage.cs
    public interface IMessage
    {
        // protobuf v21.12 csharp/src/Google.Protobuf/IMessage.cs
        void MergeFrom(CodedInputStream input);
        // protobuf v21.12 csharp/src/Google.Protobuf/IMessage.cs
        void WriteTo(CodedOutputStream output);
        // protobuf v21.12 csharp/src/Google.Protobuf/IMessage.cs
        int CalculateSize();
        // protobuf v21.12 csharp/src/Google.Protobuf/IMessage.cs
        MessageDescriptor Descriptor { get; }
    }

    // protobuf v21.12 csharp/src/Google.Protobuf/IMessage.cs
    public interface IMessage<T> : IMessage, IEquatable<T>, IDeepCloneable<T> where T : IMessage<T>
    {
        // protobuf v21.12 csharp/src/Google.Protobuf/IMessage.cs
        void MergeFrom(T message);
    }

    // protobuf v21.12 csharp/src/Google.Protobuf/IDeepCloneable.cs
    public interface IDeepCloneable<T>
    {
        // protobuf v21.12 csharp/src/Google.Protobuf/IDeepCloneable.cs
        T Clone();
    }

    // protobuf v21.12 csharp/src/Google.Protobuf/IBufferMessage.cs
    public interface IBufferMessage : IMessage
    {
        // protobuf v21.12 csharp/src/Google.Protobuf/IBufferMessage.cs
        void InternalMergeFrom(ref ParseContext ctx);
        // protobuf v21.12 csharp/src/Google.Protobuf/IBufferMessage.cs
        void InternalWriteTo(ref WriteContext ctx);
    }

    // protobuf v21.12 csharp/src/Google.Protobuf/ParseContext.cs
    public ref struct ParseContext
    {
        // protobuf v21.12 csharp/src/Google.Protobuf/ParseContext.cs
        public uint ReadTag() { throw null; }
        // protobuf v21.12 csharp/src/Google.Protobuf/ParseContext.cs
        public double ReadDouble() { throw null; }
        // protobuf v21.12 csharp/src/Google.Protobuf/ParseContext.cs
        public float ReadFloat() { throw null; }
        // protobuf v21.12 csharp/src/Google.Protobuf/ParseContext.cs
        public ulong ReadUInt64() { throw null; }
        // protobuf v21.12 csharp/src/Google.Protobuf/ParseContext.cs
        public long ReadInt64() { throw null; }
        // protobuf v21.12 csharp/src/Google.Protobuf/ParseContext.cs
        public int ReadInt32() { throw null; }
        // protobuf v21.12 csharp/src/Google.Protobuf/ParseContext.cs
        public bool ReadBool() { throw null; }
        // protobuf v21.12 csharp/src/Google.Protobuf/ParseContext.cs
        public string ReadString() { throw null; }
        // protobuf v21.12 csharp/src/Google.Protobuf/ParseContext.cs
        public void ReadMessage(IMessage message) { throw null; }
        // protobuf v21.12 csharp/src/Google.Protobuf/ParseContext.cs
        public ByteString ReadBytes() { throw null; }
        // protobuf v21.12 csharp/src/Google.Protobuf/ParseContext.cs
        public uint ReadUInt32() { throw null; }
        // protobuf v21.12 csharp/src/Google.Protobuf/ParseContext.cs
        public int ReadEnum() { throw null; }
    }

    // protobuf v21.12 csharp/src/Google.Protobuf/WriteContext.cs
    public ref struct WriteContext
    {
        // protobuf v21.12 csharp/src/Google.Protobuf/WriteContext.cs
        public void WriteDouble(double value) { throw null; }
        // protobuf v21.12 csharp/src/Google.Protobuf/WriteContext.cs
        public void WriteFloat(float value) { throw null; }
        // protobuf v21.12 csharp/src/Google.Protobuf/WriteContext.cs
        public void WriteUInt64(ulong value) { throw null; }
        // protobuf v21.12 csharp/src/Google.Protobuf/WriteContext.cs
        public void WriteInt64(long value) { throw null; }
        // protobuf v21.12 csharp/src/Google.Protobuf/WriteContext.cs
        public void WriteInt32(int value) { throw null; }
        // protobuf v21.12 csharp/src/Google.Protobuf/WriteContext.cs
        public void WriteBool(bool value) { throw null; }
        // protobuf v21.12 csharp/src/Google.Protobuf/WriteContext.cs
        public void WriteString(string value) { throw null; }
        // protobuf v21.12 csharp/src/Google.Protobuf/WriteContext.cs
        public void WriteMessage(IMessage value) { throw null; }
        // protobuf v21.12 csharp/src/Google.Protobuf/WriteContext.cs
        public void WriteBytes(ByteString value) { throw null; }
        // protobuf v21.12 csharp/src/Google.Protobuf/WriteContext.cs
        public void WriteUInt32(uint value) { throw null; }
        // protobuf v21.12 csharp/src/Google.Protobuf/WriteContext.cs
        public void WriteEnum(int value) { throw null; }
        // protobuf v21.12 csharp/src/Google.Protobuf/WriteContext.cs
        public void WriteRawTag(byte b1) { throw null; }
    }

    // protobuf v21.12 csharp/src/Google.Protobuf/CodedInputStream.cs
    public sealed class CodedInputStream : IDisposable
    {
        private CodedInputStream() { }
        // protobuf v21.12 csharp/src/Google.Protobuf/CodedInputStream.cs
        public void Dispose() { throw null; }
        // protobuf v21.12 csharp/src/Google.Protobuf/CodedInputStream.cs
        public uint ReadTag() { throw null; }
        // protobuf v21.12 csharp/src/Google.Protobuf/CodedInputStream.cs
        public double ReadDouble() { throw null; }
        // protobuf v21.12 csharp/src/Google.Protobuf/CodedInputStream.cs
        public float ReadFloat() { throw null; }
        // protobuf v21.12 csharp/src/Google.Protobuf/CodedInputStream.cs
        public ulong ReadUInt64() { throw null; }
        // protobuf v21.12 csharp/src/Google.Protobuf/CodedInputStream.cs
        public long ReadInt64() { throw null; }
        // protobuf v21.12 csharp/src/Google.Protobuf/CodedInputStream.cs
        public int ReadInt32() { throw null; }
        // protobuf v21.12 csharp/src/Google.Protobuf/CodedInputStream.cs
        public bool ReadBool() { throw null; }
        // protobuf v21.12 csharp/src/Google.Protobuf/CodedInputStream.cs
        public string ReadString() { throw null; }
        // protobuf v21.12 csharp/src/Google.Protobuf/CodedInputStream.cs
        public void ReadMessage(IMessage builder) { throw null; }
        // protobuf v21.12 csharp/src/Google.Protobuf/CodedInputStream.cs
        public ByteString ReadBytes() { throw null; }
        // protobuf v21.12 csharp/src/Google.Protobuf/CodedInputStream.cs
        public uint ReadUInt32() { throw null; }
        // protobuf v21.12 csharp/src/Google.Protobuf/CodedInputStream.cs
        public int ReadEnum() { throw null; }
        // protobuf v21.12 csharp/src/Google.Protobuf/CodedInputStream.cs
        public void ReadRawMessage(IMessage message) { throw null; }
    }

    // protobuf v21.12 csharp/src/Google.Protobuf/CodedOutputStream.cs (and CodedOutputStream.ComputeSize.cs, same partial class)
    public sealed partial class CodedOutputStream : IDisposable
    {
        private CodedOutputStream() { }
        // protobuf v21.12 csharp/src/Google.Protobuf/CodedOutputStream.cs
        public void Dispose() { throw null; }
        // protobuf v21.12 csharp/src/Google.Protobuf/CodedOutputStream.cs
        public void WriteDouble(double value) { throw null; }
        // protobuf v21.12 csharp/src/Google.Protobuf/CodedOutputStream.cs
        public void WriteFloat(float value) { throw null; }
        // protobuf v21.12 csharp/src/Google.Protobuf/CodedOutputStream.cs
        public void WriteUInt64(ulong value) { throw null; }
        // protobuf v21.12 csharp/src/Google.Protobuf/CodedOutputStream.cs
        public void WriteInt64(long value) { throw null; }
        // protobuf v21.12 csharp/src/Google.Protobuf/CodedOutputStream.cs
        public void WriteInt32(int value) { throw null; }
        // protobuf v21.12 csharp/src/Google.Protobuf/CodedOutputStream.cs
        public void WriteBool(bool value) { throw null; }
        // protobuf v21.12 csharp/src/Google.Protobuf/CodedOutputStream.cs
        public void WriteString(string value) { throw null; }
        // protobuf v21.12 csharp/src/Google.Protobuf/CodedOutputStream.cs
        public void WriteMessage(IMessage value) { throw null; }
        // protobuf v21.12 csharp/src/Google.Protobuf/CodedOutputStream.cs
        public void WriteRawMessage(IMessage value) { throw null; }
        // protobuf v21.12 csharp/src/Google.Protobuf/CodedOutputStream.cs
        public void WriteBytes(ByteString value) { throw null; }
        // protobuf v21.12 csharp/src/Google.Protobuf/CodedOutputStream.cs
        public void WriteUInt32(uint value) { throw null; }
        // protobuf v21.12 csharp/src/Google.Protobuf/CodedOutputStream.cs
        public void WriteEnum(int value) { throw null; }
        // protobuf v21.12 csharp/src/Google.Protobuf/CodedOutputStream.cs
        public void WriteRawTag(byte b1) { throw null; }

        // protobuf v21.12 csharp/src/Google.Protobuf/CodedOutputStream.ComputeSize.cs
        public static int ComputeUInt64Size(ulong value) { throw null; }
        // protobuf v21.12 csharp/src/Google.Protobuf/CodedOutputStream.ComputeSize.cs
        public static int ComputeInt64Size(long value) { throw null; }
        // protobuf v21.12 csharp/src/Google.Protobuf/CodedOutputStream.ComputeSize.cs
        public static int ComputeInt32Size(int value) { throw null; }
        // protobuf v21.12 csharp/src/Google.Protobuf/CodedOutputStream.ComputeSize.cs
        public static int ComputeStringSize(String value) { throw null; }
        // protobuf v21.12 csharp/src/Google.Protobuf/CodedOutputStream.ComputeSize.cs
        public static int ComputeMessageSize(IMessage value) { throw null; }
        // protobuf v21.12 csharp/src/Google.Protobuf/CodedOutputStream.ComputeSize.cs
        public static int ComputeBytesSize(ByteString value) { throw null; }
        // protobuf v21.12 csharp/src/Google.Protobuf/CodedOutputStream.ComputeSize.cs
        public static int ComputeUInt32Size(uint value) { throw null; }
        // protobuf v21.12 csharp/src/Google.Protobuf/CodedOutputStream.ComputeSize.cs
        public static int ComputeEnumSize(int value) { throw null; }
    }

    // protobuf v21.12 csharp/src/Google.Protobuf/ByteString.cs
    // (the real class also implements IEnumerable<byte> and IEquatable<ByteString>; unused here)
    public sealed class ByteString
    {
        private ByteString() { }
        // protobuf v21.12 csharp/src/Google.Protobuf/ByteString.cs
        public static ByteString Empty { get { throw null; } }
        // protobuf v21.12 csharp/src/Google.Protobuf/ByteString.cs
        public int Length { get { throw null; } }
        // protobuf v21.12 csharp/src/Google.Protobuf/ByteString.cs
        public byte[] ToByteArray() { throw null; }
        // protobuf v21.12 csharp/src/Google.Protobuf/ByteString.cs
        public static ByteString CopyFrom(params byte[] bytes) { throw null; }
        // protobuf v21.12 csharp/src/Google.Protobuf/ByteString.cs
        public static bool operator ==(ByteString lhs, ByteString rhs) { throw null; }
        // protobuf v21.12 csharp/src/Google.Protobuf/ByteString.cs
        public static bool operator !=(ByteString lhs, ByteString rhs) { throw null; }
        // protobuf v21.12 csharp/src/Google.Protobuf/ByteString.cs
        public override bool Equals(object obj) { throw null; }
        // protobuf v21.12 csharp/src/Google.Protobuf/ByteString.cs
        public override int GetHashCode() { throw null; }
        // protobuf v21.12 csharp/src/Google.Protobuf/ByteString.cs
        public void CopyTo(byte[] array, int position) { throw null; }
    }

    // protobuf v21.12 csharp/src/Google.Protobuf/MessageParser.cs
    public class MessageParser
    {
        internal MessageParser() { }
        // protobuf v21.12 csharp/src/Google.Protobuf/MessageParser.cs
        public IMessage ParseFrom(byte[] data) { throw null; }
    }

    // protobuf v21.12 csharp/src/Google.Protobuf/MessageParser.cs
    public sealed class MessageParser<T> : MessageParser where T : IMessage<T>
    {
        // protobuf v21.12 csharp/src/Google.Protobuf/MessageParser.cs
        public MessageParser(Func<T> factory) { throw null; }
        // protobuf v21.12 csharp/src/Google.Protobuf/MessageParser.cs
        public new T ParseFrom(byte[] data) { throw null; }
    }

    // protobuf v21.12 csharp/src/Google.Protobuf/FieldCodec.cs
    public static class FieldCodec
    {
        // protobuf v21.12 csharp/src/Google.Protobuf/FieldCodec.cs
        public static FieldCodec<string> ForString(uint tag) { throw null; }
        // protobuf v21.12 csharp/src/Google.Protobuf/FieldCodec.cs
        public static FieldCodec<ulong> ForUInt64(uint tag) { throw null; }
        // protobuf v21.12 csharp/src/Google.Protobuf/FieldCodec.cs
        public static FieldCodec<double> ForDouble(uint tag) { throw null; }
        // protobuf v21.12 csharp/src/Google.Protobuf/FieldCodec.cs
        public static FieldCodec<T> ForMessage<T>(uint tag, MessageParser<T> parser) where T : class, IMessage<T> { throw null; }
    }

    // protobuf v21.12 csharp/src/Google.Protobuf/FieldCodec.cs
    public sealed class FieldCodec<T>
    {
        private FieldCodec() { }
    }

    // protobuf v21.12 csharp/src/Google.Protobuf/UnknownFieldSet.cs
    public sealed partial class UnknownFieldSet
    {
        private UnknownFieldSet() { }
        // protobuf v21.12 csharp/src/Google.Protobuf/UnknownFieldSet.cs
        public void WriteTo(CodedOutputStream output) { throw null; }
        // protobuf v21.12 csharp/src/Google.Protobuf/UnknownFieldSet.cs
        public void WriteTo(ref WriteContext ctx) { throw null; }
        // protobuf v21.12 csharp/src/Google.Protobuf/UnknownFieldSet.cs
        public int CalculateSize() { throw null; }
        // protobuf v21.12 csharp/src/Google.Protobuf/UnknownFieldSet.cs
        public override bool Equals(object other) { throw null; }
        // protobuf v21.12 csharp/src/Google.Protobuf/UnknownFieldSet.cs
        public override int GetHashCode() { throw null; }
        // protobuf v21.12 csharp/src/Google.Protobuf/UnknownFieldSet.cs
        public static UnknownFieldSet MergeFieldFrom(UnknownFieldSet unknownFields, CodedInputStream input) { throw null; }
        // protobuf v21.12 csharp/src/Google.Protobuf/UnknownFieldSet.cs
        public static UnknownFieldSet MergeFieldFrom(UnknownFieldSet unknownFields, ref ParseContext ctx) { throw null; }
        // protobuf v21.12 csharp/src/Google.Protobuf/UnknownFieldSet.cs
        public static UnknownFieldSet MergeFrom(UnknownFieldSet unknownFields, UnknownFieldSet other) { throw null; }
        // protobuf v21.12 csharp/src/Google.Protobuf/UnknownFieldSet.cs
        public static UnknownFieldSet Clone(UnknownFieldSet other) { throw null; }
    }

    // protobuf v21.12 csharp/src/Google.Protobuf/MessageExtensions.cs
    public static class MessageExtensions
    {
        // protobuf v21.12 csharp/src/Google.Protobuf/MessageExtensions.cs
        public static byte[] ToByteArray(this IMessage message) { throw null; }
    }

    // protobuf v21.12 csharp/src/Google.Protobuf/JsonFormatter.cs
    public sealed class JsonFormatter
    {
        private JsonFormatter() { }
        // protobuf v21.12 csharp/src/Google.Protobuf/JsonFormatter.cs
        public static string ToDiagnosticString(IMessage message) { throw null; }
    }

    // protobuf v21.12 csharp/src/Google.Protobuf/ProtoPreconditions.cs
    public static class ProtoPreconditions
    {
        // protobuf v21.12 csharp/src/Google.Protobuf/ProtoPreconditions.cs
        public static T CheckNotNull<T>(T value, string name) where T : class { throw null; }
    }

    // protobuf v21.12 csharp/src/Google.Protobuf/Extension.cs
    public abstract class Extension
    {
        internal Extension() { }
    }
}

namespace Google.Protobuf.Collections
{
    // protobuf v21.12 csharp/src/Google.Protobuf/Collections/RepeatedField.cs
    // (the real class implements IList<T>, IList, IDeepCloneable and IEquatable; the package
    // only enumerates it, so IEnumerable<T> is the interface stubbed)
    public sealed class RepeatedField<T> : IEnumerable<T>
    {
        // protobuf v21.12 csharp/src/Google.Protobuf/Collections/RepeatedField.cs (implicit default constructor)
        public RepeatedField() { }
        // protobuf v21.12 csharp/src/Google.Protobuf/Collections/RepeatedField.cs
        public RepeatedField<T> Clone() { throw null; }
        // protobuf v21.12 csharp/src/Google.Protobuf/Collections/RepeatedField.cs
        public void AddEntriesFrom(CodedInputStream input, FieldCodec<T> codec) { throw null; }
        // protobuf v21.12 csharp/src/Google.Protobuf/Collections/RepeatedField.cs
        public void AddEntriesFrom(ref ParseContext ctx, FieldCodec<T> codec) { throw null; }
        // protobuf v21.12 csharp/src/Google.Protobuf/Collections/RepeatedField.cs
        public int CalculateSize(FieldCodec<T> codec) { throw null; }
        // protobuf v21.12 csharp/src/Google.Protobuf/Collections/RepeatedField.cs
        public void WriteTo(CodedOutputStream output, FieldCodec<T> codec) { throw null; }
        // protobuf v21.12 csharp/src/Google.Protobuf/Collections/RepeatedField.cs
        public void WriteTo(ref WriteContext ctx, FieldCodec<T> codec) { throw null; }
        // protobuf v21.12 csharp/src/Google.Protobuf/Collections/RepeatedField.cs
        public void Add(T item) { throw null; }
        // protobuf v21.12 csharp/src/Google.Protobuf/Collections/RepeatedField.cs
        public bool Contains(T item) { throw null; }
        // protobuf v21.12 csharp/src/Google.Protobuf/Collections/RepeatedField.cs
        public int Count { get { throw null; } }
        // protobuf v21.12 csharp/src/Google.Protobuf/Collections/RepeatedField.cs
        public void AddRange(IEnumerable<T> values) { throw null; }
        // protobuf v21.12 csharp/src/Google.Protobuf/Collections/RepeatedField.cs
        public void Add(IEnumerable<T> values) { throw null; }
        // protobuf v21.12 csharp/src/Google.Protobuf/Collections/RepeatedField.cs
        public IEnumerator<T> GetEnumerator() { throw null; }
        // protobuf v21.12 csharp/src/Google.Protobuf/Collections/RepeatedField.cs
        IEnumerator IEnumerable.GetEnumerator() { throw null; }
        // protobuf v21.12 csharp/src/Google.Protobuf/Collections/RepeatedField.cs
        public override bool Equals(object obj) { throw null; }
        // protobuf v21.12 csharp/src/Google.Protobuf/Collections/RepeatedField.cs
        public override int GetHashCode() { throw null; }
        // protobuf v21.12 csharp/src/Google.Protobuf/Collections/RepeatedField.cs
        public bool Equals(RepeatedField<T> other) { throw null; }
        // protobuf v21.12 csharp/src/Google.Protobuf/Collections/RepeatedField.cs
        public T this[int index] { get { throw null; } set { throw null; } }
    }

    // protobuf v21.12 csharp/src/Google.Protobuf/Collections/ProtobufEqualityComparers.cs
    public static class ProtobufEqualityComparers
    {
        // protobuf v21.12 csharp/src/Google.Protobuf/Collections/ProtobufEqualityComparers.cs
        public static EqualityComparer<double> BitwiseDoubleEqualityComparer { get { throw null; } }
        // protobuf v21.12 csharp/src/Google.Protobuf/Collections/ProtobufEqualityComparers.cs
        public static EqualityComparer<float> BitwiseSingleEqualityComparer { get { throw null; } }
    }
}

namespace Google.Protobuf.Reflection
{
    // protobuf v21.12 csharp/src/Google.Protobuf/Reflection/FileDescriptor.cs
    public sealed class FileDescriptor
    {
        private FileDescriptor() { }
        // protobuf v21.12 csharp/src/Google.Protobuf/Reflection/FileDescriptor.cs
        public IList<MessageDescriptor> MessageTypes { get { throw null; } }
        // protobuf v21.12 csharp/src/Google.Protobuf/Reflection/FileDescriptor.cs
        public IList<ServiceDescriptor> Services { get { throw null; } }
        // protobuf v21.12 csharp/src/Google.Protobuf/Reflection/FileDescriptor.cs
        public static FileDescriptor FromGeneratedCode(byte[] descriptorData, FileDescriptor[] dependencies, GeneratedClrTypeInfo generatedCodeInfo) { throw null; }
    }

    // protobuf v21.12 csharp/src/Google.Protobuf/Reflection/MessageDescriptor.cs
    public sealed class MessageDescriptor
    {
        private MessageDescriptor() { }
    }

    // protobuf v21.12 csharp/src/Google.Protobuf/Reflection/ServiceDescriptor.cs
    public sealed class ServiceDescriptor
    {
        private ServiceDescriptor() { }
    }

    // protobuf v21.12 csharp/src/Google.Protobuf/Reflection/GeneratedClrTypeInfo.cs
    public sealed class GeneratedClrTypeInfo
    {
        // protobuf v21.12 csharp/src/Google.Protobuf/Reflection/GeneratedClrTypeInfo.cs
        public GeneratedClrTypeInfo(Type clrType, MessageParser parser, string[] propertyNames, string[] oneofNames, Type[] nestedEnums, Extension[] extensions, GeneratedClrTypeInfo[] nestedTypes) { throw null; }
        // protobuf v21.12 csharp/src/Google.Protobuf/Reflection/GeneratedClrTypeInfo.cs
        public GeneratedClrTypeInfo(Type clrType, MessageParser parser, string[] propertyNames, string[] oneofNames, Type[] nestedEnums, GeneratedClrTypeInfo[] nestedTypes) { throw null; }
        // protobuf v21.12 csharp/src/Google.Protobuf/Reflection/GeneratedClrTypeInfo.cs
        public GeneratedClrTypeInfo(Type[] nestedEnums, Extension[] extensions, GeneratedClrTypeInfo[] nestedTypes) { throw null; }
        // protobuf v21.12 csharp/src/Google.Protobuf/Reflection/GeneratedClrTypeInfo.cs
        public GeneratedClrTypeInfo(Type[] nestedEnums, GeneratedClrTypeInfo[] nestedTypes) { throw null; }
    }

    // protobuf v21.12 csharp/src/Google.Protobuf/Reflection/OriginalNameAttribute.cs
    [AttributeUsage(AttributeTargets.Field)]
    public class OriginalNameAttribute : Attribute
    {
        // protobuf v21.12 csharp/src/Google.Protobuf/Reflection/OriginalNameAttribute.cs
        public OriginalNameAttribute(string name) { throw null; }
    }
}
