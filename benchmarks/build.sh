#!/usr/bin/env bash
# Median of three cold HTML builds (every chapter executed, empty cache) and of three rebuilds
# with nothing changed; then one PDF build after the HTML (reusing the execution cache).
# Prints the load average with each time (the machine may be shared) and, after the last cold
# build, each chapter's execution seconds from the jupyter cache.
# Usage: benchmarks/build.sh   (after `make env`; JB=/path/to/jupyter-book to use another venv)
set -euo pipefail
cd "$(dirname "$0")/.."
JB=${JB:-.venv/bin/jupyter-book}
PY=$(dirname "$JB")/python
load() { cut -d' ' -f1-3 /proc/loadavg; }
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
  echo "cold build $i: $t s (load average $(load))"
done
"$PY" - <<'PY'
from jupyter_cache import get_cache
records = get_cache("_build/.jupyter_cache").list_cache_records()
times = sorted(((r.data["execution_seconds"], r.uri.split("/")[-1]) for r in records), reverse=True)
print("execution seconds (last cold build):", ", ".join(f"{n} {s:.1f}" for s, n in times),
      f"(sum {sum(s for s, _ in times):.1f})")
PY
for i in 1 2 3; do
  t=$(time_it $JB build . --builder html -W -n --keep-going) || exit 1; warm+=("$t")
done
pdf=$(time_it $JB build . --builder pdflatex -W --keep-going) || exit 1
printf 'cold HTML build (s): %s  -> median %.1f\n' "${cold[*]}" "$(median "${cold[@]}")"
printf 'rebuild, nothing changed (s): %s  -> median %.1f\n' "${warm[*]}" "$(median "${warm[@]}")"
printf 'PDF build after HTML (s): %.1f\n' "$pdf"
echo "load average at the end: $(load)"
