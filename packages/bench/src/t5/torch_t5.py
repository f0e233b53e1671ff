# A compact PyTorch T5 (v1.0 layout: relu FF, tied head, relative bias in block 0) used only as a
# timing reference for packages/bench: same shapes and FLOPs as HF's T5ForConditionalGeneration.
# Usage: python3 torch_t5.py '<json: config path, batch, src_len, tgt_len, new_tokens, threads>'
import json, math, os, sys, time, resource
import torch
import torch.nn as nn
import torch.nn.functional as F

args = json.loads(sys.argv[1])
cfg = json.load(open(args["config"]))
if args.get("threads"): torch.set_num_threads(args["threads"])
torch.manual_seed(0)
# TPV_TORCH_DEVICE=cuda times the same model on the GPU (fp32, TF32 off), for the GPU sessions.
DEV = torch.device(os.environ.get('TPV_TORCH_DEVICE', 'cpu'))
if DEV.type == 'cuda':
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
def sync():
    if DEV.type == 'cuda': torch.cuda.synchronize()
D, H, DKV, DFF = cfg["d_model"], cfg["num_heads"], cfg["d_kv"], cfg["d_ff"]
NB, MAXD, V = cfg.get("relative_attention_num_buckets", 32), cfg.get("relative_attention_max_distance", 128), cfg["vocab_size"]
NL = cfg["num_layers"]; NDL = cfg.get("num_decoder_layers", NL)

def bucket(rel, bidirectional):
    nb = NB; ret = torch.zeros_like(rel)
    if bidirectional:
        nb //= 2; ret += (rel > 0).long() * nb; n = rel.abs()
    else:
        n = (-rel).clamp(min=0)
    exact = nb // 2
    large = exact + (torch.log(n.float() / exact + 1e-20) / math.log(MAXD / exact) * (nb - exact)).long()
    large = large.clamp(max=nb - 1)
    return ret + torch.where(n < exact, n, large)

class Norm(nn.Module):
    def __init__(s): super().__init__(); s.w = nn.Parameter(torch.ones(D))
    def forward(s, x): return s.w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6))

class Attn(nn.Module):
    def __init__(s, rel=False, bidir=True):
        super().__init__(); s.q, s.k, s.v = (nn.Linear(D, H * DKV, bias=False) for _ in range(3)); s.o = nn.Linear(H * DKV, D, bias=False)
        s.rel = nn.Embedding(NB, H) if rel else None; s.bidir = bidir
    def bias(s, lq, lk, offset=0):
        d = s.rel.weight.device
        ctx = torch.arange(lq, device=d)[:, None] + offset; mem = torch.arange(lk, device=d)[None, :]
        return s.rel(bucket(mem - ctx, s.bidir)).permute(2, 0, 1)[None]
    def forward(s, x, kv=None, bias=None, cache=None):
        B, L, _ = x.shape
        q = s.q(x).view(B, L, H, DKV).transpose(1, 2)
        src = x if kv is None else kv
        k = s.k(src).view(B, -1, H, DKV).transpose(1, 2); v = s.v(src).view(B, -1, H, DKV).transpose(1, 2)
        if cache is not None:
            if "k" in cache: k = torch.cat([cache["k"], k], 2); v = torch.cat([cache["v"], v], 2)
            cache["k"], cache["v"] = k, v
        sc = q @ k.transpose(-1, -2)
        if bias is not None: sc = sc + bias
        return s.o((sc.float().softmax(-1) @ v).transpose(1, 2).reshape(B, L, H * DKV))

class Block(nn.Module):
    def __init__(s, dec, first):
        super().__init__(); s.sa = Attn(first, not dec); s.n1 = Norm(); s.dec = dec
        if dec: s.ca = Attn(); s.n2 = Norm()
        s.wi = nn.Linear(D, DFF, bias=False); s.wo = nn.Linear(DFF, D, bias=False); s.n3 = Norm()
    def forward(s, h, bias, enc=None, ebias=None, cache=None):
        h = h + s.sa(s.n1(h), bias=bias, cache=cache)
        if s.dec: h = h + s.ca(s.n2(h), kv=enc, bias=ebias)
        return h + s.wo(F.relu(s.wi(s.n3(h))))

class T5(nn.Module):
    def __init__(s):
        super().__init__(); s.shared = nn.Embedding(V, D)
        s.enc = nn.ModuleList(Block(False, i == 0) for i in range(NL)); s.dec = nn.ModuleList(Block(True, i == 0) for i in range(NDL))
        s.en, s.dn = Norm(), Norm()
    def encode(s, ids, mask):
        h = s.shared(ids); L = ids.shape[1]
        b = s.enc[0].sa.bias(L, L) + (1 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
        for blk in s.enc: h = blk(h, b)
        return s.en(h), (1 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
    def decode(s, dids, enc, ebias, caches=None, offset=0):
        h = s.shared(dids); T = dids.shape[1]; lk = offset + T
        b = s.dec[0].sa.bias(T, lk, offset)
        causal = torch.triu(torch.full((T, lk), torch.finfo(torch.float32).min, device=h.device), 1 + offset)
        b = b + causal
        for i, blk in enumerate(s.dec): h = blk(h, b, enc, ebias, None if caches is None else caches[i])
        return (s.dn(h) * D ** -0.5) @ s.shared.weight.t()

def peak_mb(): return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

m = T5().eval().to(DEV)
B, LS, LT, NEW = args["batch"], args["src_len"], args["tgt_len"], args["new_tokens"]
g = torch.Generator().manual_seed(1)
ids = torch.randint(3, V, (B, LS), generator=g).to(DEV); mask = torch.ones(B, LS, dtype=torch.long, device=DEV)
labels = torch.randint(3, V, (B, LT), generator=g).to(DEV)
dids = torch.cat([torch.zeros(B, 1, dtype=torch.long, device=DEV), labels[:, :-1]], 1)
out = {}
with torch.no_grad():
    def fwd():
        enc, eb = m.encode(ids, mask); logits = m.decode(dids, enc, eb)
        return F.cross_entropy(logits.reshape(-1, V), labels.reshape(-1))
    fwd(); sync(); t0 = time.perf_counter(); fwd(); sync(); out["forward_ms"] = (time.perf_counter() - t0) * 1000
    def gen():
        enc, eb = m.encode(ids, mask); caches = [dict() for _ in m.dec]; cur = torch.zeros(B, 1, dtype=torch.long, device=DEV); rows = [cur]
        for step in range(NEW):
            logits = m.decode(cur, enc, eb, caches, step); cur = logits[:, -1].argmax(-1, keepdim=True); rows.append(cur)
        return torch.cat(rows, 1)
    gen(); sync(); t0 = time.perf_counter(); gen(); sync(); out["generate_ms"] = (time.perf_counter() - t0) * 1000
# prompt-tuning step: gradient w.r.t. a prompt prepended to the encoder input, weights frozen
for p in m.parameters(): p.requires_grad_(False)
prompt = torch.randn(100, D, device=DEV, requires_grad=True)
def step():
    emb = torch.cat([prompt[:50].expand(B, -1, -1), m.shared(ids)], 1)
    full = torch.cat([torch.ones(B, 50, dtype=torch.long, device=DEV), mask], 1)
    h = emb; L = h.shape[1]
    b = m.enc[0].sa.bias(L, L) + (1 - full[:, None, None, :].float()) * torch.finfo(torch.float32).min
    for blk in m.enc: h = blk(h, b)
    enc = m.en(h); eb = (1 - full[:, None, None, :].float()) * torch.finfo(torch.float32).min
    loss = F.cross_entropy(m.decode(dids, enc, eb).reshape(-1, V), labels.reshape(-1)); loss.backward(); prompt.grad = None
step(); sync(); t0 = time.perf_counter(); step(); sync(); out["train_step_ms"] = (time.perf_counter() - t0) * 1000
out["peak_rss_mb"] = peak_mb(); out["threads"] = torch.get_num_threads(); out["torch"] = torch.__version__; out["device"] = str(DEV)
if DEV.type == 'cuda': out["peak_gpu_mb"] = torch.cuda.max_memory_allocated() / 2**20; out["gpu"] = torch.cuda.get_device_name()
print(json.dumps(out))
