"""Real-size models with random weights for the AI benchmark, built from configs (no download).

The three production architectures at their real sizes — RoBERTa-base (sentiment),
XLM-RoBERTa-base with its 250,002-token vocabulary (language), BART-large (NLI) — so that
time and memory are those of the real models; only the weights (and so the labels) are
random. The tokenizers are trained here with the ``tokenizers`` library: byte-level BPE
(RoBERTa, BART) and Unigram (XLM-R), 16,000 tokens each, on the real texts of
``/work/shared/data`` (tweets, sentences in 20 languages, topic tweets, Instagram captions).
They split text into somewhat more pieces than the real 50k/250k vocabularies would, so the
benchmark's inputs are, if anything, longer than production's. Built once and saved under a
directory so that every benchmark process loads the same models through the engine's real
loading code.
"""

from __future__ import annotations

import json
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
if not DATA.is_dir():
    DATA = Path("/work/shared/data")
SPECIALS = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
# The special tokens of RoBERTa/BART/XLM-R, ids 0..4 in this order.
SPECIAL_TOKENS = {
    "bos_token": "<s>", "eos_token": "</s>", "sep_token": "</s>", "cls_token": "<s>",
    "unk_token": "<unk>", "pad_token": "<pad>", "mask_token": "<mask>",
}  # fmt: skip
LANGUAGES = (
    "ar", "bg", "de", "el", "en", "es", "fr", "hi", "it", "ja",
    "nl", "pl", "pt", "ru", "sw", "th", "tr", "ur", "vi", "zh",
)  # fmt: skip
BUILD_VERSION = "1"  # bump to rebuild saved models when this file changes


def apify_captions() -> list[str]:
    profile = json.loads((DATA / "apify" / "humansofny-details.json").read_text())[0]
    return [post["caption"] for post in profile["latestPosts"] if post.get("caption")]


def tweets() -> list[str]:
    lines = (DATA / "eval" / "sentiment" / "tweeteval_val_text.txt").read_text().splitlines()
    return [line.strip() for line in lines if line.strip()]


def topic_tweets() -> list[str]:
    out = []
    for name in ("topicxl_en_train.jsonl", "topicxl_en_validation.jsonl"):
        with open(DATA / "eval" / "topics" / name) as handle:
            out.extend(json.loads(line)["text"] for line in handle if line.strip())
    return out


def tokenizer_corpus() -> list[str]:
    texts = apify_captions() + tweets() + topic_tweets()
    for code in LANGUAGES:
        texts.extend(line for line in (DATA / "eval" / "language" / f"{code}.txt").read_text().splitlines() if line)
    return texts


def benchmark_captions(count: int = 64) -> list[str]:
    """``count`` real captions: Humans of New York captions (long; all 12 at 64) then topic tweets and tweets."""
    hony = apify_captions()
    captions = hony[: max(1, round(count * len(hony) / 64))]
    topics, plain = topic_tweets(), tweets()
    i = 0
    while len(captions) < count:
        captions.append(topics[i * 7 % len(topics)] if i % 2 == 0 else plain[i * 31 % len(plain)])
        i += 1
    return captions[:count]


def train_tokenizer(texts: list[str], *, kind: str, vocab_size: int, model_max_length: int):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    if kind == "bpe":
        tok = Tokenizer(models.BPE(unk_token=SPECIAL_TOKENS["unk_token"]))
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        tok.decoder = decoders.ByteLevel()
        trainer = trainers.BpeTrainer(
            vocab_size=vocab_size, special_tokens=SPECIALS, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
        )
    else:
        tok = Tokenizer(models.Unigram())
        tok.pre_tokenizer = pre_tokenizers.Metaspace()
        tok.decoder = decoders.Metaspace()
        trainer = trainers.UnigramTrainer(
            vocab_size=vocab_size, special_tokens=SPECIALS, unk_token=SPECIAL_TOKENS["unk_token"]
        )
    tok.train_from_iterator(texts, trainer=trainer)
    tok.post_processor = processors.RobertaProcessing(("</s>", 2), ("<s>", 0), trim_offsets=False)
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        **SPECIAL_TOKENS,
        model_max_length=model_max_length,
        model_input_names=["input_ids", "attention_mask"],
    )


def build_models(root: Path) -> dict[str, str]:
    """Build (once per ``BUILD_VERSION``) and save the three models; returns their directories."""
    paths = {"sentiment": root / "sentiment", "language": root / "language", "category": root / "category"}
    stamp = root / f".built-{BUILD_VERSION}"
    if stamp.exists():
        return {name: str(path) for name, path in paths.items()}
    import torch
    from transformers import (
        BartConfig,
        BartForSequenceClassification,
        RobertaConfig,
        RobertaForSequenceClassification,
        XLMRobertaConfig,
        XLMRobertaForSequenceClassification,
    )

    corpus = tokenizer_corpus()
    # roberta-base sizes (cardiffnlp/twitter-roberta-base-sentiment-latest).
    tok = train_tokenizer(corpus, kind="bpe", vocab_size=16000, model_max_length=512)
    config = RobertaConfig(
        vocab_size=50265, max_position_embeddings=514, type_vocab_size=1, pad_token_id=1, bos_token_id=0,
        eos_token_id=2, id2label={0: "negative", 1: "neutral", 2: "positive"},
        label2id={"negative": 0, "neutral": 1, "positive": 2},
    )  # fmt: skip
    torch.manual_seed(1)
    _save(RobertaForSequenceClassification(config), tok, paths["sentiment"])
    # xlm-roberta-base sizes (papluca/xlm-roberta-base-language-detection).
    tok = train_tokenizer(corpus, kind="unigram", vocab_size=16000, model_max_length=512)
    config = XLMRobertaConfig(
        vocab_size=250002, max_position_embeddings=514, type_vocab_size=1, pad_token_id=1, bos_token_id=0,
        eos_token_id=2, id2label=dict(enumerate(LANGUAGES)), label2id={c: i for i, c in enumerate(LANGUAGES)},
    )  # fmt: skip
    torch.manual_seed(2)
    _save(XLMRobertaForSequenceClassification(config), tok, paths["language"])
    # bart-large sizes (facebook/bart-large-mnli).
    tok = train_tokenizer(corpus, kind="bpe", vocab_size=16000, model_max_length=1024)
    config = BartConfig(
        vocab_size=50265, d_model=1024, encoder_layers=12, decoder_layers=12, encoder_attention_heads=16,
        decoder_attention_heads=16, encoder_ffn_dim=4096, decoder_ffn_dim=4096, max_position_embeddings=1024,
        pad_token_id=1, bos_token_id=0, eos_token_id=2, decoder_start_token_id=2, forced_eos_token_id=2,
        scale_embedding=False, id2label={0: "contradiction", 1: "neutral", 2: "entailment"},
        label2id={"contradiction": 0, "neutral": 1, "entailment": 2},
    )  # fmt: skip
    torch.manual_seed(3)
    _save(BartForSequenceClassification(config), tok, paths["category"])
    stamp.touch()
    return {name: str(path) for name, path in paths.items()}


def _save(model, tokenizer, path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    model.eval().save_pretrained(path)
    tokenizer.save_pretrained(path)
