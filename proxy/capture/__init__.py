"""Captures, imports and exports: everything that turns files into core events and back.

Consumers open any input with :func:`read_events`; the proxy records with :class:`CaptureWriter`.
"""

from ocppscope.proxy.capture.oot import ExportReport
from ocppscope.proxy.capture.reader import read_capture
from ocppscope.proxy.capture.report import CaptureError, ReadReport, SourceError
from ocppscope.proxy.capture.sources import FORMATS, detect_format, export_to_oot, read_events
from ocppscope.proxy.capture.writer import CaptureWriteError, CaptureWriter

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
