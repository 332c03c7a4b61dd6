package org.dtmspark.jobs.pretrain;

import java.io.IOException;
import java.nio.file.Files;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.dtmspark.core.io.CheckpointIO;
import org.dtmspark.core.io.IOConsumer;

/**
 * The run directory of a data-parallel pretraining run on any Hadoop filesystem:
 *
 * <pre>
 * &lt;run&gt;/checkpoints/step-&lt;n&gt;/   written every train.checkpoint-every-steps by rank 0
 * &lt;run&gt;/checkpoints/last/       the final checkpoint
 * &lt;run&gt;/metrics.jsonl, loss.png, lr.png   written by the driver
 * </pre>
 *
 * <p>A checkpoint is written to a local directory, uploaded without its {@value
 * CheckpointIO#META_FILE} to a hidden sibling {@code .tmp-<name>-<uuid>}, renamed to its final name
 * (atomic on HDFS and local disks; a file-by-file copy on S3A), and then gets its {@value
 * CheckpointIO#META_FILE}: a checkpoint counts only when that file exists, and {@link
 * #latestCheckpoint} skips any that lacks it.
 */
public final class RunDirectory {
  private static final Pattern STEP = Pattern.compile("step-(\\d+)");

  private final Configuration conf;
  private final Path root;

  public RunDirectory(Configuration conf, Path root) {
    this.conf = conf;
    this.root = root;
  }

  /** The run's root. */
  public Path root() {
    return root;
  }

  /** Where checkpoint {@code name} lives. */
  public Path checkpoint(String name) {
    return new Path(new Path(root, "checkpoints"), name);
  }

  /**
   * A published checkpoint.
   *
   * @param step the step it holds
   * @param path its directory
   */
  public record Checkpoint(long step, Path path) {}

  /** The checkpoint with the highest step ({@code last} beats a step checkpoint of its step). */
  public Optional<Checkpoint> latestCheckpoint() throws IOException {
    Path dir = new Path(root, "checkpoints");
    FileSystem fs = dir.getFileSystem(conf);
    if (!fs.exists(dir)) {
      return Optional.empty();
    }
    Checkpoint best = null;
    for (FileStatus status : fs.listStatus(dir)) {
      String name = status.getPath().getName();
      if (!status.isDirectory() || !fs.exists(new Path(status.getPath(), CheckpointIO.META_FILE))) {
        continue;
      }
      long step;
      Matcher m = STEP.matcher(name);
      if (m.matches()) {
        step = Long.parseLong(m.group(1));
      } else if (name.equals("last")) {
        step = readStep(status.getPath());
      } else {
        continue;
      }
      if (best == null || step > best.step() || (step == best.step() && name.equals("last"))) {
        best = new Checkpoint(step, status.getPath());
      }
    }
    return Optional.ofNullable(best);
  }

  private long readStep(Path dir) throws IOException {
    Path meta = new Path(dir, CheckpointIO.META_FILE);
    try (var in = meta.getFileSystem(conf).open(meta)) {
      return CheckpointIO.fromJson(in.readAllBytes(), meta.toString()).step();
    }
  }

  /** Copies checkpoint {@code dir} to a new local temporary directory and returns the copy. */
  public java.nio.file.Path download(Path dir) throws IOException {
    java.nio.file.Path tmp = Files.createTempDirectory("dtm-checkpoint-");
    java.nio.file.Path local = tmp.resolve(dir.getName());
    FileSystem fs = dir.getFileSystem(conf);
    fs.copyToLocalFile(false, dir, new Path(local.toUri()), true);
    return local;
  }

  /**
   * Publishes checkpoint {@code name}: {@code writer} fills a local directory, which is uploaded
   * and renamed into place, replacing an older checkpoint of that name.
   *
   * @return the published directory, fully qualified
   */
  public Path publish(String name, IOConsumer<java.nio.file.Path> writer) throws IOException {
    java.nio.file.Path tmp = Files.createTempDirectory("dtm-checkpoint-");
    Path target = checkpoint(name);
    FileSystem fs = target.getFileSystem(conf);
    Path staging = new Path(target.getParent(), ".tmp-" + name + "-" + UUID.randomUUID());
    try {
      java.nio.file.Path local = tmp.resolve(name);
      writer.accept(local);
      java.nio.file.Path meta = local.resolve(CheckpointIO.META_FILE);
      java.nio.file.Path heldBack = tmp.resolve(CheckpointIO.META_FILE);
      Files.move(meta, heldBack);
      fs.mkdirs(target.getParent());
      fs.copyFromLocalFile(false, true, new Path(local.toUri()), staging);
      if (fs.exists(target) && !fs.delete(target, true)) {
        throw new IOException("Cannot replace checkpoint " + target);
      }
      if (!fs.rename(staging, target)) {
        throw new IOException("Cannot rename " + staging + " to " + target);
      }
      // The metadata goes last: on stores where the rename copies file by file, a checkpoint
      // counts only once everything it names is there. It goes in under a hidden name and is
      // renamed, so that a writer killed mid-copy never leaves a partial checkpoint.json.
      Path metaStaging = new Path(target, "." + CheckpointIO.META_FILE + ".tmp");
      fs.copyFromLocalFile(false, true, new Path(heldBack.toUri()), metaStaging);
      if (!fs.rename(metaStaging, new Path(target, CheckpointIO.META_FILE))) {
        throw new IOException("Cannot rename " + metaStaging + " in " + target);
      }
      return fs.makeQualified(target);
    } finally {
      if (fs.exists(staging)) {
        fs.delete(staging, true);
      }
      deleteLocal(tmp);
    }
  }

  /** Deletes a local directory tree, quietly. */
  static void deleteLocal(java.nio.file.Path dir) {
    if (dir == null || !Files.exists(dir)) {
      return;
    }
    try (var walk = Files.walk(dir)) {
      walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // temporary files only
    }
  }
}
