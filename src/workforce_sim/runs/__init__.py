"""Running replications: the experiment, where it runs (backends), stored batches, and run folders (writing them
as one unit, recovering them, reading them back)."""
