"""Old home of the figure style and the over-time figure: now :mod:`sim.present` (kept for imports)."""

from sim.present.figures import band, plot_metrics_over_time
from sim.present.style import OKABE_ITO, label, save_figure

__all__ = ["OKABE_ITO", "band", "label", "plot_metrics_over_time", "save_figure"]
