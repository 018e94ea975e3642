"""Captures, imports and exports: everything that turns files into core events and back.

Consumers open any input with :func:`read_events`; the proxy records with :class:`CaptureWriter`.
"""

from proxy.capture.oot import ExportReport
from proxy.capture.reader import read_capture
from proxy.capture.report import CaptureError, ReadReport, SourceError
from proxy.capture.sources import FORMATS, detect_format, export_to_oot, read_events
from proxy.capture.writer import CaptureWriteError, CaptureWriter

__all__ = [
    "FORMATS",
    "CaptureError",
    "CaptureWriteError",
    "CaptureWriter",
    "ExportReport",
    "ReadReport",
    "SourceError",
    "detect_format",
    "export_to_oot",
    "read_capture",
    "read_events",
]
