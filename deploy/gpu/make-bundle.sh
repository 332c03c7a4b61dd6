#!/usr/bin/env bash
# make-bundle.sh: makes the folder that runs the GPU check on a borrowed Linux machine that has
# no network and no Java (deploy/gpu/device-check.sh, run from that folder).
#
#   make-bundle.sh --djl-source DIR [--out DIR] [--no-build] [--max-mib N]
#
# The folder (at most --max-mib MiB, default 64, or the script fails naming the size):
#   runtime/          a jlink Java runtime with only the modules the check needs, plus the JDK's
#                     include/ (jni.h, for compiling DJL's JNI there)
#   lib/              dtm-core and its runtime jars: DJL api, pytorch-engine, pytorch-jni (the
#                     published cpu and cu128 JNI), Jackson, ... ; no Spark, and not the 107 MB
#                     pytorch-native-cpu jar: the machine brings its own libtorch
#   djl-src/          DJL's JNI source, from --djl-source (checked against pom.xml's djl.version):
#                     engines/pytorch/pytorch-native (CMakeLists.txt, src/main/native),
#                     api/src/main/native, gradle/libs.versions.toml, and jni-include/ with the JNI
#                     header javac -h makes from DJL's PyTorchLibrary.java (the runtime has no javac)
#   device-check.sh, build-djl-jni.sh, torch_reference.py, versions.env
#
# --djl-source is DJL's source tree at this project's DJL version, fetched by you:
#   git clone --depth 1 --branch v0.36.0 https://github.com/deepjavalibrary/djl DIR
# --no-build uses the jars already built (mvn -B -pl dtm-core -am package -DskipTests).
# Default --out: target/gpu-bundle under the repository root.
set -euo pipefail

prog="make-bundle.sh"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
home="$(cd "$here/../.." && pwd)"

fail() {
  echo "$prog: $*" >&2
  exit 2
}

djl_source=""
out="$home/target/gpu-bundle"
build=1
max_mib=64
while [ $# -gt 0 ]; do
  case "$1" in
    -h | --help)
      awk 'NR == 1 { next } /^#/ { sub(/^# ?/, ""); print; next } { exit }' "${BASH_SOURCE[0]}"
      exit 0
      ;;
    --no-build)
      build=0
      shift
      ;;
    --djl-source | --out | --max-mib)
      [ $# -ge 2 ] || fail "$1 needs a value"
      case "$1" in
        --djl-source) djl_source="$2" ;;
        --out) out="$2" ;;
        --max-mib) max_mib="$2" ;;
      esac
      shift 2
      ;;
    *) fail "unknown argument '$1' (see --help)" ;;
  esac
done
[[ "$max_mib" =~ ^[1-9][0-9]*$ ]] || fail "--max-mib must be a positive integer, cannot be: '$max_mib'"

djl_version="$(sed -n 's:.*<djl.version>\(.*\)</djl.version>.*:\1:p' "$home/pom.xml" | head -n 1)"
pytorch_version="$(sed -n 's:.*<pytorch.version>\(.*\)</pytorch.version>.*:\1:p' "$home/pom.xml" | head -n 1)"
project_version="$(sed -n 's:^  <version>\(.*\)</version>$:\1:p' "$home/pom.xml" | head -n 1)"
fetch_hint="git clone --depth 1 --branch v$djl_version https://github.com/deepjavalibrary/djl DIR"
[ -n "$djl_source" ] || fail "--djl-source is required (fetch it with: $fetch_hint)"
# The checks build-djl-jni.sh makes of the DJL source, made here before anything is copied.
toml="$djl_source/gradle/libs.versions.toml"
[ -f "$toml" ] || fail "--djl-source '$djl_source' is not DJL's source tree: no gradle/libs.versions.toml (fetch it with: $fetch_hint)"
source_djl="$(sed -n 's/^djl *= *"\(.*\)".*/\1/p' "$toml" | head -n 1)"
[ "$source_djl" = "$djl_version" ] ||
  fail "--djl-source '$djl_source' is DJL '${source_djl:-unknown}', this project uses DJL $djl_version (fetch it with: $fetch_hint)"
native="$djl_source/engines/pytorch/pytorch-native"
library_java="$djl_source/engines/pytorch/pytorch-engine/src/main/java/ai/djl/pytorch/jni/PyTorchLibrary.java"
for f in "$native/CMakeLists.txt" "$native/src/main/native" "$djl_source/api/src/main/native/djl/utils.h" "$library_java"; do
  [ -e "$f" ] || fail "--djl-source '$djl_source' lacks $f"
done

java_home="${JAVA_HOME:-$(cd "$(dirname "$(readlink -f "$(command -v javac)")")/.." && pwd)}"
for tool in jlink javac; do
  [ -x "$java_home/bin/$tool" ] || fail "no $tool in $java_home/bin: set JAVA_HOME to a JDK 17"
done
[ -f "$java_home/include/jni.h" ] || fail "no include/jni.h in $java_home: set JAVA_HOME to a JDK 17"

# ---- the jars --------------------------------------------------------------------------------
if [ "$build" = 1 ]; then
  echo "$prog: building dtm-core (mvn -pl dtm-core -am package -DskipTests)" >&2
  (cd "$home" && mvn -B -q -o -pl dtm-core -am package -DskipTests >&2)
fi
core_jar="$(ls "$home"/dtm-core/target/dtm-core-*.jar 2>/dev/null | grep -v -e sources -e tests | head -n 1 || true)"
[ -n "$core_jar" ] || fail "dtm-core's jar is not built: run mvn -B -pl dtm-core -am package -DskipTests"
cp_file="$(mktemp)"
trap 'rm -f "$cp_file"' EXIT
(cd "$home" && mvn -B -q -o -pl dtm-core dependency:build-classpath -DincludeScope=runtime \
  -Dmdep.outputFile="$cp_file" >&2)

rm -rf "$out"
mkdir -p "$out/lib" "$out/djl-src"
cp "$core_jar" "$out/lib/"
IFS=: read -r -a jars <"$cp_file" || true # one line, no newline at its end
for jar in "${jars[@]}"; do
  case "$(basename "$jar")" in
    pytorch-native-*) ;; # the machine brings its own libtorch
    # plots and image writers (xchart and what it draws with): the check draws nothing
    xchart-* | VectorGraphics2D-* | graphics2d-* | pdfbox-* | fontbox-* | animated-gif-lib-*) ;;
    *.jar) cp "$jar" "$out/lib/" ;;
  esac
done

# ---- DJL's JNI source and its header ---------------------------------------------------------
mkdir -p "$out/djl-src/engines/pytorch/pytorch-native/src/main" "$out/djl-src/api/src/main" \
  "$out/djl-src/gradle" "$out/djl-src/jni-include"
cp "$native/CMakeLists.txt" "$out/djl-src/engines/pytorch/pytorch-native/"
cp -R "$native/src/main/native" "$out/djl-src/engines/pytorch/pytorch-native/src/main/"
cp -R "$djl_source/api/src/main/native" "$out/djl-src/api/src/main/"
cp "$toml" "$out/djl-src/gradle/"
classes="$(mktemp -d)"
"$java_home/bin/javac" -h "$out/djl-src/jni-include" -d "$classes" "$library_java"
rm -rf "$classes"

# ---- the scripts -----------------------------------------------------------------------------
cp "$here/device-check.sh" "$here/build-djl-jni.sh" "$here/torch_reference.py" "$out/"
chmod +x "$out/device-check.sh" "$out/build-djl-jni.sh" "$out/torch_reference.py"
{
  echo "DJL_VERSION=$djl_version"
  echo "PYTORCH_VERSION=$pytorch_version"
  echo "DTM_VERSION=$project_version"
  echo "BUILT=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "COMMIT=$(git -C "$home" rev-parse --short HEAD 2>/dev/null || echo unknown)"
} >"$out/versions.env"

# ---- the Java runtime ------------------------------------------------------------------------
# What the check loads: java.base, java.logging (DJL, Typesafe Config), jdk.unsupported
# (sun.misc.Unsafe for JNA and Gson).
modules="java.base,java.logging,jdk.unsupported"
"$java_home/bin/jlink" --add-modules "$modules" --strip-debug --no-header-files --no-man-pages \
  --compress=2 --output "$out/runtime"
cp -R "$java_home/include" "$out/runtime/include"

bytes="$(du -sb "$out" | cut -f1)"
mib="$(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1048576 }')"
if [ "$bytes" -gt $((max_mib * 1024 * 1024)) ]; then
  fail "the bundle at $out is $mib MiB, over the limit of $max_mib MiB"
fi
echo "$prog: wrote $out ($mib MiB of at most $max_mib MiB)" >&2
echo "$out"
