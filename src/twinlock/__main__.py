"""``python -m twinlock``: the same command line as the ``twinlock`` script."""

from twinlock.cli.main import main

main()
