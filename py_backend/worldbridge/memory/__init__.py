"""Scene memory: posed RGB-D views lifted into one global point cloud (OpenCV, metres).

See :mod:`worldbridge.memory.pointcloud` for the keyframe, de-duplication and eviction
policy; rendering goes through :func:`worldbridge.render.render_points`.
"""

from worldbridge.memory.latent_anchors import (
    LatentAnchorMemory,
    latent_intrinsics,
    latent_view,
    pool_depth_min,
)
from worldbridge.memory.pointcloud import (
    DEFAULT_MAX_POINTS,
    DEFAULT_VOXEL_SIZE,
    SceneMemory,
    ViewRecord,
    unproject_depth,
    warmup,
)

__all__ = ["SceneMemory", "ViewRecord", "unproject_depth", "warmup",
           "DEFAULT_MAX_POINTS", "DEFAULT_VOXEL_SIZE", "LatentAnchorMemory", "latent_intrinsics",
           "latent_view", "pool_depth_min"]
