"""AI engines: batch of posts in, batch of results out. Selected by ``AI_ENGINE``."""
