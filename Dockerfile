# vtune-bench in a container, for the Slurm (Apptainer/Singularity can run it) and Kubernetes recipes in
# examples/. Everything is installed at build time; the container needs no network at run time (the embedded
# engine and the project's base model, models/vtb-base.gguf, are inside). Hosted providers (openai, hf) of
# course reach their own services, with keys from the container's environment, never from the image.
#
#   docker build --build-arg GIT_SHA="$(git rev-parse HEAD)" -t vtune-bench .
#   docker run --rm -v "$PWD/results:/app/results" vtune-bench run fast
#
# GIT_SHA: the image has no .git; the commit is recorded in manifests from it, and `worker` refuses jobs from
# a coordinator at another commit, so build from the commit your coordinator runs.
FROM node:20-bookworm-slim

WORKDIR /app
ENV NODE_ENV=production \
    npm_config_update_notifier=false \
    npm_config_fund=false \
    npm_config_audit=false

# Dependencies first (cached while only the sources change). `npm ci` also builds the WebAssembly kernels
# (the `prepare` script), which needs the sources of the kernels and the build script.
COPY package.json package-lock.json ./
COPY scripts ./scripts
COPY src/engine/assembly ./src/engine/assembly
RUN npm ci --include=dev && npm cache clean --force

COPY . .

ARG GIT_SHA=""
ENV VTUNE_GIT_SHA=${GIT_SHA} \
    VTUNE_CACHE=/app/.cache
RUN mkdir -p /app/results /app/.cache && chown node:node /app/results /app/.cache
# Results and the training cache are volumes: mount them to keep them.
VOLUME ["/app/results", "/app/.cache"]
USER node
ENTRYPOINT ["node", "/app/bin/vtune-bench.js"]
CMD ["--help"]
