# syntax=docker/dockerfile:1
# Build stage: compile TypeScript and native modules (better-sqlite3, argon2) with the full toolchain.
FROM node:20-bookworm AS build
WORKDIR /app
COPY package.json package-lock.json ./
# npm install (locked versions), not npm ci: the lockfile was made against a registry without other
# platforms' optional binaries (@swc/core-darwin-*, ...), which npm ci insists on finding listed.
RUN npm install --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY migrations ./migrations
COPY sandbox ./sandbox
COPY ui ./ui
RUN npm run build && npm prune --omit=dev

# Runtime stage: production dependencies and compiled code only, as a non-root user.
FROM node:20-bookworm-slim
ENV NODE_ENV=production PORT=3000 DATA_DIR=/data
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/ui ./ui
COPY package.json ./
RUN mkdir -p /data && chown node:node /data
USER node
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s CMD node -e "fetch('http://127.0.0.1:'+process.env.PORT+'/health/live').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"
# The flags of `npm run start:prod` (package.json): a young generation of 2 x 8 MB (docs/performance.md, round 7).
CMD ["node", "--max-semi-space-size=8", "dist/src/main.js"]
