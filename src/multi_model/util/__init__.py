"""Small helpers written once for the whole package: atomic writes and lock hand-off (fs),
SIGTERM as an interrupt (signals). Stdlib only: the hooks import them."""
