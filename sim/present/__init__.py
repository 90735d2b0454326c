"""Presentation: every figure, report page and the words they use, in one package.

It reads saved results only (a sweep's or a run's folder, never a live model). The sweep's
analysis step (:mod:`sim.sweep.report`) and the lab call it; it never imports them.

- :mod:`sim.present.words`: measures' names, units, directions and smallest differences that
  matter (from ``docs/glossary.md``); numbers as readers expect; readings of differences.
- :mod:`sim.present.style`: the one figure style (arm colours, neutral differences, axes, regime
  shading, overlap notes, files).
- :mod:`sim.present.figures`: measures over time, paired differences, response to a swept lever,
  replicate sufficiency, sensitivity, the public-goods lab.
- :mod:`sim.present.details`: the figures of the runs' detail tables (indicator distribution,
  reported against true outcome, equity).
- :mod:`sim.present.report`: ``report.html`` and ``report.md``, opening with the answer to the
  experiment's question; the catalogue's README sections reuse its sentences and tables.
"""
