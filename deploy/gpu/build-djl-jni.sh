#!/usr/bin/env bash
# build-djl-jni.sh: builds DJL's PyTorch JNI (libdjl_torch.so) against a site's libtorch (a libtorch
# folder, or the torch package of a Python environment), and puts it where DJL loads it offline.
#
#   build-djl-jni.sh --djl-source DIR (--libtorch DIR | --python PYTHON) [options]
#
# DJL publishes its JNI for libtorch 2.7.1 (cpu and cu128) only; any other build of libtorch (a
# CUDA 12.6 build for V100s, the PyTorch of an ML runtime) needs a JNI compiled against it. This
# script compiles DJL's own JNI source at the DJL version of this project; it never copies DJL's
# files into this repository: fetch them yourself, at the tag of this project's DJL version:
#
#   git clone --depth 1 --branch v0.36.0 https://github.com/deepjavalibrary/djl djl-src
#
# Options:
#   --djl-source DIR   DJL's source tree (its gradle/libs.versions.toml must name the DJL version of
#                      this project: pom.xml's djl.version, or versions.env beside this script)
#   --libtorch DIR     a full libtorch: include/, lib/libtorch.so, share/cmake/Torch (the zip from
#                      pytorch.org; not a runtime-only copy such as DJL's cache)
#   --python PYTHON    a Python whose torch package to build against (torch.utils.cmake_prefix_path)
#   --cache DIR        DJL's engine cache, where the JNI goes (default $ENGINE_CACHE_DIR, else
#                      $DJL_CACHE_DIR, else ~/.djl.ai: where DJL itself looks)
#   --java-home DIR    a Java home with include/jni.h (default $JAVA_HOME, else the java on PATH)
#   --jni-header FILE  ai_djl_pytorch_jni_PyTorchLibrary.h made beforehand (make-bundle.sh does) for
#                      a Java runtime without javac; default: javac -h on DJL's PyTorchLibrary.java
#   --flavor FLAVOR    cpu or cuNNN; default from the libtorch (its build-version, version.py or
#                      CUDA runtime library)
#   --build-dir DIR    where to compile (default a new temporary folder, removed on success)
#   --jobs N           parallel compile jobs (default: the CPUs)
#   --detect-only      print what was detected about the libtorch and the DJL source, build nothing
#   -h, --help         this help
#
# Result: <cache>/pytorch/<version>-<flavor>-linux-x86_64/<djl>-libdjl_torch.so, the place DJL
# 0.36's LibUtils looks in when PYTORCH_LIBRARY_PATH names a libtorch folder that holds no JNI,
# and libtorch.env beside it, the four variables DJL reads:
#
#   PYTORCH_LIBRARY_PATH=<the folder holding libtorch.so>
#   PYTORCH_VERSION=<version>       PYTORCH_FLAVOR=<flavor>       ENGINE_CACHE_DIR=<cache>
#
# bin/dtm reads that file when DTM_LIBTORCH_ENV names it; deploy/bin/dtm-submit takes it with
# --libtorch-env FILE. The env file is also printed on stdout. Exit status: 0 built (or detected);
# 2 usage error or bad input (the message names the option, the path and the rule); 3 the compile
# failed (the log's path and its end are printed).
set -euo pipefail

prog="build-djl-jni.sh"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# DJL 0.36's JNI uses the C++ API of libtorch 2.7; older ones lack what it calls.
min_torch="2.7"

usage() {
  awk 'NR == 1 { next } /^#/ { sub(/^# ?/, ""); print; next } { exit }' "${BASH_SOURCE[0]}"
}

fail() {
  echo "$prog: $*" >&2
  exit 2
}

djl_source=""
libtorch=""
python=""
cache="${ENGINE_CACHE_DIR:-${DJL_CACHE_DIR:-$HOME/.djl.ai}}"
java_home="${JAVA_HOME:-}"
jni_header=""
flavor=""
build_dir=""
jobs="$(nproc 2>/dev/null || echo 4)"
detect_only=0

while [ $# -gt 0 ]; do
  case "$1" in
    -h | --help)
      usage
      exit 0
      ;;
    --detect-only)
      detect_only=1
      shift
      ;;
    --djl-source | --libtorch | --python | --cache | --java-home | --jni-header | --flavor | \
      --build-dir | --jobs)
      [ $# -ge 2 ] || fail "$1 needs a value"
      case "$1" in
        --djl-source) djl_source="$2" ;;
        --libtorch) libtorch="$2" ;;
        --python) python="$2" ;;
        --cache) cache="$2" ;;
        --java-home) java_home="$2" ;;
        --jni-header) jni_header="$2" ;;
        --flavor) flavor="$2" ;;
        --build-dir) build_dir="$2" ;;
        --jobs) jobs="$2" ;;
      esac
      shift 2
      ;;
    *) fail "unknown argument '$1' (see --help)" ;;
  esac
done

# ---- the DJL version this project uses, and DJL's source at that version -----------------------
expected_djl=""
if [ -f "$here/versions.env" ]; then
  expected_djl="$(sed -n 's/^DJL_VERSION=//p' "$here/versions.env")"
elif [ -f "$here/../../pom.xml" ]; then
  expected_djl="$(sed -n 's:.*<djl.version>\(.*\)</djl.version>.*:\1:p' "$here/../../pom.xml" | head -n 1)"
fi
[ -n "$expected_djl" ] ||
  fail "cannot tell this project's DJL version: neither $here/versions.env nor $here/../../pom.xml names it"

fetch_hint="git clone --depth 1 --branch v$expected_djl https://github.com/deepjavalibrary/djl DIR"
[ -n "$djl_source" ] || fail "--djl-source is required (fetch it with: $fetch_hint)"
[ -d "$djl_source" ] || fail "--djl-source '$djl_source' is not a directory (fetch it with: $fetch_hint)"
versions_toml="$djl_source/gradle/libs.versions.toml"
[ -f "$versions_toml" ] ||
  fail "--djl-source '$djl_source' is not DJL's source tree: no gradle/libs.versions.toml (fetch it with: $fetch_hint)"
source_djl="$(sed -n 's/^djl *= *"\(.*\)".*/\1/p' "$versions_toml" | head -n 1)"
[ "$source_djl" = "$expected_djl" ] ||
  fail "--djl-source '$djl_source' is DJL '${source_djl:-unknown}', this project uses DJL $expected_djl: its JNI must match the pytorch-engine jar (fetch it with: $fetch_hint)"
native="$djl_source/engines/pytorch/pytorch-native"
library_java="$djl_source/engines/pytorch/pytorch-engine/src/main/java/ai/djl/pytorch/jni/PyTorchLibrary.java"
for f in "$native/CMakeLists.txt" "$native/src/main/native" "$djl_source/api/src/main/native/djl/utils.h"; do
  [ -e "$f" ] || fail "--djl-source '$djl_source' lacks $f"
done

# ---- the libtorch --------------------------------------------------------------------------------
if [ -n "$libtorch" ] && [ -n "$python" ]; then
  fail "give --libtorch or --python, not both"
fi
if [ -z "$libtorch" ] && [ -z "$python" ]; then
  fail "give the libtorch to build against: --libtorch DIR or --python PYTHON"
fi
if [ -n "$python" ]; then
  command -v "$python" >/dev/null 2>&1 || fail "--python '$python' is not a program on PATH"
  if ! libtorch="$("$python" -c 'import os, torch; print(os.path.dirname(torch.__file__))' 2>&1)"; then
    fail "--python '$python' cannot import torch: ${libtorch##*$'\n'}"
  fi
fi
[ -d "$libtorch" ] || fail "--libtorch '$libtorch' is not a directory"
libtorch="$(cd "$libtorch" && pwd)"
# A folder that holds libtorch.so directly (DIR/lib given for DIR): its parent is the libtorch.
if [ -f "$libtorch/libtorch.so" ] && [ -d "$libtorch/../include" ]; then
  libtorch="$(cd "$libtorch/.." && pwd)"
fi
[ -f "$libtorch/lib/libtorch.so" ] || fail "'$libtorch' is not a libtorch: no lib/libtorch.so"
[ -f "$libtorch/share/cmake/Torch/TorchConfig.cmake" ] ||
  fail "'$libtorch' is not a full libtorch: no share/cmake/Torch/TorchConfig.cmake (a runtime-only copy, such as DJL's cache or an image's /opt/libtorch/lib, has no headers; give the libtorch zip's folder or --python)"
[ -d "$libtorch/include/torch" ] || fail "'$libtorch' is not a full libtorch: no include/torch"

# The version: build-version (libtorch zips: 2.7.1+cu126), version.py (the torch package:
# __version__ = '2.11.0+cu130', cuda = '13.0'), or the headers (torch/version.h).
version=""
cuda=""
if [ -f "$libtorch/build-version" ]; then
  full="$(head -n 1 "$libtorch/build-version" | tr -d '[:space:]')"
  version="${full%%+*}"
  [[ "$full" == *+cu* ]] && cuda="${full##*+cu}"
elif [ -f "$libtorch/version.py" ]; then
  full="$(sed -n "s/^__version__ *= *['\"]\\([^'\"]*\\)['\"].*/\\1/p" "$libtorch/version.py" | head -n 1)"
  version="${full%%+*}"
  cuda_py="$(sed -n "s/^cuda *\\(: *[^=]*\\)\\{0,1\\}= *['\"]\\([0-9.]*\\)['\"].*/\\2/p" "$libtorch/version.py" | head -n 1)"
  [ -z "$cuda_py" ] || cuda="$(echo "$cuda_py" | awk -F. '{ printf "%d%d", $1, $2 }')"
fi
version_h="$libtorch/include/torch/csrc/api/include/torch/version.h"
if [ -z "$version" ] && [ -f "$version_h" ]; then
  version="$(sed -n 's/^#define TORCH_VERSION "\([0-9.]*\)".*/\1/p' "$version_h" | head -n 1)"
  if [ -z "$version" ]; then
    major="$(sed -n 's/^#define TORCH_VERSION_MAJOR \([0-9]*\).*/\1/p' "$version_h")"
    minor="$(sed -n 's/^#define TORCH_VERSION_MINOR \([0-9]*\).*/\1/p' "$version_h")"
    patch="$(sed -n 's/^#define TORCH_VERSION_PATCH \([0-9]*\).*/\1/p' "$version_h")"
    [ -z "$major" ] || [ -z "$minor" ] || version="$major.$minor.${patch:-0}"
  fi
fi
[[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] ||
  fail "cannot tell the version of the libtorch at '$libtorch' (no build-version, version.py or include/torch/csrc/api/include/torch/version.h with a version), found: '${version}'"
has_cuda=0
[ -f "$libtorch/lib/libtorch_cuda.so" ] && has_cuda=1
if [ "$has_cuda" = 1 ] && [ -z "$cuda" ]; then
  # libtorch zips carry their CUDA runtime as libcudart-<hash>.so.<major>.<minor>
  rt="$(cd "$libtorch/lib" && ls libcudart*.so.* 2>/dev/null | head -n 1 || true)"
  if [[ "$rt" =~ \.so\.([0-9]+)\.([0-9]+) ]]; then
    cuda="${BASH_REMATCH[1]}${BASH_REMATCH[2]}"
  fi
fi
if [ -z "$flavor" ]; then
  if [ "$has_cuda" = 0 ]; then
    flavor="cpu"
  elif [ -n "$cuda" ]; then
    flavor="cu$cuda"
  else
    fail "the libtorch at '$libtorch' is a CUDA build (lib/libtorch_cuda.so) whose CUDA version cannot be told: give --flavor cuNNN"
  fi
fi
[[ "$flavor" =~ ^(cpu|cu[0-9]{3})$ ]] || fail "--flavor must be cpu or cuNNN (e.g. cu126), cannot be: '$flavor'"
if [ "$flavor" = cpu ] && [ "$has_cuda" = 1 ]; then
  fail "--flavor cpu, but the libtorch at '$libtorch' is a CUDA build (lib/libtorch_cuda.so)"
fi
if [ "$flavor" != cpu ] && [ "$has_cuda" = 0 ]; then
  fail "--flavor $flavor, but the libtorch at '$libtorch' is a CPU build (no lib/libtorch_cuda.so)"
fi
oldest="$(printf '%s\n%s\n' "$min_torch" "$version" | sort -V | head -n 1)"
[ "$oldest" = "$min_torch" ] ||
  fail "the libtorch at '$libtorch' is $version: DJL $expected_djl's JNI needs libtorch $min_torch or newer (for 2.7.1 use DJL's published JNI)"
# The C++ standard the headers accept (PyTorch raises it over time; DJL's CMakeLists asks for 17):
# torch/torch.h compiled for syntax only, as C++17, else as C++20. When neither compiles (no
# compiler, broken headers) it stays 17 and the build shows why.
cxx_standard=17
cxx="$(command -v c++ || command -v g++ || true)"
if [ -n "$cxx" ]; then
  probe="$(mktemp -d "${TMPDIR:-/tmp}/cxx-probe.XXXXXX")"
  printf '#include <torch/torch.h>\nint main() { return 0; }\n' >"$probe/probe.cc"
  for std in 17 20; do
    if "$cxx" -std=c++$std -fsyntax-only -I"$libtorch/include" \
      -I"$libtorch/include/torch/csrc/api/include" "$probe/probe.cc" >"$probe/log" 2>&1; then
      cxx_standard=$std
      break
    fi
  done
  rm -rf "$probe"
fi

jni_dir="$cache/pytorch/$version-$flavor-linux-x86_64"
jni_out="$jni_dir/$expected_djl-libdjl_torch.so"
env_file="$jni_dir/libtorch.env"
if [ "$detect_only" = 1 ]; then
  echo "djl_version=$expected_djl"
  echo "libtorch=$libtorch"
  echo "torch_version=$version"
  echo "flavor=$flavor"
  echo "cxx_standard=$cxx_standard"
  echo "jni=$jni_out"
  exit 0
fi

# ---- tools ----------------------------------------------------------------------------------------
command -v cmake >/dev/null 2>&1 || fail "cmake is not on PATH"
command -v c++ >/dev/null 2>&1 || command -v g++ >/dev/null 2>&1 || fail "no C++ compiler (c++ or g++) on PATH"
if [ -z "$java_home" ] && command -v java >/dev/null 2>&1; then
  java_home="$(cd "$(dirname "$(readlink -f "$(command -v java)")")/.." && pwd)"
fi
[ -n "$java_home" ] || fail "no Java home: give --java-home DIR (a JDK, or a runtime with the JDK's include/ copied in)"
[ -f "$java_home/include/jni.h" ] && [ -f "$java_home/include/linux/jni_md.h" ] ||
  fail "--java-home '$java_home' has no include/jni.h and include/linux/jni_md.h"
jvm_lib="$(ls "$java_home"/lib/server/libjvm.so 2>/dev/null || true)"
[ -n "$jvm_lib" ] || fail "--java-home '$java_home' has no lib/server/libjvm.so"
javac="$java_home/bin/javac"
if [ -n "$jni_header" ]; then
  [ -f "$jni_header" ] || fail "--jni-header '$jni_header' is not a file"
elif [ ! -x "$javac" ]; then
  fail "--java-home '$java_home' has no bin/javac to make the JNI header: give --jni-header FILE"
elif [ ! -f "$library_java" ]; then
  fail "--djl-source '$djl_source' lacks $library_java"
fi
[[ "$jobs" =~ ^[1-9][0-9]*$ ]] || fail "--jobs must be a positive integer, cannot be: '$jobs'"

# ---- build: a copy of DJL's native sources, so that the user's tree stays untouched --------------
keep_build=1
if [ -z "$build_dir" ]; then
  build_dir="$(mktemp -d "${TMPDIR:-/tmp}/djl-jni.XXXXXX")"
  keep_build=0
fi
mkdir -p "$build_dir"
src="$build_dir/src"
rm -rf "$src"
mkdir -p "$src/engines/pytorch" "$src/api/src/main"
cp -R "$native" "$src/engines/pytorch/pytorch-native"
cp -R "$djl_source/api/src/main/native" "$src/api/src/main/native"
work="$src/engines/pytorch/pytorch-native"
rm -rf "$work/build"
mkdir -p "$work/build/include"
if [ -n "$jni_header" ]; then
  cp "$jni_header" "$work/build/include/"
else
  "$javac" -h "$work/build/include" -d "$work/build/classes" "$library_java"
fi
if [ "$cxx_standard" != 17 ]; then
  # Our edit: the headers of this libtorch demand C++$cxx_standard; DJL's CMakeLists pins 17.
  sed -i "s/PROPERTY CXX_STANDARD 17)/PROPERTY CXX_STANDARD $cxx_standard)/" "$work/CMakeLists.txt"
  grep -q "CXX_STANDARD $cxx_standard)" "$work/CMakeLists.txt" ||
    fail "could not raise the C++ standard in DJL's CMakeLists.txt to $cxx_standard"
fi

log="$build_dir/build.log"
use_cuda=""
[ "$flavor" = cpu ] || use_cuda=1
echo "$prog: building DJL $expected_djl's JNI against libtorch $version ($flavor) at $libtorch (log: $log)" >&2
if ! (
  cd "$work/build"
  cmake -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$libtorch" -DUSE_CUDA="$use_cuda" \
    -DJAVA_HOME="$java_home" -DJAVA_INCLUDE_PATH="$java_home/include" \
    -DJAVA_INCLUDE_PATH2="$java_home/include/linux" -DJAVA_JVM_LIBRARY="$jvm_lib" \
    -DJAVA_AWT_LIBRARY=NotNeeded -DJAVA_AWT_INCLUDE_PATH=NotNeeded .. &&
    cmake --build . --config Release -- -j "$jobs" &&
    if [ -n "$use_cuda" ]; then
      # As DJL's build.sh does: no direct link with the toolkit's libcudart/libnvrtc, so that the
      # CUDA runtime libtorch brings is the one used.
      sed -i -r 's#/usr/local/cuda(.{5})?/lib64/lib(cudart|nvrtc)\.so##g' CMakeFiles/djl_torch.dir/link.txt &&
        rm -f libdjl_torch.so && bash CMakeFiles/djl_torch.dir/link.txt
    fi
) >"$log" 2>&1; then
  echo "$prog: the build failed; the end of $log:" >&2
  tail -n 40 "$log" >&2
  exit 3
fi
[ -f "$work/build/libdjl_torch.so" ] || {
  echo "$prog: the build made no libdjl_torch.so; see $log" >&2
  exit 3
}

mkdir -p "$jni_dir"
cp "$work/build/libdjl_torch.so" "$jni_out.tmp"
mv "$jni_out.tmp" "$jni_out"
{
  echo "PYTORCH_LIBRARY_PATH=$libtorch/lib"
  echo "PYTORCH_VERSION=$version"
  echo "PYTORCH_FLAVOR=$flavor"
  echo "ENGINE_CACHE_DIR=$cache"
} >"$env_file"
[ "$keep_build" = 1 ] || rm -rf "$build_dir"
echo "$prog: wrote $jni_out and $env_file" >&2
cat "$env_file"
