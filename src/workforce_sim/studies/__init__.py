"""Questions asked of many runs: sensitivity analysis, the start-state check and settling, goal-seek, calibration
to a council's data (with example data), and tracing one simulated future."""
