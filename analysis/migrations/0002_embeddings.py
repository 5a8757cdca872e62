"""Profile and post embeddings: pgvector + HNSW where the database has it, else arrays/JSON.

Works on SQLite (JSON text), PostgreSQL without pgvector (``real[]``) and PostgreSQL with
pgvector (``vector(384)`` + an HNSW cosine index): see ``analysis.vectors``.
"""

import django.db.models.deletion
from django.db import migrations, models

import analysis.vectors


class Migration(migrations.Migration):
    dependencies = [
        ("analysis", "0001_initial"),
        ("profiles", "0003_provider_call"),
    ]

    operations = [
        analysis.vectors.CreateVectorExtensionIfAvailable(),
        migrations.CreateModel(
            name="PostEmbedding",
            fields=[
                (
                    "post",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="embedding",
                        serialize=False,
                        to="profiles.post",
                    ),
                ),
                ("vector", analysis.vectors.EmbeddingField(dimensions=384)),
                ("version", models.CharField(db_index=True, max_length=200)),
                ("source_hash", models.CharField(help_text="sha256 of the caption and version.", max_length=64)),
                ("updated_at", models.DateTimeField(auto_now=True)),
            ],
        ),
        migrations.CreateModel(
            name="ProfileEmbedding",
            fields=[
                (
                    "profile",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="embedding",
                        serialize=False,
                        to="profiles.profile",
                    ),
                ),
                ("vector", analysis.vectors.EmbeddingField(dimensions=384)),
                (
                    "version",
                    models.CharField(db_index=True, help_text="emb:<model>:r<recipe version>", max_length=200),
                ),
                (
                    "source_hash",
                    models.CharField(help_text="sha256 of the recipe's inputs and version.", max_length=64),
                ),
                ("posts_used", models.PositiveSmallIntegerField(default=0)),
                ("updated_at", models.DateTimeField(auto_now=True)),
            ],
        ),
        analysis.vectors.CreateHnswIndexIfVector(
            table="analysis_profileembedding", column="vector", name="analysis_profile_embedding_hnsw"
        ),
    ]
