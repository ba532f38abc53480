using UnityEngine;
using WorldBridge.Core;

namespace WorldBridge.Unity
{
    /// <summary>Conversions between Unity's float vectors and the core's double structs (same axes, metres).</summary>
    public static class UnityConvert
    {
        /// <summary>Vector3 to Vec3.</summary>
        public static Vec3 ToVec3(Vector3 v)
        {
            return new Vec3(v.x, v.y, v.z);
        }

        /// <summary>Vec3 to Vector3.</summary>
        public static Vector3 ToVector3(Vec3 v)
        {
            return new Vector3((float)v.X, (float)v.Y, (float)v.Z);
        }

        /// <summary>Quaternion to Quat (x, y, z, w).</summary>
        public static Quat ToQuat(Quaternion q)
        {
            return new Quat(q.x, q.y, q.z, q.w);
        }

        /// <summary>Quat to Quaternion.</summary>
        public static Quaternion ToQuaternion(Quat q)
        {
            return new Quaternion((float)q.X, (float)q.Y, (float)q.Z, (float)q.W);
        }

        /// <summary>
        /// Pinhole intrinsics of a camera rendered at width x height, from its projection
        /// matrix (covers lens shift and physical-camera gate fit).
        /// </summary>
        /// <exception cref="System.ArgumentOutOfRangeException">Orthographic camera or a size below 1.</exception>
        public static PinholeIntrinsics Intrinsics(Camera camera, int width, int height)
        {
            Matrix4x4 p = camera.projectionMatrix;
            return IntrinsicsMath.FromProjection(p.m00, p.m11, p.m02, p.m12, width, height);
        }
    }
}
