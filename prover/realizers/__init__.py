"""Realizers: turn a solver's candidate counterexample into a concrete object and recompute
its statistics from their definitions, independently of the model's formulas."""
