#!/usr/bin/env bash
# Screenshots of a real day's edition for the README (desktop 600 px, phone 375 px).
# Needs ../shared/data/feeds and Debian's chromium. Usage: scripts/screenshots.sh [DATE FEED...]
set -euo pipefail
cd "$(dirname "$0")/.."
day=${1:-2023-08-24}
shift || true
feeds=("$@")
[ ${#feeds[@]} -gt 0 ] || feeds=(../shared/data/feeds/fr_france24_fr.rss)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export NEWSLETTER_DATA_DIR="$work/var" NEWSLETTER_BASE_URL=https://brief.example.ma
.venv/bin/newsletter init >/dev/null
.venv/bin/newsletter ingest "${feeds[@]}" >/dev/null
.venv/bin/newsletter compose --date "$day" >/dev/null
page=$(.venv/bin/newsletter preview --date "$day" | head -1)
for shot in desktop:600:2400 phone:375:2000; do
  IFS=: read -r name width height <<<"$shot"
  chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$work/profile-$name" --hide-scrollbars --window-size="$width,$height" \
    --screenshot="docs/screenshots/edition-$name.png" "file://$page" 2>/dev/null
done
echo "docs/screenshots/edition-desktop.png docs/screenshots/edition-phone.png ($day)"
