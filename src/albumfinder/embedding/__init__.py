"""Step 3 of the flow, embed: photos in, unit-length vectors out.

- :mod:`.embedder`: the :class:`~.embedder.Embedder` (prepare, batched forward passes)
- :mod:`.turns`: one forward pass at a time per device, urgent queries first
- :mod:`.device`: device choice, the precision policy, int8, CPU threads
- :mod:`.loading`: the default model, loading a model, the process-wide model cache and
  :class:`~.loading.LazyEmbedder`

Importing this package (or :mod:`.loading`) imports no torch; the other modules do.
"""
