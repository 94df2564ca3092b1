# syntax=docker/dockerfile:1
# The mail2waf worker image: compiled code and the prebuilt workflow bundle (npm run build), runtime dependencies
# only, Node 24 LTS, a non-root user, and a HEALTHCHECK on the worker's /readyz.
#
#   docker build -t mail2waf .
#   docker run --env-file mail2waf.env -p 9464:9464 mail2waf                  (the worker: CMD mail2waf worker)
#   docker run --rm --env-file mail2waf.env mail2waf mail2waf doctor          (any other command)
#
# test/unit/docker-compose.test.ts runs this file's COPY and RUN steps as a script in a temporary folder (there is
# no Docker engine on the build machines): keep RUN steps to relative paths inside WORKDIR (mounts aside).
ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# The npm cache lives in a BuildKit cache mount: reused between builds, never in a layer.
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/build-bundle.ts ./scripts/
COPY src ./src
# lib/ (tsc) and lib/workflow-bundle.js (the workflows bundled ahead of time, so the worker never runs webpack).
RUN npm run build

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
# Runtime dependencies only: no TypeScript, tsx, jest or the local stack's SMTP relay.
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --no-audit --no-fund
COPY bin ./bin
COPY --from=build /app/lib ./lib
# The files belong to root and are read-only for the user that runs them.
USER node
ENV PATH=/app/bin:$PATH \
    HEALTH_HOST=0.0.0.0 \
    HEALTH_PORT=9464
EXPOSE 9464
# Docker marks the container unhealthy when /readyz answers 503 (or not at all) three times in a row. Slim images
# have no curl: Node's fetch does it. The start period covers the preflight checks and the connection to Temporal.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.HEALTH_PORT || 9464) + '/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# SIGTERM drains (SHUTDOWN_GRACE, default 30s): give `docker stop -t` / stop_grace_period / the pod's
# terminationGracePeriodSeconds at least SHUTDOWN_GRACE + 10s.
CMD ["mail2waf", "worker"]
