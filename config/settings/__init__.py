"""Settings modules: ``base`` (local defaults, reads the environment), ``test``, ``production``."""
