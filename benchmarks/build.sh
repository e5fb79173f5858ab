#!/usr/bin/env bash
# Median of three cold HTML builds (every chapter executed, empty cache) and of three rebuilds
# with nothing changed; then one PDF build after the HTML (reusing the execution cache).
# Usage: benchmarks/build.sh   (after `make env`)
set -euo pipefail
cd "$(dirname "$0")/.."
JB=.venv/bin/jupyter-book
# A failed build is not a time: stop, and say so (the command substitution would hide it).
time_it() {
  local s e; s=$(date +%s.%N)
  "$@" >/dev/null 2>&1 || { echo "build failed: $*" >&2; return 1; }
  e=$(date +%s.%N); awk -v a="$s" -v b="$e" "BEGIN{printf \"%.1f\", b-a}"
}
median() { printf '%s\n' "$@" | sort -g | sed -n 2p; }

cold=(); warm=()
for i in 1 2 3; do
  rm -rf _build
  t=$(time_it $JB build . --builder html -W -n --keep-going) || exit 1; cold+=("$t")
done
for i in 1 2 3; do
  t=$(time_it $JB build . --builder html -W -n --keep-going) || exit 1; warm+=("$t")
done
pdf=$(time_it $JB build . --builder pdflatex -W --keep-going) || exit 1
printf 'cold HTML build (s): %s  -> median %.1f\n' "${cold[*]}" "$(median "${cold[@]}")"
printf 'rebuild, nothing changed (s): %s  -> median %.1f\n' "${warm[*]}" "$(median "${warm[@]}")"
printf 'PDF build after HTML (s): %.1f\n' "$pdf"
