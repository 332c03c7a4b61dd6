package org.dtmspark.clustertests;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A Spark 3.5.7 home as a {@code -bin-hadoop3} distribution lays it out, as far as submitting and
 * running needs: {@code jars/} (links to this module's runtime classpath: Spark with its YARN and
 * Kubernetes modules and the shaded Hadoop client, where the distribution ships older versions of a
 * library than the build resolves, the distribution's), {@code bin/spark-class} and {@code
 * bin/spark-submit} (small scripts of these tests that run Spark's own launcher library, see
 * src/test/resources/spark-home/bin), and an empty {@code conf/}.
 */
final class SparkHome {
  /** The repository root (tests run in the cluster-tests module directory). */
  static final Path REPOSITORY = Path.of("..").toAbsolutePath().normalize();

  static final Path DTM_SUBMIT = REPOSITORY.resolve("deploy/bin/dtm-submit");

  /** The cluster jar that {@code mvn -Pcluster} built in spark-jobs. */
  static final Path CLUSTER_JAR = Path.of(property("dtm.cluster.jar"));

  private static final Pattern VERSIONED_JAR = Pattern.compile("(.+?)-(\\d[^-/]*)(-[^/]*)?\\.jar");

  private SparkHome() {}

  private static String property(String name) {
    String value = System.getProperty(name);
    if (value == null) {
      throw new IllegalStateException(
          "System property " + name + " is not set: run these tests through Maven (-Pcluster)");
    }
    return value;
  }

  /** Lays the Spark home out under {@code dir} and returns it. */
  static Path layOut(Path dir) throws IOException {
    Path home = Files.createDirectories(dir);
    Path jars = Files.createDirectories(home.resolve("jars"));
    Files.createDirectories(home.resolve("conf"));
    Map<String, Path> byArtifact = new LinkedHashMap<>();
    for (String entry :
        Files.readString(Path.of(property("dtm.spark.distribution.classpath")))
            .strip()
            .split(":")) {
      Path jar = Path.of(entry);
      byArtifact.put(artifact(jar), jar);
    }
    try (Stream<Path> shipped = Files.list(Path.of(property("dtm.spark.distribution.jars")))) {
      shipped
          .filter(p -> p.toString().endsWith(".jar"))
          .forEach(jar -> byArtifact.put(artifact(jar), jar));
    }
    for (Path jar : byArtifact.values()) {
      Files.createSymbolicLink(jars.resolve(jar.getFileName()), jar.toAbsolutePath());
    }
    for (String script : List.of("spark-class", "spark-submit")) {
      Path bin = Files.createDirectories(home.resolve("bin"));
      try (InputStream in = SparkHome.class.getResourceAsStream("/spark-home/bin/" + script)) {
        if (in == null) {
          throw new IllegalStateException("test resource spark-home/bin/" + script + " is missing");
        }
        Files.copy(in, bin.resolve(script), StandardCopyOption.REPLACE_EXISTING);
      }
      Files.setPosixFilePermissions(
          bin.resolve(script), PosixFilePermissions.fromString("rwxr-xr-x"));
    }
    return home;
  }

  /** The artifact a jar file name names: {@code commons-lang3-3.12.0.jar} is commons-lang3. */
  private static String artifact(Path jar) {
    String name = jar.getFileName().toString();
    Matcher m = VERSIONED_JAR.matcher(name);
    return m.matches() ? m.group(1) + (m.group(3) == null ? "" : m.group(3)) : name;
  }

  /**
   * The CPU libtorch of DJL's {@code pytorch-native-cpu} jar, unpacked once under {@code target/}
   * as a node has it in a directory: the cluster jar carries none.
   */
  static synchronized Path libtorch() throws IOException {
    Path lib = Path.of("target/libtorch-cpu/lib").toAbsolutePath();
    if (Files.isRegularFile(lib.resolve("libtorch.so"))) {
      return lib;
    }
    String nativeJar =
        List.of(
                Files.readString(Path.of(property("dtm.jobs.runtime.classpath")))
                    .strip()
                    .split(":"))
            .stream()
            .filter(p -> p.contains("pytorch-native-cpu"))
            .findFirst()
            .orElseThrow(() -> new IllegalStateException("no pytorch-native-cpu jar"));
    Path staging = Files.createDirectories(lib.resolveSibling("lib.partial"));
    String prefix = "pytorch/cpu/linux-x86_64/";
    try (var zip = new java.util.zip.ZipFile(nativeJar)) {
      for (var e : new ArrayList<>(zip.stream().toList())) {
        if (!e.isDirectory() && e.getName().startsWith(prefix)) {
          try (InputStream in = zip.getInputStream(e)) {
            Files.copy(
                in,
                staging.resolve(e.getName().substring(prefix.length())),
                StandardCopyOption.REPLACE_EXISTING);
          }
        }
      }
    }
    try {
      Files.move(staging, lib, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot move " + staging + " to " + lib, e);
    }
    return lib;
  }
}
