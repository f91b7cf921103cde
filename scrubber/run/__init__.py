"""Running a scrub: one input through reader -> model -> engine -> sinks (``pipeline``), the
inputs of one ``scrubber scrub`` (``batch``), split over worker processes (``parallel``) or over a
Dask cluster (``cluster``, and ``cluster_watch`` for the watcher), and the drop-folder service
(``watcher``, with ``inbox``, ``jobstore``, ``dispatch`` and ``outdir``).

It may import every package below it in the flow; never ``cli``.
"""
