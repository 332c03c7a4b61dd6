package org.dtmspark.clustertests;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.yarn.api.records.ApplicationId;
import org.apache.hadoop.yarn.api.records.FinalApplicationStatus;
import org.apache.hadoop.yarn.conf.YarnConfiguration;
import org.apache.hadoop.yarn.server.MiniYARNCluster;
import org.apache.hadoop.yarn.server.resourcemanager.rmapp.RMApp;
import org.apache.hadoop.yarn.server.resourcemanager.rmapp.RMAppState;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The cluster jar on YARN: Hadoop's MiniYARNCluster (a ResourceManager and a NodeManager in this
 * JVM, launching containers as separate JVMs), its yarn-site.xml and core-site.xml in a {@code
 * HADOOP_CONF_DIR}, and {@code deploy/bin/dtm-submit --target yarn} running real {@code
 * spark-submit --master yarn} in cluster and client deploy modes: shard, targets and pretrain on 2
 * ranks, each in 2 executor containers. The filesystem is the local one (the NodeManager's
 * containers run on this machine), so output paths are plain paths every container sees.
 */
class YarnSubmitTest {
  private static final Set<RMAppState> FINAL_STATES =
      Set.of(RMAppState.FINISHED, RMAppState.FAILED, RMAppState.KILLED);

  @TempDir static Path dir;

  private static MiniYARNCluster yarn;
  private static Path sparkHome;
  private static Path hadoopConf;

  @BeforeAll
  static void startYarn() throws Exception {
    sparkHome = SparkHome.layOut(dir.resolve("spark-home"));
    YarnConfiguration conf = new YarnConfiguration();
    // One NodeManager with room for an application master and two executor containers; the
    // containers' memory is not policed (JVMs and libtorch reserve far more virtual memory than
    // they use), and a full disk on a CI machine must not take the node out.
    conf.setInt(YarnConfiguration.NM_PMEM_MB, 6144);
    conf.setInt(YarnConfiguration.NM_VCORES, 4);
    conf.setInt(YarnConfiguration.RM_SCHEDULER_MINIMUM_ALLOCATION_MB, 128);
    conf.setBoolean(YarnConfiguration.NM_PMEM_CHECK_ENABLED, false);
    conf.setBoolean(YarnConfiguration.NM_VMEM_CHECK_ENABLED, false);
    conf.setFloat(YarnConfiguration.NM_MAX_PER_DISK_UTILIZATION_PERCENTAGE, 100.0f);
    // The CapacityScheduler's one queue (a site's capacity-scheduler.xml, which the minicluster
    // does not ship); its default lets application masters take 10% of it: less than one driver.
    conf.set("yarn.scheduler.capacity.root.queues", "default");
    conf.setFloat("yarn.scheduler.capacity.root.default.capacity", 100f);
    conf.setFloat("yarn.scheduler.capacity.root.default.maximum-capacity", 100f);
    conf.setFloat("yarn.scheduler.capacity.maximum-am-resource-percent", 1.0f);
    yarn = new MiniYARNCluster("dtm-yarn", 1, 1, 1);
    yarn.init(conf);
    yarn.start();
    Configuration live = yarn.getConfig();
    long deadline = System.nanoTime() + 60_000_000_000L;
    while (live.get(YarnConfiguration.RM_ADDRESS, "").endsWith(":0")
        || yarn.getResourceManager().getRMContext().getRMNodes().isEmpty()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("MiniYARNCluster did not come up in 60 s");
      }
      Thread.sleep(100);
    }
    hadoopConf = Files.createDirectories(dir.resolve("hadoop-conf"));
    try (OutputStream out = Files.newOutputStream(hadoopConf.resolve("yarn-site.xml"))) {
      live.writeXml(out);
    }
    Configuration core = new Configuration(false);
    core.set("fs.defaultFS", "file:///");
    try (OutputStream out = Files.newOutputStream(hadoopConf.resolve("core-site.xml"))) {
      core.writeXml(out);
    }
  }

  @AfterAll
  static void stopYarn() {
    if (yarn != null) {
      yarn.stop();
    }
  }

  /** One submission: what dtm-submit printed and the application it made. */
  record Submission(Processes.Result result, ApplicationId app) {}

  /**
   * dtm-submit --target yarn with {@code mode}, the staging directory under the test's; the
   * application is the one the ResourceManager got during the submission.
   */
  private static Submission submit(TinyPipeline p, String mode, List<String> subcommand)
      throws IOException, InterruptedException {
    Set<ApplicationId> before =
        new HashSet<>(yarn.getResourceManager().getRMContext().getRMApps().keySet());
    List<String> options =
        p.submitOptions(
            sparkHome,
            List.of(
                "--target",
                "yarn",
                "--deploy-mode",
                mode,
                "--conf",
                "spark.yarn.stagingDir=" + dir.resolve("staging").toUri(),
                // The node has Spark's jars where this machine has them (no upload per run).
                "--conf",
                "spark.yarn.jars=local:" + sparkHome.resolve("jars") + "/*"));
    Processes.Result r =
        TinyPipeline.submit(
            dir, Map.of("HADOOP_CONF_DIR", hadoopConf.toString()), options, subcommand);
    Set<ApplicationId> made =
        new HashSet<>(yarn.getResourceManager().getRMContext().getRMApps().keySet());
    made.removeAll(before);
    assertThat(made).as(r.both()).hasSize(1);
    return new Submission(r, made.iterator().next());
  }

  /**
   * Exit status 0, and YARN's final status of the application SUCCEEDED. In client mode
   * spark-submit can return before the application master has unregistered: wait for a final state.
   */
  private static Processes.Result succeeded(Submission s) throws InterruptedException {
    assertThat(s.result().code()).as(s.result().both()).isZero();
    RMApp app = yarn.getResourceManager().getRMContext().getRMApps().get(s.app());
    long deadline = System.nanoTime() + 60_000_000_000L;
    while (!FINAL_STATES.contains(app.getState()) && System.nanoTime() < deadline) {
      Thread.sleep(200);
    }
    assertThat(app.getState()).as(s.result().both()).isEqualTo(RMAppState.FINISHED);
    assertThat(app.getFinalApplicationStatus())
        .as(s.result().both())
        .isEqualTo(FinalApplicationStatus.SUCCEEDED);
    return s.result();
  }

  /** The container log directories of the application. */
  private static List<Path> containers(Submission s) throws IOException {
    String id = s.app().toString();
    List<Path> found = new ArrayList<>();
    for (String logDir :
        yarn.getNodeManager(0).getConfig().getTrimmedStrings(YarnConfiguration.NM_LOG_DIRS)) {
      Path app = Path.of(logDir.replaceFirst("^file:", "")).resolve(id);
      if (Files.isDirectory(app)) {
        try (Stream<Path> list = Files.list(app)) {
          list.filter(Files::isDirectory).forEach(found::add);
        }
      }
    }
    return found.stream().sorted().toList();
  }

  private static String stdout(Path container) throws IOException {
    return Files.readString(container.resolve("stdout"));
  }

  @Test
  void clusterModeRunsShardTargetsAndPretrainOnTwoRanksInExecutorContainers() throws Exception {
    TinyPipeline p = new TinyPipeline(Files.createDirectories(dir.resolve("cluster")));

    succeeded(submit(p, "cluster", p.shard()));
    p.assertShards();

    succeeded(submit(p, "cluster", p.targets()));
    p.assertTargets();

    Submission pretrain = submit(p, "cluster", p.pretrain());
    assertThat(succeeded(pretrain).err()).contains("final status: SUCCEEDED");
    p.assertPretrain();
    // The driver ran in the application master's container (the first); the ranks in two more.
    List<Path> containers = containers(pretrain);
    assertThat(containers).hasSize(3);
    assertThat(stdout(containers.get(0)))
        .contains("pretrain: 2 ranks, to step " + TinyPipeline.STEPS + " in 1 attempt(s)");
  }

  @Test
  void clientModeRunsTheDriverInSparkSubmitAndTheRanksInExecutorContainers() throws Exception {
    TinyPipeline p = new TinyPipeline(Files.createDirectories(dir.resolve("client")));

    Processes.Result shard = succeeded(submit(p, "client", p.shard()));
    assertThat(shard.out()).contains("shard: " + TinyPipeline.IMAGES + " files found");
    p.assertShards();

    Processes.Result targets = succeeded(submit(p, "client", p.targets()));
    assertThat(targets.out()).contains("targets: " + TinyPipeline.IMAGES + " images (0 rejected)");
    p.assertTargets();

    Submission pretrain = submit(p, "client", p.pretrain());
    assertThat(succeeded(pretrain).out())
        .contains("pretrain: 2 ranks, to step " + TinyPipeline.STEPS + " in 1 attempt(s)");
    p.assertPretrain();
    // An application master that only asks for executors, and the two executors.
    assertThat(containers(pretrain)).hasSize(3);
  }
}
