# backup-setup bot. Node 24 runs the TypeScript sources directly (type stripping): nothing is compiled.
# One base image, the official Node image of the project's Node version (package.json
# devDependencies.node; test/deploy/deploy.test.ts holds them together), pinned by the digest of its
# multi-arch index (`docker buildx imagetools inspect node:<version>-bookworm-slim`). It installs the
# production dependencies and provides the runtime's files; the final image holds only node, the C
# libraries it links, and the app: no shell, npm or Node headers.
ARG NODE_IMAGE=node:24.21.0-bookworm-slim@sha256:d6aa754f16b3197301076f047b5def2f02ea1dbbc2ca920407d46d7ec7f87b20

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# Behind a TLS-intercepting proxy, pass its CA bundle as the build secret `npm-ca`
# (`--secret id=npm-ca,src=<file>`): it is mounted for this step only and stored in no layer.
# Node never loads TypeScript or source maps from node_modules, so they go (70 MB).
RUN --mount=type=secret,id=npm-ca \
    if [ -f /run/secrets/npm-ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/npm-ca; fi; \
    npm ci --omit=dev --no-audit --no-fund --no-update-notifier \
    && find node_modules -type f \( -name '*.ts' -o -name '*.mts' -o -name '*.cts' -o -name '*.map' \) -delete

FROM ${NODE_IMAGE} AS rootfs
COPY deploy/docker/runtime-rootfs.sh /usr/local/bin/runtime-rootfs
RUN runtime-rootfs /rootfs

FROM scratch AS runtime
COPY --from=rootfs /rootfs /
ENV PATH=/usr/local/bin \
    NODE_ENV=production \
    PORT=3000 \
    STATE_DIR=/data
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY src ./src
COPY flows ./flows
COPY deploy/bot-ram-policy.json ./deploy/bot-ram-policy.json
# Numeric, so that Kubernetes runAsNonRoot can verify it (uid 1000 is `node` in /etc/passwd).
USER 1000:1000
VOLUME ["/data"]
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "src/main.ts"]
