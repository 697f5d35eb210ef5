#!/usr/bin/env bash
# Runs a command (default: the whole test suite) in a hostile environment: everything
# pullback reads by default points somewhere that is not the test world, and every
# decoy records what touches it. The suite must pass and no decoy may be touched.
#
#   scripts/hostile-env.sh [COMMAND...]
#
# Set: DOCKER_HOST, DOCKER_CONTEXT and DOCKER_CONFIG at decoys; a Docker config with
# auths, a credsStore and credHelpers for other registries (the helper records every
# call); HTTPS_PROXY/HTTP_PROXY (both cases) and ALL_PROXY at a proxy that hangs up;
# PULLBACK_REGISTRY_USERNAME/TOKEN; HOME and XDG_RUNTIME_DIR with listening decoy
# sockets wherever a Docker-compatible daemon is looked for, and SSH_AUTH_SOCK at a
# decoy agent. A real /var/run/docker.sock is never touched: pullback's system socket
# paths are inputs the tests replace (connectDocker's systemSockets).
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -gt 0 ] || set -- npx vitest run

root=$(mktemp -d /tmp/pullback-hostile-XXXXXX)
home="$root/home"
runtime="$root/xdg-runtime"
config="$root/docker-config"
log="$root/decoy.log"
mkdir -p "$home" "$runtime" "$config/contexts/meta" "$root/bin"
: >"$log"

# Caches are not configuration: keep the fixture images and npm's packages where they are.
cache="${XDG_CACHE_HOME:-$HOME/.cache}"
npm_cache="${npm_config_cache:-$HOME/.npm}"

cat >"$root/bin/docker-credential-hostile" <<HELPER
#!/bin/sh
echo "credential helper called: \$* \$(cat)" >>"$log"
echo '{"ServerURL":"x","Username":"hostile","Secret":"hostile-helper-secret"}'
HELPER
chmod +x "$root/bin/docker-credential-hostile"

context_hash=$(printf hostile | sha256sum | cut -d' ' -f1)
mkdir -p "$config/contexts/meta/$context_hash"
cat >"$config/contexts/meta/$context_hash/meta.json" <<JSON
{"Name":"hostile","Endpoints":{"docker":{"Host":"unix://$root/context.sock"}}}
JSON
hostile_auth=$(printf 'hostile:hostile-config-secret' | base64)
cat >"$config/config.json" <<JSON
{
  "auths": {
    "https://index.docker.io/v1/": {"auth": "$hostile_auth"},
    "ghcr.io": {"auth": "$hostile_auth"},
    "registry.example.test:5443": {"auth": "$hostile_auth"}
  },
  "credsStore": "hostile",
  "credHelpers": {"quay.io": "hostile", "ghcr.io": "hostile"},
  "currentContext": "hostile",
  "proxies": {"default": {"httpsProxy": "http://127.0.0.1:9", "httpProxy": "http://127.0.0.1:9"}}
}
JSON
# The same config where ~/.docker is looked for when DOCKER_CONFIG is ignored.
cp -r "$config" "$home/.docker"

sockets=(
  "$root/docker-host.sock" "$root/context.sock" "$root/ssh-agent.sock"
  "$home/.docker/run/docker.sock" "$home/.colima/default/docker.sock" "$home/.colima/docker.sock"
  "$home/.orbstack/run/docker.sock" "$home/.rd/docker.sock"
  "$runtime/docker.sock" "$runtime/podman/podman.sock"
)
node --import tsx scripts/hostile-env/decoy.ts "$log" "$root/proxy.port" "${sockets[@]}" </dev/null &
decoy=$!
cleanup() { kill "$decoy" 2>/dev/null || true; wait "$decoy" 2>/dev/null || true; rm -rf "$root"; }
trap cleanup EXIT
for _ in $(seq 100); do [ -s "$root/proxy.port" ] && break; sleep 0.1; done
proxy="http://127.0.0.1:$(cat "$root/proxy.port")"

echo "[hostile-env] running '$*' with DOCKER_HOST, DOCKER_CONTEXT, DOCKER_CONFIG, proxies and PULLBACK_REGISTRY_* pointing away from the world ($root)" >&2
status=0
env \
  HOME="$home" XDG_RUNTIME_DIR="$runtime" XDG_CACHE_HOME="$cache" npm_config_cache="$npm_cache" \
  PATH="$root/bin:$PATH" \
  DOCKER_HOST="unix://$root/docker-host.sock" DOCKER_CONTEXT=hostile DOCKER_CONFIG="$config" \
  DOCKER_CERT_PATH="$root/no-certs" DOCKER_TLS_VERIFY=1 \
  HTTPS_PROXY="$proxy" HTTP_PROXY="$proxy" https_proxy="$proxy" http_proxy="$proxy" ALL_PROXY="$proxy" all_proxy="$proxy" \
  NO_PROXY= no_proxy= \
  SSH_AUTH_SOCK="$root/ssh-agent.sock" \
  PULLBACK_REGISTRY_USERNAME=hostile PULLBACK_REGISTRY_TOKEN=hostile-env-token \
  "$@" || status=$?

if [ -s "$log" ]; then
  echo "[hostile-env] FAIL: the suite reached for the machine instead of the world:" >&2
  cat "$log" >&2
  exit 1
fi
echo "[hostile-env] no decoy was touched; '$*' exited $status" >&2
exit "$status"
