#!/bin/sh
# Build the base image every splitvlm image starts FROM, out of Debian packages alone:
# no container registry is needed (none is reachable from the build machines).
#
#   sudo deploy/base-image.sh [TAG]        # default tag: splitvlm-base:bookworm
#
# Needs root, debootstrap and a Debian mirror (MIRROR, default deb.debian.org).
# It holds Debian 12's Python 3.11 with venv, CA certificates and tini (PID 1).
set -eu

TAG=${1:-splitvlm-base:bookworm}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
SUITE=bookworm
PACKAGES=python3,python3-venv,ca-certificates,tini

if docker image inspect "$TAG" >/dev/null 2>&1 && [ -z "${REBUILD:-}" ]; then
    echo "base image $TAG exists (REBUILD=1 to rebuild)"
    exit 0
fi

ROOTFS=$(mktemp -d)
chmod 755 "$ROOTFS"  # it becomes the image's /: non-root users must traverse it
trap 'rm -rf "$ROOTFS"' EXIT
debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$ROOTFS" "$MIRROR"

# What an image does not need: apt's lists and caches, docs, man pages, locales.
rm -rf "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/var/cache/apt/*.bin \
    "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/usr/share/doc/* \
    "$ROOTFS"/usr/share/man/* "$ROOTFS"/usr/share/locale/* "$ROOTFS"/tmp/* \
    "$ROOTFS"/var/log/*.log

tar -C "$ROOTFS" --numeric-owner -c . | docker import \
    --change 'ENV LANG=C.UTF-8 PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["/bin/bash"]' - "$TAG"
docker image ls "$TAG"
