using System.Runtime.InteropServices;

namespace WorldBridge.Core
{
    /// <summary>
    /// IEEE 754 binary16 ("half") conversion without unsafe code or newer runtime APIs.
    /// </summary>
    public static class HalfFloat
    {
        [StructLayout(LayoutKind.Explicit)]
        private struct FloatBits
        {
            [FieldOffset(0)] public float Float;
            [FieldOffset(0)] public uint Bits;
        }

        /// <summary>The IEEE 754 bit pattern of a float.</summary>
        public static uint SingleToBits(float value)
        {
            FloatBits b = default(FloatBits);
            b.Float = value;
            return b.Bits;
        }

        /// <summary>The float with the given IEEE 754 bit pattern.</summary>
        public static float BitsToSingle(uint bits)
        {
            FloatBits b = default(FloatBits);
            b.Bits = bits;
            return b.Float;
        }

        /// <summary>
        /// Converts a float to half bits with round-to-nearest-even. Values beyond the half
        /// range (|v| &gt;= 65520) become infinity; +/-inf stay infinite; values below half the
        /// smallest subnormal (2^-25) become signed zero; NaN stays a quiet NaN.
        /// </summary>
        /// <example>1.0 -> 0x3C00, 65504 -> 0x7BFF, +inf -> 0x7C00, 1e-7 -> 0x0002.</example>
        public static ushort FromFloat(float value)
        {
            uint f = SingleToBits(value);
            uint sign = (f >> 16) & 0x8000u;
            int exp = (int)((f >> 23) & 0xFFu);
            uint mant = f & 0x7FFFFFu;
            if (exp == 0xFF)
            {
                // Infinity keeps its sign; NaN keeps a quiet bit so it stays NaN.
                return (ushort)(sign | 0x7C00u | (mant != 0 ? 0x200u | (mant >> 13) : 0u));
            }
            int e = exp - 127 + 15;
            if (e >= 0x1F)
            {
                return (ushort)(sign | 0x7C00u);
            }
            if (e <= 0)
            {
                // Subnormal half (or zero): value = m * 2^-24, m = mantissa >> (14 - e).
                if (e < -10)
                {
                    return (ushort)sign;
                }
                mant |= 0x800000u;
                int shift = 14 - e;
                uint sub = mant >> shift;
                uint rest = mant & ((1u << shift) - 1u);
                uint halfway = 1u << (shift - 1);
                if (rest > halfway || (rest == halfway && (sub & 1u) != 0))
                {
                    sub++;
                }
                return (ushort)(sign | sub);
            }
            uint h = ((uint)e << 10) | (mant >> 13);
            uint remainder = mant & 0x1FFFu;
            if (remainder > 0x1000u || (remainder == 0x1000u && (h & 1u) != 0))
            {
                h++; // a carry into the exponent is correct, up to infinity
            }
            return (ushort)(sign | h);
        }

        /// <summary>Converts half bits to a float (exact).</summary>
        public static float ToFloat(ushort half)
        {
            uint sign = (uint)(half & 0x8000) << 16;
            int exp = (half >> 10) & 0x1F;
            uint mant = (uint)(half & 0x3FF);
            if (exp == 0x1F)
            {
                return BitsToSingle(sign | 0x7F800000u | (mant << 13));
            }
            if (exp == 0)
            {
                if (mant == 0)
                {
                    return BitsToSingle(sign);
                }
                // Subnormal: mant * 2^-24.
                float v = mant * (1.0f / 16777216.0f);
                return sign != 0 ? -v : v;
            }
            return BitsToSingle(sign | ((uint)(exp - 15 + 127) << 23) | (mant << 13));
        }
    }
}
