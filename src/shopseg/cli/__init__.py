"""The `shopseg` command line: `shopseg <noun> <verb>` (Typer + Rich)."""
