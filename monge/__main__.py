"""``python -m monge``: the ``monge`` command."""

import sys

from .cli.main import main

sys.exit(main())
