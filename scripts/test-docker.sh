#!/usr/bin/env bash
# Prepare a real Docker engine for the runtime tests, offline and idempotently: install Debian's
# docker.io and busybox-static when missing, start dockerd when none answers on the socket, and
# build the test image with `docker import` from a busybox rootfs (no registry is needed).
#
# Usage: bash scripts/test-docker.sh            (a developer or CI; needs root for apt and dockerd)
# Env:   DOCKER_HOST      unix:///path/to.sock  socket to use (default unix:///var/run/docker.sock)
#        MONK_TEST_IMAGE  image to build         (default monk-test/busybox:1)
#        MONK_DOCKERD_LOG dockerd's log file     (default /tmp/monk-dockerd.log)
#        MONK_DOCKERD_WAIT seconds to wait for dockerd to answer (default 60)
# Prints one line per step; exits non-zero with a clear message when a step fails.
set -euo pipefail

sock_url="${DOCKER_HOST:-unix:///var/run/docker.sock}"
case "$sock_url" in
  unix://*) sock="${sock_url#unix://}" ;;
  *) echo "test-docker: DOCKER_HOST=$sock_url is not a unix socket; this script only starts a local dockerd" >&2; exit 2 ;;
esac
image="${MONK_TEST_IMAGE:-monk-test/busybox:1}"
log="${MONK_DOCKERD_LOG:-/tmp/monk-dockerd.log}"
wait_s="${MONK_DOCKERD_WAIT:-60}"
export DOCKER_HOST="unix://$sock"

say () { echo "test-docker: $*"; }
die () { echo "test-docker: $*" >&2; exit 1; }
as_root () { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else die "need root for: $*"; fi; }

# 1. Packages. The docker CLI may come from elsewhere (e.g. /usr/local/bin); dockerd must exist.
missing=()
command -v dockerd >/dev/null || missing+=(docker.io)
command -v docker >/dev/null || missing+=(docker.io)
dpkg -s busybox-static >/dev/null 2>&1 || missing+=(busybox-static)
if [ ${#missing[@]} -gt 0 ]; then
  pkgs="$(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')"
  say "installing $pkgs"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  # shellcheck disable=SC2086
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $pkgs >/dev/null
fi

# 2. The engine: use the one answering on the socket, else start dockerd in the background.
answers () { timeout 10 docker info --format '{{.ServerVersion}}' >/dev/null 2>&1; }
if answers; then
  say "dockerd already answers on $sock ($(docker info --format '{{.ServerVersion}}' 2>/dev/null))"
else
  [ -S "$sock" ] && { say "removing stale socket $sock"; as_root rm -f "$sock"; }
  as_root mkdir -p "$(dirname "$sock")"
  say "starting dockerd on $sock (log: $log)"
  # setsid + nohup: the engine outlives this script and the CI step that ran it.
  as_root bash -c "setsid nohup dockerd -H 'unix://$sock' >>'$log' 2>&1 < /dev/null &"
  deadline=$((SECONDS + wait_s))
  until answers; do
    if [ $SECONDS -ge $deadline ]; then
      echo "--- last lines of $log ---" >&2; tail -n 30 "$log" >&2 || true
      die "dockerd did not answer on $sock within ${wait_s}s"
    fi
    sleep 0.5
  done
  say "dockerd answers ($(docker info --format '{{.ServerVersion}}'))"
fi

# 3. The test image: a static busybox with one symlink per applet, PATH=/bin, built offline.
if docker image inspect "$image" >/dev/null 2>&1; then
  say "image $image present"
else
  say "building $image with docker import"
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  root="$work/rootfs"
  mkdir -p "$root/bin" "$root/etc" "$root/tmp" "$root/root" "$root/proc" "$root/sys" "$root/dev" "$root/home"
  chmod 1777 "$root/tmp"
  cp /bin/busybox "$root/bin/busybox"
  for applet in $(/bin/busybox --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/sh\n' > "$root/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' > "$root/etc/group"
  tar -C "$root" -cf "$work/rootfs.tar" .
  docker import -c 'ENV PATH=/bin' -c 'CMD ["/bin/sh"]' "$work/rootfs.tar" "$image" >/dev/null
  docker image inspect "$image" >/dev/null || die "image $image was not created"
  say "image $image built"
fi
say "ready: DOCKER_HOST=$DOCKER_HOST image=$image"
