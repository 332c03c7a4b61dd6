package org.dtmspark.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.dtmspark.deploy.Scripts.HOME;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.jar.JarFile;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.dtmspark.cli.DtmCli;
import org.dtmspark.core.io.Npy;
import org.dtmspark.core.metrics.MetricsLog;
import org.dtmspark.data.plan.InputLayout;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The cluster jar as a cluster runs it. Not a unit test: the {@code cluster} Maven profile runs it
 * after building the jar ({@code mvn -Pcluster -pl spark-jobs -am verify -DskipTests}). Spark's own
 * {@code SparkSubmit} main class starts the jar ({@code local[2]}) with a classpath laid out as a
 * Spark 3.5.7 distribution's {@code jars/}: the provided dependencies plus the library versions
 * that distribution ships (older commons-lang3, commons-compress and gson than ours).
 */
class ClusterJarCheck {
  private static final Path JAR = Path.of(System.getProperty("dtm.cluster.jar", "missing.jar"));
  private static final Path TARGET = Path.of("target").toAbsolutePath();
  private static final Path FIXTURES =
      HOME.resolve("data-prep/src/test/resources/org/dtmspark/data/image");

  @TempDir Path dir;

  /**
   * A Spark home as a Spark 3.5.7 distribution lays it out, as far as running needs: {@code jars/}
   * with the provided dependencies and the library versions that distribution ships (links into the
   * local Maven repository).
   */
  private Path sparkHome() throws Exception {
    Path home = dir.resolve("spark-home");
    Path jars = home.resolve("jars");
    if (Files.isDirectory(jars)) {
      return home;
    }
    Files.createDirectories(jars);
    List<Path> entries = new ArrayList<>();
    for (String e : Files.readString(TARGET.resolve("classpath-provided.txt")).strip().split(":")) {
      entries.add(Path.of(e));
    }
    Path shipped =
        Path.of(
            System.getProperty(
                "dtm.spark.distribution.jars",
                TARGET.resolve("spark-distribution-jars").toString()));
    try (Stream<Path> list = Files.list(shipped)) {
      list.filter(p -> p.toString().endsWith(".jar")).forEach(entries::add);
    }
    for (Path jar : entries) {
      Files.createSymbolicLink(jars.resolve(jar.getFileName()), jar.toAbsolutePath());
    }
    return home;
  }

  /** {@code spark-submit --master local[2] --class DtmCli <cluster jar> args...}. */
  private Scripts.Result sparkSubmit(Map<String, String> env, String... args) throws Exception {
    return sparkSubmit("local[2]", List.of(), env, args);
  }

  /** {@code spark-submit --master MASTER --conf ... --class DtmCli <cluster jar> args...}. */
  private Scripts.Result sparkSubmit(
      String master, List<String> confs, Map<String, String> env, String... args) throws Exception {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(Scripts.addOpens());
    command.addAll(
        List.of(
            "-Dai.djl.offline=true",
            "-Dai.djl.default_engine=PyTorch",
            "-Djava.awt.headless=true",
            "-Dlog4j2.configurationFile=" + HOME.resolve("conf/log4j2.properties"),
            "-cp",
            sparkHome().resolve("jars") + "/*",
            "org.apache.spark.deploy.SparkSubmit",
            "--master",
            master,
            "--conf",
            "spark.ui.enabled=false",
            "--conf",
            "spark.driver.host=127.0.0.1"));
    for (String conf : confs) {
      command.add("--conf");
      command.add(conf);
    }
    command.addAll(List.of("--class", "org.dtmspark.cli.DtmCli", JAR.toString()));
    command.addAll(Arrays.asList(args));
    Map<String, String> all = new HashMap<>(env);
    all.put("SPARK_HOME", sparkHome().toString());
    all.put("SPARK_SCALA_VERSION", "2.12");
    return Scripts.run(dir, all, command, 300);
  }

  @Test
  void holdsOurCodeAndItsLibrariesButNothingTheClusterBrings() throws Exception {
    assertThat(JAR).isRegularFile();
    List<String> names = new ArrayList<>();
    try (JarFile jar = new JarFile(JAR.toFile())) {
      assertThat(jar.getManifest().getMainAttributes().getValue("Main-Class"))
          .isEqualTo("org.dtmspark.cli.DtmCli");
      Enumeration<? extends ZipEntry> entries = jar.entries();
      while (entries.hasMoreElements()) {
        names.add(entries.nextElement().getName());
      }
      assertThat(text(jar, "META-INF/services/ai.djl.engine.EngineProvider"))
          .contains("ai.djl.pytorch.engine.PtEngineProvider");
      assertThat(text(jar, "META-INF/services/javax.imageio.spi.ImageReaderSpi"))
          .contains("com.twelvemonkeys.imageio.plugins.jpeg.JPEGImageReaderSpi");
    }
    assertThat(names)
        .contains(
            "org/dtmspark/cli/DtmCli.class",
            "org/dtmspark/core/morph/DtmLoss.class",
            "ai/djl/pytorch/engine/PtEngine.class",
            "picocli/CommandLine.class",
            "com/typesafe/config/Config.class",
            "jnilib/linux-x86_64/cpu/libdjl_torch.so",
            "jnilib/linux-x86_64/cu128/libdjl_torch.so",
            "dtm-reference.conf",
            "conf/log4j2.properties");
    assertThat(names).anyMatch(n -> n.startsWith("org/dtmspark/shaded/org/apache/commons/lang3/"));
    assertThat(names)
        .noneMatch(
            n ->
                n.startsWith("org/apache/spark/")
                    || n.startsWith("scala/")
                    || n.startsWith("org/apache/hadoop/")
                    || n.startsWith("com/amazonaws/")
                    || n.startsWith("com/fasterxml/jackson/core/")
                    || n.startsWith("org/apache/commons/lang3/")
                    || n.startsWith("com/google/gson/")
                    || n.startsWith("pytorch/")
                    || n.startsWith("native/lib/")
                    || n.matches("META-INF/[^/]*\\.(SF|DSA|RSA|EC)"));
  }

  private static String text(JarFile jar, String name) throws Exception {
    ZipEntry e = jar.getEntry(name);
    assertThat(e).as(name).isNotNull();
    try (InputStream in = jar.getInputStream(e)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  @Test
  void sparkSubmitRunsItsMainClass() throws Exception {
    Scripts.Result r = sparkSubmit(Map.of(), "--help");
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out()).contains("Usage: dtm", "pretrain", "probe", "shard");
  }

  /** A libtorch directory as a node or an image has one: here the CPU build from the Maven jar. */
  private Path libtorch() throws Exception {
    Path libtorch = Files.createDirectories(dir.resolve("libtorch/lib"));
    String nativeJar =
        Arrays.stream(Files.readString(TARGET.resolve("classpath-runtime.txt")).strip().split(":"))
            .filter(p -> p.contains("pytorch-native-cpu"))
            .findFirst()
            .orElseThrow();
    try (ZipFile zip = new ZipFile(nativeJar)) {
      for (ZipEntry e : zip.stream().toList()) {
        String prefix = "pytorch/cpu/linux-x86_64/";
        if (!e.isDirectory() && e.getName().startsWith(prefix)) {
          try (InputStream in = zip.getInputStream(e)) {
            Files.copy(in, libtorch.resolve(e.getName().substring(prefix.length())));
          }
        }
      }
    }
    return libtorch;
  }

  /**
   * DJL's environment for the libtorch in {@code libtorch}, caching its JNI glue in {@code cache}.
   */
  private static Map<String, String> djlEnv(Path libtorch, Path cache) {
    Map<String, String> env = new HashMap<>();
    env.put("PYTORCH_LIBRARY_PATH", libtorch.toString());
    env.put("PYTORCH_VERSION", "2.7.1");
    env.put("PYTORCH_FLAVOR", "cpu");
    env.put("ENGINE_CACHE_DIR", cache.toString());
    return env;
  }

  @Test
  void djlRunsOnTheLibtorchThatPytorchLibraryPathNamesAndNowhereElse() throws Exception {
    Path libtorch = libtorch();
    Path targets = tokens("t.npy", 1);
    Path online = tokens("u.npy", 2);
    String[] morph = {
      "morph",
      "--targets",
      targets.toString(),
      "--online",
      online.toString(),
      "--level",
      "3:2",
      "--json"
    };
    Path cache = dir.resolve("engine-cache");
    Map<String, String> env = djlEnv(libtorch, cache);

    Scripts.Result r = sparkSubmit(env, morph);

    assertThat(r.code()).as(r.err()).isZero();
    StringWriter expected = new StringWriter();
    int code =
        DtmCli.execute(new PrintWriter(expected, true), new PrintWriter(new StringWriter()), morph);
    assertThat(code).isZero();
    ObjectMapper json = new ObjectMapper();
    assertThat(json.readTree(r.out())).isEqualTo(json.readTree(expected.toString()));
    // The JNI glue came from the jar's cpu flavour into the cache, where the image pre-places it.
    try (Stream<Path> glue = Files.list(cache.resolve("pytorch/2.7.1-cpu-linux-x86_64"))) {
      assertThat(glue.map(p -> p.getFileName().toString()))
          .anyMatch(n -> n.endsWith("libdjl_torch.so"));
    }

    // Without it, offline, there is no libtorch: the jar carries none.
    env.remove("PYTORCH_LIBRARY_PATH");
    env.put("ENGINE_CACHE_DIR", dir.resolve("empty-cache").toString());
    Scripts.Result none = sparkSubmit(env, morph);
    assertThat(none.code()).isNotZero();
  }

  @Test
  void pretrainRanksRunInTwoExecutorJvmsThatLoadTheJarFromTheDriver() throws Exception {
    Path libtorch = libtorch();
    Map<String, String> env = djlEnv(libtorch, dir.resolve("driver-cache"));
    // local-cluster: a standalone master and two workers, each starting one executor JVM from the
    // Spark home's jars/, which fetches the application jar from the driver as on a cluster.
    List<String> executorOptions = new ArrayList<>(Scripts.addOpens());
    executorOptions.addAll(List.of("-Dai.djl.offline=true", "-Dai.djl.default_engine=PyTorch"));
    List<String> confs = new ArrayList<>();
    confs.add("spark.executor.extraJavaOptions=" + String.join(" ", executorOptions));
    confs.add("spark.executor.memory=1024m");
    confs.add("spark.stage.maxConsecutiveAttempts=1");
    for (var e : djlEnv(libtorch, dir.resolve("executor-cache")).entrySet()) {
      confs.add("spark.executorEnv." + e.getKey() + "=" + e.getValue());
    }
    Path teacher = HOME.resolve("dtm-core/src/test/resources/golden/clip");
    Path run = dir.resolve("run");
    List<String> args =
        new ArrayList<>(
            List.of(
                "pretrain",
                "--images",
                "demo:train?limit=32",
                "--teacher",
                teacher.toString(),
                "--ranks",
                "2",
                "--output",
                run.toString()));
    for (String set :
        List.of(
            "model.size=tiny",
            "model.image-size=32",
            "model.patch-size=8",
            "model.embed-dim=24",
            "model.depth=2",
            "model.num-heads=2",
            "model.mlp-dim=48",
            "pretrain.masking.ratio=0.4",
            "pretrain.masking.min-block-patches=2",
            "pretrain.optim.warmup-epochs=1",
            "pretrain.train.epochs=1",
            "pretrain.train.batch-size=8",
            "pretrain.train.log-every-steps=1")) {
      args.add("--set");
      args.add(set);
    }

    Scripts.Result r =
        sparkSubmit("local-cluster[2,1,1024]", confs, env, args.toArray(String[]::new));

    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out()).contains("pretrain: 2 ranks, to step 4");
    assertThat(run.resolve("checkpoints/last/model.safetensors")).isNotEmptyFile();
    assertThat(MetricsLog.readSteps(run.resolve("metrics.jsonl"))).hasSize(4);
    // and each rank's bytes read in its one epoch
    assertThat(MetricsLog.read(run.resolve("metrics.jsonl")))
        .filteredOn(rec -> rec.containsKey("image_bytes_read"))
        .extracting(rec -> rec.get("rank"))
        .containsExactlyInAnyOrder(0, 1);
  }

  private Path tokens(String name, long seed) throws Exception {
    SplittableRandom rng = new SplittableRandom(seed);
    float[] data = new float[2 * 16 * 8];
    for (int i = 0; i < data.length; i++) {
      data[i] = (float) rng.nextGaussian();
    }
    Path p = dir.resolve(name);
    Npy.write(p, new long[] {2, 16, 8}, data);
    return p;
  }

  @Test
  void shardJobStreamsTarArchivesAndDecodesCmykJpegsOnSparksOlderLibraries() throws Exception {
    Path in = Files.createDirectories(dir.resolve("ilsvrc"));
    byte[] rgb = Files.readAllBytes(FIXTURES.resolve("rgb.jpg"));
    try (OutputStream o = Files.newOutputStream(in.resolve(InputLayout.TRAIN_ARCHIVE));
        TarArchiveOutputStream outer = new TarArchiveOutputStream(o)) {
      Map<String, List<String>> classes =
          Map.of("n01", List.of("rgb.jpg", "cmyk.jpg"), "n02", List.of("ycck.jpg"));
      for (String wnid : List.of("n01", "n02")) {
        ByteArrayOutputStream inner = new ByteArrayOutputStream();
        try (TarArchiveOutputStream t = new TarArchiveOutputStream(inner)) {
          int i = 0;
          for (String f : classes.get(wnid)) {
            add(t, wnid + "_" + i++ + ".JPEG", Files.readAllBytes(FIXTURES.resolve(f)));
          }
        }
        add(outer, wnid + ".tar", inner.toByteArray());
      }
    }
    try (OutputStream o = Files.newOutputStream(in.resolve(InputLayout.VAL_ARCHIVE));
        TarArchiveOutputStream t = new TarArchiveOutputStream(o)) {
      add(t, "ILSVRC2012_val_00000001.JPEG", rgb);
    }
    Path labels = Files.writeString(dir.resolve("val.txt"), "ILSVRC2012_val_00000001.JPEG n02\n");
    Path out = dir.resolve("shards");

    Scripts.Result r =
        sparkSubmit(
            Map.of(),
            "shard",
            "--input",
            in.toString(),
            "--layout",
            "ilsvrc-archives",
            "--val-labels",
            labels.toString(),
            "--output",
            out.toString(),
            "--shards",
            "1");

    assertThat(r.code()).as(r.err()).isZero();
    JsonNode manifest = new ObjectMapper().readTree(out.resolve("_manifest.json").toFile());
    assertThat(manifest.at("/splits/train/images").asInt()).isEqualTo(3);
    assertThat(manifest.at("/splits/val/images").asInt()).isEqualTo(1);
    assertThat(manifest.at("/rejects/total").asInt()).isZero();
  }

  private static void add(TarArchiveOutputStream tar, String name, byte[] bytes) throws Exception {
    TarArchiveEntry e = new TarArchiveEntry(name);
    e.setSize(bytes.length);
    tar.putArchiveEntry(e);
    tar.write(bytes);
    tar.closeArchiveEntry();
  }
}
