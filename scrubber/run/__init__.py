"""Running a scrub: one input through reader -> model -> engine -> sinks (pipeline), split over
worker processes (parallel), and the drop-folder service (watch).

It may import every package below it in the flow; never ``cli``.
"""
