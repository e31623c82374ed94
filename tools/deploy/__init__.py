"""`make deploy`: the steps (``steps``) and the command line (``__main__``); docs/go-live.md."""
