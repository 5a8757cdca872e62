"""AI engines: batch of posts in, batch of results out. Selected by ``AI_ENGINE``.

``registry.get_engine()`` picks and builds the engine once per process; ``rules`` is the
rule-based engine, ``transformer_engine`` (with ``hf_models``) the transformer engine, which
alone imports torch/transformers and only when it is built. ``cache`` holds results by
caption hash.
"""
