"""One conversation's life: its state, the decisions over it, and the actions it leads to."""
