"""`python -m classifier` is the same as the `classifier` command."""

from classifier.cli import main

main()
