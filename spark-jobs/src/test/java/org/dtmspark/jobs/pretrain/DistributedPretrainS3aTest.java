package org.dtmspark.jobs.pretrain;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDManager;
import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.spark.sql.SparkSession;
import org.dtmspark.core.config.ConfigLoader;
import org.dtmspark.core.metrics.MetricsLog;
import org.dtmspark.core.train.ModelCheckpoints;
import org.dtmspark.jobs.InProcessS3Server;
import org.dtmspark.jobs.SparkSessions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Data-parallel pretraining whose run directory is on {@code s3a://} (S3Proxy in this JVM): rank 0
 * in an executor JVM publishes its checkpoints there, the driver its metrics, and a resumed run
 * starts from the checkpoint it finds there.
 */
class DistributedPretrainS3aTest {
  private static final Path TEACHER =
      Path.of("../dtm-core/src/test/resources/golden/clip").toAbsolutePath().normalize();
  private static final String BUCKET = "dtm-runs";
  private static final String RUN = "s3a://" + BUCKET + "/vit/run-1";

  private static InProcessS3Server server;
  private static SparkSession spark;
  private static Configuration conf;

  @BeforeAll
  static void startServerAndCluster() throws Exception {
    server = InProcessS3Server.start("dtm-test-access-key", "dtm-test-secret-key");
    server.createBucket(BUCKET);
    spark = SparkSessions.forRanks("DistributedPretrainS3aTest", 2, 1024);
    // The job ships the session's Hadoop configuration to its ranks.
    conf = spark.sparkContext().hadoopConfiguration();
    server.s3aSettings().forEach(conf::set);
  }

  @AfterAll
  static void stopEverything() throws Exception {
    try {
      if (conf != null) {
        FileSystem.get(URI.create("s3a://" + BUCKET + "/"), conf).close();
      }
      if (spark != null) {
        spark.stop();
      }
    } finally {
      if (server != null) {
        server.close();
      }
    }
  }

  private static DistributedPretrainJob.Result train(int maxSteps, boolean resume)
      throws Exception {
    return DistributedPretrainJob.run(
        new DistributedPretrainJob.Options(
            "demo:train?limit=64",
            new DistributedPretrainJob.TargetSource(null, TEACHER.toString()),
            RUN,
            2,
            resume,
            ConfigLoader.load(
                List.of(),
                List.of(
                    "model.size=tiny",
                    "model.image-size=32",
                    "model.patch-size=8",
                    "model.embed-dim=24",
                    "model.depth=1",
                    "model.num-heads=2",
                    "model.mlp-dim=48",
                    "pretrain.masking.ratio=0.4",
                    "pretrain.masking.min-block-patches=2",
                    "pretrain.train.batch-size=8",
                    "pretrain.train.log-every-steps=1",
                    "pretrain.train.checkpoint-every-steps=2",
                    "pretrain.train.max-steps=" + maxSteps))),
        spark);
  }

  @Test
  void checkpointsAndMetricsGoToS3AndAResumedRunStartsFromThere() throws Exception {
    DistributedPretrainJob.Result first = train(3, false);
    assertThat(first.checkpoint()).isEqualTo(RUN + "/checkpoints/last");
    RunDirectory run = new RunDirectory(conf, new org.apache.hadoop.fs.Path(RUN));
    assertThat(run.latestCheckpoint()).hasValueSatisfying(c -> assertThat(c.step()).isEqualTo(3));
    FileSystem fs = FileSystem.get(URI.create(RUN), conf);
    assertThat(
            fs.exists(new org.apache.hadoop.fs.Path(RUN + "/checkpoints/step-2/model.safetensors")))
        .isTrue();

    DistributedPretrainJob.Result resumed = train(5, true);
    assertThat(resumed.finalStep()).isEqualTo(5);
    Path local = run.download(new org.apache.hadoop.fs.Path(resumed.checkpoint()));
    try (NDManager m = NDManager.newBaseManager()) {
      assertThat(ModelCheckpoints.load(local, m).step()).isEqualTo(5);
    } finally {
      RunDirectory.deleteLocal(local.getParent());
    }
    Path metrics = run.download(new org.apache.hadoop.fs.Path(RUN + "/metrics.jsonl"));
    try {
      List<Map<String, Object>> records = MetricsLog.read(metrics);
      assertThat(records)
          .extracting(r -> ((Number) r.get("step")).intValue())
          .containsExactly(1, 2, 3, 4, 5);
    } finally {
      RunDirectory.deleteLocal(metrics.getParent());
    }
  }
}
