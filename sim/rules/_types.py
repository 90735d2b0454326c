"""Array type aliases shared by the rules."""

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
ContactArray = npt.NDArray[np.int32]  # contact indices (sim.rules.network.CONTACT_DTYPE)
