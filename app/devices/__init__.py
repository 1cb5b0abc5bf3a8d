"""Hardware: receipt layout, ESC/POS printing (and, with the devices issue, serial scanners).
Never imports Textual: these also run from the command line without a screen."""
