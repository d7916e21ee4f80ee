"""The course book: repository paths, editions, translation catalogs and the Sphinx build configuration."""
