// API-surface stub of Grpc.Core.Api 2.61.0 (NuGet Grpc.Core.Api 2.61.0, netstandard2.1): only
// the members the package's Transport code and its generated client (ServiceGrpc.g.cs) use.
// Every signature is copied from the source file named above it, at tag v2.61.0 of
// github.com/grpc/grpc-dotnet, and was checked against the released Grpc.Core.Api.dll 2.61.0
// (tests/test_unity_package.py can do that again where the DLLs are at hand).
// Bodies never run: the stub is compiled only to type-check the package.
using System;
using System.Threading;
using System.Threading.Tasks;

namespace Grpc.Core
{
    // grpc-dotnet v2.61.0 src/Grpc.Core.Api/StatusCode.cs
    public enum StatusCode
    {
        OK = 0,
        Cancelled = 1,
        Unknown = 2,
        InvalidArgument = 3,
        DeadlineExceeded = 4,
        NotFound = 5,
        AlreadyExists = 6,
        PermissionDenied = 7,
        Unauthenticated = 16,
        ResourceExhausted = 8,
        FailedPrecondition = 9,
        Aborted = 10,
        OutOfRange = 11,
        Unimplemented = 12,
        Internal = 13,
        Unavailable = 14,
        DataLoss = 15
    }

    // grpc-dotnet v2.61.0 src/Grpc.Core.Api/Status.cs
    public struct Status
    {
        // grpc-dotnet v2.61.0 src/Grpc.Core.Api/Status.cs
        public StatusCode StatusCode { get { throw null; } }
        // grpc-dotnet v2.61.0 src/Grpc.Core.Api/Status.cs
        public string Detail { get { throw null; } }
    }

    // grpc-dotnet v2.61.0 src/Grpc.Core.Api/RpcException.cs
    public class RpcException : Exception
    {
        // grpc-dotnet v2.61.0 src/Grpc.Core.Api/RpcException.cs
        public RpcException(Status status) { throw null; }
        // grpc-dotnet v2.61.0 src/Grpc.Core.Api/RpcException.cs
        public Status Status { get { throw null; } }
        // grpc-dotnet v2.61.0 src/Grpc.Core.Api/RpcException.cs
        public StatusCode StatusCode { get { throw null; } }
    }

    // grpc-dotnet v2.61.0 src/Grpc.Core.Api/Metadata.cs
    // (the real class implements IList<Metadata.Entry>; the package only adds string entries)
    public sealed class Metadata
    {
        // grpc-dotnet v2.61.0 src/Grpc.Core.Api/Metadata.cs
        public Metadata() { throw null; }
        // grpc-dotnet v2.61.0 src/Grpc.Core.Api/Metadata.cs
        public void Add(string key, string value) { throw null; }
    }

    // grpc-dotnet v2.61.0 src/Grpc.Core.Api/WriteOptions.cs (a parameter type of CallOptions' constructor)
    public class WriteOptions
    {
        private WriteOptions() { }
    }

    // grpc-dotnet v2.61.0 src/Grpc.Core.Api/ContextPropagationToken.cs (a parameter type of CallOptions' constructor)
    public abstract class ContextPropagationToken
    {
        internal ContextPropagationToken() { }
    }

    // grpc-dotnet v2.61.0 src/Grpc.Core.Api/CallCredentials.cs (a parameter type of CallOptions' constructor)
    public abstract class CallCredentials
    {
        internal CallCredentials() { }
    }

    // grpc-dotnet v2.61.0 src/Grpc.Core.Api/CallOptions.cs
    public struct CallOptions
    {
        // grpc-dotnet v2.61.0 src/Grpc.Core.Api/CallOptions.cs
        public CallOptions(Metadata headers = null, DateTime? deadline = null, CancellationToken cancellationToken = default(CancellationToken),
                           WriteOptions writeOptions = null, ContextPropagationToken propagationToken = null, CallCredentials credentials = null)
        {
            throw null;
        }
    }

    // grpc-dotnet v2.61.0 src/Grpc.Core.Api/Method.cs
    public enum MethodType
    {
        Unary,
        ClientStreaming,
        ServerStreaming,
        DuplexStreaming
    }

    // grpc-dotnet v2.61.0 src/Grpc.Core.Api/Method.cs
    public class Method<TRequest, TResponse>
    {
        // grpc-dotnet v2.61.0 src/Grpc.Core.Api/Method.cs
        public Method(MethodType type, string serviceName, string name, Marshaller<TRequest> requestMarshaller, Marshaller<TResponse> responseMarshaller) { throw null; }
    }

    // grpc-dotnet v2.61.0 src/Grpc.Core.Api/Marshaller.cs
    public class Marshaller<T>
    {
        // grpc-dotnet v2.61.0 src/Grpc.Core.Api/Marshaller.cs
        public Marshaller(Func<T, byte[]> serializer, Func<byte[], T> deserializer) { throw null; }
    }

    // grpc-dotnet v2.61.0 src/Grpc.Core.Api/Marshaller.cs
    public static class Marshallers
    {
        // grpc-dotnet v2.61.0 src/Grpc.Core.Api/Marshaller.cs
        public static Marshaller<T> Create<T>(Func<T, byte[]> serializer, Func<byte[], T> deserializer) { throw null; }
    }

    // grpc-dotnet v2.61.0 src/Grpc.Core.Api/IAsyncStreamReader.cs
    public interface IAsyncStreamReader<out T>
    {
        // grpc-dotnet v2.61.0 src/Grpc.Core.Api/IAsyncStreamReader.cs
        T Current { get; }
        // grpc-dotnet v2.61.0 src/Grpc.Core.Api/IAsyncStreamReader.cs
        Task<bool> MoveNext(CancellationToken cancellationToken);
    }

    // grpc-dotnet v2.61.0 src/Grpc.Core.Api/IAsyncStreamWriter.cs
    // (its WriteAsync(T, CancellationToken) is a default interface method, which C# 7.2 cannot
    // declare; the package does not call it)
    public interface IAsyncStreamWriter<in T>
    {
        // grpc-dotnet v2.61.0 src/Grpc.Core.Api/IAsyncStreamWriter.cs
        Task WriteAsync(T message);
    }

    // grpc-dotnet v2.61.0 src/Grpc.Core.Api/IClientStreamWriter.cs
    public interface IClientStreamWriter<in T> : IAsyncStreamWriter<T>
    {
        // grpc-dotnet v2.61.0 src/Grpc.Core.Api/IClientStreamWriter.cs
        Task CompleteAsync();
    }

    // grpc-dotnet v2.61.0 src/Grpc.Core.Api/AsyncUnaryCall.cs
    public sealed class AsyncUnaryCall<TResponse> : IDisposable
    {
        private AsyncUnaryCall() { }
        // grpc-dotnet v2.61.0 src/Grpc.Core.Api/AsyncUnaryCall.cs
        public Task<TResponse> ResponseAsync { get { throw null; } }
        // grpc-dotnet v2.61.0 src/Grpc.Core.Api/AsyncUnaryCall.cs
        public void Dispose() { throw null; }
    }

    // grpc-dotnet v2.61.0 src/Grpc.Core.Api/AsyncClientStreamingCall.cs
    public sealed class AsyncClientStreamingCall<TRequest, TResponse> : IDisposable
    {
        private AsyncClientStreamingCall() { }
        // grpc-dotnet v2.61.0 src/Grpc.Core.Api/AsyncClientStreamingCall.cs
        public Task<TResponse> ResponseAsync { get { throw null; } }
        // grpc-dotnet v2.61.0 src/Grpc.Core.Api/AsyncClientStreamingCall.cs
        public IClientStreamWriter<TRequest> RequestStream { get { throw null; } }
        // grpc-dotnet v2.61.0 src/Grpc.Core.Api/AsyncClientStreamingCall.cs
        public void Dispose() { throw null; }
    }

    // grpc-dotnet v2.61.0 src/Grpc.Core.Api/AsyncDuplexStreamingCall.cs
    public sealed class AsyncDuplexStreamingCall<TRequest, TResponse> : IDisposable
    {
        private AsyncDuplexStreamingCall() { }
        // grpc-dotnet v2.61.0 src/Grpc.Core.Api/AsyncDuplexStreamingCall.cs
        public IAsyncStreamReader<TResponse> ResponseStream { get { throw null; } }
        // grpc-dotnet v2.61.0 src/Grpc.Core.Api/AsyncDuplexStreamingCall.cs
        public IClientStreamWriter<TRequest> RequestStream { get { throw null; } }
        // grpc-dotnet v2.61.0 src/Grpc.Core.Api/AsyncDuplexStreamingCall.cs
        public void Dispose() { throw null; }
    }

    // grpc-dotnet v2.61.0 src/Grpc.Core.Api/CallInvoker.cs
    public abstract class CallInvoker
    {
        // grpc-dotnet v2.61.0 src/Grpc.Core.Api/CallInvoker.cs
        public abstract TResponse BlockingUnaryCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string host, CallOptions options, TRequest request)
            where TRequest : class where TResponse : class;
        // grpc-dotnet v2.61.0 src/Grpc.Core.Api/CallInvoker.cs
        public abstract AsyncUnaryCall<TResponse> AsyncUnaryCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string host, CallOptions options, TRequest request)
            where TRequest : class where TResponse : class;
        // grpc-dotnet v2.61.0 src/Grpc.Core.Api/CallInvoker.cs
        public abstract AsyncClientStreamingCall<TRequest, TResponse> AsyncClientStreamingCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string host, CallOptions options)
            where TRequest : class where TResponse : class;
        // grpc-dotnet v2.61.0 src/Grpc.Core.Api/CallInvoker.cs
        public abstract AsyncDuplexStreamingCall<TRequest, TResponse> AsyncDuplexStreamingCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string host, CallOptions options)
            where TRequest : class where TResponse : class;
    }

    // grpc-dotnet v2.61.0 src/Grpc.Core.Api/ChannelBase.cs
    public abstract class ChannelBase
    {
        // grpc-dotnet v2.61.0 src/Grpc.Core.Api/ChannelBase.cs
        protected ChannelBase(string target) { throw null; }
        // grpc-dotnet v2.61.0 src/Grpc.Core.Api/ChannelBase.cs
        public abstract CallInvoker CreateCallInvoker();
    }

    // grpc-dotnet v2.61.0 src/Grpc.Core.Api/ClientBase.cs
    public abstract class ClientBase<T> : ClientBase where T : ClientBase<T>
    {
        // grpc-dotnet v2.61.0 src/Grpc.Core.Api/ClientBase.cs
        protected ClientBase() { throw null; }
        // grpc-dotnet v2.61.0 src/Grpc.Core.Api/ClientBase.cs
        protected ClientBase(ClientBaseConfiguration configuration) { throw null; }
        // grpc-dotnet v2.61.0 src/Grpc.Core.Api/ClientBase.cs
        public ClientBase(ChannelBase channel) { throw null; }
        // grpc-dotnet v2.61.0 src/Grpc.Core.Api/ClientBase.cs
        public ClientBase(CallInvoker callInvoker) { throw null; }
        // grpc-dotnet v2.61.0 src/Grpc.Core.Api/ClientBase.cs
        protected abstract T NewInstance(ClientBaseConfiguration configuration);
    }

    // grpc-dotnet v2.61.0 src/Grpc.Core.Api/ClientBase.cs
    public abstract class ClientBase
    {
        // grpc-dotnet v2.61.0 src/Grpc.Core.Api/ClientBase.cs
        protected ClientBase() { throw null; }
        // grpc-dotnet v2.61.0 src/Grpc.Core.Api/ClientBase.cs
        protected ClientBase(ClientBaseConfiguration configuration) { throw null; }
        // grpc-dotnet v2.61.0 src/Grpc.Core.Api/ClientBase.cs
        public ClientBase(ChannelBase channel) { throw null; }
        // grpc-dotnet v2.61.0 src/Grpc.Core.Api/ClientBase.cs
        public ClientBase(CallInvoker callInvoker) { throw null; }
        // grpc-dotnet v2.61.0 src/Grpc.Core.Api/ClientBase.cs
        protected CallInvoker CallInvoker { get { throw null; } }

        // grpc-dotnet v2.61.0 src/Grpc.Core.Api/ClientBase.cs
        protected internal class ClientBaseConfiguration
        {
            private ClientBaseConfiguration() { }
        }
    }
}
