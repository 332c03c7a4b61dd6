#!/usr/bin/python3
"""TorchScript fixtures for TorchScriptTeacherTest: tiny modules saved with torch.jit.

Image size 16, patch size 4, so N = 16 patch tokens; P = 8 output features.

* ``cls_tokens.pt`` (torch.jit.script): Conv2d(3, 8, 4, stride 4) patch embedding, flattened
  row-major over the 4x4 grid, a learned CLS token prepended, then LayerNorm and Linear(8, 8):
  returns [B, N + 1, P]. The teacher must drop token 0.
* ``patch_tokens.pt`` (torch.jit.trace): the same patch embedding, GELU, Linear(8, 8), no CLS:
  returns [B, N, P].
* ``pooled.pt`` (torch.jit.script): mean over the patch tokens, [B, P]; rank 2, a bad teacher.
* ``wrong_count.pt`` (torch.jit.script): patch size 8 instead of 4, [B, 4, P]; neither N nor
  N + 1 tokens, a bad teacher.

Inputs: ``pixels.npy`` [2, 3, 16, 16] in [0, 1], NOT normalised. Every module receives
NORMALISED pixels: this script applies the OpenAI CLIP mean/std itself, ``(x - mean) / std``
per channel with mean (0.48145466, 0.4578275, 0.40821073) and std (0.26862954, 0.26130258,
0.27577711) (``ImageNormalization.CLIP`` on the Java side), then runs the module in eval mode
under ``torch.no_grad()``. Expected outputs, float32:

* ``cls_tokens_expected.npy`` [2, 16, 8]: output of ``cls_tokens.pt`` with token 0 (CLS) dropped;
* ``patch_tokens_expected.npy`` [2, 16, 8]: output of ``patch_tokens.pt`` as is.

The expected outputs come from the in-memory modules and are checked against the saved and
reloaded ones before writing. Parameters are random from a fixed seed.

Regenerate (Debian's torch: ``apt-get install python3-torch``), from this directory:

    /usr/bin/python3 make_modules.py
"""

import os

import numpy as np
import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
IMAGE, PATCH, DIM, P = 16, 4, 8, 8
MEAN = torch.tensor([0.48145466, 0.4578275, 0.40821073]).view(1, 3, 1, 1)
STD = torch.tensor([0.26862954, 0.26130258, 0.27577711]).view(1, 3, 1, 1)


class ClsTokens(nn.Module):
    def __init__(self):
        super().__init__()
        self.patch = nn.Conv2d(3, DIM, PATCH, stride=PATCH)
        self.cls = nn.Parameter(torch.randn(1, 1, DIM))
        self.norm = nn.LayerNorm(DIM)
        self.proj = nn.Linear(DIM, P)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        t = self.patch(x).flatten(2).transpose(1, 2)  # [B, N, D]
        t = torch.cat([self.cls.expand(t.shape[0], -1, -1), t], dim=1)  # [B, N + 1, D]
        return self.proj(self.norm(t))


class PatchTokens(nn.Module):
    def __init__(self):
        super().__init__()
        self.patch = nn.Conv2d(3, DIM, PATCH, stride=PATCH)
        self.proj = nn.Linear(DIM, P)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        t = self.patch(x).flatten(2).transpose(1, 2)
        return self.proj(torch.nn.functional.gelu(t))


class Pooled(nn.Module):
    def __init__(self):
        super().__init__()
        self.patch = nn.Conv2d(3, P, PATCH, stride=PATCH)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.patch(x).flatten(2).mean(dim=2)  # [B, P]


class WrongCount(nn.Module):
    def __init__(self):
        super().__init__()
        self.patch = nn.Conv2d(3, P, 2 * PATCH, stride=2 * PATCH)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.patch(x).flatten(2).transpose(1, 2)  # [B, 4, P]


def save(module, name, example, trace=False):
    module.eval()
    scripted = torch.jit.trace(module, example) if trace else torch.jit.script(module)
    path = os.path.join(HERE, name)
    scripted.save(path)
    return torch.jit.load(path)


def main():
    torch.manual_seed(20240521)
    pixels = torch.rand(2, 3, IMAGE, IMAGE)
    normalised = (pixels - MEAN) / STD
    np.save(os.path.join(HERE, "pixels.npy"), pixels.numpy().astype("<f4"))

    cls_tokens, patch_tokens = ClsTokens(), PatchTokens()
    cls_loaded = save(cls_tokens, "cls_tokens.pt", normalised)
    patch_loaded = save(patch_tokens, "patch_tokens.pt", normalised, trace=True)
    save(Pooled(), "pooled.pt", normalised)
    save(WrongCount(), "wrong_count.pt", normalised)

    with torch.no_grad():
        cls_out = cls_tokens(normalised)
        patch_out = patch_tokens(normalised)
        assert cls_out.shape == (2, 17, P) and patch_out.shape == (2, 16, P)
        assert torch.equal(cls_loaded(normalised), cls_out)
        assert torch.equal(patch_loaded(normalised), patch_out)
    np.save(os.path.join(HERE, "cls_tokens_expected.npy"), cls_out[:, 1:].numpy().astype("<f4"))
    np.save(os.path.join(HERE, "patch_tokens_expected.npy"), patch_out.numpy().astype("<f4"))


if __name__ == "__main__":
    main()
