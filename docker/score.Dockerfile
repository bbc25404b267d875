# Slim scoring image for organisers: adaptor-score only, no torch. Build from the repository root:
#   make wheel && docker build -f docker/score.Dockerfile -t adaptor/score .
#   docker run --rm --network none -v "$PWD/gt:/gt:ro" -v "$PWD/pred:/pred:ro" adaptor/score score /gt /pred
# Build arguments: BASE_IMAGE, WHEELS, PIP_OFFLINE (as in baseline.Dockerfile).
ARG BASE_IMAGE=python:3.11-slim-bookworm
FROM ${BASE_IMAGE}
ARG WHEELS=build/wheels
ARG PIP_OFFLINE=0
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/venv/bin:$PATH
RUN python3 -m venv /opt/venv
COPY ${WHEELS}/ /wheels/
RUN if [ "$PIP_OFFLINE" = 1 ]; then offline="--no-index"; else offline=""; fi \
    && pip install $offline --find-links /wheels adaptor-toolkit \
    && rm -rf /wheels \
    && useradd --uid 10001 --no-create-home --shell /usr/sbin/nologin scorer
USER 10001
ENTRYPOINT ["adaptor-score"]
CMD ["--help"]
