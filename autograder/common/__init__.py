"""Records and helpers every layer of the grader shares: the typed records that cross process boundaries."""
