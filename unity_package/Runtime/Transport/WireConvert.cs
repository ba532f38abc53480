using System;
using Google.Protobuf;
using WorldBridge.Core;
using WorldBridge.V1;

namespace WorldBridge.Transport
{
    /// <summary>
    /// Builds wire messages from the engine-free core's values. No convention conversion
    /// happens here: poses are tagged UNITY and the server converts.
    /// </summary>
    public static class WireConvert
    {
        /// <summary>A CameraPose (convention UNITY) from a Unity position (metres) and rotation.</summary>
        /// <exception cref="ArgumentException">Non-finite position or a zero / non-finite quaternion.</exception>
        public static CameraPose Pose(Vec3 positionM, Quat rotation)
        {
            var pose = new CameraPose { Convention = Convention.Unity };
            pose.CameraToWorld.AddRange(PosePacking.CameraToWorld(positionM, rotation));
            return pose;
        }

        /// <summary>The wire Intrinsics of pinhole intrinsics.</summary>
        public static Intrinsics Intrinsics(PinholeIntrinsics k)
        {
            return new Intrinsics { Fx = k.Fx, Fy = k.Fy, Cx = k.Cx, Cy = k.Cy, Width = k.Width, Height = k.Height };
        }

        /// <summary>An RGBA8 texture from bytes in the given row order (bytes are copied).</summary>
        /// <exception cref="ArgumentException">The byte count is not width * height * 4.</exception>
        public static Texture Rgba8(byte[] rgba, int width, int height, ImageRowOrder rowOrder)
        {
            if (rgba == null || rgba.Length != width * height * 4)
            {
                throw new ArgumentException(string.Format("RGBA8 {0}x{1} needs {2} bytes, got {3}", width, height,
                    width * height * 4, rgba == null ? 0 : rgba.Length), "rgba");
            }
            return new Texture
            {
                Width = (uint)width,
                Height = (uint)height,
                Format = TextureFormat.Rgba8,
                RowOrder = (RowOrder)(int)rowOrder,
                Data = ByteString.CopyFrom(rgba),
            };
        }

        /// <summary>
        /// A planar-z DepthImage from bottom-up float metres (rows are flipped to top-down,
        /// as the wire requires).
        /// </summary>
        /// <exception cref="ArgumentException">Size mismatch, or a NaN / negative depth (named).</exception>
        public static DepthImage Depth(float[] metresBottomUp, int width, int height, DepthEncodingKind encoding)
        {
            return new DepthImage
            {
                Width = (uint)width,
                Height = (uint)height,
                Encoding = (DepthEncoding)(int)encoding,
                Kind = DepthKind.PlanarZ,
                Data = ByteString.CopyFrom(DepthPacking.Pack(metresBottomUp, width, height, encoding)),
            };
        }

        /// <summary>
        /// An OpenSessionRequest from session options: generator, output (<see cref="UnityOutput"/>),
        /// seed and <c>generator_options.anchor_lock</c>. The caller adds the reference views;
        /// the connection adds the hello.
        /// </summary>
        /// <exception cref="ArgumentNullException">options is null.</exception>
        /// <exception cref="ArgumentException">An option is invalid (<see cref="SessionOptions.Validate"/> names it).</exception>
        public static OpenSessionRequest OpenSession(SessionOptions options)
        {
            if (options == null)
            {
                throw new ArgumentNullException("options");
            }
            options.Validate();
            return new OpenSessionRequest
            {
                Generator = options.Generator,
                Output = UnityOutput(options.OutputWidth, options.OutputHeight),
                Seed = options.Seed,
                GeneratorOptions = new GeneratorOptions
                {
                    AnchorLock = (AnchorLock)SessionOptions.AnchorLockWireValue(options.AnchorLock),
                    Bundle = options.Bundle ?? "",
                },
            };
        }

        /// <summary>The output TextureSpec the Unity client wants: RGBA8, rows bottom-up (Texture2D order).</summary>
        public static TextureSpec UnityOutput(int width, int height)
        {
            return new TextureSpec
            {
                Width = (uint)width,
                Height = (uint)height,
                Format = TextureFormat.Rgba8,
                RowOrder = RowOrder.BottomUp,
            };
        }
    }
}
