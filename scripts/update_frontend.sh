#!/usr/bin/env bash
# Vendor the front-end assets of the QI Portal into static/vendor/.
#
# The portal runs with NO Node.js at run time: this script is run by a
# developer (needs npm and the npm registry) and its output is committed.
#
#   scripts/update_frontend.sh            # vendor the pinned versions below
#   NHSUK_FRONTEND_VERSION=10.7.0 scripts/update_frontend.sh   # bump one
#
# What it produces (everything under static/vendor/ is generated: do not edit):
#   static/vendor/nhsuk-frontend/nhsuk-frontend.min.css   (offline-safe, see below)
#   static/vendor/nhsuk-frontend/nhsuk-frontend.min.js    (an ES module: it
#       exports initAll() and does NOT auto-initialise; static/js/portal.js
#       imports it and must be loaded with <script type="module">)
#   static/vendor/nhsuk-frontend/assets/                  (icons, favicons, manifest)
#   static/vendor/htmx/htmx.min.js                        (classic script)
#   static/vendor/VERSIONS.txt
#
# Rewrites applied to the NHS.UK CSS so that it works offline and under any
# STATIC_URL:
#   * @font-face blocks loading Frutiger from an NHS font host are removed and
#     "Frutiger W01" is dropped from font stacks, leaving "arial,sans-serif"
#     (Frutiger is licensed to NHS domains only anyway);
#   * url(/assets/...) becomes url(assets/...), i.e. relative to the CSS file,
#     which resolves to static/vendor/nhsuk-frontend/assets/...;
#   * sourceMappingURL comments are stripped (the .map files are not vendored,
#     and Django's ManifestStaticFilesStorage fails collectstatic on a missing
#     map file).
set -euo pipefail

NHSUK_FRONTEND_VERSION="${NHSUK_FRONTEND_VERSION:-10.6.1}"
HTMX_VERSION="${HTMX_VERSION:-2.0.11}"

case "$NHSUK_FRONTEND_VERSION" in
  10.*) ;;
  *) echo "error: nhsuk-frontend must be a 10.x version (got $NHSUK_FRONTEND_VERSION)" >&2; exit 1 ;;
esac
case "$HTMX_VERSION" in
  2.*) ;;
  *) echo "error: htmx.org must be a 2.x version (got $HTMX_VERSION)" >&2; exit 1 ;;
esac

command -v npm >/dev/null || { echo "error: npm is required to update vendored assets" >&2; exit 1; }

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
vendor="$repo_root/static/vendor"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# --- download --------------------------------------------------------------
# Prints the integrity (sha512) of the packed tarball, for VERSIONS.txt.
pack() {
  local spec="$1" dir="$2"
  mkdir -p "$tmp/$dir"
  (cd "$tmp" && npm pack "$spec" --json --silent >"$tmp/$dir.json")
  local tgz
  tgz="$(ls "$tmp"/*.tgz)"
  tar -xzf "$tgz" -C "$tmp/$dir"
  rm -f "$tgz"
  sed -n 's/.*"integrity": *"\([^"]*\)".*/\1/p' "$tmp/$dir.json" | head -n 1
}

echo "Downloading nhsuk-frontend@$NHSUK_FRONTEND_VERSION and htmx.org@$HTMX_VERSION ..."
nhsuk_integrity="$(pack "nhsuk-frontend@$NHSUK_FRONTEND_VERSION" nhsuk)"
htmx_integrity="$(pack "htmx.org@$HTMX_VERSION" htmx)"

nhsuk_dist="$tmp/nhsuk/package/dist/nhsuk"
htmx_dist="$tmp/htmx/package/dist"

for f in "$nhsuk_dist/nhsuk-frontend.min.css" "$nhsuk_dist/nhsuk-frontend.min.js" \
         "$nhsuk_dist/assets/images" "$htmx_dist/htmx.min.js"; do
  [ -e "$f" ] || { echo "error: expected $f in the npm package; layout changed?" >&2; exit 1; }
done

# --- nhsuk-frontend ----------------------------------------------------------
out="$vendor/nhsuk-frontend"
rm -rf "$out"
mkdir -p "$out"

cp "$nhsuk_dist/nhsuk-frontend.min.js" "$out/nhsuk-frontend.min.js"
cp -R "$nhsuk_dist/assets" "$out/assets"

sed -E \
  -e 's#@font-face\{[^}]*https?://[^}]*\}##g' \
  -e 's#Frutiger W01,[[:space:]]*##g' \
  -e 's#url\((["'\'']?)/assets/#url(\1assets/#g' \
  -e 's#/\*\# sourceMappingURL=[^*]*\*/##g' \
  "$nhsuk_dist/nhsuk-frontend.min.css" >"$out/nhsuk-frontend.min.css"

# JS source map comment (map not vendored).
sed -i -E 's#//\# sourceMappingURL=[^[:space:]]*##' "$out/nhsuk-frontend.min.js"

# --- htmx ----------------------------------------------------------------------
rm -rf "$vendor/htmx"
mkdir -p "$vendor/htmx"
cp "$htmx_dist/htmx.min.js" "$vendor/htmx/htmx.min.js"
sed -i -E 's#//\# sourceMappingURL=[^[:space:]]*##' "$vendor/htmx/htmx.min.js"
[ -f "$tmp/htmx/package/LICENSE" ] && cp "$tmp/htmx/package/LICENSE" "$vendor/htmx/LICENSE"

# --- verify -----------------------------------------------------------------------
fail=0
css="$out/nhsuk-frontend.min.css"
if grep -Eq 'url\((["'\'']?)https?://' "$css"; then
  echo "error: external url() left in $css:" >&2; grep -Eo 'url\([^)]*https?://[^)]*\)' "$css" >&2; fail=1
fi
if grep -Eq 'url\((["'\'']?)/' "$css"; then
  echo "error: absolute url() left in $css:" >&2; grep -Eo 'url\((["'\'']?)/[^)]*\)' "$css" >&2; fail=1
fi
if grep -q 'Frutiger' "$css" || grep -q '@font-face' "$css"; then
  echo "error: Frutiger / @font-face left in $css" >&2; fail=1
fi
# Every relative url() must point at a file that exists (collectstatic with
# ManifestStaticFilesStorage fails otherwise).
while IFS= read -r ref; do
  [ -f "$out/$ref" ] || { echo "error: $css refers to missing $ref" >&2; fail=1; }
done < <(grep -Eo 'url\((["'\'']?)assets/[^)"'\'']*' "$css" | sed -E 's#^url\(["'\'']?##' | sort -u)
for js in "$out/nhsuk-frontend.min.js" "$vendor/htmx/htmx.min.js"; do
  if grep -q 'sourceMappingURL' "$js"; then echo "error: sourceMappingURL left in $js" >&2; fail=1; fi
done
[ "$fail" = 0 ] || exit 1

# --- record versions ------------------------------------------------------------------
cat >"$vendor/VERSIONS.txt" <<VERSIONS
# Generated by scripts/update_frontend.sh; do not edit by hand.
# Files under static/vendor/ are copied from these npm packages (MIT licence)
# with the offline rewrites described in that script.
nhsuk-frontend $NHSUK_FRONTEND_VERSION $nhsuk_integrity
htmx.org $HTMX_VERSION $htmx_integrity
VERSIONS

echo "Vendored into $vendor:"
(cd "$vendor" && find . -type f | sort | sed 's#^\./#  #')
