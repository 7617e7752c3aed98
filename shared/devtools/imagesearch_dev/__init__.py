"""Image Search development tooling: the local stack (`make up`), the demo, the offline model's
training and builder. Used by the Makefile, the tests and the benchmarks; no service imports it,
and no service image installs it."""
