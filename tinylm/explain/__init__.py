"""What the pages explain: computations they show, each tested against the model's own forward pass."""
