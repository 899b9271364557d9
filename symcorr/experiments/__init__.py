"""Experiments of the paper: the Fashion-MNIST symmetry-breaking sweep (:mod:`.fashion_mnist`)."""
