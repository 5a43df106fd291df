"""prover: machine-checked answers to inequalities about heritability and nonlinearity."""

__version__ = "0.1.0"
