"""Every line the service logger writes, kept in memory as Powertools writes it (JSON), for the leak scan."""

from __future__ import annotations

import logging
import threading

from novamart_payments import observability


class LogCapture(logging.Handler):
    """Keeps every line the service logger writes, formatted exactly as Powertools writes it (JSON)."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.setFormatter(observability.logger.registered_formatter)
        self.lines: list[str] = []
        self._guard = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        line = self.format(record)
        with self._guard:
            self.lines.append(line)
