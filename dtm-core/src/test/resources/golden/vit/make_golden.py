#!/usr/bin/python3
"""Golden data for VisionTransformerGoldenTest: a tiny BEiT v2-style ViT in plain PyTorch.

Independence: this is a from-scratch PyTorch implementation of the BEiT v2 / timm ``Beit``
forward pass (timm ``timm/models/beit.py``, BEiT v2 ``modeling_pretrain.py``). It imports no
project code and no timm; it shares with the Java model only the parameter names and shapes
(timm's names) and the documented input/output conventions. Numerics follow the reference:

* patch embedding: ``Conv2d(C, D, kernel=p, stride=p)`` with bias, flattened row-major over the
  patch grid;
* masked patches: ``x = x * (1 - w) + mask_token * w`` with ``w`` the [B, N, 1] mask;
* ``cls_token`` prepended, no absolute position embedding;
* blocks: ``x = x + gamma_1 * attn(norm1(x))``, ``x = x + gamma_2 * mlp(norm2(x))``; LayerNorm
  eps 1e-6; attention with ``qkv`` weight [3D, D], bias ``cat(q_bias, 0, v_bias)``, qkv reshaped
  (B, T, 3, H, h) and permuted to (3, B, H, T, h), ``q * h**-0.5``, plus the block's own relative
  position bias and the shared ``rel_pos_bias`` (both from [(2Wh-1)(2Ww-1)+3, H] tables indexed
  by BEiT's ``relative_position_index``, CLS rows/columns included); MLP ``fc2(gelu(fc1(x)))``
  with the exact erf GELU;
* pretraining: final ``norm``, ``lm_head`` on the patch tokens; classifier (BEiT's fine-tuning
  model, timm's ``Beit(global_pool='avg')``): no final ``norm``, mean of the patch tokens, then
  ``fc_norm`` and ``head``. The weights hold both heads; the Java test loads the pretraining
  subset (without ``fc_norm``/``head``) and the classifier subset (without ``norm``/``lm_head``).

Every parameter is random (not the zero/one initialisation) so that every term is exercised. The
reference is computed in float64 from the float32 parameters and inputs, then stored as float32.

Regenerate (Debian's torch: ``apt-get install python3-torch``), from this directory:

    /usr/bin/python3 make_golden.py

It writes config.json, weights.safetensors (F32, little endian, written by hand: no safetensors
package needed), images.npy [2,3,32,32], mask.npy [2,16], features.npy [2,17,48] (with the mask),
tokens.npy [2,16,20] (lm_head of those features) and logits.npy [2,5] (without the mask).
"""

import json
import os
import struct
from collections import OrderedDict

import numpy as np
import torch
import torch.nn.functional as F

OUT = os.path.dirname(os.path.abspath(__file__))

CONFIG = OrderedDict(
    name="golden",
    imageSize=32,
    patchSize=8,
    inChannels=3,
    embedDim=48,
    depth=2,
    numHeads=3,
    mlpDim=96,
    layerScaleInit=0.1,
    relPosBias=True,
    sharedRelPosBias=True,
    tokenHeadDim=20,
    numClasses=5,
    dropPath=0.0,
)
EPS = 1e-6


def relative_position_index(wh, ww):
    """BEiT's index: [(N+1), (N+1)] rows into a [(2wh-1)(2ww-1)+3, H] table, token 0 = CLS."""
    num_relative_distance = (2 * wh - 1) * (2 * ww - 1) + 3
    ys, xs = torch.meshgrid(torch.arange(wh), torch.arange(ww), indexing="ij")
    coords = torch.stack([ys.flatten(), xs.flatten()])  # [2, N]
    rel = (coords[:, :, None] - coords[:, None, :]).permute(1, 2, 0).contiguous()  # [N, N, 2]
    rel[:, :, 0] += wh - 1
    rel[:, :, 1] += ww - 1
    rel[:, :, 0] *= 2 * ww - 1
    n = wh * ww
    index = torch.zeros((n + 1, n + 1), dtype=torch.long)
    index[1:, 1:] = rel.sum(-1)
    index[0, 0:] = num_relative_distance - 3  # CLS query -> any key
    index[0:, 0] = num_relative_distance - 2  # any query -> CLS key
    index[0, 0] = num_relative_distance - 1  # CLS -> CLS
    return index


def make_params(c, gen):
    """Random parameters with this project's (timm's) names, in its definition order."""
    d, m, heads = c["embedDim"], c["mlpDim"], c["numHeads"]
    g = c["imageSize"] // c["patchSize"]
    p, ch = c["patchSize"], c["inChannels"]
    s = (2 * g - 1) * (2 * g - 1) + 3

    def rnd(shape, std, mean=0.0):
        return (torch.randn(shape, generator=gen, dtype=torch.float32) * std + mean).float()

    ps = OrderedDict()
    ps["cls_token"] = rnd((1, 1, d), 1.0)
    ps["mask_token"] = rnd((1, 1, d), 1.0)
    ps["patch_embed.proj.weight"] = rnd((d, ch, p, p), 1.0 / (ch * p * p) ** 0.5)
    ps["patch_embed.proj.bias"] = rnd((d,), 0.2)
    ps["rel_pos_bias.relative_position_bias_table"] = rnd((s, heads), 0.5)
    for i in range(c["depth"]):
        b = "blocks.%d." % i
        ps[b + "gamma_1"] = rnd((d,), 0.2, c["layerScaleInit"] * 4)
        ps[b + "gamma_2"] = rnd((d,), 0.2, c["layerScaleInit"] * 4)
        ps[b + "norm1.weight"] = rnd((d,), 0.2, 1.0)
        ps[b + "norm1.bias"] = rnd((d,), 0.2)
        ps[b + "attn.q_bias"] = rnd((d,), 0.3)
        ps[b + "attn.v_bias"] = rnd((d,), 0.3)
        ps[b + "attn.relative_position_bias_table"] = rnd((s, heads), 0.5)
        ps[b + "attn.qkv.weight"] = rnd((3 * d, d), 1.5 / d**0.5)
        ps[b + "attn.proj.weight"] = rnd((d, d), 1.0 / d**0.5)
        ps[b + "attn.proj.bias"] = rnd((d,), 0.2)
        ps[b + "norm2.weight"] = rnd((d,), 0.2, 1.0)
        ps[b + "norm2.bias"] = rnd((d,), 0.2)
        ps[b + "mlp.fc1.weight"] = rnd((m, d), 1.0 / d**0.5)
        ps[b + "mlp.fc1.bias"] = rnd((m,), 0.2)
        ps[b + "mlp.fc2.weight"] = rnd((d, m), 1.0 / m**0.5)
        ps[b + "mlp.fc2.bias"] = rnd((d,), 0.2)
    ps["norm.weight"] = rnd((d,), 0.2, 1.0)
    ps["norm.bias"] = rnd((d,), 0.2)
    ps["lm_head.weight"] = rnd((c["tokenHeadDim"], d), 1.0 / d**0.5)
    ps["lm_head.bias"] = rnd((c["tokenHeadDim"],), 0.2)
    ps["fc_norm.weight"] = rnd((d,), 0.2, 1.0)
    ps["fc_norm.bias"] = rnd((d,), 0.2)
    ps["head.weight"] = rnd((c["numClasses"], d), 1.0 / d**0.5)
    ps["head.bias"] = rnd((c["numClasses"],), 0.2)
    return ps


def rel_bias(table, index, heads):
    """[S, H] table -> [1, H, T, T] bias, as timm's Beit ``_get_rel_pos_bias``."""
    t = index.shape[0]
    return table[index.view(-1)].view(t, t, heads).permute(2, 0, 1).contiguous().unsqueeze(0)


def attention(x, w, pre, heads, shared_bias, index):
    bsz, t, d = x.shape
    qkv_bias = torch.cat((w[pre + "q_bias"], torch.zeros_like(w[pre + "v_bias"]), w[pre + "v_bias"]))
    qkv = F.linear(x, w[pre + "qkv.weight"], qkv_bias)
    qkv = qkv.reshape(bsz, t, 3, heads, -1).permute(2, 0, 3, 1, 4)
    q, k, v = qkv.unbind(0)  # [B, H, T, h]
    q = q * (d // heads) ** -0.5
    attn = q @ k.transpose(-2, -1)
    attn = attn + rel_bias(w[pre + "relative_position_bias_table"], index, heads)
    attn = attn + shared_bias
    attn = attn.softmax(dim=-1)
    out = (attn @ v).transpose(1, 2).reshape(bsz, t, d)
    return F.linear(out, w[pre + "proj.weight"], w[pre + "proj.bias"])


def layer_norm(x, w, name):
    return F.layer_norm(x, (x.shape[-1],), w[name + ".weight"], w[name + ".bias"], EPS)


def forward_features(images, mask, w, c, final_norm=True):
    d, heads = c["embedDim"], c["numHeads"]
    g = c["imageSize"] // c["patchSize"]
    x = F.conv2d(images, w["patch_embed.proj.weight"], w["patch_embed.proj.bias"],
                 stride=c["patchSize"])  # [B, D, g, g]
    x = x.flatten(2).transpose(1, 2)  # [B, N, D]
    bsz, n, _ = x.shape
    if mask is not None:
        mw = mask.unsqueeze(-1).type_as(x)
        x = x * (1 - mw) + w["mask_token"].expand(bsz, n, -1) * mw
    x = torch.cat((w["cls_token"].expand(bsz, -1, -1), x), dim=1)
    index = relative_position_index(g, g)
    shared = rel_bias(w["rel_pos_bias.relative_position_bias_table"], index, heads)
    for i in range(c["depth"]):
        b = "blocks.%d." % i
        x = x + w[b + "gamma_1"] * attention(layer_norm(x, w, b + "norm1"), w, b + "attn.",
                                               heads, shared, index)
        h = F.linear(layer_norm(x, w, b + "norm2"), w[b + "mlp.fc1.weight"], w[b + "mlp.fc1.bias"])
        h = F.gelu(h)  # exact (erf) GELU
        h = F.linear(h, w[b + "mlp.fc2.weight"], w[b + "mlp.fc2.bias"])
        x = x + w[b + "gamma_2"] * h
    return layer_norm(x, w, "norm") if final_norm else x


def predict_tokens(features, w):
    return F.linear(features[:, 1:], w["lm_head.weight"], w["lm_head.bias"])


def classify(features, w):
    pooled = features[:, 1:].mean(dim=1)
    return F.linear(layer_norm(pooled, w, "fc_norm"), w["head.weight"], w["head.bias"])


def write_safetensors(path, tensors):
    header = OrderedDict()
    blobs = []
    offset = 0
    for name, t in tensors.items():
        data = t.detach().numpy().astype("<f4").tobytes(order="C")
        header[name] = {"dtype": "F32", "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((-len(text)) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for data in blobs:
            f.write(data)


def save_npy(name, t):
    np.save(os.path.join(OUT, name), np.ascontiguousarray(t.detach().numpy().astype("<f4")))


def main():
    c = CONFIG
    gen = torch.Generator().manual_seed(20240607)
    params = make_params(c, gen)
    n = (c["imageSize"] // c["patchSize"]) ** 2
    images = torch.randn((2, c["inChannels"], c["imageSize"], c["imageSize"]), generator=gen)
    mask = torch.zeros((2, n))
    mask[0, [0, 1, 4, 5, 10, 15]] = 1  # a block, a lone patch, the last patch
    mask[1, [2, 3, 6, 7, 8, 9, 12, 13]] = 1  # two 2x2 blocks

    w64 = OrderedDict((k, v.double()) for k, v in params.items())
    with torch.no_grad():
        features = forward_features(images.double(), mask.double(), w64, c)
        tokens = predict_tokens(features, w64)
        logits = classify(forward_features(images.double(), None, w64, c, final_norm=False), w64)

    with open(os.path.join(OUT, "config.json"), "w") as f:
        json.dump(c, f, indent=2)
        f.write("\n")
    write_safetensors(os.path.join(OUT, "weights.safetensors"), params)
    save_npy("images.npy", images)
    save_npy("mask.npy", mask)
    save_npy("features.npy", features)
    save_npy("tokens.npy", tokens)
    save_npy("logits.npy", logits)
    print("features", tuple(features.shape), "tokens", tuple(tokens.shape),
          "logits", tuple(logits.shape), logits.numpy().round(4).tolist())


if __name__ == "__main__":
    main()
