"""What every pipeline shares: symbols, framings, encodings, the model, state policies, losses, the population engine, statistics and baselines."""
