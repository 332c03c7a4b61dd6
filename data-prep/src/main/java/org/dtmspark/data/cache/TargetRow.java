package org.dtmspark.data.cache;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Objects;
import org.dtmspark.core.data.ViewParams;
import org.dtmspark.core.io.DType;
import org.dtmspark.core.io.HalfFloats;

/**
 * One row of the target cache: the teacher's tokens for one view of one image (see {@link
 * TargetCacheSchema} for the columns).
 *
 * <p>The record takes ownership of {@code tokens} without copying it: callers must not modify the
 * array afterwards. Equality compares the token bytes by content.
 *
 * @param imageId the image's id in the image shards, at least 0
 * @param key the image's key
 * @param view view index, {@code 0..K-1}, or {@link TargetCacheSchema#FULL_VIEW} for the full-image
 *     view
 * @param params the view's exact parameters, so that the student can render it again
 * @param tokens little-endian {@code dtype} values, row-major {@code [numTokens, dim]}: exactly
 *     {@code numTokens * dim * bytesPerElement(dtype)} bytes; null only in rows read without tokens
 * @param numTokens N, at least 1
 * @param dim P, at least 1
 * @param dtype {@value #FP16} or {@value #FP32}
 */
public record TargetRow(
    long imageId,
    String key,
    int view,
    ViewParams params,
    byte[] tokens,
    int numTokens,
    int dim,
    String dtype) {
  /** IEEE 754 binary16 tokens, the default. */
  public static final String FP16 = "fp16";

  /** IEEE 754 binary32 tokens. */
  public static final String FP32 = "fp32";

  public TargetRow {
    if (imageId < 0) {
      throw new IllegalArgumentException("Image id must be at least 0, cannot be: " + imageId);
    }
    if (key == null || key.isEmpty()) {
      throw new IllegalArgumentException(
          "Image key must be a non-empty string, cannot be: " + (key == null ? "null" : "''"));
    }
    if (view < TargetCacheSchema.FULL_VIEW) {
      throw new IllegalArgumentException(
          "View index of image "
              + key
              + " must be at least "
              + TargetCacheSchema.FULL_VIEW
              + " (the full-image view), cannot be: "
              + view);
    }
    if (params == null) {
      throw new IllegalArgumentException(
          "View parameters of image "
              + key
              + " view "
              + view
              + " must be present, cannot be: null");
    }
    if (numTokens < 1 || dim < 1) {
      throw new IllegalArgumentException(
          "Token shape of image "
              + key
              + " must be at least [1, 1], cannot be: ["
              + numTokens
              + ", "
              + dim
              + "]");
    }
    int elementBytes = bytesPerElement(dtype);
    if (tokens != null && tokens.length != (long) numTokens * dim * elementBytes) {
      throw new IllegalArgumentException(
          "Tokens of image "
              + key
              + " view "
              + view
              + " must be "
              + ((long) numTokens * dim * elementBytes)
              + " bytes (["
              + numTokens
              + ", "
              + dim
              + "] "
              + dtype
              + "), cannot be: "
              + tokens.length);
    }
  }

  /**
   * Bytes of one element of {@code dtype}: 2 for {@value #FP16}, 4 for {@value #FP32}.
   *
   * @throws IllegalArgumentException naming {@code dtype} otherwise
   */
  public static int bytesPerElement(String dtype) {
    return toDType(dtype).byteSize();
  }

  /**
   * Bytes of the tokens of one view: {@code numTokens * dim * bytesPerElement(dtype)}, e.g. 200,704
   * for {@code [196, 512]} fp16.
   */
  public static long bytesPerView(int numTokens, int dim, String dtype) {
    return (long) numTokens * dim * bytesPerElement(dtype);
  }

  private static DType toDType(String dtype) {
    if (FP16.equals(dtype)) {
      return DType.F16;
    }
    if (FP32.equals(dtype)) {
      return DType.F32;
    }
    throw new IllegalArgumentException(
        "Token dtype must be " + FP16 + " or " + FP32 + ", cannot be: " + dtype);
  }

  /**
   * A row holding {@code values} encoded as {@code dtype}: fp16 rounds to nearest, ties to even
   * (values beyond 65504 become infinity); fp32 is exact.
   *
   * @param values row-major {@code [numTokens, dim]}
   */
  public static TargetRow ofFloats(
      long imageId,
      String key,
      int view,
      ViewParams params,
      float[] values,
      int numTokens,
      int dim,
      String dtype) {
    DType type = toDType(dtype);
    if (values == null || values.length != (long) numTokens * dim) {
      throw new IllegalArgumentException(
          "Token values of image "
              + key
              + " must hold numTokens * dim = "
              + ((long) numTokens * dim)
              + " floats, cannot be: "
              + (values == null ? "null" : values.length));
    }
    ByteBuffer out =
        ByteBuffer.allocate(values.length * type.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
    if (type == DType.F16) {
      for (float v : values) {
        out.putShort(HalfFloats.floatToHalf(v));
      }
    } else {
      out.asFloatBuffer().put(values);
    }
    return new TargetRow(imageId, key, view, params, out.array(), numTokens, dim, dtype);
  }

  /**
   * The tokens widened to float (fp16 exactly), row-major {@code [numTokens, dim]}.
   *
   * @throws IllegalStateException when the row was read without tokens
   */
  public float[] tokensAsFloats() {
    if (tokens == null) {
      throw new IllegalStateException(
          "Tokens of image "
              + key
              + " view "
              + view
              + " were not read (projection without tokens)");
    }
    ByteBuffer in = ByteBuffer.wrap(tokens).order(ByteOrder.LITTLE_ENDIAN);
    float[] values = new float[numTokens * dim];
    if (toDType(dtype) == DType.F16) {
      for (int i = 0; i < values.length; i++) {
        values[i] = HalfFloats.halfToFloat(in.getShort());
      }
    } else {
      in.asFloatBuffer().get(values);
    }
    return values;
  }

  /** Whether this is the deterministic full-image view. */
  public boolean isFullView() {
    return view == TargetCacheSchema.FULL_VIEW;
  }

  /** This row without its tokens, as read with a projection without tokens. */
  public TargetRow withoutTokens() {
    return new TargetRow(imageId, key, view, params, null, numTokens, dim, dtype);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TargetRow r
        && imageId == r.imageId
        && view == r.view
        && numTokens == r.numTokens
        && dim == r.dim
        && key.equals(r.key)
        && params.equals(r.params)
        && dtype.equals(r.dtype)
        && Arrays.equals(tokens, r.tokens);
  }

  @Override
  public int hashCode() {
    return 31 * Objects.hash(imageId, key, view, params, numTokens, dim, dtype)
        + Arrays.hashCode(tokens);
  }

  @Override
  public String toString() {
    return "TargetRow[imageId="
        + imageId
        + ", key="
        + key
        + ", view="
        + view
        + ", params="
        + params
        + ", tokens="
        + (tokens == null ? "null" : tokens.length + " bytes")
        + ", numTokens="
        + numTokens
        + ", dim="
        + dim
        + ", dtype="
        + dtype
        + "]";
  }
}
