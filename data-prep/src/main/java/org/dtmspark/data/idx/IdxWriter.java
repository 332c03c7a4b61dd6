package org.dtmspark.data.idx;

import java.io.BufferedOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.zip.GZIPOutputStream;

/**
 * Writes MNIST-family idx files, the format {@link IdxReader} reads, for example to cut a small
 * subset of Fashion-MNIST for the embedded demo dataset.
 *
 * <p>Files are written to a temporary sibling and renamed, so a reader never sees a partial file.
 * Gzip output is byte-for-byte reproducible (the JDK writes a zero modification time).
 */
public final class IdxWriter {
  private IdxWriter() {}

  /** Writes {@code images} to {@code path}, gzip-compressed when {@code gzip}. */
  public static void writeImages(IdxImages images, Path path, boolean gzip) throws IOException {
    writeAtomically(path, gzip, out -> writeImages(images, out));
  }

  /** Writes {@code labels} to {@code path}, gzip-compressed when {@code gzip}. */
  public static void writeLabels(IdxLabels labels, Path path, boolean gzip) throws IOException {
    writeAtomically(path, gzip, out -> writeLabels(labels, out));
  }

  /** Writes {@code images} uncompressed to {@code out}, which is flushed, not closed. */
  public static void writeImages(IdxImages images, OutputStream out) throws IOException {
    DataOutputStream data = new DataOutputStream(out);
    data.writeInt(IdxReader.IMAGES_MAGIC);
    data.writeInt(images.count());
    data.writeInt(images.rows());
    data.writeInt(images.cols());
    data.write(images.pixels());
    data.flush();
  }

  /** Writes {@code labels} uncompressed to {@code out}, which is flushed, not closed. */
  public static void writeLabels(IdxLabels labels, OutputStream out) throws IOException {
    DataOutputStream data = new DataOutputStream(out);
    data.writeInt(IdxReader.LABELS_MAGIC);
    data.writeInt(labels.count());
    data.write(labels.labels());
    data.flush();
  }

  private interface Body {
    void write(OutputStream out) throws IOException;
  }

  private static void writeAtomically(Path path, boolean gzip, Body body) throws IOException {
    Path target = path.toAbsolutePath();
    Path tmp = target.resolveSibling("." + target.getFileName() + ".tmp");
    try {
      try (OutputStream file = new BufferedOutputStream(Files.newOutputStream(tmp), 1 << 16)) {
        if (gzip) {
          try (GZIPOutputStream z = new GZIPOutputStream(file, 1 << 16)) {
            body.write(z);
          }
        } else {
          body.write(file);
        }
      }
      Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }
}
