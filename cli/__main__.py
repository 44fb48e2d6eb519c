"""``python -m cli``: the ``liftrun`` console script without installing it (tests, debugging)."""

from cli.main import main

main()
