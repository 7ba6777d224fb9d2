"""Tiny random-weight models whose modelling code is not in transformers but in the model folder
(``auto_map`` in config.json), as InternLM2 and MiniCPM ship on the hub. The code is a minimal
version written here: InternLM2's fused, head-grouped ``wqkv`` layout is the part that matters."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.tiny_lm import make_tokenizer

INTERNLM2_CONFIG = """
from transformers import PretrainedConfig


class InternLM2Config(PretrainedConfig):
    model_type = "internlm2"

    def __init__(self, vocab_size=300, hidden_size=64, intermediate_size=128,
                 num_hidden_layers=2, num_attention_heads=2, num_key_value_heads=1,
                 max_position_embeddings=256, rms_norm_eps=1e-6, rope_theta=10000.0,
                 bias=False, hidden_act="silu", initializer_range=0.02, **kwargs):
        self.vocab_size = vocab_size
        self.hidden_size = hidden_size
        self.intermediate_size = intermediate_size
        self.num_hidden_layers = num_hidden_layers
        self.num_attention_heads = num_attention_heads
        self.num_key_value_heads = num_key_value_heads
        self.max_position_embeddings = max_position_embeddings
        self.rms_norm_eps = rms_norm_eps
        self.rope_theta = rope_theta
        self.bias = bias
        self.hidden_act = hidden_act
        self.initializer_range = initializer_range
        kwargs.setdefault("tie_word_embeddings", False)
        super().__init__(**kwargs)
"""

INTERNLM2_MODELING = """
import torch
from torch import nn
from transformers import GenerationMixin, PreTrainedModel
from transformers.modeling_outputs import CausalLMOutputWithPast

from .configuration_internlm2 import InternLM2Config


class InternLM2RMSNorm(nn.Module):
    def __init__(self, size, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(size))
        self.variance_epsilon = eps

    def forward(self, x):
        x = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.variance_epsilon)
        return self.weight * x


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


class InternLM2Attention(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.heads = config.num_attention_heads
        self.kv_heads = config.num_key_value_heads
        self.head_dim = config.hidden_size // self.heads
        self.theta = config.rope_theta
        width = (self.heads + 2 * self.kv_heads) * self.head_dim
        self.wqkv = nn.Linear(config.hidden_size, width, bias=config.bias)
        self.wo = nn.Linear(self.heads * self.head_dim, config.hidden_size, bias=config.bias)

    def forward(self, x):
        b, s, _ = x.shape
        groups = self.heads // self.kv_heads
        # Per KV head: its group of query heads, then its key, then its value.
        qkv = self.wqkv(x).view(b, s, self.kv_heads, groups + 2, self.head_dim)
        q = qkv[..., :groups, :].reshape(b, s, self.heads, self.head_dim).transpose(1, 2)
        k = qkv[..., -2, :].transpose(1, 2)
        v = qkv[..., -1, :].transpose(1, 2)
        steps = torch.arange(0, self.head_dim, 2, dtype=torch.float32) / self.head_dim
        freqs = torch.outer(torch.arange(s, dtype=torch.float32), 1.0 / self.theta**steps)
        emb = torch.cat((freqs, freqs), dim=-1)
        cos, sin = emb.cos().to(x.dtype), emb.sin().to(x.dtype)
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        k, v = k.repeat_interleave(groups, dim=1), v.repeat_interleave(groups, dim=1)
        out = nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.wo(out.transpose(1, 2).reshape(b, s, self.heads * self.head_dim))


class InternLM2MLP(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.w1 = nn.Linear(config.hidden_size, config.intermediate_size, bias=False)
        self.w3 = nn.Linear(config.hidden_size, config.intermediate_size, bias=False)
        self.w2 = nn.Linear(config.intermediate_size, config.hidden_size, bias=False)

    def forward(self, x):
        return self.w2(nn.functional.silu(self.w1(x)) * self.w3(x))


class InternLM2DecoderLayer(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.attention_norm = InternLM2RMSNorm(config.hidden_size, config.rms_norm_eps)
        self.attention = InternLM2Attention(config)
        self.ffn_norm = InternLM2RMSNorm(config.hidden_size, config.rms_norm_eps)
        self.feed_forward = InternLM2MLP(config)

    def forward(self, x):
        x = x + self.attention(self.attention_norm(x))
        return x + self.feed_forward(self.ffn_norm(x))


class InternLM2PreTrainedModel(PreTrainedModel):
    config_class = InternLM2Config
    base_model_prefix = "model"
    _no_split_modules = ["InternLM2DecoderLayer"]


class InternLM2Model(InternLM2PreTrainedModel):
    def __init__(self, config):
        super().__init__(config)
        self.tok_embeddings = nn.Embedding(config.vocab_size, config.hidden_size)
        self.layers = nn.ModuleList(
            InternLM2DecoderLayer(config) for _ in range(config.num_hidden_layers)
        )
        self.norm = InternLM2RMSNorm(config.hidden_size, config.rms_norm_eps)
        self.post_init()

    def forward(self, input_ids):
        x = self.tok_embeddings(input_ids)
        for layer in self.layers:
            x = layer(x)
        return self.norm(x)


class InternLM2ForCausalLM(InternLM2PreTrainedModel, GenerationMixin):
    def __init__(self, config):
        super().__init__(config)
        self.model = InternLM2Model(config)
        self.output = nn.Linear(config.hidden_size, config.vocab_size, bias=False)
        self.post_init()

    def get_input_embeddings(self):
        return self.model.tok_embeddings

    def forward(self, input_ids=None, **kwargs):
        return CausalLMOutputWithPast(logits=self.output(self.model(input_ids)))
"""


def make_tiny_internlm2(folder: Path, *, seed: int = 0) -> Path:
    """Save a 2-layer InternLM2 (1 KV head for 2 query heads) with its code in the folder."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    folder.mkdir(parents=True)
    (folder / "configuration_internlm2.py").write_text(INTERNLM2_CONFIG, encoding="utf-8")
    (folder / "modeling_internlm2.py").write_text(INTERNLM2_MODELING, encoding="utf-8")
    tokenizer = make_tokenizer()
    config = {
        "architectures": ["InternLM2ForCausalLM"],
        "model_type": "internlm2",
        "auto_map": {
            "AutoConfig": "configuration_internlm2.InternLM2Config",
            "AutoModelForCausalLM": "modeling_internlm2.InternLM2ForCausalLM",
        },
        "vocab_size": len(tokenizer),
        "bos_token_id": 0,
        "eos_token_id": 0,
        "pad_token_id": 0,
    }
    (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")
    torch.manual_seed(seed)
    loaded = AutoConfig.from_pretrained(folder, trust_remote_code=True)
    model = AutoModelForCausalLM.from_config(loaded, trust_remote_code=True)
    with torch.no_grad():
        model.get_input_embeddings().weight.mul_(20)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def make_minicpm_folder(folder: Path) -> Path:
    """A MiniCPM folder as the hub has it: config with auto_map, its .py files and a tokenizer
    (the code is never run: the export refuses MiniCPM before loading anything)."""
    folder.mkdir(parents=True)
    (folder / "configuration_minicpm.py").write_text("raise SystemExit('ran')\n", encoding="utf-8")
    (folder / "modeling_minicpm.py").write_text("raise SystemExit('ran')\n", encoding="utf-8")
    config = {
        "architectures": ["MiniCPMForCausalLM"],
        "model_type": "minicpm",
        "auto_map": {
            "AutoConfig": "configuration_minicpm.MiniCPMConfig",
            "AutoModelForCausalLM": "modeling_minicpm.MiniCPMForCausalLM",
        },
        "hidden_size": 64,
        "intermediate_size": 128,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
        "num_key_value_heads": 1,
        "vocab_size": 300,
        "scale_emb": 12,
        "scale_depth": 1.4,
        "dim_model_base": 256,
    }
    (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")
    make_tokenizer().save_pretrained(folder)
    return folder
