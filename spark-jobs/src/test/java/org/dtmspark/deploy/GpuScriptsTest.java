package org.dtmspark.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;
import static org.dtmspark.deploy.Scripts.HOME;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The scripts of the GPU stack without a GPU: the image's cuobjdump check against listings in
 * cuobjdump's format, build-djl-jni.sh's checks of its inputs and its detection of a libtorch's
 * version and CUDA flavour, its build through cmake with stand-in sources, and how bin/dtm and
 * dtm-submit take the libtorch.env it writes.
 */
class GpuScriptsTest {
  static final Path CHECK_ARCHES = HOME.resolve("deploy/docker/check-cuda-arches.sh");
  static final Path BUILD_JNI = HOME.resolve("deploy/gpu/build-djl-jni.sh");

  @TempDir Path dir;

  // ---- check-cuda-arches.sh ------------------------------------------------------------------

  /**
   * A stand-in cuobjdump printing hand-written listings in the format of cuobjdump --list-elf and
   * --list-ptx ("ELF file N: <lib>.N.sm_XY.cubin"); not captured from a real libtorch.
   */
  private Path cuobjdump(String... sms) throws Exception {
    StringBuilder elf = new StringBuilder();
    for (int i = 0; i < sms.length; i++) {
      elf.append(
          String.format("ELF file %4d: libtorch_cuda.%d.sm_%s.cubin\\n", i + 1, i + 1, sms[i]));
    }
    return Scripts.executable(
        dir.resolve("bin/cuobjdump"),
        "case \"$1\" in\n"
            + "  --list-elf) printf '\\n"
            + elf
            + "' ;;\n"
            + "  --list-ptx) printf 'PTX file    1: libtorch_cuda.1.sm_90.ptx\\n' ;;\n"
            + "  *) exit 9 ;;\n"
            + "esac\n");
  }

  private Scripts.Result checkArches(Path cuobjdump, String arches) throws Exception {
    Path lib = Files.writeString(dir.resolve("libtorch_cuda.so"), "not really a library");
    return Scripts.script(
        dir,
        Map.of("CUOBJDUMP", cuobjdump.toString()),
        CHECK_ARCHES,
        "--arches",
        arches,
        lib.toString());
  }

  @Test
  void archCheckPassesWhenEveryClaimedArchitectureHasCubins() throws Exception {
    // PyTorch 2.7.1 cu126's list: 50 60 70 75 80 86 90
    Path tool = cuobjdump("50", "60", "70", "75", "80", "86", "90");
    Scripts.Result r = checkArches(tool, "70,80,90");
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out())
        .contains("libtorch_cuda.so\tsm_70\tserved by sm_70")
        .contains("libtorch_cuda.so\tsm_90\tserved by sm_90");
  }

  @Test
  void archCheckFailsForAV100ClaimOnACuda128Libtorch() throws Exception {
    // PyTorch 2.7.1 cu128's list starts at 75: no Volta.
    Path tool = cuobjdump("75", "80", "86", "90", "100", "120");
    Scripts.Result r = checkArches(tool, "70,80,90");
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err())
        .contains("has no kernels for sm_70")
        .contains("cubins for sm_75 sm_80 sm_86 sm_90 sm_100 sm_120 and PTX for sm_90");
    assertThat(r.out()).contains("sm_80\tserved by sm_80");
  }

  @Test
  void archCheckCountsCubinsOfTheSameMajorAndNoNewerMinor() throws Exception {
    Path tool = cuobjdump("80", "90a");
    assertThat(checkArches(tool, "86").out()).contains("sm_86\tserved by sm_80");
    assertThat(checkArches(tool, "90").out()).contains("sm_90\tserved by sm_90");
    Scripts.Result older = checkArches(cuobjdump("86"), "80");
    assertThat(older.code()).isEqualTo(1);
    assertThat(older.err()).contains("no kernels for sm_80");
  }

  @Test
  void archCheckRejectsBadClaimsAndMissingTools() throws Exception {
    Path tool = cuobjdump("70");
    Scripts.Result bad = checkArches(tool, "sm_70");
    assertThat(bad.code()).isEqualTo(2);
    assertThat(bad.err()).contains("--arches must be compute capabilities like 70,80,90");
    Scripts.Result none = checkArches(dir.resolve("no-such-cuobjdump"), "70");
    assertThat(none.code()).isEqualTo(2);
    assertThat(none.err()).contains("cuobjdump not found");
    Scripts.Result empty = checkArches(Scripts.executable(dir.resolve("bin2/cuobjdump"), ""), "70");
    assertThat(empty.code()).isEqualTo(1);
    assertThat(empty.err()).contains("holds no cubin at all");
  }

  // ---- build-djl-jni.sh ----------------------------------------------------------------------

  /** A tree with the files build-djl-jni.sh looks for in DJL's source, at {@code version}. */
  private Path djlSource(String version) throws Exception {
    Path src = dir.resolve("djl-" + version);
    Files.createDirectories(src.resolve("gradle"));
    Files.writeString(
        src.resolve("gradle/libs.versions.toml"),
        "[versions]\ndjl = \"" + version + "\"\npytorch = \"2.7.1\"\n");
    Path native_ = src.resolve("engines/pytorch/pytorch-native");
    Files.createDirectories(native_.resolve("src/main/native"));
    // Stand-in native sources that keep the shape of DJL's build: Torch and JNI found by CMake,
    // the JNI header in build/include, utils.h from api/, C++17 pinned on the target.
    Files.writeString(
        native_.resolve("CMakeLists.txt"),
        String.join(
            "\n",
            "cmake_minimum_required(VERSION 3.6 FATAL_ERROR)",
            "project(djl_torch CXX)",
            "find_package(Torch REQUIRED)",
            "set(JAVA_AWT_LIBRARY NotNeeded)",
            "set(JAVA_AWT_INCLUDE_PATH NotNeeded)",
            "find_package(JNI REQUIRED)",
            "find_path(UTILS_INCLUDE_DIR NAMES djl/utils.h PATHS"
                + " ${PROJECT_SOURCE_DIR}/../../../api/src/main/native REQUIRED)",
            "add_library(djl_torch SHARED src/main/native/stand_in.cc)",
            "set_property(TARGET djl_torch PROPERTY CXX_STANDARD 17)",
            "target_link_libraries(djl_torch \"${TORCH_LIBRARIES}\")",
            "target_include_directories(djl_torch PUBLIC build/include ${JNI_INCLUDE_DIRS}"
                + " ${UTILS_INCLUDE_DIR})",
            ""));
    Files.writeString(
        native_.resolve("src/main/native/stand_in.cc"),
        "#include <djl/utils.h>\n#include \"ai_djl_pytorch_jni_PyTorchLibrary.h\"\n"
            + "JNIEXPORT jint JNICALL Java_ai_djl_pytorch_jni_PyTorchLibrary_torchVersion("
            + "JNIEnv*, jobject) { return DJL_STAND_IN; }\n");
    Path api = src.resolve("api/src/main/native/djl");
    Files.createDirectories(api);
    Files.writeString(api.resolve("utils.h"), "#define DJL_STAND_IN 7\n");
    Path jni = src.resolve("engines/pytorch/pytorch-engine/src/main/java/ai/djl/pytorch/jni");
    Files.createDirectories(jni);
    Files.writeString(
        jni.resolve("PyTorchLibrary.java"),
        "package ai.djl.pytorch.jni;\nfinal class PyTorchLibrary {\n"
            + "  native int torchVersion();\n}\n");
    return src;
  }

  /** A libtorch folder with what the script reads; TorchConfig.cmake finds nothing to link. */
  private Path libtorch(String name, String versionFile, String contents, boolean cuda)
      throws Exception {
    Path lt = dir.resolve(name);
    Files.createDirectories(lt.resolve("lib"));
    Files.createDirectories(lt.resolve("include/torch/csrc/api/include/torch"));
    Files.createDirectories(lt.resolve("share/cmake/Torch"));
    Files.writeString(lt.resolve("lib/libtorch.so"), "");
    if (cuda) {
      Files.writeString(lt.resolve("lib/libtorch_cuda.so"), "");
    }
    Files.writeString(
        lt.resolve("share/cmake/Torch/TorchConfig.cmake"),
        "set(TORCH_LIBRARIES \"\")\nset(TORCH_CXX_FLAGS \"\")\nset(Torch_FOUND TRUE)\n");
    if (versionFile != null) {
      Path f = lt.resolve(versionFile);
      Files.createDirectories(f.getParent());
      Files.writeString(f, contents);
    }
    return lt;
  }

  private Scripts.Result buildJni(String... args) throws Exception {
    return Scripts.script(dir, Map.of("HOME", dir.toString()), BUILD_JNI, args);
  }

  private static Map<String, String> keyValues(String out) {
    return out.lines()
        .filter(l -> l.contains("="))
        .collect(
            java.util.stream.Collectors.toMap(
                l -> l.substring(0, l.indexOf('=')), l -> l.substring(l.indexOf('=') + 1)));
  }

  @Test
  void buildJniDetectsTheVersionAndFlavourOfALibtorchZip() throws Exception {
    Path lt = libtorch("zip", "build-version", "2.7.1+cu126\n", true);
    Scripts.Result r =
        buildJni(
            "--djl-source",
            djlSource("0.36.0").toString(),
            "--libtorch",
            lt.toString(),
            "--cache",
            dir.resolve("cache").toString(),
            "--detect-only");
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(keyValues(r.out()))
        .containsEntry("djl_version", "0.36.0")
        .containsEntry("torch_version", "2.7.1")
        .containsEntry("flavor", "cu126")
        .containsEntry("cxx_standard", "17")
        .containsEntry(
            "jni",
            dir.resolve("cache/pytorch/2.7.1-cu126-linux-x86_64/0.36.0-libdjl_torch.so")
                .toString());
  }

  @Test
  void buildJniReadsTheHeadersAndTheCudaRuntimeNameWithoutABuildVersion() throws Exception {
    Path lt =
        libtorch(
            "headers",
            "include/torch/csrc/api/include/torch/version.h",
            "#pragma once\n#define TORCH_VERSION_MAJOR 2\n#define TORCH_VERSION_MINOR 8\n"
                + "#define TORCH_VERSION_PATCH 0\n",
            true);
    Files.writeString(lt.resolve("lib/libcudart-218eec4c.so.12.8"), "");
    // given as its lib/ folder, the way PYTORCH_LIBRARY_PATH names it
    Scripts.Result r =
        buildJni(
            "--djl-source",
            djlSource("0.36.0").toString(),
            "--libtorch",
            lt.resolve("lib").toString(),
            "--detect-only");
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(keyValues(r.out()))
        .containsEntry("libtorch", lt.toString())
        .containsEntry("torch_version", "2.8.0")
        .containsEntry("flavor", "cu128");
  }

  @Test
  void buildJniFindsThePythonTorchPackageAndItsCppStandard() throws Exception {
    // the layout of site-packages/torch: version.py, lib/, include/, share/cmake
    Path torch =
        libtorch(
            "site-packages/torch",
            "version.py",
            "from typing import Optional\n__version__ = '2.11.0+cu130'\n"
                + "cuda: Optional[str] = '13.0'\n",
            true);
    // headers that, like newer PyTorch's, refuse a C++ standard older than 20
    Files.writeString(
        torch.resolve("include/torch/torch.h"),
        "#if __cplusplus < 202002L\n#error \"You need C++20 to compile PyTorch\"\n#endif\n");
    Path python =
        Scripts.executable(
            dir.resolve("bin/python3"), "[ \"$1\" = -c ] || exit 9\necho '" + torch + "'\n");
    Scripts.Result r =
        buildJni(
            "--djl-source",
            djlSource("0.36.0").toString(),
            "--python",
            python.toString(),
            "--detect-only");
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(keyValues(r.out()))
        .containsEntry("torch_version", "2.11.0")
        .containsEntry("flavor", "cu130")
        .containsEntry("cxx_standard", "20");
  }

  @Test
  void buildJniNamesWhatIsMissingOrMismatched() throws Exception {
    String src = djlSource("0.36.0").toString();
    Path zip = libtorch("zip", "build-version", "2.7.1+cu126\n", true);

    Scripts.Result noSource = buildJni("--libtorch", zip.toString());
    assertThat(noSource.code()).isEqualTo(2);
    assertThat(noSource.err())
        .contains("--djl-source is required")
        .contains("git clone --depth 1 --branch v0.36.0 https://github.com/deepjavalibrary/djl");

    Scripts.Result otherDjl =
        buildJni("--djl-source", djlSource("0.35.0").toString(), "--libtorch", zip.toString());
    assertThat(otherDjl.code()).isEqualTo(2);
    assertThat(otherDjl.err()).contains("is DJL '0.35.0', this project uses DJL 0.36.0");

    Scripts.Result noLibtorch = buildJni("--djl-source", src);
    assertThat(noLibtorch.err()).contains("give the libtorch to build against");

    Scripts.Result missing =
        buildJni("--djl-source", src, "--libtorch", dir.resolve("nowhere").toString());
    assertThat(missing.code()).isEqualTo(2);
    assertThat(missing.err())
        .contains("--libtorch '" + dir.resolve("nowhere") + "' is not a directory");

    // DJL's cache folder: the libraries without headers or CMake files
    Path runtimeOnly = dir.resolve("cache-copy");
    Files.createDirectories(runtimeOnly.resolve("lib"));
    Files.writeString(runtimeOnly.resolve("lib/libtorch.so"), "");
    Scripts.Result noHeaders = buildJni("--djl-source", src, "--libtorch", runtimeOnly.toString());
    assertThat(noHeaders.err())
        .contains("is not a full libtorch: no share/cmake/Torch/TorchConfig.cmake");

    Scripts.Result tooOld =
        buildJni(
            "--djl-source",
            src,
            "--libtorch",
            libtorch("old", "build-version", "2.6.0+cu124\n", true).toString());
    assertThat(tooOld.err()).contains("is 2.6.0: DJL 0.36.0's JNI needs libtorch 2.7 or newer");

    Scripts.Result cpuAsCuda =
        buildJni(
            "--djl-source",
            src,
            "--libtorch",
            libtorch("cpu", "build-version", "2.7.1+cpu\n", false).toString(),
            "--flavor",
            "cu126");
    assertThat(cpuAsCuda.err())
        .contains("--flavor cu126, but the libtorch at")
        .contains("is a CPU build (no lib/libtorch_cuda.so)");

    Scripts.Result noVersion =
        buildJni(
            "--djl-source",
            src,
            "--libtorch",
            libtorch("unversioned", null, null, false).toString());
    assertThat(noVersion.err()).contains("cannot tell the version of the libtorch at");

    Path noTorch =
        Scripts.executable(
            dir.resolve("bin/python-without-torch"),
            "echo \"ModuleNotFoundError: No module named 'torch'\" >&2\nexit 1\n");
    Scripts.Result noPythonTorch = buildJni("--djl-source", src, "--python", noTorch.toString());
    assertThat(noPythonTorch.err())
        .contains("cannot import torch: ModuleNotFoundError: No module named 'torch'");

    Scripts.Result both =
        buildJni("--djl-source", src, "--libtorch", zip.toString(), "--python", "python3");
    assertThat(both.err()).contains("give --libtorch or --python, not both");
  }

  @Test
  void buildJniCompilesWithCmakeAndWritesTheJniAndLibtorchEnvWhereDjlLooks() throws Exception {
    assumeThat(Scripts.onPath("cmake")).as("cmake on PATH").isPresent();
    assumeThat(Scripts.onPath("javac")).as("javac on PATH").isPresent();
    Path lt = libtorch("cpu", "build-version", "2.7.1+cpu\n", false);
    Path cache = dir.resolve("cache");
    Scripts.Result r =
        buildJni(
            "--djl-source",
            djlSource("0.36.0").toString(),
            "--libtorch",
            lt.toString(),
            "--cache",
            cache.toString(),
            "--jobs",
            "1");
    assertThat(r.code()).as(r.err()).isZero();
    Path jniDir = cache.resolve("pytorch/2.7.1-cpu-linux-x86_64");
    Path so = jniDir.resolve("0.36.0-libdjl_torch.so");
    assertThat(so).isRegularFile();
    assertThat(new String(Files.readAllBytes(so), java.nio.charset.StandardCharsets.ISO_8859_1))
        .startsWith("\u007fELF")
        .contains("Java_ai_djl_pytorch_jni_PyTorchLibrary_torchVersion");
    List<String> env = Files.readAllLines(jniDir.resolve("libtorch.env"));
    assertThat(env)
        .containsExactly(
            "PYTORCH_LIBRARY_PATH=" + lt.resolve("lib"),
            "PYTORCH_VERSION=2.7.1",
            "PYTORCH_FLAVOR=cpu",
            "ENGINE_CACHE_DIR=" + cache);
    assertThat(r.out().lines().toList()).isEqualTo(env);
  }

  @Test
  void buildJniReportsACompileFailureWithTheEndOfItsLog() throws Exception {
    assumeThat(Scripts.onPath("cmake")).as("cmake on PATH").isPresent();
    assumeThat(Scripts.onPath("javac")).as("javac on PATH").isPresent();
    Path lt = libtorch("broken", "build-version", "2.7.1+cpu\n", false);
    Files.writeString(
        lt.resolve("share/cmake/Torch/TorchConfig.cmake"),
        "message(FATAL_ERROR \"stand-in TorchConfig refuses\")\n");
    Scripts.Result r =
        buildJni(
            "--djl-source",
            djlSource("0.36.0").toString(),
            "--libtorch",
            lt.toString(),
            "--cache",
            dir.resolve("cache").toString(),
            "--build-dir",
            dir.resolve("build").toString());
    assertThat(r.code()).isEqualTo(3);
    assertThat(r.err()).contains("the build failed").contains("stand-in TorchConfig refuses");
    assertThat(dir.resolve("build/build.log")).isRegularFile();
    assertThat(dir.resolve("cache/pytorch/2.7.1-cpu-linux-x86_64")).doesNotExist();
  }

  // ---- the libtorch.env in the launchers ------------------------------------------------------

  @Test
  void dtmSubmitPassesALibtorchEnvToDriverAndExecutors() throws Exception {
    Path env =
        Files.writeString(
            dir.resolve("libtorch.env"),
            "PYTORCH_LIBRARY_PATH=/site/torch/lib\nPYTORCH_VERSION=2.11.0\n"
                + "PYTORCH_FLAVOR=cu130\nENGINE_CACHE_DIR=/site/djl\n");
    Path sparkSubmit = Scripts.printArgs(dir.resolve("bin/spark-submit"));
    Scripts.Result r =
        Scripts.script(
            dir,
            Map.of(),
            Scripts.DTM_SUBMIT,
            "--target",
            "yarn",
            "--spark-submit",
            sparkSubmit.toString(),
            "--libtorch-env",
            env.toString(),
            "--dry-run",
            "--",
            "pretrain");
    assertThat(r.code()).as(r.err()).isZero();
    Map<String, String> confs = Scripts.confs(Scripts.argumentsOf(dir, r.out()));
    for (String prefix : List.of("spark.executorEnv.", "spark.yarn.appMasterEnv.")) {
      assertThat(confs)
          .containsEntry(prefix + "PYTORCH_LIBRARY_PATH", "/site/torch/lib")
          .containsEntry(prefix + "PYTORCH_VERSION", "2.11.0")
          .containsEntry(prefix + "PYTORCH_FLAVOR", "cu130")
          .containsEntry(prefix + "ENGINE_CACHE_DIR", "/site/djl");
    }

    Files.writeString(dir.resolve("bad.env"), "PYTORCH_VERSION=2.11.0\nLD_PRELOAD=/x.so\n");
    Scripts.Result bad =
        Scripts.script(
            dir,
            Map.of(),
            Scripts.DTM_SUBMIT,
            "--target",
            "yarn",
            "--libtorch-env",
            dir.resolve("bad.env").toString(),
            "--dry-run",
            "--",
            "pretrain");
    assertThat(bad.code()).isEqualTo(2);
    assertThat(bad.err())
        .contains("line 2 must be PYTORCH_LIBRARY_PATH")
        .contains("'LD_PRELOAD=/x.so'");
    Scripts.Result twice =
        Scripts.script(
            dir,
            Map.of(),
            Scripts.DTM_SUBMIT,
            "--target",
            "yarn",
            "--libtorch-env",
            env.toString(),
            "--libtorch",
            "/opt/x",
            "--dry-run",
            "--",
            "pretrain");
    assertThat(twice.err()).contains("give it without --libtorch and --pytorch-flavor");
  }

  @Test
  void binDtmExportsALibtorchEnvToTheJvm() throws Exception {
    Path home = dir.resolve("home");
    Path target = home.resolve("spark-jobs/target");
    Files.createDirectories(home.resolve("bin"));
    Files.createDirectories(target);
    Files.copy(HOME.resolve("bin/dtm"), home.resolve("bin/dtm"));
    Files.createDirectories(home.resolve("conf"));
    Files.copy(
        HOME.resolve("conf/java17-add-opens.txt"), home.resolve("conf/java17-add-opens.txt"));
    Files.writeString(target.resolve("classpath-runtime.txt"), "/r/a.jar");
    Files.writeString(target.resolve("classpath-provided.txt"), "/p/spark.jar");
    Files.writeString(target.resolve("spark-jobs-9.9.jar"), "jar");
    Path bin = dir.resolve("java-bin");
    Scripts.executable(
        bin.resolve("java"),
        "echo \"$PYTORCH_LIBRARY_PATH|$PYTORCH_VERSION|$PYTORCH_FLAVOR|$ENGINE_CACHE_DIR\"\n");
    Path env =
        Files.writeString(
            dir.resolve("libtorch.env"),
            "PYTORCH_LIBRARY_PATH=/site/torch/lib\nPYTORCH_VERSION=2.11.0\n"
                + "PYTORCH_FLAVOR=cu130\nENGINE_CACHE_DIR=/site/djl\n");
    Map<String, String> vars =
        Map.of(
            "PATH",
            bin + ":" + System.getenv("PATH"),
            "DTM_NO_BUILD",
            "1",
            "DTM_LIBTORCH_ENV",
            env.toString());
    Scripts.Result r = Scripts.script(dir, vars, home.resolve("bin/dtm"), "morph");
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out().strip()).isEqualTo("/site/torch/lib|2.11.0|cu130|/site/djl");
  }

  // ---- the bundle's scripts without the bundle -----------------------------------------------

  @Test
  void makeBundleChecksTheDjlSourceBeforeBuildingAnything() throws Exception {
    Path makeBundle = HOME.resolve("deploy/gpu/make-bundle.sh");
    Scripts.Result none = Scripts.script(dir, Map.of(), makeBundle);
    assertThat(none.code()).isEqualTo(2);
    assertThat(none.err())
        .contains("--djl-source is required")
        .contains("git clone --depth 1 --branch v0.36.0");
    Scripts.Result other =
        Scripts.script(dir, Map.of(), makeBundle, "--djl-source", djlSource("0.35.0").toString());
    assertThat(other.code()).isEqualTo(2);
    assertThat(other.err()).contains("is DJL '0.35.0', this project uses DJL 0.36.0");
  }

  @Test
  void deviceCheckOutsideTheBundleSaysWhereToRunIt() throws Exception {
    Scripts.Result r =
        Scripts.script(
            dir,
            Map.of(),
            HOME.resolve("deploy/gpu/device-check.sh"),
            "--work",
            dir.resolve("w").toString());
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("run this from the bundle that make-bundle.sh makes");
    Scripts.Result bad =
        Scripts.script(dir, Map.of(), HOME.resolve("deploy/gpu/device-check.sh"), "--batch", "0");
    assertThat(bad.err()).contains("--batch must be a positive integer, cannot be: '0'");
  }

  @Test
  void torchReferenceMergesOneJsonThatNamesWhatWasNotMeasured() throws Exception {
    Path python = Scripts.onPath("python3").orElse(null);
    assumeThat(python).as("python3 on PATH").isNotNull();
    Path script = HOME.resolve("deploy/gpu/torch_reference.py");
    // What DeviceCheck writes on a CPU (its shape; the figures are made up for the merge).
    Path java =
        Files.writeString(
            dir.resolve("java.json"),
            "{\"format\": \"dtm-device-check/1\", \"engine\": {\"device\": \"cpu()\"},"
                + " \"teacher\": {\"runs\": {\"cpu_fp32\": {\"images_per_s\": 2.0},"
                + " \"cpu_fp16\": {\"max_abs_diff_vs_fp32_same_device\": 0.001},"
                + " \"gpu_fp32\": {\"status\": \"skipped: no CUDA device\"}}},"
                + " \"train\": [{\"precision\": \"fp32\", \"status\": \"ok\","
                + " \"images_per_s\": 3.0}, {\"precision\": \"fp16\","
                + " \"status\": \"not available in this build\"}]}");
    Path beit =
        Files.writeString(
            dir.resolve("beit.json"),
            "{\"status\": \"ok\", \"runs\": [{\"precision\": \"fp16\", \"status\": \"ok\","
                + " \"images_per_s\": 4.0}]}");
    Path env = Files.writeString(dir.resolve("env.json"), "{\"device\": \"cpu\"}");
    Path out = dir.resolve("out.json");
    Scripts.Result r =
        Scripts.run(
            dir,
            Map.of(),
            List.of(
                python.toString(),
                script.toString(),
                "merge",
                "--java",
                java.toString(),
                "--clip",
                dir.resolve("never-written.json").toString(),
                "--beit",
                beit.toString(),
                "--env",
                env.toString(),
                "--out",
                out.toString()));
    assertThat(r.code()).as(r.err()).isZero();
    com.fasterxml.jackson.databind.JsonNode h =
        new com.fasterxml.jackson.databind.ObjectMapper().readTree(out.toFile()).get("headline");
    assertThat(h.get("ours_train_fp32_over_timm_beit_autocast").asDouble()).isEqualTo(0.75);
    assertThat(h.get("teacher_fp16_vs_fp32_max_abs_diff").asDouble()).isEqualTo(0.001);
    assertThat(h.get("teacher_fp16_vs_fp32_device").asText()).isEqualTo("cpu");
    com.fasterxml.jackson.databind.JsonNode missing = h.get("not_measured");
    assertThat(missing.get("teacher_gpu_fp32").asText()).isEqualTo("skipped: no CUDA device");
    assertThat(missing.get("ours_train_fp16").asText()).isEqualTo("not available in this build");
    assertThat(missing.get("hf_clip").asText()).startsWith("missing: ").endsWith("was not written");

    Scripts.Result wrong =
        Scripts.run(
            dir,
            Map.of(),
            List.of(
                python.toString(),
                script.toString(),
                "clip",
                "--java",
                env.toString(),
                "--work",
                dir.toString(),
                "--out",
                dir.resolve("clip.json").toString()));
    assertThat(wrong.code()).isNotZero();
    assertThat(wrong.err()).contains("format must be dtm-device-check/1");
  }
}
