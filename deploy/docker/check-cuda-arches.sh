#!/usr/bin/env bash
# check-cuda-arches.sh: fails unless CUDA libraries hold machine code (SASS) for every GPU
# architecture an image claims to serve. The image build runs it on libtorch_cuda.so, so that an
# image that claims V100s (sm_70) but carries a libtorch without sm_70 kernels (PyTorch's CUDA 12.8
# builds of 2.7) fails to build instead of failing at its first kernel on a V100.
#
#   check-cuda-arches.sh --arches 70,80,90 LIBRARY...
#
# For each library it lists the ELF images (cubins) that `cuobjdump --list-elf` reports, lines
# such as "ELF file    1: libtorch_cuda.1.sm_70.cubin", and the PTX that `--list-ptx` reports.
# An architecture sm_XY is served by a cubin of the same major version X and a minor version of at
# most Y (a cubin for sm_80 runs on an sm_86 GPU; nothing runs across major versions). PTX does not
# count: JIT-compiling libtorch's kernels at start takes very long and PyTorch's builds do not ship
# PTX for every architecture. Every LIBRARY must serve every claimed architecture.
#
# Environment: CUOBJDUMP, the cuobjdump to run (default cuobjdump on PATH).
# Exit status: 0 every claim holds (a table on stdout); 1 a claim fails (the message names the
# library, the architecture and what the library holds); 2 usage error or cuobjdump failure.
set -euo pipefail

prog="check-cuda-arches.sh"

fail() {
  echo "$prog: $*" >&2
  exit 2
}

arches=""
libs=()
while [ $# -gt 0 ]; do
  case "$1" in
    -h | --help)
      awk 'NR == 1 { next } /^#/ { sub(/^# ?/, ""); print; next } { exit }' "${BASH_SOURCE[0]}"
      exit 0
      ;;
    --arches)
      [ $# -ge 2 ] || fail "--arches needs a value"
      arches="$2"
      shift 2
      ;;
    -*) fail "unknown option '$1'" ;;
    *)
      libs+=("$1")
      shift
      ;;
  esac
done
[ -n "$arches" ] || fail "--arches is required, e.g. --arches 70,80,90"
[[ "$arches" =~ ^[0-9]{2,3}(,[0-9]{2,3})*$ ]] ||
  fail "--arches must be compute capabilities like 70,80,90, cannot be: '$arches'"
[ ${#libs[@]} -gt 0 ] || fail "no library to check: give the path of libtorch_cuda.so"
cuobjdump="${CUOBJDUMP:-cuobjdump}"
command -v "$cuobjdump" >/dev/null 2>&1 || fail "cuobjdump not found ('$cuobjdump'): install the CUDA toolkit's cuobjdump"

# The sm_ numbers of the lines "<kind> file N: name.sm_XY.<ext>" in a cuobjdump listing, sorted.
sm_list() {
  sed -n "s/^$1 file *[0-9]*:.*[._]sm_\\([0-9][0-9]*\\)[a-z]\\{0,1\\}\\.$2\$/\\1/p" | sort -n -u | tr '\n' ' '
}

# " sm_50 sm_60" of "50 60 ".
names() {
  local sm
  for sm in $1; do printf ' sm_%s' "$sm"; done
}

status=0
for lib in "${libs[@]}"; do
  [ -f "$lib" ] || fail "library not found: '$lib'"
  if ! elf_listing="$("$cuobjdump" --list-elf "$lib" 2>&1)"; then
    fail "cuobjdump --list-elf '$lib' failed: ${elf_listing##*$'\n'}"
  fi
  ptx_listing="$("$cuobjdump" --list-ptx "$lib" 2>/dev/null || true)"
  cubins="$(printf '%s\n' "$elf_listing" | sm_list ELF cubin)"
  ptx="$(printf '%s\n' "$ptx_listing" | sm_list PTX ptx)"
  [ -n "$cubins" ] || {
    echo "$prog: $lib holds no cubin at all (cuobjdump --list-elf listed none)" >&2
    status=1
    continue
  }
  for arch in ${arches//,/ }; do
    major=$((arch / 10))
    minor=$((arch % 10))
    served=""
    for sm in $cubins; do
      if [ $((sm / 10)) = "$major" ] && [ $((sm % 10)) -le "$minor" ]; then
        served="sm_$sm"
      fi
    done
    if [ -n "$served" ]; then
      printf '%s\tsm_%s\tserved by %s\n' "$(basename "$lib")" "$arch" "$served"
    else
      echo "$prog: $lib has no kernels for sm_$arch: it holds cubins for$(names "$cubins")${ptx:+ and PTX for$(names "$ptx")}" >&2
      status=1
    fi
  done
done
exit "$status"
