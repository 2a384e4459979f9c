"""The ``monge`` command line (``monge --help``; also ``python -m monge``): see :mod:`monge.cli.main`."""
