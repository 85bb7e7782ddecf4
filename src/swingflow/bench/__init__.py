"""Benchmarks behind `make bench`: each writes JSON under bench/results/.

Budgets live here, never in timed tests. Every figure is reported beside a baseline
measured in the same run, because this machine is shared and noisy.
"""
