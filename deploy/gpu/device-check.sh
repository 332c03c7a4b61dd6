#!/usr/bin/env bash
# device-check.sh: the GPU check of dtm-spark, run from the bundle that deploy/gpu/make-bundle.sh
# makes, on a Linux machine with no network and no Java (the bundle brings its Java runtime).
#
#   device-check.sh [--out FILE] [--work DIR] [--libtorch DIR] [--device auto|gpu|cpu]
#                   [--model base|small|tiny] [--batch N] [--steps N] [--reps N] [--warmup N]
#                   [--deadline SECONDS]
#
# In one command that ends within --deadline seconds (default 570, inside a 10-minute slot), each
# stage under its own limit, cut so that the later stages keep time of their own:
#   1. what the machine is: nvidia-smi, the Python torch (version, CUDA), the CPUs;
#   2. DJL's JNI built against the PyTorch installed there (build-djl-jni.sh --python python3),
#      unless --libtorch DIR names a libtorch folder that DJL can load as it is (one holding a
#      libdjl_torch.so, e.g. DJL's CPU cache folder: this is how the CPU run works without torch);
#   3. the Java check (org.dtmspark.core.check.DeviceCheck): the CLIP-layout teacher (random
#      ViT-B/16 weights) on the device in fp32 and fp16 against the CPU, and ViT-B/16 DTM training
#      steps per precision;
#   4. the PyTorch references (torch_reference.py): Hugging Face CLIPVisionModelWithProjection with
#      the same weights and pixels, and timm's BEiT-B of the same shape trained with autocast and a
#      GradScaler;
#   5. one JSON (--out, default <work>/device-check.json) with everything and the headline ratios.
#
# --device auto (the default) is gpu when nvidia-smi lists a GPU and the Python torch sees CUDA.
# Without CUDA every GPU row says that it was skipped and why; without torch (a CPU-only machine),
# so do the PyTorch references. Exit status: 0 when the Java check ran; 1 when a stage it needs
# failed (the JSON still says which, with the end of its log); 2 on a usage error.
set -euo pipefail

prog="device-check.sh"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

fail() {
  echo "$prog: $*" >&2
  exit 2
}

out=""
work=""
libtorch=""
device="auto"
model="base"
batch="64"
steps="10"
reps="10"
warmup="3"
deadline="570"
while [ $# -gt 0 ]; do
  case "$1" in
    -h | --help)
      awk 'NR == 1 { next } /^#/ { sub(/^# ?/, ""); print; next } { exit }' "${BASH_SOURCE[0]}"
      exit 0
      ;;
    --out | --work | --libtorch | --device | --model | --batch | --steps | --reps | --warmup | \
      --deadline)
      [ $# -ge 2 ] || fail "$1 needs a value"
      case "$1" in
        --out) out="$2" ;;
        --work) work="$2" ;;
        --libtorch) libtorch="$2" ;;
        --device) device="$2" ;;
        --model) model="$2" ;;
        --batch) batch="$2" ;;
        --steps) steps="$2" ;;
        --reps) reps="$2" ;;
        --warmup) warmup="$2" ;;
        --deadline) deadline="$2" ;;
      esac
      shift 2
      ;;
    *) fail "unknown argument '$1' (see --help)" ;;
  esac
done
case "$device" in auto | gpu | cpu) ;; *) fail "--device must be auto, gpu or cpu, cannot be: '$device'" ;; esac
for pair in "--batch:$batch" "--steps:$steps" "--reps:$reps" "--deadline:$deadline"; do
  [[ "${pair#*:}" =~ ^[1-9][0-9]*$ ]] || fail "${pair%%:*} must be a positive integer, cannot be: '${pair#*:}'"
done
[[ "$warmup" =~ ^[0-9]+$ ]] || fail "--warmup must be an integer of at least 0, cannot be: '$warmup'"
java="$here/runtime/bin/java"
[ -x "$java" ] || fail "no Java runtime at $java: run this from the bundle that make-bundle.sh makes"
[ -d "$here/lib" ] || fail "no jars at $here/lib: run this from the bundle that make-bundle.sh makes"
work="${work:-$here/work}"
mkdir -p "$work"
work="$(cd "$work" && pwd)"
out="${out:-$work/device-check.json}"
python="$(command -v python3 || true)"
[ -n "$python" ] || fail "python3 is not on PATH (it runs the PyTorch references and writes the JSON)"

started=$(date +%s)
log() { echo "$prog: [$(($(date +%s) - started)) s] $*" >&2; }
# Seconds a stage may take: at most CAP, and no more than leaves RESERVE seconds of the deadline
# to the stages after it (at least 10).
budget() {
  local left=$((deadline - ($(date +%s) - started) - $2))
  [ "$left" -lt "$1" ] || left="$1"
  [ "$left" -ge 10 ] || left=10
  echo "$left"
}

# ---- 1. the machine --------------------------------------------------------------------------
gpu_name=""
if command -v nvidia-smi >/dev/null 2>&1; then
  gpu_name="$(nvidia-smi --query-gpu=name,memory.total,driver_version,compute_cap --format=csv,noheader 2>/dev/null | head -n 1 || true)"
fi
torch_info="$(timeout 60 "$python" -c '
import json, os, glob
import torch
site = os.path.dirname(os.path.dirname(torch.__file__))
print(json.dumps({"version": torch.__version__, "cuda": torch.version.cuda,
  "cuda_available": torch.cuda.is_available(),
  "nvidia_lib_dirs": sorted(set(glob.glob(os.path.join(site, "nvidia", "*", "lib"))))}))
' 2>/dev/null || true)"
have_torch=0
[ -n "$torch_info" ] && have_torch=1
torch_cuda=0
if [ "$have_torch" = 1 ] && [[ "$torch_info" == *'"cuda_available": true'* ]]; then
  torch_cuda=1
fi
if [ "$device" = auto ]; then
  if [ -n "$gpu_name" ] && [ "$torch_cuda" = 1 ]; then device=gpu; else device=cpu; fi
fi
if [ "$device" = gpu ] && [ -z "$gpu_name" ]; then
  fail "--device gpu, but nvidia-smi lists no GPU here"
fi
log "device $device; GPU: ${gpu_name:-none}; python torch: ${torch_info:-none}"

# ---- 2. DJL's JNI ----------------------------------------------------------------------------
jni_status="not built"
jni_seconds=0
if [ -n "$libtorch" ]; then
  [ -f "$libtorch/libtorch.so" ] || fail "--libtorch '$libtorch' holds no libtorch.so"
  export PYTORCH_LIBRARY_PATH="$libtorch"
  jni_status="not built: --libtorch $libtorch is loaded as it is (its own libdjl_torch.so)"
elif [ "$have_torch" = 1 ]; then
  log "building DJL's JNI against the Python torch (build-djl-jni.sh)"
  t0=$(date +%s)
  if timeout "$(budget 300 200)" bash "$here/build-djl-jni.sh" --djl-source "$here/djl-src" --python "$python" \
    --cache "$work/djl-cache" --java-home "$here/runtime" --build-dir "$work/jni-build" \
    --jni-header "$here/djl-src/jni-include/ai_djl_pytorch_jni_PyTorchLibrary.h" \
    >"$work/jni.env" 2>"$work/jni.log"; then
    jni_status="built"
    while IFS='=' read -r key value; do
      case "$key" in
        PYTORCH_LIBRARY_PATH | PYTORCH_VERSION | PYTORCH_FLAVOR | ENGINE_CACHE_DIR) export "$key=$value" ;;
      esac
    done <"$work/jni.env"
  else
    jni_status="failed"
  fi
  jni_seconds=$(($(date +%s) - t0))
  log "JNI: ${jni_status:0:200}"
else
  fail "no Python torch here and no --libtorch DIR: nothing for DJL to load"
fi

# The CUDA libraries of the pip torch (nvidia-* packages), and an unversioned libcudart.so for
# DJL's CUDA probe (JNA looks for libcudart.so by that name).
if [ "$have_torch" = 1 ]; then
  dirs="$(echo "$torch_info" | "$python" -c 'import json,sys; print(":".join(json.load(sys.stdin)["nvidia_lib_dirs"]))')"
  if [ -n "$dirs" ]; then
    export LD_LIBRARY_PATH="$dirs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  fi
fi
mkdir -p "$work/jna"
cudart="$(for d in ${LD_LIBRARY_PATH:+${LD_LIBRARY_PATH//:/ }} /usr/local/cuda/lib64; do ls "$d"/libcudart.so.* 2>/dev/null; done | head -n 1 || true)"
[ -z "$cudart" ] || ln -sf "$cudart" "$work/jna/libcudart.so"

# ---- 3. the Java check -----------------------------------------------------------------------
java_status="not run"
env_json="$work/environment.json"
if [[ "$jni_status" == built || "$jni_status" == "not built:"* ]]; then
  log "running the Java check (DeviceCheck --device $device --model $model --batch $batch)"
  t0=$(date +%s)
  if timeout "$(budget 300 120)" "$java" -Xmx12g -XX:+UseParallelGC \
    -Dai.djl.offline=true -Dai.djl.default_engine=PyTorch -Djna.library.path="$work/jna" \
    -cp "$here/lib/*" org.dtmspark.core.check.DeviceCheck --work "$work" --out "$work/java.json" \
    --device "$device" --model "$model" --batch "$batch" --steps "$steps" --reps "$reps" \
    --warmup "$warmup" >"$work/java.log" 2>&1; then
    java_status="ok"
  else
    java_status="failed (exit $?)"
  fi
  log "Java check: ${java_status:0:200} ($(($(date +%s) - t0)) s)"
fi

# ---- 4. the PyTorch references ---------------------------------------------------------------
if [ "$java_status" = ok ]; then
  log "Hugging Face CLIP"
  timeout "$(budget 120 60)" "$python" "$here/torch_reference.py" clip --java "$work/java.json" --work "$work" \
    --out "$work/hf-clip.json" --reps "$reps" --warmup "$warmup" >"$work/hf-clip.log" 2>&1 ||
    log "HF CLIP failed: $(tail -n 5 "$work/hf-clip.log")"
  log "timm BEiT"
  timeout "$(budget 120 5)" "$python" "$here/torch_reference.py" beit --java "$work/java.json" \
    --out "$work/timm-beit.json" --steps "$steps" --warmup "$warmup" >"$work/timm-beit.log" 2>&1 ||
    log "timm BEiT failed: $(tail -n 5 "$work/timm-beit.log")"
fi

# ---- 5. one JSON -----------------------------------------------------------------------------
DC_GPU="$gpu_name" DC_TORCH="$torch_info" DC_DEVICE="$device" DC_JNI="$jni_status" \
  DC_JNI_SECONDS="$jni_seconds" DC_JAVA="$java_status" DC_SECONDS="$(($(date +%s) - started))" \
  DC_WORK="$work" "$python" - "$env_json" <<'EOF'
import json, os, platform, sys
e = os.environ
def tail(name):
    path = os.path.join(e["DC_WORK"], name)
    if not os.path.exists(path):
        return None
    with open(path, errors="replace") as f:
        return f.read().splitlines()[-30:]
env = {"host": platform.node(), "cpus": os.cpu_count(), "gpu": e["DC_GPU"] or None,
       "python_torch": json.loads(e["DC_TORCH"]) if e["DC_TORCH"] else None,
       "device": e["DC_DEVICE"],
       "jni": {"status": e["DC_JNI"], "seconds": int(e["DC_JNI_SECONDS"])},
       "java_check": e["DC_JAVA"], "seconds_before_references": int(e["DC_SECONDS"])}
if e["DC_JNI"] == "failed":
    env["jni"]["log_tail"] = tail("jni.log")
if e["DC_JAVA"] != "ok":
    env["java_log_tail"] = tail("java.log")
for name in ("hf-clip.log", "timm-beit.log"):
    t = tail(name)
    if t:
        env[name.replace(".log", "_log_tail")] = t
with open(sys.argv[1], "w") as f:
    json.dump(env, f, indent=2)
EOF
"$python" "$here/torch_reference.py" merge --java "$work/java.json" --clip "$work/hf-clip.json" \
  --beit "$work/timm-beit.json" --env "$env_json" --out "$out"
log "wrote $out"
[ "$java_status" = ok ]
