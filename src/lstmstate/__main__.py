"""``python -m lstmstate``: the command line, as the ``lstmstate`` script runs it."""

from lstmstate.cli import main

main()
