"""``manage.py ai_train_heads``: train the embeddings engine's heads from data/train/ (seeded).

Writes ``analysis/engines/heads/heads-v<N>-<model>.npz`` for ``AI_EMBEDDING_MODEL`` (or
``--output``), a small file committed in the repository and loaded when the embeddings engine
starts with that model. Never reads data/eval/.
"""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from analysis.engines.heads import default_heads_file
from analysis.engines.training import cached_encoder, train_heads


class Command(BaseCommand):
    help = "Train the category prototypes and the sentiment head of the embeddings engine (train data only)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--data",
            type=Path,
            default=settings.BASE_DIR.parent / "shared" / "data" / "train",
            help="Folder with topics/ and sentiment/ (default: ../shared/data/train).",
        )
        parser.add_argument(
            "--output", type=Path, default=None, help="Default: the committed file of AI_EMBEDDING_MODEL."
        )
        parser.add_argument(
            "--cache",
            type=Path,
            default=None,
            help="Keep the training texts' embeddings in this folder (keyed by model and texts) for later runs.",
        )

    def handle(self, *args, data: Path, output: Path | None, cache: Path | None, **options):
        if not (data / "topics").is_dir() or not (data / "sentiment").is_dir():
            raise CommandError(f"{data} must contain topics/ and sentiment/ (the train split)")
        from analysis.engines.embedders import embedder_from_settings  # the model: only this command's process

        embedder = embedder_from_settings()
        output = output or default_heads_file(embedder.model_id)
        encode = embedder.encode if cache is None else cached_encoder(embedder.encode, cache, embedder.model_id)
        try:
            heads = train_heads(
                encode=encode,
                train_dir=data,
                categories=settings.AI_CATEGORIES,
                model_id=embedder.model_id,
                log=lambda line: self.stdout.write(line),
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        heads.save(output)
        self.stdout.write(self.style.SUCCESS(f"wrote {output} ({heads.version})"))
