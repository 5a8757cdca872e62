"""PostgreSQL without pgvector: the embedding columns become ``bytea`` of raw float32.

The exact lookalike search reads every candidate's vector: ``real[]`` through
``array_send`` cost 1.3 s in the server for 100,000 vectors and came back hex-encoded
(p95 3.1 s, bench/README.md); raw bytes through a binary cursor do not. Existing vectors are
converted in place (``analysis.vectors.ConvertArraysToBytes``). SQLite (JSON) and pgvector
columns are left as they are.
"""

from django.db import migrations

import analysis.vectors


class Migration(migrations.Migration):
    dependencies = [("analysis", "0005_merge_20261203_2307")]

    operations = [
        analysis.vectors.ConvertArraysToBytes(tables=["analysis_profileembedding", "analysis_postembedding"]),
    ]
