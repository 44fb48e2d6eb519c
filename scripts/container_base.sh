#!/usr/bin/env bash
# Build a minimal Debian base image (python3, python3-venv, python3-pip, ca-certificates) from
# Debian's own packages with debootstrap, and import it into podman. Useful where no registry
# image (python:3.11-slim) can be pulled; the Dockerfile builds on it unchanged:
#
#   sudo scripts/container_base.sh                      # -> localhost/liftrun-base:debian
#   podman build --format docker --build-arg BASE_IMAGE=localhost/liftrun-base:debian \
#       --secret id=pip_cert,src=/etc/ssl/certs/ca-certificates.crt --network host -t liftrun .
#
# Environment (all optional):
#   LIFTRUN_BASE_IMAGE   image name             (default localhost/liftrun-base:debian)
#   LIFTRUN_BASE_SUITE   Debian release         (default: this machine's VERSION_CODENAME)
#   LIFTRUN_BASE_MIRROR  Debian mirror          (default: the first debian URI in apt sources,
#                                                else http://deb.debian.org/debian)
#   LIFTRUN_BASE_FORCE=1 rebuild even if the image exists
#   PODMAN               podman binary          (default podman)
#
# Needs root (debootstrap chroots), debootstrap and podman. Takes 1-3 minutes.
set -euo pipefail

IMAGE="${LIFTRUN_BASE_IMAGE:-localhost/liftrun-base:debian}"
PODMAN="${PODMAN:-podman}"
PACKAGES="python3,python3-venv,python3-pip,ca-certificates"

log() { printf 'container_base: %s\n' "$*" >&2; }

if [[ "${LIFTRUN_BASE_FORCE:-0}" != "1" ]] && "$PODMAN" image exists "$IMAGE"; then
    log "$IMAGE already exists (LIFTRUN_BASE_FORCE=1 rebuilds it)"
    exit 0
fi

if [[ "$(id -u)" != "0" ]]; then
    log "debootstrap needs root; run with sudo"
    exit 1
fi
for tool in debootstrap "$PODMAN" tar; do
    command -v "$tool" >/dev/null || { log "missing $tool (apt-get install podman debootstrap)"; exit 1; }
done

suite="${LIFTRUN_BASE_SUITE:-}"
if [[ -z "$suite" ]]; then
    # shellcheck disable=SC1091
    suite="$(. /etc/os-release && printf '%s' "${VERSION_CODENAME:-}")"
fi
[[ -n "$suite" ]] || { log "cannot tell the Debian release; set LIFTRUN_BASE_SUITE"; exit 1; }

mirror="${LIFTRUN_BASE_MIRROR:-}"
if [[ -z "$mirror" ]]; then
    # deb822 ("URIs: ...") or one-line ("deb URI suite ...") sources; the first Debian archive.
    mirror="$(
        cat /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list \
            2>/dev/null \
            | grep -v '^\s*#' \
            | grep -oE 'https?://[^ ]+/debian/?( |$)' \
            | head -n1 | tr -d ' '
    )" || true
    mirror="${mirror:-http://deb.debian.org/debian}"
fi

work="$(mktemp -d /var/tmp/liftrun-base.XXXXXX)"
cleanup() { rm -rf --one-file-system "$work"; }
trap cleanup EXIT
root="$work/rootfs"

log "debootstrap $suite from $mirror into $root"
debootstrap --variant=minbase --include="$PACKAGES" "$suite" "$root" "$mirror" >"$work/debootstrap.log" 2>&1 || {
    tail -n 40 "$work/debootstrap.log" >&2
    exit 1
}

# No package lists, caches, logs or host identity in the image.
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb \
    "$root"/var/log/* "$root"/tmp/* "$root"/root/.cache
: >"$root/etc/machine-id"
rm -f "$root/etc/hostname" "$root/etc/resolv.conf"

log "importing as $IMAGE"
tar --numeric-owner --xattrs -C "$root" -c . \
    | "$PODMAN" import \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'ENV LANG=C.UTF-8' \
        --change 'CMD ["python3"]' \
        --message "debootstrap $suite minbase + $PACKAGES" \
        - "$IMAGE" >/dev/null

log "done: $("$PODMAN" run --rm --network host "$IMAGE" python3 --version 2>&1 || echo "(python3 check failed)")"
"$PODMAN" image ls "$IMAGE" >&2
