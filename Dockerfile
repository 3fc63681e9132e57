# Fairywren's image: the single executable on a small Debian base.
#
#   docker build -t fairywren .
#       builds the executable inside (the `release` stage, the default).
#   bun run build && docker build --target prebuilt -t fairywren .
#       ships dist/fairywren built beforehand on the host (a Linux x86-64 or arm64 build matching
#       the image), without the build stage.
#
# BASE names the runtime base image (any Debian or glibc system with useradd), for builders that
# cannot pull the default: e.g. a root made with `debootstrap --variant=minbase bookworm` and
# imported with `podman import`, passed as --build-arg BASE=<its name>.
ARG BASE=debian:bookworm-slim

FROM node:20-bookworm AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build

FROM ${BASE} AS runtime
RUN useradd --system --uid 10001 --home-dir /data fairywren \
  && mkdir -p /data && chown fairywren /data
WORKDIR /data
# The metrics address listens on every interface inside the container, so that a health check or
# Prometheus can reach /readyz and /metrics: publish 9669 only to an admin network.
ENV FAIRYWREN_DATA_DIR=/data FAIRYWREN_METRICS_HOST=0.0.0.0
VOLUME ["/data"]
# 8080: web site and API; 6969: tracker; 9669: /metrics, /healthz, /readyz
EXPOSE 8080 6969 9669
STOPSIGNAL SIGTERM
# `fairywren health` asks /readyz (the database answers and the tracker reports); the base has no curl.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["/usr/local/bin/fairywren", "health"]
ENTRYPOINT ["/usr/local/bin/fairywren"]

FROM runtime AS prebuilt
COPY dist/fairywren /usr/local/bin/fairywren
USER fairywren

FROM runtime AS release
COPY --from=build /src/dist/fairywren /usr/local/bin/fairywren
USER fairywren
