"""Album Finder: find look-alike photos in your own photo album.

Importing it changes nothing in the process: entry points call
:func:`albumfinder.runtime.tune_process` first.
"""

__version__ = "0.1.0"
