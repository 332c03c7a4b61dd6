package org.dtmspark.data.shard;

import java.io.IOException;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileAlreadyExistsException;
import org.apache.hadoop.fs.Path;

/**
 * Writes a reject file ({@link RejectSchema}) with the same commit semantics as {@link
 * ShardWriter}: the final name appears only on {@link #commit()}, {@link #close()} without a commit
 * discards the file. Not thread-safe.
 */
public final class RejectWriter implements AutoCloseable {
  private final ParquetRowWriter<RejectRow> writer;

  private RejectWriter(ParquetRowWriter<RejectRow> writer) {
    this.writer = writer;
  }

  /**
   * Starts a reject file at {@code path}, usually {@link RejectSchema#path(Path)}.
   *
   * @throws FileAlreadyExistsException when {@code path} exists
   */
  public static RejectWriter create(Configuration conf, Path path, ShardWriteOptions options)
      throws IOException {
    return new RejectWriter(ParquetRowWriter.create(conf, path, RejectRowCodec.INSTANCE, options));
  }

  /** Appends {@code row}. */
  public void write(RejectRow row) throws IOException {
    writer.write(row);
  }

  /** Rows written so far. */
  public long rows() {
    return writer.rows();
  }

  /** Finishes the file and gives it its final name. */
  public WrittenShard commit() throws IOException {
    return writer.commit();
  }

  /** Discards the file unless it was committed. */
  @Override
  public void close() throws IOException {
    writer.close();
  }
}
