"""The running program: command line, settings, the Textual console, devices and connectors."""

__version__ = "0.1.0"
