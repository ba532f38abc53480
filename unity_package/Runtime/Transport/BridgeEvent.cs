using WorldBridge.V1;

namespace WorldBridge.Transport
{
    /// <summary>What a <see cref="BridgeEvent"/> reports.</summary>
    public enum BridgeEventKind
    {
        /// <summary>Handshake done and session open; <see cref="BridgeEvent.Server"/> and <see cref="BridgeEvent.Session"/> are set.</summary>
        Connected,
        /// <summary>A generated frame; <see cref="BridgeEvent.Frame"/> is set.</summary>
        Frame,
        /// <summary>One request failed (Frame.error); the stream lives on.</summary>
        FrameError,
        /// <summary>The connection dropped; a reconnect follows after a backoff delay.</summary>
        Disconnected,
        /// <summary>A permanent failure (wrong token, protocol mismatch, rejected session); no retry.</summary>
        Failed,
    }

    /// <summary>One event from the network thread to the main thread.</summary>
    public sealed class BridgeEvent
    {
        /// <summary>Kind of event.</summary>
        public BridgeEventKind Kind;
        /// <summary>The frame (Frame and FrameError).</summary>
        public Frame Frame;
        /// <summary>Server info (Connected).</summary>
        public ServerInfo Server;
        /// <summary>The opened session (Connected).</summary>
        public OpenSessionResponse Session;
        /// <summary>gRPC status code (FrameError, Disconnected, Failed); 0 otherwise.</summary>
        public int Code;
        /// <summary>Human-readable message (errors, warnings).</summary>
        public string Message;
        /// <summary>Client-measured round trip of the frame in milliseconds (Frame): send to receive.</summary>
        public double RoundTripMs;
    }
}
