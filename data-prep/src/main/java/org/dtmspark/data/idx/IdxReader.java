package org.dtmspark.data.idx;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

/**
 * Reads MNIST-family idx files (MNIST, Fashion-MNIST, KMNIST), plain or gzip-compressed.
 *
 * <p>Format: a big-endian header of a magic number {@code 0x0000TTNN} (type {@code TT = 0x08} for
 * unsigned bytes, {@code NN} dimensions), then {@code NN} big-endian 32-bit sizes, then the data
 * row-major. Images are {@code 0x00000803} with sizes {@code [count, rows, cols]}; labels are
 * {@code 0x00000801} with size {@code [count]}. Gzip is detected by its magic bytes {@code 1f 8b},
 * not by the file name. Every error names the file and what is wrong; malformed content throws
 * {@link IdxFormatException}.
 */
public final class IdxReader {
  /** Magic number of an idx file of unsigned-byte images {@code [count, rows, cols]}. */
  public static final int IMAGES_MAGIC = 0x00000803;

  /** Magic number of an idx file of unsigned-byte labels {@code [count]}. */
  public static final int LABELS_MAGIC = 0x00000801;

  /** Largest data size read into one array. */
  private static final long MAX_BYTES = Integer.MAX_VALUE - 8;

  private IdxReader() {}

  /** Reads an image file; see {@link #readImages(InputStream, String)}. */
  public static IdxImages readImages(Path path) throws IOException {
    try (InputStream in = Files.newInputStream(path)) {
      return readImages(in, path.toString());
    }
  }

  /**
   * Reads images from a stream (plain or gzip), to its end. The stream is not closed.
   *
   * @param sourceName names the source in error messages
   */
  public static IdxImages readImages(InputStream in, String sourceName) throws IOException {
    try {
      InputStream data = decompressIfGzip(in);
      int[] dims = readHeader(data, sourceName, IMAGES_MAGIC, "image");
      long size = (long) dims[0] * dims[1] * dims[2];
      if (dims[1] < 1 || dims[2] < 1) {
        throw new IdxFormatException(
            "File "
                + sourceName
                + " declares images of "
                + dims[1]
                + " x "
                + dims[2]
                + " pixels; both sizes must be at least 1");
      }
      byte[] pixels = readData(data, sourceName, size, dims[0] + " images");
      return new IdxImages(dims[0], dims[1], dims[2], pixels);
    } catch (IOException e) {
      throw withSourceName(e, sourceName);
    }
  }

  /** Reads a label file; see {@link #readLabels(InputStream, String)}. */
  public static IdxLabels readLabels(Path path) throws IOException {
    try (InputStream in = Files.newInputStream(path)) {
      return readLabels(in, path.toString());
    }
  }

  /**
   * Reads labels from a stream (plain or gzip), to its end. The stream is not closed.
   *
   * @param sourceName names the source in error messages
   */
  public static IdxLabels readLabels(InputStream in, String sourceName) throws IOException {
    try {
      InputStream data = decompressIfGzip(in);
      int[] dims = readHeader(data, sourceName, LABELS_MAGIC, "label");
      return new IdxLabels(readData(data, sourceName, dims[0], dims[0] + " labels"));
    } catch (IOException e) {
      throw withSourceName(e, sourceName);
    }
  }

  /**
   * Reads an image file and its label file and checks that they hold the same number of examples.
   *
   * @throws IdxFormatException naming both files when the counts differ
   */
  public static IdxDataset readDataset(Path images, Path labels) throws IOException {
    IdxImages im = readImages(images);
    IdxLabels lb = readLabels(labels);
    if (im.count() != lb.count()) {
      throw new IdxFormatException(
          "Image file "
              + images
              + " holds "
              + im.count()
              + " images but label file "
              + labels
              + " holds "
              + lb.count()
              + " labels; the counts must be equal");
    }
    return new IdxDataset(im, lb);
  }

  /** Names the source in a failure that does not come from our own checks. */
  private static IOException withSourceName(IOException e, String sourceName) {
    if (e instanceof IdxFormatException) {
      return e;
    }
    if (e instanceof EOFException) {
      // GZIPInputStream reports a cut-off compressed stream this way.
      return new IdxFormatException(
          "File "
              + sourceName
              + " is truncated: the gzip stream ends early ("
              + e.getMessage()
              + ")");
    }
    return new IOException("Cannot read idx file " + sourceName + ": " + e.getMessage(), e);
  }

  private static InputStream decompressIfGzip(InputStream in) throws IOException {
    BufferedInputStream buffered = new BufferedInputStream(in, 1 << 16);
    buffered.mark(2);
    int b0 = buffered.read();
    int b1 = buffered.read();
    buffered.reset();
    if (b0 == 0x1f && b1 == 0x8b) {
      return new BufferedInputStream(new GZIPInputStream(buffered, 1 << 16), 1 << 16);
    }
    return buffered;
  }

  /** Reads and checks the magic number and the sizes; returns the sizes. */
  private static int[] readHeader(InputStream in, String sourceName, int magic, String kind)
      throws IOException {
    byte[] head = in.readNBytes(4);
    if (head.length < 4) {
      throw new IdxFormatException(
          "File " + sourceName + " is truncated: it ends within the 4-byte magic number");
    }
    int actual = bigEndian(head, 0);
    if (actual != magic) {
      throw new IdxFormatException(
          String.format(
              "File %s is not an idx %s file: magic number must be 0x%08x (unsigned bytes, %d"
                  + " dimensions), cannot be: 0x%08x",
              sourceName, kind, magic, magic & 0xff, actual));
    }
    int ndims = magic & 0xff;
    byte[] sizes = in.readNBytes(4 * ndims);
    if (sizes.length < 4 * ndims) {
      throw new IdxFormatException(
          "File "
              + sourceName
              + " is truncated: it ends within the "
              + ndims
              + " dimension sizes of the header");
    }
    int[] dims = new int[ndims];
    for (int d = 0; d < ndims; d++) {
      dims[d] = bigEndian(sizes, 4 * d);
      if (dims[d] < 0) {
        throw new IdxFormatException(
            "File "
                + sourceName
                + " declares a negative size for dimension "
                + d
                + ": "
                + Integer.toUnsignedString(dims[d]));
      }
    }
    return dims;
  }

  /** Reads exactly {@code size} bytes and checks that nothing follows. */
  private static byte[] readData(InputStream in, String sourceName, long size, String what)
      throws IOException {
    if (size > MAX_BYTES) {
      throw new IdxFormatException(
          "File "
              + sourceName
              + " declares "
              + what
              + " of "
              + size
              + " bytes, more than the supported "
              + MAX_BYTES);
    }
    // readNBytes grows its buffer as data arrives: a corrupt header does not allocate it all.
    byte[] data = in.readNBytes((int) size);
    if (data.length < size) {
      throw new IdxFormatException(
          "File "
              + sourceName
              + " is truncated: the header declares "
              + what
              + " ("
              + size
              + " bytes of data) but only "
              + data.length
              + " bytes follow it");
    }
    if (in.read() != -1) {
      throw new IdxFormatException(
          "File "
              + sourceName
              + " has unexpected bytes after the "
              + what
              + " its header declares ("
              + size
              + " bytes of data)");
    }
    return data;
  }

  private static int bigEndian(byte[] b, int at) {
    return ((b[at] & 0xff) << 24)
        | ((b[at + 1] & 0xff) << 16)
        | ((b[at + 2] & 0xff) << 8)
        | (b[at + 3] & 0xff);
  }
}
