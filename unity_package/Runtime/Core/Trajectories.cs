using System;
using System.Collections.Generic;

namespace WorldBridge.Core
{
    /// <summary>One camera pose of a trajectory in Unity's world (metres; camera looks along its +Z).</summary>
    public struct TrajectoryPose
    {
        /// <summary>Camera position, metres.</summary>
        public Vec3 Position;
        /// <summary>Camera rotation.</summary>
        public Quat Rotation;

        /// <summary>Creates a pose.</summary>
        public TrajectoryPose(Vec3 position, Quat rotation)
        {
            Position = position;
            Rotation = rotation;
        }

        /// <summary>The direction the camera looks (rotation * +Z).</summary>
        public Vec3 Forward { get { return Rotation.Rotate(Vec3.Forward); } }
    }

    /// <summary>
    /// Camera trajectory templates for recording training data: orbit, dolly, walk and a
    /// collision-aware random walk. Engine-free: collisions are asked of an injected
    /// predicate <c>blocked(from, to)</c> that the Unity layer answers with physics queries.
    /// </summary>
    public static class Trajectories
    {
        /// <summary>
        /// Circles <paramref name="center"/> at a horizontal <paramref name="radius"/> and
        /// <paramref name="height"/> above it, looking at the centre.
        /// </summary>
        /// <param name="center">Point looked at, metres.</param>
        /// <param name="radius">Horizontal distance from the centre, metres, positive.</param>
        /// <param name="height">Camera height above the centre, metres.</param>
        /// <param name="startAngleDeg">Start angle in degrees; 0 puts the camera at centre - radius * Z (looking along +Z).</param>
        /// <param name="sweepDeg">Angle swept over the trajectory, degrees (360 for a full circle; negative turns the other way).</param>
        /// <param name="frames">Number of poses, at least 1.</param>
        /// <exception cref="ArgumentOutOfRangeException">radius not positive, frames below 1, or a non-finite value.</exception>
        public static List<TrajectoryPose> Orbit(Vec3 center, double radius, double height, double startAngleDeg,
            double sweepDeg, int frames)
        {
            CheckFrames(frames);
            CheckFinite(center, "center");
            if (!(radius > 0) || double.IsInfinity(radius))
            {
                throw new ArgumentOutOfRangeException("radius", radius, "orbit radius must be positive and finite, got " + radius);
            }
            CheckFinite(height, "height");
            CheckFinite(startAngleDeg, "startAngleDeg");
            CheckFinite(sweepDeg, "sweepDeg");
            var poses = new List<TrajectoryPose>(frames);
            // A full circle must not repeat its first pose at the end.
            bool closed = Math.Abs(Math.Abs(sweepDeg) - 360.0) < 1e-9;
            double steps = closed ? frames : Math.Max(frames - 1, 1);
            for (int i = 0; i < frames; i++)
            {
                double a = (startAngleDeg + sweepDeg * i / steps) * Math.PI / 180.0;
                var position = new Vec3(center.X - radius * Math.Sin(a), center.Y + height, center.Z - radius * Math.Cos(a));
                poses.Add(LookAt(position, center));
            }
            return poses;
        }

        /// <summary>
        /// Moves in a straight line from <paramref name="start"/> to <paramref name="end"/>
        /// (inclusive), looking at <paramref name="lookAt"/>, or along the direction of travel
        /// when lookAt is null.
        /// </summary>
        /// <exception cref="ArgumentOutOfRangeException">frames below 1 or a non-finite value.</exception>
        /// <exception cref="ArgumentException">lookAt is null and start equals end.</exception>
        public static List<TrajectoryPose> Dolly(Vec3 start, Vec3 end, Vec3? lookAt, int frames)
        {
            CheckFrames(frames);
            CheckFinite(start, "start");
            CheckFinite(end, "end");
            if (lookAt.HasValue)
            {
                CheckFinite(lookAt.Value, "lookAt");
            }
            else if (Vec3.Distance(start, end) < 1e-9)
            {
                throw new ArgumentException("dolly start and end are both " + start + ": give a lookAt point", "end");
            }
            var poses = new List<TrajectoryPose>(frames);
            Vec3 travel = end - start;
            for (int i = 0; i < frames; i++)
            {
                double t = frames == 1 ? 0.0 : (double)i / (frames - 1);
                Vec3 p = Vec3.Lerp(start, end, t);
                if (lookAt.HasValue && Vec3.Distance(p, lookAt.Value) > 1e-9)
                {
                    poses.Add(LookAt(p, lookAt.Value));
                }
                else
                {
                    poses.Add(new TrajectoryPose(p, Quat.LookRotation(travel.Length > 1e-9 ? travel : Vec3.Forward, Vec3.Up)));
                }
            }
            return poses;
        }

        /// <summary>
        /// Walks along a polyline of waypoints at constant speed (frames spaced evenly by arc
        /// length, first and last waypoint included), looking along the direction of travel.
        /// </summary>
        /// <param name="waypoints">At least 2 points, metres; consecutive duplicates are skipped.</param>
        /// <param name="frames">Number of poses, at least 2.</param>
        /// <exception cref="ArgumentNullException">waypoints is null.</exception>
        /// <exception cref="ArgumentException">Fewer than 2 distinct waypoints, or a non-finite one.</exception>
        /// <exception cref="ArgumentOutOfRangeException">frames below 2.</exception>
        public static List<TrajectoryPose> Walk(IList<Vec3> waypoints, int frames)
        {
            if (waypoints == null)
            {
                throw new ArgumentNullException("waypoints");
            }
            if (frames < 2)
            {
                throw new ArgumentOutOfRangeException("frames", frames, "a walk needs at least 2 frames, got " + frames);
            }
            var points = new List<Vec3>();
            for (int i = 0; i < waypoints.Count; i++)
            {
                CheckFinite(waypoints[i], "waypoints[" + i + "]");
                if (points.Count == 0 || Vec3.Distance(points[points.Count - 1], waypoints[i]) > 1e-9)
                {
                    points.Add(waypoints[i]);
                }
            }
            if (points.Count < 2)
            {
                throw new ArgumentException("a walk needs at least 2 distinct waypoints, got " + points.Count, "waypoints");
            }
            var cumulative = new double[points.Count];
            for (int i = 1; i < points.Count; i++)
            {
                cumulative[i] = cumulative[i - 1] + Vec3.Distance(points[i - 1], points[i]);
            }
            double total = cumulative[points.Count - 1];
            var poses = new List<TrajectoryPose>(frames);
            int segment = 0;
            for (int f = 0; f < frames; f++)
            {
                double s = total * f / (frames - 1);
                while (segment < points.Count - 2 && cumulative[segment + 1] < s)
                {
                    segment++;
                }
                double length = cumulative[segment + 1] - cumulative[segment];
                double t = Math.Min(1.0, Math.Max(0.0, (s - cumulative[segment]) / length));
                Vec3 p = Vec3.Lerp(points[segment], points[segment + 1], t);
                poses.Add(new TrajectoryPose(p, Quat.LookRotation(points[segment + 1] - points[segment], Vec3.Up)));
            }
            return poses;
        }

        /// <summary>
        /// A smooth random walk inside an axis-aligned box: each step moves
        /// <paramref name="stepM"/> along a heading that turns by at most
        /// <paramref name="maxTurnDeg"/> per frame, with a gentle random pitch. A step is
        /// accepted only if it stays in the box and <paramref name="blocked"/>(from, to) is
        /// false (the Unity layer answers with Physics.Linecast / CheckSphere).
        /// </summary>
        /// <param name="start">First position; must be inside the box.</param>
        /// <param name="boundsMin">Box minimum corner, metres.</param>
        /// <param name="boundsMax">Box maximum corner, metres.</param>
        /// <param name="stepM">Distance per frame, metres, positive.</param>
        /// <param name="maxTurnDeg">Largest heading change per frame, degrees, in [0, 180].</param>
        /// <param name="maxPitchDeg">Largest absolute camera pitch, degrees, in [0, 89].</param>
        /// <param name="frames">Number of poses, at least 1.</param>
        /// <param name="random">Random source (seed it for reproducible trajectories).</param>
        /// <param name="blocked">Segment test: true when moving from the first point to the second collides; null means nothing collides.</param>
        /// <param name="maxAttemptsPerStep">Candidate steps tried per frame before giving up, at least 1.</param>
        /// <exception cref="ArgumentNullException">random is null.</exception>
        /// <exception cref="ArgumentOutOfRangeException">A parameter is outside its range (the message names it).</exception>
        /// <exception cref="InvalidOperationException">No free step was found from some position (the message names it).</exception>
        public static List<TrajectoryPose> RandomWalk(Vec3 start, Vec3 boundsMin, Vec3 boundsMax, double stepM,
            double maxTurnDeg, double maxPitchDeg, int frames, Random random, Func<Vec3, Vec3, bool> blocked,
            int maxAttemptsPerStep)
        {
            CheckFrames(frames);
            if (random == null)
            {
                throw new ArgumentNullException("random");
            }
            CheckFinite(start, "start");
            CheckFinite(boundsMin, "boundsMin");
            CheckFinite(boundsMax, "boundsMax");
            if (!Inside(start, boundsMin, boundsMax))
            {
                throw new ArgumentOutOfRangeException("start", start, "start " + start + " is outside the box " + boundsMin + " .. " + boundsMax);
            }
            if (!(stepM > 0) || double.IsInfinity(stepM))
            {
                throw new ArgumentOutOfRangeException("stepM", stepM, "step must be positive and finite, got " + stepM);
            }
            if (!(maxTurnDeg >= 0 && maxTurnDeg <= 180))
            {
                throw new ArgumentOutOfRangeException("maxTurnDeg", maxTurnDeg, "max turn must be in [0, 180] degrees, got " + maxTurnDeg);
            }
            if (!(maxPitchDeg >= 0 && maxPitchDeg <= 89))
            {
                throw new ArgumentOutOfRangeException("maxPitchDeg", maxPitchDeg, "max pitch must be in [0, 89] degrees, got " + maxPitchDeg);
            }
            if (maxAttemptsPerStep < 1)
            {
                throw new ArgumentOutOfRangeException("maxAttemptsPerStep", maxAttemptsPerStep,
                    "maxAttemptsPerStep must be at least 1, got " + maxAttemptsPerStep);
            }
            var poses = new List<TrajectoryPose>(frames);
            Vec3 position = start;
            double heading = random.NextDouble() * 360.0;
            double pitch = 0;
            for (int f = 0; f < frames; f++)
            {
                if (f > 0)
                {
                    bool moved = false;
                    for (int attempt = 0; attempt < maxAttemptsPerStep && !moved; attempt++)
                    {
                        // Widen the turn after failures so the walk can escape corners.
                        double turnLimit = attempt < maxAttemptsPerStep / 2 ? maxTurnDeg : 180.0;
                        double h = heading + (2.0 * random.NextDouble() - 1.0) * turnLimit;
                        double hr = h * Math.PI / 180.0;
                        var next = position + new Vec3(Math.Sin(hr), 0, Math.Cos(hr)) * stepM;
                        if (!Inside(next, boundsMin, boundsMax) || (blocked != null && blocked(position, next)))
                        {
                            continue;
                        }
                        position = next;
                        heading = h;
                        moved = true;
                    }
                    if (!moved)
                    {
                        throw new InvalidOperationException(string.Format(
                            "random walk is stuck at {0} after {1} attempts at frame {2}: enlarge the box, shorten the step or clear the area",
                            position, maxAttemptsPerStep, f));
                    }
                    pitch = Clamp(pitch + (2.0 * random.NextDouble() - 1.0) * Math.Min(5.0, maxPitchDeg), -maxPitchDeg, maxPitchDeg);
                }
                double hRad = heading * Math.PI / 180.0, pRad = pitch * Math.PI / 180.0;
                var forward = new Vec3(Math.Sin(hRad) * Math.Cos(pRad), -Math.Sin(pRad), Math.Cos(hRad) * Math.Cos(pRad));
                poses.Add(new TrajectoryPose(position, Quat.LookRotation(forward, Vec3.Up)));
            }
            return poses;
        }

        /// <summary>A pose at <paramref name="position"/> looking at <paramref name="target"/> with world up +Y.</summary>
        /// <exception cref="ArgumentException">position equals target.</exception>
        public static TrajectoryPose LookAt(Vec3 position, Vec3 target)
        {
            Vec3 forward = target - position;
            if (!(forward.Length > 1e-12))
            {
                throw new ArgumentException("camera position " + position + " equals its look-at target", "target");
            }
            return new TrajectoryPose(position, Quat.LookRotation(forward, Vec3.Up));
        }

        private static bool Inside(Vec3 p, Vec3 min, Vec3 max)
        {
            return p.X >= min.X && p.X <= max.X && p.Y >= min.Y && p.Y <= max.Y && p.Z >= min.Z && p.Z <= max.Z;
        }

        private static double Clamp(double v, double lo, double hi)
        {
            return v < lo ? lo : (v > hi ? hi : v);
        }

        private static void CheckFrames(int frames)
        {
            if (frames < 1)
            {
                throw new ArgumentOutOfRangeException("frames", frames, "frames must be at least 1, got " + frames);
            }
        }

        private static void CheckFinite(double v, string name)
        {
            if (!Vec3.IsFiniteValue(v))
            {
                throw new ArgumentOutOfRangeException(name, v, name + " must be finite, got " + v);
            }
        }

        private static void CheckFinite(Vec3 v, string name)
        {
            if (!v.IsFinite)
            {
                throw new ArgumentOutOfRangeException(name, v, name + " must be finite, got " + v);
            }
        }
    }
}
