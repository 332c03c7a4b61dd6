package org.dtmspark.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;
import static org.dtmspark.deploy.Scripts.HOME;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The files under deploy/ and the launchers: syntax, YAML, the DAG, one --add-opens list. */
class DeployFilesTest {
  @TempDir Path dir;

  /** Every bash script of deploy/ and bin/. */
  private static List<Path> bashScripts() throws IOException {
    List<Path> scripts = new ArrayList<>();
    for (Path root : List.of(HOME.resolve("deploy"), HOME.resolve("bin"))) {
      try (Stream<Path> files = Files.walk(root)) {
        for (Path f : files.filter(Files::isRegularFile).sorted().toList()) {
          List<String> lines = Files.readAllLines(f);
          if (!lines.isEmpty() && lines.get(0).startsWith("#!") && lines.get(0).contains("bash")) {
            scripts.add(f);
          }
        }
      }
    }
    return scripts;
  }

  @Test
  void everyShellScriptPassesBashSyntaxCheckAndIsExecutable() throws Exception {
    List<Path> scripts = bashScripts();
    assertThat(scripts)
        .contains(
            Scripts.DTM_SUBMIT,
            Scripts.DTM_STAGE,
            Scripts.DISCOVER_GPUS,
            HOME.resolve("deploy/yarn/dtm-submit-yarn"),
            HOME.resolve("deploy/k8s/dtm-submit-k8s"),
            HOME.resolve("bin/dtm"));
    for (Path script : scripts) {
      Scripts.Result r =
          Scripts.run(dir, Map.of(), List.of(Scripts.bash().toString(), "-n", script.toString()));
      assertThat(r.code()).as("%s: %s", script, r.err()).isZero();
      assertThat(Files.isExecutable(script)).as(script.toString()).isTrue();
    }
  }

  @Test
  void gpuDiscoveryPrintsSparkResourceJsonFromNvidiaSmi() throws Exception {
    Path bin = dir.resolve("gpu-bin");
    Scripts.executable(
        bin.resolve("nvidia-smi"),
        "[ \"$*\" = '--query-gpu=index --format=csv,noheader' ] || exit 9\nprintf '0\\n 1\\n3\\n'\n");
    Scripts.Result r =
        Scripts.script(
            dir, Map.of("PATH", bin + ":" + System.getenv("PATH")), Scripts.DISCOVER_GPUS);
    assertThat(r.code()).as(r.err()).isZero();
    JsonNode json = new ObjectMapper().readTree(r.out());
    assertThat(json.get("name").asText()).isEqualTo("gpu");
    assertThat(json.get("addresses").isArray()).isTrue();
    assertThat(json.get("addresses").toString()).isEqualTo("[\"0\",\"1\",\"3\"]");
  }

  @Test
  void gpuDiscoveryFailsNamingTheCauseWhenThereIsNoGpu() throws Exception {
    Path empty = Files.createDirectories(dir.resolve("no-bin"));
    Scripts.Result missing =
        Scripts.script(dir, Map.of("PATH", empty.toString()), Scripts.DISCOVER_GPUS);
    assertThat(missing.code()).isEqualTo(1);
    assertThat(missing.out()).isEmpty();
    assertThat(missing.err()).contains("nvidia-smi not found on PATH");

    Path broken = dir.resolve("broken-bin");
    Scripts.executable(
        broken.resolve("nvidia-smi"),
        "echo \"NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver\"\n"
            + "exit 9\n");
    Scripts.Result failed =
        Scripts.script(dir, Map.of("PATH", broken.toString()), Scripts.DISCOVER_GPUS);
    assertThat(failed.code()).isEqualTo(1);
    assertThat(failed.err()).contains("nvidia-smi failed").contains("couldn't communicate");

    Path none = dir.resolve("none-bin");
    Scripts.executable(none.resolve("nvidia-smi"), "exit 0\n");
    Scripts.Result noGpu =
        Scripts.script(dir, Map.of("PATH", none.toString()), Scripts.DISCOVER_GPUS);
    assertThat(noGpu.code()).isEqualTo(1);
    assertThat(noGpu.err()).contains("lists no GPU");
  }

  @Test
  void binDtmStillRunsJavaWithTheOptionsItAlwaysPassed() throws Exception {
    // A copy of the launcher in a tree whose build is up to date, and a java that prints its args.
    Path home = dir.resolve("home");
    Path target = home.resolve("spark-jobs/target");
    Files.createDirectories(home.resolve("bin"));
    Files.createDirectories(home.resolve("conf"));
    Files.createDirectories(target);
    Files.copy(HOME.resolve("bin/dtm"), home.resolve("bin/dtm"));
    Files.copy(
        HOME.resolve("conf/java17-add-opens.txt"), home.resolve("conf/java17-add-opens.txt"));
    Files.copy(HOME.resolve("conf/log4j2.properties"), home.resolve("conf/log4j2.properties"));
    Files.writeString(home.resolve("pom.xml"), "<project/>");
    Files.writeString(target.resolve("classpath-runtime.txt"), "/r/a.jar:/r/b.jar");
    Files.writeString(target.resolve("classpath-provided.txt"), "/p/spark.jar");
    FileTime before = FileTime.from(Instant.now().minus(1, ChronoUnit.DAYS));
    for (Path p :
        List.of(
            home.resolve("pom.xml"),
            home.resolve("conf/java17-add-opens.txt"),
            home.resolve("conf/log4j2.properties"))) {
      Files.setLastModifiedTime(p, before);
    }
    Path jar = Files.writeString(target.resolve("spark-jobs-9.9.jar"), "jar");
    Path bin = dir.resolve("java-bin");
    Scripts.printArgs(bin.resolve("java"));
    Map<String, String> env =
        Map.of(
            "PATH",
            bin + ":" + System.getenv("PATH"),
            "DTM_NO_BUILD",
            "1",
            "DTM_JAVA_OPTS",
            "-Da=1 -Db=2");

    Scripts.Result r = Scripts.script(dir, env, home.resolve("bin/dtm"), "morph", "--json");

    assertThat(r.code()).as(r.err()).isZero();
    List<String> expected = new ArrayList<>(List.of("-Xmx8g"));
    // The list bin/dtm wrote out before it read conf/java17-add-opens.txt.
    for (String pkg :
        List.of(
            "java.lang",
            "java.lang.invoke",
            "java.lang.reflect",
            "java.io",
            "java.net",
            "java.nio",
            "java.util",
            "java.util.concurrent",
            "java.util.concurrent.atomic",
            "jdk.internal.ref",
            "sun.nio.ch",
            "sun.nio.cs",
            "sun.security.action",
            "sun.util.calendar")) {
      expected.add("--add-opens=java.base/" + pkg + "=ALL-UNNAMED");
    }
    expected.addAll(
        List.of(
            "-Djava.awt.headless=true",
            "-Dai.djl.offline=true",
            "-Dai.djl.default_engine=PyTorch",
            "-Dlog4j2.configurationFile=" + home.resolve("conf/log4j2.properties"),
            "-Da=1",
            "-Db=2",
            "-cp",
            jar + ":/r/a.jar:/r/b.jar:/p/spark.jar",
            "org.dtmspark.cli.DtmCli",
            "morph",
            "--json"));
    assertThat(r.out().lines().toList()).isEqualTo(expected);
  }

  @Test
  void oneAddOpensListForLaunchersTestsAndSparkDefaults() throws Exception {
    List<String> opens = Scripts.addOpens();
    assertThat(opens).hasSize(14).allMatch(o -> o.startsWith("--add-opens=java.base/"));
    // The parent POM's java17.opens reaches this JVM through the surefire argLine.
    assertThat(ManagementFactory.getRuntimeMXBean().getInputArguments()).containsAll(opens);
    String joined = String.join(" ", opens);
    String defaults = Files.readString(HOME.resolve("conf/spark-defaults.conf.example"));
    for (String key : List.of("spark.driver.extraJavaOptions", "spark.executor.extraJavaOptions")) {
      Optional<String> line = defaults.lines().filter(l -> l.startsWith(key + " ")).findFirst();
      assertThat(line).as(key).isPresent();
      assertThat(line.get().substring(key.length()).strip()).startsWith(joined + " ");
    }
  }

  /** python3, if this machine has it (CI installs it; see .ci/run). */
  private static Optional<Path> python() {
    return Scripts.onPath("python3");
  }

  @Test
  void airflowDagCompilesAndEverySettingReachesDtmStage() throws Exception {
    assumeThat(python()).as("python3").isPresent();
    Path dag = HOME.resolve("deploy/airflow/dtm_pipeline.py");
    Scripts.Result compiled =
        Scripts.run(
            dir,
            Map.of("PYTHONPYCACHEPREFIX", dir.resolve("pycache").toString()),
            List.of(python().get().toString(), "-m", "py_compile", dag.toString()));
    assertThat(compiled.code()).as(compiled.err()).isZero();

    // The environment variables the DAG sets, read from its SETTINGS table without Airflow.
    String listSettings =
        "import ast, sys\n"
            + "tree = ast.parse(open(sys.argv[1]).read())\n"
            + "for node in tree.body:\n"
            + "    if isinstance(node, ast.Assign) and getattr(node.targets[0], 'id', '') == 'SETTINGS':\n"
            + "        for env, default in ast.literal_eval(node.value).values():\n"
            + "            print(env)\n";
    Scripts.Result settings =
        Scripts.run(
            dir, Map.of(), List.of(python().get().toString(), "-c", listSettings, dag.toString()));
    assertThat(settings.code()).as(settings.err()).isZero();
    List<String> envs = settings.out().lines().toList();
    assertThat(envs).contains("DTM_TARGET", "DTM_INPUT", "DTM_OUTPUT_ROOT", "DTM_TEACHER");
    String stage = Files.readString(Scripts.DTM_STAGE);
    for (String env : envs) {
      // Read by the script ($X, ${X...} or require X) and documented in its --help.
      assertThat(Pattern.compile("(\\$\\{?|require )" + env + "\\b").matcher(stage).find())
          .as(env)
          .isTrue();
      assertThat(stage).as(env).containsPattern("\n  " + env + "[ ,]");
    }
  }

  @Test
  void podTemplatesAreKubernetesPodsWithGpuLimitsWhereGpusAreWanted() throws Exception {
    assumeThat(python()).as("python3").isPresent();
    Scripts.Result hasYaml =
        Scripts.run(dir, Map.of(), List.of(python().get().toString(), "-c", "import yaml"));
    assumeThat(hasYaml.code()).as("python3 yaml module").isZero();
    String toJson =
        "import json, sys, yaml\n"
            + "print(json.dumps(list(yaml.safe_load_all(open(sys.argv[1])))))\n";
    ObjectMapper mapper = new ObjectMapper();
    Map<String, JsonNode> pods = new java.util.TreeMap<>();
    try (Stream<Path> files = Files.list(HOME.resolve("deploy/k8s"))) {
      for (Path f : files.filter(p -> p.toString().endsWith(".yaml")).sorted().toList()) {
        Scripts.Result r =
            Scripts.run(
                dir, Map.of(), List.of(python().get().toString(), "-c", toJson, f.toString()));
        assertThat(r.code()).as("%s: %s", f, r.err()).isZero();
        JsonNode docs = mapper.readTree(r.out());
        assertThat(docs.size()).as(f.toString()).isPositive();
        for (JsonNode doc : docs) {
          assertThat(doc.path("apiVersion").asText()).as(f.toString()).isNotEmpty();
          if (doc.path("kind").asText().equals("Pod")) {
            pods.put(f.getFileName().toString(), doc);
          }
        }
      }
    }
    assertThat(pods)
        .containsOnlyKeys(
            "executor-pod-template.yaml",
            "cpu-executor-pod-template.yaml",
            "driver-pod-template.yaml");

    JsonNode gpu = pods.get("executor-pod-template.yaml").path("spec");
    assertThat(gpu.at("/containers/0/resources/limits/nvidia.com~1gpu").asInt()).isEqualTo(1);
    assertThat(gpu.at("/containers/0/image").asText()).isEqualTo("REGISTRY/dtm-spark:VERSION");
    assertThat(gpu.at("/tolerations/0/key").asText()).isEqualTo("nvidia.com/gpu");
    assertThat(gpu.at("/volumes/0/name").asText()).isEqualTo("dshm");
    assertThat(gpu.at("/volumes/0/emptyDir/medium").asText()).isEqualTo("Memory");
    assertThat(gpu.at("/containers/0/volumeMounts/0/mountPath").asText()).isEqualTo("/dev/shm");

    for (String cpuOnly : List.of("cpu-executor-pod-template.yaml", "driver-pod-template.yaml")) {
      JsonNode spec = pods.get(cpuOnly).path("spec");
      assertThat(spec.at("/containers/0/resources/limits/nvidia.com~1gpu").isMissingNode())
          .as(cpuOnly)
          .isTrue();
    }
    assertThat(pods.get("cpu-executor-pod-template.yaml").path("spec").has("tolerations"))
        .isFalse();
  }
}
