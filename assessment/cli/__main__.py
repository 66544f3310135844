"""`python -m assessment.cli ...` runs the same command line as the `assessment` script."""

from assessment.cli import main

main()
