# The replicator task (Fargate): one long-lived process per source master, started by the API.
# Runs the TypeScript entry with tsx (no build step, same code as the CLI), on Node 22 like Lambda.
FROM public.ecr.aws/docker/library/node:22-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY core ./core
COPY functions ./functions
USER node
# Fargate sends SIGTERM and waits stopTimeout (≤ 120 s): the entry flushes and checkpoints on it.
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "--import", "tsx", "functions/replicator.ts"]
