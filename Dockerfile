# cloudops-watcher: one task per AWS account and Region (see ecs-task.json).
# Build:  docker build -t cloudops-watcher .
# Run the demo (embedded simulated cloud):  docker run -p 8080:8080 cloudops-watcher
# Run on AWS:  docker run -v /srv/cloudops:/data cloudops-watcher run --policy /data/policy.yaml

# ---- build: compile TypeScript, then keep production dependencies only ----
FROM node:20-bookworm-slim AS build
# better-sqlite3 compiles its native addon when no prebuilt binary can be fetched.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund \
 && npm cache clean --force

# ---- runtime: no compiler, no dev dependencies, not root ----
FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    CLOUDOPS_DATA_DIR=/tmp/cloudops \
    AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE=1
WORKDIR /app
COPY --from=build --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/dist ./dist
COPY --chown=root:root package.json ./
COPY --chown=root:root bin ./bin
COPY --chown=root:root config ./config
COPY --chown=root:root runbooks ./runbooks
COPY --chown=root:root prompts ./prompts
# Everything above is read-only to the daemon; it writes only under CLOUDOPS_DATA_DIR (/tmp here, or a
# mounted volume such as /data), so the task runs with readonlyRootFilesystem.
USER node
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8080/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# node is PID 1 and handles SIGTERM itself (stop polling, finish the write in flight, exit 0 within 10 s).
# V8 heap flags: src/pipeline/heap-flags.ts says why (test/process/heap-flags.test.ts keeps them equal).
ENTRYPOINT ["node", "--max-semi-space-size=2", "--heap-growing-percent=50", "bin/cloudops.js"]
CMD ["run", "--policy", "config/demo.yaml", "--log-level", "info"]
