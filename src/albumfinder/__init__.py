"""Album Finder: find look-alike photos in your own photo album."""

__version__ = "0.1.0"
