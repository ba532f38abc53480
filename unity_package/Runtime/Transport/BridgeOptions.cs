using System;

namespace WorldBridge.Transport
{
    /// <summary>
    /// How to reach a WorldBridge server and how patient to be. Plain data; call
    /// <see cref="Validate"/> before use (the transport does).
    /// </summary>
    public sealed class BridgeOptions
    {
        /// <summary>
        /// Server address: <c>http://host:port</c> for cleartext HTTP/2 (h2c; the default
        /// <c>worldbridge serve</c> binds 127.0.0.1:50051) or <c>https://host:port</c> for TLS.
        /// </summary>
        public string Address = "http://127.0.0.1:50051";

        /// <summary>Shared secret sent as <c>authorization: Bearer &lt;token&gt;</c>; empty sends none.</summary>
        public string Token = "";

        /// <summary>PEM root certificates for https:// servers with a private CA; empty uses the built-in Mozilla roots.</summary>
        public string RootCertificatesPem = "";

        /// <summary>Deadline of GetServerInfo and CloseSession.</summary>
        public TimeSpan UnaryTimeout = TimeSpan.FromSeconds(10);

        /// <summary>Deadline of OpenSession (the server lifts the reference views into its memory).</summary>
        public TimeSpan OpenSessionTimeout = TimeSpan.FromSeconds(60);

        /// <summary>Largest message sent or received, bytes (the server's default limit is 64 MiB).</summary>
        public int MaxMessageBytes = 64 * 1024 * 1024;

        /// <summary>Frame requests sent and unanswered at once (newest pose wins beyond that).</summary>
        public int MaxInFlight = 2;

        /// <summary>Forget an unanswered frame request after this long.</summary>
        public TimeSpan StaleAfter = TimeSpan.FromSeconds(5);

        /// <summary>First reconnect delay.</summary>
        public TimeSpan BackoffInitial = TimeSpan.FromMilliseconds(250);

        /// <summary>Longest reconnect delay.</summary>
        public TimeSpan BackoffMax = TimeSpan.FromSeconds(5);

        /// <summary>Reconnect delay growth per attempt.</summary>
        public double BackoffMultiplier = 2.0;

        /// <summary>Reconnect delay jitter, a fraction in [0, 1).</summary>
        public double BackoffJitter = 0.2;

        /// <summary>Checks every field.</summary>
        /// <exception cref="ArgumentException">A field is invalid; the message names it and its value.</exception>
        public void Validate()
        {
            Uri uri;
            if (string.IsNullOrEmpty(Address) || !Uri.TryCreate(Address, UriKind.Absolute, out uri) ||
                (uri.Scheme != "http" && uri.Scheme != "https"))
            {
                throw new ArgumentException("server address must be http://host:port or https://host:port, got '" + Address + "'", "Address");
            }
            if (Token != null && (Token.IndexOf('\n') >= 0 || Token.IndexOf('\r') >= 0))
            {
                throw new ArgumentException("token must be a single line", "Token");
            }
            if (UnaryTimeout <= TimeSpan.Zero)
            {
                throw new ArgumentException("UnaryTimeout must be positive, got " + UnaryTimeout, "UnaryTimeout");
            }
            if (OpenSessionTimeout <= TimeSpan.Zero)
            {
                throw new ArgumentException("OpenSessionTimeout must be positive, got " + OpenSessionTimeout, "OpenSessionTimeout");
            }
            if (MaxMessageBytes < 1024 * 1024)
            {
                throw new ArgumentException("MaxMessageBytes must be at least 1 MiB, got " + MaxMessageBytes, "MaxMessageBytes");
            }
            if (MaxInFlight < 1)
            {
                throw new ArgumentException("MaxInFlight must be at least 1, got " + MaxInFlight, "MaxInFlight");
            }
            if (StaleAfter <= TimeSpan.Zero)
            {
                throw new ArgumentException("StaleAfter must be positive, got " + StaleAfter, "StaleAfter");
            }
            // Backoff validates its own settings and names the bad one.
            new Core.Backoff(BackoffInitial, BackoffMax, BackoffMultiplier, BackoffJitter, new Random(0));
        }

        /// <summary>True for an https:// address.</summary>
        public bool UsesTls
        {
            get { return Address != null && Address.StartsWith("https://", StringComparison.OrdinalIgnoreCase); }
        }
    }
}
