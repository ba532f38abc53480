using System;

namespace WorldBridge.Transport
{
    /// <summary>
    /// The server speaks another major protocol version; nothing will work until client and
    /// server are upgraded to matching versions. The message names both versions.
    /// </summary>
    public sealed class ProtocolMismatchException : Exception
    {
        /// <summary>Creates the exception.</summary>
        public ProtocolMismatchException(string message, Exception inner = null) : base(message, inner)
        {
        }
    }
}
