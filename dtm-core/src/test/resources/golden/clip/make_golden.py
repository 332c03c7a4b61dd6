#!/usr/bin/python3
"""Golden data for ClipVisionTeacherTest: a tiny random CLIP vision tower in the Hugging Face layout.

Independence: this is a from-scratch PyTorch implementation of the Hugging Face
``CLIPVisionModelWithProjection`` forward pass as documented (``modeling_clip.py`` semantics), used
the way this project uses a CLIP teacher. It imports no project code and no transformers; it shares
with the Java teacher only the Hugging Face tensor names, the config keys and the documented
conventions:

* pixels in [0, 1] normalised with ``(x - image_mean) / image_std`` per channel;
* patch embedding: ``Conv2d(3, D, kernel=p, stride=p, bias=False)``, flattened row-major over the
  patch grid;
* ``class_embedding`` [D] prepended, ``position_embedding.weight`` [N + 1, D] added;
* ``pre_layrnorm`` (sic, the Hugging Face name);
* blocks: ``x = x + out_proj(attn(layer_norm1(x)))``, ``x = x + fc2(act(fc1(layer_norm2(x))))``;
  attention with separate q/k/v projections (all with bias), ``q * h**-0.5``, softmax over keys;
  activation QuickGELU ``x * sigmoid(1.702 x)``;
* ``post_layernorm`` on every token (not only CLS), then ``visual_projection`` (no bias), CLS dropped.

LayerNorm eps is 1e-5 (the Hugging Face default). Every parameter is random so every term is
exercised; the preprocessor's mean/std are not CLIP's so normalisation is exercised too. The reference
is computed in float64 from the float32 parameters and inputs, then stored as float32.

Regenerate (Debian's torch: ``apt-get install python3-torch``), from this directory:

    /usr/bin/python3 make_golden.py

It writes config.json, preprocessor_config.json, model.safetensors (F32, little endian, written by
hand: no safetensors package needed), pixels.npy [2,3,32,32] in [0, 1] and tokens.npy [2,16,20].
"""

import json
import os
import struct
from collections import OrderedDict

import numpy as np
import torch
import torch.nn.functional as F

OUT = os.path.dirname(os.path.abspath(__file__))

VISION = OrderedDict(
    hidden_size=48,
    intermediate_size=96,
    num_hidden_layers=2,
    num_attention_heads=3,
    num_channels=3,
    image_size=32,
    patch_size=8,
    hidden_act="quick_gelu",
    layer_norm_eps=1e-5,
)
PROJECTION_DIM = 20
MEAN = [0.3, 0.5, 0.6]
STD = [0.2, 0.35, 0.25]


def make_params(c, gen):
    """Random parameters with Hugging Face CLIP names and shapes."""
    d, m, p = c["hidden_size"], c["intermediate_size"], c["patch_size"]
    n = (c["image_size"] // p) ** 2

    def rnd(shape, std, mean=0.0):
        return (torch.randn(shape, generator=gen, dtype=torch.float32) * std + mean).float()

    ps = OrderedDict()
    v = "vision_model."
    ps[v + "embeddings.class_embedding"] = rnd((d,), 1.0)
    ps[v + "embeddings.patch_embedding.weight"] = rnd((d, 3, p, p), 1.0 / (3 * p * p) ** 0.5)
    ps[v + "embeddings.position_embedding.weight"] = rnd((n + 1, d), 0.5)
    ps[v + "pre_layrnorm.weight"] = rnd((d,), 0.2, 1.0)
    ps[v + "pre_layrnorm.bias"] = rnd((d,), 0.2)
    for i in range(c["num_hidden_layers"]):
        b = v + "encoder.layers.%d." % i
        for proj in ("k_proj", "v_proj", "q_proj", "out_proj"):
            ps[b + "self_attn." + proj + ".weight"] = rnd((d, d), 1.5 / d**0.5)
            ps[b + "self_attn." + proj + ".bias"] = rnd((d,), 0.3)
        ps[b + "layer_norm1.weight"] = rnd((d,), 0.2, 1.0)
        ps[b + "layer_norm1.bias"] = rnd((d,), 0.2)
        ps[b + "mlp.fc1.weight"] = rnd((m, d), 1.0 / d**0.5)
        ps[b + "mlp.fc1.bias"] = rnd((m,), 0.2)
        ps[b + "mlp.fc2.weight"] = rnd((d, m), 1.0 / m**0.5)
        ps[b + "mlp.fc2.bias"] = rnd((d,), 0.2)
        ps[b + "layer_norm2.weight"] = rnd((d,), 0.2, 1.0)
        ps[b + "layer_norm2.bias"] = rnd((d,), 0.2)
    ps[v + "post_layernorm.weight"] = rnd((d,), 0.2, 1.0)
    ps[v + "post_layernorm.bias"] = rnd((d,), 0.2)
    ps["visual_projection.weight"] = rnd((PROJECTION_DIM, d), 1.0 / d**0.5)
    return ps


def layer_norm(x, w, name, eps):
    return F.layer_norm(x, (x.shape[-1],), w[name + ".weight"], w[name + ".bias"], eps)


def attention(x, w, pre, heads):
    bsz, t, d = x.shape
    h = d // heads

    def proj(name):
        return F.linear(x, w[pre + name + ".weight"], w[pre + name + ".bias"])

    def split(y):
        return y.view(bsz, t, heads, h).transpose(1, 2)  # [B, H, T, h]

    q = split(proj("q_proj")) * h**-0.5
    k = split(proj("k_proj"))
    v = split(proj("v_proj"))
    weights = torch.softmax(q @ k.transpose(-1, -2), dim=-1)
    out = (weights @ v).transpose(1, 2).reshape(bsz, t, d)
    return F.linear(out, w[pre + "out_proj.weight"], w[pre + "out_proj.bias"])


def quick_gelu(x):
    return x * torch.sigmoid(1.702 * x)


def forward(pixels, w, c):
    eps = c["layer_norm_eps"]
    v = "vision_model."
    mean = torch.tensor(MEAN, dtype=pixels.dtype).view(1, 3, 1, 1)
    std = torch.tensor(STD, dtype=pixels.dtype).view(1, 3, 1, 1)
    x = (pixels - mean) / std
    x = F.conv2d(x, w[v + "embeddings.patch_embedding.weight"], None, stride=c["patch_size"])
    x = x.flatten(2).transpose(1, 2)  # [B, N, D]
    bsz = x.shape[0]
    cls = w[v + "embeddings.class_embedding"].expand(bsz, 1, -1)
    x = torch.cat((cls, x), dim=1) + w[v + "embeddings.position_embedding.weight"].unsqueeze(0)
    x = layer_norm(x, w, v + "pre_layrnorm", eps)
    for i in range(c["num_hidden_layers"]):
        b = v + "encoder.layers.%d." % i
        x = x + attention(layer_norm(x, w, b + "layer_norm1", eps), w, b + "self_attn.",
                          c["num_attention_heads"])
        hdn = F.linear(layer_norm(x, w, b + "layer_norm2", eps), w[b + "mlp.fc1.weight"],
                       w[b + "mlp.fc1.bias"])
        hdn = F.linear(quick_gelu(hdn), w[b + "mlp.fc2.weight"], w[b + "mlp.fc2.bias"])
        x = x + hdn
    x = layer_norm(x, w, v + "post_layernorm", eps)
    x = F.linear(x, w["visual_projection.weight"])
    return x[:, 1:]


def write_safetensors(path, tensors):
    header = OrderedDict()
    header["__metadata__"] = {"format": "pt"}
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


def write_json(name, obj):
    with open(os.path.join(OUT, name), "w") as f:
        json.dump(obj, f, indent=2)
        f.write("\n")


def main():
    c = VISION
    gen = torch.Generator().manual_seed(20240611)
    params = make_params(c, gen)
    s = c["image_size"]
    pixels = torch.rand((2, 3, s, s), generator=gen)

    w64 = OrderedDict((k, t.double()) for k, t in params.items())
    with torch.no_grad():
        tokens = forward(pixels.double(), w64, c)

    write_json("config.json", OrderedDict(
        architectures=["CLIPVisionModelWithProjection"],
        projection_dim=PROJECTION_DIM,
        **c))
    write_json("preprocessor_config.json", OrderedDict(
        crop_size={"height": s, "width": s},
        do_center_crop=True,
        do_normalize=True,
        do_resize=True,
        image_mean=MEAN,
        image_std=STD,
        resample=3,
        size={"shortest_edge": s},
    ))
    write_safetensors(os.path.join(OUT, "model.safetensors"), params)
    save_npy("pixels.npy", pixels)
    save_npy("tokens.npy", tokens)
    print("tokens", tuple(tokens.shape), tokens[0, 0, :4].numpy().round(4).tolist())


if __name__ == "__main__":
    main()
