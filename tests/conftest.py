"""The suite's Hypothesis settings: under CI (``CI`` set, as ``.ci/run`` sets it) every
property test runs derandomized, the same examples on every run, so that whether a change
lands is not a draw; on a developer's machine Hypothesis explores new examples each run, and
what it finds becomes an ``@example``. Also imported by the checks run in processes of their
own (``tests/layer_jax_checks.py``).
"""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
