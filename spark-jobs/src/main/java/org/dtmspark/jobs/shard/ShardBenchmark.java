package org.dtmspark.jobs.shard;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.MemoryCacheImageOutputStream;
import org.apache.spark.sql.SparkSession;
import org.dtmspark.data.idx.IdxDataset;
import org.dtmspark.data.idx.IdxImages;
import org.dtmspark.data.idx.IdxReader;
import org.dtmspark.data.image.InspectOptions;
import org.dtmspark.data.plan.ScanOptions;
import org.dtmspark.data.plan.ShardSize;
import org.dtmspark.data.shard.ShardWriteOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The sharding figures of BENCHMARKS.md: a JPEG ImageFolder tree made from the Fashion-MNIST idx
 * files, the time to merely read its bytes, and the shard job over it, passthrough and re-encoding
 * every image, all in this JVM and this run; peak resident memory after each phase.
 */
public final class ShardBenchmark {
  private static final Logger LOG = LoggerFactory.getLogger(ShardBenchmark.class);

  private ShardBenchmark() {}

  /**
   * One measured phase.
   *
   * @param phase what ran
   * @param seconds wall time
   * @param images images handled
   * @param megabytes input bytes / 1e6
   * @param peakRssMb the process's peak resident set after the phase (VmHWM), MB
   */
  public record Phase(
      String phase, double seconds, long images, double megabytes, double peakRssMb) {
    public double imagesPerSecond() {
      return images / seconds;
    }

    public double megabytesPerSecond() {
      return megabytes / seconds;
    }
  }

  /** Builds the tree (if absent) from {@code idxDir} under {@code work} and measures. */
  public static List<Phase> run(Path idxDir, Path work, int shards, SparkSession spark)
      throws IOException {
    Path tree = work.resolve("tree");
    if (!Files.isDirectory(tree)) {
      writeTree(idxDir, tree);
    }
    List<Path> files;
    try (Stream<Path> s = Files.walk(tree)) {
      files = s.filter(Files::isRegularFile).sorted().toList();
    }
    long bytes = 0;
    for (Path f : files) {
      bytes += Files.size(f);
    }
    double mb = bytes / 1e6;
    List<Phase> phases = new ArrayList<>();

    long t0 = System.nanoTime();
    long read = files.parallelStream().mapToLong(ShardBenchmark::readAll).sum();
    phases.add(new Phase("read bytes", seconds(t0), files.size(), read / 1e6, peakRssMb()));

    // Two rounds, alternating, so that warm-up (JIT, Spark's first job) is visible and both
    // variants get a warm run.
    for (boolean reencode : new boolean[] {false, true, false, true}) {
      ShardJob.Options options =
          new ShardJob.Options(
              tree.toUri().toString(),
              work.resolve(reencode ? "shards-reencoded" : "shards").toUri().toString(),
              null,
              ScanOptions.defaults().withSplits("train", "val"),
              ShardSize.numShards(shards),
              0,
              ShardWriteOptions.DEFAULTS,
              new InspectOptions(reencode, 0, 0.95f),
              256,
              true);
      long t = System.nanoTime();
      ShardJob.Result r = ShardJob.run(options, spark);
      int round = phases.size() < 3 ? 1 : 2;
      phases.add(
          new Phase(
              (reencode ? "shard, re-encode all" : "shard, passthrough") + ", round " + round,
              seconds(t),
              r.rows(),
              mb,
              peakRssMb()));
    }
    return phases;
  }

  private static long readAll(Path f) {
    try {
      return Files.readAllBytes(f).length;
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static double seconds(long start) {
    return (System.nanoTime() - start) / 1e9;
  }

  /** Peak resident set size of this process in MB (Linux {@code VmHWM}), or NaN elsewhere. */
  static double peakRssMb() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("VmHWM:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
        }
      }
    } catch (IOException | NumberFormatException e) {
      LOG.debug("No VmHWM: {}", e.toString());
    }
    return Double.NaN;
  }

  /** Writes train (60,000) and val (10,000) as grey JPEGs, quality 0.9, one folder per class. */
  static void writeTree(Path idxDir, Path tree) throws IOException {
    Path tmp = tree.resolveSibling(tree.getFileName() + ".tmp");
    Map<String, String> splits = new LinkedHashMap<>();
    splits.put("train", "train");
    splits.put("val", "t10k");
    for (Map.Entry<String, String> split : splits.entrySet()) {
      IdxDataset data =
          IdxReader.readDataset(
              idxDir.resolve(split.getValue() + "-images-idx3-ubyte.gz"),
              idxDir.resolve(split.getValue() + "-labels-idx1-ubyte.gz"));
      IdxImages images = data.images();
      int[] labels = data.labels().toIntArray();
      LOG.info("Writing {} JPEGs of {} to {}", images.count(), split.getKey(), tmp);
      for (int i = 0; i < images.count(); i++) {
        Path file =
            tmp.resolve(split.getKey())
                .resolve(String.format("class_%d", labels[i]))
                .resolve(String.format("%s_%05d.JPEG", split.getKey(), i));
        Files.createDirectories(file.getParent());
        Files.write(file, jpeg(images, i));
      }
    }
    Files.move(tmp, tree);
  }

  private static byte[] jpeg(IdxImages images, int index) throws IOException {
    BufferedImage img =
        new BufferedImage(images.cols(), images.rows(), BufferedImage.TYPE_BYTE_GRAY);
    img.getRaster().setDataElements(0, 0, images.cols(), images.rows(), images.image(index));
    ImageWriter writer = ImageIO.getImageWritersByFormatName("jpeg").next();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (MemoryCacheImageOutputStream stream = new MemoryCacheImageOutputStream(out)) {
      writer.setOutput(stream);
      ImageWriteParam param = writer.getDefaultWriteParam();
      param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
      param.setCompressionQuality(0.9f);
      writer.write(null, new IIOImage(img, null, null), param);
    } finally {
      writer.dispose();
    }
    return out.toByteArray();
  }
}
