package org.dtmspark.data.image;

import java.util.Arrays;
import java.util.Objects;
import java.util.Set;

/**
 * The outcome of inspecting one input file: {@link Accepted} with the bytes to store, or {@link
 * Rejected} with the reason. Every input gets exactly one.
 */
public sealed interface Inspection permits Inspection.Accepted, Inspection.Rejected {

  /** Re-encoding reason: a CMYK JPEG, converted to RGB. */
  String CMYK_JPEG = "cmyk-jpeg";

  /** Re-encoding reason: a YCCK JPEG, converted to RGB. */
  String YCCK_JPEG = "ycck-jpeg";

  /** Re-encoding reason: the shorter side was scaled down. */
  String RESIZE = "resize";

  /** Re-encoding reason: {@link InspectOptions#reencodeAll()}. */
  String REQUESTED = "requested";

  /** Prefix of the re-encoding reason for a name whose extension claims another format. */
  String FORMAT_MISMATCH = "format-mismatch: ";

  /** Source colour models, see {@link Accepted#colorModel()}. */
  Set<String> COLOR_MODELS =
      Set.of("rgb", "rgba", "grayscale", "grayscale-alpha", "palette", "cmyk", "ycck");

  /**
   * A usable image and the bytes to store for it.
   *
   * <p>The record does not copy {@code bytes}: when the original is kept it is the very array given
   * to {@link ImageInspector#inspect}. Callers must not modify it.
   *
   * @param bytes the encoded image to store: the original file, or a re-encoding
   * @param format format of {@code bytes}
   * @param width width of the stored image in pixels, at least 1
   * @param height height of the stored image in pixels, at least 1
   * @param reencoded whether {@code bytes} differ from the input
   * @param reencodeReason null when not re-encoded; otherwise {@link #CMYK_JPEG}, {@link
   *     #YCCK_JPEG}, {@link #FORMAT_MISMATCH} followed by for example {@code "png named .JPEG"},
   *     {@link #RESIZE} or {@link #REQUESTED} (the first that applies, in that order)
   * @param colorModel colour model of the source image: {@code rgb}, {@code rgba}, {@code
   *     grayscale}, {@code grayscale-alpha}, {@code palette}, {@code cmyk} or {@code ycck}
   * @param sha256 SHA-256 of {@code bytes}, 64 lower-case hex digits
   */
  record Accepted(
      byte[] bytes,
      ImageFormat format,
      int width,
      int height,
      boolean reencoded,
      String reencodeReason,
      String colorModel,
      String sha256)
      implements Inspection {

    public Accepted {
      Objects.requireNonNull(bytes, "bytes");
      Objects.requireNonNull(format, "format");
      if (bytes.length == 0) {
        throw new IllegalArgumentException("Stored image bytes must not be empty");
      }
      if (width < 1 || height < 1) {
        throw new IllegalArgumentException(
            "Image size must be at least 1 x 1, cannot be: " + width + " x " + height);
      }
      if (reencoded != (reencodeReason != null)) {
        throw new IllegalArgumentException(
            "A re-encoding reason must be given exactly when the image was re-encoded, cannot be: "
                + "reencoded="
                + reencoded
                + ", reason="
                + reencodeReason);
      }
      if (!COLOR_MODELS.contains(colorModel)) {
        throw new IllegalArgumentException(
            "Colour model must be one of " + COLOR_MODELS + ", cannot be: " + colorModel);
      }
      if (sha256 == null || !sha256.matches("[0-9a-f]{64}")) {
        throw new IllegalArgumentException(
            "SHA-256 must be 64 lower-case hex digits, cannot be: " + sha256);
      }
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Accepted a
          && width == a.width
          && height == a.height
          && reencoded == a.reencoded
          && format == a.format
          && Objects.equals(reencodeReason, a.reencodeReason)
          && colorModel.equals(a.colorModel)
          && sha256.equals(a.sha256)
          && Arrays.equals(bytes, a.bytes);
    }

    @Override
    public int hashCode() {
      return sha256.hashCode();
    }

    @Override
    public String toString() {
      return "Accepted["
          + format
          + " "
          + width
          + " x "
          + height
          + ", "
          + bytes.length
          + " bytes, "
          + colorModel
          + (reencoded ? ", re-encoded: " + reencodeReason : "")
          + ", sha256="
          + sha256
          + "]";
    }
  }

  /**
   * An input that cannot be used.
   *
   * @param reason why, for example {@code "empty file"}, {@code "truncated JPEG (no end-of-image
   *     marker FF D9)"}, {@code "not an image: first bytes ..."}, {@code "undecodable PNG: ..."}
   */
  record Rejected(String reason) implements Inspection {
    public Rejected {
      if (reason == null || reason.isBlank()) {
        throw new IllegalArgumentException("A rejection needs a reason, cannot be: " + reason);
      }
    }
  }
}
