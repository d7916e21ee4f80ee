"""Running one submission: find it, read it, repair its shape, execute it in a sandboxed kernel (local or Dask)."""
