package org.dtmspark.clustertests;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The cluster jar on a standalone Spark cluster: a Master and two Workers (2 cores, 2 GB each),
 * each its own JVM started through the Spark home's {@code bin/spark-class}, and {@code
 * deploy/bin/dtm-submit --target standalone --master spark://...} in client and cluster deploy
 * modes: shard, targets and pretrain on 2 ranks in 2 executors.
 */
class StandaloneSubmitTest {
  @TempDir static Path dir;

  private static Path sparkHome;
  private static String master;
  private static final List<Process> daemons = new ArrayList<>();
  private static final List<Path> workDirs = new ArrayList<>();

  @BeforeAll
  static void startCluster() throws Exception {
    sparkHome = SparkHome.layOut(dir.resolve("spark-home"));
    int port;
    try (ServerSocket free = new ServerSocket(0)) {
      port = free.getLocalPort();
    }
    master = "spark://127.0.0.1:" + port;
    daemons.add(
        daemon(
            "master",
            "org.apache.spark.deploy.master.Master",
            "--host",
            "127.0.0.1",
            "--port",
            Integer.toString(port),
            "--webui-port",
            "0"));
    awaitPort(port, dir.resolve("master.log"));
    for (int i = 0; i < 2; i++) {
      Path work = Files.createDirectories(dir.resolve("worker-" + i));
      workDirs.add(work);
      daemons.add(
          daemon(
              "worker-" + i,
              "org.apache.spark.deploy.worker.Worker",
              "--host",
              "127.0.0.1",
              "--cores",
              "2",
              "--memory",
              "2g",
              "--webui-port",
              "0",
              "--work-dir",
              work.toString(),
              master));
    }
    awaitLog(dir.resolve("master.log"), "Registering worker", 2);
  }

  private static Process daemon(String name, String mainClass, String... args) throws IOException {
    List<String> command = new ArrayList<>();
    command.add(sparkHome.resolve("bin/spark-class").toString());
    command.add(mainClass);
    command.addAll(List.of(args));
    return Processes.start(dir, Map.of(), command, dir.resolve(name + ".log"));
  }

  private static void awaitPort(int port, Path log) throws Exception {
    long deadline = System.nanoTime() + 60_000_000_000L;
    while (true) {
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress("127.0.0.1", port), 500);
        return;
      } catch (IOException notYet) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException(
              "the master did not listen on " + port + " in 60 s:\n" + Files.readString(log));
        }
        Thread.sleep(200);
      }
    }
  }

  private static void awaitLog(Path log, String line, int times) throws Exception {
    long deadline = System.nanoTime() + 60_000_000_000L;
    while (Files.readString(log).lines().filter(l -> l.contains(line)).count() < times) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(
            "no " + times + " lines '" + line + "' in 60 s:\n" + Files.readString(log));
      }
      Thread.sleep(200);
    }
  }

  @AfterAll
  static void stopCluster() throws InterruptedException {
    for (int i = daemons.size() - 1; i >= 0; i--) {
      Processes.stop(daemons.get(i));
    }
  }

  private static Processes.Result submit(TinyPipeline p, String mode, List<String> subcommand)
      throws IOException, InterruptedException {
    List<String> options =
        p.submitOptions(
            sparkHome,
            List.of("--target", "standalone", "--master", master, "--deploy-mode", mode));
    return TinyPipeline.submit(dir, Map.of(), options, subcommand);
  }

  /** The directories under the workers' work dirs whose names start with {@code prefix}. */
  private static List<Path> workerDirs(String prefix) throws IOException {
    List<Path> found = new ArrayList<>();
    for (Path work : workDirs) {
      try (Stream<Path> list = Files.list(work)) {
        list.filter(d -> d.getFileName().toString().startsWith(prefix)).forEach(found::add);
      }
    }
    return found;
  }

  /**
   * The executor directories ({@code app-ID/N} under the workers' work dirs) of the applications
   * whose directories are not in {@code before}: one application's, checked.
   */
  private static List<Path> executorsSince(List<Path> before) throws IOException {
    List<Path> apps = new ArrayList<>(workerDirs("app-"));
    apps.removeAll(before);
    assertThat(apps.stream().map(Path::getFileName).distinct()).hasSize(1);
    List<Path> found = new ArrayList<>();
    for (Path app : apps) {
      try (Stream<Path> list = Files.list(app)) {
        list.filter(Files::isDirectory).forEach(found::add);
      }
    }
    return found;
  }

  @Test
  void clientModeRunsShardTargetsAndPretrainOnTwoRanksInTwoExecutors() throws Exception {
    TinyPipeline p = new TinyPipeline(Files.createDirectories(dir.resolve("client")));

    Processes.Result shard = submit(p, "client", p.shard());
    assertThat(shard.code()).as(shard.both()).isZero();
    assertThat(shard.out()).contains("shard: " + TinyPipeline.IMAGES + " files found");
    p.assertShards();

    Processes.Result targets = submit(p, "client", p.targets());
    assertThat(targets.code()).as(targets.both()).isZero();
    assertThat(targets.out()).contains("targets: " + TinyPipeline.IMAGES + " images (0 rejected)");
    p.assertTargets();

    List<Path> before = workerDirs("app-");
    Processes.Result pretrain = submit(p, "client", p.pretrain());
    assertThat(pretrain.code()).as(pretrain.both()).isZero();
    assertThat(pretrain.out())
        .contains("pretrain: 2 ranks, to step " + TinyPipeline.STEPS + " in 1 attempt(s)");
    p.assertPretrain();
    assertThat(executorsSince(before)).hasSize(2);
  }

  @Test
  void clusterModeRunsTheDriverOnAWorkerAndWaitsForIt() throws Exception {
    TinyPipeline p = new TinyPipeline(Files.createDirectories(dir.resolve("cluster")));

    Processes.Result shard = submit(p, "cluster", p.shard());
    assertThat(shard.code()).as(shard.both()).isZero();
    p.assertShards();

    Processes.Result targets = submit(p, "cluster", p.targets());
    assertThat(targets.code()).as(targets.both()).isZero();
    p.assertTargets();

    List<Path> before = workerDirs("driver-");
    List<Path> appsBefore = workerDirs("app-");
    Processes.Result pretrain = submit(p, "cluster", p.pretrain());
    assertThat(pretrain.code()).as(pretrain.both()).isZero();
    p.assertPretrain();
    List<Path> drivers = new ArrayList<>(workerDirs("driver-"));
    drivers.removeAll(before);
    assertThat(drivers).hasSize(1);
    String driverOut = Files.readString(drivers.get(0).resolve("stdout"));
    assertThat(driverOut)
        .contains("pretrain: 2 ranks, to step " + TinyPipeline.STEPS + " in 1 attempt(s)");
    assertThat(executorsSince(appsBefore)).hasSize(2);
  }
}
