"""Benchmark of the district map at 1×, 10× and 50× the sample, beside a naive folium baseline (issue 9)."""
