"""Class-level work: a regrade of every submission (batch), shards of it spread over machines,
their merge into one gradebook, and the class report."""
