#!/usr/bin/env bash
# discover-gpus.sh: the GPU discovery script Spark runs when an executor starts
# (spark.executor.resource.gpu.discoveryScript). It prints the GPUs this executor may use as
# Spark's ResourceInformation JSON:
#
#   {"name": "gpu", "addresses": ["0","1"]}
#
# The addresses are the indexes nvidia-smi lists (nvidia-smi --query-gpu=index
# --format=csv,noheader); inside a container they are the GPUs the container was given
# (Kubernetes' nvidia.com/gpu limit, YARN's yarn.io/gpu with Docker or cgroup isolation).
#
# No GPU is an error, not an empty list: an executor that asked for a GPU and has none is a
# misconfigured node, and failing here names the host and the cause in the executor's log
# instead of leaving a task that cannot be scheduled. Exit status: 0 with the JSON on stdout;
# 1 with a message on stderr when nvidia-smi is missing, fails, lists no GPU or prints
# something that is not an index.
set -euo pipefail

prog="discover-gpus.sh"
host="$(hostname 2>/dev/null || echo unknown-host)"

case "${1:-}" in
  -h | --help)
    awk 'NR == 1 { next } /^#/ { sub(/^# ?/, ""); print; next } { exit }' "${BASH_SOURCE[0]}"
    exit 0
    ;;
  "") ;;
  *)
    echo "$prog: takes no arguments, got: '$1'" >&2
    exit 1
    ;;
esac

if ! command -v nvidia-smi >/dev/null 2>&1; then
  echo "$prog: nvidia-smi not found on PATH on $host: no NVIDIA driver or GPU visible here" >&2
  exit 1
fi

if ! out="$(nvidia-smi --query-gpu=index --format=csv,noheader 2>&1)"; then
  echo "$prog: nvidia-smi failed on $host: $out" >&2
  exit 1
fi

addresses=""
while IFS= read -r line || [ -n "$line" ]; do
  index="${line//[[:space:]]/}"
  [ -n "$index" ] || continue
  if ! [[ "$index" =~ ^[0-9]+$ ]]; then
    echo "$prog: nvidia-smi printed '$line' on $host, not a GPU index" >&2
    exit 1
  fi
  addresses="${addresses:+$addresses,}\"$index\""
done <<<"$out"

if [ -z "$addresses" ]; then
  echo "$prog: nvidia-smi lists no GPU on $host" >&2
  exit 1
fi
printf '{"name": "gpu", "addresses": [%s]}\n' "$addresses"
