#!/bin/sh
# PLACEHOLDER: the cosign-verified release installer arrives with the release issue. Until then
# this script only explains how to install from a source checkout, and exits non-zero so no
# automation mistakes it for a real install.
echo "install.sh: release archives are not published yet." >&2
echo "From a checkout: npm install -g bun@1.4.5 && bun install --frozen-lockfile && bun run build" >&2
echo "then: sudo ./dist/prexor setup --role controller   (or --role daemon)" >&2
exit 1
