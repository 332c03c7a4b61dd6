package org.dtmspark.data.plan;

import java.io.Serializable;
import java.util.Locale;

/**
 * One planned shard file.
 *
 * @param split the split of every row in the shard
 * @param index the shard's number within its split, from 0
 * @param fileName the file's path relative to the output root, {@code <split>/part-00000.parquet}
 * @param rows the number of images in the shard, at least 1
 * @param bytes the sum of the images' source sizes
 */
public record ShardSpec(String split, int index, String fileName, int rows, long bytes)
    implements Serializable {
  /** Validates the fields. */
  public ShardSpec {
    if (index < 0) {
      throw new IllegalArgumentException("Shard index must be at least 0, cannot be: " + index);
    }
    if (rows < 1) {
      throw new IllegalArgumentException("Shard rows must be at least 1, cannot be: " + rows);
    }
    if (bytes < 0) {
      throw new IllegalArgumentException("Shard bytes must be at least 0, cannot be: " + bytes);
    }
    if (!fileName.equals(fileName(split, index))) {
      throw new IllegalArgumentException(
          "Shard file name must be " + fileName(split, index) + ", cannot be: " + fileName);
    }
  }

  /** The file name of shard {@code index} of {@code split}: {@code val/part-00003.parquet}. */
  public static String fileName(String split, int index) {
    return String.format(Locale.ROOT, "%s/part-%05d.parquet", split, index);
  }
}
