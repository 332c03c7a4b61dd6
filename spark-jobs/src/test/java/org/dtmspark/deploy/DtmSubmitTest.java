package org.dtmspark.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.dtmspark.deploy.Scripts.DTM_SUBMIT;
import static org.dtmspark.deploy.Scripts.HOME;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.dtmspark.cli.DtmCli;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** deploy/bin/dtm-submit: the spark-submit line it prints and runs. */
class DtmSubmitTest {
  private static final String K8S_MASTER = "k8s://https://k8s.example.com:6443";
  private static final String IMAGE = "registry.example.com/dtm-spark:1";

  @TempDir Path dir;
  private Path sparkSubmit;

  @BeforeEach
  void fakeSparkSubmit() throws Exception {
    sparkSubmit = Scripts.printArgs(dir.resolve("bin/spark-submit"));
  }

  /** dtm-submit with the fake spark-submit; returns the result. */
  private Scripts.Result submit(String... args) throws Exception {
    List<String> all = new ArrayList<>(List.of("--spark-submit", sparkSubmit.toString()));
    all.addAll(Arrays.asList(args));
    return Scripts.script(dir, Map.of(), DTM_SUBMIT, all.toArray(String[]::new));
  }

  /** The arguments spark-submit gets from the printed dry-run command. */
  private List<String> dryRun(String... args) throws Exception {
    List<String> all = new ArrayList<>(List.of("--dry-run"));
    all.addAll(Arrays.asList(args));
    Scripts.Result r = submit(all.toArray(String[]::new));
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out()).startsWith(sparkSubmit + " \\\n");
    return Scripts.argumentsOf(dir, r.out());
  }

  private static List<String> afterJar(List<String> args, String jar) {
    return args.subList(args.indexOf(jar) + 1, args.size());
  }

  @Test
  void yarnPretrainRanksGetOneGpuAndOneTaskPerExecutorWithTheJava17OptionsEverywhere()
      throws Exception {
    List<String> args =
        dryRun(
            "--target",
            "yarn",
            "--jar",
            "hdfs:///apps/dtm.jar",
            "--",
            "pretrain",
            "--images",
            "shards:hdfs:///in1k#train",
            "--targets",
            "hdfs:///cache",
            "--ranks",
            "4",
            "--output",
            "/shared/run b");

    assertThat(Scripts.valueOf(args, "--master")).isEqualTo("yarn");
    assertThat(Scripts.valueOf(args, "--deploy-mode")).isEqualTo("cluster");
    assertThat(Scripts.valueOf(args, "--class")).isEqualTo("org.dtmspark.cli.DtmCli");
    assertThat(afterJar(args, "hdfs:///apps/dtm.jar"))
        .containsExactly(
            "pretrain",
            "--images",
            "shards:hdfs:///in1k#train",
            "--targets",
            "hdfs:///cache",
            "--ranks",
            "4",
            "--output",
            "/shared/run b");

    Map<String, String> conf = Scripts.confs(args);
    for (String side :
        List.of("spark.driver.extraJavaOptions", "spark.executor.extraJavaOptions")) {
      List<String> javaOptions = List.of(conf.get(side).split(" "));
      assertThat(javaOptions)
          .as(side)
          .containsAll(Scripts.addOpens())
          .contains("-Dai.djl.offline=true", "-Dlog4j2.configurationFile=log4j2.properties");
    }
    // Executors as ranks (the barrier stage needs them all at once), one GPU each, one task each.
    assertThat(conf)
        .containsEntry("spark.executor.instances", "4")
        .containsEntry("spark.executor.resource.gpu.amount", "1")
        .containsEntry("spark.task.resource.gpu.amount", "1")
        .containsEntry("spark.executor.resource.gpu.discoveryScript", "./discover-gpus.sh")
        .containsEntry("spark.task.cpus", conf.get("spark.executor.cores"))
        .containsEntry("spark.dynamicAllocation.enabled", "false")
        .containsEntry("spark.speculation", "false")
        .containsEntry("spark.stage.maxConsecutiveAttempts", "1")
        .containsEntry("spark.executorEnv.PYTORCH_FLAVOR", "cu128")
        .containsEntry("spark.yarn.appMasterEnv.PYTORCH_LIBRARY_PATH", "/opt/libtorch/lib")
        .doesNotContainKey("spark.driver.resource.gpu.amount")
        .doesNotContainKey("spark.executor.resource.gpu.vendor");
    // YARN localises --files into every container's working directory.
    assertThat(Scripts.valueOf(args, "--files").split(","))
        .containsExactly(
            HOME.resolve("conf/log4j2.properties").toString(),
            HOME.resolve("deploy/gpu/discover-gpus.sh").toString());
  }

  @Test
  void k8sTargetsUseTheImageItsJarDiscoveryScriptAndTheGpuPodTemplate() throws Exception {
    List<String> args =
        dryRun(
            "--target",
            "k8s",
            "--master",
            K8S_MASTER,
            "--image",
            IMAGE,
            "--executors",
            "3",
            "--",
            "targets",
            "--images",
            "s3a://b/shards",
            "--teacher",
            "/data/clip",
            "--output",
            "s3a://b/cache",
            "--views",
            "2");

    assertThat(Scripts.valueOf(args, "--master")).isEqualTo(K8S_MASTER);
    String jar = "local:///opt/dtm-spark/lib/dtm-spark-cluster.jar";
    assertThat(afterJar(args, jar)).startsWith("targets", "--images", "s3a://b/shards");
    assertThat(args).doesNotContain("--files");
    Map<String, String> conf = Scripts.confs(args);
    assertThat(conf)
        .containsEntry("spark.kubernetes.container.image", IMAGE)
        .containsEntry("spark.executor.instances", "3")
        .containsEntry("spark.executor.resource.gpu.amount", "1")
        .containsEntry("spark.task.resource.gpu.amount", "1")
        .containsEntry("spark.executor.resource.gpu.vendor", "nvidia.com")
        .containsEntry(
            "spark.executor.resource.gpu.discoveryScript", "/opt/dtm-spark/bin/discover-gpus.sh")
        .containsEntry("spark.task.cpus", conf.get("spark.executor.cores"))
        .containsEntry("spark.dynamicAllocation.enabled", "false")
        .containsEntry(
            "spark.kubernetes.executor.podTemplateFile",
            HOME.resolve("deploy/k8s/executor-pod-template.yaml").toString())
        .containsEntry(
            "spark.kubernetes.driver.podTemplateFile",
            HOME.resolve("deploy/k8s/driver-pod-template.yaml").toString());
    assertThat(conf.get("spark.executor.extraJavaOptions"))
        .contains("-Dlog4j2.configurationFile=/opt/dtm-spark/conf/log4j2.properties");
  }

  @Test
  void binDtmSubmitIsDtmSubmit() throws Exception {
    String[] args = {
      "--spark-submit",
      sparkSubmit.toString(),
      "--dry-run",
      "--target",
      "yarn",
      "--jar",
      "/x/dtm.jar",
      "--",
      "probe",
      "--help"
    };
    Scripts.Result direct = Scripts.script(dir, Map.of(), DTM_SUBMIT, args);
    List<String> viaLauncher = new ArrayList<>(List.of("submit"));
    viaLauncher.addAll(Arrays.asList(args));
    Scripts.Result launcher =
        Scripts.script(
            dir, Map.of(), Scripts.HOME.resolve("bin/dtm"), viaLauncher.toArray(String[]::new));
    assertThat(launcher.code()).as(launcher.err()).isZero();
    assertThat(launcher.out()).isEqualTo(direct.out()).contains("--class org.dtmspark.cli.DtmCli");
  }

  @Test
  void pretrainWithoutRanksIsOneRankOnOneGpuExecutor() throws Exception {
    List<String> args =
        dryRun(
            "--target",
            "yarn",
            "--jar",
            "/x/dtm.jar",
            "--",
            "pretrain",
            "--images",
            "demo:train",
            "--targets",
            "/c",
            "--output",
            "/r");
    assertThat(Scripts.confs(args))
        .containsEntry("spark.executor.instances", "1")
        .containsEntry("spark.executor.resource.gpu.amount", "1")
        .containsEntry("spark.task.cpus", "8")
        .doesNotContainKey("spark.driver.resource.gpu.amount");
  }

  @Test
  void theDemoTrainsOnItsRanksInExecutorsAndBenchRanksIsRefused() throws Exception {
    List<String> demo =
        dryRun("--target", "yarn", "--jar", "/x/dtm.jar", "--", "demo", "--ranks", "3");
    assertThat(Scripts.confs(demo))
        .containsEntry("spark.executor.instances", "3")
        .containsEntry("spark.executor.resource.gpu.amount", "1")
        .containsEntry("spark.task.cpus", "8");
    assertThat(Scripts.confs(dryRun("--target", "yarn", "--jar", "/x/dtm.jar", "--", "demo")))
        .containsEntry("spark.executor.instances", "2");

    Scripts.Result bench =
        submit("--target", "yarn", "--jar", "/x/dtm.jar", "--", "bench-ranks", "--ranks", "1,2");
    assertThat(bench.code()).isEqualTo(2);
    assertThat(bench.err()).contains("bench-ranks starts an embedded cluster of its own");
  }

  @Test
  void modelsThatRunInTheDriverGiveTheDriverTheGpu() throws Exception {
    List<String> args =
        dryRun(
            "--target",
            "k8s",
            "--master",
            K8S_MASTER,
            "--image",
            IMAGE,
            "--",
            "probe",
            "--checkpoint",
            "/data/run/checkpoints/last",
            "--images",
            "demo:train",
            "--val",
            "demo:test");
    Map<String, String> conf = Scripts.confs(args);
    assertThat(conf)
        .containsEntry("spark.driver.resource.gpu.amount", "1")
        .containsEntry("spark.driver.resource.gpu.vendor", "nvidia.com")
        .doesNotContainKey("spark.executor.resource.gpu.amount")
        .doesNotContainKey("spark.task.cpus")
        .containsEntry(
            "spark.kubernetes.executor.podTemplateFile",
            HOME.resolve("deploy/k8s/cpu-executor-pod-template.yaml").toString());
  }

  @Test
  void shardRunsManyCpuTasksPerExecutor() throws Exception {
    List<String> args =
        dryRun(
            "--target",
            "yarn",
            "--jar",
            "/x/dtm.jar",
            "--executors",
            "16",
            "--",
            "shard",
            "--input",
            "hdfs:///raw",
            "--output",
            "hdfs:///shards");
    Map<String, String> conf = Scripts.confs(args);
    assertThat(conf)
        .containsEntry("spark.executor.instances", "16")
        .doesNotContainKey("spark.task.cpus")
        .doesNotContainKey("spark.executor.resource.gpu.amount")
        .doesNotContainKey("spark.driver.resource.gpu.amount");
    assertThat(Scripts.valueOf(args, "--files"))
        .isEqualTo(HOME.resolve("conf/log4j2.properties").toString());
  }

  @Test
  void runningPassesExactlyTheArgumentsTheDryRunPrintsAndHidesSecretsInItsEcho() throws Exception {
    String[] options = {
      "--target",
      "yarn",
      "--jar",
      "/x/dtm.jar",
      "--queue",
      "gpu",
      "--conf",
      "spark.hadoop.fs.s3a.secret.key=s3cr3t",
      "--conf",
      "spark.executorEnv.AWS_SECRET_ACCESS_KEY=AKsecret",
      "--",
      "morph",
      "--targets",
      "it's here.npy"
    };
    List<String> printed = dryRun(options);
    Scripts.Result ran = submit(options);

    assertThat(ran.code()).as(ran.err()).isZero();
    assertThat(ran.out().lines().toList()).isEqualTo(printed);
    assertThat(Scripts.confs(printed))
        .containsEntry("spark.hadoop.fs.s3a.secret.key", "s3cr3t")
        .containsEntry("spark.yarn.queue", "gpu");
    assertThat(ran.err())
        .contains("spark.hadoop.fs.s3a.secret.key=*****")
        .contains("spark.executorEnv.AWS_SECRET_ACCESS_KEY=*****")
        .doesNotContain("s3cr3t")
        .doesNotContain("AKsecret");
  }

  @Test
  void confOptionsWinAndJavaOptionsAreAppended() throws Exception {
    List<String> args =
        dryRun(
            "--target",
            "yarn",
            "--jar",
            "/x/dtm.jar",
            "--conf",
            "spark.task.cpus=4",
            "--conf",
            "spark.executor.extraJavaOptions=-Dmine=1",
            "--",
            "targets",
            "--images",
            "a",
            "--teacher",
            "b",
            "--output",
            "c");
    Map<String, String> conf = Scripts.confs(args);
    assertThat(conf).containsEntry("spark.task.cpus", "4");
    assertThat(conf.get("spark.executor.extraJavaOptions"))
        .startsWith(Scripts.addOpens().get(0))
        .endsWith(" -Dmine=1");
    assertThat(args.stream().filter(a -> a.startsWith("spark.task.cpus="))).hasSize(1);
  }

  @Test
  void misuseFailsNamingTheOptionTheValueAndTheRule() throws Exception {
    String[] yarn = {"--target", "yarn", "--jar", "/x/dtm.jar"};
    Object[][] cases = {
      {
        new String[] {"--target", "mesos", "--", "shard"},
        "--target must be yarn, k8s or standalone"
      },
      {new String[] {"--deploy-mode", "local", "--", "shard"}, "--deploy-mode must be cluster or"},
      {
        new String[] {"--gpus-per-executor", "2", "--", "targets"},
        "--gpus-per-executor must be 0 or 1"
      },
      {new String[] {"--executors", "many", "--", "shard"}, "--executors must be a positive"},
      {new String[] {"--executor-memory", "lots", "--", "shard"}, "--executor-memory must be a"},
      {new String[] {"--bogus", "1", "--", "shard"}, "unknown option '--bogus'"},
      {new String[] {"pretrain"}, "unexpected argument 'pretrain'"},
      {new String[] {"--", "pretrian"}, "unknown subcommand 'pretrian'"},
      {new String[] {"--conf", "nokey", "--", "shard"}, "--conf must be KEY=VALUE"},
      {new String[] {"--executors"}, "--executors needs a value"},
      {new String[] {"--pytorch-flavor", "rocm", "--", "shard"}, "--pytorch-flavor must be"},
      {
        new String[] {"--executors", "2", "--", "pretrain", "--ranks", "4"},
        "--executors must be at least pretrain --ranks (4"
      },
    };
    String[] values = {
      "'mesos'",
      "'local'",
      "'2'",
      "'many'",
      "'lots'",
      "",
      "",
      "",
      "'nokey'",
      "",
      "'rocm'",
      "cannot be: 2"
    };
    for (int i = 0; i < cases.length; i++) {
      String[] own = (String[]) cases[i][0];
      List<String> args = new ArrayList<>(List.of(yarn));
      if (own[0].equals("--target")) {
        args = new ArrayList<>();
      }
      args.addAll(List.of(own));
      Scripts.Result r = submit(args.toArray(String[]::new));
      assertThat(r.code()).as("%s: %s", args, r.err()).isEqualTo(2);
      assertThat(r.out()).as("%s", args).isEmpty();
      assertThat(r.err()).as("%s", args).contains((String) cases[i][1]).contains(values[i]);
    }
  }

  @Test
  void standaloneNeedsASparkMasterAndCapsTheCoresToItsExecutors() throws Exception {
    Scripts.Result noMaster =
        submit("--target", "standalone", "--jar", "/x/dtm.jar", "--", "shard");
    assertThat(noMaster.code()).isEqualTo(2);
    assertThat(noMaster.err()).contains("--master is required for --target standalone");
    Scripts.Result yarnMaster =
        submit("--target", "standalone", "--master", "yarn", "--jar", "/x/dtm.jar", "--", "shard");
    assertThat(yarnMaster.code()).isEqualTo(2);
    assertThat(yarnMaster.err())
        .contains("--master for --target standalone must start with spark://, cannot be: 'yarn'");

    String libtorch = "/opt/site/libtorch/lib";
    String[] cluster = {
      "--target",
      "standalone",
      "--master",
      "spark://m:7077",
      "--jar",
      "/x/dtm.jar",
      "--libtorch",
      libtorch,
      "--executor-cores",
      "4",
      "--",
      "pretrain",
      "--ranks",
      "3"
    };
    Scripts.Result ran = submit(cluster);
    assertThat(ran.code()).as(ran.err()).isZero();
    List<String> args = ran.out().lines().toList();
    assertThat(Scripts.valueOf(args, "--deploy-mode")).isEqualTo("cluster");
    Map<String, String> conf = Scripts.confs(args);
    // Standalone gives an application every free core unless capped: 3 executors of 4 cores.
    assertThat(conf)
        .containsEntry("spark.cores.max", "12")
        .containsEntry("spark.standalone.submit.waitAppCompletion", "true")
        .containsEntry("spark.executorEnv.PYTORCH_LIBRARY_PATH", libtorch)
        .containsEntry(
            "spark.executor.resource.gpu.discoveryScript",
            HOME.resolve("deploy/gpu/discover-gpus.sh").toString())
        .doesNotContainKey("spark.executor.resource.gpu.vendor")
        .doesNotContainKey("spark.yarn.maxAppAttempts");
    assertThat(conf.get("spark.executor.extraJavaOptions"))
        .contains("-Dlog4j2.configurationFile=" + HOME.resolve("conf/log4j2.properties"));
    assertThat(args).doesNotContain("--files");
  }

  @Test
  void clientModeGivesTheDriverHereTheLibtorchThroughSparkSubmitsEnvironment() throws Exception {
    Path printEnv =
        Scripts.executable(
            dir.resolve("bin/print-env"),
            "printenv PYTORCH_LIBRARY_PATH PYTORCH_VERSION PYTORCH_FLAVOR\n"
                + "for a in \"$@\"; do printf '%s\\n' \"$a\"; done\n");
    String[] options = {
      "--spark-submit",
      printEnv.toString(),
      "--target",
      "yarn",
      "--deploy-mode",
      "client",
      "--jar",
      "/x/dtm.jar",
      "--libtorch",
      "/opt/lt/lib",
      "--pytorch-flavor",
      "cpu",
      "--driver-gpus",
      "1",
      "--",
      "probe",
      "--help"
    };
    Scripts.Result ran = Scripts.script(dir, Map.of(), DTM_SUBMIT, options);
    assertThat(ran.code()).as(ran.err()).isZero();
    List<String> lines = ran.out().lines().toList();
    assertThat(lines.subList(0, 3)).containsExactly("/opt/lt/lib", "2.7.1", "cpu");
    List<String> args = lines.subList(3, lines.size());
    assertThat(Scripts.valueOf(args, "--deploy-mode")).isEqualTo("client");
    Map<String, String> conf = Scripts.confs(args);
    // The driver runs here, outside any container: this repository's files, by absolute path.
    assertThat(conf)
        .containsEntry(
            "spark.driver.resource.gpu.discoveryScript",
            HOME.resolve("deploy/gpu/discover-gpus.sh").toString())
        .containsEntry("spark.executorEnv.PYTORCH_LIBRARY_PATH", "/opt/lt/lib")
        .doesNotContainKey("spark.yarn.appMasterEnv.PYTORCH_LIBRARY_PATH");
    assertThat(conf.get("spark.driver.extraJavaOptions"))
        .contains("-Dlog4j2.configurationFile=" + HOME.resolve("conf/log4j2.properties"));
    assertThat(conf.get("spark.executor.extraJavaOptions"))
        .contains("-Dlog4j2.configurationFile=log4j2.properties");

    // The printed line sets the same environment through env(1), and runs as printed.
    List<String> dry = new ArrayList<>(List.of(options));
    dry.add(0, "--dry-run");
    Scripts.Result printed = Scripts.script(dir, Map.of(), DTM_SUBMIT, dry.toArray(String[]::new));
    assertThat(printed.out()).startsWith("env \\\n  PYTORCH_LIBRARY_PATH=/opt/lt/lib \\\n");
    assertThat(Scripts.argumentsOf(dir, printed.out())).isEqualTo(lines);
  }

  @Test
  void kubernetesNeedsAMasterAndAnImage() throws Exception {
    Scripts.Result noMaster = submit("--target", "k8s", "--image", IMAGE, "--", "shard");
    assertThat(noMaster.code()).isEqualTo(2);
    assertThat(noMaster.err()).contains("--master is required for --target k8s");

    Scripts.Result yarnMaster =
        submit("--target", "k8s", "--master", "yarn", "--image", IMAGE, "--", "shard");
    assertThat(yarnMaster.code()).isEqualTo(2);
    assertThat(yarnMaster.err())
        .contains("--master for --target k8s must start with k8s://, cannot be: 'yarn'");

    Scripts.Result noImage = submit("--target", "k8s", "--master", K8S_MASTER, "--", "shard");
    assertThat(noImage.code()).isEqualTo(2);
    assertThat(noImage.err()).contains("--image is required for --target k8s");
  }

  @Test
  void everyDtmCliSubcommandButBenchRanksCanBeSubmitted() throws Exception {
    for (String sub : new CommandLine(new DtmCli()).getSubcommands().keySet()) {
      if (sub.equals("bench-ranks")) {
        continue; // refused: it starts its own embedded cluster (see above)
      }
      Scripts.Result r =
          submit("--target", "yarn", "--jar", "/x/dtm.jar", "--dry-run", "--", sub, "--help");
      assertThat(r.code()).as("%s: %s", sub, r.err()).isZero();
      assertThat(r.out()).as(sub).contains("\n  " + sub + " --help");
    }
  }

  @Test
  void siteWrappersPutTheirEnvFileOptionsFirstSoTheCommandLineWins() throws Exception {
    Path env = dir.resolve("site.env");
    Files.writeString(
        env,
        "DTM_SUBMIT_ARGS=(--jar /site/dtm.jar --queue gpu --executor-memory 48g"
            + " --spark-submit "
            + sparkSubmit
            + ")\n");
    Scripts.Result r =
        Scripts.script(
            dir,
            Map.of("DTM_YARN_ENV", env.toString()),
            HOME.resolve("deploy/yarn/dtm-submit-yarn"),
            "--executor-memory",
            "64g",
            "--dry-run",
            "--",
            "shard",
            "--input",
            "a",
            "--output",
            "b");
    assertThat(r.code()).as(r.err()).isZero();
    List<String> args = Scripts.argumentsOf(dir, r.out());
    assertThat(Scripts.confs(args))
        .containsEntry("spark.yarn.queue", "gpu")
        .containsEntry("spark.executor.memory", "64g");
    assertThat(afterJar(args, "/site/dtm.jar"))
        .containsExactly("shard", "--input", "a", "--output", "b");

    Scripts.Result missing =
        Scripts.script(
            dir,
            Map.of("DTM_K8S_ENV", dir.resolve("nope.env").toString()),
            HOME.resolve("deploy/k8s/dtm-submit-k8s"),
            "--",
            "shard");
    assertThat(missing.code()).isEqualTo(2);
    assertThat(missing.err()).contains("DTM_K8S_ENV names a missing file");
  }

  @Test
  void helpListsEveryOption() throws Exception {
    Scripts.Result r = Scripts.script(dir, Map.of(), DTM_SUBMIT, "--help");
    assertThat(r.code()).isZero();
    assertThat(r.out())
        .contains("Usage: dtm-submit --target yarn|k8s")
        .contains("--gpus-per-executor 0|1")
        .contains("--dry-run");
  }
}
