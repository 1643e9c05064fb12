"""The alerting errors, under the product's root ``RiskMonitorError``.

AlertsError                  anything the alerting refuses or cannot do
 ├── RoutingError            the routing file is refused (``file:line: message``)
 └── DeliveryError           a receiver did not take a message; ``retryable`` says whether
                             trying again later can help (connection refused, timeout, 5xx)
"""

from __future__ import annotations

from monitor import RiskMonitorError


class AlertsError(RiskMonitorError):
    """Root of the alerting errors."""


class RoutingError(AlertsError):
    """The routing file is refused; the message names ``file:line``."""

    def __init__(self, message: str, *, file: str, line: int | None = None) -> None:
        where = f"{file}:{line}" if line else file
        super().__init__(f"{where}: {message}")


class DeliveryError(AlertsError):
    """A receiver refused or did not answer."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable
