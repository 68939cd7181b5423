# One image for every SagaPay process. The default command serves the API; compose (or any
# orchestrator) picks the process with the command:
#   node --import tsx api/server.ts              API (this image's default)
#   node --import tsx workers/payments.ts        payments worker (uses the prebuilt workflow bundle)
#   node --import tsx workers/notifications.ts   notifications worker
#   node --import tsx scripts/migrate.ts         migrations + system accounts (one-shot)
#
# Install scripts never run (npm ci --ignore-scripts, as package.json's allowScripts intends):
# the native parts (@node-rs/argon2, @temporalio/core-bridge, esbuild, @swc/core) come prebuilt
# inside npm packages, for linux x64 and arm64 on glibc, which is why the base is Debian, not Alpine.

# Node 22, a long-term-support line (24, the other one, works the same: --build-arg NODE_IMAGE=node:24-bookworm-slim).
ARG NODE_IMAGE=node:22-bookworm-slim

# ---- every dependency, dev ones included: the workflow bundler needs webpack and swc ----
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --ignore-scripts --no-audit --no-fund

# ---- the workflow bundle, built once here instead of at every worker start ----
FROM deps AS bundle
COPY . .
RUN node_modules/.bin/tsx scripts/build-workflow-bundle.ts /app/dist/workflow-bundle.js

# ---- the web wallet, built once (Vite and its prebuilt native parts are dev dependencies) ----
FROM deps AS web
COPY . .
RUN node_modules/.bin/tsx scripts/build-web.ts --out-dir /app/dist/web

# ---- production dependencies only ----
# @temporalio/core-bridge ships its native library for every platform: keep only this one's and
# drop the Rust sources (about 120 MB less). Then prove that both native modules load.
FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && npm cache clean --force \
 && bridge=node_modules/@temporalio/core-bridge \
 && keep="$(node -p "require('./$bridge/common.js').getPrebuiltTargetName()")" \
 && find "$bridge/releases" -mindepth 1 -maxdepth 1 ! -name "$keep" -exec rm -rf {} + \
 && rm -rf "$bridge/sdk-core" \
 && node -e "require('@node-rs/argon2'); require('@temporalio/core-bridge')"

# ---- runtime ----
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    WORKFLOW_BUNDLE_PATH=/app/dist/workflow-bundle.js
WORKDIR /app
# Code and dependencies stay owned by root: the node user can read them, not change them.
COPY --from=prod-deps /app/node_modules ./node_modules
COPY . .
COPY --from=bundle /app/dist/workflow-bundle.js ./dist/workflow-bundle.js
COPY --from=web /app/dist/web ./dist/web
USER node
EXPOSE 3000
# `node --import tsx` loads the TypeScript sources inside the node process itself, so SIGTERM
# reaches the process that shuts down gracefully (the tsx launcher as PID 1 would relay it). Health checks live in docker-compose.yml (the API: GET /readyz).
CMD ["node", "--import", "tsx", "api/server.ts"]
