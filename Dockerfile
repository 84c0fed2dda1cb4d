# mosn.ts container image (see docs/packaging.md).
#
#   docker build -t mosn-ts .
#   docker run --rm -p 2045:2045 -p 127.0.0.1:34901:34901 mosn-ts
#   curl http://127.0.0.1:2045/            # through the proxy to the built-in demo upstream
#
# Stage 1 installs the pinned Deno from npm (./deno runs `npm ci --prefix tools/deno`) and runs
# `deno compile` (which downloads denort from dl.deno.land: needs internet at build time).
# Stage 2 is a slim, non-root runtime holding only the executable and the configs.
# Both stages are glibc Debian; amd64 and arm64 both work (./deno and denort pick the arch).

ARG BUILD_IMAGE=node:22-bookworm-slim
ARG RUNTIME_IMAGE=debian:bookworm-slim

# ---------------------------------------------------------------------------------------------
FROM ${BUILD_IMAGE} AS build
WORKDIR /src
ENV DENO_NO_UPDATE_CHECK=1 \
    DENO_DIR=/deno-dir \
    NO_COLOR=1

# The toolchain layer changes only when the Deno pin changes.
COPY deno ./deno
COPY tools/deno/package.json tools/deno/package-lock.json tools/deno/
RUN ./deno --version

# Everything else (.dockerignore keeps out .git, node_modules, dist, tests, bench, docs).
COPY . .
RUN ./deno install --frozen \
 && ./deno task compile --compile-only \
 && ./dist/mosn version

# Container variants of configs/*.json: listeners and the admin API that bind 127.0.0.1 or
# localhost bind 0.0.0.0 instead (127.0.0.1 inside a container is unreachable from outside).
# Upstream addresses are left alone (the demo upstream stays on 127.0.0.1 inside the container).
RUN mkdir -p /out/etc \
 && node -e ' \
      const fs = require("fs"); \
      const [src, dst] = process.argv.slice(1); \
      fs.cpSync(src, dst, { recursive: true }); \
      const local = /^(127\.0\.0\.1|localhost):/; \
      for (const f of fs.readdirSync(dst).filter((n) => n.endsWith(".json"))) { \
        const c = JSON.parse(fs.readFileSync(dst + "/" + f, "utf8")); \
        for (const s of c.servers || []) for (const l of s.listeners || []) \
          if (typeof l.address === "string") l.address = l.address.replace(local, "0.0.0.0:"); \
        const a = c.admin && c.admin.address && c.admin.address.socket_address; \
        if (a && (a.address === "127.0.0.1" || a.address === "localhost")) a.address = "0.0.0.0"; \
        fs.writeFileSync(dst + "/" + f, JSON.stringify(c, null, 2) + "\n"); \
      }' configs /out/etc/mosn \
 && ./dist/mosn validate -c /out/etc/mosn/default.json \
 && grep -q '"0.0.0.0:2045"' /out/etc/mosn/default.json

# ---------------------------------------------------------------------------------------------
FROM ${RUNTIME_IMAGE}
RUN groupadd --system --gid 10001 mosn \
 && useradd --system --uid 10001 --gid mosn --home-dir /var/lib/mosn --create-home \
      --shell /usr/sbin/nologin mosn

COPY --from=build /src/dist/mosn /usr/local/bin/mosn
COPY --from=build /out/etc/mosn/ /etc/mosn/

USER 10001:10001
WORKDIR /var/lib/mosn
# 2045: the default listener; 34901: the admin API. It binds 0.0.0.0 in the container, so its API
# answers only with admin.token set (Authorization: Bearer); /ready stays open for HEALTHCHECK.
EXPOSE 2045 34901
# `mosn healthcheck` = GET http://127.0.0.1:34901/ready must answer 200; pass another URL when
# a mounted config moves the admin API.
HEALTHCHECK --interval=10s --timeout=5s --start-period=5s --retries=3 \
  CMD ["/usr/local/bin/mosn", "healthcheck"]
# SIGTERM drains connections for up to graceful_timeout (30s in default.json): give
# `docker stop -t 35` / terminationGracePeriodSeconds >= 35 to let it finish.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/mosn"]
CMD ["start", "-c", "/etc/mosn/default.json"]
