package org.dtmspark.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.dtmspark.deploy.Scripts.HOME;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * deploy/airflow/dtm-stage, the stage runner of the Airflow DAG: what it submits through the real
 * dtm-submit (in dry-run mode) on a first run, on a re-run and after a killed run.
 */
class DtmStageTest {
  @TempDir Path dir;
  private Path root;
  private Path sparkSubmit;

  @BeforeEach
  void setUp() throws Exception {
    root = Files.createDirectories(dir.resolve("pipeline"));
    sparkSubmit = Scripts.printArgs(dir.resolve("bin/spark-submit"));
  }

  private Map<String, String> env(String target, String... more) {
    Map<String, String> env = new HashMap<>();
    env.put("DTM_TARGET", target);
    env.put("DTM_OUTPUT_ROOT", root.toString());
    env.put("DTM_INPUT", "hdfs:///raw/imagenet");
    env.put("DTM_TEACHER", "/shared/clip-vit-b16");
    env.put("DTM_RANKS", "2");
    String opts = "--dry-run --spark-submit " + sparkSubmit;
    opts +=
        target.equals("yarn")
            ? " --jar /apps/dtm.jar"
            : " --master k8s://https://k8s:6443 --image reg/dtm:1";
    env.put("DTM_SUBMIT_OPTS", opts);
    for (int i = 0; i < more.length; i += 2) {
      env.put(more[i], more[i + 1]);
    }
    return env;
  }

  /** The stage's result; for a submitted stage, the arguments spark-submit would get. */
  private record Stage(Scripts.Result result, List<String> sparkSubmitArgs) {
    /** The bin/dtm command line after the jar. */
    List<String> dtm(String jar) {
      return sparkSubmitArgs.subList(sparkSubmitArgs.indexOf(jar) + 1, sparkSubmitArgs.size());
    }
  }

  private Stage stage(Map<String, String> env, String stage) throws Exception {
    Scripts.Result r = Scripts.script(dir, env, Scripts.DTM_STAGE, stage);
    assertThat(r.code()).as(r.err()).isZero();
    List<String> args = r.out().isEmpty() ? List.of() : Scripts.argumentsOf(dir, r.out());
    return new Stage(r, args);
  }

  @Test
  void shardRunsOnceThenLeavesACompleteOutputAloneUnlessAskedToReshard() throws Exception {
    Path shards = root.resolve("shards");
    Stage first = stage(env("yarn"), "shard");
    assertThat(first.dtm("/apps/dtm.jar"))
        .containsExactly("shard", "--input", "hdfs:///raw/imagenet", "--output", shards.toString());
    assertThat(Scripts.confs(first.sparkSubmitArgs()))
        .containsEntry("spark.executor.instances", "16")
        .doesNotContainKey("spark.executor.resource.gpu.amount");

    // A killed run leaves shards without a manifest: the job redoes it, so it is submitted again.
    Files.createDirectories(shards.resolve("train"));
    assertThat(stage(env("yarn"), "shard").sparkSubmitArgs()).isNotEmpty();

    Files.writeString(shards.resolve("_manifest.json"), "{}");
    Stage again = stage(env("yarn"), "shard");
    assertThat(again.sparkSubmitArgs()).isEmpty();
    assertThat(again.result().err()).contains("is complete (_manifest.json exists)");

    Stage reshard = stage(env("yarn", "DTM_RESHARD", "true"), "shard");
    assertThat(reshard.dtm("/apps/dtm.jar")).endsWith("--overwrite");
  }

  @Test
  void outputsBehindUrisAreTestedWithTheConfiguredFilesystemCommand() throws Exception {
    Path calls = dir.resolve("fs-calls.txt");
    Path exists =
        Scripts.executable(
            dir.resolve("bin/fs-test"), "printf '%s\\n' \"$*\" >> '" + calls + "'\nexit 0\n");
    Map<String, String> env =
        env("yarn", "DTM_OUTPUT_ROOT", "hdfs://nn:8020/pipe/", "DTM_FS_TEST", exists + " -e");

    Stage skipped = stage(env, "shard");

    assertThat(skipped.sparkSubmitArgs()).isEmpty();
    assertThat(Files.readAllLines(calls))
        .containsExactly("-e hdfs://nn:8020/pipe/shards/_manifest.json");

    Path missing = Scripts.executable(dir.resolve("bin/fs-missing"), "exit 1\n");
    Stage submitted =
        stage(
            env(
                "yarn",
                "DTM_OUTPUT_ROOT",
                "hdfs://nn:8020/pipe",
                "DTM_FS_TEST",
                missing.toString()),
            "shard");
    assertThat(submitted.dtm("/apps/dtm.jar")).contains("hdfs://nn:8020/pipe/shards");

    // No hadoop command (exit 127) is no answer: the stage fails rather than redo the work.
    Path broken = Scripts.executable(dir.resolve("bin/fs-broken"), "exit 127\n");
    Scripts.Result failed =
        Scripts.script(
            dir,
            env("yarn", "DTM_OUTPUT_ROOT", "hdfs://nn:8020/pipe", "DTM_FS_TEST", broken.toString()),
            Scripts.DTM_STAGE,
            "shard");
    assertThat(failed.code()).isEqualTo(2);
    assertThat(failed.err())
        .contains("cannot tell whether hdfs://nn:8020/pipe/shards/_manifest.json exists")
        .contains("exited with 127");
    assertThat(failed.out()).isEmpty();
  }

  @Test
  void targetsResumeOnlyWhenACacheIsThere() throws Exception {
    Stage first = stage(env("k8s", "DTM_VIEWS", "2"), "targets");
    String jar = "local:///opt/dtm-spark/lib/dtm-spark-cluster.jar";
    assertThat(first.dtm(jar))
        .containsExactly(
            "targets",
            "--images",
            root.resolve("shards").toString(),
            "--teacher",
            "/shared/clip-vit-b16",
            "--output",
            root.resolve("targets").toString(),
            "--views",
            "2");
    assertThat(Scripts.confs(first.sparkSubmitArgs()))
        .containsEntry("spark.executor.instances", "2")
        .containsEntry("spark.executor.resource.gpu.amount", "1");

    Files.createDirectories(root.resolve("targets"));
    assertThat(stage(env("k8s"), "targets").dtm(jar)).endsWith("--views", "4", "--resume");
  }

  @Test
  void pretrainAlwaysResumesAndShipsItsRecipeOnYarn() throws Exception {
    Path run = root.resolve("pretrain");
    Stage first = stage(env("yarn"), "pretrain");
    assertThat(first.dtm("/apps/dtm.jar"))
        .containsExactly(
            "pretrain",
            "--config",
            "pretrain-vit-b16.conf",
            "--images",
            "shards:" + root.resolve("shards") + "#train",
            "--targets",
            root.resolve("targets").toString(),
            "--ranks",
            "2",
            "--output",
            run.toString(),
            // From the run directory's latest checkpoint; from scratch when there is none.
            "--resume");
    assertThat(Scripts.valueOf(first.sparkSubmitArgs(), "--files"))
        .endsWith("," + HOME.resolve("conf/pretrain-vit-b16.conf"));
    assertThat(Scripts.confs(first.sparkSubmitArgs()))
        .containsEntry("spark.executor.instances", "2")
        .containsEntry("spark.task.resource.gpu.amount", "1");

    String jar = "local:///opt/dtm-spark/lib/dtm-spark-cluster.jar";
    assertThat(stage(env("k8s"), "pretrain").dtm(jar))
        .containsSequence("--config", "/opt/dtm-spark/conf/pretrain-vit-b16.conf");
  }

  @Test
  void probeReadsTheLastCheckpointOnTheDriverGpu() throws Exception {
    Stage probe = stage(env("yarn"), "probe");
    Path run = root.resolve("pretrain");
    assertThat(probe.dtm("/apps/dtm.jar"))
        .containsExactly(
            "probe",
            "--checkpoint",
            run.resolve("checkpoints/last").toString(),
            "--images",
            "shards:" + root.resolve("shards") + "#train",
            "--val",
            "shards:" + root.resolve("shards") + "#val",
            "--output",
            run.resolve("probe.json").toString());
    assertThat(Scripts.confs(probe.sparkSubmitArgs()))
        .containsEntry("spark.driver.resource.gpu.amount", "1");
  }

  @Test
  void missingSettingsAndUnknownStagesFailNamingThem() throws Exception {
    Map<String, String> env = env("yarn");
    env.remove("DTM_TEACHER");
    Scripts.Result noTeacher = Scripts.script(dir, env, Scripts.DTM_STAGE, "targets");
    assertThat(noTeacher.code()).isEqualTo(2);
    assertThat(noTeacher.err()).contains("DTM_TEACHER must be set for the targets stage");

    Scripts.Result badTarget = Scripts.script(dir, env("mesos"), Scripts.DTM_STAGE, "shard");
    assertThat(badTarget.code()).isEqualTo(2);
    assertThat(badTarget.err()).contains("DTM_TARGET must be yarn or k8s, cannot be: 'mesos'");

    Scripts.Result badStage = Scripts.script(dir, env("yarn"), Scripts.DTM_STAGE, "train");
    assertThat(badStage.code()).isEqualTo(2);
    assertThat(badStage.err()).contains("unknown stage 'train'");
  }
}
