"""Course authoring: release the exercises, check them for leaks, the table of contents, the demo class."""
