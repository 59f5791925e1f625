"""`python -m triage`: the console script's entry point, for an environment without the script on PATH."""

from triage.cli import main

if __name__ == "__main__":
    main()
