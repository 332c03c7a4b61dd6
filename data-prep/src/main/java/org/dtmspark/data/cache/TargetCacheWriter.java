package org.dtmspark.data.cache;

import java.io.IOException;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileAlreadyExistsException;
import org.apache.hadoop.fs.Path;
import org.dtmspark.data.shard.ParquetRowWriter;
import org.dtmspark.data.shard.ShardWriteOptions;
import org.dtmspark.data.shard.WrittenShard;

/**
 * Writes one target-cache file ({@link TargetCacheSchema}) to any Hadoop filesystem, with the
 * commit semantics of the image shards: the file gets its final name only on {@link #commit()};
 * {@link #close()} without a commit discards it, so a failed or interrupted writer leaves no file
 * under the final name (see {@link ShardWriteOptions.CommitMode}).
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
 * <p>Memory: one row group (about {@link ShardWriteOptions#rowGroupBytes()}) is buffered. Not
 * thread-safe.
 */
public final class TargetCacheWriter implements AutoCloseable {
  private final ParquetRowWriter<TargetRow> writer;

  private TargetCacheWriter(ParquetRowWriter<TargetRow> writer) {
    this.writer = writer;
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
    return new TargetCacheWriter(
        ParquetRowWriter.create(conf, path, TargetRowCodec.INSTANCE, options));
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
        ParquetRowWriter.create(
            conf,
            path,
            TargetRowCodec.INSTANCE,
            options,
            Map.of(TargetCacheSettings.FILE_METADATA_KEY, settings.toJson())));
  }

  /**
   * Appends {@code row}, storing its token bytes as given.
   *
   * @throws IllegalArgumentException when the row has no tokens; the writer stays usable
   * @throws IOException when writing fails; the writer can then only be closed
   */
  public void write(TargetRow row) throws IOException {
    writer.write(row);
  }

  /** Rows written so far. */
  public long rows() {
    return writer.rows();
  }

  /** The final path of the file, fully qualified. */
  public Path path() {
    return writer.target();
  }

  /**
   * Finishes the file and gives it its final name.
   *
   * @return the committed file: path, rows, size and SHA-256 of its bytes
   * @throws IllegalStateException after a failed write, a commit or a close
   */
  public WrittenShard commit() throws IOException {
    return writer.commit();
  }

  /** Discards the file unless it was committed. */
  @Override
  public void close() throws IOException {
    writer.close();
  }
}
