using System;

namespace WorldBridge.Core
{
    /// <summary>
    /// Anchor lock of the frame model; the values equal the wire's <c>AnchorLock</c> enum
    /// (protos/worldbridge/v1/session.proto). The anchors are the session's memory rendered
    /// at the requested pose. The <c>anchor</c> generator ignores this setting.
    /// </summary>
    public enum AnchorLockMode
    {
        /// <summary>
        /// The server's default (<c>worldbridge serve --anchor-lock on|off</c>; on unless
        /// changed). Sent as <c>ANCHOR_LOCK_UNSPECIFIED</c>.
        /// </summary>
        ServerDefault = 0,
        /// <summary>Every pixel the anchors cover is served exactly; the model fills only the holes.</summary>
        On = 1,
        /// <summary>The model regenerates every pixel (restyling).</summary>
        Off = 2,
    }

    /// <summary>
    /// What a session is opened with besides its reference views: generator, output size,
    /// seed and generator options. Plain data without protobuf; the transport's
    /// <c>WireConvert.OpenSession</c> builds the <c>OpenSessionRequest</c> from it. Call
    /// <see cref="Validate"/> before use (WireConvert does).
    /// </summary>
    public sealed class SessionOptions
    {
        /// <summary>Generator name from the server's list; empty means the server's default (<c>anchor</c>).</summary>
        public string Generator = "";

        /// <summary>Width of the generated frames, pixels.</summary>
        public int OutputWidth = 512;

        /// <summary>Height of the generated frames, pixels.</summary>
        public int OutputHeight = 512;

        /// <summary>Seed of the generator's noise; 0 derives it from the session id.</summary>
        public ulong Seed;

        /// <summary>Anchor lock of the frame model; the default leaves it to the server.</summary>
        public AnchorLockMode AnchorLock = AnchorLockMode.ServerDefault;

        /// <summary>
        /// A frame-model bundle the server knows, by its name in the server info's bundle list
        /// (for example one <c>worldbridge adapt</c> made for this level); empty means the server's
        /// default bundle. Applies to the <c>frame-model</c> generator.
        /// </summary>
        public string Bundle = "";

        /// <summary>
        /// The wire number of <paramref name="mode"/>, the value the request carries in
        /// <c>generator_options.anchor_lock</c>.
        /// </summary>
        /// <exception cref="ArgumentOutOfRangeException"><paramref name="mode"/> is not a defined value (named).</exception>
        public static int AnchorLockWireValue(AnchorLockMode mode)
        {
            if (!IsKnown(mode))
            {
                throw new ArgumentOutOfRangeException("mode", mode, UnknownAnchorLock(mode));
            }
            return (int)mode;
        }

        /// <summary>Checks every field.</summary>
        /// <exception cref="ArgumentException">A field is invalid; the message names it and its value.</exception>
        public void Validate()
        {
            if (Generator == null)
            {
                throw new ArgumentException("Generator must not be null (empty means the server's default)", "Generator");
            }
            if (OutputWidth < 1 || OutputHeight < 1)
            {
                throw new ArgumentException(string.Format("output size must be at least 1x1, got {0}x{1}", OutputWidth, OutputHeight),
                    "OutputWidth");
            }
            if (!IsKnown(AnchorLock))
            {
                throw new ArgumentException(UnknownAnchorLock(AnchorLock), "AnchorLock");
            }
            if (Bundle == null)
            {
                throw new ArgumentException("Bundle must not be null (empty means the server's default bundle)", "Bundle");
            }
        }

        private static bool IsKnown(AnchorLockMode mode)
        {
            return mode == AnchorLockMode.ServerDefault || mode == AnchorLockMode.On || mode == AnchorLockMode.Off;
        }

        private static string UnknownAnchorLock(AnchorLockMode mode)
        {
            return "unknown anchor lock " + (int)mode + " (expected ServerDefault, On or Off)";
        }
    }
}
