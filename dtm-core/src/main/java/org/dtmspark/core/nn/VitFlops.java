package org.dtmspark.core.nn;

/**
 * Floating-point operations of the ViT, counted from its matrix products (one multiply-add = 2
 * FLOPs). Layer norms, softmax, GELU and element-wise work are not counted: they are a few percent
 * of the total and are not what a roofline compares against.
 */
public final class VitFlops {
  private VitFlops() {}

  /** Forward FLOPs of one image through encoder and token head (when the config has one). */
  public static double forwardPerImage(VitConfig c) {
    double n = c.numPatches();
    double t = n + 1;
    double d = c.embedDim();
    double macs = n * d * c.inChannels() * c.patchSize() * c.patchSize();
    double perBlock = t * d * 3 * d + 2 * t * t * d + t * d * d + 2 * t * d * c.mlpDim();
    macs += c.depth() * perBlock;
    macs += n * d * c.tokenHeadDim();
    return 2 * macs;
  }

  /** Training FLOPs of one image: forward plus a backward of twice the forward. */
  public static double trainingPerImage(VitConfig c) {
    return 3 * forwardPerImage(c);
  }
}
