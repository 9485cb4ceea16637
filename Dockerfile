# syntax=docker/dockerfile:1
#
# anomalyd container image: `make docker` (or docker build --build-arg VERSION=… .).
#
# The build stage runs `make build`, so the binary is built with exactly the
# flags of a local `make build` (BUILD_FLAGS in the Makefile: static,
# CGO_ENABLED=0, -trimpath, the version stamped in). The image holds nothing
# but that binary: distroless "static", non-root (uid/gid 65532).
#
#   docker run -v anomalyd-socket:/run/anomalyd anomalyd:VERSION
#
# serves on /run/anomalyd/anomalyd.sock (a volume: mount it into kapacitord's
# container too). Configure it with ANOMALYD_* variables or a file
# (-v ./anomalyd.toml:/etc/anomalyd/anomalyd.toml -e ANOMALYD_CONFIG=/etc/anomalyd/anomalyd.toml).
# See docs/operations.md.

ARG GO_VERSION=1.26.8

FROM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
ENV GOTOOLCHAIN=local
COPY go.mod go.sum ./
RUN go mod download
COPY Makefile ./
COPY cmd ./cmd
COPY pkg ./pkg
ARG VERSION=dev
RUN make build VERSION="${VERSION}" && ./anomalyd version \
 && mkdir -p /out/run/anomalyd && cp anomalyd /out/anomalyd

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/anomalyd /usr/local/bin/anomalyd
# The socket's directory, owned by the daemon's user; a volume, to share the
# socket with kapacitord's container.
COPY --from=build --chown=65532:65532 /out/run/anomalyd /run/anomalyd
USER 65532:65532
ENV ANOMALYD_SERVE_SOCKET=/run/anomalyd/anomalyd.sock
VOLUME ["/run/anomalyd"]
# The health check asks the daemon for its info over the socket, as
# kapacitord does (`anomalyd health` reads ANOMALYD_SERVE_SOCKET).
HEALTHCHECK --interval=10s --timeout=5s --start-period=5s --retries=3 \
  CMD ["/usr/local/bin/anomalyd", "health", "--timeout", "3s"]
# SIGTERM: stop accepting, finish in-flight detections (agent.shutdown_timeout,
# 10s), exit 0. Give `docker stop` more than that: docker stop -t 30.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/anomalyd"]
CMD ["serve"]
