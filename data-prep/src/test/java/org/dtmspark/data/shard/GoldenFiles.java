package org.dtmspark.data.shard;

import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.dtmspark.data.shard.Manifest.RejectSummary;
import org.dtmspark.data.shard.Manifest.ShardEntry;
import org.dtmspark.data.shard.Manifest.Skipped;
import org.dtmspark.data.shard.Manifest.SplitSummary;

/**
 * Writes the committed golden output of format version 1 (test resources {@code
 * org/dtmspark/data/shard/golden-v1}): two train shards, one val shard, a reject file and the
 * manifest. Run once when the format was made; {@link GoldenFilesTest} reads what it wrote:
 *
 * <pre>
 * java -cp data-prep/target/test-classes:data-prep/target/classes:$(deps) \
 *   org.dtmspark.data.shard.GoldenFiles \
 *   data-prep/src/test/resources/org/dtmspark/data/shard/golden-v1
 * </pre>
 */
final class GoldenFiles {
  /** Train images: {@code (imageId, label, pattern seed)} per shard. */
  static final int[][][] TRAIN = {{{0, 0, 1}, {3, 2, 2}}, {{1, 1, 3}}};

  static final int[][][] VAL = {{{2, 1, 4}, {4, 0, 5}}};

  static final List<RejectRow> REJECTS =
      List.of(
          new RejectRow("val/n01440764/ILSVRC2012_val_00000007.JPEG", "val", "truncated"),
          new RejectRow("val/ILSVRC2012_val_00000009.JPEG", "val", "unknown wnid"));

  static final List<Skipped> SKIPPED =
      List.of(new Skipped("train/n01440764/.DS_Store", "hidden file"));

  private GoldenFiles() {}

  public static void main(String[] args) throws IOException {
    write(java.nio.file.Path.of(args[0]));
  }

  static void write(java.nio.file.Path out) throws IOException {
    Configuration conf = ShardFixtures.conf();
    Path root = ShardFixtures.hadoopPath(out);
    List<ShardEntry> shards = new ArrayList<>();
    Map<String, SplitSummary> splits = new LinkedHashMap<>();
    splits.put("train", writeSplit(conf, root, "train", TRAIN, shards));
    splits.put("val", writeSplit(conf, root, "val", VAL, shards));
    try (RejectWriter writer =
        RejectWriter.create(conf, RejectSchema.path(root), ShardWriteOptions.DEFAULTS)) {
      for (RejectRow row : REJECTS) {
        writer.write(row);
      }
      writer.commit();
    }
    Map<String, Object> options = new LinkedHashMap<>();
    options.put("layout", "imagefolder");
    options.put("shards_per_split", 2);
    options.put("row_group_bytes", 67108864);
    options.put("compression", "snappy");
    options.put("shuffle_seed", 42);
    options.put("resize_shorter_side", null);
    Manifest manifest =
        new Manifest(
            Manifest.FORMAT_VERSION,
            "dtm-spark shard",
            "0.1.0-SNAPSHOT",
            "2026-01-15T12:00:00Z",
            splits,
            shards,
            ShardFixtures.SYNSETS,
            Manifest.synsetsSha256(ShardFixtures.SYNSETS),
            new RejectSummary(2, Map.of("truncated", 1L, "unknown wnid", 1L)),
            SKIPPED,
            options,
            8);
    manifest.write(conf, root);
    try (Stream<java.nio.file.Path> files = Files.walk(out)) {
      for (java.nio.file.Path crc : files.filter(p -> p.toString().endsWith(".crc")).toList()) {
        Files.delete(crc);
      }
    }
  }

  private static SplitSummary writeSplit(
      Configuration conf, Path root, String split, int[][][] images, List<ShardEntry> shards)
      throws IOException {
    Map<String, Long> classes = new TreeMap<>();
    long count = 0;
    for (int s = 0; s < images.length; s++) {
      List<ImageRow> rows = new ArrayList<>();
      for (int[] image : images[s]) {
        rows.add(
            ShardFixtures.pngRow(image[0], split, image[1], ShardFixtures.pattern(4, 3, image[2])));
        classes.merge(ShardFixtures.SYNSETS.get(image[1]), 1L, Long::sum);
        count++;
      }
      String relative = split + "/" + ImageShardSchema.shardFileName(s);
      WrittenShard written =
          ShardFixtures.write(conf, new Path(root, relative), ShardWriteOptions.DEFAULTS, rows);
      shards.add(ShardEntry.of(relative, split, written));
    }
    return new SplitSummary(count, classes);
  }
}
