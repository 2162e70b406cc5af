"""The tutorial's experiments: the registry, an experiment's outcome, the suite, and the verdicts on its claims."""
