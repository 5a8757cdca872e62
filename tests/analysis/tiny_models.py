"""Tiny models of the three real architectures, built and saved locally for the engine tests.

Random weights with small configs of the same classes the production models use
(RoBERTa sentiment, XLM-RoBERTa language, BART NLI), and tokenizers trained here with the
``tokenizers`` library on a few hundred real texts (tweets, sentences, Instagram captions
from ``/work/shared/data``), saved as ``PreTrainedTokenizerFast`` with the special tokens of the
real models. Nothing is downloaded: the engine loads them by path through its real loading code.
The tokenizers only need realistic word pieces; their training texts are never scored here.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from analysis.engines.base import LANGUAGES

# The shared data beside the repository (``../shared/data``), or SHARED_DATA_DIR.
DATA = Path(os.environ.get("SHARED_DATA_DIR") or Path(__file__).resolve().parents[3] / "shared" / "data")
SPECIALS = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]  # ids 0..4, as in RoBERTa/BART/XLM-R
MAX_LEN = 128


def apify_captions() -> list[str]:
    """The real Instagram captions of the Apify export (12 posts)."""
    profile = json.loads((DATA / "apify" / "humansofny-details.json").read_text())[0]
    return [post["caption"] for post in profile["latestPosts"] if post.get("caption")]


def real_texts(per_language: int = 10, tweets: int = 200, topics: int = 60) -> list[str]:
    """A few hundred real texts in the 20 languages plus English tweets and captions."""
    texts: list[str] = []
    for code in LANGUAGES:
        lines = (DATA / "eval" / "language" / f"{code}.txt").read_text().splitlines()
        texts.extend(line for line in lines[:per_language] if line.strip())
    lines = (DATA / "eval" / "sentiment" / "tweeteval_val_text.txt").read_text().splitlines()
    texts.extend(line.strip() for line in lines[:tweets] if line.strip())
    with open(DATA / "eval" / "topics" / "topicxl_en_train.jsonl") as handle:
        for i, line in enumerate(handle):
            if i >= topics:
                break
            texts.append(json.loads(line)["text"])
    texts.extend(apify_captions())
    return texts


def train_tokenizer(texts: list[str], *, kind: str, vocab_size: int, model_max_length: int = MAX_LEN):
    """A fast tokenizer with RoBERTa-style specials and pair template.

    ``kind="bpe"``: byte-level BPE like RoBERTa/BART; ``kind="unigram"``: a SentencePiece-like
    Unigram with the metaspace pre-tokenizer like XLM-R.
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    if kind == "bpe":
        tok = Tokenizer(models.BPE(unk_token="<unk>"))
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        tok.decoder = decoders.ByteLevel()
        trainer = trainers.BpeTrainer(
            vocab_size=vocab_size, special_tokens=SPECIALS, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
        )
    elif kind == "unigram":
        tok = Tokenizer(models.Unigram())
        tok.pre_tokenizer = pre_tokenizers.Metaspace()
        tok.decoder = decoders.Metaspace()
        trainer = trainers.UnigramTrainer(vocab_size=vocab_size, special_tokens=SPECIALS, unk_token="<unk>")
    else:
        raise ValueError(kind)
    tok.train_from_iterator(texts, trainer=trainer)
    assert [tok.token_to_id(t) for t in SPECIALS] == [0, 1, 2, 3, 4]
    tok.post_processor = processors.RobertaProcessing(("</s>", 2), ("<s>", 0), trim_offsets=False)
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="<s>",
        eos_token="</s>",
        sep_token="</s>",
        cls_token="<s>",
        unk_token="<unk>",
        pad_token="<pad>",
        mask_token="<mask>",
        model_max_length=model_max_length,
        model_input_names=["input_ids", "attention_mask"],
    )


def _save(model, tokenizer, path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def build_sentiment(path: Path, texts: list[str], *, seed: int = 1) -> Path:
    import torch
    from transformers import RobertaConfig, RobertaForSequenceClassification

    tokenizer = train_tokenizer(texts, kind="bpe", vocab_size=1200)
    config = RobertaConfig(
        vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=64, max_position_embeddings=MAX_LEN + 2, type_vocab_size=1,
        pad_token_id=1, bos_token_id=0, eos_token_id=2, initializer_range=0.3,
        id2label={0: "negative", 1: "neutral", 2: "positive"},
        label2id={"negative": 0, "neutral": 1, "positive": 2},
    )  # fmt: skip
    torch.manual_seed(seed)
    return _save(RobertaForSequenceClassification(config).eval(), tokenizer, path)


def build_language(path: Path, texts: list[str], *, seed: int = 2) -> Path:
    import torch
    from transformers import XLMRobertaConfig, XLMRobertaForSequenceClassification

    tokenizer = train_tokenizer(texts, kind="unigram", vocab_size=1500)
    config = XLMRobertaConfig(
        vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=64, max_position_embeddings=MAX_LEN + 2, type_vocab_size=1,
        pad_token_id=1, bos_token_id=0, eos_token_id=2, initializer_range=0.3,
        id2label=dict(enumerate(LANGUAGES)), label2id={code: i for i, code in enumerate(LANGUAGES)},
    )  # fmt: skip
    torch.manual_seed(seed)
    return _save(XLMRobertaForSequenceClassification(config).eval(), tokenizer, path)


def build_nli(path: Path, texts: list[str], *, seed: int = 3) -> Path:
    import torch
    from transformers import BartConfig, BartForSequenceClassification

    tokenizer = train_tokenizer(texts, kind="bpe", vocab_size=1200)
    config = BartConfig(
        vocab_size=len(tokenizer), d_model=32, encoder_layers=2, decoder_layers=2,
        encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=64, decoder_ffn_dim=64,
        max_position_embeddings=MAX_LEN, pad_token_id=1, bos_token_id=0, eos_token_id=2,
        decoder_start_token_id=2, forced_eos_token_id=2, init_std=0.3,
        id2label={0: "contradiction", 1: "neutral", 2: "entailment"},
        label2id={"contradiction": 0, "neutral": 1, "entailment": 2},
    )  # fmt: skip
    torch.manual_seed(seed)
    return _save(BartForSequenceClassification(config).eval(), tokenizer, path)


def build_all(root: Path) -> dict[str, str]:
    """Build the three tiny models under ``root``; returns the AI_*_MODEL values (paths)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    texts = real_texts()
    return {
        "sentiment": str(build_sentiment(root / "sentiment", texts)),
        "language": str(build_language(root / "language", texts)),
        "category": str(build_nli(root / "category", texts)),
    }
