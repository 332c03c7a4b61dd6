package org.dtmspark.data.shard;

/**
 * One row group of a Parquet file: the unit by which the training job splits its reading.
 *
 * @param index position in the file, 0-based
 * @param firstRow index within the file of the group's first row
 * @param rows number of rows
 * @param bytes compressed size of the group's column chunks in the file
 */
public record RowGroupInfo(int index, long firstRow, long rows, long bytes) {
  public RowGroupInfo {
    if (index < 0 || firstRow < 0 || rows < 0 || bytes < 0) {
      throw new IllegalArgumentException(
          "Row group index, first row, rows and bytes must be at least 0, cannot be: "
              + index
              + ", "
              + firstRow
              + ", "
              + rows
              + ", "
              + bytes);
    }
  }
}
