package org.dtmspark.data.shard;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.SplittableRandom;
import javax.imageio.ImageIO;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;

/** Deterministic rows, images and paths for the shard tests. */
final class ShardFixtures {
  static final List<String> SYNSETS = List.of("n01440764", "n01443537", "n01484850");

  private ShardFixtures() {}

  static Configuration conf() {
    return new Configuration();
  }

  static Path hadoopPath(java.nio.file.Path path) {
    return new Path(path.toUri());
  }

  /**
   * {@code n} rows with random image bytes of about {@code imageBytes} each (0.5x to 1.5x); {@code
   * source} is null in every other row and {@code reencoded} set in every third.
   */
  static List<ImageRow> randomRows(int n, int imageBytes, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    List<ImageRow> rows = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      byte[] image = new byte[imageBytes / 2 + random.nextInt(imageBytes + 1)];
      random.nextBytes(image);
      int label = random.nextInt(SYNSETS.size());
      String key = SYNSETS.get(label) + "_" + (1000 + i);
      rows.add(
          new ImageRow(
              i,
              key,
              "train",
              label,
              SYNSETS.get(label),
              image,
              i % 2 == 0 ? "jpeg" : "png",
              1 + random.nextInt(500),
              1 + random.nextInt(500),
              sha256Hex(image),
              i % 2 == 0 ? null : "train/" + SYNSETS.get(label) + "/" + key + ".JPEG",
              i % 3 == 0 ? "cmyk jpeg" : null));
    }
    return rows;
  }

  static String sha256Hex(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A {@code width x height} RGB image whose pixels depend on position and {@code seed}. */
  static BufferedImage pattern(int width, int height, int seed) {
    BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < height; y++) {
      for (int x = 0; x < width; x++) {
        int r = (37 * seed + 11 * x) & 0xff;
        int g = (53 * seed + 17 * y) & 0xff;
        int b = (29 * seed + 7 * x * y) & 0xff;
        image.setRGB(x, y, (r << 16) | (g << 8) | b);
      }
    }
    return image;
  }

  static byte[] png(BufferedImage image) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      if (!ImageIO.write(image, "png", out)) {
        throw new IllegalStateException("No PNG writer");
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  /** A row holding {@code image} as PNG bytes. */
  static ImageRow pngRow(long imageId, String split, int label, BufferedImage image) {
    byte[] bytes = png(image);
    String wnid = SYNSETS.get(label);
    return new ImageRow(
        imageId,
        wnid + "_" + imageId,
        split,
        label,
        wnid,
        bytes,
        "png",
        image.getWidth(),
        image.getHeight(),
        sha256Hex(bytes),
        split + "/" + wnid + "/" + wnid + "_" + imageId + ".png",
        null);
  }

  static List<ImageRow> readAll(Configuration conf, Path path, ShardReadOptions options)
      throws IOException {
    try (ShardReader reader = ShardReader.open(conf, path, options)) {
      List<ImageRow> rows = new ArrayList<>();
      reader.forEachRemaining(rows::add);
      return rows;
    }
  }

  static WrittenShard write(
      Configuration conf, Path path, ShardWriteOptions options, List<ImageRow> rows)
      throws IOException {
    try (ShardWriter writer = ShardWriter.create(conf, path, options)) {
      for (ImageRow row : rows) {
        writer.write(row);
      }
      return writer.commit();
    }
  }
}
