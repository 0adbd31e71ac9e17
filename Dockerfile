# The tiers' images, one target each (the agent runs in the edge image):
#
#   deploy/base-image.sh && deploy/wheelhouse.sh          # the base (no registry) and wheels
#   docker build --target edge -t splitvlm-edge .         # ONNX Runtime, no torch
#   docker build --target fog -t splitvlm-fog .           # torch (CPU)
#   docker build --target cloud -t splitvlm-cloud .
#
# Every install is from build/wheels (--no-index): a build needs no network. The checkpoints
# are baked in (the package's splitvlm/checkpoints); the edge's ONNX graphs are exported in a
# torch stage and copied into the edge image. Each tier listens on 0.0.0.0:SPLITVLM_PORT and
# is configured by SPLITVLM_* variables (docs/operations.md, "Containers").
ARG BASE=splitvlm-base:bookworm

FROM ${BASE} AS sources
RUN python3 -m venv /opt/venv
COPY build/wheels /wheels
COPY pyproject.toml README.md /src/
COPY splitvlm /src/splitvlm
COPY edge /src/edge
COPY fog /src/fog
COPY cloud /src/cloud

# The project and its runtime dependencies: ONNX Runtime, numpy, gRPC ... and no torch.
FROM sources AS venv-edge
RUN /opt/venv/bin/pip install --no-cache-dir --no-index --find-links /wheels /src \
    && find /opt/venv -name __pycache__ -prune -exec rm -rf {} +

# Plus torch (the CPU wheel): fog and cloud.
FROM venv-edge AS venv-torch
RUN /opt/venv/bin/pip install --no-cache-dir --no-index --find-links /wheels torch==2.13.0 \
    && find /opt/venv -name __pycache__ -prune -exec rm -rf {} +

# The edge's ONNX graphs (fp32 + INT8 vision prefixes, the edge LM), from the shipped weights.
FROM venv-torch AS export
RUN /opt/venv/bin/pip install --no-cache-dir --no-index --find-links /wheels onnx onnxscript \
    && /opt/venv/bin/splitvlm export --out /onnx

FROM ${BASE} AS runtime
# State lives under /var/lib/splitvlm, owned by the user, so that a named volume mounted on
# certs/, agent/ or frames/ starts owned by it too.
RUN useradd --system --user-group --uid 10001 --home-dir /var/lib/splitvlm --create-home \
        splitvlm \
    && install -d -o splitvlm -g splitvlm /var/lib/splitvlm/certs /var/lib/splitvlm/agent \
        /var/lib/splitvlm/frames
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 \
    SPLITVLM_HOST=0.0.0.0
WORKDIR /var/lib/splitvlm
USER splitvlm
ENTRYPOINT ["/usr/bin/tini", "--", "splitvlm"]
HEALTHCHECK --interval=5s --timeout=5s --start-period=120s --retries=3 \
    CMD splitvlm health 127.0.0.1:"$SPLITVLM_PORT"

FROM runtime AS edge
COPY --from=venv-edge /opt/venv /opt/venv
COPY --from=export /onnx /opt/venv/lib/python3.11/site-packages/splitvlm/checkpoints/onnx
ENV SPLITVLM_PORT=50051
EXPOSE 50051 50061
CMD ["serve", "edge"]

FROM runtime AS fog
COPY --from=venv-torch /opt/venv /opt/venv
ENV SPLITVLM_PORT=50052
EXPOSE 50052
CMD ["serve", "fog"]

FROM runtime AS cloud
COPY --from=venv-torch /opt/venv /opt/venv
ENV SPLITVLM_PORT=50053
EXPOSE 50053
CMD ["serve", "cloud"]
