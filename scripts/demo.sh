#!/usr/bin/env bash
# The berth demo (`npm run demo`, after scripts/setup.sh and the build):
#   base image from Debian's busybox-static → images / history / inspect / tag → save / load → disk usage →
#   build → rebuild (cached steps, --progress=plain, intermediate images) → run → diff/top/cp → commit → a published port → push to a private registry (htpasswd) → pull on a second berthd →
#   rmi / prune → events.  A section whose daemon routes are not there yet says so and is skipped.
# It runs its own berthd on a private data root and socket under a temp dir, removed on exit
# (BERTH_DEMO_KEEP=1 keeps it; DEMO_SECTIONS="base story" runs only those). To extend: write a `section_NAME`
# function and add NAME to SECTIONS.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD

BUSYBOX=${BUSYBOX:-/bin/busybox}
[ -x "$BUSYBOX" ] || { echo "demo: $BUSYBOX not found (apt-get install busybox-static)" >&2; exit 1; }
[ -f dist/berth.cjs ] && [ -f dist/berthd.mjs ] || { echo "demo: run 'npm run build' first" >&2; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/berth-demo.XXXXXX")
export BERTH_HOST="unix://$WORK/berth.sock"
# `berth login` writes credentials here, not into the user's ~/.docker
export DOCKER_CONFIG="$WORK/cli-config"
DAEMON_PID=
EXTRA_PIDS=()
cleanup() {
  local code=$?
  local p
  for p in "${EXTRA_PIDS[@]}"; do
    kill "$p" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.05; done
    kill -9 "$p" 2>/dev/null || true
  done
  # containers outlive berthd (conmon): remove what the demo started
  if [ -n "$DAEMON_PID" ] && kill -0 "$DAEMON_PID" 2>/dev/null; then
    berth rm -f demo-app demo-web >/dev/null 2>&1 || true
  fi
  if [ -n "$DAEMON_PID" ] && kill -0 "$DAEMON_PID" 2>/dev/null; then
    kill "$DAEMON_PID" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$DAEMON_PID" 2>/dev/null || break; sleep 0.05; done
    kill -9 "$DAEMON_PID" 2>/dev/null || true
  fi
  if [ "${BERTH_DEMO_KEEP:-}" = 1 ]; then echo "demo: kept $WORK"; else rm -rf "$WORK"; fi
  exit "$code"
}
trap cleanup EXIT INT TERM

berth() { node "$REPO/bin/berth.js" "$@"; }
heading() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
# Shows the command, then runs it.
show() {
  local shown=() a
  for a in "$@"; do
    if [[ $a =~ ^[A-Za-z0-9_./:=@,+-]+$ ]]; then shown+=("$a"); else shown+=("'${a//\'/\'\\\'\'}'"); fi
  done
  printf '\033[2m$ berth %s\033[0m\n' "${shown[*]}"
  berth "$@"
}

start_daemon() {
  heading "Starting berthd on a private data root ($WORK)"
  node "$REPO/dist/berthd.mjs" --data-root "$WORK/data" -H "$BERTH_HOST" --pidfile "$WORK/berthd.pid" \
    >"$WORK/berthd.log" 2>&1 &
  DAEMON_PID=$!
  for _ in $(seq 300); do
    if berth version --format '{{.Server.Version}}' >/dev/null 2>&1; then
      show version
      return
    fi
    kill -0 "$DAEMON_PID" 2>/dev/null || { cat "$WORK/berthd.log" >&2; exit 1; }
    sleep 0.05
  done
  echo "demo: berthd did not answer in time" >&2; cat "$WORK/berthd.log" >&2; exit 1
}

# A rootfs tarball: /bin/busybox, a symlink per applet, /etc/passwd and /etc/group, root-owned.
make_rootfs() {
  local root="$WORK/rootfs"
  mkdir -p "$root"/{bin,etc,tmp,root,proc,sys,dev}
  chmod 1777 "$root/tmp"
  cp "$BUSYBOX" "$root/bin/busybox"
  for applet in $("$BUSYBOX" --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
  tar --numeric-owner --owner=0 --group=0 -C "$root" -cf "$WORK/rootfs.tar" .
}

section_base() {
  heading "A busybox base image from Debian's busybox-static, with berth import"
  make_rootfs
  echo "rootfs tarball: $(du -h "$WORK/rootfs.tar" | cut -f1) ($("$BUSYBOX" --list | wc -l) applets)"
  show import --change 'CMD ["sh"]' --change 'ENV PATH=/bin' --message 'busybox base from Debian' \
    "$WORK/rootfs.tar" busybox:latest
}

section_images() {
  heading "Listing, history and inspection"
  show images
  show history busybox
  show image inspect --format '{{.Id}}  cmd={{json .Config.Cmd}}  env={{join .Config.Env ","}}  layers={{len .RootFS.Layers}}' busybox
  show inspect busybox | head -n 20
  echo "…"
  heading "Tagging"
  show tag busybox demo/busybox:1.0
  show images --format 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.Size}}'
}

section_archive() {
  heading "Saving and loading (docker-archive format)"
  show save -o "$WORK/busybox.tar" busybox demo/busybox:1.0
  ls -l "$WORK/busybox.tar"
  tar -tf "$WORK/busybox.tar" | sed 's/^/  /'
  show rmi demo/busybox:1.0 busybox
  show images
  show load -i "$WORK/busybox.tar"
  show images
}

section_usage() {
  heading "Disk usage and store integrity"
  show system df
  show system df -v
  if berth system fsck >/dev/null 2>&1; then show system fsck; fi
}

# True when berthd serves METHOD PATH (anything but a 404 "page not found", which is an unknown route).
has_route() {
  local sock=${3:-$WORK/berth.sock} out
  out=$(curl -s --unix-socket "$sock" -X "$1" -w ' %{http_code}' "http://berthd$2" 2>/dev/null) || return 1
  [[ $out != *" 404" ]] || [[ $out != *"page not found"* ]]
}
skip_section() { echo "(skipped: $*)"; }

section_story() {
  heading "Build a small image from a Dockerfile"
  has_route POST /build || { skip_section "this berthd has no /build route yet"; return; }
  mkdir -p "$WORK/app"
  printf 'FROM busybox\nRUN echo hello from a RUN step > /greeting\nCOPY msg.txt /msg.txt\nCMD ["cat", "/greeting", "/msg.txt"]\n' >"$WORK/app/Dockerfile"
  echo 'and a file from the build context' >"$WORK/app/msg.txt"
  sed 's/^/  /' "$WORK/app/Dockerfile"
  show build -t demo/app:1 "$WORK/app"

  heading "Rebuild after editing the copied file: cached steps, BuildKit-style progress"
  echo 'and an edited file from the build context' >"$WORK/app/msg.txt"
  show build --progress=plain -t demo/app:1 "$WORK/app"
  echo "every step is an image of its own (as docker's classic builder): 'docker images -a' lists them"
  show images -a --format 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}'
  show history demo/app:1

  heading "Run it"
  has_route POST /containers/create || { skip_section "no container routes yet"; return; }
  show run --rm --network none demo/app:1
  show run -d --network none --name demo-app demo/app:1 sh -c 'echo changed in the container > /greeting; touch /ready; sleep 300'
  for _ in $(seq 200); do berth exec demo-app test -e /ready 2>/dev/null && break; sleep 0.05; done
  show ps --format 'table {{.Names}}\t{{.Image}}\t{{.Status}}'
  show top demo-app -o pid,comm
  show diff demo-app
  show cp demo-app:/greeting "$WORK/greeting.txt"
  echo "host copy: $(cat "$WORK/greeting.txt")"

  heading "Commit the container as a new image"
  show commit -m 'greeting changed' -c 'CMD ["cat", "/greeting"]' demo-app demo/app:2
  show rm -f demo-app
  show run --rm --network none demo/app:2
  show history demo/app:2
}

section_ports() {
  heading "Publish a port: busybox httpd on the default bridge network, a random host port, a healthcheck"
  berth image inspect demo/app:1 >/dev/null 2>&1 || { skip_section "no demo/app:1 image (the story section was skipped)"; return; }
  mkdir -p "$WORK/www" && echo 'served from a container' >"$WORK/www/index.html"
  show run -d --name demo-web -p 80 -v "$WORK/www:/www:ro" --health-cmd 'wget -q -O /dev/null http://127.0.0.1/' \
    --health-interval 200ms demo/app:1 httpd -f -p 80 -h /www
  local hostport
  hostport=$(berth port demo-web 80/tcp | head -n1)
  show port demo-web
  for _ in $(seq 100); do curl -fsS "http://$hostport/" 2>/dev/null && break; sleep 0.05; done
  for _ in $(seq 100); do berth ps --format '{{.Status}}' --filter name=demo-web | grep -q '(healthy)' && break; sleep 0.05; done
  show ps --format 'table {{.Names}}\t{{.Status}}\t{{.Ports}}'
  show rm -f demo-web
}

section_registry() {
  heading "Push to a private registry (berth registry serve, htpasswd) and pull on a second berthd"
  berth image inspect demo/app:2 >/dev/null 2>&1 || { skip_section "no demo/app:2 image (the story section was skipped)"; return; }
  has_route POST /images/NOT-A-NAME/push || { skip_section "this berthd has no push route yet"; return; }
  local pw=demo-secret
  (cd "$REPO" && node -e 'const b = require("bcryptjs"); process.stdout.write(`demo:${b.hashSync(process.argv[1], 10)}\n`)' "$pw") >"$WORK/htpasswd"
  node "$REPO/bin/berth.js" registry serve --addr 127.0.0.1:0 --root "$WORK/registry" --htpasswd "$WORK/htpasswd" >"$WORK/registry.log" 2>&1 &
  EXTRA_PIDS+=($!)
  local addr=
  for _ in $(seq 200); do
    addr=$(sed -n 's/^listening on \(.*\)$/\1/p' "$WORK/registry.log" | head -n1)
    [ -n "$addr" ] && break
    sleep 0.05
  done
  [ -n "$addr" ] || { cat "$WORK/registry.log" >&2; echo "demo: the registry did not start" >&2; exit 1; }
  addr=${addr#http://}
  echo "registry on $addr (user demo)"
  show tag demo/app:2 "$addr/demo/app:2"
  echo "without credentials the registry refuses the push:"
  show push "$addr/demo/app:2" 2>&1 | tail -n 1 || true
  echo "$pw" | show login -u demo --password-stdin "$addr"
  show push "$addr/demo/app:2"

  heading "A second berthd (its own data root and socket) pulls it"
  local sock2="$WORK/b2.sock"
  node "$REPO/dist/berthd.mjs" --data-root "$WORK/data2" -H "unix://$sock2" --pidfile "$WORK/berthd2.pid" >"$WORK/berthd2.log" 2>&1 &
  EXTRA_PIDS+=($!)
  for _ in $(seq 300); do curl -s --unix-socket "$sock2" http://b2/_ping >/dev/null 2>&1 && break; sleep 0.05; done
  (
    export BERTH_HOST="unix://$sock2"
    show images
    show pull "$addr/demo/app:2"
    show images
    if has_route POST /containers/create "$sock2"; then show run --rm --network none "$addr/demo/app:2"; fi
  )
}

section_cleanup() {
  heading "Pruning what the story left"
  if has_route POST /containers/prune; then show container prune -f; fi
  show image prune -a -f
}

section_prune() {
  heading "Removing and pruning"
  show import --message 'an untagged image' "$WORK/rootfs.tar"
  show images -a
  show image prune -f
  show rmi demo/busybox:1.0
  show images
}

section_events() {
  heading "What happened: the daemon's image events"
  show events --since "$DEMO_START" --until 0s --format '{{.Type}} {{.Action}} {{.Actor.Attributes.name}}'
}

SECTIONS=(${DEMO_SECTIONS:-base images archive usage prune story ports registry cleanup events})
DEMO_START=$(date +%s)

start_daemon
for s in "${SECTIONS[@]}"; do "section_$s"; done
heading "Done"
