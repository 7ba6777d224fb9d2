"""Tiny random-weight causal LMs with a tokenizer trained on the spot (no download)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

TEXT = (
    "In the beginning God created the heaven and the earth. And the earth was without form. "
    "床前明月光，疑是地上霜。举头望明月，低头思故乡。 The quick brown fox jumps over the lazy dog. "
) * 20
EOS = "<|endoftext|>"


def make_tokenizer(vocab: int = 300) -> Any:
    """A byte-level BPE tokenizer trained on TEXT (a PreTrainedTokenizerFast)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab,
        special_tokens=[EOS],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator([TEXT], trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tok, bos_token=EOS, eos_token=EOS)


def save_tiny_lm(folder: Path, model: Any, tokenizer: Any) -> Path:
    """Scale the embeddings up (so logits are not flat and parity can tell models apart), save."""
    import torch

    with torch.no_grad():
        model.get_input_embeddings().weight.mul_(20)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def make_tiny_lm(folder: Path, arch: str, *, seed: int = 0, **config: Any) -> Path:
    """Save a random-weight ``arch`` (e.g. "Gemma2ForCausalLM") built from transformers' config
    class with these fields on top of 2 small layers, and its tokenizer."""
    import torch
    import transformers

    tokenizer = make_tokenizer()
    model_class = getattr(transformers, arch)
    base = {
        "vocab_size": len(tokenizer),
        "hidden_size": 64,
        "intermediate_size": 128,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
        "num_key_value_heads": 1,
        "max_position_embeddings": 256,
        "tie_word_embeddings": True,
        "bos_token_id": 0,
        "eos_token_id": 0,
        "pad_token_id": 0,
    }
    torch.manual_seed(seed)
    model = model_class(model_class.config_class(**{**base, **config}))
    return save_tiny_lm(folder, model, tokenizer)


def make_tiny_llama(folder: Path, *, seed: int = 0, vocab: int = 300, width: int = 64) -> Path:
    """Save a 2-layer, ``width``-wide LlamaForCausalLM and its byte-level BPE tokenizer."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    tokenizer = make_tokenizer(vocab)
    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=width,
        intermediate_size=2 * width,
        num_hidden_layers=2,
        num_attention_heads=width // 32,
        num_key_value_heads=1,
        max_position_embeddings=256,
        tie_word_embeddings=True,
        bos_token_id=0,
        eos_token_id=0,
        pad_token_id=0,
    )
    return save_tiny_lm(folder, LlamaForCausalLM(config), tokenizer)
