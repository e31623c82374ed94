"""The subcommands of ``python -m tools.devstack``: one module each, with ``add_arguments`` and ``execute``."""
