"""journey: take a language model through the journey an organisation follows."""
__version__ = "0.1.0"
