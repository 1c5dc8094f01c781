"""The `gjenganger evaluate KIND` subcommands: one module per kind, each with
`register` (its parser) and `run` (evaluate, print)."""
