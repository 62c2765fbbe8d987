"""``python3 -m gazette``: the same as the ``gazette`` command."""

from gazette.cli import main

main()
