"""Translation of python-liquid's parse tree into Python source, one function per template."""
