package org.dtmspark.jobs.targets;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.dtmspark.core.teacher.Teacher;
import org.dtmspark.core.teacher.Teachers;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The teachers of this JVM: each {@link TeacherSpec} is loaded once per JVM (driver or executor)
 * and shared by every task the JVM runs, instead of once per task. This is the one cache of heavy
 * model handles in the targets job.
 *
 * <p><b>Sharing.</b> Tasks running at the same time in one executor share a teacher; callers
 * serialise their calls to {@link Teacher#targets} on the teacher object ({@code synchronized
 * (teacher)}), so that one forward pass runs at a time while the other tasks decode and render. On
 * a GPU executor the usual setting is one task per GPU ({@code spark.task.resource.gpu.amount=1}),
 * and each task's spec names its own GPU.
 *
 * <p><b>Files.</b> A teacher location without a scheme, or with {@code file:}, is read from the
 * executor's local disk: ship it with {@code spark-submit --files} (a TorchScript file) or {@code
 * --archives} (a checkpoint directory, unpacked in the working directory), or put it on a mount
 * every node has. Any other Hadoop URI ({@code hdfs://}, {@code s3a://}) is copied once per JVM to
 * a temporary directory, deleted at exit.
 *
 * <p><b>Lifetime.</b> Teachers stay loaded until {@link #closeAll()} or JVM shutdown (a shutdown
 * hook closes them): an executor that runs many tasks loads its teacher once.
 */
public final class TeacherCache {
  private static final Logger LOG = LoggerFactory.getLogger(TeacherCache.class);
  private static final Map<TeacherSpec, Teacher> TEACHERS = new HashMap<>();
  private static final Map<String, Path> LOCAL_COPIES = new HashMap<>();
  private static final AtomicInteger LOADS = new AtomicInteger();

  static {
    Runtime.getRuntime().addShutdownHook(new Thread(TeacherCache::closeAll, "dtm-teacher-cache"));
  }

  private TeacherCache() {}

  /**
   * The teacher of {@code spec}, loaded on first use in this JVM.
   *
   * @param conf Hadoop configuration for teacher URIs that need copying
   * @throws IOException when the teacher cannot be read
   */
  public static synchronized Teacher get(TeacherSpec spec, Configuration conf) throws IOException {
    Teacher teacher = TEACHERS.get(spec);
    if (teacher == null) {
      long started = System.nanoTime();
      Path local = localPath(spec.location(), conf);
      teacher =
          Teachers.open(
              local,
              spec.normalization(),
              spec.useTokenHead(),
              spec.imageSize(),
              spec.patchSize(),
              spec.djlDevice(),
              spec.djlDtype());
      TEACHERS.put(spec, teacher);
      LOADS.incrementAndGet();
      LOG.info(
          "Loaded teacher {} on {} in {} ({}) in {} s",
          teacher.id(),
          spec.device(),
          spec.dtype(),
          spec.location(),
          String.format("%.1f", (System.nanoTime() - started) / 1e9));
    }
    return teacher;
  }

  /** Teachers loaded by this JVM so far (for tests and logs). */
  public static int loads() {
    return LOADS.get();
  }

  /** Closes every loaded teacher; later {@link #get} calls load again. */
  public static synchronized void closeAll() {
    for (Map.Entry<TeacherSpec, Teacher> e : TEACHERS.entrySet()) {
      try {
        e.getValue().close();
      } catch (RuntimeException | Error failure) {
        LOG.warn("Cannot close teacher {}: {}", e.getKey().location(), failure.toString());
      }
    }
    TEACHERS.clear();
  }

  /**
   * The local path of a teacher location: the path itself, or for a Hadoop URI other than {@code
   * file:} a local copy made once per JVM.
   */
  public static synchronized Path localPath(String location, Configuration conf)
      throws IOException {
    URI uri = uriOf(location);
    if (uri == null || uri.getScheme() == null) {
      return Path.of(location);
    }
    if ("file".equals(uri.getScheme())) {
      return Path.of(uri);
    }
    Path copy = LOCAL_COPIES.get(location);
    if (copy == null) {
      copy = copyToLocal(uri, conf);
      LOCAL_COPIES.put(location, copy);
    }
    return copy;
  }

  /** The URI of {@code location}, or null when it is a plain path (including a Windows drive). */
  private static URI uriOf(String location) {
    try {
      URI uri = new URI(location);
      return uri.getScheme() != null && uri.getScheme().length() > 1 ? uri : null;
    } catch (URISyntaxException e) {
      return null;
    }
  }

  /**
   * Copies the file or directory at {@code uri} (any Hadoop filesystem) into a new temporary
   * directory, deleted when the JVM exits, and returns the copy's path (same name as the source).
   */
  static Path copyToLocal(URI uri, Configuration conf) throws IOException {
    String text = uri.toString();
    while (text.endsWith("/") && text.length() > 1) {
      text = text.substring(0, text.length() - 1); // a directory's URI may end in a slash
    }
    org.apache.hadoop.fs.Path source = new org.apache.hadoop.fs.Path(text);
    FileSystem fs = source.getFileSystem(conf);
    Path dir = Files.createTempDirectory("dtm-teacher-");
    Runtime.getRuntime()
        .addShutdownHook(new Thread(() -> deleteRecursively(dir), "dtm-teacher-copy-cleanup"));
    Path target = dir.resolve(source.getName());
    long started = System.nanoTime();
    fs.copyToLocalFile(false, source, new org.apache.hadoop.fs.Path(target.toUri()), true);
    LOG.info(
        "Copied teacher {} to {} in {} s",
        uri,
        target,
        String.format("%.1f", (System.nanoTime() - started) / 1e9));
    return target;
  }

  private static void deleteRecursively(Path dir) {
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException | UncheckedIOException e) {
      LOG.warn("Cannot delete the teacher copy {}: {}", dir, e.toString());
    }
  }

  /**
   * Lower-case hex SHA-256 of a teacher's weights: of the file for a TorchScript teacher, of {@code
   * model.safetensors} for a checkpoint directory (Hugging Face CLIP or this project's).
   *
   * @throws IOException naming the file when it cannot be read
   */
  public static String weightsSha256(Path local) throws IOException {
    Path weights = Files.isDirectory(local) ? local.resolve("model.safetensors") : local;
    MessageDigest digest;
    try {
      digest = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
    try (InputStream in = new DigestInputStream(Files.newInputStream(weights), digest)) {
      in.transferTo(OutputStream.nullOutputStream());
    }
    return HexFormat.of().formatHex(digest.digest());
  }
}
