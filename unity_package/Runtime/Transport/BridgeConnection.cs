using System;
using System.Threading;
using System.Threading.Tasks;
using Cysharp.Net.Http;
using Grpc.Core;
using Grpc.Net.Client;
using WorldBridge.Core;
using WorldBridge.V1;
using WorldBridgeClient = global::WorldBridge.V1.WorldBridge.WorldBridgeClient;

namespace WorldBridge.Transport
{
    /// <summary>
    /// One gRPC channel to a WorldBridge server and its unary calls: handshake
    /// (GetServerInfo), OpenSession and CloseSession. Thread-safe; use it off the main thread.
    /// </summary>
    /// <remarks>
    /// The channel runs over Cysharp's YetAnotherHttpHandler (HTTP/2 for Unity) with
    /// <c>Http2Only</c>: cleartext h2c for http:// addresses, TLS (Rustls) for https://.
    /// Every call carries <c>authorization: Bearer &lt;token&gt;</c> when a token is set.
    /// </remarks>
    public sealed class BridgeConnection : IDisposable
    {
        private readonly BridgeOptions _options;
        private readonly GrpcChannel _channel;

        /// <summary>Opens a channel (lazily: nothing is sent until the first call).</summary>
        /// <exception cref="ArgumentNullException">options is null.</exception>
        /// <exception cref="ArgumentException">options are invalid (the message names the field).</exception>
        public BridgeConnection(BridgeOptions options)
        {
            if (options == null)
            {
                throw new ArgumentNullException("options");
            }
            options.Validate();
            _options = options;
            _channel = CreateChannel(options);
            Client = new WorldBridgeClient(_channel);
            Headers = new Metadata();
            if (!string.IsNullOrEmpty(options.Token))
            {
                Headers.Add("authorization", "Bearer " + options.Token);
            }
        }

        /// <summary>The generated service client.</summary>
        public WorldBridgeClient Client { get; private set; }

        /// <summary>Metadata sent with every call (authorization).</summary>
        public Metadata Headers { get; private set; }

        /// <summary>The options this connection was made with.</summary>
        public BridgeOptions Options { get { return _options; } }

        /// <summary>Creates the GrpcChannel over YetAnotherHttpHandler for <paramref name="options"/>.</summary>
        public static GrpcChannel CreateChannel(BridgeOptions options)
        {
            var handler = new YetAnotherHttpHandler { Http2Only = true };
            if (options.UsesTls && !string.IsNullOrEmpty(options.RootCertificatesPem))
            {
                handler.RootCertificates = options.RootCertificatesPem;
            }
            return GrpcChannel.ForAddress(options.Address, new GrpcChannelOptions
            {
                HttpHandler = handler,
                DisposeHttpClient = true,
                MaxReceiveMessageSize = options.MaxMessageBytes,
                MaxSendMessageSize = options.MaxMessageBytes,
            });
        }

        /// <summary>The ClientHello this client sends: protocol version and client name.</summary>
        public static ClientHello Hello()
        {
            return new ClientHello
            {
                Protocol = new ProtocolVersion { Major = WorldBridgeVersion.ProtocolMajor, Minor = WorldBridgeVersion.ProtocolMinor },
                ClientName = WorldBridgeVersion.ClientName,
            };
        }

        /// <summary>UTC deadline <paramref name="timeout"/> from now.</summary>
        public static DateTime Deadline(TimeSpan timeout)
        {
            return DateTime.UtcNow + timeout;
        }

        /// <summary>
        /// GetServerInfo with this client's hello; checks the protocol major version.
        /// </summary>
        /// <exception cref="ProtocolMismatchException">The server's major protocol version differs (the message names both).</exception>
        /// <exception cref="RpcException">The call failed (UNAVAILABLE when no server listens, UNAUTHENTICATED for a wrong token).</exception>
        public async Task<ServerInfo> HandshakeAsync(CancellationToken cancellationToken)
        {
            ServerInfo info;
            try
            {
                info = await Client.GetServerInfoAsync(new GetServerInfoRequest { Hello = Hello() }, Headers,
                    Deadline(_options.UnaryTimeout), cancellationToken).ResponseAsync.ConfigureAwait(false);
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.FailedPrecondition)
            {
                throw new ProtocolMismatchException(string.Format(
                    "server refused client protocol {0}.{1}: {2}", WorldBridgeVersion.ProtocolMajor,
                    WorldBridgeVersion.ProtocolMinor, e.Status.Detail), e);
            }
            uint major = info.Protocol != null ? info.Protocol.Major : 0;
            uint minor = info.Protocol != null ? info.Protocol.Minor : 0;
            if (major != WorldBridgeVersion.ProtocolMajor)
            {
                throw new ProtocolMismatchException(string.Format(
                    "protocol mismatch: server {0} speaks {1}.{2}, this client (WorldBridge Unity {3}) speaks {4}.{5}; " +
                    "install matching versions of the server and the Unity package",
                    _options.Address, major, minor, WorldBridgeVersion.ClientVersion,
                    WorldBridgeVersion.ProtocolMajor, WorldBridgeVersion.ProtocolMinor));
            }
            return info;
        }

        /// <summary>OpenSession; the request is cloned and given this client's hello.</summary>
        /// <exception cref="RpcException">The call failed (INVALID_ARGUMENT names the bad field, e.g. no reference view with depth).</exception>
        public async Task<OpenSessionResponse> OpenSessionAsync(OpenSessionRequest request, CancellationToken cancellationToken)
        {
            OpenSessionRequest sent = request.Clone();
            sent.Hello = Hello();
            return await Client.OpenSessionAsync(sent, Headers, Deadline(_options.OpenSessionTimeout), cancellationToken)
                .ResponseAsync.ConfigureAwait(false);
        }

        /// <summary>CloseSession.</summary>
        /// <exception cref="RpcException">The call failed (NOT_FOUND for an unknown session).</exception>
        public async Task<CloseSessionResponse> CloseSessionAsync(string sessionId, CancellationToken cancellationToken)
        {
            return await Client.CloseSessionAsync(new CloseSessionRequest { SessionId = sessionId }, Headers,
                Deadline(_options.UnaryTimeout), cancellationToken).ResponseAsync.ConfigureAwait(false);
        }

        /// <summary>
        /// True for failures that retrying cannot fix: wrong token or protocol, a request the
        /// server rejects, or a method it does not have.
        /// </summary>
        public static bool IsPermanent(Exception e)
        {
            if (e is ProtocolMismatchException || e is ArgumentException)
            {
                return true;
            }
            var rpc = e as RpcException;
            if (rpc == null)
            {
                return false;
            }
            switch (rpc.StatusCode)
            {
                case StatusCode.Unauthenticated:
                case StatusCode.PermissionDenied:
                case StatusCode.InvalidArgument:
                case StatusCode.FailedPrecondition:
                case StatusCode.Unimplemented:
                case StatusCode.AlreadyExists:
                    return true;
                default:
                    return false;
            }
        }

        /// <summary>Shuts the channel down.</summary>
        public void Dispose()
        {
            _channel.Dispose();
        }
    }
}
