package org.dtmspark.core.train;

import java.util.List;
import org.dtmspark.core.data.ViewParams;

/**
 * One prepared batch of one rank, in host memory.
 *
 * @param step global optimizer step this batch belongs to
 * @param indices dataset indices, {@code [B]}
 * @param labels labels, {@code [B]}
 * @param pixels rendered views, {@code [B, 3, S, S]} row-major, unsigned 8-bit (0..255 for [0, 1]);
 *     {@link org.dtmspark.core.nn.Tensors#pixelsFromHost} uploads and converts them
 * @param mask patch masks, {@code [B, N]} 0/1, or null when the job uses none
 * @param views the exact view of every image, {@code [B]}
 * @param targets cached teacher tokens of those views, {@code [B, N, P]} row-major, or null when
 *     the targets come from an online teacher
 * @param read on the last batch of an epoch, the bytes this rank read for that epoch; else null
 * @param erased pixels random erasing overwrites after normalisation (fine-tuning), or null
 */
public record Batch(
    long step,
    int[] indices,
    int[] labels,
    byte[] pixels,
    float[] mask,
    List<ViewParams> views,
    float[] targets,
    DataRead read,
    ErasedPixels erased) {
  public int size() {
    return indices.length;
  }

  /**
   * What one rank read from storage during one epoch (on a resumed run, from the resume on).
   *
   * @param epoch the epoch, 0-based
   * @param imageBytes bytes read from image shards
   * @param targetBytes bytes read from the target cache
   */
  public record DataRead(long epoch, long imageBytes, long targetBytes) {}
}
