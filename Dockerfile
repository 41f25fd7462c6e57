# syntax=docker/dockerfile:1
# mana-llm: multi-stage image. `build` compiles with the dev dependencies, `deps` installs the production
# dependencies only, `runtime` gets dist/ + production node_modules and runs as the unprivileged `node` user.
ARG NODE_IMAGE=node:22-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    PORT=3025
WORKDIR /app
# Root-owned and read-only for the app user: the process writes nothing into its own tree.
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json aliases.yaml ./
# `node` (uid/gid 1000) comes with the official image; numeric so Kubernetes' runAsNonRoot can verify it.
USER 1000:1000
EXPOSE 3025
# No curl in slim images: Node itself asks /health/live (200 while the process serves).
HEALTHCHECK --interval=15s --timeout=5s --start-period=15s --retries=3 \
  CMD ["node", "-e", "require('http').get({host:'127.0.0.1',port:process.env.PORT||3025,path:'/health/live',timeout:4000},r=>process.exit(r.statusCode===200?0:1)).on('timeout',()=>process.exit(1)).on('error',()=>process.exit(1))"]
# node is PID 1 and receives SIGTERM itself (no npm or shell wrapper): graceful drain, exit code 0.
CMD ["node", "dist/main.js"]
