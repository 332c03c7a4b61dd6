package org.dtmspark.core.morph;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The result of morphing one batch at one level: the binary morphing matrix {@code M} and the
 * cluster sizes. Owns the arrays; close it to free them.
 *
 * <p>{@code M[b, c, n] = 1} when original position {@code n} of image {@code b} belongs to morphed
 * token (cluster) {@code c}; each column holds exactly one 1, so every position is in exactly one
 * cluster.
 */
public final class Morphing implements AutoCloseable {
  private final NDManager manager;
  private final NDArray matrix;
  private final NDArray sizes;

  /**
   * Takes ownership of {@code manager}, which must hold {@code matrix} and {@code sizes}.
   *
   * @param matrix {@code [B, t', N]} float 0/1, one 1 per column
   * @param sizes {@code [B, t']} float, row sums of {@code matrix}
   */
  Morphing(NDManager manager, NDArray matrix, NDArray sizes) {
    if (matrix.getShape().dimension() != 3
        || sizes.getShape().dimension() != 2
        || matrix.getShape().get(0) != sizes.getShape().get(0)
        || matrix.getShape().get(1) != sizes.getShape().get(1)) {
      throw new IllegalArgumentException(
          "Morphing matrix must be [B, t', N] and sizes [B, t'], cannot be: "
              + matrix.getShape()
              + " and "
              + sizes.getShape());
    }
    this.manager = manager;
    this.matrix = matrix;
    this.sizes = sizes;
  }

  /**
   * The identity morphing of {@code batch} images of {@code numTokens} tokens: every token its own
   * cluster. Its arrays live in a new sub-manager of {@code parent}.
   */
  public static Morphing identity(NDManager parent, long batch, long numTokens) {
    NDManager manager = parent.newSubManager();
    try {
      NDArray eye = manager.eye((int) numTokens).toType(DataType.FLOAT32, false);
      NDArray matrix = eye.expandDims(0).repeat(0, batch);
      NDArray sizes = manager.ones(new Shape(batch, numTokens));
      eye.close();
      return new Morphing(manager, matrix, sizes);
    } catch (RuntimeException e) {
      manager.close();
      throw e;
    }
  }

  /** Morphing matrix {@code M}: {@code [B, t', N]}, float 0/1, exactly one 1 per column. */
  public NDArray matrix() {
    return matrix;
  }

  /** Cluster sizes {@code |c|}: {@code [B, t']}, float; each row sums to {@code N}. */
  public NDArray sizes() {
    return sizes;
  }

  /** Number of morphed tokens {@code t'} (the same for every image of the batch). */
  public int numClusters() {
    return Math.toIntExact(matrix.getShape().get(1));
  }

  /** Number of original tokens {@code N}. */
  public int numTokens() {
    return Math.toIntExact(matrix.getShape().get(2));
  }

  /**
   * The clusters on the host, for tools and tests: per image, per cluster in token order, the
   * sorted original positions it holds.
   */
  public List<List<List<Integer>>> clusters() {
    int batch = Math.toIntExact(matrix.getShape().get(0));
    int t = numClusters();
    int n = numTokens();
    float[] m = matrix.toFloatArray();
    List<List<List<Integer>>> out = new ArrayList<>(batch);
    for (int b = 0; b < batch; b++) {
      List<List<Integer>> image = new ArrayList<>(t);
      for (int c = 0; c < t; c++) {
        List<Integer> members = new ArrayList<>();
        int base = (b * t + c) * n;
        for (int j = 0; j < n; j++) {
          if (m[base + j] != 0f) {
            members.add(j);
          }
        }
        image.add(Collections.unmodifiableList(members));
      }
      out.add(Collections.unmodifiableList(image));
    }
    return Collections.unmodifiableList(out);
  }

  @Override
  public void close() {
    manager.close();
  }
}
