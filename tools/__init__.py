"""Build tooling of the checkout (not installed): the contracts compiler wrapper, run by ``make contracts``."""
