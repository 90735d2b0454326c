"""The model in Mesa's own dashboard: ``solara run docs/examples/mesa_dashboard.py`` (see docs/mesa.md).

Every metric column is a model reporter of ``model.datacollector``, so any of them can be plotted
with Mesa's ``make_plot_component`` (matplotlib or altair). Step, play and reset work as for any
Mesa model: the burn-in runs when the model is built, and play stops at the horizon.
"""

from mesa.visualization import SolaraViz, make_plot_component

import sim
from sim.model import SocialProductivityModel

# A small area so that each month takes a few milliseconds; any override of `python -m sim` works.
config = sim.load_config(["regime=targets", "population.n_citizens=1000", "population.n_communities=10", "steps=36"])
model = SocialProductivityModel(config)

page = SolaraViz(
    model,
    components=[
        make_plot_component({"true_outcome": "tab:green", "reported_outcome": "tab:red"}),
        # matplotlib draws on the server, so the page works offline; backend="altair" works too
        # but its chart loads vega's JavaScript from a CDN (through Solara's proxy) in the browser.
        make_plot_component(["prosocial_rate", "volunteering_rate", "caring_rate"]),
    ],
    # Reset rebuilds the model with these keyword arguments (fixed values, no sliders here).
    model_params={"config": config},
    name="Social productivity under central targets",
)
