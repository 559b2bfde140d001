"""The command lines (python tools/X.py); installed as paddlevideo_tools, with the stgcn-* entry points."""
