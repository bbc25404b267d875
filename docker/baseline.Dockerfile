# The reference baseline as a challenge container. Build from the repository root:
#   make wheel && docker build -f docker/baseline.Dockerfile \
#       --build-arg WEIGHTS=path/in/context/model.pt -t adaptor/baseline:cpu .
#
# Build arguments:
#   BASE_IMAGE     Debian/Python 3.11 image (default python:3.11-slim-bookworm)
#   TORCH_FLAVOUR  cpu (default: PyTorch's CPU build) or cuda (the index's CUDA build)
#   TORCH_VERSION  default 2.13.0
#   WHEELS         a folder in the context with wheels: the toolkit's wheel (make wheel) and any
#                  others, e.g. torch; wheels there win over the index
#   PIP_OFFLINE    1: install only from WHEELS (air-gapped); 0 (default): the index too
#   WEIGHTS        a trained model.pt (adaptor-baseline train) in the context
ARG BASE_IMAGE=python:3.11-slim-bookworm
FROM ${BASE_IMAGE}
ARG TORCH_FLAVOUR=cpu
ARG TORCH_VERSION=2.13.0
ARG WHEELS=build/wheels
ARG PIP_OFFLINE=0
ARG WEIGHTS=build/weights/model.pt
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/venv/bin:$PATH ADAPTOR_INPUT=/input ADAPTOR_OUTPUT=/output ADAPTOR_WEIGHTS=/app/weights/model.pt
RUN python3 -m venv /opt/venv
COPY ${WHEELS}/ /wheels/
RUN set -e; if [ "$PIP_OFFLINE" = 1 ]; then offline="--no-index"; else offline=""; fi; \
    if ls /wheels/torch-${TORCH_VERSION}*.whl >/dev/null 2>&1 || [ "$PIP_OFFLINE" = 1 ]; then \
        pip install $offline --find-links /wheels "torch==${TORCH_VERSION}"; \
    elif [ "$TORCH_FLAVOUR" = cpu ]; then \
        pip install --index-url https://download.pytorch.org/whl/cpu "torch==${TORCH_VERSION}"; \
    else \
        pip install "torch==${TORCH_VERSION}"; \
    fi; \
    pip install $offline --find-links /wheels "adaptor-toolkit[baseline]"; \
    rm -rf /wheels
COPY submission_template/entrypoint.py submission_template/predictor.py submission_template/imagefile.py /app/
COPY ${WEIGHTS} /app/weights/model.pt
RUN useradd --uid 10001 --no-create-home --home-dir /app --shell /usr/sbin/nologin participant
USER 10001
WORKDIR /app
ENTRYPOINT ["python3", "/app/entrypoint.py"]
CMD ["landmark_detection"]
