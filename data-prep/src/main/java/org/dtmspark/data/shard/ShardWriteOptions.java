package org.dtmspark.data.shard;

import java.io.Serializable;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;

/**
 * How {@link ShardWriter} and {@link RejectWriter} write a Parquet file.
 *
 * @param rowGroupBytes target size of a row group in bytes (buffered, before compression), at least
 *     {@value #MIN_ROW_GROUP_BYTES}; a row group is the unit of work the training job splits by and
 *     the most a reader holds in memory at once
 * @param codec page compression: one of {@link #SUPPORTED_CODECS}. Image bytes (JPEG, PNG) barely
 *     compress; the codec matters for the small columns
 * @param commitMode how the file gets its final name
 */
public record ShardWriteOptions(
    long rowGroupBytes, CompressionCodecName codec, CommitMode commitMode) implements Serializable {
  /** Smallest accepted row-group size. */
  public static final long MIN_ROW_GROUP_BYTES = 1024;

  /** Default row-group size: 64 MiB. */
  public static final long DEFAULT_ROW_GROUP_BYTES = 64L << 20;

  /** Codecs whose implementation is on the classpath wherever Spark 3.5 runs. */
  public static final Set<CompressionCodecName> SUPPORTED_CODECS =
      EnumSet.of(
          CompressionCodecName.UNCOMPRESSED,
          CompressionCodecName.SNAPPY,
          CompressionCodecName.GZIP,
          CompressionCodecName.ZSTD,
          CompressionCodecName.LZ4_RAW);

  /** 64 MiB row groups, Snappy, staged and renamed. */
  public static final ShardWriteOptions DEFAULTS =
      new ShardWriteOptions(
          DEFAULT_ROW_GROUP_BYTES, CompressionCodecName.SNAPPY, CommitMode.RENAME);

  /** How a written file gets its final name, so that no partial file ever carries it. */
  public enum CommitMode {
    /**
     * Write a hidden sibling ({@code .part-00000.parquet.inprogress-<uuid>}), rename it to the
     * final name on commit, delete it on abort. Atomic on HDFS and local disk. On S3A a rename is a
     * copy of every byte plus a delete: correct (readers skip hidden names) but slow; use {@link
     * #DIRECT} there.
     */
    RENAME,
    /**
     * Write the final name directly. Meant for object stores: an S3A object becomes visible only
     * when its upload completes on commit, and abort cancels the upload (the stream is {@code
     * Abortable}). On filesystems without that capability (local, HDFS) the partial file is visible
     * while writing and is deleted on abort; a killed process can leave it behind, so use {@link
     * #RENAME} there. Either way a shard directory is complete only once its {@code _manifest.json}
     * exists, which the sharding job writes last.
     */
    DIRECT
  }

  public ShardWriteOptions {
    if (rowGroupBytes < MIN_ROW_GROUP_BYTES) {
      throw new IllegalArgumentException(
          "Row-group size must be at least "
              + MIN_ROW_GROUP_BYTES
              + " bytes, cannot be: "
              + rowGroupBytes);
    }
    if (codec == null || !SUPPORTED_CODECS.contains(codec)) {
      throw new IllegalArgumentException(
          "Compression codec must be one of " + SUPPORTED_CODECS + ", cannot be: " + codec);
    }
    if (commitMode == null) {
      throw new IllegalArgumentException("Commit mode must be RENAME or DIRECT, cannot be: null");
    }
  }

  /** These options with another row-group size. */
  public ShardWriteOptions withRowGroupBytes(long bytes) {
    return new ShardWriteOptions(bytes, codec, commitMode);
  }

  /** These options with another codec. */
  public ShardWriteOptions withCodec(CompressionCodecName name) {
    return new ShardWriteOptions(rowGroupBytes, name, commitMode);
  }

  /** These options with another commit mode. */
  public ShardWriteOptions withCommitMode(CommitMode mode) {
    return new ShardWriteOptions(rowGroupBytes, codec, mode);
  }

  /**
   * Parses a codec name as given on the command line, case-insensitively: {@code none} or {@code
   * uncompressed}, {@code snappy}, {@code gzip}, {@code zstd}, {@code lz4_raw}.
   */
  public static CompressionCodecName parseCodec(String name) {
    String upper = name == null ? "" : name.trim().toUpperCase(Locale.ROOT);
    if (upper.equals("NONE")) {
      return CompressionCodecName.UNCOMPRESSED;
    }
    for (CompressionCodecName codec : SUPPORTED_CODECS) {
      if (codec.name().equals(upper)) {
        return codec;
      }
    }
    throw new IllegalArgumentException(
        "Compression codec must be one of none, uncompressed, snappy, gzip, zstd, lz4_raw,"
            + " cannot be: "
            + name);
  }
}
