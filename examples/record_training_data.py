#!/usr/bin/env python3
"""Record training trajectories from the Panda3D garden: :mod:`worldbridge.engines.panda3d.record`.

Same as ``worldbridge record`` (``--help`` for the options); needs
``pip install 'worldbridge[engine]'``.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "py_backend"))  # a bare checkout

from worldbridge.engines.panda3d.record import main  # noqa: E402

if __name__ == "__main__":
    main()
