using System;

namespace WorldBridge.Core
{
    /// <summary>
    /// A rotation quaternion (x, y, z, w) with the same component layout and arithmetic as
    /// <c>UnityEngine.Quaternion</c>: a camera with rotation q looks along q * (0, 0, 1) with
    /// q * (0, 1, 0) as its up, in Unity's left-handed, Y-up world.
    /// </summary>
    public struct Quat : IEquatable<Quat>
    {
        /// <summary>Vector part, x.</summary>
        public double X;
        /// <summary>Vector part, y.</summary>
        public double Y;
        /// <summary>Vector part, z.</summary>
        public double Z;
        /// <summary>Scalar part.</summary>
        public double W;

        /// <summary>Creates a quaternion from its components (x, y, z, w); no normalisation.</summary>
        public Quat(double x, double y, double z, double w)
        {
            X = x;
            Y = y;
            Z = z;
            W = w;
        }

        /// <summary>The identity rotation (0, 0, 0, 1).</summary>
        public static Quat Identity { get { return new Quat(0, 0, 0, 1); } }

        /// <summary>Norm sqrt(x^2 + y^2 + z^2 + w^2).</summary>
        public double Norm { get { return Math.Sqrt(X * X + Y * Y + Z * Z + W * W); } }

        /// <summary>
        /// Rotation by <paramref name="angleDeg"/> degrees about <paramref name="axis"/>,
        /// as <c>Quaternion.AngleAxis</c>.
        /// </summary>
        /// <exception cref="ArgumentException">The axis is zero or not finite, or the angle is not finite.</exception>
        public static Quat AngleAxis(double angleDeg, Vec3 axis)
        {
            if (!Vec3.IsFiniteValue(angleDeg))
            {
                throw new ArgumentException("angle must be finite, got " + angleDeg, "angleDeg");
            }
            if (!axis.IsFinite || !(axis.Length > 1e-12))
            {
                throw new ArgumentException("axis must be a finite non-zero vector, got " + axis, "axis");
            }
            Vec3 n = axis.Normalized();
            double half = angleDeg * Math.PI / 360.0;
            double s = Math.Sin(half);
            return new Quat(n.X * s, n.Y * s, n.Z * s, Math.Cos(half));
        }

        /// <summary>
        /// The rotation whose +Z axis points along <paramref name="forward"/> and whose +Y axis
        /// is as close to <paramref name="up"/> as possible, as <c>Quaternion.LookRotation</c>.
        /// When forward is parallel to up, world +Z (or +X) is used as the up hint instead.
        /// </summary>
        /// <exception cref="ArgumentException">forward or up is zero or not finite.</exception>
        public static Quat LookRotation(Vec3 forward, Vec3 up)
        {
            if (!forward.IsFinite || !(forward.Length > 1e-12))
            {
                throw new ArgumentException("forward must be a finite non-zero vector, got " + forward, "forward");
            }
            if (!up.IsFinite || !(up.Length > 1e-12))
            {
                throw new ArgumentException("up must be a finite non-zero vector, got " + up, "up");
            }
            Vec3 f = forward.Normalized();
            Vec3 r = Vec3.Cross(up, f);
            if (r.Length < 1e-9)
            {
                Vec3 hint = Math.Abs(f.Z) < 0.9 ? new Vec3(0, 0, 1) : new Vec3(1, 0, 0);
                r = Vec3.Cross(hint, f);
            }
            r = r.Normalized();
            Vec3 u = Vec3.Cross(f, r);
            return FromAxes(r, u, f);
        }

        /// <summary>
        /// The rotation whose matrix has columns <paramref name="right"/>,
        /// <paramref name="up"/>, <paramref name="forward"/> (an orthonormal, det +1 basis).
        /// </summary>
        public static Quat FromAxes(Vec3 right, Vec3 up, Vec3 forward)
        {
            double m00 = right.X, m01 = up.X, m02 = forward.X;
            double m10 = right.Y, m11 = up.Y, m12 = forward.Y;
            double m20 = right.Z, m21 = up.Z, m22 = forward.Z;
            double trace = m00 + m11 + m22;
            Quat q;
            if (trace > 0)
            {
                double s = Math.Sqrt(trace + 1.0) * 2.0;
                q = new Quat((m21 - m12) / s, (m02 - m20) / s, (m10 - m01) / s, 0.25 * s);
            }
            else if (m00 > m11 && m00 > m22)
            {
                double s = Math.Sqrt(1.0 + m00 - m11 - m22) * 2.0;
                q = new Quat(0.25 * s, (m01 + m10) / s, (m02 + m20) / s, (m21 - m12) / s);
            }
            else if (m11 > m22)
            {
                double s = Math.Sqrt(1.0 + m11 - m00 - m22) * 2.0;
                q = new Quat((m01 + m10) / s, 0.25 * s, (m12 + m21) / s, (m02 - m20) / s);
            }
            else
            {
                double s = Math.Sqrt(1.0 + m22 - m00 - m11) * 2.0;
                q = new Quat((m02 + m20) / s, (m12 + m21) / s, 0.25 * s, (m10 - m01) / s);
            }
            return q.Normalized();
        }

        /// <summary>This quaternion scaled to norm 1.</summary>
        /// <exception cref="ArgumentException">The quaternion is zero or has a non-finite component.</exception>
        public Quat Normalized()
        {
            if (!Vec3.IsFiniteValue(X) || !Vec3.IsFiniteValue(Y) || !Vec3.IsFiniteValue(Z) || !Vec3.IsFiniteValue(W))
            {
                throw new ArgumentException("quaternion must be finite, got " + this);
            }
            double n = Norm;
            if (!(n > 1e-12))
            {
                throw new ArgumentException("quaternion must be non-zero, got " + this);
            }
            return new Quat(X / n, Y / n, Z / n, W / n);
        }

        /// <summary>Rotates a vector (this quaternion must be normalised), as <c>q * v</c> in Unity.</summary>
        public Vec3 Rotate(Vec3 v)
        {
            double[] m = PosePacking.RotationMatrix(this.Normalized());
            return new Vec3(m[0] * v.X + m[1] * v.Y + m[2] * v.Z,
                            m[3] * v.X + m[4] * v.Y + m[5] * v.Z,
                            m[6] * v.X + m[7] * v.Y + m[8] * v.Z);
        }

        /// <summary>Hamilton product a * b: rotate by b, then by a (as Unity's operator *).</summary>
        public static Quat operator *(Quat a, Quat b)
        {
            return new Quat(
                a.W * b.X + a.X * b.W + a.Y * b.Z - a.Z * b.Y,
                a.W * b.Y + a.Y * b.W + a.Z * b.X - a.X * b.Z,
                a.W * b.Z + a.Z * b.W + a.X * b.Y - a.Y * b.X,
                a.W * b.W - a.X * b.X - a.Y * b.Y - a.Z * b.Z);
        }

        /// <inheritdoc />
        public bool Equals(Quat other)
        {
            return X == other.X && Y == other.Y && Z == other.Z && W == other.W;
        }

        /// <inheritdoc />
        public override bool Equals(object obj)
        {
            return obj is Quat && Equals((Quat)obj);
        }

        /// <inheritdoc />
        public override int GetHashCode()
        {
            return X.GetHashCode() ^ (Y.GetHashCode() * 397) ^ (Z.GetHashCode() * 7919) ^ (W.GetHashCode() * 104729);
        }

        /// <inheritdoc />
        public override string ToString()
        {
            return string.Format(System.Globalization.CultureInfo.InvariantCulture, "({0}, {1}, {2}, {3})", X, Y, Z, W);
        }
    }
}
