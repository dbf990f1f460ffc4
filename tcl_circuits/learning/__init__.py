"""Learning rules (interchangeable strategies) and the training controller."""
