# Agentbase: one self-contained binary on a slim base. Build: docker build -t agentbase .
# Run:   docker run -d -p 8090:8090 -v agentbase-data:/data agentbase

# --- build: install the pinned toolchain (bun comes from npm) and compile ----------------------------
FROM node:22-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && ./dist/agentbase version

# --- runtime: only the binary (migrations and Swagger UI assets are embedded) ------------------------
FROM debian:bookworm-slim
RUN groupadd --system --gid 10001 agentbase \
 && useradd --system --uid 10001 --gid agentbase --home-dir /data --no-create-home --shell /usr/sbin/nologin agentbase \
 && mkdir -p /data && chown agentbase:agentbase /data
COPY --from=build /src/dist/agentbase /usr/local/bin/agentbase
ENV AGENTBASE_DATA_DIR=/data \
    PORT=8090 \
    HOST=0.0.0.0
VOLUME ["/data"]
WORKDIR /data
USER agentbase:agentbase
EXPOSE 8090
# The binary checks itself (GET http://127.0.0.1:$PORT/health): no curl in the image.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 CMD ["agentbase", "health"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["agentbase"]
CMD ["serve"]
