package org.dtmspark.core.train;

import java.util.List;
import org.dtmspark.core.data.ViewParams;

/**
 * One prepared batch of one rank, in host memory.
 *
 * @param step global optimizer step this batch belongs to
 * @param indices dataset indices, {@code [B]}
 * @param labels labels, {@code [B]}
 * @param pixels rendered views, {@code [B, 3, S, S]} row-major, values in [0, 1] (random erasing,
 *     in fine-tuning, writes values outside it: see {@code RandomErasing})
 * @param mask patch masks, {@code [B, N]} 0/1, or null when the job uses none
 * @param views the exact view of every image, {@code [B]}
 * @param targets cached teacher tokens of those views, {@code [B, N, P]} row-major, or null when
 *     the targets come from an online teacher
 */
public record Batch(
    long step,
    int[] indices,
    int[] labels,
    float[] pixels,
    float[] mask,
    List<ViewParams> views,
    float[] targets) {
  public int size() {
    return indices.length;
  }
}
