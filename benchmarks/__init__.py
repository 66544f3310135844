"""Speed measurements for the assessment platform (not peer comparison: see benchmarks/README.md).

``python -m benchmarks --scale national`` runs the suite; :mod:`benchmarks.generate` makes the synthetic
answers and :mod:`benchmarks.references` holds the reference implementations the engine is timed against.
"""
