# syntax=docker/dockerfile:1
# The riskmon image: the `riskmon` CLI and everything its worker needs. docker-compose.yml
# builds it for the `worker` and `producer` services; `docker run IMAGE tickets list` works too.

# Build stage: wheels of the package (`pip wheel .`) and of its dependencies. durable-rules is
# published as source only (a C extension), so this stage has a C compiler; the image does not.
FROM python:3.11-slim AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc libc6-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
# The wheels are mounted for this step only, so they take no room in the image.
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    pip install --no-index --find-links=/wheels order-risk-monitor
# Not root. /data is RISKMON_DATA_DIR: embedded Redis (when RISKMON_REDIS_URL is unset), dead
# letters, the worker's local table files.
RUN useradd --system --create-home --uid 10001 riskmon \
    && mkdir /data \
    && chown riskmon:riskmon /data
USER riskmon
WORKDIR /data
ENV RISKMON_DATA_DIR=/data
# Prometheus metrics of `riskmon worker --metrics-port 9464`
EXPOSE 9464
ENTRYPOINT ["riskmon"]
CMD ["--help"]
