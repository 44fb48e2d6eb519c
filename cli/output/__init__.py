"""Everything liftrun prints about a plan or a cycle, one module per shape of output.

``plan`` prints a week table (:mod:`cli.output.table`, the only user of rich), JSON or an
iCalendar file (:mod:`cli.output.plan`); ``sync`` prints its cycle report as text or JSON
(:mod:`cli.output.report`). Each module imports only the library its format needs.
"""
