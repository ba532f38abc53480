using System;

namespace WorldBridge.Core
{
    /// <summary>Depth encodings the Unity client produces; values equal the wire's <c>DepthEncoding</c>.</summary>
    public enum DepthEncodingKind
    {
        /// <summary>Little-endian float32, metres.</summary>
        Float32M = 1,
        /// <summary>Little-endian IEEE half, metres (needs the server capability "depth.float16").</summary>
        Float16M = 2,
    }

    /// <summary>
    /// Packs depth maps for the wire's <c>DepthImage</c> and linearises Unity depth buffers.
    /// </summary>
    /// <remarks>
    /// Input is planar depth in metres (Unity's linear eye depth: distance along the camera's
    /// viewing axis) with rows bottom-up, as a RenderTexture reads back. The output is raw
    /// little-endian bytes with rows top-down, as the wire's <c>DepthImage</c> states.
    /// 0 marks an invalid pixel, +inf sky (background infinitely far away); NaN and negative
    /// values are refused because the server rejects them.
    /// </remarks>
    public static class DepthPacking
    {
        /// <summary>Bytes per pixel of an encoding (4 or 2).</summary>
        /// <exception cref="ArgumentOutOfRangeException">Unknown encoding.</exception>
        public static int BytesPerPixel(DepthEncodingKind encoding)
        {
            switch (encoding)
            {
                case DepthEncodingKind.Float32M: return 4;
                case DepthEncodingKind.Float16M: return 2;
                default:
                    throw new ArgumentOutOfRangeException("encoding", encoding, "unknown depth encoding " + (int)encoding);
            }
        }

        /// <summary>
        /// Packs bottom-up float metres into top-down little-endian bytes.
        /// </summary>
        /// <param name="metresBottomUp">width * height depths in metres, first row = bottom of the image.</param>
        /// <param name="width">Pixels per row, at least 1.</param>
        /// <param name="height">Rows, at least 1.</param>
        /// <param name="encoding">Float32M or Float16M.</param>
        /// <returns>A new array of width * height * BytesPerPixel(encoding) bytes, first row = top.</returns>
        /// <exception cref="ArgumentNullException">metresBottomUp is null.</exception>
        /// <exception cref="ArgumentException">Sizes below 1, a length mismatch, or a NaN / negative depth (the message names the pixel and value).</exception>
        /// <exception cref="ArgumentOutOfRangeException">Unknown encoding.</exception>
        public static byte[] Pack(float[] metresBottomUp, int width, int height, DepthEncodingKind encoding)
        {
            int bpp = BytesPerPixel(encoding);
            CheckInput(metresBottomUp, width, height);
            byte[] bytes = new byte[width * height * bpp];
            for (int srcRow = 0; srcRow < height; srcRow++)
            {
                int dstRow = height - 1 - srcRow;
                int src = srcRow * width;
                int dst = dstRow * width * bpp;
                for (int x = 0; x < width; x++, src++, dst += bpp)
                {
                    float d = metresBottomUp[src];
                    if (float.IsNaN(d) || d < 0)
                    {
                        throw new ArgumentException(string.Format(System.Globalization.CultureInfo.InvariantCulture,
                            "depth at pixel (x={0}, row from bottom={1}) is {2}: depths must be >= 0 metres, 0 invalid, +inf sky",
                            x, srcRow, d), "metresBottomUp");
                    }
                    if (bpp == 4)
                    {
                        uint b = HalfFloat.SingleToBits(d);
                        bytes[dst] = (byte)b;
                        bytes[dst + 1] = (byte)(b >> 8);
                        bytes[dst + 2] = (byte)(b >> 16);
                        bytes[dst + 3] = (byte)(b >> 24);
                    }
                    else
                    {
                        ushort h = HalfFloat.FromFloat(d);
                        bytes[dst] = (byte)h;
                        bytes[dst + 1] = (byte)(h >> 8);
                    }
                }
            }
            return bytes;
        }

        /// <summary>
        /// Linear eye depth (metres along the viewing axis) from a raw depth-buffer value of a
        /// perspective camera.
        /// </summary>
        /// <remarks>
        /// Raw values are in [0, 1] as a depth texture samples them. With a conventional
        /// buffer (OpenGL / OpenGL ES) 0 is the near plane and 1 the far plane; with reversed Z
        /// (Direct3D 11/12, Metal, Vulkan, consoles; <c>SystemInfo.usesReversedZBuffer</c>)
        /// 1 is near and 0 is far. This is Unity's <c>LinearEyeDepth</c>:
        /// conventional: 1 / (d * (1/far - 1/near) + 1/near);
        /// reversed: 1 / (d * (1/near - 1/far) + 1/far).
        /// </remarks>
        /// <param name="raw">Raw depth-buffer value in [0, 1].</param>
        /// <param name="near">Near clip plane, metres, positive.</param>
        /// <param name="far">Far clip plane, metres, greater than near.</param>
        /// <param name="reversedZ">True when the platform uses reversed Z.</param>
        /// <exception cref="ArgumentOutOfRangeException">near or far invalid.</exception>
        public static float LinearEyeDepth(float raw, float near, float far, bool reversedZ)
        {
            CheckPlanes(near, far);
            return LinearEyeDepthUnchecked(raw, 1.0 / near, 1.0 / far, reversedZ);
        }

        /// <summary>
        /// Converts raw depth-buffer values to linear eye depth in metres, in place (see
        /// <see cref="LinearEyeDepth"/>). Pixels at the far plane (nothing drawn: raw 1, or 0
        /// with reversed Z) become +inf (sky) when <paramref name="farIsSky"/> is true, else
        /// <paramref name="far"/>. Orthographic cameras: set <paramref name="orthographic"/>,
        /// then depth = near + d * (far - near) with d made conventional first.
        /// </summary>
        /// <exception cref="ArgumentNullException">raw is null.</exception>
        /// <exception cref="ArgumentOutOfRangeException">near or far invalid.</exception>
        public static void LinearizeInPlace(float[] raw, float near, float far, bool reversedZ, bool farIsSky, bool orthographic)
        {
            if (raw == null)
            {
                throw new ArgumentNullException("raw");
            }
            CheckPlanes(near, far);
            double invNear = 1.0 / near, invFar = 1.0 / far;
            for (int i = 0; i < raw.Length; i++)
            {
                float d = raw[i];
                float conventional = reversedZ ? 1f - d : d;
                if (farIsSky && conventional >= 1f)
                {
                    raw[i] = float.PositiveInfinity;
                }
                else if (orthographic)
                {
                    raw[i] = (float)(near + Clamp01(conventional) * (far - near));
                }
                else
                {
                    raw[i] = LinearEyeDepthUnchecked(d, invNear, invFar, reversedZ);
                }
            }
        }

        private static float LinearEyeDepthUnchecked(float raw, double invNear, double invFar, bool reversedZ)
        {
            double d = Clamp01(raw);
            double denom = reversedZ ? d * (invNear - invFar) + invFar : d * (invFar - invNear) + invNear;
            return (float)(1.0 / denom);
        }

        private static double Clamp01(double v)
        {
            return v < 0 ? 0 : (v > 1 ? 1 : v);
        }

        private static void CheckPlanes(float near, float far)
        {
            if (!(near > 0) || float.IsInfinity(near))
            {
                throw new ArgumentOutOfRangeException("near", near, "near plane must be positive and finite, got " + near);
            }
            if (!(far > near) || float.IsInfinity(far))
            {
                throw new ArgumentOutOfRangeException("far", far,
                    "far plane must be finite and greater than the near plane " + near + ", got " + far);
            }
        }

        private static void CheckInput(float[] data, int width, int height)
        {
            if (data == null)
            {
                throw new ArgumentNullException("metresBottomUp");
            }
            if (width < 1 || height < 1)
            {
                throw new ArgumentException(string.Format("width and height must be at least 1, got {0}x{1}", width, height));
            }
            if (data.Length != (long)width * height)
            {
                throw new ArgumentException(string.Format("depth of {0}x{1} needs {2} values, got {3}",
                    width, height, (long)width * height, data.Length), "metresBottomUp");
            }
        }
    }
}
