"""Engine clients that ship with WorldBridge.

* :mod:`worldbridge.engines.panda3d`: Panda3D rendering its garden offscreen on EGL with
  exact depth; the client of ``worldbridge demo`` and ``worldbridge record``. Needs the
  ``engine`` extra: ``pip install 'worldbridge[engine]'``.

The Unreal plugin and the Unity package live outside the Python package (``unreal_plugin/``,
``unity_package/``).
"""
