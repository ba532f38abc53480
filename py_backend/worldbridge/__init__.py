"""WorldBridge: generative worlds inside game engines.

Engines stream camera poses (and ground-truth depth) over gRPC; the backend keeps a
point-cloud memory of the world, renders it at each pose, fills it in with a frame
generator and returns a texture. The same bridge records trajectories as training data.
"""

__version__ = "0.1.0"
PROTOCOL_VERSION = (1, 1)
"""Wire protocol (major, minor). A major mismatch is refused; a minor one is a warning."""
