"""What a council looks like and how its service behaves: the scenario schema, distributions, loading scenario
files (with their uncertain settings), the working calendar, random streams and writing TOML."""
