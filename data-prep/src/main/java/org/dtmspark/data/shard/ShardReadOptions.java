package org.dtmspark.data.shard;

import java.util.List;

/**
 * What {@link ShardReader} reads of a shard.
 *
 * @param rowGroups indices of the row groups to read, in this order (distinct, in range); null for
 *     every row group in file order
 * @param includeImage whether to read the {@code image} column; without it rows have a null image
 *     and only the small columns are read from storage
 */
public record ShardReadOptions(List<Integer> rowGroups, boolean includeImage) {
  /** Every row group, every column. */
  public static final ShardReadOptions ALL = new ShardReadOptions(null, true);

  public ShardReadOptions {
    rowGroups = rowGroups == null ? null : List.copyOf(rowGroups);
  }

  /** These options reading only {@code groups}. */
  public ShardReadOptions withRowGroups(List<Integer> groups) {
    if (groups == null) {
      throw new IllegalArgumentException("Row groups must be a list, cannot be: null");
    }
    return new ShardReadOptions(groups, includeImage);
  }

  /** These options without the image bytes. */
  public ShardReadOptions withoutImage() {
    return new ShardReadOptions(rowGroups, false);
  }
}
