"""Loggers that never write personal data: e-mail addresses are masked in every record.

shopseg logs ids, counts and timings, never request bodies. As a second line of
defence, :class:`PiiFilter` rewrites any e-mail address in a record (message and
arguments) to ``<email>``; :func:`get_logger` attaches it to shopseg's loggers and
:func:`protect_logger` to third-party ones (uvicorn's access log prints paths,
and a customer id may be an e-mail address).

>>> import logging
>>> record = logging.LogRecord("x", logging.INFO, __file__, 1, "customer %s", ("ann@example.com",), None)
>>> PiiFilter().filter(record), record.getMessage()
(True, 'customer <email>')
"""

from __future__ import annotations

import logging
import re
from typing import Any

__all__ = ["PiiFilter", "get_logger", "protect_logger", "redact"]

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+(?:@|%40)[A-Za-z0-9.-]+\.[A-Za-z]{2,}")


def redact(text: str) -> str:
    """``text`` with every e-mail address (also URL-encoded) replaced by ``<email>``."""
    return _EMAIL.sub("<email>", text)


def _clean(value: Any) -> Any:
    return redact(value) if isinstance(value, str) else value


class PiiFilter(logging.Filter):
    """Mask e-mail addresses in a record's message, arguments and exception text."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = _clean(record.msg) if isinstance(record.msg, str) else redact(str(record.msg))
        if isinstance(record.args, tuple):
            record.args = tuple(
                _clean(a) if isinstance(a, str) else redact(str(a)) if not isinstance(a, int | float) else a
                for a in record.args
            )
        elif isinstance(record.args, dict):
            record.args = {k: _clean(v) for k, v in record.args.items()}
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


_FILTER = PiiFilter()


def protect_logger(name: str) -> logging.Logger:
    """Attach the e-mail filter to the logger ``name`` (once) and return it."""
    logger = logging.getLogger(name)
    if _FILTER not in logger.filters:
        logger.addFilter(_FILTER)
    return logger


def get_logger(name: str) -> logging.Logger:
    """A shopseg logger with the e-mail filter attached."""
    return protect_logger(name)
