#!/usr/bin/env bash
# Side-by-side figures of the training step before (commit 0f1f7ae, per-parameter AdamW) and after
# (this tree): native ops per step, and CPU step times alternating the two builds.
# Usage: bench/compare-step-with-base.sh [models] [batch] [rounds]   (default: small,base 4 2)
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
models="${1:-small,base}"; batch="${2:-4}"; rounds="${3:-2}"
base="${DTM_BASE_DIR:-/tmp/dtm-step-base}"
out="$here/runs/bench/step-compare"; mkdir -p "$out/traces"
if [ ! -f "$base/spark-jobs/target/classpath-runtime.txt" ]; then
  rm -rf "$base"; mkdir -p "$base"
  git -C "$here" archive 0f1f7ae | tar -x -C "$base"
  (cd "$base" && mvn -B -q -o -DskipTests package)
fi
(cd "$here" && mvn -B -q -o -DskipTests package)
opens=$(grep -v -e '^#' -e '^$' "$here/conf/java17-add-opens.txt" | tr '\n' ' ')
base_cp="$base/spark-jobs/target/$(cd "$base/spark-jobs/target" && ls spark-jobs-*.jar | head -1):$(cat "$base/spark-jobs/target/classpath-runtime.txt"):$(cat "$base/spark-jobs/target/classpath-provided.txt")"
new_jar="$here/spark-jobs/target/$(cd "$here/spark-jobs/target" && ls spark-jobs-*.jar | head -1)"
echo "== native ops, base =="
java $opens -cp "$base_cp:$new_jar" "$here/bench/BaseStepOps.java" "$models" "$batch" "$out/traces" 2>/dev/null | grep '^|'
echo "== native ops, this tree =="
"$here/bin/dtm" bench --profile-ops --model "$models" --batch "$batch" --trace-dir "$out/traces" 2>/dev/null | grep -v '^\s*$'
for r in $(seq 1 "$rounds"); do
  for which in base new; do
    echo "== step times, $which, round $r =="
    if [ "$which" = base ]; then
      (cd "$base" && bin/dtm bench --model "$models" --batch "$batch" --warmup 1 --steps 3 --matmul-size 1024 2>/dev/null | grep '^|')
    else
      "$here/bin/dtm" bench --model "$models" --batch "$batch" --warmup 1 --steps 3 --matmul-size 1024 2>/dev/null | grep '^|'
    fi
  done
done
