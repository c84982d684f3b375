"""A minimal Sphinx project drawing convanim figures: ``sphinx-build -b html . _build/html``."""

project = "convanim example"
extensions = ["convanim.sphinxext"]
exclude_patterns = ["_build"]
