"""Use cases over the archive (search, backtest, triage, evidence, retention): what a shell (the CLI, the
daemon) calls; each returns values and leaves printing to the shell."""
