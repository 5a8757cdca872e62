"""``manage.py embeddings_backfill [--force] [--limit N]``: embed analysed creators missing one.

Computes the post and profile embeddings (``analysis.embeddings`` recipe, current
``embedding_version()``) of every analysed profile whose embedding is missing or of another
version (every analysed profile with ``--force``), in chunks, with a progress bar. Loads the
embedding model in this process (``AI_EMBEDDING_MODEL``); safe to run twice.
"""

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from analysis import services
from analysis.embeddings import embedding_version


class Command(BaseCommand):
    help = "Compute missing or outdated creator embeddings (lookalike search) with a progress bar."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Recompute every analysed profile.")
        parser.add_argument("--limit", type=int, default=None, help="At most this many profiles.")
        parser.add_argument("--chunk", type=int, default=16, help="Profiles per model call and transaction.")

    def handle(self, *args, force: bool, limit: int | None, chunk: int, **options):
        total = services.profiles_needing_embedding(force=force).count()
        if limit is not None:
            total = min(total, limit)
        if total == 0:
            self.stdout.write(f"Every analysed profile has a {embedding_version()} embedding.")
            return
        from analysis.engines.embedders import embedder_from_settings  # the model: only in this command's process

        try:
            embedder = embedder_from_settings()
        except Exception as exc:
            raise CommandError(f"The embedding model could not be loaded: {exc!r}") from exc
        with tqdm(total=total, unit="profile", file=self.stderr._out, disable=False) as bar:
            done = services.embeddings_backfill(
                embedder=embedder, force=force, chunk=max(1, chunk), progress=bar.update, limit=limit
            )
        self.stdout.write(self.style.SUCCESS(f"Embedded {done} profiles ({embedding_version()})."))
