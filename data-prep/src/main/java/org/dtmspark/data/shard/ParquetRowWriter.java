package org.dtmspark.data.shard;

import java.io.IOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileAlreadyExistsException;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.StreamCapabilities;
import org.apache.parquet.hadoop.ParquetFileWriter;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.hadoop.api.WriteSupport;
import org.apache.parquet.io.OutputFile;
import org.apache.parquet.io.PositionOutputStream;
import org.apache.parquet.io.api.RecordConsumer;
import org.dtmspark.data.shard.ShardWriteOptions.CommitMode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes rows of one type to one Parquet file that gets its final name only on {@link #commit()}
 * (see {@link CommitMode}); {@link #close()} without a commit discards the file. Counts the file's
 * bytes and computes their SHA-256 as they are written.
 *
 * <p>Not thread-safe. Public only so that the other file formats of data-prep reuse it; not an API
 * for users.
 *
 * @param <T> the row type
 */
public final class ParquetRowWriter<T> implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ParquetRowWriter.class);

  /** Filesystems where a block-size hint is worth giving (Parquet's own list). */
  private static final Set<String> BLOCK_FS_SCHEMES = Set.of("hdfs", "webhdfs", "viewfs");

  private static final int BUFFER_SIZE = 1 << 16;

  private enum State {
    OPEN,
    FAILED,
    COMMITTED,
    DISCARDED
  }

  private final RowCodec<T> codec;
  private final FileSystem fs;
  private final Path target;
  private final Path staging;
  private final ParquetWriter<T> writer;
  private DigestStream stream;
  private long rows;
  private State state = State.OPEN;

  private ParquetRowWriter(
      Configuration conf,
      Path file,
      RowCodec<T> codec,
      ShardWriteOptions options,
      Map<String, String> fileMetadata)
      throws IOException {
    for (String key : fileMetadata.keySet()) {
      if (key.equals(codec.versionKey()) || key.equals(codec.contentKey())) {
        throw new IllegalArgumentException(
            "File metadata key must not be one the writer sets itself, cannot be: " + key);
      }
    }
    this.codec = codec;
    this.fs = file.getFileSystem(conf);
    this.target = fs.makeQualified(file);
    if (fs.exists(target)) {
      throw new FileAlreadyExistsException(
          "Cannot write " + target + ": the file already exists (remove the output to rewrite it)");
    }
    this.staging =
        options.commitMode() == CommitMode.RENAME
            ? new Path(
                target.getParent(), "." + target.getName() + ".inprogress-" + UUID.randomUUID())
            : target;
    ParquetWriter<T> built = null;
    try {
      Builder<T> builder =
          new Builder<>(new Output(), new CodecWriteSupport<>(codec, fileMetadata))
              .withConf(conf)
              .withWriteMode(ParquetFileWriter.Mode.CREATE)
              .withCompressionCodec(options.codec())
              .withRowGroupSize(options.rowGroupBytes())
              // Check the buffered size from the first row on: image rows are large, and the
              // default (every 100 rows) overshoots small row groups by up to 100 images.
              .withMinRowCountForPageSizeCheck(1)
              // Min/max statistics of image bytes are useless and large.
              .withStatisticsTruncateLength(64)
              .withDictionaryEncoding(true)
              .withPageWriteChecksumEnabled(true);
      for (String column : codec.noDictionaryColumns()) {
        builder = builder.withDictionaryEncoding(column, false);
      }
      built = builder.build();
    } catch (IOException | RuntimeException e) {
      discardQuietly(e);
      throw e;
    }
    this.writer = built;
  }

  /**
   * Starts a new file at {@code file}.
   *
   * @throws FileAlreadyExistsException when {@code file} exists
   */
  public static <T> ParquetRowWriter<T> create(
      Configuration conf, Path file, RowCodec<T> codec, ShardWriteOptions options)
      throws IOException {
    return new ParquetRowWriter<>(conf, file, codec, options, Map.of());
  }

  /**
   * Starts a new file at {@code file} whose footer also carries {@code fileMetadata} (key-value
   * metadata beside the format version and content, which the writer sets itself).
   *
   * @throws FileAlreadyExistsException when {@code file} exists
   * @throws IllegalArgumentException when a key is the codec's version or content key
   */
  public static <T> ParquetRowWriter<T> create(
      Configuration conf,
      Path file,
      RowCodec<T> codec,
      ShardWriteOptions options,
      Map<String, String> fileMetadata)
      throws IOException {
    return new ParquetRowWriter<>(conf, file, codec, options, Map.copyOf(fileMetadata));
  }

  /** The final path, fully qualified. */
  public Path target() {
    return target;
  }

  /** Rows written so far. */
  public long rows() {
    return rows;
  }

  /**
   * Appends {@code row}.
   *
   * @throws IllegalArgumentException when the row is invalid; nothing is written and the writer
   *     stays usable
   * @throws IOException when writing fails; the writer can then only be closed, which discards the
   *     file
   */
  public void write(T row) throws IOException {
    requireOpen("write to");
    codec.validate(row);
    try {
      writer.write(row);
    } catch (IOException | RuntimeException e) {
      state = State.FAILED;
      throw e;
    }
    rows++;
  }

  /**
   * Finishes the file (footer, close) and gives it its final name.
   *
   * @throws FileAlreadyExistsException when another writer committed the same name meanwhile; this
   *     file is then discarded
   */
  public WrittenShard commit() throws IOException {
    requireOpen("commit");
    try {
      writer.close();
    } catch (IOException | RuntimeException e) {
      discardQuietly(e);
      throw e;
    }
    if (!staging.equals(target)) {
      // A rename onto an existing file replaces it on some filesystems (local): refuse instead.
      if (fs.exists(target)) {
        FileAlreadyExistsException e =
            new FileAlreadyExistsException(
                "Cannot commit " + target + ": the file appeared while it was being written");
        discardQuietly(e);
        throw e;
      }
      if (!fs.rename(staging, target)) {
        IOException e = new IOException("Cannot rename " + staging + " to " + target);
        discardQuietly(e);
        throw e;
      }
    }
    state = State.COMMITTED;
    WrittenShard written =
        new WrittenShard(target.toString(), rows, stream.position, stream.sha256Hex());
    LOG.debug("Committed {}: {} rows, {} bytes", target, rows, written.bytes());
    return written;
  }

  /** Discards the file unless it was committed; does nothing after a commit or a discard. */
  @Override
  public void close() throws IOException {
    if (state == State.OPEN || state == State.FAILED) {
      IOException failure = new IOException("Discarded");
      discardQuietly(failure);
      if (failure.getSuppressed().length > 0) {
        IOException e = new IOException("Cannot fully discard " + staging);
        for (Throwable t : failure.getSuppressed()) {
          e.addSuppressed(t);
        }
        throw e;
      }
    }
  }

  private void requireOpen(String action) {
    if (state != State.OPEN) {
      throw new IllegalStateException(
          "Cannot "
              + action
              + " "
              + target
              + ": the writer is "
              + state.name().toLowerCase(Locale.ROOT));
    }
  }

  /**
   * Drops everything written: aborts the upload where the stream supports it, otherwise closes the
   * stream and deletes the file. Failures are added to {@code cause} as suppressed exceptions.
   */
  private void discardQuietly(Throwable cause) {
    state = State.DISCARDED;
    boolean aborted = false;
    if (stream != null) {
      try {
        aborted = stream.discard();
      } catch (IOException | RuntimeException e) {
        cause.addSuppressed(e);
      }
    }
    if (!aborted) {
      try {
        if (fs.exists(staging)) {
          fs.delete(staging, false);
        }
      } catch (IOException | RuntimeException e) {
        cause.addSuppressed(e);
      }
    }
    LOG.debug("Discarded {}", staging);
  }

  /** Where Parquet writes: the staging path, through a {@link DigestStream}. */
  private final class Output implements OutputFile {
    @Override
    public PositionOutputStream create(long blockSizeHint) throws IOException {
      return open(false, blockSizeHint);
    }

    @Override
    public PositionOutputStream createOrOverwrite(long blockSizeHint) throws IOException {
      return open(true, blockSizeHint);
    }

    private PositionOutputStream open(boolean overwrite, long blockSizeHint) throws IOException {
      long blockSize = Math.max(fs.getDefaultBlockSize(staging), blockSizeHint);
      FSDataOutputStream out =
          fs.create(staging, overwrite, BUFFER_SIZE, fs.getDefaultReplication(staging), blockSize);
      stream = new DigestStream(out);
      return stream;
    }

    @Override
    public boolean supportsBlockSize() {
      return BLOCK_FS_SCHEMES.contains(fs.getUri().getScheme());
    }

    @Override
    public long defaultBlockSize() {
      return fs.getDefaultBlockSize(staging);
    }

    @Override
    public String getPath() {
      return staging.toString();
    }
  }

  /** Counts and hashes the bytes on their way to the filesystem; can drop everything. */
  private static final class DigestStream extends PositionOutputStream {
    private final FSDataOutputStream out;
    private final MessageDigest sha256;
    private long position;
    private boolean closed;

    DigestStream(FSDataOutputStream out) {
      this.out = out;
      try {
        this.sha256 = MessageDigest.getInstance("SHA-256");
      } catch (NoSuchAlgorithmException e) {
        throw new IllegalStateException("SHA-256 is missing from this JVM", e);
      }
    }

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
      if (!closed) {
        closed = true;
        out.close();
      }
    }

    String sha256Hex() {
      return HexFormat.of().formatHex(sha256.digest());
    }

    /**
     * Ends the stream without completing it: aborts it when it can be aborted (an S3A upload that
     * then never appears) and returns true; otherwise closes it and returns false.
     */
    boolean discard() throws IOException {
      if (closed) {
        return false;
      }
      closed = true;
      if (out.hasCapability(StreamCapabilities.ABORTABLE_STREAM)) {
        out.abort();
        return true;
      }
      out.close();
      return false;
    }
  }

  private static final class Builder<T> extends ParquetWriter.Builder<T, Builder<T>> {
    private final WriteSupport<T> support;

    Builder(OutputFile file, WriteSupport<T> support) {
      super(file);
      this.support = support;
    }

    @Override
    protected Builder<T> self() {
      return this;
    }

    @Override
    protected WriteSupport<T> getWriteSupport(Configuration conf) {
      return support;
    }
  }

  /** Writes one message per row through the codec and stamps the format version and content. */
  private static final class CodecWriteSupport<T> extends WriteSupport<T> {
    private final RowCodec<T> codec;
    private final Map<String, String> fileMetadata;
    private RecordConsumer consumer;

    CodecWriteSupport(RowCodec<T> codec, Map<String, String> fileMetadata) {
      this.codec = codec;
      this.fileMetadata = fileMetadata;
    }

    @Override
    public String getName() {
      return "dtm-spark";
    }

    @Override
    public WriteContext init(Configuration configuration) {
      Map<String, String> metadata = new TreeMap<>(fileMetadata);
      metadata.put(codec.versionKey(), Integer.toString(codec.formatVersion()));
      metadata.put(codec.contentKey(), codec.content());
      return new WriteContext(codec.schema(), metadata);
    }

    @Override
    public void prepareForWrite(RecordConsumer recordConsumer) {
      this.consumer = recordConsumer;
    }

    @Override
    public void write(T row) {
      consumer.startMessage();
      codec.write(row, consumer);
      consumer.endMessage();
    }
  }
}
