package org.dtmspark.core.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class RelativePositionIndexTest {

  /**
   * BEiT's construction step by step: coordinates, pairwise differences, shift, row stride, sum,
   * then the three CLS assignments in BEiT's order (row 0, column 0, corner).
   */
  private static int[] plainBeitIndex(int wh, int ww) {
    int n = wh * ww;
    int[][] coords = new int[2][n];
    for (int y = 0; y < wh; y++) {
      for (int x = 0; x < ww; x++) {
        coords[0][y * ww + x] = y;
        coords[1][y * ww + x] = x;
      }
    }
    int[][][] rel = new int[n][n][2];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < n; j++) {
        rel[i][j][0] = coords[0][i] - coords[0][j] + wh - 1;
        rel[i][j][1] = coords[1][i] - coords[1][j] + ww - 1;
        rel[i][j][0] *= 2 * ww - 1;
      }
    }
    int numRelativeDistance = (2 * wh - 1) * (2 * ww - 1) + 3;
    int[][] index = new int[n + 1][n + 1];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < n; j++) {
        index[i + 1][j + 1] = rel[i][j][0] + rel[i][j][1];
      }
    }
    for (int j = 0; j <= n; j++) {
      index[0][j] = numRelativeDistance - 3;
    }
    for (int i = 0; i <= n; i++) {
      index[i][0] = numRelativeDistance - 2;
    }
    index[0][0] = numRelativeDistance - 1;
    int[] flat = new int[(n + 1) * (n + 1)];
    for (int i = 0; i <= n; i++) {
      System.arraycopy(index[i], 0, flat, i * (n + 1), n + 1);
    }
    return flat;
  }

  @Test
  void matchesBeitConstructionForSeveralWindows() {
    int[][] windows = {{1, 1}, {1, 3}, {2, 2}, {3, 4}, {4, 3}, {7, 7}, {14, 14}};
    for (int[] w : windows) {
      assertThat(RelativePositionIndex.compute(w[0], w[1]))
          .as("window %dx%d", w[0], w[1])
          .containsExactly(plainBeitIndex(w[0], w[1]));
    }
  }

  @Test
  void twoByTwoWindowHasTheHandCheckedEntries() {
    // Table: 3 x 3 offsets (rows 0..8), then 9 = CLS->patch, 10 = patch->CLS, 11 = CLS->CLS.
    // Patches 1..4 at (0,0), (0,1), (1,0), (1,1); entry = (dy + 1) * 3 + (dx + 1).
    assertThat(RelativePositionIndex.tableSize(2, 2)).isEqualTo(12);
    assertThat(RelativePositionIndex.compute(2, 2))
        .containsExactly(
            11, 9, 9, 9, 9, //
            10, 4, 3, 1, 0, //
            10, 5, 4, 2, 1, //
            10, 7, 6, 4, 3, //
            10, 8, 7, 5, 4);
  }

  @Test
  void everyEntryIsARowOfTheTableAndEveryRowIsUsed() {
    int[] index = RelativePositionIndex.compute(3, 5);
    int size = RelativePositionIndex.tableSize(3, 5);
    assertThat(size).isEqualTo(5 * 9 + 3);
    boolean[] used = new boolean[size];
    for (int i : index) {
      assertThat(i).isBetween(0, size - 1);
      used[i] = true;
    }
    assertThat(used).doesNotContain(false);
  }

  @Test
  void emptyWindowIsRejected() {
    assertThatThrownBy(() -> RelativePositionIndex.compute(0, 2))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("Window height and width must be at least 1, cannot be: 0 x 2");
  }
}
