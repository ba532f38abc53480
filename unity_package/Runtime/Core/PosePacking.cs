using System;

namespace WorldBridge.Core
{
    /// <summary>
    /// Packs a Unity camera's transform into the wire's <c>CameraPose.camera_to_world</c>.
    /// </summary>
    /// <remarks>
    /// The matrix is the engine's own camera-to-world (c2w) transform, exactly what
    /// <c>Matrix4x4.TRS(position, rotation, Vector3.one)</c> gives: Unity's left-handed, Y-up
    /// world in metres, the camera looking along its local +Z. It is written as 16 doubles,
    /// row-major, column-vector convention (p_world = M * p_camera): translation in elements
    /// 3, 7 and 11, bottom row 0 0 0 1. The pose is tagged <see cref="ConventionUnity"/>; the
    /// backend converts conventions, the client never does.
    /// </remarks>
    public static class PosePacking
    {
        /// <summary>The wire's <c>CONVENTION_UNITY</c> enum value.</summary>
        public const int ConventionUnity = 2;

        /// <summary>
        /// Camera-to-world as 16 row-major doubles from a position and a rotation.
        /// </summary>
        /// <param name="positionM">Camera position in world space, metres (<c>transform.position</c>).</param>
        /// <param name="rotation">Camera rotation (<c>transform.rotation</c>) as (x, y, z, w); normalised here.</param>
        /// <returns>A new array of 16 doubles, row-major, column-vector convention.</returns>
        /// <exception cref="ArgumentException">The position is not finite, or the quaternion is zero or not finite.</exception>
        public static double[] CameraToWorld(Vec3 positionM, Quat rotation)
        {
            double[] m = new double[16];
            CameraToWorld(positionM, rotation, m);
            return m;
        }

        /// <summary>
        /// Writes camera-to-world into <paramref name="destination"/> (16 doubles) without allocating.
        /// </summary>
        /// <exception cref="ArgumentNullException">destination is null.</exception>
        /// <exception cref="ArgumentException">destination is shorter than 16, the position is not finite, or the quaternion is zero or not finite.</exception>
        public static void CameraToWorld(Vec3 positionM, Quat rotation, double[] destination)
        {
            if (destination == null)
            {
                throw new ArgumentNullException("destination");
            }
            if (destination.Length < 16)
            {
                throw new ArgumentException("destination needs 16 elements, has " + destination.Length, "destination");
            }
            if (!positionM.IsFinite)
            {
                throw new ArgumentException("position must be finite, got " + positionM, "positionM");
            }
            WriteRotation(rotation.Normalized(), destination, 4);
            destination[3] = positionM.X;
            destination[7] = positionM.Y;
            destination[11] = positionM.Z;
            destination[12] = 0; destination[13] = 0; destination[14] = 0; destination[15] = 1;
        }

        /// <summary>
        /// The 3x3 rotation matrix (row-major, 9 doubles, column-vector convention) of a unit
        /// quaternion, computed as <c>Matrix4x4.Rotate</c> does.
        /// </summary>
        /// <param name="q">A normalised quaternion (not checked).</param>
        public static double[] RotationMatrix(Quat q)
        {
            double[] m = new double[9];
            WriteRotation(q, m, 3);
            return m;
        }

        // Writes the rotation into rows of length `stride` (3 for a 3x3, 4 for a 4x4 matrix).
        private static void WriteRotation(Quat q, double[] m, int stride)
        {
            double x2 = q.X * 2, y2 = q.Y * 2, z2 = q.Z * 2;
            double xx = q.X * x2, yy = q.Y * y2, zz = q.Z * z2;
            double xy = q.X * y2, xz = q.X * z2, yz = q.Y * z2;
            double wx = q.W * x2, wy = q.W * y2, wz = q.W * z2;
            int r1 = stride, r2 = 2 * stride;
            m[0] = 1 - (yy + zz); m[1] = xy - wz; m[2] = xz + wy;
            m[r1] = xy + wz; m[r1 + 1] = 1 - (xx + zz); m[r1 + 2] = yz - wx;
            m[r2] = xz - wy; m[r2 + 1] = yz + wx; m[r2 + 2] = 1 - (xx + yy);
        }
    }
}
