package org.dtmspark.data.shard;

import java.io.IOException;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;

/**
 * Measures local write and read throughput of a shard of 1,000 rows with 10 KB random (so
 * incompressible, like JPEG) images; prints the median of 7 runs after 3 warm-up runs. Not a test:
 * run by hand with the test classpath, arguments {@code [rows] [imageBytes]}.
 */
final class ShardThroughput {
  private ShardThroughput() {}

  public static void main(String[] args) throws IOException {
    int rows = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
    int imageBytes = args.length > 1 ? Integer.parseInt(args[1]) : 10_000;
    Configuration conf = ShardFixtures.conf();
    List<ImageRow> data = fixedSizeRows(rows, imageBytes);
    long payload = data.stream().mapToLong(r -> r.image().length).sum();
    java.nio.file.Path dir = Files.createTempDirectory("shard-throughput");
    for (CompressionCodecName codec :
        List.of(
            CompressionCodecName.UNCOMPRESSED,
            CompressionCodecName.SNAPPY,
            CompressionCodecName.ZSTD)) {
      ShardWriteOptions options = ShardWriteOptions.DEFAULTS.withCodec(codec);
      double[] write = new double[10];
      double[] read = new double[10];
      double[] readSmall = new double[10];
      long bytes = 0;
      for (int run = 0; run < write.length; run++) {
        Path path = new Path(ShardFixtures.hadoopPath(dir), codec + "-" + run + ".parquet");
        long t0 = System.nanoTime();
        bytes = ShardFixtures.write(conf, path, options, data).bytes();
        long t1 = System.nanoTime();
        int n = ShardFixtures.readAll(conf, path, ShardReadOptions.ALL).size();
        long t2 = System.nanoTime();
        ShardFixtures.readAll(conf, path, ShardReadOptions.ALL.withoutImage());
        long t3 = System.nanoTime();
        if (n != rows) {
          throw new IllegalStateException("Read " + n + " rows, wrote " + rows);
        }
        write[run] = (t1 - t0) / 1e9;
        read[run] = (t2 - t1) / 1e9;
        readSmall[run] = (t3 - t2) / 1e9;
      }
      System.out.printf(
          "%-12s file %.2f MB | write %s | read %s | read without image %s%n",
          codec,
          bytes / 1e6,
          rate(write, rows, payload),
          rate(read, rows, payload),
          rate(readSmall, rows, 0));
    }
  }

  private static String rate(double[] seconds, int rows, long payload) {
    double[] timed = Arrays.copyOfRange(seconds, 3, seconds.length);
    Arrays.sort(timed);
    double median = timed[timed.length / 2];
    return payload > 0
        ? String.format("%.0f rows/s, %.0f MB/s", rows / median, payload / 1e6 / median)
        : String.format("%.0f rows/s", rows / median);
  }

  private static List<ImageRow> fixedSizeRows(int n, int imageBytes) {
    return ShardFixtures.randomRows(n, 1, 17).stream()
        .map(
            r -> {
              byte[] image = new byte[imageBytes];
              new java.util.SplittableRandom(r.imageId()).nextBytes(image);
              return new ImageRow(
                  r.imageId(),
                  r.key(),
                  r.split(),
                  r.label(),
                  r.wnid(),
                  image,
                  r.format(),
                  r.width(),
                  r.height(),
                  ShardFixtures.sha256Hex(image),
                  r.source(),
                  r.reencoded());
            })
        .toList();
  }
}
