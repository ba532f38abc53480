namespace WorldBridge.Core
{
    /// <summary>
    /// Versions of this client. <see cref="ClientVersion"/> equals the package.json version and
    /// the Python package version (they move in lockstep); the protocol version is what the
    /// handshake sends (the server refuses a major mismatch).
    /// </summary>
    public static class WorldBridgeVersion
    {
        /// <summary>The client (package) version.</summary>
        public const string ClientVersion = "0.1.0";

        /// <summary>Wire protocol major version.</summary>
        public const uint ProtocolMajor = 1;

        /// <summary>Wire protocol minor version.</summary>
        public const uint ProtocolMinor = 1;

        /// <summary>Client name sent in ClientHello, for the server's logs.</summary>
        public const string ClientName = "worldbridge-unity/" + ClientVersion;
    }
}
