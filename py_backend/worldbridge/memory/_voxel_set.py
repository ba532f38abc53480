"""Voxel occupancy counts for scene-memory de-duplication (a compiled open-addressing hash).

A voxel is the cube ``floor(p / voxel_size)`` (per axis, OpenCV world, metres), packed into
one int64 key: 21 bits per axis, offset by 2^20, so voxel coordinates in
``[-2^20, 2^20 - 1]`` are exact (about +-10 km at 1 cm voxels) and coordinates beyond are
clamped to the boundary voxels. :class:`VoxelCounter` counts, per voxel, how many stored
points lie in it; a voxel is occupied while its count is > 0. Counting (rather than a plain
set) lets evicted points release their voxels.

The table is linear-probing with a Fibonacci hash; a voxel whose count drops to 0 leaves
it by backward-shift deletion (no tombstones), so the table only grows with the number of
occupied voxels.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["VoxelCounter", "voxel_keys", "warmup"]

_EMPTY = -1
_OFFSET = 1 << 20
_BITS = 21
_MAX_LOAD = 0.75


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _voxel_keys_kernel(points, voxel_size, out):  # pragma: no cover
    lo = -_OFFSET
    hi = _OFFSET - 1
    for i in range(points.shape[0]):
        key = np.int64(0)
        for a in range(3):
            f = np.floor(np.float64(points[i, a]) / voxel_size)
            if f < lo:
                f = lo
            elif f > hi:
                f = hi
            key = (key << _BITS) | (np.int64(f) + _OFFSET)
        out[i] = key


@numba.njit(cache=True, nogil=True)
def _slot(key, shift):  # pragma: no cover
    return np.int64((np.uint64(key) * np.uint64(0x9E3779B97F4A7C15)) >> np.uint64(shift))


@numba.njit(cache=True, nogil=True)
def _lookup_kernel(table, shift, keys, out):  # pragma: no cover
    """``out[i] = count(keys[i]) > 0``; ``table`` is ``[cap, 2]`` int64 (key, count)."""
    mask = table.shape[0] - 1
    for i in range(keys.shape[0]):
        k = keys[i]
        s = _slot(k, shift)
        found = False
        while True:
            tk = table[s, 0]
            if tk == k:
                found = table[s, 1] > 0
                break
            if tk == _EMPTY:
                break
            s = (s + 1) & mask
        out[i] = found


@numba.njit(cache=True, nogil=True)
def _add_kernel(table, shift, keys, start, used, max_used):  # pragma: no cover
    """Add 1 to the count of ``keys[i]`` for ``i >= start``; stop before a new key would
    make ``used`` exceed ``max_used``. Returns (next i, used)."""
    mask = table.shape[0] - 1
    for i in range(start, keys.shape[0]):
        k = keys[i]
        s = _slot(k, shift)
        while True:
            tk = table[s, 0]
            if tk == k:
                break
            if tk == _EMPTY:
                if used >= max_used:
                    return i, used
                used += 1
                table[s, 0] = k
                table[s, 1] = 0
                break
            s = (s + 1) & mask
        table[s, 1] += 1
    return keys.shape[0], used


@numba.njit(cache=True, nogil=True)
def _remove_kernel(table, shift, keys):  # pragma: no cover
    """Subtract 1 per key; a key whose count reaches 0 leaves the table (backward-shift
    deletion, Knuth TAOCP vol. 3, 6.4 Algorithm R). Returns (keys that were not in the
    table (0 unless misused), entries removed)."""
    mask = table.shape[0] - 1
    missing = 0
    removed = 0
    for i in range(keys.shape[0]):
        k = keys[i]
        s = _slot(k, shift)
        while True:
            tk = table[s, 0]
            if tk == k:
                break
            if tk == _EMPTY:
                break
            s = (s + 1) & mask
        if table[s, 0] != k:
            missing += 1
            continue
        table[s, 1] -= 1
        if table[s, 1] > 0:
            continue
        removed += 1
        # Empty slot s, then pull back later entries of the run whose home slot is not
        # cyclically within (s, j]: they would become unreachable otherwise.
        hole = s
        j = s
        while True:
            j = (j + 1) & mask
            tk = table[j, 0]
            if tk == _EMPTY:
                break
            home = _slot(tk, shift)
            if ((j - home) & mask) >= ((j - hole) & mask):
                table[hole, 0] = tk
                table[hole, 1] = table[j, 1]
                hole = j
        table[hole, 0] = _EMPTY
        table[hole, 1] = 0
    return missing, removed


@numba.njit(cache=True, nogil=True)
def _rehash_kernel(old, new, shift):  # pragma: no cover
    """Insert the entries of ``old`` into the empty table ``new``."""
    mask = new.shape[0] - 1
    used = 0
    for j in range(old.shape[0]):
        k = old[j, 0]
        if k == _EMPTY:
            continue
        s = _slot(k, shift)
        while new[s, 0] != _EMPTY:
            s = (s + 1) & mask
        new[s, 0] = k
        new[s, 1] = old[j, 1]
        used += 1
    return used


def voxel_keys(points: np.ndarray, voxel_size: float) -> np.ndarray:
    """Packed voxel keys of points.

    Args:
        points: ``[N, 3]`` float32 world positions, metres (finite).
        voxel_size: voxel edge, metres (> 0).

    Returns:
        ``[N]`` int64 keys (non-negative).
    """
    pts = np.ascontiguousarray(points, dtype=np.float32)
    out = np.empty(pts.shape[0], dtype=np.int64)
    _voxel_keys_kernel(pts, float(voxel_size), out)
    return out


class VoxelCounter:
    """Multiset of voxel keys: per-voxel point counts in a growable hash table.

    The table holds ``[capacity, 2]`` int64 (key, count) rows (16 bytes), at most 75 %
    full; then it is rebuilt twice as large (a one-off cost proportional to its size,
    paid only while the memory grows into new space): at most 32 bytes per voxel.
    """

    def __init__(self, capacity: int = 1 << 16) -> None:
        self._alloc(max(4, int(capacity - 1).bit_length()))

    def _alloc(self, bits: int) -> None:
        self._bits = bits
        self._table = np.empty((1 << bits, 2), dtype=np.int64)
        self._table[:, 0] = _EMPTY
        self._used = 0

    @property
    def _shift(self) -> int:
        return 64 - self._bits

    @property
    def _max_used(self) -> int:
        return int(_MAX_LOAD * (1 << self._bits))

    def __len__(self) -> int:
        """Number of occupied voxels (count > 0)."""
        return self._used

    def occupied(self, keys: np.ndarray) -> np.ndarray:
        """``[M]`` bool: whether each key's voxel holds at least one point."""
        keys = np.ascontiguousarray(keys, dtype=np.int64)
        out = np.empty(keys.shape[0], dtype=np.bool_)
        _lookup_kernel(self._table, self._shift, keys, out)
        return out

    def add(self, keys: np.ndarray) -> None:
        """Count one point per key."""
        keys = np.ascontiguousarray(keys, dtype=np.int64)
        start = 0
        while True:
            start, self._used = _add_kernel(self._table, self._shift, keys, start,
                                            self._used, self._max_used)
            if start >= keys.shape[0]:
                return
            self._grow()

    def remove(self, keys: np.ndarray) -> None:
        """Uncount one point per key (keys previously added).

        Raises:
            RuntimeError: a key that was not counted (internal bookkeeping error).
        """
        keys = np.ascontiguousarray(keys, dtype=np.int64)
        missing, removed = _remove_kernel(self._table, self._shift, keys)
        self._used -= removed
        if missing:
            raise RuntimeError(f"voxel counter: {missing} removed keys were never added")

    def _grow(self) -> None:
        # Rebuild in the smallest table the voxels fill at most half way (a doubling).
        old = self._table
        live = self._used
        bits = 4
        while 2 * live > (1 << bits):
            bits += 1
        self._alloc(bits)
        self._used = _rehash_kernel(old, self._table, self._shift)


def warmup() -> None:
    """Compile (or load from numba's on-disk cache) the kernels."""
    counter = VoxelCounter(16)
    keys = voxel_keys(np.arange(30, dtype=np.float32).reshape(10, 3), 0.5)
    counter.add(keys)  # 10 keys into 16 slots: grows once
    counter.occupied(keys)
    counter.remove(keys)
