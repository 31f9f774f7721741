"""ereput's benchmark suite (issue 3): `python -m benchmarks` or `python3 dev.py bench`.

See benchmarks/README.md for what each row means and the figures of the last run.
"""
