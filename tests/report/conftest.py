"""The alert tests' real receivers, for reports sent to them."""

from ..alerts.conftest import http_receiver, smtp_receiver

__all__ = ["http_receiver", "smtp_receiver"]
