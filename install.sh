#!/bin/sh
# PrexorCloud installer. Verifies before it trusts anything it downloaded:
#   1. checksums.txt's signature: with cosign (keyless; identity pinned to the release workflow and
#      issuer) when cosign is on PATH, otherwise with openssl against the release key pinned below;
#   2. the archive's SHA-256 against the verified checksums.txt;
#   3. only then installs prexor (+ the prexorctl link) into PREFIX/bin.
# Any mismatch, a missing signature or a missing tool: one line on stderr, exit 1, nothing installed.
#
#   curl -fsSL https://github.com/prexorjustin/prexorcloud/releases/latest/download/install.sh | sh
#   curl -fsSL …/install.sh | sh -s -- --role controller [prexor setup flags…]
#
# Options: --version V (default: latest)  --prefix DIR (default /usr/local)  --dry-run
#          --role controller|daemon (then runs `prexor setup --role …` with the remaining flags)
# Environment: PREXOR_RELEASE_BASE (default https://github.com/prexorjustin/prexorcloud/releases)
set -eu

RELEASE_BASE=${PREXOR_RELEASE_BASE:-https://github.com/prexorjustin/prexorcloud/releases}
CERT_IDENTITY_REGEXP='^https://github.com/prexorjustin/prexorcloud/.github/workflows/release.yml@refs/tags/'
CERT_OIDC_ISSUER='https://token.actions.githubusercontent.com'
# The release public key (ECDSA P-256) for keyed signatures; `bun run release --key K` pins K's public
# key into the install.sh it publishes. Empty: only cosign can verify.
RELEASE_PUBLIC_KEY='
-----BEGIN PUBLIC KEY-----
-----END PUBLIC KEY-----
'

version=latest
prefix=/usr/local
dry_run=0
role=
tmp=

die() {
  echo "install.sh: $*" >&2
  exit 1
}

usage() {
  sed -n '2,17p' "$0" 2>/dev/null | sed 's/^# \{0,1\}//' || true
}

cleanup() {
  if [ -n "$tmp" ]; then rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

while [ $# -gt 0 ]; do
  case "$1" in
    --version) [ $# -ge 2 ] || die "--version needs a value"; version=${2#v}; shift 2 ;;
    --version=*) version=${1#--version=}; version=${version#v}; shift ;;
    --prefix) [ $# -ge 2 ] || die "--prefix needs a directory"; prefix=$2; shift 2 ;;
    --prefix=*) prefix=${1#--prefix=}; shift ;;
    --dry-run) dry_run=1; shift ;;
    --role) [ $# -ge 2 ] || die "--role needs controller or daemon"; role=$2; shift 2 ;;
    --role=*) role=${1#--role=}; shift ;;
    -h | --help) usage; exit 0 ;;
    *) [ -n "$role" ] || die "unknown option $1 (see --help)"; break ;;
  esac
done
case "$role" in "" | controller | daemon) ;; *) die "--role must be controller or daemon, got $role" ;; esac

have() { command -v "$1" >/dev/null 2>&1; }

case "$(uname -s)" in
  Linux) os=linux ;;
  Darwin) os=darwin ;;
  *) die "unsupported OS $(uname -s) (linux and darwin only)" ;;
esac
case "$(uname -m)" in
  x86_64 | amd64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) die "unsupported CPU $(uname -m) (x64 and arm64 only)" ;;
esac
[ "$os-$arch" != darwin-x64 ] || die "no darwin-x64 build is published (darwin-arm64 only)"

have tar || die "tar is required"
have gzip || die "gzip is required"
if have curl; then
  fetch() { curl -fsL --proto '=https,http' -o "$2" "$1"; }
elif have wget; then
  fetch() { wget -q -O "$2" "$1"; }
else
  die "curl or wget is required"
fi

sha256_of() {
  if have sha256sum; then
    sha256sum "$1" | cut -d' ' -f1
  elif have shasum; then
    shasum -a 256 "$1" | cut -d' ' -f1
  elif have openssl; then
    openssl dgst -sha256 -r "$1" | cut -d' ' -f1
  else
    die "sha256sum, shasum or openssl is required"
  fi
}

if [ "$version" = latest ]; then
  url_of() { echo "$RELEASE_BASE/latest/download/$1"; }
else
  url_of() { echo "$RELEASE_BASE/download/v$version/$1"; }
fi

tmp=$(mktemp -d 2>/dev/null || mktemp -d -t prexor-install)
fetch "$(url_of checksums.txt)" "$tmp/checksums.txt" || die "cannot download checksums.txt from $(url_of checksums.txt)"

# 1. checksums.txt is trusted only once its signature verifies.
if have cosign; then
  fetch "$(url_of checksums.txt.sig)" "$tmp/checksums.txt.sig" || die "missing signature checksums.txt.sig"
  fetch "$(url_of checksums.txt.pem)" "$tmp/checksums.txt.pem" || die "missing certificate checksums.txt.pem"
  cosign verify-blob \
    --certificate-identity-regexp "$CERT_IDENTITY_REGEXP" \
    --certificate-oidc-issuer "$CERT_OIDC_ISSUER" \
    --signature "$tmp/checksums.txt.sig" --certificate "$tmp/checksums.txt.pem" \
    "$tmp/checksums.txt" >/dev/null 2>&1 ||
    die "cosign refused checksums.txt (not signed by the release workflow)"
  verified_by="cosign (keyless, release workflow identity)"
elif have openssl; then
  printf '%s\n' "$RELEASE_PUBLIC_KEY" | sed '/^$/d' >"$tmp/release.pub"
  if [ "$(grep -cv -- '-----' "$tmp/release.pub")" = 0 ]; then
    die "this install.sh pins no release key; install cosign to verify the keyless signature"
  fi
  # A keyless CI release publishes its keyed signature as checksums.txt.keyed.sig; a keyed one as .sig.
  if ! fetch "$(url_of checksums.txt.keyed.sig)" "$tmp/checksums.txt.sig" 2>/dev/null; then
    fetch "$(url_of checksums.txt.sig)" "$tmp/checksums.txt.sig" || die "missing signature checksums.txt.sig"
  fi
  openssl base64 -d -A -in "$tmp/checksums.txt.sig" -out "$tmp/checksums.txt.sig.der" 2>/dev/null ||
    die "checksums.txt.sig is not base64"
  openssl dgst -sha256 -verify "$tmp/release.pub" -signature "$tmp/checksums.txt.sig.der" \
    "$tmp/checksums.txt" >/dev/null 2>&1 ||
    die "checksums.txt signature does not verify against the pinned release key"
  verified_by="openssl (pinned release key)"
else
  die "cosign or openssl is required to verify the release signature"
fi

# 2. The archive must match the verified checksum.
line=$(grep -E "^[0-9a-f]{64}  prexor-[0-9A-Za-z.+-]+-$os-$arch\.tar\.gz\$" "$tmp/checksums.txt" | head -n 1 || true)
[ -n "$line" ] || die "checksums.txt lists no archive for $os-$arch"
expected=${line%%  *}
archive=${line#*  }
release_version=${archive#prexor-}
release_version=${release_version%-"$os"-"$arch".tar.gz}
fetch "$(url_of "$archive")" "$tmp/$archive" || die "cannot download $archive"
actual=$(sha256_of "$tmp/$archive")
[ "$actual" = "$expected" ] || die "SHA-256 mismatch for $archive: expected $expected, got $actual"
mkdir "$tmp/x"
tar -xzf "$tmp/$archive" -C "$tmp/x" || die "cannot extract $archive"
src="$tmp/x/prexor-$release_version-$os-$arch"
[ -f "$src/prexor" ] || die "$archive holds no prexor binary"

# 3. Install (replace in place: running services keep the old inode until restarted).
bindir="$prefix/bin"
if [ "$dry_run" = 1 ]; then
  echo "verified $archive ($verified_by)"
  echo "would install $bindir/prexor ($release_version) and the link $bindir/prexorctl"
  [ -z "$role" ] || echo "would run: $bindir/prexor setup --role $role $*"
  exit 0
fi
if [ -x "$bindir/prexor" ] && "$bindir/prexor" version 2>/dev/null | grep -q "^prexor $release_version "; then
  echo "prexor $release_version is already installed in $bindir"
else
  mkdir -p "$bindir" || die "cannot create $bindir"
  cp "$src/prexor" "$bindir/.prexor.new" || die "cannot write $bindir"
  chmod 0755 "$bindir/.prexor.new"
  mv -f "$bindir/.prexor.new" "$bindir/prexor" || die "cannot replace $bindir/prexor"
  echo "installed $bindir/prexor $release_version (checksums verified by $verified_by)"
fi
ln -sf prexor "$bindir/prexorctl" || die "cannot link $bindir/prexorctl"

if [ -n "$role" ]; then
  exec "$bindir/prexor" setup --role "$role" "$@"
fi
