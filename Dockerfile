# Build the single executable, then ship it alone on a small base image.
FROM node:20-bookworm AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build

FROM debian:bookworm-slim
RUN useradd --system --uid 10001 --home-dir /data fairywren \
  && mkdir /data && chown fairywren /data
COPY --from=build /src/dist/fairywren /usr/local/bin/fairywren
USER fairywren
WORKDIR /data
ENV FAIRYWREN_DATA_DIR=/data
VOLUME ["/data"]
# 8080: web site and API; 6969: tracker
EXPOSE 8080 6969
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/fairywren"]
