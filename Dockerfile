# syntax=docker/dockerfile:1
# zai-proxy container image: `zai-proxy <command>` is the entrypoint (serve, dashboard, sim, ...).
#
# Two stages. The build stage installs every dependency (TypeScript, Vite), compiles, then prunes
# to production dependencies; the runtime stage copies only dist/, web/dist/ and that pruned
# node_modules. better-sqlite3 is a native addon compiled during `npm ci`, so both stages must run
# the same Node major on the same libc: pick BUILD_IMAGE and RUNTIME_IMAGE as a pair (the defaults
# are the official full and slim images of one Node release). BUILD_IMAGE needs python3, make and
# a C++ compiler; RUNTIME_IMAGE needs only node.
#   podman build -t zai-proxy:0.1.0 .
#   podman build --build-arg RUNTIME_IMAGE=my-registry/node:20-slim -t zai-proxy:0.1.0 .
ARG BUILD_IMAGE=node:20-bookworm
ARG RUNTIME_IMAGE=node:20-bookworm-slim

FROM ${BUILD_IMAGE} AS build
WORKDIR /app
# node-gyp compiles better-sqlite3 against the headers installed with node (no download).
ENV npm_config_nodedir=/usr/local npm_config_fund=false npm_config_audit=false npm_config_update_notifier=false
COPY package.json package-lock.json ./
# `prepare` (the build) needs the sources: install without scripts, then build the native addon.
RUN npm ci --ignore-scripts && npm rebuild better-sqlite3
COPY tsconfig.json ./
COPY bin ./bin
COPY src ./src
COPY web ./web
RUN npm run build && npm prune --omit=dev

FROM ${RUNTIME_IMAGE} AS runtime
ARG VERSION=0.1.0
ARG COMMIT=unknown
WORKDIR /app
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    DASHBOARD_HOST=0.0.0.0 \
    RATE_LIMIT_STATE_FILE=/var/lib/zai-proxy/limiter-state.json \
    DB_PATH=/var/lib/zai-proxy/dashboard.sqlite \
    ZAI_PROXY_VERSION=${VERSION} \
    ZAI_PROXY_COMMIT=${COMMIT}
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/bin ./bin
COPY --from=build /app/dist ./dist
COPY --from=build /app/web/dist ./web/dist
# The only writable path: limiter state and the dashboard's SQLite history. UID 1000 matches the
# Kubernetes manifests' runAsUser.
RUN mkdir -p /var/lib/zai-proxy && chown 1000:1000 /var/lib/zai-proxy
VOLUME ["/var/lib/zai-proxy"]
USER 1000:1000
EXPOSE 8080 3000
# The proxy's /health (PORT) or the dashboard's /healthz (DASHBOARD_PORT): src/container/healthcheck.ts.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["node", "dist/container/healthcheck.js"]
ENTRYPOINT ["node", "bin/zai-proxy"]
CMD ["serve"]
