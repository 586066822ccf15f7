# eastwatch image for docker-compose.yml: Node 20, built once, `eastwatch` as the entrypoint.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/scripts ./scripts
# Read at run time: the Hubble protos (Relay client) and the example inventory.
COPY --from=build /app/ingest/hubble/proto ./ingest/hubble/proto
COPY --from=build /app/inventory/example-64-nodes.yaml ./inventory/example-64-nodes.yaml
COPY package.json ./
# The home (saved positions, API tokens): a volume in docker-compose.yml, writable by the user eastwatch runs as.
RUN mkdir -p /var/lib/eastwatch && chown node:node /var/lib/eastwatch
ENV EASTWATCH_HOME=/var/lib/eastwatch
USER node
ENTRYPOINT ["node", "dist/cli/main.js"]
CMD ["start"]
