using System;
using System.IO;
using System.Runtime.Serialization;
using System.Runtime.Serialization.Json;
using NUnit.Framework;

namespace WorldBridge.Core.Tests
{
    /// <summary>One pose of tests/vectors/conventions.json.</summary>
    [DataContract]
    public sealed class PoseVector
    {
        [DataMember(Name = "name")] public string Name;
        [DataMember(Name = "convention")] public string Convention;
        [DataMember(Name = "engine_c2w")] public double[] EngineC2W;
        [DataMember(Name = "unity_position_m", IsRequired = false)] public double[] UnityPositionM;
        [DataMember(Name = "unity_rotation_xyzw", IsRequired = false)] public double[] UnityRotationXyzw;
    }

    /// <summary>Expected intrinsics of one case.</summary>
    [DataContract]
    public sealed class ExpectedIntrinsics
    {
        [DataMember(Name = "fx")] public double Fx;
        [DataMember(Name = "fy")] public double Fy;
        [DataMember(Name = "cx")] public double Cx;
        [DataMember(Name = "cy")] public double Cy;
    }

    /// <summary>One field-of-view case of tests/vectors/conventions.json.</summary>
    [DataContract]
    public sealed class IntrinsicsVector
    {
        [DataMember(Name = "name")] public string Name;
        [DataMember(Name = "fov_axis")] public string FovAxis;
        [DataMember(Name = "fov_deg")] public double FovDeg;
        [DataMember(Name = "width")] public int Width;
        [DataMember(Name = "height")] public int Height;
        [DataMember(Name = "expected")] public ExpectedIntrinsics Expected;
    }

    /// <summary>The shared convention vectors read by the Python, C++ and C# tests.</summary>
    [DataContract]
    public sealed class ConventionVectors
    {
        [DataMember(Name = "poses")] public PoseVector[] Poses;
        [DataMember(Name = "intrinsics")] public IntrinsicsVector[] Intrinsics;

        private static ConventionVectors _cached;

        /// <summary>
        /// Loads the vectors from $WORLDBRIDGE_VECTORS (the file or its folder), else from
        /// tests/vectors/conventions.json found by walking up from the test assembly and the
        /// working directory. Ignores the calling test when they cannot be found (a package
        /// installed without the repository around it).
        /// </summary>
        public static ConventionVectors Load()
        {
            if (_cached != null)
            {
                return _cached;
            }
            string path = Find();
            if (path == null)
            {
                Assert.Ignore("tests/vectors/conventions.json not found: set WORLDBRIDGE_VECTORS to its path");
            }
            using (var stream = File.OpenRead(path))
            {
                var serializer = new DataContractJsonSerializer(typeof(ConventionVectors));
                _cached = (ConventionVectors)serializer.ReadObject(stream);
            }
            return _cached;
        }

        private static string Find()
        {
            string env = Environment.GetEnvironmentVariable("WORLDBRIDGE_VECTORS");
            if (!string.IsNullOrEmpty(env))
            {
                if (File.Exists(env))
                {
                    return env;
                }
                string inDir = Path.Combine(env, "conventions.json");
                if (File.Exists(inDir))
                {
                    return inDir;
                }
                throw new FileNotFoundException("WORLDBRIDGE_VECTORS is set to " + env + " but no conventions.json is there");
            }
            string fromAssembly = WalkUp(Path.GetDirectoryName(typeof(ConventionVectors).Assembly.Location));
            return fromAssembly ?? WalkUp(Environment.CurrentDirectory);
        }

        private static string WalkUp(string start)
        {
            for (var dir = string.IsNullOrEmpty(start) ? null : new DirectoryInfo(start); dir != null; dir = dir.Parent)
            {
                string candidate = Path.Combine(Path.Combine(Path.Combine(dir.FullName, "tests"), "vectors"), "conventions.json");
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
            return null;
        }
    }
}
