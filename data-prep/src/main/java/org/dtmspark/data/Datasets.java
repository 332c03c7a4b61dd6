package org.dtmspark.data;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import org.dtmspark.core.data.ImageDataset;
import org.dtmspark.data.idx.IdxDataset;
import org.dtmspark.data.idx.IdxImages;
import org.dtmspark.data.idx.IdxLabels;
import org.dtmspark.data.idx.IdxReader;

/**
 * Opens a dataset from its text form, as given on the command line:
 *
 * <ul>
 *   <li>{@code demo:train}, {@code demo:test}: the embedded Fashion-MNIST subset (10,000 / 2,000);
 *   <li>{@code idx:DIR/PREFIX}: MNIST-family idx files {@code DIR/PREFIX-images-idx3-ubyte[.gz]}
 *       and {@code DIR/PREFIX-labels-idx1-ubyte[.gz]}, e.g. {@code
 *       idx:/usr/share/datasets/fashion-mnist/train};
 * </ul>
 *
 * <p>Any form takes a {@code ?limit=N} suffix that keeps the first N images (smoke runs).
 */
public final class Datasets {
  /** One line for command-line help. */
  public static final String SPEC_HELP =
      "demo:train | demo:test | idx:DIR/PREFIX, optionally with ?limit=N";

  private static final String DEMO_RESOURCE = "dtm-demo/fashion-mnist/";

  private Datasets() {}

  /** Opens {@code spec}; errors name the spec and the file at fault. */
  public static ImageDataset open(String spec) {
    String base = spec;
    int limit = -1;
    int q = spec.indexOf("?limit=");
    if (q >= 0) {
      base = spec.substring(0, q);
      String n = spec.substring(q + "?limit=".length());
      try {
        limit = Integer.parseInt(n);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("Dataset limit must be an integer, cannot be: " + n);
      }
      if (limit < 1) {
        throw new IllegalArgumentException("Dataset limit must be at least 1, cannot be: " + limit);
      }
    }
    IdxDataset data;
    try {
      if (base.startsWith("demo:")) {
        data = demo(base.substring("demo:".length()));
      } else if (base.startsWith("idx:")) {
        data = idx(Path.of(base.substring("idx:".length())));
      } else {
        throw new IllegalArgumentException("Unknown dataset '" + spec + "'; expected " + SPEC_HELP);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read dataset " + spec + ": " + e.getMessage(), e);
    }
    if (limit > 0 && limit < data.labels().count()) {
      int[] keep = new int[limit];
      for (int i = 0; i < limit; i++) {
        keep[i] = i;
      }
      data = data.select(keep);
    }
    return new IdxImageDataset(spec + "@sha256:" + fingerprint(data), data);
  }

  private static IdxDataset demo(String split) throws IOException {
    String prefix =
        switch (split) {
          case "train" -> "train";
          case "test" -> "t10k";
          default ->
              throw new IllegalArgumentException(
                  "Unknown demo split '" + split + "'; expected demo:train or demo:test");
        };
    IdxImages images;
    IdxLabels labels;
    try (InputStream in = resource(prefix + "-images-idx3-ubyte.gz")) {
      images = IdxReader.readImages(in, "demo:" + split + " images");
    }
    try (InputStream in = resource(prefix + "-labels-idx1-ubyte.gz")) {
      labels = IdxReader.readLabels(in, "demo:" + split + " labels");
    }
    return new IdxDataset(images, labels);
  }

  private static InputStream resource(String name) throws IOException {
    InputStream in = Datasets.class.getClassLoader().getResourceAsStream(DEMO_RESOURCE + name);
    if (in == null) {
      throw new NoSuchFileException("classpath:" + DEMO_RESOURCE + name);
    }
    return in;
  }

  private static IdxDataset idx(Path prefix) throws IOException {
    Path dir = prefix.toAbsolutePath().getParent();
    String name = prefix.getFileName().toString();
    Path images = existing(dir, name + "-images-idx3-ubyte");
    Path labels = existing(dir, name + "-labels-idx1-ubyte");
    return IdxReader.readDataset(images, labels);
  }

  private static Path existing(Path dir, String stem) throws NoSuchFileException {
    for (String candidate : new String[] {stem + ".gz", stem}) {
      Path p = dir.resolve(candidate);
      if (Files.isRegularFile(p)) {
        return p;
      }
    }
    throw new NoSuchFileException(dir.resolve(stem) + "[.gz]", null, "idx file not found");
  }

  /** First 16 hex digits of the SHA-256 of the pixels and labels. */
  private static String fingerprint(IdxDataset data) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      sha.update(data.images().pixels());
      sha.update(data.labels().labels());
      return HexFormat.of().formatHex(sha.digest()).substring(0, 16);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
