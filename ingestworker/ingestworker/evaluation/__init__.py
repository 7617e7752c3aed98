"""Choosing a model with evidence: pseudo-queries from what the library says of its pictures
(queries), each model's ranking of a sample of it (recall), and the report of a run that
compares the live model with a candidate (ingestworker.service.model_evaluation)."""
