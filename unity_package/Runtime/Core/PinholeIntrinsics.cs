namespace WorldBridge.Core
{
    /// <summary>
    /// Pinhole intrinsics in pixels, OpenCV style: the principal point (cx, cy) is measured
    /// from the top-left corner of the image. Mirrors the wire's <c>Intrinsics</c> message.
    /// </summary>
    public struct PinholeIntrinsics
    {
        /// <summary>Focal length along x, pixels.</summary>
        public double Fx;
        /// <summary>Focal length along y, pixels.</summary>
        public double Fy;
        /// <summary>Principal point x, pixels from the left edge.</summary>
        public double Cx;
        /// <summary>Principal point y, pixels from the top edge.</summary>
        public double Cy;
        /// <summary>Image width, pixels.</summary>
        public uint Width;
        /// <summary>Image height, pixels.</summary>
        public uint Height;

        /// <inheritdoc />
        public override string ToString()
        {
            return string.Format(System.Globalization.CultureInfo.InvariantCulture,
                "fx={0} fy={1} cx={2} cy={3} {4}x{5}", Fx, Fy, Cx, Cy, Width, Height);
        }
    }
}
