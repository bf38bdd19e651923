"""`python -m clarion.cli`."""

from clarion.cli.main import main

main()
