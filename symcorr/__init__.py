"""symcorr: symmetries of neural-network densities from their parameter-space correlators."""

from .activations import Activation, get_activation
from .distributions import Laplace, Normal, Rademacher, Uniform, UniformCircle
from .errors import SpecError
from .spec import Dense, Network, ParameterBlock, size_symbol

from .version import __version__

__all__ = [
    "Activation", "Dense", "Laplace", "Network", "Normal", "ParameterBlock", "Rademacher", "SpecError",
    "Uniform", "UniformCircle", "get_activation", "size_symbol", "__version__",
]
