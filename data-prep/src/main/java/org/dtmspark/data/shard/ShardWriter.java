package org.dtmspark.data.shard;

import java.io.IOException;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileAlreadyExistsException;
import org.apache.hadoop.fs.Path;

/**
 * Writes one image shard ({@link ImageShardSchema}) to any Hadoop filesystem.
 *
 * <p>The file gets its final name only on {@link #commit()}; {@link #close()} without a commit
 * discards it, so a failed or interrupted writer leaves no file under the final name (see {@link
 * ShardWriteOptions.CommitMode} for how, per filesystem). Use it as
 *
 * <pre>{@code
 * try (ShardWriter writer = ShardWriter.create(conf, path, ShardWriteOptions.DEFAULTS)) {
 *   for (ImageRow row : rows) {
 *     writer.write(row);
 *   }
 *   WrittenShard shard = writer.commit();
 * }
 * }</pre>
 *
 * <p>Memory: one row group (about {@link ShardWriteOptions#rowGroupBytes()}) is buffered. Not
 * thread-safe.
 */
public final class ShardWriter implements AutoCloseable {
  private final ParquetRowWriter<ImageRow> writer;

  private ShardWriter(ParquetRowWriter<ImageRow> writer) {
    this.writer = writer;
  }

  /**
   * Starts a shard at {@code path} (which must not exist; missing parent directories are created).
   *
   * @throws FileAlreadyExistsException when {@code path} exists
   */
  public static ShardWriter create(Configuration conf, Path path, ShardWriteOptions options)
      throws IOException {
    return new ShardWriter(ParquetRowWriter.create(conf, path, ImageRowCodec.INSTANCE, options));
  }

  /**
   * Appends {@code row}, storing its image bytes as given.
   *
   * @throws IllegalArgumentException when the row has no image bytes; the writer stays usable
   * @throws IOException when writing fails; the writer can then only be closed
   */
  public void write(ImageRow row) throws IOException {
    writer.write(row);
  }

  /** Rows written so far. */
  public long rows() {
    return writer.rows();
  }

  /** The final path of the shard, fully qualified. */
  public Path path() {
    return writer.target();
  }

  /**
   * Finishes the shard and gives it its final name.
   *
   * @return the committed file: path, rows, size and SHA-256 of its bytes
   * @throws IllegalStateException after a failed write, a commit or a close
   */
  public WrittenShard commit() throws IOException {
    return writer.commit();
  }

  /** Discards the shard unless it was committed. */
  @Override
  public void close() throws IOException {
    writer.close();
  }
}
