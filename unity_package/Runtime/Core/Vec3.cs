using System;

namespace WorldBridge.Core
{
    /// <summary>
    /// A 3D vector of doubles in Unity's world frame: left-handed, X right, Y up, Z forward,
    /// metres. The Unity layer converts to and from <c>UnityEngine.Vector3</c>.
    /// </summary>
    public struct Vec3 : IEquatable<Vec3>
    {
        /// <summary>X component (metres, right).</summary>
        public double X;
        /// <summary>Y component (metres, up).</summary>
        public double Y;
        /// <summary>Z component (metres, forward).</summary>
        public double Z;

        /// <summary>Creates a vector from its components.</summary>
        public Vec3(double x, double y, double z)
        {
            X = x;
            Y = y;
            Z = z;
        }

        /// <summary>(0, 0, 0).</summary>
        public static Vec3 Zero { get { return new Vec3(0, 0, 0); } }
        /// <summary>World up, (0, 1, 0).</summary>
        public static Vec3 Up { get { return new Vec3(0, 1, 0); } }
        /// <summary>World forward, (0, 0, 1): where an unrotated Unity camera looks.</summary>
        public static Vec3 Forward { get { return new Vec3(0, 0, 1); } }

        /// <summary>Euclidean length.</summary>
        public double Length { get { return Math.Sqrt(X * X + Y * Y + Z * Z); } }

        /// <summary>True when every component is finite (no NaN or infinity).</summary>
        public bool IsFinite
        {
            get { return IsFiniteValue(X) && IsFiniteValue(Y) && IsFiniteValue(Z); }
        }

        /// <summary>This vector scaled to length 1.</summary>
        /// <exception cref="InvalidOperationException">The vector is zero or not finite.</exception>
        public Vec3 Normalized()
        {
            double len = Length;
            if (!(len > 1e-12) || double.IsInfinity(len))
            {
                throw new InvalidOperationException("cannot normalise vector " + this);
            }
            return new Vec3(X / len, Y / len, Z / len);
        }

        /// <summary>Dot product.</summary>
        public static double Dot(Vec3 a, Vec3 b)
        {
            return a.X * b.X + a.Y * b.Y + a.Z * b.Z;
        }

        /// <summary>
        /// Cross product with the same arithmetic as <c>Vector3.Cross</c>:
        /// <c>Cross(Up, Forward)</c> is right (+X) in Unity's left-handed frame.
        /// </summary>
        public static Vec3 Cross(Vec3 a, Vec3 b)
        {
            return new Vec3(a.Y * b.Z - a.Z * b.Y, a.Z * b.X - a.X * b.Z, a.X * b.Y - a.Y * b.X);
        }

        /// <summary>Distance between two points (metres).</summary>
        public static double Distance(Vec3 a, Vec3 b)
        {
            return (a - b).Length;
        }

        /// <summary>Linear interpolation; <paramref name="t"/> is not clamped.</summary>
        public static Vec3 Lerp(Vec3 a, Vec3 b, double t)
        {
            return new Vec3(a.X + (b.X - a.X) * t, a.Y + (b.Y - a.Y) * t, a.Z + (b.Z - a.Z) * t);
        }

        /// <summary>Component-wise sum.</summary>
        public static Vec3 operator +(Vec3 a, Vec3 b)
        {
            return new Vec3(a.X + b.X, a.Y + b.Y, a.Z + b.Z);
        }

        /// <summary>Component-wise difference.</summary>
        public static Vec3 operator -(Vec3 a, Vec3 b)
        {
            return new Vec3(a.X - b.X, a.Y - b.Y, a.Z - b.Z);
        }

        /// <summary>Negation.</summary>
        public static Vec3 operator -(Vec3 a)
        {
            return new Vec3(-a.X, -a.Y, -a.Z);
        }

        /// <summary>Scaling.</summary>
        public static Vec3 operator *(Vec3 a, double s)
        {
            return new Vec3(a.X * s, a.Y * s, a.Z * s);
        }

        /// <summary>Scaling.</summary>
        public static Vec3 operator *(double s, Vec3 a)
        {
            return new Vec3(a.X * s, a.Y * s, a.Z * s);
        }

        /// <inheritdoc />
        public bool Equals(Vec3 other)
        {
            return X == other.X && Y == other.Y && Z == other.Z;
        }

        /// <inheritdoc />
        public override bool Equals(object obj)
        {
            return obj is Vec3 && Equals((Vec3)obj);
        }

        /// <inheritdoc />
        public override int GetHashCode()
        {
            return X.GetHashCode() ^ (Y.GetHashCode() * 397) ^ (Z.GetHashCode() * 7919);
        }

        /// <inheritdoc />
        public override string ToString()
        {
            return string.Format(System.Globalization.CultureInfo.InvariantCulture, "({0}, {1}, {2})", X, Y, Z);
        }

        internal static bool IsFiniteValue(double v)
        {
            return !double.IsNaN(v) && !double.IsInfinity(v);
        }
    }
}
