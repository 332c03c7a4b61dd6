package org.dtmspark.data.image;

import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.IndexColorModel;
import java.io.IOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import javax.imageio.ImageReader;
import javax.imageio.spi.ImageReaderSpi;
import javax.imageio.stream.ImageInputStream;
import org.dtmspark.core.data.ByteArrayImageInputStream;
import org.dtmspark.data.image.Inspection.Accepted;
import org.dtmspark.data.image.Inspection.Rejected;

/**
 * Decides for one input file whether it becomes a shard row, and with which bytes, or a reject.
 *
 * <p>Steps, in order:
 *
 * <ol>
 *   <li>An empty file is rejected ({@code "empty file"}); a file whose first bytes match no {@link
 *       ImageFormat} is rejected ({@code "not an image: first bytes ..."}, in hex and ASCII).
 *   <li>Structure without decoding: a JPEG must reach its end-of-image marker ({@link JpegLayout}),
 *       a PNG its {@code IEND} chunk with correct CRCs on critical chunks ({@link PngChunks});
 *       otherwise {@code "truncated JPEG (...)"}, {@code "truncated PNG (...)"}.
 *   <li>A full decode of the first image (JPEG with TwelveMonkeys' reader, see {@link Codecs}).
 *       Images over {@link #MAX_PIXELS} are rejected before decoding. A decoder that fails, or
 *       warns of a premature end of data, rejects the file ({@code "undecodable PNG: ..."}, {@code
 *       "truncated JPEG (decoder: ...)"}); other decoder warnings (such as libjpeg's "extraneous
 *       bytes before marker", common in ImageNet) are not reasons to reject. WEBP has no reader in
 *       the JDK: WEBP files are rejected as undecodable unless a WEBP plug-in is installed.
 *   <li>Re-encoding as JPEG at {@link InspectOptions#jpegQuality()}, with the first reason that
 *       applies: the file name's extension claims another format ({@code "format-mismatch: png
 *       named .JPEG"}); a CMYK or YCCK JPEG ({@code "cmyk-jpeg"}, {@code "ycck-jpeg"}, converted to
 *       sRGB by the decoder, with the embedded ICC profile when there is one); the shorter side is
 *       longer than {@link InspectOptions#resizeShorterSide()} ({@code "resize"}, bicubic, aspect
 *       kept); {@link InspectOptions#reencodeAll()} ({@code "requested"}). Gray sources are written
 *       as gray JPEGs, everything else as RGB; alpha is dropped. Without a reason the original
 *       bytes are stored unchanged, whatever the format (RGBA and palette PNGs, GIF, BMP, TIFF).
 * </ol>
 *
 * <p>Instances are immutable and thread-safe; every call creates its own reader and writer.
 */
public final class ImageInspector {
  /** Largest image decoded, in pixels (2^27, about 11585 x 11585); larger ones are rejected. */
  public static final long MAX_PIXELS = 1L << 27;

  /** File names (compared without case) that are never images. */
  private static final Set<String> SKIPPED_NAMES = Set.of("thumbs.db", "desktop.ini");

  /** Extensions (compared without case) of files that sit beside images and are not images. */
  private static final Set<String> SKIPPED_EXTENSIONS = Set.of("txt", "csv", "json", "xml", "md");

  /** Folder that macOS's zip writes resource forks into. */
  private static final String MACOS_RESOURCE_FOLDER = "__MACOSX";

  private static final int HEAD_SHOWN = 8;
  private static final int MAX_MESSAGE_LENGTH = 300;

  private final InspectOptions options;

  /** An inspector that changes images as {@code options} allow. */
  public ImageInspector(InspectOptions options) {
    this.options = Objects.requireNonNull(options, "options");
  }

  /** The options this inspector applies. */
  public InspectOptions options() {
    return options;
  }

  /**
   * Whether a file is not an input at all and is listed as skipped rather than inspected: its path
   * has an element that is hidden (starts with {@code .}, such as {@code .DS_Store}, macOS's {@code
   * ._name} files, {@code .git/}) or is {@code __MACOSX}; its name is {@code Thumbs.db} or {@code
   * desktop.ini}; or its name ends in {@code .txt}, {@code .csv}, {@code .json}, {@code .xml} or
   * {@code .md} (label and metadata files beside the images). Names compare without case.
   *
   * @param fileName a file name, or its path relative to the input root or archive (elements
   *     separated by {@code /} or {@code \}; {@code .} and {@code ..} elements are ignored). Do not
   *     pass the root itself: a hidden folder above the input would skip every file.
   */
  public static boolean isSkippable(String fileName) {
    String name = "";
    for (String element : fileName.split("[/\\\\]")) {
      if (element.isEmpty() || element.equals(".") || element.equals("..")) {
        continue;
      }
      if (element.startsWith(".") || element.equals(MACOS_RESOURCE_FOLDER)) {
        return true;
      }
      name = element;
    }
    String lower = name.toLowerCase(Locale.ROOT);
    return SKIPPED_NAMES.contains(lower)
        || SKIPPED_EXTENSIONS.contains(ImageFormat.extension(lower));
  }

  /**
   * Inspects one file.
   *
   * @param path the file's path or name; its extension is compared with the format found
   * @param bytes the whole file; kept, not copied, as {@link Accepted#bytes()} when stored
   *     unchanged
   * @return {@link Accepted} or {@link Rejected}; never throws for any content of {@code bytes}
   */
  public Inspection inspect(String path, byte[] bytes) {
    Objects.requireNonNull(path, "path");
    Objects.requireNonNull(bytes, "bytes");
    if (bytes.length == 0) {
      return new Rejected("empty file");
    }
    Optional<ImageFormat> sniffed = ImageFormat.sniff(bytes);
    if (sniffed.isEmpty()) {
      return new Rejected("not an image: first bytes " + describeHead(bytes));
    }
    ImageFormat format = sniffed.get();
    String jpegColorModel = null;
    if (format == ImageFormat.JPEG) {
      JpegLayout layout = JpegLayout.scan(bytes);
      if (!layout.complete()) {
        return new Rejected("truncated JPEG (" + layout.problem() + ")");
      }
      jpegColorModel = jpegColorModel(layout);
    } else if (format == ImageFormat.PNG) {
      String problem = PngChunks.problem(bytes);
      if (problem != null) {
        return new Rejected(problem);
      }
    }
    BufferedImage image;
    try {
      image = decode(format, bytes);
    } catch (Unusable e) {
      return new Rejected(e.getMessage());
    }
    String colorModel = jpegColorModel != null ? jpegColorModel : colorModel(image);
    return store(path, bytes, format, image, colorModel);
  }

  private Accepted store(
      String path, byte[] bytes, ImageFormat format, BufferedImage image, String colorModel) {
    int shorterSide = options.resizeShorterSide();
    boolean resize = shorterSide > 0 && Math.min(image.getWidth(), image.getHeight()) > shorterSide;
    Optional<ImageFormat> claimed = ImageFormat.fromFileName(path);
    String reason;
    if (claimed.isPresent() && claimed.get() != format) {
      reason =
          Inspection.FORMAT_MISMATCH
              + format.lowerCaseName()
              + " named ."
              + ImageFormat.extension(path);
    } else if (format == ImageFormat.JPEG && colorModel.equals("cmyk")) {
      reason = Inspection.CMYK_JPEG;
    } else if (format == ImageFormat.JPEG && colorModel.equals("ycck")) {
      reason = Inspection.YCCK_JPEG;
    } else if (resize) {
      reason = Inspection.RESIZE;
    } else if (options.reencodeAll()) {
      reason = Inspection.REQUESTED;
    } else {
      return new Accepted(
          bytes,
          format,
          image.getWidth(),
          image.getHeight(),
          false,
          null,
          colorModel,
          sha256(bytes));
    }
    BufferedImage pixels = Pixels.toGrayOrRgb(image);
    if (resize) {
      pixels = Pixels.scaleShorterSide(pixels, shorterSide);
    }
    byte[] jpeg = Pixels.encodeJpeg(pixels, options.jpegQuality());
    return new Accepted(
        jpeg,
        ImageFormat.JPEG,
        pixels.getWidth(),
        pixels.getHeight(),
        true,
        reason,
        colorModel,
        sha256(jpeg));
  }

  /** Decodes the first image; throws {@link Unusable} with the full reject reason. */
  private static BufferedImage decode(ImageFormat format, byte[] bytes) throws Unusable {
    ImageReaderSpi spi = Codecs.reader(format);
    if (spi == null) {
      throw new Unusable(
          "undecodable " + format + ": no image reader for " + format + " is installed");
    }
    ImageReader reader;
    try {
      reader = spi.createReaderInstance();
    } catch (IOException e) {
      throw new IllegalStateException("Cannot create an image reader for " + format, e);
    }
    List<String> warnings = new ArrayList<>();
    reader.addIIOReadWarningListener((source, warning) -> warnings.add(warning));
    try (ImageInputStream in = new ByteArrayImageInputStream(bytes)) {
      reader.setInput(in, false, false);
      int width = reader.getWidth(0);
      int height = reader.getHeight(0);
      if ((long) width * height > MAX_PIXELS) {
        throw new Unusable(
            "image too large: "
                + width
                + " x "
                + height
                + " pixels, more than the limit of "
                + MAX_PIXELS);
      }
      BufferedImage image = reader.read(0);
      for (String warning : warnings) {
        if (warning.toLowerCase(Locale.ROOT).contains("premature end")) {
          throw new Unusable("truncated " + format + " (decoder: " + warning + ")");
        }
      }
      if (image == null || image.getWidth() < 1 || image.getHeight() < 1) {
        throw new Unusable("undecodable " + format + ": the decoder returned no pixels");
      }
      return image;
    } catch (IOException | RuntimeException e) {
      throw new Unusable("undecodable " + format + ": " + describe(e));
    } finally {
      reader.dispose();
    }
  }

  private static String jpegColorModel(JpegLayout layout) {
    return switch (layout.components()) {
      case 1 -> "grayscale";
      case 3 -> "rgb";
      case 4 -> layout.adobeTransform() == 2 ? "ycck" : "cmyk";
      default -> null;
    };
  }

  private static String colorModel(BufferedImage image) {
    ColorModel cm = image.getColorModel();
    if (cm instanceof IndexColorModel) {
      return "palette";
    }
    if (Pixels.isGray(image)) {
      return cm.hasAlpha() ? "grayscale-alpha" : "grayscale";
    }
    if (cm.getColorSpace().getType() == ColorSpace.TYPE_CMYK) {
      return "cmyk";
    }
    return cm.hasAlpha() ? "rgba" : "rgb";
  }

  /** Up to the first eight bytes in hex, then as ASCII with {@code .} for other bytes. */
  private static String describeHead(byte[] bytes) {
    int count = Math.min(HEAD_SHOWN, bytes.length);
    StringBuilder hex = new StringBuilder();
    StringBuilder ascii = new StringBuilder();
    for (int i = 0; i < count; i++) {
      int b = bytes[i] & 0xFF;
      hex.append(i == 0 ? "" : " ").append(String.format(Locale.ROOT, "%02x", b));
      ascii.append(b >= 0x20 && b < 0x7F ? (char) b : '.');
    }
    return hex + " (\"" + ascii + "\")";
  }

  /** The exception's message and its causes' messages, shortened to a readable length. */
  private static String describe(Throwable e) {
    StringBuilder s = new StringBuilder();
    for (Throwable t = e; t != null; t = t.getCause()) {
      String message = t.getMessage() != null ? t.getMessage() : t.getClass().getSimpleName();
      if (s.indexOf(message) < 0) {
        s.append(s.length() == 0 ? "" : ": ").append(message);
      }
      if (t.getCause() == t) {
        break;
      }
    }
    return s.length() <= MAX_MESSAGE_LENGTH
        ? s.toString()
        : s.substring(0, MAX_MESSAGE_LENGTH - 3) + "...";
  }

  private static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("Every Java runtime has SHA-256", e);
    }
  }

  /** A file that cannot be used; the message is the reject reason. */
  private static final class Unusable extends Exception {
    private static final long serialVersionUID = 1L;

    Unusable(String reason) {
      super(reason, null, false, false);
    }
  }
}
