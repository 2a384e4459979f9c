"""Reports a person reads: a run's ``report.html`` / ``report.md``, a stack's and a suite's pages.

Everything here renders numbers and image files that are already written; nothing trains, maps or
loads a net. That keeps this package below :mod:`monge.ot` and :mod:`monge.train`, so a training
loop can rewrite its page at every evaluation. Each table is one :class:`~monge.report.table.Table`
of cells, rendered to markdown and to HTML alike.
"""
