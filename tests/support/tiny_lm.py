"""A tiny random-weight Llama-style causal LM with a tokenizer trained on the spot (no download)."""

from __future__ import annotations

from pathlib import Path

TEXT = (
    "In the beginning God created the heaven and the earth. And the earth was without form. "
    "床前明月光，疑是地上霜。举头望明月，低头思故乡。 The quick brown fox jumps over the lazy dog. "
) * 20
EOS = "<|endoftext|>"


def make_tiny_llama(folder: Path, *, seed: int = 0, vocab: int = 300, width: int = 64) -> Path:
    """Save a 2-layer, ``width``-wide LlamaForCausalLM and its byte-level BPE tokenizer."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

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
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token=EOS, eos_token=EOS)
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
    model = LlamaForCausalLM(config)
    # Scale weights up so logits are not flat and a parity test can tell models apart.
    with torch.no_grad():
        model.model.embed_tokens.weight.mul_(20)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder
