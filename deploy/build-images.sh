#!/usr/bin/env bash
# Builds Agora's image on a machine with a Docker engine but no reachable container registry.
#
# The Dockerfile starts FROM a Node image and compose.yaml runs Redis and Postgres images that
# nobody can pull here, so this script makes stand-ins under exactly those tags, once:
#   a Debian bookworm minbase root filesystem (debootstrap, from the mirror apt already uses),
#   imported with `docker import`; on it, the machine's own Node and npm with user `node`
#   (uid 1000) and the machine's CA bundle; Debian's redis-server; Debian's postgresql-15,
#   each with a small entrypoint doing what the official images' entrypoints do; Debian's
#   prometheus, under the tag the monitoring profile of compose.override.yaml names.
# Then it builds the Agora image with `docker build --network host -f deploy/Dockerfile .`.
# Where a registry is reachable, none of this is needed: the official images are used as they
# are. Nothing in compose.yaml, the Dockerfile or deploy/k8s is changed.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: deploy/build-images.sh [--stand-ins-only] [--rebuild-stand-ins] [--tag TAG]

Builds the stand-in base, Redis, Postgres and Prometheus images when they are missing (reused
when present and made from the same Node), then the Agora image. Run as root (debootstrap,
chroot).

  --stand-ins-only     build only the stand-in images, not the Agora image
  --rebuild-stand-ins  build the stand-ins again even when they are present
  --tag TAG            tag of the Agora image (default: agora:latest, compose.yaml's default)
  -h, --help           this text

Environment:
  NODE_BIN      the Node binary copied into the base image (default: $(command -v node));
                its major version must be the one the Dockerfile's base image tag names;
                npm is taken from beside it (<prefix>/lib/node_modules/npm), else from PATH
  CA_BUNDLE     CA certificates copied in (default: /etc/ssl/certs/ca-certificates.crt)
  DEBIAN_MIRROR Debian mirror for debootstrap (default: the first one in /etc/apt/sources.list*)
  CACHE_DIR     where the root filesystem is kept between runs (default: /var/cache/agora-images)
EOF
}

cd "$(dirname "${BASH_SOURCE[0]}")/.."

stand_ins_only=false
rebuild=false
agora_tag=agora:latest
while (($# > 0)); do
  case $1 in
    --stand-ins-only) stand_ins_only=true ;;
    --rebuild-stand-ins) rebuild=true ;;
    --tag)
      agora_tag=${2:?--tag needs a value}
      shift
      ;;
    -h | --help)
      usage
      exit 0
      ;;
    *)
      usage >&2
      exit 2
      ;;
  esac
  shift
done

NODE_BIN=${NODE_BIN:-$(command -v node || true)}
CA_BUNDLE=${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}
CACHE_DIR=${CACHE_DIR:-/var/cache/agora-images}
readonly suite=bookworm
# The classic builder: BuildKit would fetch the `# syntax=` frontend image from a registry.
export DOCKER_BUILDKIT=0

section() { printf '\n==> %s\n' "$*"; }
fail() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}

# The tags the deployment files expect, read from them so that they stay the only source.
node_image=$(sed -n 's/^ARG NODE_IMAGE=\(.*\)$/\1/p' deploy/Dockerfile | head -n 1)
redis_image=$(sed -n 's/^ *image: \(redis:.*\)$/\1/p' deploy/compose.yaml | head -n 1)
postgres_image=$(sed -n 's/^ *image: \(postgres:.*\)$/\1/p' deploy/compose.yaml | head -n 1)
prometheus_image=$(sed -n 's/^ *image: ${AGORA_PROMETHEUS_IMAGE:-\(.*\)}$/\1/p' \
  deploy/compose.override.yaml | head -n 1)
[[ -n $node_image && -n $redis_image && -n $postgres_image && -n $prometheus_image ]] ||
  fail 'could not read the image tags from deploy/Dockerfile, compose.yaml and compose.override.yaml'
rootfs_image=agora-stand-in/debian:$suite-minbase

command -v docker >/dev/null || fail 'docker is missing: apt-get install docker.io'
docker info >/dev/null 2>&1 || fail 'the Docker engine does not answer: start dockerd (as root)'

[[ -n $NODE_BIN && -x $NODE_BIN ]] || fail "no Node binary at NODE_BIN='$NODE_BIN'"
node_version=$("$NODE_BIN" --version)
node_major=${node_version#v}
node_major=${node_major%%.*}
# node:22-bookworm-slim -> 22: a stand-in must not claim a Node it does not carry.
wanted_major=$(sed -n 's/^node:\([0-9]*\).*$/\1/p' <<<"$node_image")
[[ $wanted_major == "$node_major" ]] ||
  fail "deploy/Dockerfile builds on $node_image but NODE_BIN=$NODE_BIN is Node $node_version: set NODE_BIN to a Node $wanted_major binary"
npm_dir=$(dirname "$(dirname "$(readlink -f "$NODE_BIN")")")/lib/node_modules/npm
if [[ ! -f $npm_dir/bin/npm-cli.js ]] && command -v npm >/dev/null; then
  # A Node from the registry's `node` package comes without npm: take the npm on PATH.
  npm_dir=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")
fi
[[ -f $npm_dir/bin/npm-cli.js ]] || fail "no npm beside $NODE_BIN or on PATH (looked in $npm_dir)"
[[ -f $CA_BUNDLE ]] || fail "no CA bundle at $CA_BUNDLE"

# A stand-in is reused when it carries the label this run would give it.
stand_in_id="$suite-minbase node-$node_version"

image_is_current() {
  local label
  label=$(docker image inspect -f '{{ index .Config.Labels "org.agora.stand-in" }}' "$1" 2>/dev/null) ||
    return 1
  [[ $label == "$stand_in_id" ]]
}

# The first Debian mirror (and security mirror) apt is configured with, deb822 or one-line.
apt_uris() {
  cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources \
    2>/dev/null | sed -n -e 's/^URIs: *//p' -e 's/^deb \(\[[^]]*\] \)\?\([^ ]*\) .*/\2/p' |
    tr ' ' '\n'
}
DEBIAN_MIRROR=${DEBIAN_MIRROR:-$(apt_uris | grep -m 1 '/debian/\?$' || true)}
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
security_mirror=$(apt_uris | grep -m 1 '/debian-security/\?$' || true)

# --- the root filesystem: debootstrap once, kept in CACHE_DIR, imported as one image.
build_rootfs() {
  local rootfs=$CACHE_DIR/$suite-minbase
  if [[ ! -f $rootfs/.complete ]]; then
    command -v debootstrap >/dev/null || fail 'debootstrap is missing: apt-get install debootstrap'
    section "debootstrap --variant=minbase $suite from $DEBIAN_MIRROR"
    rm -rf "$rootfs"
    mkdir -p "$rootfs"
    debootstrap --variant=minbase "$suite" "$rootfs" "$DEBIAN_MIRROR"
    {
      printf 'Types: deb\nURIs: %s\nSuites: %s %s-updates\nComponents: main\n' \
        "$DEBIAN_MIRROR" "$suite" "$suite"
      printf 'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n'
      if [[ -n $security_mirror ]]; then
        printf '\nTypes: deb\nURIs: %s\nSuites: %s-security\nComponents: main\n' \
          "$security_mirror" "$suite"
        printf 'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n'
      fi
    } >"$rootfs/etc/apt/sources.list.d/debian.sources"
    rm -f "$rootfs/etc/apt/sources.list"
    # As Docker's debian images do: no documentation, no caches, no services started by apt.
    printf 'path-exclude /usr/share/doc/*\npath-exclude /usr/share/man/*\npath-exclude /usr/share/locale/*\n' \
      >"$rootfs/etc/dpkg/dpkg.cfg.d/docker-minimal"
    printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n' \
      >"$rootfs/etc/apt/apt.conf.d/docker-no-recommends"
    printf '#!/bin/sh\nexit 101\n' >"$rootfs/usr/sbin/policy-rc.d"
    chmod +x "$rootfs/usr/sbin/policy-rc.d"
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* \
      "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/*
    : >"$rootfs/etc/hostname"
    touch "$rootfs/.complete"
  fi
  section "docker import $rootfs_image"
  tar --numeric-owner --exclude=./.complete -C "$rootfs" -c . |
    docker import --change "LABEL org.agora.stand-in=\"$suite-minbase\"" \
      --change 'CMD ["bash"]' - "$rootfs_image"
}

# docker_build <tag> <context dir>: the Dockerfile is <context dir>/Dockerfile.
docker_build() {
  section "docker build $1 (stand-in)"
  docker build --network host --label "org.agora.stand-in=$stand_in_id" -t "$1" "$2"
}

build_node_image() {
  local context=$1/node
  mkdir -p "$context/npm"
  cp "$NODE_BIN" "$context/node"
  cp -a "$npm_dir/." "$context/npm/"
  cp "$CA_BUNDLE" "$context/ca-certificates.crt"
  cat >"$context/Dockerfile" <<EOF
FROM $rootfs_image
COPY node /usr/local/bin/node
COPY npm /usr/local/lib/node_modules/npm
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \\
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \\
 && groupadd --gid 1000 node \\
 && useradd --uid 1000 --gid node --create-home --shell /bin/bash node \\
 && node --version && npm --version
ENV NODE_VERSION=${node_version#v} \\
    NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt \\
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
CMD ["node"]
EOF
  docker_build "$node_image" "$context"
}

build_redis_image() {
  local context=$1/redis
  mkdir -p "$context"
  # What the official image's docker-entrypoint.sh does: run as user redis in /data, and no
  # protected mode (the image has no config file; containers reach it over their network).
  cat >"$context/entrypoint.sh" <<'EOF'
#!/bin/sh
set -e
if [ "${1#-}" != "$1" ]; then set -- redis-server "$@"; fi
if [ "$1" = redis-server ]; then
  shift
  set -- redis-server --protected-mode no "$@"
  if [ "$(id -u)" = 0 ]; then
    chown -R redis:redis /data
    exec setpriv --reuid=redis --regid=redis --init-groups "$@"
  fi
fi
exec "$@"
EOF
  cat >"$context/Dockerfile" <<EOF
FROM $rootfs_image
RUN apt-get update && apt-get install -y redis-server \\
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb /etc/redis \\
 && mkdir /data && chown redis:redis /data
COPY entrypoint.sh /usr/local/bin/docker-entrypoint.sh
VOLUME /data
WORKDIR /data
EXPOSE 6379
ENTRYPOINT ["sh", "/usr/local/bin/docker-entrypoint.sh"]
CMD ["redis-server"]
EOF
  docker_build "$redis_image" "$context"
}

build_postgres_image() {
  local context=$1/postgres
  mkdir -p "$context"
  # What the official image's docker-entrypoint.sh does on an empty data directory: initdb with
  # POSTGRES_USER and POSTGRES_PASSWORD, password logins over the network, POSTGRES_DB created;
  # then Postgres runs as user postgres. Later starts reuse the data directory as it is.
  cat >"$context/entrypoint.sh" <<'EOF'
#!/bin/sh
set -e
if [ "${1#-}" != "$1" ]; then set -- postgres "$@"; fi
if [ "$1" = postgres ] && [ "$(id -u)" = 0 ]; then
  mkdir -p "$PGDATA" /var/run/postgresql
  chown -R postgres:postgres "$PGDATA" /var/run/postgresql
  chmod 700 "$PGDATA"
  exec setpriv --reuid=postgres --regid=postgres --init-groups sh "$0" "$@"
fi
if [ "$1" = postgres ] && [ ! -s "$PGDATA/PG_VERSION" ]; then
  : "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD must be set (the official image asks for it too)}"
  user=${POSTGRES_USER:-postgres}
  db=${POSTGRES_DB:-$user}
  pwfile=$(mktemp)
  printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
  initdb --username="$user" --pwfile="$pwfile" --auth-local=trust --auth-host=scram-sha-256 \
    --encoding=UTF8 -D "$PGDATA"
  rm -f "$pwfile"
  printf 'host all all all scram-sha-256\n' >>"$PGDATA/pg_hba.conf"
  printf "listen_addresses = '*'\n" >>"$PGDATA/postgresql.conf"
  if [ "$db" != postgres ]; then
    printf 'CREATE DATABASE "%s";\n' "$db" | postgres --single -D "$PGDATA" postgres >/dev/null
  fi
fi
exec "$@"
EOF
  cat >"$context/Dockerfile" <<EOF
FROM $rootfs_image
RUN apt-get update && apt-get install -y postgresql-15 \\
 && pg_dropcluster 15 main \\
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb
COPY entrypoint.sh /usr/local/bin/docker-entrypoint.sh
ENV PATH=/usr/lib/postgresql/15/bin:\$PATH \\
    PGDATA=/var/lib/postgresql/data
VOLUME /var/lib/postgresql/data
EXPOSE 5432
# As the official image: SIGINT is Postgres's fast shutdown.
STOPSIGNAL SIGINT
ENTRYPOINT ["sh", "/usr/local/bin/docker-entrypoint.sh"]
CMD ["postgres"]
EOF
  docker_build "$postgres_image" "$context"
}

build_prometheus_image() {
  local context=$1/prometheus
  mkdir -p "$context"
  # As the official image: the binary is the entrypoint, run as nobody, data in /prometheus.
  cat >"$context/Dockerfile" <<EOF
FROM $rootfs_image
RUN apt-get update && apt-get install -y prometheus \\
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb \\
 && mkdir /prometheus && chown nobody:nogroup /prometheus
USER nobody
VOLUME /prometheus
WORKDIR /prometheus
EXPOSE 9090
ENTRYPOINT ["/usr/bin/prometheus"]
CMD ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"]
EOF
  docker_build "$prometheus_image" "$context"
}

stale=()
for image in "$node_image" "$redis_image" "$postgres_image" "$prometheus_image"; do
  if $rebuild || ! image_is_current "$image"; then stale+=("$image"); fi
done
if ((${#stale[@]} == 0)); then
  section "stand-ins present ($stand_in_id): $node_image, $redis_image, $postgres_image, $prometheus_image"
else
  [[ $EUID -eq 0 ]] || fail 'building the stand-ins needs root (debootstrap, chroot): run as root'
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  build_rootfs
  for image in "${stale[@]}"; do
    case $image in
      "$node_image") build_node_image "$work" ;;
      "$redis_image") build_redis_image "$work" ;;
      "$postgres_image") build_postgres_image "$work" ;;
      "$prometheus_image") build_prometheus_image "$work" ;;
    esac
  done
fi

if ! $stand_ins_only; then
  section "docker build $agora_tag"
  docker build --network host -f deploy/Dockerfile -t "$agora_tag" .
fi
