"""Writes of the discovery app, one module per area (``queue``: the related-creator queue)."""
