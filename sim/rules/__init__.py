"""Pure array rules of the model: no Mesa, no hidden randomness.

Every function takes numpy arrays (one element per citizen, service or community) and the
random draws it needs, and returns new arrays. The vectorised model calls them on whole
populations; the per-agent driver calls the same functions on length-1 slices.
"""
