#!/usr/bin/env python3
"""The Panda3D engine client, which lives in :mod:`worldbridge.engines.panda3d`.

Same as ``python -m worldbridge.engines.panda3d`` (``--help`` for the options); needs
``pip install 'worldbridge[engine]'``.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "py_backend"))  # a bare checkout

from worldbridge.engines.panda3d.client import main  # noqa: E402

if __name__ == "__main__":
    main()
