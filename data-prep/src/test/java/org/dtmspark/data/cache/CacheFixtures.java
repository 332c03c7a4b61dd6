package org.dtmspark.data.cache;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import javax.imageio.ImageIO;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.dtmspark.data.shard.ImageRow;
import org.dtmspark.data.shard.ImageShardSchema;
import org.dtmspark.data.shard.Manifest;
import org.dtmspark.data.shard.ShardWriteOptions;
import org.dtmspark.data.shard.ShardWriter;
import org.dtmspark.data.shard.WrittenShard;

/** Small image shard sets for the cache tests here and the targets job tests of spark-jobs. */
public final class CacheFixtures {
  public static final List<String> SYNSETS = List.of("n01", "n02");

  private CacheFixtures() {}

  /** Width of image {@code id}: sizes vary, so that views differ in shape. */
  public static int width(long id) {
    return 12 + (int) (id % 5);
  }

  public static int height(long id) {
    return 9 + (int) (id % 3);
  }

  /**
   * Writes split {@code split} of an image shard set under {@code root}: shard {@code s} holds
   * {@code shardSizes[s]} PNG images with consecutive ids from 0; an id in {@code corrupt} gets
   * bytes no decoder reads. Writes the manifest.
   */
  public static void writeImages(
      Configuration conf, Path root, String split, int[] shardSizes, Set<Long> corrupt)
      throws IOException {
    List<Manifest.ShardEntry> shards = new ArrayList<>();
    Map<String, Long> classes = new TreeMap<>();
    long id = 0;
    for (int s = 0; s < shardSizes.length; s++) {
      String relative = split + "/" + ImageShardSchema.shardFileName(s);
      try (ShardWriter writer =
          ShardWriter.create(conf, new Path(root, relative), ShardWriteOptions.DEFAULTS)) {
        for (int i = 0; i < shardSizes[s]; i++, id++) {
          int label = (int) (id % SYNSETS.size());
          byte[] bytes =
              corrupt.contains(id)
                  ? "not an image at all".getBytes(StandardCharsets.UTF_8)
                  : png(width(id), height(id), id);
          writer.write(
              new ImageRow(
                  id,
                  "img_" + id,
                  split,
                  label,
                  SYNSETS.get(label),
                  bytes,
                  "png",
                  width(id),
                  height(id),
                  sha256(bytes),
                  null,
                  null));
          classes.merge(SYNSETS.get(label), 1L, Long::sum);
        }
        WrittenShard written = writer.commit();
        shards.add(Manifest.ShardEntry.of(relative, split, written));
      }
    }
    new Manifest(
            1,
            "test",
            "0",
            "2026-01-01T00:00:00Z",
            Map.of(split, new Manifest.SplitSummary(id, classes)),
            shards,
            SYNSETS,
            Manifest.synsetsSha256(SYNSETS),
            Manifest.RejectSummary.NONE,
            List.of(),
            Map.of(),
            id)
        .write(conf, root);
  }

  public static byte[] png(int width, int height, long seed) throws IOException {
    BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < height; y++) {
      for (int x = 0; x < width; x++) {
        int r = (int) ((37 * seed + 11 * x) & 0xff);
        int g = (int) ((53 * seed + 17 * y) & 0xff);
        int b = (int) ((29 * seed + 7L * x * y) & 0xff);
        image.setRGB(x, y, (r << 16) | (g << 8) | b);
      }
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ImageIO.write(image, "png", out);
    return out.toByteArray();
  }

  public static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
