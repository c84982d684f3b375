"""python -m convanim"""

from convanim.cli import main

main()
