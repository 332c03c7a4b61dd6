package org.dtmspark.data.cache;

import java.io.IOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.StringJoiner;
import java.util.TreeMap;
import java.util.UUID;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileAlreadyExistsException;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.hadoop.ParquetFileWriter;
import org.apache.parquet.hadoop.util.HadoopInputFile;
import org.apache.parquet.io.OutputFile;
import org.apache.parquet.io.PositionOutputStream;
import org.dtmspark.data.shard.ParquetRowWriter;
import org.dtmspark.data.shard.ShardWriteOptions;
import org.dtmspark.data.shard.WrittenShard;

/**
 * Writes one target-cache file ({@link TargetCacheSchema}) in the layout by view, to any Hadoop
 * filesystem, with the commit semantics of the image shards: the file gets its final name only on
 * {@link #commit()}; {@link #close()} without a commit discards it, so a failed or interrupted
 * writer leaves no file under the final name (see {@link ShardWriteOptions.CommitMode}).
 *
 * <p>Rows may come in any interleaving of views (the targets job writes an image's views together);
 * the rows of each view must come in image order. Each view goes to its own part file in a hidden
 * sibling directory {@code .<name>.views-<uuid>}; {@link #commit()} copies the parts' row groups,
 * view after view (0..K-1, then the full view), into the final file without decoding them, records
 * which row groups hold which view ({@value TargetCacheSchema#VIEW_GROUPS_KEY}), and deletes the
 * parts.
 *
 * <pre>{@code
 * try (TargetCacheWriter writer =
 *     TargetCacheWriter.create(conf, path, ShardWriteOptions.DEFAULTS)) {
 *   for (TargetRow row : rows) {
 *     writer.write(row);
 *   }
 *   WrittenShard file = writer.commit();
 * }
 * }</pre>
 *
 * <p>Memory: one row group (about {@link ShardWriteOptions#rowGroupBytes()}) per view is buffered.
 * Storage: the parts take as much room as the file until the commit. Not thread-safe.
 */
public final class TargetCacheWriter implements AutoCloseable {
  private final Configuration conf;
  private final FileSystem fs;
  private final Path target;
  private final Path partsDir;
  private final ShardWriteOptions options;
  private final Map<String, String> fileMetadata;
  // Part writers by file order: views 0..K-1 ascending, then the full view.
  private final TreeMap<Integer, ParquetRowWriter<TargetRow>> parts = new TreeMap<>();
  private long rows;
  private boolean finished;

  private TargetCacheWriter(
      Configuration conf, Path path, ShardWriteOptions options, Map<String, String> fileMetadata)
      throws IOException {
    this.conf = conf;
    this.fs = path.getFileSystem(conf);
    this.target = fs.makeQualified(path);
    if (fs.exists(target)) {
      throw new FileAlreadyExistsException(
          "Cannot write " + target + ": the file already exists (remove the output to rewrite it)");
    }
    this.partsDir =
        new Path(target.getParent(), "." + target.getName() + ".views-" + UUID.randomUUID());
    this.options = options;
    this.fileMetadata = Map.copyOf(fileMetadata);
  }

  /**
   * Starts a cache file at {@code path}, usually {@code <out>/}{@link
   * TargetCacheSchema#fileName(int)} (which must not exist; missing parent directories are
   * created).
   *
   * @throws FileAlreadyExistsException when {@code path} exists
   */
  public static TargetCacheWriter create(Configuration conf, Path path, ShardWriteOptions options)
      throws IOException {
    return new TargetCacheWriter(conf, path, options, Map.of());
  }

  /**
   * Starts a cache file at {@code path} that records {@code settings} in its Parquet key-value
   * metadata ({@value TargetCacheSettings#FILE_METADATA_KEY}); the targets job writes every file
   * this way, so that a resumed run can check what a file left by an earlier run holds.
   *
   * @throws FileAlreadyExistsException when {@code path} exists
   */
  public static TargetCacheWriter create(
      Configuration conf, Path path, ShardWriteOptions options, TargetCacheSettings settings)
      throws IOException {
    return new TargetCacheWriter(
        conf, path, options, Map.of(TargetCacheSettings.FILE_METADATA_KEY, settings.toJson()));
  }

  /**
   * Appends {@code row} to the rows of its view, storing its token bytes as given.
   *
   * @throws IllegalArgumentException when the row has no tokens; the writer stays usable
   * @throws IOException when writing fails; the writer can then only be closed
   */
  public void write(TargetRow row) throws IOException {
    if (finished) {
      throw new IllegalStateException("Cannot write to " + target + ": the writer is finished");
    }
    int order = fileOrder(row.view());
    ParquetRowWriter<TargetRow> part = parts.get(order);
    if (part == null) {
      part =
          ParquetRowWriter.create(
              conf,
              new Path(partsDir, "view" + row.view() + ".parquet"),
              TargetRowCodec.INSTANCE,
              options.withCommitMode(ShardWriteOptions.CommitMode.DIRECT));
      parts.put(order, part);
    }
    part.write(row);
    rows++;
  }

  private static int fileOrder(int view) {
    return view == TargetCacheSchema.FULL_VIEW ? Integer.MAX_VALUE : view;
  }

  /** Rows written so far. */
  public long rows() {
    return rows;
  }

  /** The final path of the file, fully qualified. */
  public Path path() {
    return target;
  }

  /**
   * Finishes the file and gives it its final name.
   *
   * @return the committed file: path, rows, size and SHA-256 of its bytes
   * @throws IllegalStateException after a failed write, a commit or a close
   */
  public WrittenShard commit() throws IOException {
    if (finished) {
      throw new IllegalStateException("Cannot commit " + target + ": the writer is finished");
    }
    finished = true;
    Path staging =
        options.commitMode() == ShardWriteOptions.CommitMode.RENAME
            ? new Path(
                target.getParent(), "." + target.getName() + ".inprogress-" + UUID.randomUUID())
            : target;
    DigestOutput out = new DigestOutput(fs, staging);
    try {
      StringJoiner groups = new StringJoiner(";");
      ParquetFileWriter writer =
          new ParquetFileWriter(
              out,
              TargetCacheSchema.SCHEMA,
              ParquetFileWriter.Mode.CREATE,
              options.rowGroupBytes(),
              0);
      writer.start();
      int group = 0;
      for (Map.Entry<Integer, ParquetRowWriter<TargetRow>> part : parts.entrySet()) {
        Path file = new Path(part.getValue().commit().path());
        var infos = TargetCacheReader.rowGroups(conf, file);
        int view = part.getKey() == Integer.MAX_VALUE ? TargetCacheSchema.FULL_VIEW : part.getKey();
        groups.add(view + ":" + group + ":" + infos.size());
        group += infos.size();
        writer.appendFile(HadoopInputFile.fromPath(file, conf));
      }
      Map<String, String> metadata = new TreeMap<>(fileMetadata);
      metadata.put(
          TargetCacheSchema.VERSION_KEY, Integer.toString(TargetCacheSchema.FORMAT_VERSION));
      metadata.put(TargetCacheSchema.CONTENT_KEY, TargetCacheSchema.CONTENT_TARGETS);
      metadata.put(TargetCacheSchema.VIEW_GROUPS_KEY, groups.toString());
      writer.end(metadata);
      if (!staging.equals(target)) {
        if (fs.exists(target)) {
          throw new FileAlreadyExistsException(
              "Cannot commit " + target + ": the file appeared while it was being written");
        }
        if (!fs.rename(staging, target)) {
          throw new IOException("Cannot rename " + staging + " to " + target);
        }
      }
    } catch (IOException | RuntimeException e) {
      try {
        fs.delete(staging, false);
      } catch (IOException | RuntimeException suppressed) {
        e.addSuppressed(suppressed);
      }
      throw e;
    } finally {
      deleteParts();
    }
    return new WrittenShard(target.toString(), rows, out.position(), out.sha256Hex());
  }

  /** Discards the file unless it was committed; does nothing after a commit or a discard. */
  @Override
  public void close() throws IOException {
    if (!finished) {
      finished = true;
      deleteParts();
    }
  }

  private void deleteParts() throws IOException {
    IOException failure = null;
    for (ParquetRowWriter<TargetRow> part : parts.values()) {
      try {
        part.close();
      } catch (IOException e) {
        failure = failure == null ? e : failure;
      }
    }
    parts.clear();
    if (fs.exists(partsDir)) {
      fs.delete(partsDir, true);
    }
    if (failure != null) {
      throw failure;
    }
  }

  /** The final file's output: counts and hashes the bytes on their way to the filesystem. */
  private static final class DigestOutput implements OutputFile {
    private final FileSystem fs;
    private final Path path;
    private final MessageDigest sha256;
    private long position;

    DigestOutput(FileSystem fs, Path path) {
      this.fs = fs;
      this.path = path;
      try {
        this.sha256 = MessageDigest.getInstance("SHA-256");
      } catch (NoSuchAlgorithmException e) {
        throw new IllegalStateException("SHA-256 is missing from this JVM", e);
      }
    }

    long position() {
      return position;
    }

    String sha256Hex() {
      return HexFormat.of().formatHex(sha256.digest());
    }

    @Override
    public PositionOutputStream create(long blockSizeHint) throws IOException {
      return open(false);
    }

    @Override
    public PositionOutputStream createOrOverwrite(long blockSizeHint) throws IOException {
      return open(true);
    }

    private PositionOutputStream open(boolean overwrite) throws IOException {
      FSDataOutputStream out = fs.create(path, overwrite);
      return new PositionOutputStream() {
        @Override
        public long getPos() {
          return position;
        }

        @Override
        public void write(int b) throws IOException {
          out.write(b);
          sha256.update((byte) b);
          position++;
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
          out.write(b, off, len);
          sha256.update(b, off, len);
          position += len;
        }

        @Override
        public void flush() throws IOException {
          out.flush();
        }

        @Override
        public void close() throws IOException {
          out.close();
        }
      };
    }

    @Override
    public boolean supportsBlockSize() {
      return false;
    }

    @Override
    public long defaultBlockSize() {
      return fs.getDefaultBlockSize(path);
    }

    @Override
    public String getPath() {
      return path.toString();
    }
  }
}
