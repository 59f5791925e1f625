"""Adapters to the outside world. Only this package talks to the network."""
