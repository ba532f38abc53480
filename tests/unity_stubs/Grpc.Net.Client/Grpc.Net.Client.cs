// API-surface stub of Grpc.Net.Client 2.61.0 (NuGet Grpc.Net.Client 2.61.0, netstandard2.1):
// only the members Transport/BridgeConnection.cs uses. Every signature is copied from the
// source file named above it, at tag v2.61.0 of github.com/grpc/grpc-dotnet, and was checked
// against the released Grpc.Net.Client.dll 2.61.0.
// Bodies never run: the stub is compiled only to type-check the package.
using System;
using System.Net.Http;
using Grpc.Core;

namespace Grpc.Net.Client
{
    // grpc-dotnet v2.61.0 src/Grpc.Net.Client/GrpcChannel.cs
    public sealed class GrpcChannel : ChannelBase, IDisposable
    {
        private GrpcChannel() : base(null) { }
        // grpc-dotnet v2.61.0 src/Grpc.Net.Client/GrpcChannel.cs
        public override CallInvoker CreateCallInvoker() { throw null; }
        // grpc-dotnet v2.61.0 src/Grpc.Net.Client/GrpcChannel.cs
        public static GrpcChannel ForAddress(string address, GrpcChannelOptions channelOptions) { throw null; }
        // grpc-dotnet v2.61.0 src/Grpc.Net.Client/GrpcChannel.cs
        public void Dispose() { throw null; }
    }

    // grpc-dotnet v2.61.0 src/Grpc.Net.Client/GrpcChannelOptions.cs
    public sealed class GrpcChannelOptions
    {
        // grpc-dotnet v2.61.0 src/Grpc.Net.Client/GrpcChannelOptions.cs
        public GrpcChannelOptions() { throw null; }
        // grpc-dotnet v2.61.0 src/Grpc.Net.Client/GrpcChannelOptions.cs
        public int? MaxSendMessageSize { get { throw null; } set { throw null; } }
        // grpc-dotnet v2.61.0 src/Grpc.Net.Client/GrpcChannelOptions.cs
        public int? MaxReceiveMessageSize { get { throw null; } set { throw null; } }
        // grpc-dotnet v2.61.0 src/Grpc.Net.Client/GrpcChannelOptions.cs
        public HttpMessageHandler HttpHandler { get { throw null; } set { throw null; } }
        // grpc-dotnet v2.61.0 src/Grpc.Net.Client/GrpcChannelOptions.cs
        public bool DisposeHttpClient { get { throw null; } set { throw null; } }
    }
}
