"""The ``liftrun`` command line: a module per command, registered in :mod:`cli.main`.

It sits on top of everything else (``planner``, ``config``, ``adapters``, ``sync``) and nothing
below imports it. Every command module imports what its command needs inside the command, so
``liftrun --help`` or ``liftrun plan`` never pays for the Google client, caldav or the feed
server (``benchmarks/bench_startup.py``).
"""
