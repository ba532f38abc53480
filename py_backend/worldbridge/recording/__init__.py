"""Recording engine trajectories as training data (nerfstudio-compatible datasets on disk).

Writer: :class:`DatasetWriter` (background PNG encoding, a crash-safe journal, atomic
``transforms.json``). Reader: :func:`load_dataset`, :class:`Dataset`, :class:`FrameRecord`;
:func:`repair_dataset` rebuilds ``transforms.json`` of a recording that was cut off. See
:mod:`worldbridge.recording.layout` for the files and :mod:`worldbridge.recording.png_codec`
for how depth is stored (uint16 millimetres).
"""

from worldbridge.recording.dataset_metadata import update_dataset_metadata
from worldbridge.recording.dataset_reader import Dataset, RepairReport, load_dataset, repair_dataset
from worldbridge.recording.dataset_writer import DatasetWriter
from worldbridge.recording.errors import (
    DatasetError,
    DatasetExistsError,
    DatasetNameError,
    DatasetNotFoundError,
    RecordingError,
)
from worldbridge.recording.frame_record import FrameRecord
from worldbridge.recording.layout import FORMAT_VERSION, dataset_path, validate_dataset_name
from worldbridge.recording.png_codec import DEPTH_MAX_M

__all__ = [
    "DatasetWriter", "Dataset", "FrameRecord", "RepairReport", "load_dataset", "repair_dataset",
    "update_dataset_metadata",
    "DatasetError", "DatasetExistsError", "DatasetNameError", "DatasetNotFoundError",
    "RecordingError", "FORMAT_VERSION", "DEPTH_MAX_M", "dataset_path", "validate_dataset_name",
]
