#!/usr/bin/python3
"""Reference gradients for axx's autodiff: a tiny ViT written in PyTorch with timm's structure and
parameter names (the same architecture src/models/vit.ts emits), evaluated in float64 on a fixed
batch. Writes test/fixtures/train/vit-torch-gradients.json: config, weights (PyTorch layouts),
input, labels, loss and the gradient of the mean cross-entropy loss for every parameter.

Run: /usr/bin/python3 scripts/train-fixtures/vit_torch_gradients.py  (Debian python3-torch)
"""
import json
import math
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

CONFIG = dict(imageSize=8, channels=1, patchSize=4, dim=16, depth=2, heads=2, mlpRatio=2, classes=5, seed=0, inputMean=0.1307, inputStd=0.3081)
BATCH = 3


class Attention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.scale = (dim // heads) ** -0.5
        self.qkv = nn.Linear(dim, dim * 3)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        n, t, c = x.shape
        qkv = self.qkv(x).reshape(n, t, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)
        attn = ((q * self.scale) @ k.transpose(-2, -1)).softmax(dim=-1)
        return self.proj((attn @ v).transpose(1, 2).reshape(n, t, c))


class Mlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x)))


class Block(nn.Module):
    def __init__(self, dim, heads, hidden):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = Mlp(dim, hidden)

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class PatchEmbed(nn.Module):
    def __init__(self, channels, patch, dim):
        super().__init__()
        self.proj = nn.Conv2d(channels, dim, patch, stride=patch)

    def forward(self, x):
        return self.proj(x).flatten(2).transpose(1, 2)


class VisionTransformer(nn.Module):
    def __init__(self, c):
        super().__init__()
        dim = c['dim']
        tokens = (c['imageSize'] // c['patchSize']) ** 2 + 1
        self.mean, self.std = c['inputMean'], c['inputStd']
        self.patch_embed = PatchEmbed(c['channels'], c['patchSize'], dim)
        self.cls_token = nn.Parameter(torch.randn(1, 1, dim) * 0.02)
        self.pos_embed = nn.Parameter(torch.randn(1, tokens, dim) * 0.02)
        self.blocks = nn.Sequential(*[Block(dim, c['heads'], dim * c['mlpRatio']) for _ in range(c['depth'])])
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.head = nn.Linear(dim, c['classes'])

    def forward(self, x):
        x = self.patch_embed((x - self.mean) / self.std)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1) + self.pos_embed
        return self.head(self.norm(self.blocks(x))[:, 0])


def main():
    torch.manual_seed(0)
    model = VisionTransformer(CONFIG).double()
    with torch.no_grad():  # non-trivial norm affine parameters, so their gradients are tested too
        for name, p in model.named_parameters():
            if 'norm' in name:
                p.add_(torch.randn_like(p) * 0.1)
    images = torch.rand(BATCH, CONFIG['channels'], CONFIG['imageSize'], CONFIG['imageSize'], dtype=torch.float64)
    labels = torch.tensor([1, 4, 0])
    loss = F.cross_entropy(model(images), labels)
    loss.backward()
    flat = lambda t: [float(v) for v in t.detach().reshape(-1)]
    fixture = dict(
        generator='scripts/train-fixtures/vit_torch_gradients.py',
        torch=torch.__version__,
        config=CONFIG,
        input=dict(dims=list(images.shape), data=flat(images)),
        labels=labels.tolist(),
        loss=float(loss),
        params={n: dict(dims=list(p.shape), data=flat(p)) for n, p in model.named_parameters()},
        grads={n: flat(p.grad) for n, p in model.named_parameters()},
    )
    out = os.path.join(os.path.dirname(__file__), '../../test/fixtures/train/vit-torch-gradients.json')
    with open(out, 'w') as f:
        json.dump(fixture, f)
    print(f'wrote {out}: loss {float(loss):.6f}, {sum(p.numel() for p in model.parameters())} parameters')


if __name__ == '__main__':
    main()
