"""python -m convanim: the same command as ``convanim``, under the same name (so that help,
errors and shell completion's ``_CONVANIM_COMPLETE`` read as they do for ``convanim``)."""

from convanim.cli import main

main(prog_name="convanim")
