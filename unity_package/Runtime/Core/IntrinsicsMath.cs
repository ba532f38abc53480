using System;

namespace WorldBridge.Core
{
    /// <summary>
    /// Intrinsics from what a Unity camera exposes: the vertical field of view
    /// (<c>Camera.fieldOfView</c>) or the physical focal length and sensor size.
    /// </summary>
    /// <remarks>
    /// Square pixels are assumed (fx = fy) and the principal point is the image centre
    /// (cx = width / 2, cy = height / 2); lens shift is not modelled.
    /// </remarks>
    public static class IntrinsicsMath
    {
        /// <summary>
        /// Intrinsics from a vertical field of view: fy = (height / 2) / tan(vfov / 2), fx = fy.
        /// </summary>
        /// <param name="verticalFovDeg">Vertical field of view in degrees, in (0, 180) (Unity's <c>Camera.fieldOfView</c>).</param>
        /// <param name="width">Image width in pixels, at least 1.</param>
        /// <param name="height">Image height in pixels, at least 1.</param>
        /// <exception cref="ArgumentOutOfRangeException">The field of view is outside (0, 180) or not finite, or a size is below 1.</exception>
        public static PinholeIntrinsics FromVerticalFov(double verticalFovDeg, int width, int height)
        {
            if (!(verticalFovDeg > 0 && verticalFovDeg < 180))
            {
                throw new ArgumentOutOfRangeException("verticalFovDeg", verticalFovDeg,
                    "vertical field of view must be in (0, 180) degrees, got " + verticalFovDeg);
            }
            CheckSize(width, height);
            double fy = (height / 2.0) / Math.Tan(verticalFovDeg * Math.PI / 360.0);
            return Make(fy, width, height);
        }

        /// <summary>
        /// Intrinsics from a horizontal field of view: fx = (width / 2) / tan(hfov / 2), fy = fx.
        /// </summary>
        /// <param name="horizontalFovDeg">Horizontal field of view in degrees, in (0, 180).</param>
        /// <param name="width">Image width in pixels, at least 1.</param>
        /// <param name="height">Image height in pixels, at least 1.</param>
        /// <exception cref="ArgumentOutOfRangeException">The field of view is outside (0, 180) or not finite, or a size is below 1.</exception>
        public static PinholeIntrinsics FromHorizontalFov(double horizontalFovDeg, int width, int height)
        {
            if (!(horizontalFovDeg > 0 && horizontalFovDeg < 180))
            {
                throw new ArgumentOutOfRangeException("horizontalFovDeg", horizontalFovDeg,
                    "horizontal field of view must be in (0, 180) degrees, got " + horizontalFovDeg);
            }
            CheckSize(width, height);
            double fx = (width / 2.0) / Math.Tan(horizontalFovDeg * Math.PI / 360.0);
            return Make(fx, width, height);
        }

        /// <summary>
        /// Intrinsics from a physical camera (<c>Camera.focalLength</c>, <c>Camera.sensorSize.y</c>),
        /// with the sensor height mapped to the image height (Unity's vertical gate fit):
        /// fy = focalLength * height / sensorHeight, fx = fy.
        /// </summary>
        /// <param name="focalLengthMm">Focal length in millimetres, positive.</param>
        /// <param name="sensorHeightMm">Sensor height in millimetres, positive.</param>
        /// <param name="width">Image width in pixels, at least 1.</param>
        /// <param name="height">Image height in pixels, at least 1.</param>
        /// <exception cref="ArgumentOutOfRangeException">A length is not positive and finite, or a size is below 1.</exception>
        public static PinholeIntrinsics FromFocalLength(double focalLengthMm, double sensorHeightMm, int width, int height)
        {
            if (!(focalLengthMm > 0) || double.IsInfinity(focalLengthMm))
            {
                throw new ArgumentOutOfRangeException("focalLengthMm", focalLengthMm,
                    "focal length must be positive and finite, got " + focalLengthMm);
            }
            if (!(sensorHeightMm > 0) || double.IsInfinity(sensorHeightMm))
            {
                throw new ArgumentOutOfRangeException("sensorHeightMm", sensorHeightMm,
                    "sensor height must be positive and finite, got " + sensorHeightMm);
            }
            CheckSize(width, height);
            return Make(focalLengthMm * height / sensorHeightMm, width, height);
        }

        /// <summary>
        /// Intrinsics from the entries of a Unity projection matrix (<c>Camera.projectionMatrix</c>,
        /// OpenGL style, view space looking down -Z): fx = P00 * w / 2, fy = P11 * h / 2,
        /// cx = w / 2 * (1 - P02), cy = h / 2 * (1 + P12). Covers lens shift and physical-camera
        /// gate fit, which the field of view alone does not.
        /// </summary>
        /// <param name="p00">Projection matrix element [0, 0].</param>
        /// <param name="p11">Projection matrix element [1, 1].</param>
        /// <param name="p02">Projection matrix element [0, 2] (horizontal lens shift term).</param>
        /// <param name="p12">Projection matrix element [1, 2] (vertical lens shift term).</param>
        /// <param name="width">Image width in pixels, at least 1.</param>
        /// <param name="height">Image height in pixels, at least 1.</param>
        /// <exception cref="ArgumentOutOfRangeException">p00 or p11 not positive and finite, p02 or p12 not finite, or a size below 1.</exception>
        public static PinholeIntrinsics FromProjection(double p00, double p11, double p02, double p12, int width, int height)
        {
            if (!(p00 > 0) || double.IsInfinity(p00))
            {
                throw new ArgumentOutOfRangeException("p00", p00, "projection P00 must be positive and finite (a perspective camera), got " + p00);
            }
            if (!(p11 > 0) || double.IsInfinity(p11))
            {
                throw new ArgumentOutOfRangeException("p11", p11, "projection P11 must be positive and finite (a perspective camera), got " + p11);
            }
            if (double.IsNaN(p02) || double.IsInfinity(p02))
            {
                throw new ArgumentOutOfRangeException("p02", p02, "projection P02 must be finite, got " + p02);
            }
            if (double.IsNaN(p12) || double.IsInfinity(p12))
            {
                throw new ArgumentOutOfRangeException("p12", p12, "projection P12 must be finite, got " + p12);
            }
            CheckSize(width, height);
            return new PinholeIntrinsics
            {
                Fx = p00 * width / 2.0,
                Fy = p11 * height / 2.0,
                Cx = width / 2.0 * (1.0 - p02),
                Cy = height / 2.0 * (1.0 + p12),
                Width = (uint)width,
                Height = (uint)height,
            };
        }

        /// <summary>Vertical field of view in degrees of intrinsics: 2 * atan((height / 2) / fy).</summary>
        public static double VerticalFovDeg(PinholeIntrinsics k)
        {
            return 2.0 * Math.Atan((k.Height / 2.0) / k.Fy) * 180.0 / Math.PI;
        }

        private static PinholeIntrinsics Make(double f, int width, int height)
        {
            return new PinholeIntrinsics
            {
                Fx = f,
                Fy = f,
                Cx = width / 2.0,
                Cy = height / 2.0,
                Width = (uint)width,
                Height = (uint)height,
            };
        }

        private static void CheckSize(int width, int height)
        {
            if (width < 1)
            {
                throw new ArgumentOutOfRangeException("width", width, "width must be at least 1 pixel, got " + width);
            }
            if (height < 1)
            {
                throw new ArgumentOutOfRangeException("height", height, "height must be at least 1 pixel, got " + height);
            }
        }
    }
}
