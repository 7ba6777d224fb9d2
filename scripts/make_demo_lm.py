"""Build the demo language model shipped in assets/lm/: a 4-layer Llama-style LM trained here.

Text (public domain, from Debian packages, installed with
``apt-get install bible-kjv fortunes-zh``):
- the King James Bible (1611/1769), read out of Debian's ``bible-kjv-text`` by its ``bible``
  program — about 4 MB of English;
- 《唐诗三百首》 (Tang poems, anthology of 1763) and a hundred Song ci, the ``tang300`` and
  ``song100`` files of Debian's ``fortunes-zh`` — about 120 KB of Chinese, repeated so the
  model writes classical Chinese lines too.

The poems and the Bible text are in the public domain; the Debian packaging around them is GPL.

Steps: train a byte-level BPE tokenizer (4,096 tokens) on the text, train a ~21 M-parameter
``LlamaForCausalLM`` (hidden 640, 4 layers, 10 heads / 5 KV heads, MLP 1792) for a fixed number
of steps (about 35 minutes on 2 idle CPU cores), save it as a Hugging Face folder, then export
it with the studio's own LLM export (onnxruntime-genai's model builder) to INT4 in assets/lm/
and INT8 in assets/lm_int8/ (the side-by-side comparison) — so the shipped model is also a check
that the export path works.

Why this size: a decode step of the earlier 4 M-parameter model was mostly fixed per-token
overhead (≈0.18 ms of onnxruntime-genai's loop against 0.07 ms of weight reading), so it could
not show what the hardware does; with ~11 MB of INT4 weights reading them is most of the step.
Few, wide layers keep that per-token overhead small.

Needs the [export] extra: ``pip install torch==2.13.0`` and ``pip install -e .[export]``.
``python scripts/make_demo_lm.py [--steps N] [--skip-train]``
"""

from __future__ import annotations

import argparse
import math
import random
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HF_DIR = ROOT / "build" / "demo_lm_hf"
OUT = ROOT / "assets" / "lm"
OUT_REF = ROOT / "assets" / "lm_int8"  # the same model in INT8, for side-by-side comparison
FORTUNES = Path("/usr/share/games/fortunes")
EOS = "<|endoftext|>"
VOCAB = 4096
SEQ = 256
BATCH = 16
CHINESE_REPEAT = 6
SEED = 20261125


def kjv_text() -> list[str]:
    """One document per chapter, verse numbers dropped, one verse per line."""
    if shutil.which("bible") is None:
        sys.exit("The `bible` program is missing: apt-get install bible-kjv")
    raw = subprocess.run(
        ["bible", "gen1:1-rev22:21"], capture_output=True, text=True, check=True
    ).stdout
    chapters: list[list[str]] = []
    verse: list[str] = []
    for line in raw.splitlines():
        if re.fullmatch(r"\S.* \d+", line.strip()) and not line.startswith(" "):
            if verse:
                chapters[-1].append(" ".join(verse))
                verse = []
            chapters.append([])
            continue
        match = re.match(r"\s+\d+ (.*)", line)
        if match:
            if verse:
                chapters[-1].append(" ".join(verse))
            verse = [match.group(1).strip()]
        elif line.strip() and verse:
            verse.append(line.strip())
    if verse:
        chapters[-1].append(" ".join(verse))
    return ["\n".join(c) for c in chapters if c]


def poems(name: str) -> list[str]:
    path = FORTUNES / name
    if not path.is_file():
        sys.exit(f"{path} is missing: apt-get install fortunes-zh")
    text = re.sub(r"\x1b\[[0-9;]*m", "", path.read_text(encoding="utf-8"))
    docs = []
    for block in text.split("\n%\n"):
        lines = [line.strip() for line in block.strip().splitlines() if line.strip()]
        if len(lines) < 2:
            continue
        title, rest = lines[0], lines[1:]
        if rest and rest[0].startswith("作者"):
            title = f"{title} {rest[0].split('：', 1)[-1]}"
            rest = rest[1:]
        docs.append("\n".join([title, *rest]))
    return docs


def corpus() -> list[str]:
    chinese = poems("tang300") + poems("song100")
    docs = kjv_text() + chinese * CHINESE_REPEAT
    print(f"{len(docs)} documents, {sum(map(len, docs)) / 1e6:.2f} M characters")
    return docs


def train_tokenizer(docs: list[str]):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB,
        special_tokens=[EOS],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator(docs, trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tok, bos_token=EOS, eos_token=EOS)


def train(steps: int, resume: bool = False, lr: float = 2e-3) -> None:
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    random.seed(SEED)
    torch.manual_seed(SEED)
    torch.set_num_threads(2)
    docs = corpus()
    tokenizer = AutoTokenizer.from_pretrained(HF_DIR) if resume else train_tokenizer(docs)
    eos = tokenizer.convert_tokens_to_ids(EOS)
    stream: list[int] = []
    for doc in docs:
        stream.extend(tokenizer.encode(doc))
        stream.append(eos)
    data = torch.tensor(stream, dtype=torch.long)
    print(f"{len(stream) / 1e6:.2f} M tokens; training {steps} steps of {BATCH}×{SEQ}")

    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=640,
        intermediate_size=1792,
        num_hidden_layers=4,
        num_attention_heads=10,
        num_key_value_heads=5,
        max_position_embeddings=512,
        tie_word_embeddings=True,
        bos_token_id=eos,
        eos_token_id=eos,
        pad_token_id=eos,
    )
    model = LlamaForCausalLM.from_pretrained(HF_DIR) if resume else LlamaForCausalLM(config)
    print(f"{sum(p.numel() for p in model.parameters()) / 1e6:.2f} M parameters")
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.05, betas=(0.9, 0.95))
    warmup = max(steps // 20, 1)

    def lr_at(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        progress = (step - warmup) / max(steps - warmup, 1)
        return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_at)
    model.train()
    start = time.monotonic()
    for step in range(steps):
        offsets = torch.randint(0, len(data) - SEQ - 1, (BATCH,))
        batch = torch.stack([data[o : o + SEQ] for o in offsets.tolist()])
        loss = model(input_ids=batch, labels=batch).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        scheduler.step()
        if step % 25 == 0 or step == steps - 1:
            print(
                f"step {step:4d}  loss {loss.item():.3f}  {time.monotonic() - start:6.0f} s",
                flush=True,
            )
    model.eval()
    for prompt in ("In the beginning", "And Jesus said unto them,", "床前明月光，"):
        ids = torch.tensor([tokenizer.encode(prompt)])
        out = model.generate(ids, max_new_tokens=40, do_sample=True, temperature=0.7, top_k=40)
        print(repr(tokenizer.decode(out[0])))
    if HF_DIR.exists():
        shutil.rmtree(HF_DIR)
    model.save_pretrained(HF_DIR)
    tokenizer.save_pretrained(HF_DIR)
    print(f"saved {HF_DIR}")


def export() -> None:
    from studio.core.generate.export import export_llm

    for precision, out in (("int4", OUT), ("int8", OUT_REF)):
        result = export_llm(
            HF_DIR,
            out,
            precision=precision,
            name=f"Edge Studio demo LM ({precision.upper()}, KJV + Tang poems)",
            source="scripts/make_demo_lm.py",
            force=True,
        )
        print(f"{out}: {result.size_bytes / 1e6:.1f} MB, {result.parity.summary()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--skip-train", action="store_true", help="export the saved HF folder")
    parser.add_argument("--resume", action="store_true", help="train the saved model further")
    args = parser.parse_args()
    if not args.skip_train:
        train(args.steps, args.resume, args.lr)
    export()


if __name__ == "__main__":
    main()
