package org.dtmspark.core.nn;

import ai.djl.ndarray.NDArray;
import java.util.HashMap;
import java.util.Map;

/**
 * A plain-Java, double-precision, one-image-at-a-time BEiT v2 ViT used as the independent reference
 * for {@link VisionTransformer}. Written for clarity, not speed.
 */
final class ReferenceVit {
  private final VitConfig c;
  private final Map<String, float[]> p = new HashMap<>();

  ReferenceVit(VitConfig config, Parameters params) {
    this.c = config;
    for (Map.Entry<String, NDArray> e : params.asMap().entrySet()) {
      p.put(e.getKey(), e.getValue().toFloatArray());
    }
  }

  /** Features {@code [B][N+1][D]} of images {@code [B, C, S, S]} flattened row-major. */
  double[][][] features(float[] images, int batch, boolean[][] mask) {
    int channels = c.inChannels();
    int size = c.imageSize();
    int patch = c.patchSize();
    int grid = c.gridSize();
    int n = c.numPatches();
    int d = c.embedDim();
    double[][][] out = new double[batch][][];
    float[] w = p.get("patch_embed.proj.weight");
    float[] bias = p.get("patch_embed.proj.bias");
    for (int b = 0; b < batch; b++) {
      double[][] x = new double[n + 1][];
      x[0] = toDouble(p.get("cls_token"));
      for (int t = 0; t < n; t++) {
        if (mask != null && mask[b][t]) {
          x[t + 1] = toDouble(p.get("mask_token"));
          continue;
        }
        int gy = t / grid;
        int gx = t % grid;
        double[] e = new double[d];
        for (int o = 0; o < d; o++) {
          double sum = bias[o];
          for (int ch = 0; ch < channels; ch++) {
            for (int u = 0; u < patch; u++) {
              for (int v = 0; v < patch; v++) {
                int wi = ((o * channels + ch) * patch + u) * patch + v;
                int pi = ((b * channels + ch) * size + gy * patch + u) * size + gx * patch + v;
                sum += w[wi] * images[pi];
              }
            }
          }
          e[o] = sum;
        }
        x[t + 1] = e;
      }
      for (int i = 0; i < c.depth(); i++) {
        x = block(x, i);
      }
      out[b] = c.classifierLayout() ? x : layerNorm(x, "norm");
    }
    return out;
  }

  /** Pretraining head on the patch tokens: {@code [N][P]}. */
  double[][] predictTokens(double[][] features) {
    double[][] out = new double[c.numPatches()][];
    for (int t = 0; t < out.length; t++) {
      out[t] = linear(features[t + 1], "lm_head");
    }
    return out;
  }

  /** Classifier on the mean patch token: {@code [K]}. */
  double[] classify(double[][] features) {
    double[] mean = new double[c.embedDim()];
    for (int t = 1; t < features.length; t++) {
      for (int j = 0; j < mean.length; j++) {
        mean[j] += features[t][j] / (features.length - 1);
      }
    }
    return linear(layerNorm(new double[][] {mean}, "fc_norm")[0], "head");
  }

  private double[][] block(double[][] x, int i) {
    String pre = "blocks." + i + ".";
    int t = x.length;
    int d = c.embedDim();
    int heads = c.numHeads();
    int hd = c.headDim();
    double[][] h = layerNorm(x, pre + "norm1");
    float[] qkvW = p.get(pre + "attn.qkv.weight");
    float[] qb = p.get(pre + "attn.q_bias");
    float[] vb = p.get(pre + "attn.v_bias");
    double[][] q = new double[t][d];
    double[][] k = new double[t][d];
    double[][] v = new double[t][d];
    for (int s = 0; s < t; s++) {
      for (int o = 0; o < d; o++) {
        double sq = qb[o];
        double sk = 0;
        double sv = vb[o];
        for (int j = 0; j < d; j++) {
          sq += qkvW[o * d + j] * h[s][j];
          sk += qkvW[(d + o) * d + j] * h[s][j];
          sv += qkvW[(2 * d + o) * d + j] * h[s][j];
        }
        q[s][o] = sq;
        k[s][o] = sk;
        v[s][o] = sv;
      }
    }
    double scale = 1 / Math.sqrt(hd);
    double[][] ctx = new double[t][d];
    for (int head = 0; head < heads; head++) {
      for (int a = 0; a < t; a++) {
        double[] logits = new double[t];
        double max = Double.NEGATIVE_INFINITY;
        for (int b = 0; b < t; b++) {
          double dot = 0;
          for (int e = 0; e < hd; e++) {
            dot += q[a][head * hd + e] * k[b][head * hd + e];
          }
          logits[b] = dot * scale + positionBias(pre, head, a, b);
          max = Math.max(max, logits[b]);
        }
        double total = 0;
        for (int b = 0; b < t; b++) {
          logits[b] = Math.exp(logits[b] - max);
          total += logits[b];
        }
        for (int b = 0; b < t; b++) {
          for (int e = 0; e < hd; e++) {
            ctx[a][head * hd + e] += logits[b] / total * v[b][head * hd + e];
          }
        }
      }
    }
    double[][] mid = new double[t][];
    for (int s = 0; s < t; s++) {
      double[] o = scaleBy(linear(ctx[s], pre + "attn.proj"), pre + "gamma_1");
      mid[s] = add(x[s], o);
    }
    double[][] h2 = layerNorm(mid, pre + "norm2");
    double[][] out = new double[t][];
    for (int s = 0; s < t; s++) {
      double[] hidden = linear(h2[s], pre + "mlp.fc1");
      for (int j = 0; j < hidden.length; j++) {
        hidden[j] = 0.5 * hidden[j] * (1 + erf(hidden[j] / Math.sqrt(2)));
      }
      out[s] = add(mid[s], scaleBy(linear(hidden, pre + "mlp.fc2"), pre + "gamma_2"));
    }
    return out;
  }

  /** Bias of (query a, key b) for one head: block table plus shared table, CLS is token 0. */
  private double positionBias(String pre, int head, int a, int b) {
    int g = c.gridSize();
    int size = (2 * g - 1) * (2 * g - 1) + 3;
    int row;
    if (a == 0 && b == 0) {
      row = size - 1;
    } else if (a == 0) {
      row = size - 3;
    } else if (b == 0) {
      row = size - 2;
    } else {
      int dy = (a - 1) / g - (b - 1) / g + g - 1;
      int dx = (a - 1) % g - (b - 1) % g + g - 1;
      row = dy * (2 * g - 1) + dx;
    }
    double sum = 0;
    int heads = c.numHeads();
    if (c.relPosBias()) {
      sum += p.get(pre + "attn.relative_position_bias_table")[row * heads + head];
    }
    if (c.sharedRelPosBias()) {
      sum += p.get("rel_pos_bias.relative_position_bias_table")[row * heads + head];
    }
    return sum;
  }

  private double[] scaleBy(double[] x, String gamma) {
    float[] g = p.get(gamma);
    if (g == null) {
      return x;
    }
    double[] out = new double[x.length];
    for (int j = 0; j < x.length; j++) {
      out[j] = x[j] * g[j];
    }
    return out;
  }

  private double[] linear(double[] x, String prefix) {
    float[] w = p.get(prefix + ".weight");
    float[] b = p.get(prefix + ".bias");
    double[] out = new double[b.length];
    for (int o = 0; o < out.length; o++) {
      double sum = b[o];
      for (int j = 0; j < x.length; j++) {
        sum += w[o * x.length + j] * x[j];
      }
      out[o] = sum;
    }
    return out;
  }

  private double[][] layerNorm(double[][] x, String prefix) {
    float[] w = p.get(prefix + ".weight");
    float[] b = p.get(prefix + ".bias");
    double[][] out = new double[x.length][];
    for (int s = 0; s < x.length; s++) {
      double mean = 0;
      for (double value : x[s]) {
        mean += value / x[s].length;
      }
      double var = 0;
      for (double value : x[s]) {
        var += (value - mean) * (value - mean) / x[s].length;
      }
      double inv = 1 / Math.sqrt(var + 1e-6);
      out[s] = new double[x[s].length];
      for (int j = 0; j < x[s].length; j++) {
        out[s][j] = (x[s][j] - mean) * inv * w[j] + b[j];
      }
    }
    return out;
  }

  private static double[] add(double[] a, double[] b) {
    double[] out = new double[a.length];
    for (int j = 0; j < a.length; j++) {
      out[j] = a[j] + b[j];
    }
    return out;
  }

  private static double[] toDouble(float[] values) {
    double[] out = new double[values.length];
    for (int j = 0; j < values.length; j++) {
      out[j] = values[j];
    }
    return out;
  }

  /** erf by Abramowitz and Stegun 7.1.26, absolute error below 1.5e-7. */
  static double erf(double x) {
    double t = 1 / (1 + 0.3275911 * Math.abs(x));
    double poly =
        t
            * (0.254829592
                + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
    double y = 1 - poly * Math.exp(-x * x);
    return x >= 0 ? y : -y;
  }
}
