"""The operators' side: the `gaodedim` command line (`cli.main`) and the embedded PostgreSQL
and Redis behind `make run` and `make test` (`cli.local`, the `local` extra). It may import any
layer; nothing imports it but the tests."""
