"""The ``aekit`` command line."""
