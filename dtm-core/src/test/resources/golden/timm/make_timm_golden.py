#!/usr/bin/python3
"""Golden data for TimmInteropTest: outputs of timm's own ``Beit`` on small random checkpoints.

Made once with timm's public source (no timm file is in this repository) and Debian's PyTorch:

    apt-get install -y python3-torch python3-torchvision      # torch 1.13.1, torchvision 0.14.1
    git clone https://github.com/huggingface/pytorch-image-models /tmp/timm-repo
    mkdir /tmp/timm-src && git -C /tmp/timm-repo archive v0.9.16 timm | tar -x -C /tmp/timm-src
    PYTHONPATH=/tmp/timm-src /usr/bin/python3 make_timm_golden.py      # from this directory

(timm v0.9.16 is the last release line that runs on torch 1.13.)

Two checkpoints in this project's safetensors layout (timm/BEiT parameter names), every tensor
random and of order 1 where the initialisation would leave it trivial (relative position tables,
q/v biases, layer scale, norms, mask and CLS tokens):

* ``pretrained.safetensors``: a pretraining student (per-block and shared relative position bias,
  ``mask_token``, final ``norm``, ``lm_head``). Loaded into ``Beit(num_classes=0,
  global_pool='')`` by the call the README shows (drop ``mask_token`` and ``lm_head.*``, add the
  shared table's index buffer, ``strict=True``); ``tokens.npy`` = ``forward_features(images)``,
  [2, 17, 32], CLS first, after the final norm.
* ``finetuned.safetensors``: a classifier (per-block relative position bias only, no mask token, no
  final norm, ``fc_norm`` and a 5-class ``head``), loaded as it is with ``strict=True`` into
  ``Beit(num_classes=5, global_pool='avg')``; ``logits.npy`` = ``model(images)``, [2, 5].

``images.npy`` [2, 3, 32, 32] is the (already normalised) input; ``config.json`` the shape;
``timm_keys.json`` the state-dict keys of both timm models. Everything is float32.
"""

import json
import os
import struct
from collections import OrderedDict

import numpy as np
import torch

from timm.models.beit import Beit

OUT = os.path.dirname(os.path.abspath(__file__))

CONFIG = OrderedDict(
    imageSize=32,
    patchSize=8,
    inChannels=3,
    embedDim=32,
    depth=2,
    numHeads=2,
    mlpDim=64,
    layerScaleInit=0.1,
    tokenHeadDim=8,
    numClasses=5,
)


def timm_model(c, shared, num_classes, global_pool):
    return Beit(
        img_size=c["imageSize"],
        patch_size=c["patchSize"],
        in_chans=c["inChannels"],
        num_classes=num_classes,
        global_pool=global_pool,
        embed_dim=c["embedDim"],
        depth=c["depth"],
        num_heads=c["numHeads"],
        mlp_ratio=c["mlpDim"] / c["embedDim"],
        qkv_bias=True,
        init_values=c["layerScaleInit"],
        use_abs_pos_emb=False,
        use_rel_pos_bias=True,
        use_shared_rel_pos_bias=shared,
    ).eval()


def randomised(model, gen, extra):
    """The model's parameters (buffers excluded) replaced by random values, plus ``extra``."""
    out = OrderedDict()
    for name, p in model.named_parameters():
        shape = tuple(p.shape)
        if name.endswith("gamma_1") or name.endswith("gamma_2"):
            t = 0.5 + 0.2 * torch.randn(shape, generator=gen)
        elif "norm" in name and name.endswith(".weight"):
            t = 1.0 + 0.2 * torch.randn(shape, generator=gen)
        elif name.endswith("relative_position_bias_table") or name.endswith("_bias"):
            t = torch.randn(shape, generator=gen)  # q/v biases and tables of order 1
        elif name in ("cls_token",):
            t = torch.randn(shape, generator=gen)
        elif len(shape) >= 2:
            fan_in = int(np.prod(shape[1:]))
            t = torch.randn(shape, generator=gen) * (1.5 / fan_in ** 0.5)
        else:
            t = 0.2 * torch.randn(shape, generator=gen)
        out[name] = t.float().contiguous()
    for name, shape in extra.items():
        out[name] = torch.randn(shape, generator=gen).float()
    return out


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


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = OrderedDict()
    for name, h in header.items():
        if name == "__metadata__":
            continue
        a, b = h["data_offsets"]
        out[name] = torch.from_numpy(np.frombuffer(data[a:b], dtype="<f4").reshape(h["shape"]).copy())
    return out


def save_npy(name, t):
    np.save(os.path.join(OUT, name), np.ascontiguousarray(t.detach().numpy().astype("<f4")))


def main():
    c = CONFIG
    gen = torch.Generator().manual_seed(20261205)
    d = c["embedDim"]

    # Pretrained student: this project's pretraining layout, then loaded as the README says.
    encoder = timm_model(c, shared=True, num_classes=0, global_pool="")
    pretrained = randomised(encoder, gen, OrderedDict())
    pretrained["mask_token"] = torch.randn((1, 1, d), generator=gen).float()
    pretrained["lm_head.weight"] = (torch.randn((c["tokenHeadDim"], d), generator=gen) / d ** 0.5).float()
    pretrained["lm_head.bias"] = (0.2 * torch.randn((c["tokenHeadDim"],), generator=gen)).float()
    write_safetensors(os.path.join(OUT, "pretrained.safetensors"), pretrained)

    sd = read_safetensors(os.path.join(OUT, "pretrained.safetensors"))
    sd = {k: v for k, v in sd.items() if k != "mask_token" and not k.startswith("lm_head.")}
    sd["rel_pos_bias.relative_position_index"] = encoder.rel_pos_bias.relative_position_index
    encoder.load_state_dict(sd, strict=True)

    # Fine-tuned classifier: exactly timm's state dict (buffers are not persistent here).
    classifier = timm_model(c, shared=False, num_classes=c["numClasses"], global_pool="avg")
    finetuned = randomised(classifier, gen, OrderedDict())
    assert list(finetuned) == list(classifier.state_dict()), "classifier keys differ from timm's"
    write_safetensors(os.path.join(OUT, "finetuned.safetensors"), finetuned)
    classifier.load_state_dict(read_safetensors(os.path.join(OUT, "finetuned.safetensors")),
                               strict=True)

    images = torch.randn((2, c["inChannels"], c["imageSize"], c["imageSize"]), generator=gen)
    with torch.no_grad():
        tokens = encoder.forward_features(images)
        logits = classifier(images)

    with open(os.path.join(OUT, "config.json"), "w") as f:
        json.dump(c, f, indent=2)
        f.write("\n")
    with open(os.path.join(OUT, "timm_keys.json"), "w") as f:
        json.dump({"encoder": list(encoder.state_dict()),
                   "classifier": list(classifier.state_dict())}, f, indent=1)
        f.write("\n")
    save_npy("images.npy", images)
    save_npy("tokens.npy", tokens)
    save_npy("logits.npy", logits)
    print("tokens", tuple(tokens.shape), "logits", logits.numpy().round(4).tolist())


if __name__ == "__main__":
    main()
