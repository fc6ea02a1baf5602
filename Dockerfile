# One image for every Parley app; PARLEY_APP picks which one runs.
# Stage 1 builds with dev dependencies; stage 2 carries only production dependencies.
FROM node:24-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY apps ./apps
COPY libs ./libs
RUN npm run build

FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /src/dist ./dist
# The parley CLI, for `docker compose exec decision-api-1 node bin/parley.js status`.
COPY bin ./bin
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
CMD ["sh", "-c", "exec node dist/apps/${PARLEY_APP:?set PARLEY_APP}/src/main.js"]
