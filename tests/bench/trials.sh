# Sourced by measurement_figures.sh and slot_figures.sh: the compute loop
# both measure, and how a set of `ratchet measure` decisions is summed up.
# Expects $ratchet; sets $work (removed on exit), $n (about 50 ms of CPU
# here) and $n5 (5% more work).
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cat > "$work/work.c" <<'C'
#include <stdlib.h>
int main(int argc, char** argv) {
  long n = argc > 1 ? atol(argv[1]) : 0;
  volatile double sum = 0;
  for (long i = 0; i < n; ++i) sum += (double)i * 0.5;
  return 0;
}
C
gcc -O1 "$work/work.c" -o "$work/work"
n=15000000
n5=$((n + n / 20))

# measure OUT SEED BASE_ARG CAND_ARG [MEASURE OPTIONS...]: one decision, as JSON in OUT.
measure() {
  local out="$1" seed="$2" base="$3" cand="$4"
  shift 4
  "$ratchet" measure --format json --seed "$seed" "$@" --baseline "$work/work $base" \
    -- "$work/work" "$cand" > "$out"
}

# summarize LABEL FILES...: verdict counts, ratio spread and time per decision.
summarize() {
  local label="$1" faster=0 slower=0 same=0 f
  shift
  local ratios=() seconds=()
  for f in "$@"; do
    case "$(grep -o '"verdict": "[a-z]*"' "$f" | cut -d'"' -f4)" in
      faster) ((++faster)) ;; slower) ((++slower)) ;; *) ((++same)) ;;
    esac
    ratios+=("$(grep -o '"speedup": [0-9.e-]*' "$f" | awk '{print $2}')")
    seconds+=("$(grep -o '"seconds": [0-9.e-]*' "$f" | awk '{print $2}')")
  done
  printf '%s: %d decisions: faster %d, slower %d, same %d\n' "$label" "$#" "$faster" "$slower" "$same"
  printf '  speedup ratios: %s\n' "$(printf '%s\n' "${ratios[@]}" | sort -g | awk '
    {v[NR]=$1} END {printf "min %.4f  median %.4f  max %.4f", v[1], v[int((NR+1)/2)], v[NR]}')"
  printf '  seconds per decision: %s\n' "$(printf '%s\n' "${seconds[@]}" | sort -g | awk '
    {v[NR]=$1} END {printf "min %.1f  median %.1f  max %.1f", v[1], v[int((NR+1)/2)], v[NR]}')"
}

machine_line() {
  echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
}
