"""Catching what the client under test logs: a test fails on any ERROR record it did not expect."""

from __future__ import annotations

import logging


class ErrorRecords(logging.Handler):
    """Collects ERROR records from every logger."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
