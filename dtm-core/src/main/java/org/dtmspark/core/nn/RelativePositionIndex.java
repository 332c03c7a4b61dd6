package org.dtmspark.core.nn;

/**
 * The BEiT relative position index of a {@code wh x ww} patch window plus the CLS token.
 *
 * <p>A relative position bias table has {@link #tableSize} rows: one per relative offset {@code
 * (dy, dx)} with {@code dy} in {@code [-(wh-1), wh-1]} and {@code dx} in {@code [-(ww-1), ww-1]},
 * row {@code (dy + wh - 1) * (2 ww - 1) + (dx + ww - 1)}, followed by three rows for the CLS token:
 * {@code T-3} for CLS (query) to a patch (key), {@code T-2} for a patch to CLS, {@code T-1} for CLS
 * to itself. Token 0 is CLS, token {@code 1 + y * ww + x} is the patch at row y, column x; {@code
 * dy = y_query - y_key}, {@code dx = x_query - x_key}.
 */
public final class RelativePositionIndex {
  private RelativePositionIndex() {}

  /** Number of rows T of a relative position bias table: {@code (2wh-1)(2ww-1) + 3}. */
  public static int tableSize(int wh, int ww) {
    requireWindow(wh, ww);
    return (2 * wh - 1) * (2 * ww - 1) + 3;
  }

  /**
   * The index of every (query, key) token pair into the bias table.
   *
   * @param wh window height in patches
   * @param ww window width in patches
   * @return row-major {@code [(N+1) * (N+1)]} with N = wh * ww; entry {@code q * (N+1) + k} is the
   *     table row of query token q and key token k
   */
  public static int[] compute(int wh, int ww) {
    int table = tableSize(wh, ww);
    int n = wh * ww;
    int t = n + 1;
    int[] index = new int[t * t];
    int cols = 2 * ww - 1;
    for (int q = 0; q < n; q++) {
      int qy = q / ww;
      int qx = q % ww;
      int row = (q + 1) * t;
      for (int k = 0; k < n; k++) {
        int dy = qy - k / ww + wh - 1;
        int dx = qx - k % ww + ww - 1;
        index[row + k + 1] = dy * cols + dx;
      }
      index[row] = table - 2;
    }
    for (int k = 1; k < t; k++) {
      index[k] = table - 3;
    }
    index[0] = table - 1;
    return index;
  }

  private static void requireWindow(int wh, int ww) {
    if (wh < 1 || ww < 1) {
      throw new IllegalArgumentException(
          "Window height and width must be at least 1, cannot be: " + wh + " x " + ww);
    }
  }
}
