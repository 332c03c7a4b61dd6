#!/usr/bin/env python3
"""The PyTorch half of deploy/gpu/device-check.sh: the references our Java code is measured against.

  torch_reference.py clip  --java JAVA_JSON --work DIR --out FILE [--warmup N] [--reps N]
  torch_reference.py beit  --java JAVA_JSON --out FILE [--warmup N] [--steps N]
  torch_reference.py merge --java JAVA_JSON --clip FILE --beit FILE --env FILE --out FILE

clip: Hugging Face CLIPVisionModelWithProjection with the weights of the Java check's random
  CLIP-layout checkpoint, on the same device (CUDA when the Java check ran on the GPU), in float32
  and float16: the largest absolute difference of its tokens (post_layernorm and visual_projection
  of every token but CLS, what our teacher computes) against the Java check's tokens of the same
  pixels, and its images/s at the Java check's batch.
beit: timm's Beit of the Java student's shape (relative position bias, layer scale, a token head of
  the targets' width), trained on the same batch size with a masked-token cosine loss and AdamW:
  fp32, and fp16 through torch.autocast with a GradScaler; images/s and peak memory.
merge: one JSON of everything, with the ratios that are the headline.

clip and beit write a JSON whose "status" says why they did nothing where torch, transformers, timm
or CUDA are missing; merge needs only the standard library.
"""

import argparse
import json
import os
import statistics
import sys
import time

FORMAT = "dtm-device-check/1"


def write_json(path, value):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(value, f, indent=2, sort_keys=False)
        f.write("\n")
    os.replace(tmp, path)


def read_java(path):
    with open(path) as f:
        java = json.load(f)
    if java.get("format") != FORMAT:
        raise SystemExit(f"{path}: format must be {FORMAT}, cannot be: {java.get('format')!r}")
    return java


def import_or_status(names):
    """Imports the named modules; returns (modules, None) or (None, why)."""
    modules = []
    for name in names:
        try:
            modules.append(__import__(name))
        except Exception as e:  # ImportError, or a broken native library
            return None, f"skipped: python module {name} not importable: {type(e).__name__}: {e}"
    return modules, None


def device_of(java, torch):
    """cuda when the Java check ran on the GPU (and CUDA is there), else cpu."""
    if java["engine"]["device"].startswith("gpu"):
        if not torch.cuda.is_available():
            raise SystemExit("the Java check ran on a GPU, but torch.cuda.is_available() is False")
        return "cuda"
    return "cpu"


def sync(torch, device):
    if device == "cuda":
        torch.cuda.synchronize()


# ---- clip -----------------------------------------------------------------------------------------


def clip(args):
    java = read_java(args.java)
    mods, why = import_or_status(["torch", "numpy", "transformers", "safetensors.torch"])
    if why:
        write_json(args.out, {"status": why})
        return
    torch, np, transformers, _ = mods
    from safetensors.torch import load_file

    teacher = java["teacher"]
    c = teacher["config"]
    device = device_of(java, torch)
    config = transformers.CLIPVisionConfig(
        hidden_size=c["hidden_size"],
        intermediate_size=c["intermediate_size"],
        num_hidden_layers=c["num_hidden_layers"],
        num_attention_heads=c["num_attention_heads"],
        image_size=c["image_size"],
        patch_size=c["patch_size"],
        projection_dim=c["projection_dim"],
        hidden_act="quick_gelu",
        layer_norm_eps=1e-5,
    )
    state = load_file(os.path.join(teacher["checkpoint"], "model.safetensors"))
    model = transformers.CLIPVisionModelWithProjection(config)
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [k for k in missing if not k.endswith("position_ids")]
    if missing or unexpected:
        raise SystemExit(f"CLIP weights do not fit: missing {missing}, unexpected {unexpected}")
    model.eval()
    mean = torch.tensor([0.48145466, 0.4578275, 0.40821073]).view(1, 3, 1, 1)
    std = torch.tensor([0.26862954, 0.26130258, 0.27577711]).view(1, 3, 1, 1)
    pixels = torch.from_numpy(np.load(os.path.join(args.work, teacher["pixels_npy"])))
    reference = np.load(os.path.join(args.work, teacher["runs"]["cpu_fp32"]["tokens_npy"]))
    prefix = "gpu" if device == "cuda" else "cpu"

    def tokens(m, x, dtype):
        # [B, 3, S, S] in [0, 1] -> [B, N, P]: what our teacher computes
        x = ((x - mean.to(x.device)) / std.to(x.device)).to(dtype)
        hidden = m.vision_model(pixel_values=x).last_hidden_state
        return m.visual_projection(m.vision_model.post_layernorm(hidden))[:, 1:, :]

    out = {"status": "ok", "device": device, "transformers": transformers.__version__,
           "torch": torch.__version__,
           "attn_implementation": getattr(model.config, "_attn_implementation", None), "runs": {}}
    for label, dtype in (("fp32", torch.float32), ("fp16", torch.float16)):
        row = {}
        if device == "cpu" and dtype == torch.float16:
            out["runs"][f"{prefix}_{label}"] = {"status": "skipped: fp16 is checked on CUDA only"}
            continue
        m = model.to(device=device, dtype=dtype)
        with torch.inference_mode():
            hf = tokens(m, pixels.to(device), dtype).float().cpu().numpy()
        ours_run = teacher["runs"].get(f"{prefix}_{label}", {})
        if "tokens_npy" in ours_run:
            ours = np.load(os.path.join(args.work, ours_run["tokens_npy"]))
            row["max_abs_diff_vs_ours"] = float(np.abs(hf - ours).max())
        row["max_abs_diff_vs_ours_cpu_fp32"] = float(np.abs(hf - reference).max())
        batch = teacher["bench_batch"]
        s = c["image_size"]
        gen = torch.Generator().manual_seed(1)
        x = torch.rand(batch, 3, s, s, generator=gen).to(device)
        seconds = []
        with torch.inference_mode():
            for i in range(args.warmup + args.reps):
                sync(torch, device)
                start = time.perf_counter()
                tokens(m, x, dtype)
                sync(torch, device)
                if i >= args.warmup:
                    seconds.append(time.perf_counter() - start)
        median = statistics.median(seconds)
        row.update({"batch": batch, "call_s_median": median, "images_per_s": batch / median,
                    "call_samples_s": seconds})
        out["runs"][f"{prefix}_{label}"] = row
    write_json(args.out, out)


# ---- beit -----------------------------------------------------------------------------------------


def beit(args):
    java = read_java(args.java)
    mods, why = import_or_status(["torch", "timm"])
    if why:
        write_json(args.out, {"status": why})
        return
    torch, timm = mods
    from timm.models.beit import Beit

    st = java["student"]
    device = device_of(java, torch)
    batch = java["teacher"]["bench_batch"]
    n = (st["image_size"] // st["patch_size"]) ** 2
    num_masked = round(n * 75 / 196)
    out = {"status": "ok", "device": device, "timm": timm.__version__, "torch": torch.__version__,
           "model": "timm Beit, " + ", ".join(f"{k}={v}" for k, v in st.items()),
           "loss": "1 - cosine(prediction, target) over masked tokens",
           "optimizer": "torch.optim.AdamW(lr=1e-4, betas=(0.9, 0.98), weight_decay=0.05), clip 3.0",
           "runs": []}
    for precision in args.precisions.split(","):
        if precision == "fp16" and device != "cuda":
            out["runs"].append({"precision": "fp16", "status": "skipped: autocast fp16 on CUDA only"})
            continue
        out["runs"].append(train_beit(torch, Beit, st, device, batch, n, num_masked, precision, args))
    write_json(args.out, out)


def train_beit(torch, Beit, st, device, batch, n, num_masked, precision, args):
    torch.manual_seed(0)
    if device == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
        before = torch.cuda.mem_get_info()
    # global_pool="token" keeps the final LayerNorm on every token, as our student has it
    model = Beit(img_size=st["image_size"], patch_size=st["patch_size"], num_classes=0,
                 global_pool="token",
                 embed_dim=st["embed_dim"], depth=st["depth"], num_heads=st["num_heads"],
                 mlp_ratio=st["mlp_dim"] / st["embed_dim"], use_abs_pos_emb=False,
                 use_rel_pos_bias=st["rel_pos_bias"],
                 use_shared_rel_pos_bias=st["shared_rel_pos_bias"],
                 init_values=st["layer_scale_init"] or None).to(device)
    head = torch.nn.Linear(st["embed_dim"], st["token_head_dim"]).to(device)
    mask_token = torch.nn.Parameter(torch.zeros(1, 1, st["embed_dim"], device=device))
    params = list(model.parameters()) + list(head.parameters()) + [mask_token]
    opt = torch.optim.AdamW(params, lr=1e-4, betas=(0.9, 0.98), weight_decay=0.05)
    scaler = torch.amp.GradScaler("cuda", enabled=precision == "fp16")
    gen = torch.Generator().manual_seed(2)
    s = st["image_size"]
    x = torch.rand(batch, 3, s, s, generator=gen).to(device)
    targets = torch.randn(batch, n, st["token_head_dim"], generator=gen).to(device)

    def forward(images, mask):
        # [B, 3, S, S], [B, N] bool -> [B, N, P]: BEiT's masked-image-modeling forward
        t = model.patch_embed(images)
        w = mask.unsqueeze(-1).type_as(t)
        t = t * (1 - w) + mask_token.type_as(t) * w
        t = torch.cat((model.cls_token.expand(t.shape[0], -1, -1), t), dim=1)
        rel = model.rel_pos_bias() if model.rel_pos_bias is not None else None
        for blk in model.blocks:
            t = blk(t, shared_rel_pos_bias=rel)
        return head(model.norm(t)[:, 1:, :])

    seconds, losses = [], []
    for i in range(args.warmup + args.steps):
        mask = torch.zeros(batch, n, dtype=torch.bool)
        for b in range(batch):
            mask[b, torch.randperm(n, generator=gen)[:num_masked]] = True
        mask = mask.to(device)
        sync(torch, device)
        start = time.perf_counter()
        with torch.autocast(device_type=device, dtype=torch.float16, enabled=precision == "fp16"):
            pred = forward(x, mask)
            loss = (1 - torch.nn.functional.cosine_similarity(
                pred[mask].float(), targets[mask], dim=-1)).mean()
        opt.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.unscale_(opt)
        torch.nn.utils.clip_grad_norm_(params, 3.0)
        scaler.step(opt)
        scaler.update()
        losses.append(loss.item())
        sync(torch, device)
        if i >= args.warmup:
            seconds.append(time.perf_counter() - start)
    median = statistics.median(seconds)
    row = {"precision": precision, "status": "ok", "batch": batch, "steps": args.steps,
           "step_s_median": median, "images_per_s": batch / median, "loss_first": losses[0],
           "loss_last": losses[-1], "step_samples_s": seconds}
    if device == "cuda":
        free, total = torch.cuda.mem_get_info()
        row["gpu_memory_max_allocated_mib"] = torch.cuda.max_memory_allocated() / 2**20
        row["gpu_memory_max_reserved_mib"] = torch.cuda.max_memory_reserved() / 2**20
        row["gpu_memory_in_use_before_mib"] = (before[1] - before[0]) / 2**20
        row["gpu_memory_in_use_after_mib"] = (total - free) / 2**20
    del model, head, opt
    return row


# ---- merge ----------------------------------------------------------------------------------------


def load_or_status(path):
    if not path or not os.path.exists(path):
        return {"status": f"missing: {path} was not written"}
    with open(path) as f:
        return json.load(f)


def ratio(a, b):
    return a / b if a and b else None


def merge(args):
    env = load_or_status(args.env)
    java = load_or_status(args.java)
    clip_json = load_or_status(args.clip)
    beit_json = load_or_status(args.beit)
    result = {"format": FORMAT, "environment": env, "java": java, "hf_clip": clip_json,
              "timm_beit": beit_json}
    headline = {}
    train = {r.get("precision"): r for r in java.get("train", [])} if "train" in java else {}
    beit_runs = {r.get("precision"): r for r in beit_json.get("runs", [])}
    timm_amp = beit_runs.get("fp16", {}).get("images_per_s")
    for precision in ("fp32", "fp16"):
        ours = train.get(precision, {})
        headline[f"ours_train_{precision}_images_per_s"] = ours.get("images_per_s", ours.get("status"))
        headline[f"ours_train_{precision}_over_timm_beit_autocast"] = ratio(
            ours.get("images_per_s"), timm_amp)
        # like for like: our step without morphing (the loss timm's BEiT is given is token-wise)
        headline[f"ours_train_{precision}_token_wise_over_timm_beit_autocast"] = ratio(
            ours.get("token_wise_images_per_s"), timm_amp)
        headline[f"ours_train_{precision}_gpu_memory_peak_mib"] = ours.get("gpu_memory_in_use_peak_mib")
    headline["timm_beit_autocast_images_per_s"] = timm_amp
    headline["timm_beit_fp32_images_per_s"] = beit_runs.get("fp32", {}).get("images_per_s")
    headline["timm_beit_autocast_gpu_memory_max_reserved_mib"] = beit_runs.get("fp16", {}).get(
        "gpu_memory_max_reserved_mib")
    runs = java.get("teacher", {}).get("runs", {})
    hf_runs = clip_json.get("runs", {})
    for key in ("gpu_fp16", "gpu_fp32"):
        ours = runs.get(key, {}).get("images_per_s")
        hf = hf_runs.get(key, {}).get("images_per_s")
        headline[f"teacher_{key}_ours_images_per_s"] = ours
        headline[f"teacher_{key}_hf_images_per_s"] = hf
        headline[f"teacher_{key}_ours_over_hf"] = ratio(ours, hf)
        headline[f"teacher_{key}_max_abs_diff_ours_vs_hf"] = hf_runs.get(key, {}).get(
            "max_abs_diff_vs_ours")
        headline[f"teacher_{key}_max_abs_diff_vs_cpu_fp32"] = runs.get(key, {}).get(
            "max_abs_diff_vs_cpu_fp32")
    for key in ("gpu_fp16", "cpu_fp16"):
        diff = runs.get(key, {}).get("max_abs_diff_vs_fp32_same_device")
        if diff is not None:
            headline["teacher_fp16_vs_fp32_max_abs_diff"] = diff
            headline["teacher_fp16_vs_fp32_device"] = key.split("_")[0]
            break
    # Why a figure is missing: every part that did not run says so.
    skipped = {}
    for key, run in runs.items():
        if "status" in run:
            skipped[f"teacher_{key}"] = run["status"]
    for r in java.get("train", []):
        if r.get("status") != "ok":
            skipped[f"ours_train_{r.get('precision')}"] = r.get("status")
    for name, part in (("hf_clip", clip_json), ("timm_beit", beit_json), ("java", java)):
        if part.get("status", "ok") != "ok":
            skipped[name] = part["status"]
    for r in beit_json.get("runs", []):
        if r.get("status") != "ok":
            skipped[f"timm_beit_{r.get('precision')}"] = r.get("status")
    headline["not_measured"] = skipped
    result["headline"] = headline
    write_json(args.out, result)
    print(json.dumps(headline, indent=2))


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    c = sub.add_parser("clip")
    c.add_argument("--java", required=True)
    c.add_argument("--work", required=True)
    c.add_argument("--out", required=True)
    c.add_argument("--warmup", type=int, default=3)
    c.add_argument("--reps", type=int, default=10)
    b = sub.add_parser("beit")
    b.add_argument("--java", required=True)
    b.add_argument("--out", required=True)
    b.add_argument("--warmup", type=int, default=3)
    b.add_argument("--steps", type=int, default=10)
    b.add_argument("--precisions", default="fp32,fp16")
    m = sub.add_parser("merge")
    m.add_argument("--java", required=True)
    m.add_argument("--clip")
    m.add_argument("--beit")
    m.add_argument("--env")
    m.add_argument("--out", required=True)
    args = p.parse_args(argv)
    {"clip": clip, "beit": beit, "merge": merge}[args.command](args)


if __name__ == "__main__":
    main(sys.argv[1:])
