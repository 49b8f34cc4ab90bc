# syntax=docker/dockerfile:1
#
# One image for both ECS services; the task definition chooses the command:
#   worker:     node --max-old-space-size=768 dist/worker.js   (default CMD)
#   bridge:     node --max-old-space-size=512 dist/bridge/main.js
#   operator:   `kiosk db migrate`, `kiosk schedule create --cron "..."`, every command of `kiosk --help`
#
# Build (see terraform/README.md):
#   docker build --platform linux/amd64 -t kiosk-pipeline:$(git rev-parse --short HEAD) .
# To pin the base image by digest, append @sha256:<digest> to the FROM line below.
#
# The worker and the bridge each serve /healthz and /readyz on their own loopback port; the ECS task
# definitions probe them (terraform/ecs.tf), since one image runs either service.
#checkov:skip=CKV_DOCKER_2:One image runs two services on different health ports (worker 9464, bridge 9465); the ECS task definition of each service carries its own healthCheck on /readyz, which an image-wide HEALTHCHECK could not express.

# ---------------------------------------------------------------------------
# base: the Node.js runtime shared by every stage
# ---------------------------------------------------------------------------
FROM node:24.22.3-bookworm-slim AS base
WORKDIR /app
ENV NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false \
    NPM_CONFIG_AUDIT=false

# ---------------------------------------------------------------------------
# build: all dependencies, TypeScript -> dist/, prebuilt Temporal workflow bundle
# ---------------------------------------------------------------------------
FROM base AS build
COPY package.json package-lock.json ./
# No dependency needs its install scripts (native binaries ship inside the npm packages).
RUN npm ci --ignore-scripts
COPY . .
RUN npm run build:bundle \
 && npx tsc -p tsconfig.build.json \
 && test -f dist/worker.js \
 && test -f dist/bridge/main.js \
 && test -f dist/client.js \
 && test -f dist/workflow-bundle.js

# ---------------------------------------------------------------------------
# prod-deps: production dependencies only
# ---------------------------------------------------------------------------
FROM base AS prod-deps
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts \
 && npm cache clean --force

# ---------------------------------------------------------------------------
# certs: the Amazon RDS CA bundle, so DATABASE_URL can use sslmode=verify-full
# ---------------------------------------------------------------------------
FROM base AS certs
ARG RDS_CA_BUNDLE_URL=https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem
RUN mkdir -p /certs \
 && node -e " \
      fetch(process.argv[1]).then(async (res) => { \
        if (!res.ok) throw new Error('HTTP ' + res.status + ' for ' + process.argv[1]); \
        const pem = await res.text(); \
        if (!pem.includes('BEGIN CERTIFICATE')) throw new Error('not a PEM bundle: ' + process.argv[1]); \
        require('node:fs').writeFileSync('/certs/rds-ca-bundle.pem', pem); \
      }).catch((err) => { console.error(err.message); process.exit(1); });" \
      "${RDS_CA_BUNDLE_URL}"

# ---------------------------------------------------------------------------
# runtime: compiled code + production node_modules, owned by root, run as "node"
# ---------------------------------------------------------------------------
FROM base AS runtime
# S3_ENDPOINT="" means AWS S3 with the task role's credentials (infra/config.ts); override it
# with -e S3_ENDPOINT=http://... to run the image against a local S3-compatible server.
ENV NODE_ENV=production \
    NODE_OPTIONS=--enable-source-maps \
    WORKFLOW_BUNDLE_PATH=/app/dist/workflow-bundle.js \
    S3_ENDPOINT=""
COPY package.json ./
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=certs /certs ./certs
# The operator's command by its one name (package.json "bin"); bin/kiosk runs dist/client.js here.
COPY bin ./bin
RUN ln -s /app/bin/kiosk /usr/local/bin/kiosk
# The official image's unprivileged user (uid/gid 1000); the code stays read-only to it.
USER node
# A fixed V8 heap cap keeps the worker's memory steady whatever the task size: without it V8 sizes the heap
# from the memory it sees and lets garbage build up before collecting (bench/README.md, "Memory").
CMD ["node", "--max-old-space-size=768", "dist/worker.js"]
